//! `check` over the combinations of `--profile` and `--arch`: one run's
//! options (`CheckRun`), each combination judged, and a matrix's text and
//! JSON. Part of the binary (it prints through `main`'s `emit` and `note`);
//! `main.rs` parses the command line and dispatches.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::rc::Rc;

use lambda_audit::check::{check_read, Artifact, Report};
use lambda_audit::error::{shown, AuditError, Result};
use lambda_audit::layers::Layers;
use lambda_audit::lifecycle::{deprecation, Deprecation};
use lambda_audit::package::{check_opened, Package, LAYER_ROOT};
use lambda_audit::profile::{LambdaArch, Profile};
use lambda_audit::report;
use lambda_audit::resolve::TaskDir;
use lambda_audit::unzip;

use crate::{check_bundle_dir, check_single_file, emit, note, stdout_error};

/// Every (profile, architecture) pair of `check`'s options, in the order
/// given (profiles outside, architectures inside); no `--arch`: each
/// profile's own (x86_64 for a built-in name).
pub fn combinations(
    profiles: &[String],
    arches: &[LambdaArch],
) -> Vec<(String, Option<LambdaArch>)> {
    let arches: Vec<Option<LambdaArch>> = if arches.is_empty() {
        vec![None]
    } else {
        arches.iter().copied().map(Some).collect()
    };
    let mut all = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for profile in profiles {
        for arch in &arches {
            if seen.insert((same_profile(profile), arch.map(LambdaArch::name))) {
                all.push((profile.clone(), *arch));
            }
        }
    }
    all
}

/// What tells one `--profile` from another: a built-in name, or a profile
/// file by its real path, so that spellings of one file (`p.json`,
/// `./p.json`, a link to it) are one profile, read once (1,000 spellings
/// were 1,000 combinations, 904 MiB); a path that does not resolve as given.
fn same_profile(given: &str) -> PathBuf {
    let builtin = lambda_audit::profile::BUILTIN
        .iter()
        .any(|(name, _)| *name == given);
    match builtin {
        true => PathBuf::from(given),
        false => std::fs::canonicalize(given).unwrap_or_else(|_| PathBuf::from(given)),
    }
}

/// `check`'s options that are the same for every combination.
pub struct CheckOptions {
    pub bundle_dir: Option<PathBuf>,
    /// `--layer`: the artifacts are layers, placed at /opt.
    pub layer: bool,
    pub json: bool,
    /// The date deprecation is judged at (`YYYY-MM-DD`).
    pub today: String,
}

/// One `check` run's options, the same for every combination.
pub struct CheckRun {
    bundle_dir: Option<PathBuf>,
    layer: bool,
    /// The function's layers (`--with-layer`), unpacked once for every combination.
    layers: Option<Layers>,
    json: bool,
    artifacts: Vec<PathBuf>,
    /// More than one combination: what is read of an artifact, which
    /// does not depend on the profile, is kept for the others.
    matrix: bool,
    /// Each single-file artifact as read by the first combination (a matrix's).
    read: Vec<OnceCell<Rc<Artifact>>>,
    /// Each package (a directory or zip) as opened by the first combination
    /// (a matrix's): a zip is unpacked once.
    opened: Vec<OnceCell<Rc<Package>>>,
    today: String,
    /// The runtimes whose deprecation was told (once each, not once per architecture).
    warned: std::cell::RefCell<Vec<String>>,
}

/// What one combination of a matrix came to.
enum Judged {
    /// Lambda has no such runtime (python3.6 on arm64): why, in a line.
    Impossible(String),
    Reports {
        profile: String,
        arch: String,
        deprecation: Option<Deprecation>,
        reports: Vec<Report>,
    },
    /// The package holds nothing this runtime loads (a Node.js package
    /// under python3.12): why, in a line; it does not load there.
    NoEntryPoint {
        profile: String,
        arch: String,
        why: String,
    },
}

impl CheckRun {
    /// A run of `artifacts` (with `layers`, unpacked once), over one
    /// combination or several (`matrix`).
    pub fn new(
        options: CheckOptions,
        layers: Option<Layers>,
        artifacts: Vec<PathBuf>,
        matrix: bool,
    ) -> CheckRun {
        CheckRun {
            bundle_dir: options.bundle_dir,
            layer: options.layer,
            layers,
            json: options.json,
            matrix,
            read: artifacts.iter().map(|_| Default::default()).collect(),
            opened: artifacts.iter().map(|_| Default::default()).collect(),
            artifacts,
            today: options.today,
            warned: Default::default(),
        }
    }

