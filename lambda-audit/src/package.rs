//! Auditing a whole package directory, as `zip` does before it writes and
//! `check DIR|PACKAGE.zip` does for a package or layer made elsewhere.
//!
//! The package's entry points (Python modules exporting their init function,
//! or programs, per the profile) are audited as artifacts, with their
//! libraries in the package resolved where the runtime finds them. Libraries
//! no entry point reaches are audited on their own, as libraries. Each file
//! is named by the Python distribution that installed it, where a
//! `*.dist-info/RECORD` says so.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::archive::Entry;
use crate::check::{check_in, Finding, Report};
use crate::error::{shown, AuditError, Result};
use crate::profile::Profile;
use crate::resolve::{Source, TaskDir};

/// The reports, and one line for each ELF-looking file that was passed over:
/// a file no entry point reaches that the loader could never load anyway
/// (malformed, or of another architecture, as wheels sometimes carry) does
/// not block the package, since the runtime never opens it.
/// A layer need not hold an entry point (a layer of libraries is the usual
/// kind): `entry_point_required` is false for one, and its libraries are
/// all judged on their own.
pub fn audit_package(
    profile: &Profile,
    dir: &Path,
    entries: &[Entry],
    entry_point_required: bool,
) -> Result<(Vec<Report>, Vec<String>)> {
    let elf_files: Vec<&PathBuf> = entries.iter().filter(|e| e.elf).map(|e| &e.file).collect();
    let task = TaskDir::new(&profile.task_root, Some(dir));
    let mut reports = Vec::new();
    let mut libraries = Vec::new();
    let mut skipped = Vec::new();
    for file in &elf_files {
        let report = match check_in(profile, &task, file) {
            Ok(report) => report,
            // Not a file the loader can read: an entry point it cannot be,
            // and one that is needed shows as broken in that closure.
            Err(e @ (AuditError::MalformedElf { .. } | AuditError::NotElf { .. })) => {
                skipped.push(format!("skipped {}: {}", shown(file), e));
                continue;
            }
            Err(e) => return Err(e),
        };
        if report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::NotLoadable { .. } | Finding::WrongArch { .. }))
        {
            libraries.push((*file, report));
        } else {
            reports.push(report);
        }
    }
    if reports.is_empty() && entry_point_required {
        let what = match profile
            .host
            .as_ref()
            .and_then(|h| h.module_init_prefix.as_ref())
        {
            Some(prefix) => format!(
                "a Python extension module (a .so exporting {}<its name>)",
                prefix
            ),
            None => "an executable".to_string(),
        };
        let foreign: Vec<String> = libraries
            .iter()
            .flat_map(|(file, report)| {
                report.findings.iter().filter_map(move |f| match f {
                    Finding::WrongArch { found, .. } => {
                        Some(format!("{} is {}", shown(file), found))
                    }
                    _ => None,
                })
            })
            .collect();
        let also = if foreign.is_empty() {
            String::new()
        } else {
            format!(" ({}; the runtime is {})", foreign.join(", "), profile.arch)
        };
        return Err(AuditError::Refused(format!(
            "{} holds no entry point for {}: expected {}{}",
            shown(dir),
            profile.name,
            what,
            also
        )));
    }
    let reached: HashSet<PathBuf> = reports
        .iter()
        .filter_map(|r| r.closure.as_ref())
        .flat_map(|c| c.objects.iter())
        .filter_map(|o| match &o.source {
            Source::Local(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    // A library no entry point reaches is judged on its own needs: its report
    // without the findings that only say it is not an entry point.
    for (library, mut report) in libraries {
        let canonical = std::fs::canonicalize(library).unwrap_or_else(|_| library.clone());
        if reached.contains(&canonical) {
            continue;
        }
        // Unreached and of another architecture: the runtime never loads it.
        if report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::WrongArch { .. }))
        {
            skipped.push(format!(
                "skipped {}: another architecture, and no entry point loads it",
                shown(library)
            ));
            continue;
        }
        report
            .findings
            .retain(|f| !matches!(f, Finding::NotLoadable { .. }));
        reports.push(report);
    }
    Ok((reports, skipped))
}

/// Where Lambda unpacks layers.
pub const LAYER_ROOT: &str = "/opt";

