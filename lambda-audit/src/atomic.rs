//! Writing results so that nothing half-written is ever left: every output
//! is made beside its destination under a temporary name, then renamed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

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

/// Held by every step that creates a path inside a pending temporary (a
/// directory, a file), and by the signal handler while it removes them: the
/// removal never races a step that would create what it just removed.
static CREATING: Mutex<()> = Mutex::new(());

/// Set by the signal handler before it waits for `CREATING`: a lock is not
/// fair, and a loop of steps (thousands of files merged) would take it
/// again and again while the handler waits.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Runs `step`, which creates paths inside a pending temporary, so that a
/// signal's removal happens wholly before or wholly after it. Once a
/// signal came, no step starts: the process is about to exit.
pub fn guarded<T>(step: impl FnOnce() -> T) -> T {
    let held = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
    if STOPPING.load(Ordering::SeqCst) {
        drop(held);
        loop {
            std::thread::park();
        }
    }
    step()
}

/// On SIGINT or SIGTERM: removes every temporary output still pending and
/// ends the process, still holding the guard, so nothing is created after
/// the removal.
pub fn remove_pending_and_exit(code: i32) -> ! {
    STOPPING.store(true, Ordering::SeqCst);
    let _held = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Ok(pending) = PENDING.lock() {
        for path in pending.iter() {
            let _ = std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path));
        }
    }
    std::process::exit(code)
}

/// A private temporary directory (in the system's temporary directory),
/// removed when dropped, and by a signal until then.
pub struct PrivateDir(Option<TempDir>);

impl PrivateDir {
    pub fn new(prefix: &str) -> Result<PrivateDir> {
        guarded(|| {
            let dir = tempfile::Builder::new()
                .prefix(prefix)
                .tempdir()
                .map_err(|e| AuditError::io(&std::env::temp_dir(), e))?;
            track(dir.path());
            Ok(PrivateDir(Some(dir)))
        })
    }

    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            // Forgotten only once removed: a signal meanwhile still removes it.
            guarded(|| {
                let path = dir.path().to_path_buf();
                let _ = dir.close();
                untrack(&path);
            });
        }
    }
}

/// The name every temporary output beside a destination starts with
/// (`tempfile` adds six random characters); `zip` never packages one.
pub const TEMPORARY_PREFIX: &str = ".lambda-audit";

/// A temporary file beside `path`, removed unless `persist` is called.
pub fn temp_file_beside(path: &Path) -> Result<NamedTempFile> {
    let parent = parent_of(path)?;
    guarded(|| {
        let temp = tempfile::Builder::new()
            .prefix(TEMPORARY_PREFIX)
            .tempfile_in(parent)
            .map_err(|e| AuditError::io(parent, e))?;
        track(temp.path());
        Ok(temp)
    })
}

/// A temporary directory beside `path`, removed unless kept.
pub fn temp_dir_beside(path: &Path) -> Result<TempDir> {
    let parent = parent_of(path)?;
    guarded(|| {
        let temp = tempfile::Builder::new()
            .prefix(TEMPORARY_PREFIX)
            .tempdir_in(parent)
            .map_err(|e| AuditError::io(parent, e))?;
        track(temp.path());
        Ok(temp)
    })
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

/// What a non-regular file is, for messages.
pub fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_symlink() {
        "a symlink"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// An output file's path, checked before anything is read or written: it
/// is written by renaming a finished file over it, so only a regular file
/// (or nothing) may be there; a symlink or a device node would be replaced,
/// not written through (`--out /dev/null` as root would replace the node).
pub fn check_destination(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => Err(AuditError::Usage(format!(
            "--out {}: {}, not a regular file; lambda-audit writes a new file there and would replace it: name a file path",
            crate::error::shown(path),
            special_kind(&meta)
        ))),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    check_destination(path)?;
    let mut temp = temp_file_beside(path)?;
    temp.write_all(bytes)
        .map_err(|e| AuditError::io(temp.path(), e))?;
    persist(temp, path)
}
