//! `check` of a whole deployment package or layer: a directory or a zip, every
//! ELF file judged where the runtime places it, named by the distribution
//! that installed it; and the zip reader's guarantees under hostile archives
//! (crafted here with Python's zipfile, which writes any name and mode).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    audit, audit_in_tmpdir, audit_on, cc, expect_stderr, expect_stdout, shared, stdout_json, Run,
};

/// A package as `pip install --target` leaves it: `good` (a module that
/// loads), `bad` (one needing a symbol no runtime has), each recorded in its
/// own dist-info.
fn python_package(root: &Path) {
    shared(
        &root.join("good/_good.abi3.so"),
        "void *PyInit__good(void) { return 0; }\n",
        &[],
    );
    shared(
        &root.join("bad/_bad.abi3.so"),
        "int lambda_audit_nowhere(void); void *PyInit__bad(void) { return (void *)(long)lambda_audit_nowhere(); }\n",
        &["-Wl,--unresolved-symbols=ignore-all"],
    );
    for (dist, version, file) in [
        ("good-dist", "1.0", "good/_good.abi3.so"),
        ("bad-dist", "2.0", "bad/_bad.abi3.so"),
    ] {
        let info = root.join(format!("{}-{version}.dist-info", dist.replace('-', "_")));
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(
            info.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n\nlong text\n"),
        )
        .unwrap();
        std::fs::write(
            info.join("RECORD"),
            format!(
                "{file},sha256=x,1\n{}/RECORD,,\n\"../../bin/elsewhere,x\",,\n",
                info.file_name().unwrap().to_string_lossy()
            ),
        )
        .unwrap();
    }
}

/// A zip of `dir` written by Python's zipfile (unix modes kept).
fn zip_dir(dir: &Path, out: &Path) {
    let script = "import os, sys, zipfile\n\
        root, out = sys.argv[1:]\n\
        with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:\n\
        \x20   for d, _, files in sorted(os.walk(root)):\n\
        \x20       for f in sorted(files):\n\
        \x20           p = os.path.join(d, f)\n\
        \x20           z.write(p, os.path.relpath(p, root))\n";
    python(script, &[dir, out]);
}