/// `check` of a deployment package or layer (a directory, or a zip unpacked
/// into a private temporary directory): every ELF file in it, judged where
/// the runtime places the package (`place`), each named by the Python
/// distribution that installed it when a `*.dist-info/RECORD` says so.
pub fn check_package(
    profile: &Profile,
    package: &std::path::Path,
    place: &str,
) -> Result<(Vec<Report>, Vec<String>)> {
    let unpacked = if package.is_dir() {
        None
    } else {
        Some(crate::unzip::unpack(package)?)
    };
    let dir = unpacked.as_ref().map_or(package, |d| d.path());
    let entries = crate::archive::list(dir)?;
    // An OS-only runtime runs the function package's bootstrap, and nothing else.
    if profile.host.is_none() && place != LAYER_ROOT {
        use std::os::unix::fs::PermissionsExt;
        // The file's own mode (`zip` stores any ELF file 0755, other zippers
        // keep the mode they find).
        let runnable = |file: &std::path::Path| {
            std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
        };
        match entries.iter().find(|e| e.name == "bootstrap") {
            Some(bootstrap) if runnable(&bootstrap.file) => {}
            Some(_) => {
                return Err(AuditError::Refused(format!(
                    "{}: bootstrap is not executable, and {} runs it as the function's program: chmod +x it before zipping",
                    shown(package),
                    profile.name
                )))
            }
            None => {
                return Err(AuditError::Refused(format!(
                    "{}: no bootstrap at the package's root, which is what {} runs (Runtime.InvalidEntrypoint); name the program bootstrap",
                    shown(package),
                    profile.name
                )))
            }
        }
    }
    let placed = Profile {
        task_root: place.to_string(),
        ..profile.clone()
    };
    // A function package without an entry point is nothing to judge: bad input.
    let (mut reports, skipped) = audit_package(&placed, dir, &entries, place != LAYER_ROOT)
        .map_err(|e| match e {
            AuditError::Refused(why) => AuditError::Usage(why),
            e => e,
        })?;
    let owners = distributions(dir);
    let root = std::fs::canonicalize(dir).map_err(|e| AuditError::io(dir, e))?;
    for report in &mut reports {
        let canonical = std::fs::canonicalize(&report.artifact).unwrap_or(report.artifact.clone());
        report.distribution = owners.get(&canonical).cloned();
        report.profile = profile.name.clone();
        // A file of a zip is named inside it: PACKAGE.zip!/path.
        if unpacked.is_some() {
            if let Ok(rel) = report.artifact.strip_prefix(&root) {
                report.artifact =
                    std::path::PathBuf::from(format!("{}!/{}", package.display(), rel.display()));
            }
        }
    }
    Ok((reports, skipped))
}

/// Which Python distribution installed each file of a package, from the
/// `*.dist-info/RECORD` files `pip install --target` leaves (one CSV line per
/// installed file, its path relative to the directory holding the
/// dist-info). Keys are canonical paths; values `name version` from the
/// dist-info's METADATA. Files a RECORD places outside the package are
/// ignored; a package without RECORDs gives an empty map.
pub fn distributions(dir: &Path) -> std::collections::HashMap<PathBuf, String> {
    let mut owners = std::collections::HashMap::new();
    let Ok(root) = std::fs::canonicalize(dir) else {
        return owners;
    };
    let records = walkdir::WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| {
            e.file_type().is_file()
                && e.file_name() == "RECORD"
                && e.path()
                    .parent()
                    .and_then(|p| p.file_name())
                    .is_some_and(|n| n.to_string_lossy().ends_with(".dist-info"))
        });
    for record in records {
        let dist_info = record.path().parent().expect("RECORD has a parent");
        let site = dist_info.parent().unwrap_or(&root);
        let name = distribution_name(dist_info);
        let Ok(text) = std::fs::read_to_string(record.path()) else {
            continue;
        };
        for line in text.lines() {
            let Some(path) = first_csv_field(line) else {
                continue;
            };
            let Ok(file) = std::fs::canonicalize(site.join(&path)) else {
                continue;
            };
            if file.starts_with(&root) {
                owners.entry(file).or_insert_with(|| name.clone());
            }
        }
    }
    owners
}

/// `name version` from a dist-info's METADATA, else from its directory name.
fn distribution_name(dist_info: &Path) -> String {
    let metadata = std::fs::read_to_string(dist_info.join("METADATA")).unwrap_or_default();
    let field = |key: &str| {
        metadata
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
    };
    match (field("Name:"), field("Version:")) {
        (Some(name), Some(version)) => format!("{name} {version}"),
        _ => dist_info
            .file_name()
            .map(|n| {
                n.to_string_lossy()
                    .trim_end_matches(".dist-info")
                    .replacen('-', " ", 1)
            })
            .unwrap_or_default(),
    }
}

/// The first field of a CSV line (RECORD quotes a path holding a comma).
fn first_csv_field(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix('"') {
        let mut field = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => return Some(field),
                _ => field.push(c),
            }
        }
        None
    } else {
        let field = line.split(',').next()?;
        (!field.is_empty()).then(|| field.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_paths_are_read_as_csv() {
        assert_eq!(
            first_csv_field("a/b.so,sha256=x,10").as_deref(),
            Some("a/b.so")
        );
        assert_eq!(
            first_csv_field("\"a,\"\"b.so\",sha256=x,10").as_deref(),
            Some("a,\"b.so")
        );
        assert_eq!(first_csv_field(""), None);
        assert_eq!(first_csv_field("\"unterminated"), None);
    }
}
