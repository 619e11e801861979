//! The `lambda-audit` command line. Exit status: 0 the artifacts load (or the
//! command did its job), 1 they will not load (or the result was refused),
//! 2 the input is unusable. Errors are one line, never a backtrace.

mod matrix;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use lambda_audit::archive;
use lambda_audit::bundle::{bundle, BundleOptions};
use lambda_audit::check::{check, Report};
use lambda_audit::error::{shown, without_controls, AuditError, Result};
use lambda_audit::layers::{self, Layers};
use lambda_audit::lifecycle::{date_of_day, is_date};
use lambda_audit::package::Audit;
use lambda_audit::profile::{LambdaArch, Profile, DEFAULT_PROFILE};
use lambda_audit::report;
use lambda_audit::resolve::TaskDir;
use lambda_audit::sbom::write_sbom;
use lambda_audit::scan::{scan, ScanOptions};

use lambda_audit::unzip;
use matrix::{combinations, CheckOptions, CheckRun};

#[derive(Parser)]
#[command(
    name = "lambda-audit",
    version,
    about = "Prove statically that an ELF artifact will load in an AWS Lambda runtime; bundle and zip it."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Judge whether each artifact will load in the runtime (exit 0 loads, 1 will not, 2 bad input).
    /// An ARTIFACT that is a directory or a .zip is a deployment package (or,
    /// with --layer, a layer): every ELF file in it is judged where the runtime
    /// places it.
    Check {
        /// A built-in profile name or a profile file; given more than once
        /// (with --arch more than once), every combination is judged and a
        /// matrix printed.
        #[arg(long, short, default_value = DEFAULT_PROFILE)]
        profile: Vec<String>,
        /// Lambda's architecture: x86_64 (the default, as Lambda's) or arm64.
        #[arg(long, value_name = "x86_64|arm64")]
        arch: Vec<LambdaArch>,
        /// The date deprecation is judged at (YYYY-MM-DD; default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<String>,
        /// The package directory the runtime sees as its task root (/var/task).
        #[arg(long)]
        bundle_dir: Option<PathBuf>,
        /// Packages given are layers, unpacked at /opt (not the function's /var/task).
        #[arg(long)]
        layer: bool,
        /// A layer of the function package (a .zip or a directory), judged
        /// with it; given more than once, unpacked at /opt in that order, a
        /// later layer's file replacing an earlier one's.
        #[arg(long = "with-layer", value_name = "LAYER")]
        with_layer: Vec<PathBuf>,
        /// Print the versioned JSON report (schema lambda-audit.check/1).
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        artifacts: Vec<PathBuf>,
    },
    /// Show the libraries the runtime would load, with the rule that finds each (a static ldd).
    Tree {
        #[arg(long, short, default_value = DEFAULT_PROFILE)]
        profile: String,
        /// Lambda's architecture: x86_64 (the default, as Lambda's) or arm64.
        #[arg(long, value_name = "x86_64|arm64")]
        arch: Option<LambdaArch>,
        #[arg(long)]
        bundle_dir: Option<PathBuf>,
        artifact: PathBuf,
    },
    /// List, show and scan runtime profiles.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Copy artifacts into DIR with every library the runtime lacks in DIR/lib, made unshadowable.
    Bundle {
        #[arg(long, short, default_value = DEFAULT_PROFILE)]
        profile: String,
        /// Lambda's architecture: x86_64 (the default, as Lambda's) or arm64.
        #[arg(long, value_name = "x86_64|arm64")]
        arch: Option<LambdaArch>,
        /// The package directory to write (replaced as a whole).
        #[arg(long)]
        out: PathBuf,
        /// Directories of this machine to take libraries from, searched first.
        #[arg(long = "library-path", value_delimiter = ':')]
        library_path: Vec<PathBuf>,
        #[arg(required = true)]
        artifacts: Vec<PathBuf>,
    },
    /// Write a CycloneDX 1.6 SBOM of a package (a .zip or a directory): its
    /// files, the crates, OpenSSL and zlib in its ELF files, its Python
    /// distributions and npm packages, and check's verdict (exit 0 whatever
    /// the verdict, 2 bad input).
    Sbom {
        /// A built-in profile name or a profile file: the runtime judged.
        #[arg(long, short, default_value = DEFAULT_PROFILE)]
        profile: String,
        /// Lambda's architecture: x86_64 (the default, as Lambda's) or arm64.
        #[arg(long, value_name = "x86_64|arm64")]
        arch: Option<LambdaArch>,
        /// A layer of the function (a .zip or a directory), listed at /opt;
        /// given more than once, merged in that order.
        #[arg(long = "with-layer", value_name = "LAYER")]
        with_layer: Vec<PathBuf>,
        /// Write here (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The package: a .zip or a directory.
        package: PathBuf,
    },
    /// Audit every ELF file in DIR, then write a reproducible zip of DIR.
    Zip {
        #[arg(long, short, default_value = DEFAULT_PROFILE)]
        profile: String,
        /// Lambda's architecture: x86_64 (the default, as Lambda's) or arm64.
        #[arg(long, value_name = "x86_64|arm64")]
        arch: Option<LambdaArch>,
        #[arg(long)]
        out: PathBuf,
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// The built-in profiles, with the architectures each has.
    List {
        /// Only the profiles Lambda has on this architecture (x86_64, arm64).
        #[arg(long, value_name = "x86_64|arm64")]
        arch: Option<LambdaArch>,
    },
    /// Print a profile (built-in name or file) as JSON.
    Show {
        name: String,
        /// Lambda's architecture: x86_64 (the default, as Lambda's) or arm64.
        #[arg(long, value_name = "x86_64|arm64")]
        arch: Option<LambdaArch>,
    },
    /// Write a profile from a root filesystem (an extracted Lambda image, a debootstrap tree).
    Scan {
        rootfs: PathBuf,
        #[arg(long, default_value = "scanned")]
        name: String,
        /// The runtime's LD_LIBRARY_PATH, colon-separated, in order.
        #[arg(long, value_delimiter = ':')]
        search_path: Vec<String>,
        /// Replace the default directories (from ROOTFS/etc/ld.so.conf and the loader's own).
        #[arg(long, value_delimiter = ':')]
        default_path: Option<Vec<String>>,
        /// The program that loads artifacts, inside ROOTFS (e.g. /usr/bin/python3.9).
        #[arg(long)]
        host_exe: Option<String>,
        /// Artifacts must export this prefix + module name (PyInit_ for Python).
        #[arg(long)]
        module_init_prefix: Option<String>,
        #[arg(long, default_value = "/var/task")]
        task_root: String,
        /// Write here (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // A bug must still end in one line and exit status 2, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "lambda-audit: internal error: {}", info);
    }));
    // Interrupted or terminated: no half-written temporary output is left
    // (a later zip of that directory would pick it up).
    let _ = ctrlc::set_handler(|| lambda_audit::atomic::remove_pending_and_exit(130));
    // Over a file size limit, a write fails with EFBIG, which is handled
    // like a full disk (nothing left behind), instead of SIGXFSZ killing the
    // process with its temporary output in place.
    // SAFETY: setting a signal's disposition to SIG_IGN, before any thread
    // that writes files exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(e)) => {
            let message = e.to_string();
            let message = without_controls(&message, false);
            let mut lines = message.lines();
            let _ = writeln!(
                std::io::stderr(),
                "lambda-audit: {}",
                lines.next().unwrap_or("")
            );
            for line in lines {
                let _ = writeln!(std::io::stderr(), "{}", line);
            }
            ExitCode::from(e.exit_code() as u8)
        }
        Err(_) => ExitCode::from(2),
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Check {
            profile,
            arch,
            today,
            bundle_dir,
            layer,
            with_layer,
            json,
            artifacts,
        } => {
            let today = today_or_clock(today)?;
            let layers = prepare_layers(&with_layer, &artifacts, layer)?;
            let combinations = combinations(&profile, &arch);
            let run = CheckRun::new(
                CheckOptions {
                    bundle_dir,
                    layer,
                    json,
                    today,
                },
                layers,
                artifacts,
                combinations.len() > 1,
            );
            match combinations.as_slice() {
                [(name, arch)] => run.one(name, *arch),
                _ => run.matrix(&combinations),
            }
        }
        Command::Tree {
            profile,
            arch,
            bundle_dir,
            artifact,
        } => {
            let profile = Profile::load_for(&profile, arch)?;
            check_bundle_dir(bundle_dir.as_deref())?;
            let r = check(&profile, bundle_dir.as_deref(), &artifact)?;
            match &r.closure {
                Some(closure) => emit(&report::tree(closure))?,
                None => emit(&report::human(&r))?,
            }
            Ok(0)
        }
        Command::Profile { command } => profile_command(command),
        Command::Sbom {
            profile,
            arch,
            with_layer,
            out,
            package,
        } => {
            check_out(out.as_deref())?;
            let profile = Profile::load_for(&profile, arch)?;
            std::fs::metadata(&package).map_err(|e| AuditError::io(&package, e))?;
            if !package.is_dir() && !unzip::is_zip(&package) {
                check_single_file(&package, false)?;
                return Err(AuditError::Usage(format!(
                    "sbom: {} is a single file, not a package (a directory or a zip): give the package that holds it",
                    shown(&package)
                )));
            }
            let layers = prepare_layers(&with_layer, std::slice::from_ref(&package), false)?;
            match out {
                Some(path) => {
                    let mut temp = lambda_audit::atomic::temp_file_beside(&path)?;
                    write_sbom(&profile, &package, layers.as_ref(), &mut temp)?;
                    lambda_audit::atomic::persist(temp, &path)?;
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    write_sbom(&profile, &package, layers.as_ref(), &mut stdout)?;
                }
            }
            Ok(0)
        }
        Command::Bundle {
            profile,
            arch,
            out,
            library_path,
            artifacts,
        } => {
            let profile = Profile::load_for(&profile, arch)?;
            let done = bundle(&profile, &artifacts, &out, &BundleOptions { library_path })?;
            for (name, (source, new_name)) in &done.vendored {
                emit(&format!(
                    "vendored {} from {} as lib/{}\n",
                    shown(name),
                    shown(source),
                    shown(new_name)
                ))?;
            }
            emit(&format!(
                "{}: {} {} in {}{}\n",
                shown(&out),
                count(done.reports.len(), "artifact"),
                if done.reports.len() == 1 {
                    "loads"
                } else {
                    "load"
                },
                shown(&profile.name),
                report::on_arch(&profile.arch)
            ))?;
            Ok(0)
        }
        Command::Zip {
            profile,
            arch,
            out,
            dir,
        } => {
            let profile = Profile::load_for(&profile, arch)?;
            let (entries, left_out) = archive::collect(&dir, &out)?;
            for line in &left_out {
                note(&format!("zip: {line}"));
            }
            // A custom runtime runs DIR/bootstrap: it must be executable.
            if profile.host.is_none() {
                if let Some(bootstrap) = entries.iter().find(|e| e.name == "bootstrap") {
                    if !bootstrap.executable {
                        return Err(AuditError::Refused(format!(
                            "{}: not executable, and Lambda runs bootstrap as a program: chmod +x it",
                            shown(&bootstrap.file)
                        )));
                    }
                }
            }
            // The first report that does not load is kept, to refuse with.
            let mut refused: Option<Report> = None;
            let task = TaskDir::new(&profile.task_root, Some(&dir));
            let as_is = |file: &std::path::Path| file.to_path_buf();
            let audit = Audit::new(&profile, &task);
            let skipped = audit
                .package(&dir, &entries, true, &as_is, &mut |r| {
                    if refused.is_none() && !r.loads() {
                        refused = Some(r);
                    }
                    Ok(())
                })
                .map_err(|e| match e {
                    // zip refuses to write it (exit 1), as any package that would not load.
                    AuditError::NoEntryPoint(why) => AuditError::Refused(why),
                    e => e,
                })?;
            for skip in &skipped {
                note(&format!("zip: {skip}"));
            }
            if let Some(bad) = refused {
                return Err(AuditError::Refused(format!(
                    "{} would not load, so {} was not written:\n{}",
                    shown(&bad.artifact),
                    shown(&out),
                    report::human(&bad).trim_end()
                )));
            }
            let size = archive::write_zip(&entries, &out)?;
            emit(&format!(
                "{}: {}, {} audited for {}{}, {}\n",
                shown(&out),
                count(entries.len(), "file"),
                // Every ELF file is audited: as an entry point, in an entry
                // point's closure, or on its own.
                count(entries.iter().filter(|e| e.elf).count(), "ELF file"),
                shown(&profile.name),
                report::on_arch(&profile.arch),
                archive::bytes(size)
            ))?;
            Ok(0)
        }
    }
}

