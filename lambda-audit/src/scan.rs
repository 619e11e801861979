//! `profile scan`: writing a profile from a real root filesystem (an extracted
//! Lambda base image, a debootstrap tree).
//!
//! Every ELF shared library in the search directories is read for its soname,
//! version definitions, exports and needs. Paths are resolved inside the root
//! only: an absolute symlink target means ROOT/target, `..` stops at ROOT, so
//! nothing on the host is ever read in its place. Loops, dangling links and
//! unreadable files are reported and skipped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use crate::elf::{read_elf, Arch, ElfFacts, ElfKind};
use crate::error::{shown, AuditError, Result};
use crate::lexical::normalize;
use crate::profile::{format_export, Host, Library, Policy, Profile, SCHEMA};
use crate::resolve::expand_tokens;

/// How many symlinks one path may pass through, as the kernel's limit.
const MAX_LINKS: usize = 40;

#[derive(Debug, Default, Clone)]
pub struct ScanOptions {
    pub name: String,
    /// The runtime's LD_LIBRARY_PATH, in order.
    pub search_path: Vec<String>,
    /// Replaces the default directories read from ld.so.conf and the system defaults.
    pub default_path: Option<Vec<String>>,
    /// The host program (inside the root) that loads artifacts, e.g. /usr/bin/python3.
    pub host_exe: Option<String>,
    pub module_init_prefix: Option<String>,
    pub task_root: String,
    /// The policy to carry over (from the built-in profile by default).
    pub policy: Policy,
}

/// What was passed over, one line each, for the person running the scan.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub skipped: Vec<String>,
}

/// Resolves `path` (absolute, as the runtime sees it) to a file under `root`.
pub fn resolve_in_root(root: &Path, path: &str) -> std::result::Result<PathBuf, String> {
    let mut pending: Vec<String> = components(path);
    pending.reverse();
    let mut current: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "." => continue,
            ".." => {
                current.pop();
                continue;
            }
            _ => {}
        }
        current.push(part);
        let host = host_path(root, &current);
        let meta = match std::fs::symlink_metadata(&host) {
            Ok(m) => m,
            Err(_) => return Err(format!("{} does not exist in the root", join(&current))),
        };
        if meta.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(format!(
                    "{}: too many levels of symbolic links (a loop)",
                    path
                ));
            }
            let target =
                std::fs::read_link(&host).map_err(|e| format!("{}: {}", join(&current), e))?;
            let target = target.to_string_lossy().into_owned();
            current.pop();
            if target.starts_with('/') {
                current.clear();
            }
            let mut parts = components(&target);
            parts.reverse();
            pending.extend(parts);
        }
    }
    Ok(host_path(root, &current))
}

fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

fn host_path(root: &Path, parts: &[String]) -> PathBuf {
    let mut p = root.to_path_buf();
    for part in parts {
        p.push(part);
    }
    p
}

fn join(parts: &[String]) -> String {
    format!("/{}", parts.join("/"))
}

/// The largest configuration file read (ld.so.conf and what it includes):
/// real ones are a few hundred bytes.
const MAX_CONF_FILE: u64 = 1 << 20;

/// How deep `include`s may nest (each file is read once in any case).
const MAX_INCLUDE_DEPTH: usize = 8;

/// Reading ROOT/etc/ld.so.conf and what it includes: each file once (an
/// include cycle or fan-out costs one read per file), each small and regular.
struct LdSoConf<'r> {
    root: &'r Path,
    read: HashSet<PathBuf>,
    dirs: Vec<String>,
    notes: Vec<String>,
}

