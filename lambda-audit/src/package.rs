//! Auditing a whole package directory, as `zip` does before it writes.
//!
//! The package's entry points (Python modules exporting their init function,
//! or programs, per the profile) are audited as artifacts, with their
//! libraries in the package resolved where the runtime finds them. Libraries
//! no entry point reaches are audited on their own, as libraries.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::archive::Entry;
use crate::check::{check, Finding, Report};
use crate::error::{AuditError, Result};
use crate::profile::Profile;
use crate::resolve::Source;

pub fn audit_package(profile: &Profile, dir: &Path, entries: &[Entry]) -> Result<Vec<Report>> {
    let elf_files: Vec<&PathBuf> = entries.iter().filter(|e| e.elf).map(|e| &e.file).collect();
    let mut reports = Vec::new();
    let mut libraries = Vec::new();
    for file in &elf_files {
        let report = check(profile, Some(dir), file)?;
        if report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::NotLoadable { .. }))
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
        return Err(AuditError::Refused(format!(
            "{} holds no entry point for {}: expected {}",
            dir.display(),
            profile.name,
            what
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
        if !reached.contains(&canonical) {
            report
                .findings
                .retain(|f| !matches!(f, Finding::NotLoadable { .. }));
            reports.push(report);
        }
    }
    Ok(reports)
}