fn profile_command(command: ProfileCommand) -> Result<u8> {
    match command {
        ProfileCommand::List { arch } => {
            emit(&profile_list(arch))?;
            Ok(0)
        }
        ProfileCommand::Show { name, arch } => {
            emit(&Profile::load_for(&name, arch)?.to_json())?;
            Ok(0)
        }
        ProfileCommand::Scan {
            rootfs,
            name,
            search_path,
            default_path,
            host_exe,
            module_init_prefix,
            task_root,
            out,
        } => {
            check_out(out.as_deref())?;
            let policy = Profile::load(DEFAULT_PROFILE)?.policy;
            let options = ScanOptions {
                name,
                search_path,
                default_path,
                host_exe,
                module_init_prefix,
                task_root,
                policy,
            };
            let (profile, scanned) = scan(&rootfs, &options)?;
            for line in &scanned.skipped {
                note(&format!("scan: skipped {line}"));
            }
            let text = profile.to_json();
            match out {
                Some(path) => lambda_audit::atomic::write(&path, text.as_bytes())?,
                None => emit(&text)?,
            }
            note(&format!(
                "scan: {} libraries in {} directories",
                profile.libraries.len(),
                profile.ld_library_path.len() + profile.default_dirs.len()
            ));
            Ok(0)
        }
    }
}