impl LdSoConf<'_> {
    /// The directories `file` names, following `include` globs.
    fn read_file(&mut self, file: &str, depth: usize) {
        if depth > MAX_INCLUDE_DEPTH {
            self.notes.push(format!(
                "{file}: included more than {MAX_INCLUDE_DEPTH} levels deep"
            ));
            return;
        }
        let Ok(host) = resolve_in_root(self.root, file) else {
            return;
        };
        if !self.read.insert(host.clone()) {
            self.notes
                .push(format!("{file}: already read (included again): read once"));
            return;
        }
        let text = match crate::bounded::read_small_file(&host, MAX_CONF_FILE) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(why) => {
                self.notes.push(format!("{file}: {why}"));
                return;
            }
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(pattern) = line.strip_prefix("include").map(str::trim) {
                // ldconfig reads a relative pattern from the including file's
                // directory (Amazon Linux and RHEL write `include ld.so.conf.d/*.conf`).
                let pattern = if pattern.starts_with('/') {
                    pattern.to_string()
                } else {
                    let base = file.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("");
                    format!("{base}/{pattern}")
                };
                for included in glob_in_root(self.root, &pattern) {
                    self.read_file(&included, depth + 1);
                }
            } else if line.starts_with('/') {
                self.dirs.push(line.to_string());
            }
        }
    }
}

/// `dir/*.conf`-style globs (one `*` in the last component), resolved in the root.
fn glob_in_root(root: &Path, pattern: &str) -> Vec<String> {
    let (dir, file_pattern) = pattern.rsplit_once('/').unwrap_or(("/etc", pattern));
    let (prefix, suffix) = file_pattern.split_once('*').unwrap_or((file_pattern, ""));
    let Ok(host) = resolve_in_root(root, dir) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(host) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with(prefix)
                && n.ends_with(suffix)
                && (file_pattern.contains('*') || n == file_pattern)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| format!("{}/{}", dir, n))
        .collect()
}

/// The loader's own defaults: Debian's multiarch directories when present, else /lib64:/usr/lib64.
fn system_dirs(root: &Path) -> Vec<String> {
    let multiarch = ["x86_64-linux-gnu", "aarch64-linux-gnu", "i386-linux-gnu"]
        .into_iter()
        .find(|t| {
            resolve_in_root(root, &format!("/lib/{}", t))
                .map(|p| p.is_dir())
                .unwrap_or(false)
        });
    match multiarch {
        Some(t) => vec![
            format!("/lib/{}", t),
            format!("/usr/lib/{}", t),
            "/lib".into(),
            "/usr/lib".into(),
        ],
        None => vec!["/lib64".into(), "/usr/lib64".into()],
    }
}

/// The directories `root`'s loader searches after DT_RUNPATH: those of
/// ld.so.conf (its cache), then its built-in ones.
pub fn default_dirs(root: &Path) -> Vec<String> {
    default_dirs_noting(root).0
}

/// `default_dirs`, with a line for each configuration file passed over.
fn default_dirs_noting(root: &Path) -> (Vec<String>, Vec<String>) {
    let mut conf = LdSoConf {
        root,
        read: HashSet::new(),
        dirs: Vec::new(),
        notes: Vec::new(),
    };
    conf.read_file("/etc/ld.so.conf", 0);
    conf.dirs.extend(system_dirs(root));
    (conf.dirs, conf.notes)
}

/// A file's exports in the profile notation, sorted.
fn export_list(facts: &ElfFacts) -> Vec<String> {
    let mut exports: Vec<String> = facts
        .exports
        .iter()
        .flat_map(|(n, defs)| defs.iter().map(move |d| format_export(n, d)))
        .collect();
    exports.sort();
    exports
}

/// The file name suffixes a CPython importer accepts for extension modules:
/// its table (`_PyImport_DynLoadFiletab` in Python/dynload_shlib.c) is
/// `"." SOABI ".so"`, `".abi3.so"`, `".so"`, so the one string to find in the
/// interpreter's bytes is its `.cpython-<version><flags>-<platform>.so`. None
/// found: an empty list (not a Python, or the table is elsewhere).
pub fn extension_suffixes(file: &Path) -> Result<Vec<String>> {
    let found = suffix_strings(file).map_err(|e| AuditError::io(file, e))?;
    match found.as_slice() {
        [] => Ok(Vec::new()),
        [own] => Ok(vec![own.clone(), ".abi3.so".into(), ".so".into()]),
        _ => Err(AuditError::Usage(format!(
            "{}: more than one extension module suffix in it ({}): which one its importer uses is not clear",
            shown(file),
            found.join(", ")
        ))),
    }
}

