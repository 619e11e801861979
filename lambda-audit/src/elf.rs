//! Reading the dynamic-linking facts of one ELF file.
//!
//! Only what the dynamic loader reads is used: the dynamic section, `.dynsym`
//! with `.gnu.version`, `.gnu.version_r` and `.gnu.version_d`. Nothing comes
//! from `.symtab`, so stripped files give the same facts. Files are
//! memory-mapped; the facts keep owned copies of what later steps need.

use rustc_hash::FxHashMap as HashMap;
use std::fs::File;
use std::path::Path;

use goblin::container::Ctx;
use goblin::elf::dynamic::{Dynamic, DF_1_NODEFLIB, DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME};
use goblin::elf::header::{EM_386, EM_AARCH64, EM_ARM, EM_X86_64, ET_DYN, ET_EXEC};
use goblin::elf::program_header::{ProgramHeader, PT_INTERP};
use goblin::elf::section_header::SHN_UNDEF;
use goblin::elf::section_header::{SectionHeader, SHT_DYNSYM};
use goblin::elf::sym::Symtab;
use goblin::elf::sym::{STB_GLOBAL, STB_GNU_UNIQUE, STB_WEAK, STT_TLS};
use goblin::elf::symver::{VerdefSection, VerneedSection, VersymSection};
use goblin::elf::symver::{VER_FLG_BASE, VER_FLG_WEAK};
use goblin::elf::Elf;
use goblin::strtab::Strtab;
use serde::Serialize;

use crate::error::{AuditError, Result};

/// The ELF class, byte order and machine together: what the loader compares
/// (glibc's `elf_machine_matches_host` and its check of `EI_DATA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Arch {
    pub bits: u8,
    pub machine: u16,
    /// Every runtime here is little-endian; a big-endian file never loads.
    #[serde(skip)]
    pub big_endian: bool,
}

impl Arch {
    pub const X86_64: Arch = Arch {
        bits: 64,
        machine: EM_X86_64,
        big_endian: false,
    };
    pub const AARCH64: Arch = Arch {
        bits: 64,
        machine: EM_AARCH64,
        big_endian: false,
    };

    /// The name used in profiles (`x86_64`, `aarch64`, ...).
    pub fn name(&self) -> String {
        let name = self.little_endian_name();
        if self.big_endian {
            format!("{name} (big-endian)")
        } else {
            name
        }
    }

