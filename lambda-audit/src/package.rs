//! Auditing a whole package directory, as `zip` does before it writes and
//! `check DIR|PACKAGE.zip` does for a package or layer made elsewhere.
//!
//! The package's entry points (Python modules exporting their init function,
//! or programs, per the profile) are audited as artifacts, with their
//! libraries in the package resolved where the runtime finds them. Libraries
//! no entry point reaches are audited on their own, as libraries. Each file
//! is named by the Python distribution that installed it, where a
//! `*.dist-info/RECORD` says so.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::archive::{Entry, MAX_UNZIPPED};
use crate::atomic::PrivateDir;
use crate::bounded;
use crate::check::{check_read, Artifact, Finding, Report};
use crate::error::{shown, AuditError, Result};
use crate::layers::Layers;
use crate::loaders::{Choice, Manifests, Target};
use crate::profile::{LambdaArch, Profile};
use crate::resolve::{Source, TaskDir};

/// What a package's files are judged with: the profile, the task
/// directory, and how an ELF file is read (afresh, or once for every
/// combination of a matrix, `Package::read`).
pub struct Audit<'a> {
    profile: &'a Profile,
    task: &'a TaskDir,
    read: &'a dyn Fn(&Path) -> Result<Rc<Artifact>>,
}

/// An ELF file read for one check.
fn read_afresh(file: &Path) -> Result<Rc<Artifact>> {
    Artifact::read(file).map(Rc::new)
}

impl<'a> Audit<'a> {
    /// Judging in `profile` with `task`, each file read afresh.
    pub fn new(profile: &'a Profile, task: &'a TaskDir) -> Audit<'a> {
        Audit {
            profile,
            task,
            read: &read_afresh,
        }
    }

    /// `check_in` of `file`, read through `read`.
    fn check(&self, file: &Path) -> Result<Report> {
        check_read(self.profile, self.task, file, &*(self.read)(file)?)
    }

    /// Audits every ELF file of `entries`, files of the package seen as `task`
    /// (shown as `named`; its layers' files too, with layers), handing
    /// each report to `each` as soon as it is made, so memory does not grow with
    /// the number of files; returns one line for each ELF-looking file that was
    /// passed over: a file no entry point reaches that the loader could never
    /// load anyway (malformed, or of an architecture Lambda does not have, as
    /// wheels sometimes carry a 32-bit helper) does not block the package,
    /// since the runtime never opens it. A file built for Lambda's other
    /// architecture (x86_64 in an arm64 package, aarch64 in an x86_64 one) is
    /// reported with its `wrong-arch` error instead, entry point or not: the
    /// package was made for the other CPU (a wheel installed for the build
    /// machine's platform), and each such file is named with its distribution.
    /// A layer need not hold an entry point (a layer of libraries is the usual
    /// kind): `entry_point_required` is false for one, and its libraries are
    /// all judged on their own.
    ///
    /// Two steps: the entry points (reported at once, their closures noted),
    /// then the libraries none of them reaches, checked again on their own (a
    /// library's report is not kept meanwhile).
    pub fn package(
        &self,
        named: &Path,
        entries: &[Entry],
        entry_point_required: bool,
        shown_as: &dyn Fn(&Path) -> PathBuf,
        each: &mut dyn FnMut(Report) -> Result<()>,
    ) -> Result<Vec<String>> {
        let profile = self.profile;
        let mut skipped = Vec::new();
        let found = entry_points(self, entries, &mut skipped, shown_as, each)?;
        if found.entry_points == 0 && entry_point_required && found.other_cpu == 0 {
            return Err(no_entry_point(profile, named, &found.foreign));
        }
        for library in &found.libraries {
            let canonical =
                std::fs::canonicalize(library).unwrap_or_else(|_| library.to_path_buf());
            if found.reached.contains(&canonical) {
                continue;
            }
            let mut report = self.check(library)?;
            match wrong_arch(&report) {
                // Built for Lambda's other CPU: named, as the error it is.
                Some(arch) if is_lambda_arch(arch) => {
                    each(report)?;
                    continue;
                }
                // Unreached and of another architecture: the runtime never loads it.
                Some(_) => {
                    skipped.push(format!(
                        "skipped {}: another architecture, and no entry point loads it",
                        shown(shown_as(library))
                    ));
                    continue;
                }
                None => {}
            }
            // Judged on its own needs: without the findings that only say it
            // is not an entry point.
            report
                .findings
                .retain(|f| !matches!(f, Finding::NotLoadable { .. }));
            each(report)?;
        }
        Ok(skipped)
    }
}

