//! Shared helpers: the fixtures (built once per test binary by
//! tests/fixtures/build.sh with gcc, ld and version scripts) and a runner for
//! the real `lambda-audit` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The fixtures directory, built on first use, under cargo's directory for
/// integration tests' files (target/tmp), not the system's temporary
/// directory: it outlives the test process (statics are never dropped).
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("lambda-audit-fixtures")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let status = Command::new("bash")
            .arg(repo_root().join("tests/fixtures/build.sh"))
            .arg(&dir)
            .status()
            .expect("run tests/fixtures/build.sh");
        assert!(status.success(), "building the fixtures failed");
        dir
    })
}

pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn audit<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-audit"));
    command.args(args);
    finished(command)
}

/// `lambda-audit ARGS... ARTIFACT`: string arguments, then a path (the
/// artifact, package or layer the command is about).
pub fn audit_on(args: &[&str], artifact: &Path) -> Run {
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    all.push(artifact.as_os_str());
    audit(all)
}

/// `lambda-audit ARGS` with TMPDIR at `tmp`: where `check` unpacks zips and
/// layers, so that a test can see what a run left there.
pub fn audit_in_tmpdir<I, S>(tmp: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-audit"));
    command.args(args).env("TMPDIR", tmp);
    finished(command)
}

/// `lambda-audit ARGS` run in the directory `cwd` (relative paths in ARGS
/// are read from there).
pub fn audit_in_dir<I, S>(cwd: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambda-audit"));
    command.args(args).current_dir(cwd);
    finished(command)
}

/// Runs `command` (a lambda-audit) to its end: its exit code and output.
fn finished(mut command: Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run lambda-audit");
    Run {
        code: status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `zip --profile PROFILE --out OUT PACKAGE`: a function package zipped
/// (and audited) by lambda-audit itself.
pub fn zip_package(package: &Path, out: &Path, profile: &str) -> Run {
    use std::ffi::OsStr;
    audit([
        OsStr::new("zip"),
        OsStr::new("--profile"),
        OsStr::new(profile),
        OsStr::new("--out"),
        out.as_os_str(),
        package.as_os_str(),
    ])
}

/// `check --today DATE ARGS... ARTIFACT`: a run judged at a date the test
/// pins, so that what is deprecated does not change with the calendar.
pub fn check_at(today: &str, args: &[&str], artifact: &Path) -> Run {
    let mut all = vec!["check", "--today", today];
    all.extend_from_slice(args);
    audit_on(&all, artifact)
}

/// The JSON document a run printed on stdout (a check report, a matrix, a
/// profile); a run that printed none fails the test with its output.
pub fn stdout_json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

/// `check --json ARGS... ARTIFACT`: the exit code and the whole JSON
/// document (one artifact's, a package's or a matrix's).
pub fn check_json_doc(args: &[&str], artifact: &Path) -> (i32, serde_json::Value) {
    let mut all = vec!["check", "--json"];
    all.extend_from_slice(args);
    let run = audit_on(&all, artifact);
    (run.code, stdout_json(&run))
}

/// The run ended with `code` and said `text` on stderr (a refusal, an
/// error, a warning).
pub fn expect_stderr(run: &Run, code: i32, text: &str) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(text), "{}", run.stderr);
}

/// The run ended with `code` and printed `text` on stdout (a verdict).
pub fn expect_stdout(run: &Run, code: i32, text: &str) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(text), "{}", run.stdout);
}

/// Line `index` of a run's stdout starts with `starts` (a combination's
/// verdict, in a matrix) and says `says` (why).
pub fn assert_verdict_line(stdout: &str, index: usize, starts: &str, says: &str) {
    let line = stdout.lines().nth(index).unwrap_or_default();
    assert!(line.starts_with(starts) && line.contains(says), "{stdout}");
}

/// The package of the vendoring fixtures: `mod_vendored.so`, and the
/// `lib/libvendored.so.1` it needs, in `package` (created).
pub fn vendored_package(package: &Path) {
    std::fs::create_dir_all(package.join("lib")).unwrap();
    std::fs::copy(fixture("mod_vendored.so"), package.join("mod_vendored.so")).unwrap();
    std::fs::copy(
        fixture("build-lib/libvendored.so.1"),
        package.join("lib/libvendored.so.1"),
    )
    .unwrap();
}

