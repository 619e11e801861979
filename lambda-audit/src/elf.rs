//! Reading the dynamic-linking facts of one ELF file.
//!
//! Only what the dynamic loader reads is used: the dynamic section, `.dynsym`
//! with `.gnu.version`, `.gnu.version_r` and `.gnu.version_d`. Nothing comes
//! from `.symtab`, so stripped files give the same facts. Files are
//! memory-mapped; the facts keep owned copies of what later steps need.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use goblin::elf::dynamic::DF_1_NODEFLIB;
use goblin::elf::header::{EM_386, EM_AARCH64, EM_ARM, EM_X86_64, ET_DYN, ET_EXEC};
use goblin::elf::section_header::SHN_UNDEF;
use goblin::elf::sym::{STB_GLOBAL, STB_GNU_UNIQUE, STB_WEAK, STT_TLS};
use goblin::elf::symver::{VER_FLG_BASE, VER_FLG_WEAK};
use goblin::elf::Elf;
use serde::Serialize;

use crate::error::{AuditError, Result};

/// The ELF class and machine together: what the loader compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Arch {
    pub bits: u8,
    pub machine: u16,
}

impl Arch {
    pub const X86_64: Arch = Arch {
        bits: 64,
        machine: EM_X86_64,
    };
    pub const AARCH64: Arch = Arch {
        bits: 64,
        machine: EM_AARCH64,
    };

    /// The name used in profiles (`x86_64`, `aarch64`, ...).
    pub fn name(&self) -> String {
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
            }),
            "arm" => Some(Arch {
                bits: 32,
                machine: EM_ARM,
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
    // SAFETY: the map is read-only and dropped before this function returns;
    // a file truncated underneath us could fault, as it would for readelf.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| AuditError::io(path, e))?;
    parse_elf(&map, path)
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
    let elf = Elf::parse(bytes).map_err(|e| e.to_string())?;
    facts_of(&elf)
}

fn facts_of(elf: &Elf) -> std::result::Result<ElfFacts, String> {
    let strtab = &elf.dynstrtab;
    let string = |offset: usize| strtab.get_at(offset).map(str::to_string);

    // Version index -> (name, defined here?, file it is needed from, weak).
    let mut version_names: HashMap<u16, String> = HashMap::new();
    let mut need_file: HashMap<u16, String> = HashMap::new();
    let mut version_defs = Vec::new();
    if let Some(verdef) = &elf.verdef {
        for def in verdef.iter() {
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
    if let Some(verneed) = &elf.verneed {
        for need in verneed.iter() {
            let file = string(need.vn_file)
                .ok_or_else(|| "a version need has no file name".to_string())?;
            for aux in need.iter() {
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

    let versym = elf.versym.as_ref();
    let mut exports: HashMap<String, Vec<Export>> = HashMap::new();
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
    let split = |paths: &[&str]| -> Vec<String> {
        paths
            .iter()
            .flat_map(|p| p.split(':'))
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let nodeflib = elf
        .dynamic
        .as_ref()
        .map(|d| d.info.flags_1 & DF_1_NODEFLIB != 0)
        .unwrap_or(false);
    Ok(ElfFacts {
        arch: Arch {
            bits: if elf.is_64 { 64 } else { 32 },
            machine: elf.header.e_machine,
        },
        kind,
        soname: elf.soname.map(str::to_string),
        needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
        rpath: split(&elf.rpaths),
        runpath: split(&elf.runpaths),
        interpreter: elf.interpreter.map(str::to_string),
        nodeflib,
        versioned: versym.is_some(),
        version_defs,
        version_needs,
        exports,
        imports,
    })
}
