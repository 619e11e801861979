//! `bundle`: vendoring what the runtime lacks, statically decided.
//!
//! The artifacts are copied into a package directory; every library their
//! closure needs that the runtime lacks (or has only in a version that fails
//! the checks) is copied from this machine into `lib/`. Because the runtime
//! searches its system directories before the package, each vendored library
//! gets a unique soname (`libfoo-<sha256:8>.so.1`, from its content, as
//! auditwheel does), the `DT_NEEDED` entries that named it are rewritten, and
//! the artifact gets `DT_RPATH $ORIGIN/lib` (searched before
//! `LD_LIBRARY_PATH`). ELF edits are made by patchelf, the tool auditwheel and
//! maturin use, on the copies only. The result is audited again and moved into
//! place only if everything loads.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::atomic;
use crate::check::{check, Finding, Report};
use crate::elf::read_elf;
use crate::error::{shown, AuditError, Result};
use crate::lexical::normalize;
use crate::profile::{is_glibc_part, Profile};
use crate::report;
use crate::resolve::{expand_tokens, search_order, Loader, Rule};

#[derive(Debug, Default, Clone)]
pub struct BundleOptions {
    /// Extra directories on this machine to find libraries to vendor, searched first.
    pub library_path: Vec<PathBuf>,
}

/// What `bundle` did.
#[derive(Debug)]
pub struct Bundled {
    /// Vendored libraries: original name -> (file on this machine, name in lib/).
    pub vendored: BTreeMap<String, (PathBuf, String)>,
    pub reports: Vec<Report>,
}

/// `libfoo.so.1` + content hash -> `libfoo-1a2b3c4d.so.1`.
pub fn hashed_name(name: &str, content: &[u8]) -> String {
    let hash = Sha256::digest(content);
    let short: String = hash.iter().take(4).map(|b| format!("{:02x}", b)).collect();
    match name.find(".so") {
        Some(i) => format!("{}-{}{}", &name[..i], short, &name[i..]),
        None => format!("{}-{}", name, short),
    }
}