/// The strings of a JSON array (a profile's directories, versions, exports).
pub fn str_array(value: &serde_json::Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// A helper program (gcc, a zipper) succeeded; else the test fails with
/// its stderr.
pub fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `lambda-audit ARGS` under the shell's resource limits `limits` (e.g.
/// `ulimit -v 400000`): a bound on memory or CPU time the run must keep. A
/// run killed by a limit has code -1.
pub fn audit_limited<I, S>(limits: &str, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{limits} && exec \"$@\""))
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_lambda-audit"))
        .args(args)
        .output()
        .expect("run lambda-audit under bash");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `check --json` on one artifact: (exit code, the artifact's JSON report).
pub fn check_json(
    profile: &str,
    bundle_dir: Option<&Path>,
    artifact: &Path,
) -> (i32, serde_json::Value) {
    let bundle_dir = bundle_dir.map(|dir| dir.display().to_string());
    let mut args = vec!["--profile", profile];
    if let Some(dir) = &bundle_dir {
        args.extend(["--bundle-dir", dir]);
    }
    let (code, doc) = check_json_doc(&args, artifact);
    assert_eq!(doc["schema"], "lambda-audit.check/1");
    (code, doc["artifacts"][0].clone())
}

/// The findings of one kind in a JSON report.
pub fn findings<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// A temporary directory with the given files (path inside it -> source file):
/// a package directory, or a root filesystem to scan.
pub fn tree(files: &[(&str, &Path)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for (path, source) in files {
        let dest = root.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(source, dest).unwrap();
    }
    root
}

pub const AL1: &str = "amazonlinux-2017.03-python3.6";

/// Every path under `dir` (files and directories), sorted: what a test
/// compares before and after to prove nothing else was written or deleted.
pub fn tree_listing(dir: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    all.sort();
    all
}

/// A zip's entries: (name, permission bits).
pub fn zip_listing(path: &Path) -> Vec<(String, u32)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let entry = archive.by_index(i).unwrap();
            (entry.name().to_string(), entry.unix_mode().unwrap() & 0o777)
        })
        .collect()
}

/// gcc of C `source` into `out` (its directory created), with extra
/// arguments: a fixture made where the test needs it.
pub fn cc(out: &Path, source: &str, args: &[&str]) {
    compile("gcc", "c", out, source, args);
}

/// `cc` for C++, with g++.
pub fn cxx(out: &Path, source: &str, args: &[&str]) {
    compile("g++", "cc", out, source, args);
}

fn compile(compiler: &str, extension: &str, out: &Path, source: &str, args: &[&str]) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let file = out.with_extension(extension);
    std::fs::write(&file, source).unwrap();
    let run = std::process::Command::new(compiler)
        .args(["-O1", "-Wl,--no-as-needed", "-o"])
        .arg(out)
        .arg(&file)
        .args(args)
        .output()
        .unwrap();
    assert_succeeded(&run);
    std::fs::remove_file(file).unwrap();
}

/// `cc` of a shared object.
pub fn shared(out: &Path, source: &str, args: &[&str]) {
    let mut all = vec!["-shared", "-fPIC"];
    all.extend_from_slice(args);
    cc(out, source, &all);
}

/// A member of a zip made by `zip_members`.
pub enum Member<'a> {
    /// A regular file (mode 0644) with these bytes.
    File(&'a str, &'a [u8]),
    /// A symlink to this target.
    Link(&'a str, &'a str),
    /// `size` zero bytes, deflated: a large unzipped size in a small zip.
    Zeros(&'a str, u64),
}

/// A zip of `members`, written with the zip crate as given (any name, even
/// one that leaves the package: hostile archives are made with it too).
pub fn zip_members(out: &Path, members: &[Member]) {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let options = SimpleFileOptions::default().unix_permissions(0o644);
    for member in members {
        match member {
            Member::File(name, bytes) => {
                zip.start_file(*name, options).unwrap();
                zip.write_all(bytes).unwrap();
            }
            Member::Link(name, target) => zip.add_symlink(*name, *target, options).unwrap(),
            Member::Zeros(name, size) => {
                zip.start_file(*name, options.large_file(*size >= u32::MAX as u64))
                    .unwrap();
                let block = vec![0u8; 1 << 20];
                for _ in 0..size >> 20 {
                    zip.write_all(&block).unwrap();
                }
                zip.write_all(&block[..(*size as usize) & ((1 << 20) - 1)])
                    .unwrap();
            }
        }
    }
    zip.finish().unwrap();
}

/// A zip of the files under `dir` (each with its own mode, a symlink as a
/// link): a package or layer zipped as a user's zipper would.
pub fn zip_tree(dir: &Path, out: &Path) {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name().min_depth(1) {
        let entry = entry.unwrap();
        let name = entry.path().strip_prefix(dir).unwrap().to_str().unwrap();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        let options = SimpleFileOptions::default().unix_permissions(meta.permissions().mode());
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            zip.add_symlink(name, target.to_str().unwrap(), options)
                .unwrap();
        } else if meta.is_file() {
            zip.start_file(name, options).unwrap();
            zip.write_all(&std::fs::read(entry.path()).unwrap())
                .unwrap();
        }
    }
    zip.finish().unwrap();
}

/// Ends `child` with SIGTERM (an even `attempt`) or SIGINT (an odd one),
/// sent with kill(2) itself (a build sandbox has no kill program), and
/// waits for it: the signal's name and how the child ended.
pub fn interrupt(
    child: &mut std::process::Child,
    attempt: u64,
) -> (&'static str, std::process::ExitStatus) {
    let (signal, number) = if attempt % 2 == 0 {
        ("-TERM", libc::SIGTERM)
    } else {
        ("-INT", libc::SIGINT)
    };
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, number) }, 0, "kill {signal}");
    (signal, child.wait().unwrap())
}

/// `lambda-audit ARGS` started with TMPDIR at `tmp`, its output discarded.
pub fn spawn_in_tmpdir<I, S>(tmp: &Path, args: I) -> std::process::Child
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_lambda-audit"))
        .args(args)
        .env("TMPDIR", tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Polls `ready` every 100 µs until it is true or 20 s have passed.
pub fn wait_until(ready: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !ready() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
}