    fn little_endian_name(&self) -> String {
        match (self.bits, self.machine) {
            (64, EM_X86_64) => "x86_64".into(),
            (64, EM_AARCH64) => "aarch64".into(),
            (32, EM_386) => "i386".into(),
            (32, EM_X86_64) => "x32".into(),
            (32, EM_ARM) => "arm".into(),
            (bits, machine) => format!("{}-bit machine {}", bits, machine),
        }
    }

    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::AARCH64),
            "i386" | "i686" => Some(Arch {
                bits: 32,
                machine: EM_386,
                big_endian: false,
            }),
            "arm" => Some(Arch {
                bits: 32,
                machine: EM_ARM,
                big_endian: false,
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElfKind {
    SharedObject,
    Executable,
    Other,
}

/// A version definition (`.gnu.version_d`).
#[derive(Debug, Clone, Serialize)]
pub struct VersionDef {
    pub name: String,
    /// The base definition names the file itself; it does not version symbols.
    pub base: bool,
}

/// A version this file needs from a library (`.gnu.version_r`).
#[derive(Debug, Clone, Serialize)]
pub struct VersionNeed {
    pub file: String,
    pub version: String,
    /// `VER_FLG_WEAK`: the loader only warns when the version is missing.
    pub weak: bool,
    #[serde(skip)]
    pub index: u16,
}

/// A symbol this file defines and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub version: Option<String>,
    /// A non-default version (`name@VER` rather than `name@@VER`).
    pub hidden: bool,
}

/// A symbol this file needs from elsewhere.
#[derive(Debug, Clone, Serialize)]
pub struct Import {
    pub name: String,
    /// Weak binding: an unresolved weak symbol is null, not an error.
    pub weak: bool,
    /// The version and the library it is needed from (`name@VERSION` in readelf).
    pub version: Option<String>,
    pub from: Option<String>,
    #[serde(skip)]
    pub version_index: u16,
}

/// Everything the dynamic loader reads from one file.
#[derive(Debug, Clone)]
pub struct ElfFacts {
    pub arch: Arch,
    pub kind: ElfKind,
    pub soname: Option<String>,
    pub needed: Vec<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    pub interpreter: Option<String>,
    /// `DF_1_NODEFLIB`: the default directories are not searched for its needs.
    pub nodeflib: bool,
    /// No `.gnu.version` table: every reference or definition is unversioned.
    pub versioned: bool,
    pub version_defs: Vec<VersionDef>,
    pub version_needs: Vec<VersionNeed>,
    pub exports: HashMap<String, Vec<Export>>,
    pub imports: Vec<Import>,
}

impl ElfFacts {
    /// Symbols that reference the version-need entry with `index`.
    pub fn symbols_needing(&self, index: u16) -> Vec<&Import> {
        self.imports
            .iter()
            .filter(|i| i.version_index == index)
            .collect()
    }
}

/// Memory-maps and reads `path`. Any problem with the input is an `AuditError`.
pub fn read_elf(path: &Path) -> Result<ElfFacts> {
    let map = map_elf(path)?;
    parse_elf(&map, path)
}

/// `path` memory-mapped read-only, once it is known to be a non-empty file.
pub fn map_elf(path: &Path) -> Result<memmap2::Mmap> {
    let meta = std::fs::metadata(path).map_err(|e| AuditError::io(path, e))?;
    if meta.is_dir() {
        return Err(AuditError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        return Err(AuditError::NotElf {
            path: path.to_path_buf(),
            reason: "empty file".into(),
        });
    }
    let file = File::open(path).map_err(|e| AuditError::io(path, e))?;
    // SAFETY: the map is read-only and its callers drop it once they have
    // read it; a file truncated underneath us could fault, as it would for readelf.
    unsafe { memmap2::Mmap::map(&file) }.map_err(|e| AuditError::io(path, e))
}

/// Reads facts from bytes already in memory. `path` is only used in messages.
pub fn parse_elf(bytes: &[u8], path: &Path) -> Result<ElfFacts> {
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err(AuditError::NotElf {
            path: path.to_path_buf(),
            reason: "no ELF magic number".into(),
        });
    }
    let malformed = |reason: String| AuditError::MalformedElf {
        path: path.to_path_buf(),
        reason,
    };
    // goblin reports bad input as errors; catch_unwind is the last line of
    // defence so that a parser bug is still a one-line error, not a crash.
    match std::panic::catch_unwind(|| facts_from_bytes(bytes)) {
        Ok(result) => result.map_err(malformed),
        Err(_) => Err(malformed("the ELF parser gave up on this file".into())),
    }
}

/// The parse itself, without the panic guard: what the fuzz target drives,
/// so that any panic in it is found rather than hidden.
pub fn facts_from_bytes(bytes: &[u8]) -> std::result::Result<ElfFacts, String> {
    let err = |e: goblin::error::Error| e.to_string();
    // goblin's `Elf::parse` also indexes `.symtab`/`.strtab` string by string
    // and walks every relocation: most of the time on a large unstripped
    // library, for nothing the loader reads. So the parts the loader reads are
    // parsed with goblin's own per-part parsers; a file without a `.dynsym`
    // section header (sstrip'ed) takes the full parse, which finds `.dynsym`
    // through the dynamic section's hash tables.
    let header = Elf::parse_header(bytes).map_err(err)?;
    let ctx = Ctx::new(
        header.container().map_err(err)?,
        header.endianness().map_err(err)?,
    );
    // glibc's loader refuses a program header size other than its own
    // ("ELF file's phentsize not the expected size").
    let phentsize = if ctx.container.is_big() { 56 } else { 32 };
    if header.e_phnum > 0 && header.e_phentsize != phentsize {
        return Err(format!(
            "e_phentsize is {}, not the {} bytes of a program header: the loader refuses the file",
            header.e_phentsize, phentsize
        ));
    }
    let program_headers =
        ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, ctx)
            .map_err(err)?;
    let section_headers =
        SectionHeader::parse(bytes, header.e_shoff as usize, header.e_shnum as usize, ctx)
            .map_err(err)?;
    let Some(dynsym) = section_headers.iter().find(|s| s.sh_type == SHT_DYNSYM) else {
        let elf = Elf::parse(bytes).map_err(err)?;
        return facts_of(&Parts::of_elf(&elf, bytes.len()));
    };
    let dynamic = Dynamic::parse(bytes, &program_headers, ctx).map_err(err)?;
    // Looked up by offset only: no need to index the whole table first.
    let dynstrtab = match &dynamic {
        Some(d) => {
            let end = d
                .info
                .strtab
                .checked_add(d.info.strsz)
                .filter(|end| *end <= bytes.len());
            let end =
                end.ok_or_else(|| "the dynamic string table lies outside the file".to_string())?;
            StringTable::Raw(&bytes[d.info.strtab..end])
        }
        None => StringTable::Raw(&[]),
    };
    let count = dynsym.sh_size.checked_div(dynsym.sh_entsize).unwrap_or(0) as usize;
    let dynsyms = Symtab::parse(bytes, dynsym.sh_offset as usize, count, ctx).map_err(err)?;
    let versym = VersymSection::parse(bytes, &section_headers, ctx).map_err(err)?;
    let verdef = VerdefSection::parse(bytes, &section_headers, ctx).map_err(err)?;
    let verneed = VerneedSection::parse(bytes, &section_headers, ctx).map_err(err)?;
    facts_of(&Parts {
        file_len: bytes.len(),
        header: &header,
        is_64: ctx.container.is_big(),
        interpreter: interpreter(bytes, &program_headers),
        dynamic: dynamic.as_ref(),
        dynstrtab,
        dynsyms: &dynsyms,
        versym: versym.as_ref(),
        verdef: verdef.as_ref(),
        verneed: verneed.as_ref(),
    })
}