/// The longest suffix string taken for one (`.cpython-` + version, flags,
/// platform, `.so`): a candidate is looked at this far and no further.
const MAX_SUFFIX: usize = 64;

/// The distinct `.cpython-…so` strings (NUL-terminated, or ending the file)
/// in `file`, in order, up to the second one. Streamed in chunks: memory is one chunk whatever the
/// file's size, and each byte is looked at a bounded number of times (a
/// candidate with no NUL in reach is dropped, not followed to the end).
fn suffix_strings(file: &Path) -> std::io::Result<Vec<String>> {
    use std::io::Read;
    const MARKER: &[u8] = b".cpython-";
    const CHUNK: usize = 1 << 20;
    let mut reader = std::fs::File::open(file)?;
    let mut found: Vec<String> = Vec::new();
    // One buffer, filled again after the bytes still to be looked at.
    let mut buffer = vec![0u8; CHUNK + MAX_SUFFIX];
    let mut kept = 0;
    loop {
        let read = reader.read(&mut buffer[kept..])?;
        let end = read == 0;
        let window = &buffer[..kept + read];
        // Candidates starting before `limit` have their whole reach in the window.
        let limit = if end {
            window.len()
        } else {
            window.len().saturating_sub(MAX_SUFFIX)
        };
        for start in memchr::memmem::find_iter(window, MARKER) {
            if start >= limit {
                break;
            }
            let reach = &window[start..window.len().min(start + MAX_SUFFIX)];
            let text = match memchr::memchr(0, reach) {
                Some(nul) => &reach[..nul],
                None if end => reach,
                None => &[][..],
            };
            if plausible_suffix(text) {
                let suffix = String::from_utf8_lossy(text).into_owned();
                if !found.contains(&suffix) {
                    found.push(suffix);
                }
                // Two are already one too many (see extension_suffixes).
                if found.len() > 1 {
                    return Ok(found);
                }
            }
        }
        if end {
            return Ok(found);
        }
        let length = window.len();
        buffer.copy_within(limit..length, 0);
        kept = length - limit;
    }
}

/// `.cpython-312-x86_64-linux-gnu.so`: short, of the characters a suffix
/// has, ending in `.so`.
fn plausible_suffix(text: &[u8]) -> bool {
    text.len() < MAX_SUFFIX
        && text.ends_with(b".so")
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
}

/// Every option's directory must be absolute, as the runtime's are.
fn check_absolute_dirs(options: &ScanOptions) -> Result<()> {
    for (what, dir) in std::iter::once(("--task-root", &options.task_root))
        .chain(options.search_path.iter().map(|d| ("--search-path", d)))
        .chain(
            options
                .default_path
                .iter()
                .flatten()
                .map(|d| ("--default-path", d)),
        )
    {
        if !dir.starts_with('/') {
            return Err(AuditError::Usage(format!(
                "{what} {dir}: not an absolute path (the runtime's directories are absolute)"
            )));
        }
    }
    Ok(())
}

/// The host program `exe` (a path inside the root): what it needs and
/// exports, and, for a Python, its module suffixes; with its architecture.
fn read_host(root: &Path, exe: &str, options: &ScanOptions) -> Result<(Host, Arch)> {
    let file = resolve_in_root(root, exe)
        .map_err(|why| AuditError::Usage(format!("--host-exe {}: {}", exe, why)))?;
    let facts = read_elf(&file)?;
    let exports = export_list(&facts);
    let host = Host {
        executable: exe.to_string(),
        module_init_prefix: options.module_init_prefix.clone(),
        needed: facts.needed.clone(),
        rpath: facts.rpath.clone(),
        runpath: facts.runpath.clone(),
        exports: Some(exports.into()),
        export_prefixes: Vec::new(),
        extension_suffixes: match options.module_init_prefix {
            Some(_) => extension_suffixes(&file)?,
            None => Vec::new(),
        },
        exports_cover: Vec::new(),
        node_module_version: None,
        loaded: Vec::new(),
        note: None,
    };
    Ok((host, facts.arch))
}