/// `profile list`: each built-in name once, with the architectures Lambda
/// has it on and its description (the x86_64 one's words), in the
/// built-ins' order; with `arch`, only the names that architecture has.
fn profile_list(arch: Option<LambdaArch>) -> String {
    let builtins = Profile::builtins();
    let mut names: Vec<&str> = Vec::new();
    for p in &builtins {
        if !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    let mut out = String::new();
    for name in names {
        let of_name: Vec<&Profile> = builtins.iter().filter(|p| p.name == name).collect();
        let arches: Vec<&str> = of_name.iter().map(|p| p.lambda_arch()).collect();
        if arch.is_some_and(|a| !arches.contains(&a.name())) {
            continue;
        }
        let description = of_name[0].description.split(':').next().unwrap_or("");
        out.push_str(&format!(
            "{:32} {:15} {}\n",
            name,
            arches.join(","),
            description
        ));
    }
    out
}

/// `--today`, checked, or the system clock's date (UTC).
fn today_or_clock(given: Option<String>) -> Result<String> {
    match given {
        Some(date) if is_date(&date) => Ok(date),
        Some(date) => Err(AuditError::Usage(format!(
            "--today {date:?}: not a date (YYYY-MM-DD)"
        ))),
        None => {
            let seconds = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            Ok(date_of_day((seconds / 86_400) as i64))
        }
    }
}

pub(crate) fn stdout_error(e: std::io::Error) -> AuditError {
    AuditError::io(std::path::Path::new("standard output"), e)
}

/// Writes to standard output, with any control character a name brought in
/// escaped (JSON has none: its strings are escaped). A reader that closed it early (`| head -1`)
/// is an error like any other (one line, exit 2), never a panic: the output
/// it got is incomplete.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(without_controls(text, false).as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// A line for the person running the command, on standard error (a closed
/// standard error has no one to tell).
pub(crate) fn note(text: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "lambda-audit: {}",
        without_controls(text, false)
    );
}