    /// Every artifact judged in `profile`, each report given to `sink` as it is made.
    fn judge(&self, profile: &Profile, sink: &mut dyn FnMut(Report) -> Result<()>) -> Result<()> {
        let place = if self.layer {
            LAYER_ROOT
        } else {
            profile.task_root.as_str()
        };
        // One task directory for every artifact: the package's libraries
        // are listed and read once per run, not once per artifact.
        let task = TaskDir::new(&profile.task_root, self.bundle_dir.as_deref());
        for (index, artifact) in self.artifacts.iter().enumerate() {
            if artifact.is_dir() || unzip::is_zip(artifact) {
                let layers = self.layers.as_ref();
                let opened = self.kept(&self.opened[index], || {
                    let package = Package::open(artifact, layers)?;
                    Ok(if self.matrix {
                        package.shared()
                    } else {
                        package
                    })
                })?;
                let skipped = check_opened(profile, &opened, place, layers, &mut |r| sink(r))?;
                for skip in &skipped {
                    note(&format!("check: {skip}"));
                }
            } else {
                let read = self.kept(&self.read[index], || {
                    check_single_file(artifact, self.layer)?;
                    Artifact::read(artifact)
                })?;
                sink(check_read(profile, &task, artifact, &read)?)?;
            }
        }
        Ok(())
    }

    /// What `cell` holds, made by `make` the first time; kept for the
    /// other combinations of a matrix (without one, dropped once used, so
    /// that memory and disk do not grow with the number of artifacts).
    fn kept<T>(&self, cell: &OnceCell<Rc<T>>, make: impl FnOnce() -> Result<T>) -> Result<Rc<T>> {
        if let Some(kept) = cell.get() {
            return Ok(kept.clone());
        }
        let made = Rc::new(make()?);
        if self.matrix {
            let _ = cell.set(made.clone());
        }
        Ok(made)
    }

    /// The deprecation of `profile`'s runtime at the run's date, told on
    /// standard error once per runtime.
    fn deprecation(&self, profile: &Profile) -> Option<Deprecation> {
        let found = deprecation(&profile.name, profile.runtime.as_ref(), &self.today);
        if let Some(d) = &found {
            let mut warned = self.warned.borrow_mut();
            if !warned.contains(&d.runtime) {
                note(&d.line());
                warned.push(d.runtime.clone());
            }
        }
        found
    }

    /// One profile and architecture: the reports as they are made.
    pub fn one(&self, name: &str, arch: Option<LambdaArch>) -> Result<u8> {
        let profile = Profile::load_for(name, arch)?;
        check_bundle_dir(self.bundle_dir.as_deref())?;
        let deprecated = self.deprecation(&profile);
        let mut printed = Printed::new(self.json, &profile.name, profile.lambda_arch(), deprecated);
        self.judge(&profile, &mut |r| printed.report(r))?;
        let loads = printed.finish()?;
        // Freeing the facts of a large library string by string costs
        // more than reading them, and the process ends right after this.
        std::mem::forget(profile);
        Ok(if loads { 0 } else { 1 })
    }

    /// Several combinations: each judged, then a line each and the
    /// reports under a header (or one JSON document); 0 only if every
    /// combination Lambda has loads, 2 if it has none of them.
    pub fn matrix(&self, combinations: &[(String, Option<LambdaArch>)]) -> Result<u8> {
        check_bundle_dir(self.bundle_dir.as_deref())?;
        let mut judged = Vec::new();
        for (name, arch) in combinations {
            judged.push(self.combination(name, *arch)?);
        }
        let nothing = |j: &Judged| matches!(j, Judged::Impossible(_) | Judged::NoEntryPoint { .. });
        if judged.iter().all(nothing) {
            let why: Vec<String> = judged
                .iter()
                .filter_map(|j| match j {
                    Judged::Impossible(why) | Judged::NoEntryPoint { why, .. } => Some(why.clone()),
                    Judged::Reports { .. } => None,
                })
                .collect();
            if judged
                .iter()
                .any(|j| matches!(j, Judged::NoEntryPoint { .. }))
            {
                // Nothing any runtime would load: bad input, as for one.
                return Err(AuditError::NoEntryPoint(why.join("; ")));
            }
            return Err(AuditError::Usage(format!(
                "no combination of --profile and --arch exists: {}",
                why.join("; ")
            )));
        }
        let loads = judged.iter().all(combination_loads);
        if self.json {
            emit(&report::matrix_json(&matrix_entries(&judged), loads))?;
        } else {
            emit(&matrix_text(&judged))?;
        }
        // As `one`'s profile: the reports (every combination's closures and
        // findings, and the artifacts' facts they share) would be freed
        // string by string just before the process ends. They hold no
        // file or directory (those are the run's, removed as it ends).
        std::mem::forget(judged);
        Ok(if loads { 0 } else { 1 })
    }