/// Every ELF shared library in the search directories `dirs` (those under
/// the task root excepted: the function's own package), one record per real
/// file, every path that reaches it an alias; and the files in the order
/// first found.
fn read_libraries(
    root: &Path,
    dirs: &[String],
    task_root: &str,
    report: &mut ScanReport,
) -> (BTreeMap<PathBuf, (Library, Arch)>, Vec<PathBuf>) {
    let mut by_file: BTreeMap<PathBuf, (Library, Arch)> = BTreeMap::new();
    let mut order: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if dir.starts_with(task_root) {
            continue; // the function's own package, not the runtime
        }
        let Ok(host_dir) = resolve_in_root(root, dir) else {
            continue;
        };
        let Ok(entries) = std::fs::read_dir(&host_dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names.into_iter().filter(|n| n.contains(".so")) {
            let runtime_path = format!("{}/{}", dir.trim_end_matches('/'), name);
            let file = match resolve_in_root(root, &runtime_path) {
                Ok(f) => f,
                Err(why) => {
                    report.skipped.push(format!("{}: {}", runtime_path, why));
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            if let Some((lib, _)) = by_file.get_mut(&file) {
                lib.paths.push(runtime_path);
                continue;
            }
            let facts = match read_elf(&file) {
                Ok(f) => f,
                Err(AuditError::NotElf { .. }) => continue, // linker scripts and the like
                Err(e) => {
                    report.skipped.push(format!("{}: {}", runtime_path, e));
                    continue;
                }
            };
            if facts.kind != ElfKind::SharedObject {
                continue;
            }
            let versions = (!facts.version_defs.is_empty()).then(|| {
                // The base definition and a node may share a name (--default-symver): list it once.
                let mut names: Vec<String> = Vec::new();
                for def in &facts.version_defs {
                    if !names.contains(&def.name) {
                        names.push(def.name.clone());
                    }
                }
                names
            });
            let exports = export_list(&facts);
            let library = Library {
                soname: facts.soname.clone(),
                paths: vec![runtime_path],
                versions,
                exports: Some(exports.into()),
                needed: facts.needed.clone(),
                note: None,
            };
            order.push(file.clone());
            by_file.insert(file, (library, facts.arch));
        }
    }
    (by_file, order)
}

/// Scans `root` and returns the profile with what was skipped.
pub fn scan(root: &Path, options: &ScanOptions) -> Result<(Profile, ScanReport)> {
    if !root.is_dir() {
        return Err(AuditError::Usage(format!(
            "{}: not a directory (profile scan takes a root filesystem)",
            shown(root)
        )));
    }
    check_absolute_dirs(options)?;
    let mut report = ScanReport::default();
    let default_dirs = match &options.default_path {
        Some(dirs) => dirs.clone(),
        None => {
            let (dirs, notes) = default_dirs_noting(root);
            report.skipped.extend(notes);
            dirs
        }
    };
    let mut dirs: Vec<String> = Vec::new();
    for d in options.search_path.iter().chain(&default_dirs) {
        if !dirs.contains(d) {
            dirs.push(d.clone());
        }
    }

    let mut host = match &options.host_exe {
        Some(exe) => Some(read_host(root, exe, options)?),
        None => None,
    };

    // The host program's own DT_RPATH/DT_RUNPATH directories (libpython of a
    // shared Python build) are part of what its loader can reach.
    if let Some((host, arch)) = &host {
        for entry in host.rpath.iter().chain(&host.runpath) {
            // A relative entry depends on the working directory: not a fixed place.
            let expanded = expand_tokens(entry, &host.executable, *arch);
            let dir = normalize(&expanded);
            if expanded.starts_with('/') && !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }

    let (mut by_file, order) = read_libraries(root, &dirs, &options.task_root, &mut report);

    // A shared Python build keeps its importer (and its suffix table) in libpython.
    if let Some((host, _)) = host.as_mut() {
        if host.module_init_prefix.is_some() && host.extension_suffixes.is_empty() {
            for (file, (library, _)) in &by_file {
                let name = library.soname.as_deref().unwrap_or_default();
                if name.starts_with("libpython") && host.needed.iter().any(|n| n == name) {
                    host.extension_suffixes = extension_suffixes(file)?;
                }
            }
            if host.extension_suffixes.is_empty() {
                report.skipped.push(format!(
                    "{}: no extension module suffix (.cpython-…so) found in it or its libpython: module file names will not be checked",
                    host.executable
                ));
            }
        }
    }

    // The runtime's architecture: the host program's, else the most common among the libraries.
    let arch = match &host {
        Some((_, arch)) => *arch,
        None => {
            let mut counts: HashMap<Arch, usize> = HashMap::new();
            for (_, arch) in by_file.values() {
                *counts.entry(*arch).or_default() += 1;
            }
            counts
                .into_iter()
                .max_by_key(|(_, c)| *c)
                .map(|(a, _)| a)
                .unwrap_or(Arch::X86_64)
        }
    };
    let arch_name = arch.name();
    if Arch::from_name(&arch_name).is_none() {
        return Err(AuditError::Usage(format!(
            "{}: unsupported architecture {}",
            shown(root),
            arch_name
        )));
    }
    let mut libraries = Vec::new();
    for file in order {
        if let Some((lib, lib_arch)) = by_file.remove(&file) {
            if lib_arch == arch {
                libraries.push(lib);
            }
        }
    }

    if libraries.is_empty() {
        return Err(AuditError::Usage(format!(
            "{}: no shared libraries found in its loader's directories: not a root filesystem",
            shown(root)
        )));
    }
    let profile = Profile {
        schema: SCHEMA,
        name: options.name.clone(),
        extends: None,
        runtime: None,
        description: format!(
            "scanned from {} by lambda-audit {}",
            root.display(),
            env!("CARGO_PKG_VERSION")
        ),
        sources: vec![format!("lambda-audit profile scan {}", root.display())],
        arch: arch_name,
        task_root: normalize(&options.task_root),
        ld_library_path: options.search_path.clone(),
        default_dirs,
        complete: true,
        host: host.map(|(h, _)| h),
        policy: options.policy.clone(),
        libraries: libraries.into(),
    };
    Ok((profile, report))
}

#[cfg(test)]
mod tests {
    use super::resolve_in_root;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("usr/lib")).unwrap();
        std::fs::write(r.join("usr/lib/libx.so.1.0"), b"x").unwrap();
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        std::os::unix::fs::symlink("/usr/lib/libx.so.1.0", r.join("usr/lib/libx.so.1")).unwrap();
        std::os::unix::fs::symlink(
            "../../../../usr/lib/libx.so.1.0",
            r.join("usr/lib/libup.so.1"),
        )
        .unwrap();
        std::os::unix::fs::symlink("libself.so", r.join("usr/lib/libself.so")).unwrap();
        assert_eq!(
            resolve_in_root(r, "/lib/libx.so.1").unwrap(),
            r.join("usr/lib/libx.so.1.0")
        );
        // `..` stops at the root.
        assert_eq!(
            resolve_in_root(r, "/usr/lib/libup.so.1").unwrap(),
            r.join("usr/lib/libx.so.1.0")
        );
        assert!(resolve_in_root(r, "/usr/lib/libself.so")
            .unwrap_err()
            .contains("too many levels"));
        assert!(resolve_in_root(r, "/etc/passwd")
            .unwrap_err()
            .contains("does not exist in the root"));
    }
}
