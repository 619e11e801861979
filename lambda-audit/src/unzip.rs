//! Reading an existing deployment package (`check PACKAGE.zip`): the zip is
//! unpacked into a private temporary directory, removed afterwards (and on a
//! signal), and audited there as the runtime would see it unpacked.
//!
//! The same guarantees as `zip` gives when it writes one: no entry may name a
//! path outside the package (absolute, `..`, a backslash), none may be a
//! device, FIFO or socket, a symlink must resolve inside the package, and the
//! unpacked bytes are counted as they are written
//! (never trusting the sizes the archive declares) and stop at Lambda's
//! 250 MB limit. Entries are streamed to disk: memory stays bounded by the
//! archive's directory, not its contents. Regular files and directories are
//! written first and symlinks last, so no write ever goes through a symlink.
//! A name the archive holds twice is read once, as its last entry (the zip
//! library's reading, and what an extractor that overwrites leaves).

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use zip::ZipArchive;

use crate::archive::MAX_UNZIPPED;
use crate::atomic;
use crate::error::{AuditError, Result};

/// Whether `path` is a zip archive (by its first bytes, as unzip decides).
pub fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && (&magic == b"PK\x03\x04" || &magic == b"PK\x05\x06")
}

/// The unix file type bits of a zip entry's external attributes.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// The longest symlink target read (PATH_MAX).
const MAX_LINK: u64 = 4096;

/// Unpacks `archive` into a new temporary directory and returns it.
pub fn unpack(archive: &Path) -> Result<tempfile::TempDir> {
    let bad = |why: String| AuditError::Usage(format!("{}: {}", archive.display(), why));
    let file = std::fs::File::open(archive).map_err(|e| AuditError::io(archive, e))?;
    let mut zip = ZipArchive::new(file).map_err(|e| bad(format!("not a readable zip ({e})")))?;
    let dir = tempfile::Builder::new()
        .prefix(".lambda-audit-check")
        .tempdir()
        .map_err(|e| AuditError::io(&std::env::temp_dir(), e))?;
    atomic::track(dir.path());
    let result = unpack_into(&mut zip, dir.path()).map_err(bad);
    if result.is_err() {
        atomic::untrack(dir.path());
    }
    result.map(|_| dir)
}

/// The entry name as a relative path inside the package, or why not.
fn relative_name(name: &str) -> std::result::Result<PathBuf, String> {
    if name.contains('\\') {
        return Err(format!(
            "entry {name:?} has a backslash, which some extractors read as a path separator"
        ));
    }
    if name.contains('\0') {
        return Err(format!("entry {name:?} has a NUL byte"));
    }
    let path = Path::new(name.trim_end_matches('/'));
    if path.as_os_str().is_empty() {
        return Err(format!("entry {name:?} has no name"));
    }
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => clean.push(p),
            Component::CurDir => {}
            _ => {
                return Err(format!(
                    "entry {name:?} names a path outside the package (absolute, or with ..)"
                ))
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(format!("entry {name:?} has no name"));
    }
    Ok(clean)
}

fn unpack_into(
    zip: &mut ZipArchive<std::fs::File>,
    root: &Path,
) -> std::result::Result<(), String> {
    let mut written: u64 = 0;
    let mut links: Vec<(PathBuf, String)> = Vec::new();
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| format!("entry {index}: {e}"))?;
        let name = entry.name().to_string();
        let rel = relative_name(&name)?;
        let mode = entry.unix_mode().unwrap_or(0);
        let kind = mode & S_IFMT;
        let dest = root.join(&rel);
        if entry.is_dir() || kind == S_IFDIR {
            std::fs::create_dir_all(&dest).map_err(|e| format!("{name}: {e}"))?;
            continue;
        }
        if kind == S_IFLNK {
            let mut target = String::new();
            (&mut entry)
                .take(MAX_LINK + 1)
                .read_to_string(&mut target)
                .map_err(|e| format!("{name}: symlink target: {e}"))?;
            if target.len() as u64 > MAX_LINK || target.is_empty() {
                return Err(format!("{name}: a symlink with no usable target"));
            }
            links.push((rel, target));
            continue;
        }
        if kind != 0 && kind != S_IFREG {
            return Err(format!(
                "{name}: a device, FIFO or socket (mode {mode:o}), not a regular file: a package holds files only"
            ));
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{name}: {e}"))?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => {
                    format!("{name}: the archive holds this name twice")
                }
                _ => format!("{name}: {e}"),
            })?;
        let room = MAX_UNZIPPED - written;
        let copied = std::io::copy(&mut (&mut entry).take(room + 1), &mut out)
            .map_err(|e| format!("{name}: {e}"))?;
        written += copied;
        if copied > room {
            return Err(format!(
                "more than {} unzipped, over Lambda's limit for a function and its layers",
                crate::archive::bytes(MAX_UNZIPPED)
            ));
        }
        out.flush().map_err(|e| format!("{name}: {e}"))?;
        // The permission bits matter (a bootstrap must be executable); the
        // type bits were checked above.
        use std::os::unix::fs::PermissionsExt;
        let permissions = if mode == 0 { 0o644 } else { mode & 0o777 };
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(permissions | 0o600))
            .map_err(|e| format!("{name}: {e}"))?;
    }
    // Symlinks last: nothing above was written through one. Each must
    // resolve (as the runtime would resolve it) to a file inside the package.
    let real_root = std::fs::canonicalize(root).map_err(|e| e.to_string())?;
    for (rel, target) in &links {
        let dest = root.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", rel.display()))?;
        }
        std::os::unix::fs::symlink(target, &dest).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!("{}: the archive holds this name twice", rel.display())
            }
            _ => format!("{}: {e}", rel.display()),
        })?;
    }
    for (rel, target) in &links {
        let resolved = std::fs::canonicalize(root.join(rel));
        match resolved {
            Ok(real) if real.starts_with(&real_root) => {}
            Ok(real) => {
                return Err(format!(
                    "{}: a symlink to {target:?}, which leaves the package ({})",
                    rel.display(),
                    real.display()
                ))
            }
            Err(_) => {
                return Err(format!(
                    "{}: a symlink to {target:?}, which does not resolve inside the package",
                    rel.display()
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_package_are_refused() {
        for name in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\..\\x",
            "",
            "./",
            "a\0b",
        ] {
            assert!(relative_name(name).is_err(), "{name:?}");
        }
        assert_eq!(relative_name("a/./b/").unwrap(), PathBuf::from("a/b"));
        assert_eq!(
            relative_name("bootstrap").unwrap(),
            PathBuf::from("bootstrap")
        );
    }
}