/// PT_INTERP's path, as goblin's full parse reads it.
fn interpreter<'a>(bytes: &'a [u8], program_headers: &[ProgramHeader]) -> Option<&'a str> {
    let ph = program_headers
        .iter()
        .find(|ph| ph.p_type == PT_INTERP && ph.p_filesz != 0)?;
    let start = ph.p_offset as usize;
    let end = start.checked_add(ph.p_filesz as usize - 1)?;
    std::str::from_utf8(bytes.get(start..end)?).ok()
}

/// The dynamic string table: goblin's parsed one, or the raw bytes looked up
/// by offset (NUL-terminated UTF-8 strings, as goblin reads them).
#[derive(Clone, Copy)]
enum StringTable<'p, 'a> {
    Parsed(&'p Strtab<'a>),
    Raw(&'a [u8]),
}

impl<'p, 'a> StringTable<'p, 'a> {
    /// A name the loader uses as bytes (DT_NEEDED, DT_SONAME, DT_RPATH,
    /// DT_RUNPATH): `Err` when `offset` is not the start of a NUL-terminated
    /// string in the table (the loader would read past it); bytes that are not
    /// UTF-8 are kept, shown as `\xNN`, so such a name is judged (it is no
    /// library's name), never dropped.
    fn name_at(&self, offset: usize) -> std::result::Result<String, ()> {
        match self {
            StringTable::Parsed(table) => table.get_at(offset).map(str::to_string).ok_or(()),
            StringTable::Raw(bytes) => {
                let rest = bytes.get(offset..).ok_or(())?;
                let end = rest.iter().position(|&b| b == 0).ok_or(())?;
                Ok(escaped(&rest[..end]))
            }
        }
    }

    fn get_at(&self, offset: usize) -> Option<&'a str> {
        match self {
            StringTable::Parsed(table) => table.get_at(offset),
            StringTable::Raw(bytes) => {
                let rest = bytes.get(offset..)?;
                let end = rest.iter().position(|&b| b == 0)?;
                std::str::from_utf8(&rest[..end]).ok()
            }
        }
    }
}