/// The architecture a report's `wrong-arch` finding found, if it has one.
fn wrong_arch(report: &Report) -> Option<&str> {
    report.findings.iter().find_map(|f| match f {
        Finding::WrongArch { found, .. } => Some(found.as_str()),
        _ => None,
    })
}

/// Whether an ELF architecture (its name) is one Lambda runs functions on.
fn is_lambda_arch(arch: &str) -> bool {
    LambdaArch::ALL.iter().any(|a| a.elf().name() == arch)
}

/// What the first step of `Audit::package` leaves for the second.
struct EntryPoints<'e> {
    entry_points: usize,
    /// Every file of the package some entry point's closure loads (canonical).
    reached: HashSet<PathBuf>,
    /// The ELF files that are no entry point.
    libraries: Vec<&'e Path>,
    /// `FILE is ARCH`, for each of those of another architecture.
    foreign: Vec<String>,
    /// How many of those are of Lambda's other architecture.
    other_cpu: usize,
}

/// The package's entry points, each reported through `each` at once.
fn entry_points<'e>(
    audit: &Audit,
    entries: &'e [Entry],
    skipped: &mut Vec<String>,
    shown_as: &dyn Fn(&Path) -> PathBuf,
    each: &mut dyn FnMut(Report) -> Result<()>,
) -> Result<EntryPoints<'e>> {
    let mut found = EntryPoints {
        entry_points: 0,
        reached: HashSet::new(),
        libraries: Vec::new(),
        foreign: Vec::new(),
        other_cpu: 0,
    };
    for file in entries.iter().filter(|e| e.elf).map(|e| e.file.as_path()) {
        let report = match audit.check(file) {
            Ok(report) => report,
            // Not a file the loader can read: an entry point it cannot be,
            // and one that is needed shows as broken in that closure.
            Err(e @ (AuditError::MalformedElf { .. } | AuditError::NotElf { .. })) => {
                let name = shown_as(file);
                skipped.push(format!("skipped {}: {}", shown(&name), e.naming(name)));
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut not_an_entry_point = false;
        for finding in &report.findings {
            match finding {
                Finding::WrongArch { found: arch, .. } => {
                    found.foreign.push(format!("{} is {}", shown(file), arch));
                    found.other_cpu += usize::from(is_lambda_arch(arch));
                    not_an_entry_point = true;
                }
                Finding::NotLoadable { .. } => not_an_entry_point = true,
                _ => {}
            }
        }
        if not_an_entry_point {
            found.libraries.push(file);
            continue;
        }
        let closure = report.closure.iter().flat_map(|c| c.objects.iter());
        found
            .reached
            .extend(closure.filter_map(|o| match &o.source {
                Source::Local(p) => Some(p.clone()),
                _ => None,
            }));
        found.entry_points += 1;
        each(report)?;
    }
    Ok(found)
}

/// The refusal of a package without an entry point, naming the package as
/// the person gave it (never the private directory a zip was unpacked in).
fn no_entry_point(profile: &Profile, named: &Path, foreign: &[String]) -> AuditError {
    let what = match profile.host.as_ref() {
        Some(host) if host.node_module_version.is_some() => {
            "a Node.js addon (a .node file)".to_string()
        }
        Some(host) => match &host.module_init_prefix {
            Some(prefix) => {
                format!("a Python extension module (a .so exporting {prefix}<its name>)")
            }
            None => "an executable".to_string(),
        },
        None => "an executable".to_string(),
    };
    let also = if foreign.is_empty() {
        String::new()
    } else {
        format!(" ({}; the runtime is {})", foreign.join(", "), profile.arch)
    };
    AuditError::NoEntryPoint(format!(
        "{} holds no entry point for {}: expected {}{}",
        shown(named),
        shown(&profile.name),
        what,
        also
    ))
}

pub use crate::resolve::LAYER_ROOT;

/// `check` of a deployment package or layer (a directory, or a zip unpacked
/// into a private temporary directory): every ELF file in it, judged where
/// the runtime places the package (`place`), each named by the Python
/// distribution that installed it when a `*.dist-info/RECORD` says so, and
/// handed to `each` as soon as it is made. Returns the lines for what was
/// passed over.
pub fn check_package(
    profile: &Profile,
    package: &Path,
    place: &str,
    each: &mut dyn FnMut(Report) -> Result<()>,
) -> Result<Vec<String>> {
    check_opened(profile, &Package::open(package, None)?, place, None, each)
}

/// `check_package` of a function with its layers at /opt: every ELF file
/// of both judged in the one process the runtime makes of them, a layer's
/// file named by its layer.
pub fn check_with_layers(
    profile: &Profile,
    package: &Path,
    layers: &Layers,
    each: &mut dyn FnMut(Report) -> Result<()>,
) -> Result<Vec<String>> {
    let opened = Package::open(package, Some(layers))?;
    check_opened(profile, &opened, &profile.task_root, Some(layers), each)
}

/// A package as it is judged: a directory, or a zip's private unpacked
/// copy (removed when this is dropped). Opened once, it serves every
/// profile of a matrix.
pub struct Package {
    path: PathBuf,
    unpacked: Option<PrivateDir>,
    /// Its files, listed once for every combination of a matrix.
    entries: OnceCell<Vec<Entry>>,
    /// Which npm package or Python distribution installed each file (by
    /// its path in the package), found once.
    owners: OnceCell<HashMap<String, String>>,
    /// Its package.json files, read once for the loaders' choice of every runtime.
    manifests: OnceCell<Manifests>,
    /// The task directory of each place the package was judged at (its
    /// libraries listed once, whatever the runtime).
    tasks: RefCell<Vec<(String, Rc<TaskDir>)>>,
    /// `Some` when the package serves several combinations (`shared`): each
    /// ELF file as read by the first, for the others.
    read: Option<RefCell<HashMap<PathBuf, Rc<Artifact>>>>,
}

impl Package {
    /// `package` (a directory or a zip), to be judged with `layers`: a zip
    /// is unpacked within what the layers leave of Lambda's limit.
    pub fn open(package: &Path, layers: Option<&Layers>) -> Result<Package> {
        Ok(Package {
            path: package.to_path_buf(),
            unpacked: unpack(package, layers)?,
            entries: Default::default(),
            owners: Default::default(),
            manifests: Default::default(),
            tasks: Default::default(),
            read: None,
        })
    }

    /// This package, to be judged in several combinations (a matrix's): each
    /// ELF file is read and parsed once, and kept for the others (what is
    /// read of a file does not depend on the runtime). Without it, a file's
    /// facts are dropped once it is judged, so memory does not grow with
    /// the package's files.
    pub fn shared(mut self) -> Package {
        self.read = Some(Default::default());
        self
    }

    /// `file` read (its ELF facts), once if the package is `shared`.
    fn read(&self, file: &Path) -> Result<Rc<Artifact>> {
        let Some(kept) = &self.read else {
            return Artifact::read(file).map(Rc::new);
        };
        if let Some(read) = kept.borrow().get(file) {
            return Ok(read.clone());
        }
        let read = Rc::new(Artifact::read(file)?);
        kept.borrow_mut().insert(file.to_path_buf(), read.clone());
        Ok(read)
    }

    /// The task directory at `place` over the package's directory `dir`
    /// (and the layers' at /opt), made once for each place.
    fn task(&self, place: &str, dir: &Path, layers: Option<&Layers>) -> Rc<TaskDir> {
        let mut tasks = self.tasks.borrow_mut();
        if let Some((_, task)) = tasks.iter().find(|(p, _)| p == place) {
            return task.clone();
        }
        let mut task = TaskDir::new(place, Some(dir));
        if let Some(layers) = layers {
            task = task.with_layers(layers.dir());
        }
        let task = Rc::new(task);
        tasks.push((place.to_string(), task.clone()));
        task
    }

    /// The directory the package's files are in: the directory given, or
    /// the zip's private unpacked copy.
    pub fn dir(&self) -> &Path {
        self.unpacked.as_ref().map_or(&self.path, |d| d.path())
    }

    /// Its files (`archive::list_beside` of its directory, or of the zip's
    /// copy, over the layers merged in `opt`), listed once: a package is
    /// opened with one set of layers, so every check of it sees the same.
    fn entries(&self, dir: &Path, opt: Option<&Path>) -> Result<&[Entry]> {
        if self.entries.get().is_none() {
            let _ = self.entries.set(crate::archive::list_beside(dir, opt)?);
        }
        Ok(self.entries.get().map_or(&[], Vec::as_slice))
    }
}

/// `check_package` (no layers) or `check_with_layers` of a package
/// already opened (with the same layers).
pub fn check_opened(
    profile: &Profile,
    opened: &Package,
    place: &str,
    layers: Option<&Layers>,
    each: &mut dyn FnMut(Report) -> Result<()>,
) -> Result<Vec<String>> {
    let package = opened.path.as_path();
    let unpacked = opened.unpacked.as_ref();
    let dir = unpacked.map_or(package, |d| d.path());
    // A zip's links into /opt lead to the layers' files.
    let entries = opened.entries(dir, layers.map(Layers::dir))?;
    check_runnable(profile, package, place, entries, layers)?;
    let placed = Profile {
        task_root: place.to_string(),
        ..profile.clone()
    };
    let task = opened.task(place, dir, layers);
    let root = std::fs::canonicalize(dir).map_err(|e| AuditError::io(dir, e))?;
    let owners = opened.owners.get_or_init(|| {
        let mut owners = crate::npm::npm_packages(&root, entries);
        owners.extend(distributions(&root, entries));
        owners
    });
    let in_layers = layers.map(InLayers::new).transpose()?;
    let mut named = |mut report: Report| {
        report.profile = profile.name.clone();
        if let Some(rel) = relative(&report.artifact, &root) {
            report.distribution = owners.get(&rel).cloned().or(report.distribution);
            // A file of a zip is named inside it: PACKAGE.zip!/path.
            if unpacked.is_some() {
                report.artifact = PathBuf::from(format!("{}!/{rel}", package.display()));
            }
        } else if let Some(in_layers) = &in_layers {
            in_layers.name(&mut report);
        }
        each(report)
    };
    // A file skipped is named as a report on it would be: inside its zip
    // or its layer, not by the path of our private copy.
    let layers_root = in_layers.as_ref().map(|l| l.root.as_path());
    let shown_as = |file: &Path| -> PathBuf {
        let inside = |base: &Path| relative(file, base);
        if let Some(rel) = inside(dir).or_else(|| inside(&root)) {
            return match unpacked {
                Some(_) => PathBuf::from(format!("{}!/{rel}", package.display())),
                None => file.to_path_buf(),
            };
        }
        let in_layer = layers.and_then(|l| {
            let rel = inside(l.dir()).or_else(|| layers_root.and_then(inside))?;
            l.shown_file(&rel)
        });
        in_layer.unwrap_or_else(|| file.to_path_buf())
    };
    // A Node.js package's prebuilds for other platforms, CPUs, libcs and
    // ABIs are never opened there: said, not judged.
    let target = profile
        .host
        .as_ref()
        .and_then(|h| h.node_module_version)
        .map(|abi| Target::new(&profile.arch, abi));
    // The function's own, and its layers' at /opt (node_modules under
    // /opt/nodejs/…), each chosen among its own tree's files.
    let choice = match &target {
        Some(target) => {
            let manifests = opened
                .manifests
                .get_or_init(|| Manifests::read(&root, entries));
            crate::loaders::choose(&root, entries, manifests, target)
        }
        None => Choice::default(),
    };
    let layer_choice = match (layers, &in_layers, &target) {
        (Some(layers), Some(in_layers), Some(target)) => {
            let manifests = Manifests::read(&in_layers.root, layers.entries());
            crate::loaders::choose(&in_layers.root, layers.entries(), &manifests, target)
        }
        _ => Choice::default(),
    };
    let layer_entries = layers.map_or(&[][..], Layers::entries);
    let loaded: Vec<Entry> = (entries.iter())
        .filter(|e| !choice.never_opened.contains_key(&e.name))
        .chain(
            layer_entries
                .iter()
                .filter(|e| !layer_choice.never_opened.contains_key(&e.name)),
        )
        .cloned()
        .collect();
    let claimed = !(choice.is_empty() && layer_choice.is_empty());
    // A function package without an entry point is nothing to judge: bad
    // input; unless a loader finds no file for the runtime, which is a verdict.
    let required = place != LAYER_ROOT;
    let mut reported = 0usize;
    let mut counted = |report: Report| {
        reported += 1;
        named(report)
    };
    let refused = |e| match e {
        AuditError::Refused(why) => AuditError::Usage(why),
        e => e,
    };
    let audit = Audit {
        profile: &placed,
        task: &task,
        read: &|file| opened.read(file),
    };
    let skipped = audit
        .package(
            package,
            &loaded,
            required && !claimed,
            &shown_as,
            &mut counted,
        )
        .map_err(refused)?;
    let none_missing = choice.no_variant.is_empty() && layer_choice.no_variant.is_empty();
    if required && reported == 0 && none_missing && claimed {
        // Nothing left that a loader opens: the files are judged as they
        // are (a function installed for another machine is named by its
        // files' errors, `wrong-arch` for the other CPU).
        let mut all = entries.to_vec();
        all.extend_from_slice(layer_entries);
        return (audit.package(package, &all, true, &shown_as, &mut named)).map_err(refused);
    }
    let mut trees = vec![(choice, root.clone(), place)];
    if let Some(in_layers) = &in_layers {
        trees.push((layer_choice, in_layers.root.clone(), LAYER_ROOT));
    }
    for (choice, root, place) in trees {
        for (dir_in_package, reason) in choice.no_variant {
            let fallback = choice.fallback.contains(&dir_in_package);
            let missing = Some((reason, fallback));
            let report = loader_report(&placed, &root, &dir_in_package, place, None, missing);
            named(report)?;
        }
        for (name, why) in choice.never_opened {
            named(loader_report(&placed, &root, &name, place, Some(why), None))?;
        }
    }
    Ok(skipped)
}

/// The report on a file a Node.js package's loader never opens
/// (`never_opened`), or on a package whose loader finds no file for the
/// runtime (`missing`, a `missing-variant` error).
fn loader_report(
    profile: &Profile,
    root: &Path,
    name: &str,
    place: &str,
    never_opened: Option<String>,
    missing: Option<(String, bool)>,
) -> Report {
    let findings = missing
        .map(|(reason, fallback)| Finding::MissingVariant {
            package: if name.is_empty() {
                ".".into()
            } else {
                name.into()
            },
            reason,
            fallback,
        })
        .into_iter()
        .collect();
    Report {
        artifact: root.join(name),
        runtime_path: if name.is_empty() {
            place.to_string()
        } else {
            format!("{place}/{name}")
        },
        profile: profile.name.clone(),
        arch: profile.arch.clone(),
        findings,
        closure: None,
        unverified_symbols: 0,
        // A package is named by its own package.json.
        distribution: crate::npm::package_named(&root.join(name).join("package.json")),
        openssl: Default::default(),
        layer: None,
        never_opened,
    }
}

/// A zip's private unpacked copy (None for a directory), within what the
/// layers leave of Lambda's limit: their bytes count against it too.
fn unpack(package: &Path, layers: Option<&Layers>) -> Result<Option<PrivateDir>> {
    if package.is_dir() {
        return Ok(None);
    }
    let Some(layers) = layers else {
        return Ok(Some(crate::unzip::unpack_within(package, MAX_UNZIPPED)?.0));
    };
    let room = MAX_UNZIPPED.saturating_sub(layers.unzipped());
    Ok(Some(
        crate::unzip::unpack_over_layers(package, room, layers.dir())?.0,
    ))
}

/// What the runtime must be able to open and run, before any file is
/// judged: every file readable by others (the layers' too), and for an
/// OS-only runtime the function package's bootstrap (or, without one, its
/// layers'), which is all it runs.
fn check_runnable(
    profile: &Profile,
    package: &Path,
    place: &str,
    entries: &[Entry],
    layers: Option<&Layers>,
) -> Result<()> {
    check_readable(package, entries)?;
    if let Some(layers) = layers {
        check_layers_readable(layers)?;
    }
    if profile.host.is_none() && place != LAYER_ROOT {
        check_bootstrap(profile, package, entries, layers)?;
    }
    Ok(())
}

/// `file`'s path under `root`, as `Entry::name` has it.
fn relative(file: &Path, root: &Path) -> Option<String> {
    file.strip_prefix(root)
        .ok()
        .and_then(Path::to_str)
        .map(String::from)
}

/// What names a report on a file of a function's layers.
struct InLayers<'l> {
    layers: &'l Layers,
    root: PathBuf,
    owners: HashMap<String, String>,
}