/// A single file given to `check` must be an artifact on its own: not a
/// zip behind a stub (Lambda unpacks a plain zip from its first byte, and
/// judged as one ELF module its members would never be checked), and not a
/// layer (a layer is what Lambda unpacks at /opt: a directory or a zip).
pub(crate) fn check_single_file(artifact: &std::path::Path, layer: bool) -> Result<()> {
    if unzip::is_zip_behind_a_stub(artifact) {
        return Err(AuditError::Usage(format!(
            "{}: a zip archive behind other data (a self-extracting stub, or a file with a zip appended): Lambda unpacks a plain zip from its first byte; zip the package's files again",
            shown(artifact)
        )));
    }
    if layer {
        return Err(AuditError::Usage(format!(
            "--layer {}: a single file, and a layer is a directory or a zip (Lambda unpacks it at /opt): put the file in one (a library in lib/)",
            shown(artifact)
        )));
    }
    Ok(())
}

/// `--with-layer`'s layers, unpacked and merged as the runtime's /opt,
/// once every package given (with them) is known to be within Lambda's
/// limit on a function and its layers; none given: None. Each artifact
/// must be a function package: a layer (`--layer`) has no layers of its
/// own, and a single file has no package to hold the layers' users.
fn prepare_layers(given: &[PathBuf], artifacts: &[PathBuf], layer: bool) -> Result<Option<Layers>> {
    if given.is_empty() {
        return Ok(None);
    }
    if layer {
        return Err(AuditError::Usage(
            "--with-layer with --layer: a layer has no layers of its own; check the function package with --with-layer, or each layer with --layer".into(),
        ));
    }
    if given.len() > layers::MAX_LAYERS {
        return Err(AuditError::Usage(format!(
            "--with-layer given {} times: Lambda takes at most {} layers for a function; merge some into one",
            given.len(),
            layers::MAX_LAYERS
        )));
    }
    for artifact in artifacts {
        check_function_package(artifact)?;
    }
    let mut sizes = Vec::new();
    for layer in given {
        sizes.push((layer.as_path(), layers::layer_size(layer)?));
    }
    // The layers are unpacked once for every function given: within what
    // the largest leaves of the limit.
    let mut largest: u64 = 0;
    for function in artifacts {
        let size = layers::unzipped_size(function)?;
        layers::check_total((function, size), &sizes)?;
        largest = largest.max(size);
    }
    Layers::unpack(given, largest).map(Some)
}

