//! Writing results so that nothing half-written is ever left: every output
//! is made beside its destination under a temporary name, then renamed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::{NamedTempFile, TempDir};

use crate::error::{AuditError, Result};

/// The directory `path` will be in, created if missing (`.` for a bare name).
fn parent_of(path: &Path) -> Result<&Path> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| AuditError::io(parent, e))?;
    Ok(parent)
}

/// Temporary outputs not yet renamed into place: what a signal handler
/// removes (a killed process runs no destructors).
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub fn track(path: &Path) {
    if let Ok(mut pending) = PENDING.lock() {
        pending.push(path.to_path_buf());
    }
}

/// Forgets `path`: it was renamed into place, or kept on purpose.
pub fn untrack(path: &Path) {
    if let Ok(mut pending) = PENDING.lock() {
        pending.retain(|p| p != path);
    }
}

/// Removes every temporary output still pending (on SIGINT or SIGTERM).
pub fn remove_pending() {
    if let Ok(pending) = PENDING.lock() {
        for path in pending.iter() {
            let _ = std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path));
        }
    }
}

/// A temporary file beside `path`, removed unless `persist` is called.
pub fn temp_file_beside(path: &Path) -> Result<NamedTempFile> {
    let parent = parent_of(path)?;
    let temp = tempfile::Builder::new()
        .prefix(".lambda-audit")
        .tempfile_in(parent)
        .map_err(|e| AuditError::io(parent, e))?;
    track(temp.path());
    Ok(temp)
}

/// A temporary directory beside `path`, removed unless kept.
pub fn temp_dir_beside(path: &Path) -> Result<TempDir> {
    let parent = parent_of(path)?;
    let temp = tempfile::Builder::new()
        .prefix(".lambda-audit")
        .tempdir_in(parent)
        .map_err(|e| AuditError::io(parent, e))?;
    track(temp.path());
    Ok(temp)
}

/// Gives the finished temporary file mode 0644 and renames it over `path`.
pub fn persist(temp: NamedTempFile, path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644))
        .map_err(|e| AuditError::io(temp.path(), e))?;
    let temp_path = temp.path().to_path_buf();
    temp.persist(path)
        .map_err(|e| AuditError::io(path, e.error))?;
    untrack(&temp_path);
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut temp = temp_file_beside(path)?;
    temp.write_all(bytes)
        .map_err(|e| AuditError::io(temp.path(), e))?;
    persist(temp, path)
}