impl<'l> InLayers<'l> {
    fn new(layers: &'l Layers) -> Result<InLayers<'l>> {
        let root =
            std::fs::canonicalize(layers.dir()).map_err(|e| AuditError::io(layers.dir(), e))?;
        let mut owners = crate::npm::npm_packages(&root, layers.entries());
        owners.extend(distributions(&root, layers.entries()));
        Ok(InLayers {
            layers,
            root,
            owners,
        })
    }

    /// A report on a file at /opt names its layer, and the file as that
    /// layer holds it (`LAYER.zip!/lib/x.so`), so a person knows which to fix.
    fn name(&self, report: &mut Report) {
        let Some(rel) = relative(&report.artifact, &self.root) else {
            return;
        };
        report.distribution = self
            .owners
            .get(&rel)
            .cloned()
            .or(report.distribution.take());
        report.layer = self.layers.layer_of(&rel).map(|l| l.display().to_string());
        if let Some(shown) = self.layers.shown_file(&rel) {
            report.artifact = shown;
        }
    }
}

/// `check_readable` of each layer's files, naming the layer.
fn check_layers_readable(layers: &Layers) -> Result<()> {
    for entry in layers.entries() {
        if let Some(layer) = layers.layer_of(&entry.name) {
            check_readable(layer, std::slice::from_ref(entry))?;
        }
    }
    Ok(())
}

/// Lambda runs the function as a user that owns none of its files, so the
/// loader can open only what others may read (AWS asks for global read
/// permissions): every ELF file and the bootstrap, by the file's own mode
/// (what the zip carried, for a zip).
fn check_readable(package: &Path, entries: &[Entry]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let unreadable = entries
        .iter()
        .filter(|e| e.elf || e.name == "bootstrap")
        .find_map(|e| {
            let mode = std::fs::metadata(&e.file).ok()?.permissions().mode();
            (mode & 0o004 == 0).then_some(e)
        });
    match unreadable {
        Some(entry) => Err(AuditError::Refused(format!(
            "{}: {} is not readable by others, and Lambda runs the function as a user that must read it: chmod o+r it (and a+r the package's other files) before zipping",
            shown(package),
            shown(&entry.name)
        ))),
        None => Ok(()),
    }
}

/// The function package of an OS-only runtime must have an executable
/// `bootstrap` at its root, judged by the file's own mode (`zip` stores any
/// ELF file 0755, other zippers keep the mode they find).
fn check_bootstrap(
    profile: &Profile,
    package: &Path,
    entries: &[Entry],
    layers: Option<&Layers>,
) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let runnable =
        |file: &Path| std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    let bootstrap = |entries: &[Entry]| entries.iter().find(|e| e.name == "bootstrap").cloned();
    // Without one in the package, Lambda runs /opt/bootstrap, a layer's.
    let found = bootstrap(entries).map(|b| (b, package)).or_else(|| {
        let layers = layers?;
        let b = bootstrap(layers.entries())?;
        Some((b, layers.layer_of("bootstrap")?))
    });
    match found {
        Some((bootstrap, _)) if runnable(&bootstrap.file) => Ok(()),
        Some((_, holder)) => Err(AuditError::Refused(format!(
            "{}: bootstrap is not executable, and {} runs it as the function's program: chmod +x it before zipping",
            shown(holder),
            profile.name
        ))),
        None => Err(AuditError::Refused(format!(
            "{}: no bootstrap at the package's root, which is what {} runs (Runtime.InvalidEntrypoint); name the program bootstrap",
            shown(package),
            profile.name
        ))),
    }
}