/// An artifact given with `--with-layer` must be a function package (a
/// directory or a zip): the layers are the package's.
fn check_function_package(artifact: &std::path::Path) -> Result<()> {
    std::fs::metadata(artifact).map_err(|e| AuditError::io(artifact, e))?;
    if artifact.is_dir() || unzip::is_zip(artifact) {
        return Ok(());
    }
    check_single_file(artifact, false)?;
    Err(AuditError::Usage(format!(
        "--with-layer: {} is a single file, not a function package (a directory or a zip): check the package that holds it, with its layers",
        shown(artifact)
    )))
}

/// `--out`, if given, must be a place a file can be renamed over.
fn check_out(out: Option<&std::path::Path>) -> Result<()> {
    out.map_or(Ok(()), lambda_audit::atomic::check_destination)
}

/// `--bundle-dir` must name a directory (a missing one would make every
/// packaged library "missing").
pub(crate) fn check_bundle_dir(dir: Option<&std::path::Path>) -> Result<()> {
    match dir {
        Some(dir) if !dir.is_dir() => Err(AuditError::Usage(format!(
            "--bundle-dir {}: not a directory",
            shown(dir)
        ))),
        _ => Ok(()),
    }
}

/// `1 file`, `2 files`.
fn count(n: usize, noun: &str) -> String {
    format!("{} {}{}", n, noun, if n == 1 { "" } else { "s" })
}
