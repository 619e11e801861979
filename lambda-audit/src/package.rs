//! Auditing a whole package directory, as `zip` does before it writes.
//!
//! The package's entry points (Python modules exporting their init function,
//! or programs, per the profile) are audited as artifacts, with their
//! libraries in the package resolved where the runtime finds them. Libraries
//! no entry point reaches are audited on their own, as libraries.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::archive::Entry;
use crate::check::{check_in, Finding, Report};
use crate::error::{AuditError, Result};
use crate::profile::Profile;
use crate::resolve::{Source, TaskDir};

/// The reports, and one line for each ELF-looking file that was passed over:
/// a file no entry point reaches that the loader could never load anyway
/// (malformed, or of another architecture, as wheels sometimes carry) does
/// not block the package, since the runtime never opens it.
pub fn audit_package(
    profile: &Profile,
    dir: &Path,
    entries: &[Entry],
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
                skipped.push(format!("skipped {}: {}", file.display(), e));
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
    if reports.is_empty() {
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
                        Some(format!("{} is {}", file.display(), found))
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
            dir.display(),
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
                library.display()
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