/// The longest RECORD (or METADATA) line read: a path of at most PATH_MAX
/// with its hash and size. A longer line names no file and is passed over.
const MAX_RECORD_LINE: usize = 8192;

/// Which Python distribution installed each file of a package, from the
/// `*.dist-info/RECORD` files `pip install --target` leaves (one CSV line per
/// installed file, its path relative to the directory holding the
/// dist-info). Keys are the files' paths in the package (`Entry::name`);
/// values `name version` from the dist-info's METADATA.
///
/// Bounded by the content: each RECORD is streamed line by line (a line over
/// `MAX_RECORD_LINE` is passed over, never held), and each line is resolved
/// lexically against the package's own files (no system call per line). A
/// line that is not UTF-8 is skipped alone, and a path the RECORD places
/// outside the package is ignored; a package without RECORDs gives an empty
/// map.
pub fn distributions(root: &Path, entries: &[Entry]) -> HashMap<String, String> {
    let files: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut owners = HashMap::new();
    for record in entries.iter().filter(|e| is_record(&e.name)) {
        let dist_info = record.name.rsplit_once('/').map_or("", |(dir, _)| dir);
        let site = dist_info.rsplit_once('/').map_or("", |(dir, _)| dir);
        let name = distribution_name(&root.join(dist_info));
        let Ok(file) = std::fs::File::open(&record.file) else {
            continue;
        };
        let _ = bounded::for_each_line(file, MAX_RECORD_LINE, |line| {
            let path = std::str::from_utf8(line).ok().and_then(first_csv_field);
            if let Some(installed) = path.and_then(|p| inside_package(site, &p)) {
                if files.contains(installed.as_str()) {
                    owners.entry(installed).or_insert_with(|| name.clone());
                }
            }
            true
        });
    }
    owners
}