    /// One combination's reports, or why Lambda has no such runtime (a
    /// profile that exists, but not for `arch`); any other bad input is
    /// the run's error.
    fn combination(&self, name: &str, arch: Option<LambdaArch>) -> Result<Judged> {
        let profile = match Profile::load_for(name, arch) {
            Ok(profile) => profile,
            Err(e) if Profile::load(name).is_ok() => return Ok(Judged::Impossible(e.to_string())),
            Err(e) => return Err(e),
        };
        let deprecation = self.deprecation(&profile);
        let mut reports = Vec::new();
        let judged = self.judge(&profile, &mut |r| {
            reports.push(r);
            Ok(())
        });
        if let Err(AuditError::NoEntryPoint(why)) = judged {
            return Ok(Judged::NoEntryPoint {
                profile: profile.name.clone(),
                arch: profile.lambda_arch().to_string(),
                why,
            });
        }
        judged?;
        let judged = Judged::Reports {
            profile: profile.name.clone(),
            arch: profile.lambda_arch().to_string(),
            deprecation,
            reports,
        };
        std::mem::forget(profile);
        Ok(judged)
    }
}

/// Whether a combination does not stop the run from loading (one Lambda
/// does not have never runs the artifact).
fn combination_loads(judged: &Judged) -> bool {
    match judged {
        Judged::Impossible(_) => true,
        Judged::Reports { reports, .. } => reports.iter().all(Report::loads),
        Judged::NoEntryPoint { .. } => false,
    }
}

/// The matrix as text: a line per combination, then each one's reports.
fn matrix_text(judged: &[Judged]) -> String {
    let mut out = String::new();
    for j in judged {
        out.push_str(&match j {
            Judged::Impossible(why) => {
                format!("{}\n", report::one_line(&format!("no such runtime: {why}")))
            }
            Judged::NoEntryPoint { profile, arch, why } => format!(
                "{} {arch}: WILL NOT LOAD: {}\n",
                shown(profile),
                report::one_line(why)
            ),
            Judged::Reports {
                profile,
                arch,
                reports,
                ..
            } => match reports.iter().find(|r| !r.loads()) {
                None => format!("{} {arch}: loads\n", shown(profile)),
                Some(bad) => format!(
                    "{} {arch}: WILL NOT LOAD: {}\n",
                    shown(profile),
                    report::first_reason(bad)
                ),
            },
        });
    }
    for j in judged {
        if let Judged::Reports {
            profile,
            arch,
            reports,
            ..
        } = j
        {
            out.push_str(&format!("\n== {} {arch} ==\n", shown(profile)));
            for r in reports {
                out.push_str(&report::human(r));
            }
        }
    }
    out
}

/// The matrix's combinations for `report::matrix_json`.
fn matrix_entries(judged: &[Judged]) -> Vec<report::Combination<'_>> {
    judged
        .iter()
        .map(|j| match j {
            Judged::Impossible(why) => report::Combination::Impossible(why),
            Judged::NoEntryPoint { profile, arch, why } => {
                report::Combination::NoEntryPoint { profile, arch, why }
            }
            Judged::Reports {
                profile,
                arch,
                deprecation,
                reports,
            } => report::Combination::Judged {
                profile,
                arch,
                deprecation: deprecation.as_ref(),
                reports,
            },
        })
        .collect()
}

/// Where `check` prints each report as soon as it is made: as text, or
/// into the streamed JSON document. Memory does not grow with the reports.
enum Printed {
    Text { loads: bool },
    Json(Box<report::JsonStream<std::io::BufWriter<std::io::Stdout>>>),
}

impl Printed {
    fn new(json: bool, profile: &str, arch: &str, deprecated: Option<Deprecation>) -> Printed {
        if json {
            let out = std::io::BufWriter::new(std::io::stdout());
            let stream = report::JsonStream::new(out, profile, arch).deprecated(deprecated);
            Printed::Json(Box::new(stream))
        } else {
            Printed::Text { loads: true }
        }
    }

    fn report(&mut self, r: Report) -> Result<()> {
        match self {
            Printed::Text { loads } => {
                *loads &= r.loads();
                emit(&report::human(&r))
            }
            Printed::Json(stream) => stream.artifact(&r).map_err(stdout_error),
        }
    }

    /// Whether every artifact loads.
    fn finish(self) -> Result<bool> {
        match self {
            Printed::Text { loads } => Ok(loads),
            Printed::Json(stream) => stream.finish().map_err(stdout_error),
        }
    }
}
