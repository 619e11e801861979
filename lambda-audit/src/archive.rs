//! `zip`: a deterministic Lambda package from a directory.
//!
//! Entries are sorted, carry one timestamp (`SOURCE_DATE_EPOCH` when set, else
//! 1980-01-01, the zip epoch), mode 0755 for ELF files and 0644 for the rest,
//! and nothing outside the directory (a symlink that leaves it is refused).
//! The archive is written to a temporary file beside the destination and
//! renamed into place, so a failure leaves nothing half-written.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::atomic;
use crate::error::{shown, AuditError, Result};

/// Lambda's limits for a .zip deployment package (direct upload).
pub const MAX_ZIPPED: u64 = 50 * 1024 * 1024;
pub const MAX_UNZIPPED: u64 = 250 * 1024 * 1024;

/// A file to put in the archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the archive, `/`-separated.
    pub name: String,
    pub file: PathBuf,
    pub elf: bool,
    /// Stored 0755: an ELF file, or a file with an execute bit (a `bootstrap`
    /// script); the rest 0644.
    pub executable: bool,
    pub size: u64,
}

/// The archive's path, checked before anything is read: it is written by
/// renaming a finished file over it, so only a regular file (or nothing) may
/// be there; a symlink or a device would be replaced, not written through.
/// Returned canonical (parent resolved), to leave it out of the package.
pub fn out_path(out: &Path) -> Result<PathBuf> {
    atomic::check_destination(out)?;
    let absolute = std::path::absolute(out).map_err(|e| AuditError::io(out, e))?;
    Ok(match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or(absolute.clone()),
        _ => absolute,
    })
}

/// Lists DIR's files, sorted, refusing anything that leads outside it or is
/// not a regular file (a FIFO would block the read, a device never ends), and
/// any name an extractor could read as another path. `out`, the archive being
/// written, bundle's marker, and the temporary files and directories of
/// lambda-audit runs (another `zip --out` into DIR being written, or one a
/// SIGKILL left) are left out: the second list names those, for a note.
pub fn collect(dir: &Path, out: &Path) -> Result<(Vec<Entry>, Vec<String>)> {
    let out = out_path(out)?;
    let mut left_out = Vec::new();
    let entries = entries(dir, Some((&out, &mut left_out)), None)?;
    Ok((entries, left_out))
}

/// `collect` for a package that is only read (`check DIR`): nothing is left out
/// but bundle's marker.
pub fn list(dir: &Path) -> Result<Vec<Entry>> {
    entries(dir, None, None)
}

/// `list` of a function unpacked over its layers, merged in `opt`: a
/// symlink may lead into them (a zip's absolute link into /opt, made to
/// the layer's file there by `unzip`).
pub fn list_beside(dir: &Path, opt: Option<&Path>) -> Result<Vec<Entry>> {
    let opt = opt
        .map(std::fs::canonicalize)
        .transpose()
        .map_err(|e| AuditError::io(dir, e))?;
    entries(dir, None, opt.as_deref())
}

/// Whether `name` is one `atomic` gives a temporary output: its prefix and
/// the six random characters `tempfile` adds.
fn is_temporary_name(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .and_then(|n| n.strip_prefix(atomic::TEMPORARY_PREFIX))
        .is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The files of DIR; when zipping, `out` and the list of what was left out.
fn entries(
    dir: &Path,
    mut out: Option<(&Path, &mut Vec<String>)>,
    opt: Option<&Path>,
) -> Result<Vec<Entry>> {
    let root = std::fs::canonicalize(dir).map_err(|e| AuditError::io(dir, e))?;
    if !root.is_dir() {
        return Err(AuditError::Usage(format!(
            "{}: not a directory",
            shown(dir)
        )));
    }
    let mut entries = Vec::new();
    let mut walk = walkdir::WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(item) = walk.next() {
        let item = item.map_err(|e| AuditError::Usage(format!("{}: {}", shown(dir), e)))?;
        let path = item.path();
        let rel = path
            .strip_prefix(&root)
            .expect("walkdir stays under its root");
        if let Some((out, left_out)) = out.as_mut() {
            if is_temporary_name(item.file_name()) && item.depth() > 0 {
                left_out.push(format!(
                    "left out {}: a temporary output of a lambda-audit run (being written, or left by a killed run)",
                    shown(path)
                ));
                if item.file_type().is_dir() {
                    walk.skip_current_dir();
                }
                continue;
            }
            // Where the archive goes, if that is inside DIR (it is not packaged).
            if path == *out {
                continue;
            }
        }
        if rel.as_os_str().is_empty() || item.file_type().is_dir() {
            continue;
        }
        if rel == Path::new(crate::bundle::MARKER) && item.file_type().is_file() {
            continue;
        }
        let name = rel
            .to_str()
            .ok_or_else(|| AuditError::Usage(format!("{}: file name is not UTF-8", shown(path))))?;
        // Some extractors take `\` for a separator: `..\x` would leave the
        // directory they extract to.
        if name.contains('\\') {
            return Err(AuditError::Usage(format!(
                "{}: a name with a backslash, which some extractors read as a path separator: rename it",
                shown(path)
            )));
        }
        // A symlink is the file the runtime opens by the link's name (a
        // module is imported by it): kept as the link, read through it.
        if item.file_type().is_symlink() {
            let target = std::fs::canonicalize(path).map_err(|e| {
                AuditError::Usage(format!("{}: dangling symlink ({})", shown(path), e))
            })?;
            if !target.starts_with(&root) && !opt.is_some_and(|opt| target.starts_with(opt)) {
                return Err(AuditError::Usage(format!(
                    "{}: symlink to {}, outside the package directory",
                    shown(path),
                    shown(&target)
                )));
            }
            if target.is_dir() {
                continue; // its files are listed under their real path
            }
        }
        let file = path.to_path_buf();
        // Decided from the metadata, before anything is opened.
        let meta = std::fs::metadata(&file).map_err(|e| AuditError::io(&file, e))?;
        if !meta.is_file() {
            return Err(AuditError::Usage(format!(
                "{}: {}, not a regular file: a package holds files only",
                shown(path),
                atomic::special_kind(&meta)
            )));
        }
        use std::os::unix::fs::PermissionsExt;
        let elf = is_elf(&file);
        entries.push(Entry {
            name: name.to_string(),
            executable: elf || meta.permissions().mode() & 0o111 != 0,
            elf,
            file,
            size: meta.len(),
        });
    }
    Ok(entries)
}

pub fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"\x7fELF"
}