fn patchelf(file: &Path, args: &[String]) -> Result<()> {
    let output = Command::new("patchelf").args(args).arg(file).output().map_err(|e| AuditError::Tool {
        what: "patchelf".into(),
        reason: format!("cannot run it ({}); install it (Debian: apt-get install patchelf; Nix: it is in the dev shell)", e),
    })?;
    if !output.status.success() {
        return Err(AuditError::Tool {
            what: format!("patchelf {}", args.join(" ")),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// The DT_NEEDED edits that make a file name vendored libraries by their new
/// names: every entry that names one (by its DT_NEEDED string, which may be a
/// path), in the file's order. Pure, so the renaming of a whole package is
/// decided by the set of vendored libraries alone, not by the order they
/// were found in.
pub fn rewrites(needed: &[String], renames: &BTreeMap<String, String>) -> Vec<(String, String)> {
    needed
        .iter()
        .filter_map(|name| renames.get(name).map(|new| (name.clone(), new.clone())))
        .collect()
}

/// The file name a vendored library takes in lib/ (before its hash): the
/// last component of its DT_NEEDED string, which for a library linked by
/// path is a path (the loader opens it as is). Never a name with `/`, so
/// nothing is ever written outside lib/.
pub fn vendored_file_name(needed: &str) -> Result<&str> {
    match needed.rsplit('/').next() {
        Some(name) if !name.is_empty() && name != "." && name != ".." => Ok(name),
        _ => Err(AuditError::Refused(format!(
            "cannot bundle a library named {needed:?}: it has no file name"
        ))),
    }
}

/// Where a staged file came from on this machine, and which staged file
/// needed it: the chain the loader would search along.
struct Origin {
    original: PathBuf,
    needed_by: Option<PathBuf>,
}

/// The file on this machine a needed library is taken from: a DT_NEEDED that
/// is a path is opened as is (by the loader too); a name is searched for as
/// this machine's loader would search for it from `needed_by` (see
/// `search_dirs`).
fn find_on_this_machine(
    name: &str,
    needed_by: &Path,
    origins: &BTreeMap<PathBuf, Origin>,
    options: &BundleOptions,
) -> Result<PathBuf> {
    if name.contains('/') {
        let path = Path::new(name);
        return if path.is_absolute() && path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(AuditError::Refused(format!(
                "cannot bundle {name}: the artifact names this library by a path that is not a file on this machine"
            )))
        };
    }
    let dirs = search_dirs(needed_by, origins, options);
    dirs.iter()
        .map(|(d, _)| Path::new(d).join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            AuditError::Refused(format!(
                "cannot bundle {}: not found on this machine (searched {}); pass --library-path DIR",
                name,
                dirs.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>().join(":")
            ))
        })
}

/// Directories of this machine to find a library in, for the staged file
/// `needed_by`: `--library-path` first, then the loader's own order
/// (`resolve::search_order`) along the chain of originals that loaded it,
/// with this machine's LD_LIBRARY_PATH and loader directories. A relative
/// entry is relative to the working directory, which at run time is the
/// package root: here, the directory the first artifact came from.
fn search_dirs(
    needed_by: &Path,
    origins: &BTreeMap<PathBuf, Origin>,
    options: &BundleOptions,
) -> Vec<(String, Rule)> {
    let mut originals = Vec::new();
    let mut at = Some(needed_by.to_path_buf());
    while let Some(staged) = at {
        let Some(origin) = origins.get(&staged) else {
            break;
        };
        if originals.len() > origins.len() {
            break; // a cycle cannot happen (each file is vendored once), but stay finite
        }
        let facts = read_elf(&origin.original).ok();
        originals.push((origin.original.to_string_lossy().into_owned(), facts));
        at = origin.needed_by.clone();
    }
    let workdir = originals
        .last()
        .and_then(|(p, _)| {
            Path::new(p)
                .parent()
                .map(|d| d.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| ".".into());
    let arch = originals
        .iter()
        .find_map(|(_, f)| f.as_ref().map(|f| f.arch))
        .unwrap_or(crate::elf::Arch::X86_64);
    let chain: Vec<Loader> = originals
        .iter()
        .map(|(path, facts)| Loader {
            name: path,
            path,
            rpath: facts.as_ref().map_or(&[], |f| f.rpath.as_slice()),
            runpath: facts.as_ref().map_or(&[], |f| f.runpath.as_slice()),
            nodeflib: facts.as_ref().is_some_and(|f| f.nodeflib),
        })
        .collect();
    let env: Vec<String> = std::env::var("LD_LIBRARY_PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(String::from)
        .collect();
    let defaults = crate::scan::default_dirs(Path::new("/"));
    let expand = |entry: &str, path: &str| {
        let expanded = expand_tokens(entry, path, arch);
        if expanded.starts_with('/') {
            normalize(&expanded)
        } else {
            normalize(&format!("{workdir}/{expanded}"))
        }
    };
    let mut dirs: Vec<(String, Rule)> = options
        .library_path
        .iter()
        .map(|d| (d.to_string_lossy().into_owned(), Rule::LdLibraryPath))
        .collect();
    let order = search_order(&chain, &env, &defaults, &expand);
    dirs.extend(
        order
            .into_iter()
            .map(|(dir, rule)| (dir.into_owned(), rule)),
    );
    dirs
}

/// The runtime's glibc release: the newest `GLIBC_2.x` node its libc defines.
fn runtime_glibc(profile: &Profile) -> Option<String> {
    let libc = profile
        .libraries
        .iter()
        .find(|l| l.soname.as_deref() == Some("libc.so.6"))?;
    libc.versions
        .iter()
        .flatten()
        .filter_map(|v| v.strip_prefix("GLIBC_"))
        .filter(|v| v.split('.').all(|n| n.parse::<u32>().is_ok()))
        .max_by_key(|v| {
            v.split('.')
                .map(|n| n.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        })
        .map(String::from)
}

/// Copies the artifacts into the staging directory `stage`: each staged
/// file with where it came from, and the staged artifacts in order.
fn stage_artifacts(
    artifacts: &[PathBuf],
    stage: &Path,
) -> Result<(BTreeMap<PathBuf, Origin>, Vec<PathBuf>)> {
    let mut origins: BTreeMap<PathBuf, Origin> = BTreeMap::new();
    let mut staged_artifacts = Vec::new();
    for artifact in artifacts {
        read_elf(artifact)?;
        let name = artifact
            .file_name()
            .ok_or_else(|| AuditError::Usage(format!("{}: not a file", shown(artifact))))?;
        let dest = stage.join(name);
        if dest.exists() {
            return Err(AuditError::Usage(format!(
                "two artifacts are named {}",
                name.to_string_lossy()
            )));
        }
        atomic::guarded(|| std::fs::copy(artifact, &dest))
            .map_err(|e| AuditError::io(artifact, e))?;
        origins.insert(
            dest.clone(),
            Origin {
                original: std::fs::canonicalize(artifact).unwrap_or(artifact.clone()),
                needed_by: None,
            },
        );
        staged_artifacts.push(dest);
    }
    Ok((origins, staged_artifacts))
}

/// What the staged artifacts still lack, as `check` judges them in the
/// staging directory: library name -> (the staged file that needs it,
/// whether the runtime lacks it altogether).
fn wanted_libraries(
    profile: &Profile,
    stage: &Path,
    staged_artifacts: &[PathBuf],
) -> Result<BTreeMap<String, (PathBuf, bool)>> {
    let mut wanted: BTreeMap<String, (PathBuf, bool)> = BTreeMap::new();
    for artifact in staged_artifacts {
        let report = check(profile, Some(stage), artifact)?;
        // No closure: the file itself cannot load here (another
        // architecture, not a loadable kind): the verdict `check` gives.
        let Some(closure) = report.closure.as_ref() else {
            return Err(AuditError::Refused(format!(
                "{} cannot be bundled:\n{}",
                artifact.file_name().unwrap_or_default().to_string_lossy(),
                report::human(&report).trim_end()
            )));
        };
        let staged_object = |object_name: &str| -> Option<PathBuf> {
            closure
                .objects
                .iter()
                .find(|o| o.display_name() == object_name)
                .and_then(|o| match &o.source {
                    crate::resolve::Source::Local(p) => Some(p.clone()),
                    _ => None,
                })
        };
        for finding in &report.findings {
            let (object, library, absent) = match finding {
                Finding::MissingLibrary {
                    needed_by, library, ..
                } => (needed_by, library, true),
                Finding::MissingVersion {
                    object,
                    library,
                    weak: false,
                    ..
                } => (object, library, false),
                Finding::UndefinedSymbol {
                    object,
                    library: Some(library),
                    ..
                } => (object, library, false),
                _ => continue,
            };
            if let Some(file) = staged_object(object) {
                wanted.entry(library.clone()).or_insert((file, absent));
            }
        }
    }
    Ok(wanted)
}

/// Makes every staged file name each vendored library by its new name
/// (`rewrites`) and find it in lib/ (DT_RPATH `$ORIGIN/lib`, or `$ORIGIN`
/// inside lib/).
fn rewrite_staged<'s>(
    staged_files: impl Iterator<Item = &'s PathBuf>,
    renames: &BTreeMap<String, String>,
    lib_dir: &Path,
) -> Result<()> {
    for staged in staged_files {
        let facts = read_elf(staged)?;
        let edits = rewrites(&facts.needed, renames);
        if edits.is_empty() {
            continue;
        }
        for (old, new) in edits {
            // One edit per call: patchelf 0.14.3 (Debian 12) misparses
            // --replace-needed followed by other options in one call.
            patchelf(staged, &["--replace-needed".into(), old, new])?;
        }
        let rpath = if staged.parent() == Some(lib_dir) {
            "$ORIGIN"
        } else {
            "$ORIGIN/lib"
        };
        patchelf(
            staged,
            &["--force-rpath".into(), "--set-rpath".into(), rpath.into()],
        )?;
    }
    Ok(())
}

/// glibc's parts (which must match the runtime's loader) and what the
/// profile's policy forbids are never vendored: the refusal, with its fix.
fn refuse_unvendorable(
    profile: &Profile,
    name: &str,
    file_name: &str,
    needed_by: &Path,
    absent: bool,
) -> Result<()> {
    if is_glibc_part(file_name) {
        let who = needed_by.file_name().unwrap_or_default().to_string_lossy();
        let glibc = runtime_glibc(profile).unwrap_or_else(|| "?".into());
        return Err(AuditError::Refused(if absent {
            format!(
                "{who} needs {name}, a part of glibc that {} does not have, and glibc's libraries cannot be vendored (they must match the runtime's loader): drop that dependency",
                profile.name
            )
        } else {
            format!(
                "{who} needs a newer {name} than the runtime's (glibc {glibc}), and glibc cannot be vendored: build against the runtime's glibc (cargo zigbuild --target {}-unknown-linux-gnu.{glibc})",
                profile.arch
            )
        }));
    }
    if let Some(rule) = profile
        .policy
        .forbidden_needed
        .iter()
        .find(|r| r.matches(name))
    {
        return Err(AuditError::Refused(format!(
            "{} must not be bundled or linked dynamically: {}",
            name, rule.fix
        )));
    }
    Ok(())
}

/// Bundles `artifacts` for `profile` into the package directory `out`.
pub fn bundle(
    profile: &Profile,
    artifacts: &[PathBuf],
    out: &Path,
    options: &BundleOptions,
) -> Result<Bundled> {
    let out = &package_dir(out, artifacts)?;
    let staging = atomic::temp_dir_beside(out)?;
    let stage = staging.path().to_path_buf();
    let lib_dir = stage.join("lib");
    atomic::guarded(|| std::fs::create_dir_all(&lib_dir))
        .map_err(|e| AuditError::io(&lib_dir, e))?;

    // Staged file -> where it came from on this machine (for its RPATH/RUNPATH).
    let (mut origins, staged_artifacts) = stage_artifacts(artifacts, &stage)?;

    let mut vendored: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
    let mut attempted: HashSet<String> = HashSet::new();
    loop {
        let mut wanted = wanted_libraries(profile, &stage, &staged_artifacts)?;
        wanted.retain(|name, _| !attempted.contains(name));
        if wanted.is_empty() {
            break;
        }
        for (name, (needed_by, absent)) in wanted {
            attempted.insert(name.clone());
            let file_name = vendored_file_name(&name)?;
            refuse_unvendorable(profile, &name, file_name, &needed_by, absent)?;
            let source = find_on_this_machine(&name, &needed_by, &origins, options)?;
            let content = std::fs::read(&source).map_err(|e| AuditError::io(&source, e))?;
            let new_name = hashed_name(file_name, &content);
            // A file name (no `/`, see vendored_file_name): always inside lib/.
            let dest = lib_dir.join(&new_name);
            atomic::guarded(|| std::fs::write(&dest, &content))
                .map_err(|e| AuditError::io(&dest, e))?;
            patchelf(
                &dest,
                &[
                    "--set-soname".into(),
                    new_name.clone(),
                    "--remove-rpath".into(),
                ],
            )?;
            origins.insert(
                dest.clone(),
                Origin {
                    original: std::fs::canonicalize(&source).unwrap_or(source.clone()),
                    needed_by: Some(needed_by.clone()),
                },
            );
            vendored.insert(name.clone(), (source, new_name.clone()));
        }
        // Every staged file, the libraries vendored earlier included, names
        // every vendored library by its new name: the order they were found
        // in does not matter (a library vendored after its dependency is
        // rewritten too).
        let renames: BTreeMap<String, String> = vendored
            .iter()
            .map(|(name, (_, new_name))| (name.clone(), new_name.clone()))
            .collect();
        rewrite_staged(origins.keys(), &renames, &lib_dir)?;
    }

    // The result must load; otherwise nothing is written.
    let mut reports = Vec::new();
    for artifact in &staged_artifacts {
        let report = check(profile, Some(&stage), artifact)?;
        if !report.loads() {
            return Err(AuditError::Refused(format!(
                "after bundling, {} still would not load:\n{}",
                artifact.file_name().unwrap_or_default().to_string_lossy(),
                report::human(&report).trim_end()
            )));
        }
        reports.push(report);
    }
    if vendored.is_empty() {
        std::fs::remove_dir(&lib_dir).map_err(|e| AuditError::io(&lib_dir, e))?;
    }
    let marker = stage.join(MARKER);
    atomic::guarded(|| {
        std::fs::write(
            &marker,
            "written by lambda-audit bundle; replaced whole by the next run\n",
        )
    })
    .map_err(|e| AuditError::io(&marker, e))?;
    let kept = staging.keep();
    // Still removed on a signal until it is in place.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| AuditError::io(&kept, e))?;
    }
    replace_dir(&kept, out)?;
    atomic::untrack(&kept);
    Ok(Bundled { vendored, reports })
}

/// The file that marks a directory as a package `bundle` wrote (and may
/// replace); `zip` leaves it out of the archive.
pub const MARKER: &str = ".lambda-audit-bundle";

/// The package directory, checked before anything is written, as a canonical
/// path. `bundle` replaces `out` whole, so it must be a new directory or an
/// earlier package: never a file, nor the working directory or a directory
/// holding it (`.`, `..`), nor a directory holding an input.
fn package_dir(out: &Path, artifacts: &[PathBuf]) -> Result<PathBuf> {
    let named = shown(out);
    if let Ok(meta) = std::fs::symlink_metadata(out) {
        if !meta.is_dir() {
            return Err(AuditError::Usage(format!(
                "--out {named} exists and is not a directory: bundle writes a package directory there; name a new one"
            )));
        }
    }
    let absolute = std::path::absolute(out).map_err(|e| AuditError::io(out, e))?;
    let real = match std::fs::canonicalize(&absolute) {
        Ok(real) => real,
        // A new directory: its parent must exist (the package is staged beside it).
        Err(_) => match (absolute.parent(), absolute.file_name()) {
            (Some(parent), Some(name)) => std::fs::canonicalize(parent)
                .map_err(|e| AuditError::io(parent, e))?
                .join(name),
            _ => {
                return Err(AuditError::Usage(format!(
                    "--out {named}: not a directory name"
                )))
            }
        },
    };
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| AuditError::io(Path::new("."), e))?;
    if cwd.starts_with(&real) {
        return Err(AuditError::Usage(format!(
            "--out {named} is the working directory or holds it, and bundle replaces --out whole: name a new directory, e.g. --out package"
        )));
    }
    for artifact in artifacts {
        if std::fs::canonicalize(artifact).is_ok_and(|input| input.starts_with(&real)) {
            return Err(AuditError::Usage(format!(
                "--out {named} holds the input {}, and bundle replaces --out whole: name another directory",
                shown(artifact)
            )));
        }
    }
    if real.is_dir() && !real.join(MARKER).is_file() {
        let mut entries = std::fs::read_dir(&real).map_err(|e| AuditError::io(&real, e))?;
        if entries.next().is_some() {
            return Err(AuditError::Usage(format!(
                "--out {named} is a directory bundle did not write (it has no {MARKER}), and bundle replaces --out whole: name a new or empty directory"
            )));
        }
    }
    Ok(real)
}

/// Moves `from` to `to`, replacing an earlier package directory there. The
/// earlier package is first moved onto a new empty directory of a name no
/// one else has (`atomic::TEMPORARY_PREFIX` and random letters, beside
/// `to`), so nothing but `to` is ever replaced or removed.
fn replace_dir(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        let parent = to.parent().unwrap_or(Path::new("."));
        let old = tempfile::Builder::new()
            .prefix(atomic::TEMPORARY_PREFIX)
            .tempdir_in(parent)
            .map_err(|e| AuditError::io(parent, e))?
            .keep();
        // rename(2) replaces an empty directory.
        std::fs::rename(to, &old).map_err(|e| AuditError::io(to, e))?;
        std::fs::rename(from, to).map_err(|e| AuditError::io(to, e))?;
        std::fs::remove_dir_all(&old).map_err(|e| AuditError::io(&old, e))?;
    } else {
        std::fs::rename(from, to).map_err(|e| AuditError::io(to, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::hashed_name;

    #[test]
    fn hashed_names_keep_the_version_suffix() {
        let name = hashed_name("libz.so.1", b"content");
        assert!(
            name.starts_with("libz-")
                && name.ends_with(".so.1")
                && name.len() == "libz-12345678.so.1".len()
        );
        assert_eq!(
            name,
            hashed_name("libz.so.1", b"content"),
            "the name depends on the content only"
        );
        assert_ne!(name, hashed_name("libz.so.1", b"other content"));
    }
}