/// `…/NAME.dist-info/RECORD`.
fn is_record(name: &str) -> bool {
    name.strip_suffix("/RECORD")
        .is_some_and(|dir| dir.ends_with(".dist-info"))
}

/// `path` (a RECORD's, relative to `site`) as a path in the package,
/// normalised lexically; None if it is absolute or climbs out.
fn inside_package(site: &str, path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in site.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `name version` from a dist-info's METADATA (its header, read within
/// bounds), else from its directory name.
pub(crate) fn distribution_name(dist_info: &Path) -> String {
    match distribution_fields(dist_info) {
        (name, Some(version)) => format!("{name} {version}"),
        (name, None) => name,
    }
}

/// The name and version of a dist-info's distribution: METADATA's `Name:`
/// and `Version:` (its header, read within bounds), else its directory's
/// `NAME-VERSION.dist-info` (no version if the name has no `-`).
pub(crate) fn distribution_fields(dist_info: &Path) -> (String, Option<String>) {
    let (mut name, mut version) = (None, None);
    if let Ok(file) = std::fs::File::open(dist_info.join("METADATA")) {
        let _ = bounded::for_each_line(file, MAX_RECORD_LINE, |line| {
            let line = String::from_utf8_lossy(line);
            let field = |key: &str| line.strip_prefix(key).map(|v| v.trim().to_string());
            name = name.take().or_else(|| field("Name:"));
            version = version.take().or_else(|| field("Version:"));
            !line.is_empty()
        });
    }
    match (name, version) {
        (Some(name), Some(version)) => (name, Some(version)),
        _ => {
            let dir = dist_info
                .file_name()
                .map(|n| {
                    n.to_string_lossy()
                        .trim_end_matches(".dist-info")
                        .to_string()
                })
                .unwrap_or_default();
            match dir.split_once('-') {
                Some((name, version)) => (name.to_string(), Some(version.to_string())),
                None => (dir, None),
            }
        }
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