/// The archive timestamp: `SOURCE_DATE_EPOCH`, else the zip epoch.
pub fn timestamp() -> Result<DateTime> {
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<i64>().map_err(|_| {
            AuditError::Usage(format!(
                "SOURCE_DATE_EPOCH={:?} is not a number of seconds",
                v
            ))
        })?,
        _ => return Ok(DateTime::default()),
    };
    // Zip times start in 1980 and end in 2107; clamp like auditwheel does.
    let seconds = seconds.clamp(315_532_800, 4_354_819_199);
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    DateTime::from_date_and_time(
        y as u16,
        m as u8,
        d as u8,
        (secs / 3600) as u8,
        (secs % 3600 / 60) as u8,
        (secs % 60) as u8,
    )
    .map_err(|_| AuditError::Usage("SOURCE_DATE_EPOCH is outside the zip format's range".into()))
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

/// Writes `entries` to `out` atomically; returns the archive's size.
pub fn write_zip(entries: &[Entry], out: &Path) -> Result<u64> {
    out_path(out)?;
    let unzipped: u64 = entries.iter().map(|e| e.size).sum();
    // AWS: "Unzipped size must be smaller than 262144000 bytes".
    if unzipped >= MAX_UNZIPPED {
        return Err(AuditError::Refused(format!(
            "the package is {} unzipped, over Lambda's limit of {} (250 MB): nothing written",
            bytes(unzipped),
            bytes(MAX_UNZIPPED)
        )));
    }
    let when = timestamp()?;
    let temp = atomic::temp_file_beside(out)?;
    // A failed write (a full disk, a file size limit) is the output's, named
    // by --out, in one line (not the zip crate's debug print).
    let write_error = |e: std::io::Error| AuditError::io(out, e);
    let zip_error = |e: zip::result::ZipError| match e {
        zip::result::ZipError::Io(e) => write_error(e),
        e => AuditError::Tool {
            what: "zip".into(),
            reason: e.to_string(),
        },
    };
    let mut writer = ZipWriter::new(temp.reopen().map_err(write_error)?);
    for entry in entries {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(when)
            .unix_permissions(if entry.executable { 0o755 } else { 0o644 })
            .large_file(entry.size >= u32::MAX as u64);
        writer
            .start_file(entry.name.as_str(), options)
            .map_err(zip_error)?;
        let file = std::fs::File::open(&entry.file).map_err(|e| AuditError::io(&entry.file, e))?;
        copy_entry(file, &entry.file, &mut writer, &write_error)?;
    }
    let mut file = writer.finish().map_err(zip_error)?;
    file.flush().map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    let zipped = file.metadata().map_err(write_error)?.len();
    if zipped > MAX_ZIPPED {
        return Err(AuditError::Refused(format!(
            "the archive would be {}, over Lambda's limit of {} (50 MB) for direct upload: nothing written",
            bytes(zipped),
            bytes(MAX_ZIPPED)
        )));
    }
    atomic::persist(temp, out)?;
    Ok(zipped)
}

/// Copies one file into the archive: a failed read names the file, a
/// failed write is `write_error`'s.
fn copy_entry(
    mut file: std::fs::File,
    path: &Path,
    writer: &mut impl Write,
    write_error: &dyn Fn(std::io::Error) -> AuditError,
) -> Result<()> {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(AuditError::io(path, e)),
        };
        writer.write_all(&buffer[..read]).map_err(write_error)?;
    }
}

pub fn bytes(n: u64) -> String {
    format!("{:.1} MiB ({} bytes)", n as f64 / 1048576.0, n)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn days_become_calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(3652), (1980, 1, 1));
        assert_eq!(civil_from_days(19675), (2023, 11, 14)); // SOURCE_DATE_EPOCH=1700000000
        assert_eq!(civil_from_days(11016), (2000, 2, 29));
    }
}