/// Rewrites `archive` with the unix mode of its member `name` set to `mode`.
fn set_member_mode(archive: &Path, name: &str, mode: u32) {
    let script = "import sys, zipfile\n\
        path, name, mode = sys.argv[1], sys.argv[2], int(sys.argv[3])\n\
        with zipfile.ZipFile(path) as z:\n\
        \x20   members = [(i, z.read(i)) for i in z.infolist()]\n\
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:\n\
        \x20   for info, data in members:\n\
        \x20       if info.filename == name:\n\
        \x20           info.external_attr = mode << 16\n\
        \x20       z.writestr(info, data)\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(archive)
        .args([name, &mode.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A zip with one crafted entry: `name`, its unix mode, its bytes (or, with
/// `size`, that many zero bytes, compressed).
fn crafted_zip(out: &Path, entries: &[(&str, u32, &str)], zeros: Option<(&str, u64)>) {
    let script = "import json, sys, zipfile\n\
        out, entries, zeros = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])\n\
        with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:\n\
        \x20   for name, mode, data in entries:\n\
        \x20       info = zipfile.ZipInfo(name)\n\
        \x20       info.external_attr = mode << 16\n\
        \x20       info.compress_type = zipfile.ZIP_DEFLATED\n\
        \x20       z.writestr(info, data)\n\
        \x20   if zeros:\n\
        \x20       with z.open(zipfile.ZipInfo(zeros[0]), 'w', force_zip64=True) as f:\n\
        \x20           block = bytes(1 << 20)\n\
        \x20           for _ in range(zeros[1] >> 20):\n\
        \x20               f.write(block)\n";
    let entries: Vec<serde_json::Value> = entries
        .iter()
        .map(|(n, m, d)| serde_json::json!([n, m, d]))
        .collect();
    let entries = serde_json::Value::Array(entries).to_string();
    let zeros = serde_json::to_string(&zeros).unwrap();
    let out = out.to_str().unwrap();
    let status = Command::new("python3")
        .args(["-c", script, out, &entries, &zeros])
        .status()
        .unwrap();
    assert!(status.success());
}

fn python(script: &str, args: &[&Path]) {
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Where the runtime places each file of a `check --json` report.
fn runtime_paths(report: &serde_json::Value) -> Vec<&str> {
    report["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["runtime_path"].as_str().unwrap())
        .collect()
}

/// (path, distribution, loads) per file of a `check --json` report.
fn verdicts(report: &serde_json::Value) -> Vec<(String, String, bool)> {
    let mut all: Vec<(String, String, bool)> = report["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["distribution"].as_str().unwrap_or("").to_string(),
                a["loads"].as_bool().unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_package_directory_and_its_zip_are_judged_file_by_file_with_their_distributions() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    python_package(&package);
    let dir = package.to_str().unwrap();
    let run = audit(["check", "--json", "--profile", "python3.12", dir]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = stdout_json(&run);
    assert_eq!(
        verdicts(&report),
        [
            (
                format!("{dir}/bad/_bad.abi3.so"),
                "bad-dist 2.0".into(),
                false
            ),
            (
                format!("{dir}/good/_good.abi3.so"),
                "good-dist 1.0".into(),
                true
            ),
        ]
    );
    let human = audit(["check", "--profile", "python3.12", dir]).stdout;
    assert!(
        human.contains("_bad.abi3.so (from bad-dist 2.0): WILL NOT LOAD in python3.12 (as /var/task/bad/_bad.abi3.so)"),
        "{human}"
    );

    let archive = work.path().join("function.zip");
    zip_dir(&package, &archive);
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let zip = archive.to_str().unwrap();
    let run = audit_in_tmpdir(&tmp, ["check", "--json", "--profile", "python3.12", zip]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        verdicts(&stdout_json(&run)),
        [
            (
                format!("{zip}!/bad/_bad.abi3.so"),
                "bad-dist 2.0".into(),
                false
            ),
            (
                format!("{zip}!/good/_good.abi3.so"),
                "good-dist 1.0".into(),
                true
            ),
        ]
    );
    // The unpacked copy is gone.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

/// A layer is unpacked at /opt: its lib/ is /opt/lib, on the runtime's
/// LD_LIBRARY_PATH; a layer of libraries alone needs no entry point.
#[test]
fn a_layer_is_judged_at_opt() {
    let work = tempfile::tempdir().unwrap();
    let layer = work.path().join("layer");
    shared(
        &layer.join("lib/libshared.so.1"),
        "int shared_answer(void) { return 42; }\n",
        &["-Wl,-soname,libshared.so.1"],
    );
    let lib_dir = format!("-L{}", layer.join("lib").display());
    shared(
        &layer.join("python/_uses.abi3.so"),
        "int shared_answer(void); void *PyInit__uses(void) { return (void *)(long)shared_answer(); }\n",
        &[&lib_dir, "-l:libshared.so.1"],
    );
    let archive = work.path().join("layer.zip");
    zip_dir(&layer, &archive);
    let zip = archive.to_str().unwrap();
    let run = audit(["check", "--json", "--layer", "--profile", "python3.12", zip]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = stdout_json(&run);
    let placed = runtime_paths(&report);
    assert_eq!(placed, ["/opt/python/_uses.abi3.so"], "{report:#}");
    let lib = &report["artifacts"][0]["closure"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "libshared.so.1")
        .expect("libshared in the closure")["path"];
    assert_eq!(lib, "/opt/lib/libshared.so.1");

    // Libraries alone: a layer, not a function.
    std::fs::remove_file(layer.join("python/_uses.abi3.so")).unwrap();
    let dir = layer.to_str().unwrap();
    let run = audit(["check", "--layer", "--profile", "provided.al2023", dir]);
    expect_stdout(&run, 0, "(as /opt/lib/libshared.so.1)");
    // As a function, not a layer: an OS-only runtime wants its bootstrap.
    let run = audit(["check", "--profile", "provided.al2023", dir]);
    expect_stderr(&run, 1, "no bootstrap");
    // A Python runtime wants an entry point (a module): nothing to judge.
    let run = audit(["check", "--profile", "python3.12", dir]);
    expect_stderr(&run, 2, "holds no entry point");
}

/// (what, entries, zero-filled entry, the reason expected)
type Case<'a> = (
    &'a str,
    Vec<(&'a str, u32, &'a str)>,
    Option<(&'a str, u64)>,
    &'a str,
);

/// Every hostile archive: refused with one line and exit 2, and nothing left
/// in the temporary directory (nor anywhere outside it).
#[test]
fn hostile_zips_are_refused_and_leave_nothing() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let regular = 0o100644;
    let cases: Vec<Case> = vec![
        (
            "traversal",
            vec![("../evil", regular, "x")],
            None,
            "outside the package",
        ),
        (
            "absolute",
            vec![("/tmp/evil", regular, "x")],
            None,
            "outside the package",
        ),
        (
            "backslash",
            vec![("..\\evil", regular, "x")],
            None,
            "backslash",
        ),
        (
            "fifo",
            vec![("fifo", 0o010644, "")],
            None,
            "not a regular file",
        ),
        (
            "device",
            vec![("dev", 0o020644, "")],
            None,
            "not a regular file",
        ),
        (
            "link out",
            vec![("link", 0o120777, "/etc/passwd")],
            None,
            "leaves the package",
        ),
        (
            "link up",
            vec![("a/link", 0o120777, "../../x")],
            None,
            "does not resolve inside",
        ),
        (
            "bomb",
            vec![],
            Some(("zeros", 251 << 20)),
            "over Lambda's limit",
        ),
    ];
    for (what, entries, zeros, reason) in cases {
        let archive = work.path().join(format!("{}.zip", what.replace(' ', "-")));
        crafted_zip(&archive, &entries, zeros);
        let before = common::tree_listing(work.path());
        let run = audit_in_tmpdir(
            &tmp,
            [
                "check",
                "--profile",
                "provided.al2023",
                archive.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 2, "{what}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(reason), "{what}: {}", run.stderr);
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "{what}: {}",
            run.stderr
        );
        assert_eq!(
            common::tree_listing(work.path()),
            before,
            "{what}: files written"
        );
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "{what}: temporary files left"
        );
    }
    assert!(!PathBuf::from("/tmp/evil").exists());
}

/// An OS-only runtime runs the package's `bootstrap`: without one (or with
/// one that is not executable) the function cannot start, whatever else loads.
#[test]
fn a_provided_package_needs_an_executable_bootstrap() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    std::fs::create_dir_all(&package).unwrap();
    cc(&package.join("main"), "int main(void) { return 0; }\n", &[]);
    let dir = package.to_str().unwrap();
    let run = audit(["check", "--profile", "provided.al2023", dir]);
    expect_stderr(&run, 1, "no bootstrap at the package's root");

    std::fs::rename(package.join("main"), package.join("bootstrap")).unwrap();
    let run = audit(["check", "--profile", "provided.al2023", dir]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        package.join("bootstrap"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let archive = work.path().join("function.zip");
    zip_dir(&package, &archive);
    let run = audit_on(&["check", "--profile", "provided.al2023"], &archive);
    expect_stderr(&run, 1, "bootstrap is not executable");
}

/// (issue 18, 1) A symlink member and a member under it: nothing may be
/// written through the link, wherever it points (absolute, or relative up
/// out of the private directory), for a function package or a layer; the
/// zip is refused before anything is created.
#[test]
fn members_under_a_symlink_member_write_nothing_outside() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    let outside = work.path().join("outside");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::create_dir(&outside).unwrap();
    let regular = 0o100644;
    let link = 0o120777;
    let absolute = outside.to_str().unwrap().to_string();
    // From TMPDIR/.lambda-audit-checkXXXX/x, `../../outside` is work/outside.
    type Members<'a> = Vec<(&'a str, u32, &'a str)>;
    let cases: Vec<(&str, Members)> = vec![
        (
            "absolute",
            vec![
                ("x", link, &absolute),
                ("x/sub/planted-link", link, "anything"),
            ],
        ),
        (
            "relative",
            vec![
                ("x", link, "../../outside"),
                ("x/new1/new2/planted-link", link, "../../../x"),
            ],
        ),
        (
            "a file under a link",
            vec![
                ("x/new1/planted", regular, "p"),
                ("x", link, "../../outside"),
            ],
        ),
        (
            "a link under a link",
            vec![("x", link, "../../outside"), ("x/y", link, "planted")],
        ),
    ];
    for (what, entries) in cases {
        let archive = work.path().join("links.zip");
        crafted_zip(&archive, &entries, None);
        for layer in [false, true] {
            let mut args = vec!["check", "--profile", "python3.12"];
            if layer {
                args.push("--layer");
            }
            args.push(archive.to_str().unwrap());
            let run = audit_in_tmpdir(&tmp, &args);
            assert_eq!(run.code, 2, "{what}: {}{}", run.stdout, run.stderr);
            assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
            assert_eq!(
                common::tree_listing(&outside),
                vec![outside.clone()],
                "{what} (layer: {layer}): written outside the package"
            );
            assert_eq!(
                std::fs::read_dir(&tmp).unwrap().count(),
                0,
                "{what}: temporary files left"
            );
        }
    }
}

/// (issue 18, 2) SIGTERM or SIGINT while a zip is unpacked: the private
/// directory is gone when the process has exited, however far unpacking
/// got (the signal handler's removal raced the unpacking thread, which went
/// on creating files and directories). Repeated, at spread moments.
#[test]
fn a_signal_during_unpacking_leaves_no_temporary_directory() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let archive = work.path().join("many.zip");
    let script = "import sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
        \x20   for i in range(6000):\n\
        \x20       z.writestr(f'd{i % 300}/e{i // 300}/f{i}', 'x' * 64)\n";
    python(script, &[&archive]);
    for attempt in 0..12u64 {
        let args = ["check", "--profile", "provided.al2023", "--layer"];
        let args = args.iter().map(std::ffi::OsStr::new);
        let args = args.chain([archive.as_os_str()]);
        let mut child = common::spawn_in_tmpdir(&tmp, args);
        common::wait_until(|| std::fs::read_dir(&tmp).unwrap().count() > 0);
        std::thread::sleep(std::time::Duration::from_millis(attempt * 7));
        let (signal, status) = common::interrupt(&mut child, attempt);
        let left = common::tree_listing(&tmp).len() - 1;
        assert_eq!(
            left, 0,
            "attempt {attempt} ({signal}, {status}): {left} paths left"
        );
    }
}

/// (issue 18, 3) A module that is a symlink (`mod_ok.so -> real.so`) is
/// imported by its own name (`import mod_ok` opens mod_ok.so, which must
/// export PyInit_mod_ok): judged under that name, in a directory, a zip
/// holding the link, and by `zip`.
#[test]
fn a_module_that_is_a_symlink_is_judged_by_its_own_name() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    shared(
        &package.join("real.so"),
        "void *PyInit_mod_ok(void) { return 0; }\n",
        &[],
    );
    std::os::unix::fs::symlink("real.so", package.join("mod_ok.so")).unwrap();
    let dir = package.to_str().unwrap();
    let run = audit(["check", "--json", "--profile", "python3.12", dir]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = stdout_json(&run);
    let placed = runtime_paths(&report);
    assert_eq!(placed, ["/var/task/mod_ok.so"], "{report:#}");

    let out = work.path().join("function.zip");
    let run = audit([
        "zip",
        "--profile",
        "python3.12",
        "--out",
        out.to_str().unwrap(),
        dir,
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let linked = work.path().join("linked.zip");
    let script = "import sys, zipfile\n\
        out, real = sys.argv[1:]\n\
        with zipfile.ZipFile(out, 'w') as z:\n\
        \x20   z.write(real, 'real.so')\n\
        \x20   link = zipfile.ZipInfo('mod_ok.so')\n\
        \x20   link.external_attr = 0o120777 << 16\n\
        \x20   z.writestr(link, 'real.so')\n";
    python(script, &[&linked, &package.join("real.so")]);
    let run = audit_on(&["check", "--json", "--profile", "python3.12"], &linked);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = stdout_json(&run);
    assert_eq!(
        report["artifacts"][0]["path"],
        format!("{}!/mod_ok.so", linked.display()),
        "{report:#}"
    );
}

/// `lambda-audit check --json --profile python3.12 PACKAGE` under the
/// shell's resource limits `limits` (e.g. `ulimit -v 400000`): a bound on
/// memory or CPU time the run must keep.
fn check_limited(limits: &str, package: &Path) -> Run {
    let check = ["check", "--json", "--profile", "python3.12"].map(std::ffi::OsStr::new);
    common::audit_limited(limits, check.into_iter().chain([package.as_os_str()]))
}

/// A directory with one module per (distribution, RECORD bytes), each
/// module `mod_<distribution>.so` recorded in `<distribution>-1.0.dist-info`.
fn package_with_records(dir: &Path, records: &[(&str, &[u8])]) {
    for (dist, record) in records {
        shared(
            &dir.join(format!("mod_{dist}.so")),
            &format!("void *PyInit_mod_{dist}(void) {{ return 0; }}\n"),
            &[],
        );
        let info = dir.join(format!("{dist}-1.0.dist-info"));
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(info.join("RECORD"), record).unwrap();
    }
}

/// The distribution of each artifact of a `check --json` run, by file name.
fn distributions_of(run: &Run) -> Vec<(String, String)> {
    // Sorted by path, so by file name in one directory.
    verdicts(&stdout_json(run))
        .into_iter()
        .map(|(path, dist, _)| (path.rsplit('/').next().unwrap().to_string(), dist))
        .collect()
}

/// (issue 18, 4, and the decision on non-UTF-8 lines) A RECORD is read line
/// by line: memory stays bounded whatever its size (1 GiB here, sparse, of
/// which one line names a file; it was read whole), and a line that is not
/// UTF-8 is skipped alone (it made the whole RECORD ignored).
#[test]
fn a_record_is_read_line_by_line_in_bounded_memory() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    package_with_records(
        &package,
        &[
            ("huge", b"mod_huge.so,,\n"),
            ("bytes", b"\xff\xfe,,\nmod_bytes.so,,\n"),
        ],
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(package.join("huge-1.0.dist-info/RECORD"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let run = check_limited("ulimit -v 400000", &package);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        distributions_of(&run),
        [
            ("mod_bytes.so".to_string(), "bytes 1.0".to_string()),
            ("mod_huge.so".to_string(), "huge 1.0".to_string())
        ]
    );
}

/// (issue 18, 5) RECORD lines are resolved lexically against the package's
/// files, not by a `canonicalize` each (a system call per component of the
/// package's absolute path): a million lines, in a package 40 directories
/// deep, stay well inside a CPU-time limit the old reading overran. A bound
/// with a wide margin, not a timing: docs/benchmarks.md has the numbers.
#[test]
fn record_lines_cost_no_system_calls_each() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("l/".repeat(40)).join("package");
    let line = "mod_many.so,,\n";
    package_with_records(&package, &[("many", line.repeat(1_000_000).as_bytes())]);
    let run = check_limited("ulimit -t 3", &package);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        distributions_of(&run),
        [("mod_many.so".to_string(), "many 1.0".to_string())]
    );
}

/// (issue 18, 14) Directory members cost linear time and are capped: 2,000
/// nested directory members (each one's ancestors were collected again:
/// cubic, over a minute of CPU) are refused at once, by their name's length,
/// on one short line; an archive of more members than any package holds is
/// refused before anything is created.
#[test]
fn directory_members_cost_linear_time_and_are_capped() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let deep = work.path().join("deep.zip");
    let script = "import sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
        \x20   p = ''\n\
        \x20   for i in range(2000):\n\
        \x20       p += f'd{i}/'\n\
        \x20       z.writestr(zipfile.ZipInfo(p), '')\n";
    python(script, &[&deep]);
    let many = work.path().join("many.zip");
    let script = "import sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
        \x20   for i in range(200_001):\n\
        \x20       z.writestr(zipfile.ZipInfo(f'{i}/'), '')\n";
    python(script, &[&many]);
    for (archive, reason) in [(&deep, "longer than"), (&many, "more than 200000 members")] {
        let run = common::audit_limited(
            &format!("ulimit -t 10 && export TMPDIR={}", tmp.display()),
            [
                std::ffi::OsStr::new("check"),
                std::ffi::OsStr::new("--layer"),
                archive.as_os_str(),
            ],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(reason), "{}", run.stderr);
        assert!(run.stderr.len() < 400, "{}", run.stderr);
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    }
}

/// (issue 18, 13) Memory does not grow with the number of ELF files: 10,000
/// hard links to one tiny library, a layer, checked in text and in JSON
/// under a 60 MB limit on the heap (every report was kept until the end,
/// and the JSON document built whole: hundreds of MB). The reports are
/// printed as they are made, the JSON streamed artifact by artifact.
#[test]
fn memory_does_not_grow_with_the_number_of_elf_files() {
    let work = tempfile::tempdir().unwrap();
    let layer = work.path().join("layer");
    let tiny = work.path().join("tiny.so");
    shared(&tiny, "int tiny(void) { return 1; }\n", &[]);
    std::fs::create_dir_all(layer.join("lib")).unwrap();
    for i in 0..10_000 {
        std::fs::hard_link(&tiny, layer.join(format!("lib/lib{i}.so"))).unwrap();
    }
    for json in [false, true] {
        let mut args = vec!["check", "--layer", "--profile", "python3.12"];
        if json {
            args.push("--json");
        }
        let args = args.into_iter().map(std::ffi::OsStr::new);
        let run = common::audit_limited("ulimit -d 60000", args.chain([layer.as_os_str()]));
        assert_eq!(run.code, 0, "json: {json}: {}", run.stderr);
        let printed = if json {
            json_artifacts(&run)
        } else {
            run.stdout.lines().filter(|l| l.contains(": loads")).count()
        };
        assert_eq!(printed, 10_000, "json: {json}");
    }
}

/// How many artifacts a `check --json` run reported.
fn json_artifacts(run: &Run) -> usize {
    stdout_json(run)["artifacts"].as_array().unwrap().len()
}

/// (issue 18, decision) A zip without an entry point is refused naming the
/// zip, not the private directory it was unpacked in (already deleted).
#[test]
fn no_entry_point_names_the_zip() {
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("empty.zip");
    crafted_zip(&archive, &[("README", 0o100644, "nothing to load")], None);
    let zip = archive.to_str().unwrap();
    let run = audit(["check", "--profile", "python3.12", zip]);
    expect_stderr(&run, 2, &format!("{zip} holds no entry point"));
    assert!(!run.stderr.contains(".lambda-audit"), "{}", run.stderr);
}

/// (issue 18, 16) `check --bundle-dir DIR F1 … Fn` lists and reads DIR's
/// libraries once per run, not once per artifact (quadratic: 400 files took
/// over 5 s of CPU in a debug build): under a 2 s CPU limit.
#[test]
fn bundle_dir_is_read_once_per_run() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("package");
    let tiny = work.path().join("tiny.so");
    shared(&tiny, "int tiny(void) { return 1; }\n", &[]);
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<PathBuf> = (0..400).map(|i| dir.join(format!("lib{i}.so"))).collect();
    for file in &files {
        std::fs::hard_link(&tiny, file).unwrap();
    }
    let args = [
        "check",
        "--json",
        "--profile",
        "provided.al2023",
        "--bundle-dir",
    ]
    .map(std::ffi::OsStr::new)
    .into_iter()
    .chain([dir.as_os_str()])
    .chain(files.iter().map(|f| f.as_os_str()));
    let run = common::audit_limited("ulimit -t 2", args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json_artifacts(&run), 400);
}

/// A module `work/package/mod_ok.so` and a zip of its package: the
/// module's bytes and the zip's.
fn module_and_its_zip(work: &Path) -> (Vec<u8>, Vec<u8>) {
    let package = work.join("package");
    shared(
        &package.join("mod_ok.so"),
        "void *PyInit_mod_ok(void) { return 0; }\n",
        &[],
    );
    let plain = work.join("plain.zip");
    zip_dir(&package, &plain);
    let zipped = std::fs::read(&plain).unwrap();
    (std::fs::read(package.join("mod_ok.so")).unwrap(), zipped)
}

/// (issue 18, decisions) A zip behind a stub (a self-extracting shell
/// script, or an ELF file with a zip appended) is no deployment package
/// Lambda unpacks, and no single module either: refused, naming what it is,
/// rather than "not an ELF file" or judged as one module whose members are
/// never checked. `--layer` given a single file is refused too (a layer is
/// a directory or a zip), not judged at /var/task.
#[test]
fn stubbed_zips_and_single_file_layers_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let (module, zipped) = module_and_its_zip(work.path());
    let package = work.path().join("package");
    for (name, stub) in [
        ("shell.sh", b"#!/bin/sh\nexit 0\n".to_vec()),
        ("elf.so", module.clone()),
    ] {
        let file = work.path().join(name);
        std::fs::write(&file, [stub, zipped.clone()].concat()).unwrap();
        let run = audit_on(&["check", "--profile", "python3.12"], &file);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("a zip archive behind"),
            "{name}: {}",
            run.stderr
        );
    }
    // A bare end-of-directory record (libpython's code holds its bytes) is
    // no archive: the file is judged as the module it is.
    let bare = work.path().join("mod_ok.so");
    let record = [&b"PK\x05\x06"[..], &[0u8; 18]].concat();
    std::fs::write(&bare, [module, record].concat()).unwrap();
    let run = audit_on(&["check", "--profile", "python3.12"], &bare);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let module = package.join("mod_ok.so");
    let run = audit_on(&["check", "--layer", "--profile", "python3.12"], &module);
    expect_stderr(&run, 2, "a layer is a directory or a zip");
}

/// (issue 28) Whether a single file is a zip behind a stub is told from its
/// last 65,557 bytes, where a zip's end-of-directory record lies (its 22
/// bytes and the longest comment): a module whose zip bytes are followed
/// by more than that is no zip Lambda or unzip would read, and is judged as
/// the module it is (the whole file was scanned, and it was refused). A
/// large module with a zip at its end is still refused.
#[test]
fn only_a_files_tail_makes_it_a_zip_behind_a_stub() {
    let work = tempfile::tempdir().unwrap();
    let (module, zipped) = module_and_its_zip(work.path());
    let far = work.path().join("mod_ok.so");
    let padding = vec![0u8; 22 + 65_535 + 1];
    std::fs::write(&far, [&module[..], &zipped, &padding].concat()).unwrap();
    let run = audit_on(&["check", "--profile", "python3.12"], &far);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let near = work.path().join("big.so");
    let body = vec![0u8; 4 << 20];
    std::fs::write(&near, [&module[..], &body, &zipped].concat()).unwrap();
    let run = audit_on(&["check", "--profile", "python3.12"], &near);
    expect_stderr(&run, 2, "a zip archive behind");
}

/// (issue 18, decision) Lambda runs the function as a user that owns none
/// of its files, so each must be readable by others: a module of mode 000
/// (in a zip) or 0640 (in a directory), and a bootstrap of mode 0711, are
/// refused with the fix (they were judged to load).
#[test]
fn files_the_sandbox_user_cannot_read_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    let module = package.join("mod_ok.so");
    shared(&module, "void *PyInit_mod_ok(void) { return 0; }\n", &[]);
    let set_mode = |file: &Path, mode: u32| {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set_mode(&module, 0o640);
    let dir = package.to_str().unwrap();
    let run = audit(["check", "--profile", "python3.12", dir]);
    expect_stderr(&run, 1, "mod_ok.so is not readable by others");
    assert!(run.stderr.contains("chmod o+r"), "{}", run.stderr);

    // A member of mode 000 in the zip. The file itself stays readable by
    // its owner: the test's user is not root in a build sandbox, and could
    // not zip a file of mode 000.
    let archive = work.path().join("function.zip");
    zip_dir(&package, &archive);
    set_member_mode(&archive, "mod_ok.so", 0o100000);
    let run = audit_on(&["check", "--profile", "python3.12"], &archive);
    expect_stderr(&run, 1, "mod_ok.so is not readable by others");

    std::fs::remove_file(&module).unwrap();
    let bootstrap = package.join("bootstrap");
    common::cc(&bootstrap, "int main(void) { return 0; }\n", &[]);
    set_mode(&bootstrap, 0o711);
    let run = audit(["check", "--profile", "provided.al2023", dir]);
    expect_stderr(&run, 1, "bootstrap is not readable by others");
    set_mode(&bootstrap, 0o755);
    let run = audit(["check", "--profile", "provided.al2023", dir]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