/// Bytes as text: UTF-8 as it is, any other byte as `\xNN`.
pub fn escaped(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// What `facts_of` reads, from goblin's full parse or from its per-part parsers.
struct Parts<'p, 'a> {
    /// The file's size: version entries are 16 bytes or more each, so a file
    /// cannot hold more of them than `file_len / 16` (entries may be shared by
    /// offset, which would make their count quadratic in the file's size).
    file_len: usize,
    header: &'p goblin::elf::Header,
    is_64: bool,
    interpreter: Option<&'a str>,
    dynamic: Option<&'p Dynamic>,
    dynstrtab: StringTable<'p, 'a>,
    dynsyms: &'p Symtab<'a>,
    versym: Option<&'p VersymSection<'a>>,
    verdef: Option<&'p VerdefSection<'a>>,
    verneed: Option<&'p VerneedSection<'a>>,
}

impl<'p, 'a> Parts<'p, 'a> {
    fn of_elf(elf: &'p Elf<'a>, file_len: usize) -> Parts<'p, 'a> {
        Parts {
            file_len,
            header: &elf.header,
            is_64: elf.is_64,
            interpreter: elf.interpreter,
            dynamic: elf.dynamic.as_ref(),
            dynstrtab: StringTable::Parsed(&elf.dynstrtab),
            dynsyms: &elf.dynsyms,
            versym: elf.versym.as_ref(),
            verdef: elf.verdef.as_ref(),
            verneed: elf.verneed.as_ref(),
        }
    }
}

fn facts_of(elf: &Parts) -> std::result::Result<ElfFacts, String> {
    let strtab = elf.dynstrtab;
    let string = |offset: usize| strtab.get_at(offset).map(str::to_string);

    // Version index -> (name, defined here?, file it is needed from, weak).
    let max_entries = elf.file_len / 16;
    let mut entries = 0usize;
    let mut count_entry = || {
        entries += 1;
        if entries > max_entries {
            Err(format!(
                "more version entries than a file of {} bytes can hold: they overlap",
                elf.file_len
            ))
        } else {
            Ok(())
        }
    };
    let mut version_names: HashMap<u16, String> = HashMap::default();
    let mut need_file: HashMap<u16, String> = HashMap::default();
    let mut version_defs = Vec::new();
    if let Some(verdef) = elf.verdef {
        for def in verdef.iter() {
            count_entry()?;
            let name = def
                .iter()
                .next()
                .and_then(|aux| string(aux.vda_name))
                .ok_or_else(|| "a version definition has no name".to_string())?;
            let base = def.vd_flags & VER_FLG_BASE != 0;
            if !base {
                version_names.insert(def.vd_ndx & 0x7fff, name.clone());
            }
            version_defs.push(VersionDef { name, base });
        }
    }
    let mut version_needs = Vec::new();
    if let Some(verneed) = elf.verneed {
        for need in verneed.iter() {
            count_entry()?;
            let file = string(need.vn_file)
                .ok_or_else(|| "a version need has no file name".to_string())?;
            for aux in need.iter() {
                count_entry()?;
                let version =
                    string(aux.vna_name).ok_or_else(|| "a version need has no name".to_string())?;
                let index = aux.vna_other & 0x7fff;
                version_names.insert(index, version.clone());
                need_file.insert(index, file.clone());
                version_needs.push(VersionNeed {
                    file: file.clone(),
                    version,
                    weak: aux.vna_flags & VER_FLG_WEAK != 0,
                    index,
                });
            }
        }
    }

    let versym = elf.versym;
    let mut exports: HashMap<String, Vec<Export>> = HashMap::default();
    let mut imports = Vec::new();
    for (i, sym) in elf.dynsyms.iter().enumerate().skip(1) {
        let Some(name) = strtab.get_at(sym.st_name).filter(|n| !n.is_empty()) else {
            continue;
        };
        let bind = sym.st_bind();
        if bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE {
            continue;
        }
        let (index, hidden) = match versym.and_then(|v| v.get_at(i)) {
            Some(v) => (v.vs_val & 0x7fff, v.vs_val & 0x8000 != 0),
            None => (1, false),
        };
        if sym.st_shndx == SHN_UNDEF as usize {
            let from = need_file.get(&index).cloned();
            let version = from.as_ref().and(version_names.get(&index).cloned());
            imports.push(Import {
                name: name.to_string(),
                weak: bind == STB_WEAK,
                version,
                from,
                version_index: index,
            });
        } else if index != 0 && (sym.st_value != 0 || sym.st_type() == STT_TLS) {
            // Index 0 is VER_NDX_LOCAL (not exported); 1 is the unversioned global.
            let version = if index >= 2 {
                version_names.get(&index).cloned()
            } else {
                None
            };
            exports
                .entry(name.to_string())
                .or_default()
                .push(Export { version, hidden });
        }
    }

    let kind = match elf.header.e_type {
        ET_DYN => ElfKind::SharedObject,
        ET_EXEC => ElfKind::Executable,
        _ => ElfKind::Other,
    };
    let split = |path: &str| -> Vec<String> {
        path.split(':')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (mut soname, mut needed, mut rpath, mut runpath, mut nodeflib) =
        (None, Vec::new(), Vec::new(), Vec::new(), false);
    if let Some(dynamic) = elf.dynamic {
        for entry in &dynamic.dyns {
            let tag = match entry.d_tag {
                DT_NEEDED => "DT_NEEDED",
                DT_SONAME => "DT_SONAME",
                DT_RPATH => "DT_RPATH",
                DT_RUNPATH => "DT_RUNPATH",
                _ => continue,
            };
            let value = strtab.name_at(entry.d_val as usize).map_err(|()| {
                format!(
                    "{tag} names string offset {}, which is not a string of the dynamic string table",
                    entry.d_val
                )
            })?;
            match entry.d_tag {
                // glibc loads nothing for an empty DT_NEEDED name.
                DT_NEEDED if value.is_empty() => {}
                DT_NEEDED => needed.push(value),
                DT_SONAME => soname = Some(value),
                DT_RPATH => rpath.extend(split(&value)),
                _ => runpath.extend(split(&value)),
            }
        }
        nodeflib = dynamic.info.flags_1 & DF_1_NODEFLIB != 0;
    }
    Ok(ElfFacts {
        arch: Arch {
            bits: if elf.is_64 { 64 } else { 32 },
            machine: elf.header.e_machine,
            big_endian: elf.header.e_ident[goblin::elf::header::EI_DATA]
                == goblin::elf::header::ELFDATA2MSB,
        },
        kind,
        soname,
        needed,
        rpath,
        runpath,
        interpreter: elf.interpreter.map(str::to_string),
        nodeflib,
        versioned: versym.is_some(),
        version_defs,
        version_needs,
        exports,
        imports,
    })
}
