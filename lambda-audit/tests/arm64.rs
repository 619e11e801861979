//! `--arch arm64`: the arm64 profiles, judged with aarch64 fixtures built
//! here by Debian's cross compiler (aarch64-linux-gnu-gcc, against its
//! aarch64 glibc), and packages that hold a file of Lambda's other
//! architecture, in both directions.

mod common;

use std::path::Path;
use std::process::Command;

use common::{
    assert_succeeded, audit, audit_on, check_json_doc, expect_stderr, expect_stdout, findings,
    shared, stdout_json, str_array,
};

/// The aarch64 C compiler: Debian's cross gcc by its name, or the command
/// LAMBDA_AUDIT_AARCH64_CC gives (words split on spaces; the flake's check:
/// the pinned zig, `zig cc -target aarch64-linux-gnu.2.34`, as glibc 2.34 is
/// what a program Debian's gcc links needs too).
fn cross_cc() -> Vec<String> {
    std::env::var("LAMBDA_AUDIT_AARCH64_CC")
        .unwrap_or_else(|_| "aarch64-linux-gnu-gcc".to_string())
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The cross compiler of C `source` into `out`: an aarch64 fixture. A
/// machine without the cross compiler fails the test, saying what to install.
fn aarch64_cc(out: &Path, source: &str, args: &[&str]) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let file = out.with_extension("c");
    std::fs::write(&file, source).unwrap();
    let cross_cc = cross_cc();
    let run = Command::new(&cross_cc[0])
        .args(&cross_cc[1..])
        .args(["-O1", "-Wl,--no-as-needed", "-o"])
        .arg(out)
        .arg(&file)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{}: {e}: install Debian's gcc-aarch64-linux-gnu (apt-get install gcc-aarch64-linux-gnu; scripts/test installs it)", cross_cc[0])
        });
    assert_succeeded(&run);
    std::fs::remove_file(file).unwrap();
}

/// A Python extension module `NAME` (it exports `PyInit_NAME` and calls the
/// C API), built for aarch64 into `out`.
fn aarch64_module(out: &Path, name: &str) {
    let source = format!(
        "void *PyLong_FromLong(long);\nvoid *PyInit_{name}(void) {{ return PyLong_FromLong(7); }}\n"
    );
    aarch64_cc(out, &source, &["-shared", "-fPIC"]);
}

/// The same module for x86_64, with the host's gcc.
fn x86_64_module(out: &Path, name: &str) {
    let source = format!(
        "void *PyLong_FromLong(long);\nvoid *PyInit_{name}(void) {{ return PyLong_FromLong(7); }}\n"
    );
    shared(out, &source, &[]);
}

const PROGRAM: &str = "#include <stdio.h>\nint main(void) { puts(\"ready\"); return 0; }\n";

/// `check --json --arch ARCH --profile PROFILE PATH`: its exit code and JSON document.
fn check_json_arch(arch: &str, profile: &str, path: &str) -> (i32, serde_json::Value) {
    check_json_doc(&["--arch", arch, "--profile", profile], Path::new(path))
}

/// Records `file` (a path in the package) as installed by `dist` `version`.
fn record(package: &Path, dist: &str, version: &str, file: &str) {
    let info = package.join(format!("{dist}-{version}.dist-info"));
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        info.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n\n"),
    )
    .unwrap();
    std::fs::write(info.join("RECORD"), format!("{file},sha256=x,1\n")).unwrap();
}

#[test]
fn an_aarch64_module_loads_in_the_arm64_python_runtimes_only() {
    let work = tempfile::tempdir().unwrap();
    let module = work.path().join("fast.cpython-312-aarch64-linux-gnu.so");
    aarch64_module(&module, "fast");
    let path = module.to_str().unwrap();

    let run = audit(["check", "--arch", "arm64", "--profile", "python3.12", path]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "loads in python3.12 on arm64 (as /var/task/fast.cpython-312-aarch64-linux-gnu.so)"
        ),
        "{}",
        run.stdout
    );

    // Python 3.11's importer on arm64 never opens a cpython-312 file.
    let (code, report) = check_json_arch("arm64", "python3.11", path);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["arch"], "arm64");
    let foreign = findings(&report["artifacts"][0], "foreign-module");
    assert_eq!(foreign.len(), 1, "{report:#}");
    assert!(
        foreign[0]["reason"]
            .as_str()
            .unwrap()
            .contains("fast.cpython-311-aarch64-linux-gnu.so"),
        "{report:#}"
    );

    // Without --arch: x86_64, Lambda's default.
    let run = audit(["check", "--json", "--profile", "python3.12", path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = stdout_json(&run);
    assert_eq!(report["arch"], "x86_64");
    let wrong = findings(&report["artifacts"][0], "wrong-arch");
    assert_eq!(wrong.len(), 1, "{report:#}");
    assert_eq!(wrong[0]["found"], "aarch64");
    assert_eq!(wrong[0]["expected"], "x86_64");
}

/// The cross compiler's glibc is 2.36: its programs need
/// `__libc_start_main@GLIBC_2.34`, which Amazon Linux 2023 (2.34) defines
/// and Amazon Linux 2 (2.26) does not; both find the aarch64 loader the
/// program names, /lib/ld-linux-aarch64.so.1.
#[test]
fn an_aarch64_program_is_judged_by_the_arm64_glibc_of_each_provided_runtime() {
    let work = tempfile::tempdir().unwrap();
    let program = work.path().join("bootstrap");
    aarch64_cc(&program, PROGRAM, &[]);
    let path = program.to_str().unwrap();

    let (code, report) = check_json_arch("arm64", "provided.al2023", path);
    assert_eq!(code, 0, "{report:#}");
    let closure = &report["artifacts"][0]["closure"];
    let loader = closure
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "ld-linux-aarch64.so.1");
    assert!(loader.is_some(), "{closure:#}");

    // tree: the static ldd, for the arm64 runtime.
    let run = audit(["tree", "--arch", "arm64", "-p", "provided.al2023", path]);
    expect_stdout(&run, 0, "libc.so.6 => /lib64/libc.so.6");

    let (code, report) = check_json_arch("arm64", "provided.al2", path);
    assert_eq!(code, 1, "{report:#}");
    let missing = findings(&report["artifacts"][0], "missing-version");
    assert!(
        missing
            .iter()
            .any(|f| f["version"] == "GLIBC_2.34" && f["library"] == "libc.so.6"),
        "{report:#}"
    );
    // The fix names the aarch64 target of the runtime's glibc.
    let fix = missing[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("--target aarch64-unknown-linux-gnu.2.26"),
        "{fix}"
    );
    // aarch64 glibc has no version node older than GLIBC_2.17.
    let versions = missing[0]["runtime_versions"].as_array().unwrap();
    assert_eq!(versions[1], "GLIBC_2.17", "{versions:?}");
}

/// An aarch64 JNI library starting a thread (`pthread_create@GLIBC_2.34`,
/// as the cross compiler's glibc 2.36 links it): on arm64 it loads in java21
/// (Amazon Linux 2023) and not in java17 (Amazon Linux 2), the same verdicts
/// as on x86_64; its JVM symbol is unverified, not guessed.
#[test]
fn an_aarch64_jni_library_is_judged_by_each_java_runtimes_arm64_glibc() {
    let work = tempfile::tempdir().unwrap();
    let library = work.path().join("libnative.so");
    let source = "#include <pthread.h>\n\
                  int JNI_GetCreatedJavaVMs(void *, int, int *);\n\
                  static void *work(void *arg) { return arg; }\n\
                  int JNI_OnLoad(void *vm, void *reserved) { pthread_t t; int n = 0;\n\
                  pthread_create(&t, 0, work, reserved); return JNI_GetCreatedJavaVMs(vm, 1, &n); }\n";
    aarch64_cc(&library, source, &["-shared", "-fPIC"]);
    let path = library.to_str().unwrap();
    let run = audit([
        "check",
        "--arch",
        "arm64",
        "-p",
        "java17",
        "-p",
        "java21",
        "--today",
        "2026-01-01",
        path,
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().take(2).collect();
    assert!(
        lines[0].starts_with("java17 arm64: WILL NOT LOAD") && lines[0].contains("GLIBC_2.34"),
        "{}",
        run.stdout
    );
    assert_eq!(lines[1], "java21 arm64: loads", "{}", run.stdout);
    let (code, report) = check_json_arch("arm64", "java21", path);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["artifacts"][0]["unverified_symbols"], 1,
        "{report:#}"
    );
}

/// The contract `bundle` and `zip` keep for arm64: `--arch arm64 --profile P`.
#[test]
fn bundle_and_zip_take_the_arch() {
    let work = tempfile::tempdir().unwrap();
    let program = work.path().join("bootstrap");
    aarch64_cc(&program, PROGRAM, &[]);
    let package = work.path().join("package");
    let run = audit([
        "bundle",
        "--arch",
        "arm64",
        "--profile",
        "provided.al2023",
        "--out",
        package.to_str().unwrap(),
        program.to_str().unwrap(),
    ]);
    expect_stdout(&run, 0, "1 artifact loads in provided.al2023 on arm64");
    let zip = work.path().join("function.zip");
    let zip = zip.to_str().unwrap();
    let dir = package.to_str().unwrap();
    let run = audit([
        "zip",
        "--arch",
        "arm64",
        "-p",
        "provided.al2023",
        "--out",
        zip,
        dir,
    ]);
    expect_stdout(&run, 0, "audited for provided.al2023 on arm64");
    let run = audit([
        "check",
        "--arch",
        "arm64",
        "--profile",
        "provided.al2023",
        zip,
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // The same zip for x86_64: its bootstrap is named, for the other CPU.
    let run = audit(["zip", "-p", "provided.al2023", "--out", zip, dir]);
    expect_stderr(&run, 1, "bootstrap is aarch64, the runtime is x86_64");
}

/// A package for one CPU holding a module built for the other: that file is
/// an error, named with its architecture and the distribution that installed
/// it, although the package's own entry point loads.
#[test]
fn a_module_of_the_other_architecture_in_a_package_is_named() {
    for (arch, expected, found) in [
        ("arm64", "aarch64", "x86_64"),
        ("x86_64", "x86_64", "aarch64"),
    ] {
        let work = tempfile::tempdir().unwrap();
        let package = work.path().join("package");
        let (own, other) = (
            "good/_good.cpython-312-".to_string() + expected + "-linux-gnu.so",
            "fast/_fast.cpython-312-".to_string() + found + "-linux-gnu.so",
        );
        if arch == "arm64" {
            aarch64_module(&package.join(&own), "_good");
            x86_64_module(&package.join(&other), "_fast");
        } else {
            x86_64_module(&package.join(&own), "_good");
            aarch64_module(&package.join(&other), "_fast");
        }
        record(&package, "fast_dist", "1.2", &other);
        let dir = package.to_str().unwrap();
        let (code, report) = check_json_arch(arch, "python3.12", dir);
        assert_eq!(code, 1, "{report:#}");
        let artifacts = report["artifacts"].as_array().unwrap();
        let bad: Vec<&serde_json::Value> =
            artifacts.iter().filter(|a| a["loads"] == false).collect();
        assert_eq!(bad.len(), 1, "{arch}: {report:#}");
        assert_eq!(bad[0]["path"], format!("{dir}/{other}"));
        assert_eq!(bad[0]["distribution"], "fast_dist 1.2");
        let wrong = findings(bad[0], "wrong-arch");
        assert_eq!(wrong.len(), 1, "{arch}: {report:#}");
        assert_eq!(
            (&wrong[0]["found"], &wrong[0]["expected"]),
            (&found.into(), &expected.into())
        );
        assert!(
            artifacts.iter().any(|a| a["loads"] == true),
            "{arch}: {report:#}"
        );

        let human = audit(["check", "--arch", arch, "-p", "python3.12", dir]).stdout;
        assert!(
            human.contains(&format!(
                "_fast.cpython-312-{found}-linux-gnu.so (from fast_dist 1.2): WILL NOT LOAD"
            )) && human.contains(&format!("is {found}, the runtime is {expected}")),
            "{arch}: {human}"
        );
    }
}

/// A package of Lambda's other CPU alone is judged (exit 1, each file
/// named), not refused as holding no entry point.
#[test]
fn a_package_entirely_of_the_other_architecture_will_not_load() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    x86_64_module(&package.join("_fast.abi3.so"), "_fast");
    let run = audit_on(&["check", "--arch", "arm64", "-p", "python3.12"], &package);
    expect_stdout(&run, 1, "_fast.abi3.so is x86_64, the runtime is aarch64");
}

#[test]
fn python3_6_has_no_arm64_profile() {
    for args in [
        vec!["check", "--arch", "arm64", "--profile", "python3.6", "x.so"],
        vec!["check", "--arch", "arm64", "x.so"],
        vec!["profile", "show", "--arch", "arm64", "python3.6"],
    ] {
        let run = audit(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("is x86_64 only: Lambda never offered it on arm64")
                && run.stderr.contains("python3.8"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_profile_file_of_another_arch_than_asked_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("mine.json");
    let shown = audit(["profile", "show", "provided.al2023"]);
    std::fs::write(&file, shown.stdout).unwrap();
    let run = audit([
        "check",
        "--arch",
        "arm64",
        "--profile",
        file.to_str().unwrap(),
        "x",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--arch arm64: the profile") && run.stderr.contains("is for x86_64"),
        "{}",
        run.stderr
    );
    let run = audit(["check", "--arch", "sparc", "x"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn profile_list_shows_each_runtimes_architectures() {
    let run = audit(["profile", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let arches = |out: &str, name: &str| -> Option<String> {
        out.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w[0] == name)
            .map(|w| w[1].to_string())
    };
    assert_eq!(arches(&run.stdout, "python3.6").as_deref(), Some("x86_64"));
    for name in [
        "python3.8",
        "python3.12",
        "python3.13",
        "python3.14",
        "provided.al2",
        "provided.al2023",
        "java21",
        "ruby3.4",
        "dotnet10",
    ] {
        assert_eq!(
            arches(&run.stdout, name).as_deref(),
            Some("x86_64,arm64"),
            "{}",
            run.stdout
        );
    }
    // Each name once.
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("python3.12 "))
            .count(),
        1
    );
    let arm64 = audit(["profile", "list", "--arch", "arm64"]).stdout;
    assert!(arches(&arm64, "python3.6").is_none(), "{arm64}");
    assert!(arches(&arm64, "python3.9").is_some(), "{arm64}");
}

/// What the arm64 profiles carry, as `profile show` prints them: the aarch64
/// loader, glibc's nodes from GLIBC_2.17, each interpreter's aarch64 suffix.
#[test]
fn the_arm64_profiles_are_aarch64_throughout() {
    for (name, glibc, suffix) in [
        (
            "python3.8",
            "GLIBC_2.26",
            Some(".cpython-38-aarch64-linux-gnu.so"),
        ),
        (
            "python3.9",
            "GLIBC_2.26",
            Some(".cpython-39-aarch64-linux-gnu.so"),
        ),
        (
            "python3.12",
            "GLIBC_2.34",
            Some(".cpython-312-aarch64-linux-gnu.so"),
        ),
        (
            "python3.13",
            "GLIBC_2.34",
            Some(".cpython-313-aarch64-linux-gnu.so"),
        ),
        (
            "python3.14",
            "GLIBC_2.34",
            Some(".cpython-314-aarch64-linux-gnu.so"),
        ),
        ("provided.al2", "GLIBC_2.26", None),
        ("java17", "GLIBC_2.26", None),
        ("java21", "GLIBC_2.34", None),
        ("ruby3.2", "GLIBC_2.26", None),
        ("dotnet10", "GLIBC_2.34", None),
        ("provided.al2023", "GLIBC_2.34", None),
    ] {
        let run = audit(["profile", "show", "--arch", "arm64", name]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let profile = stdout_json(&run);
        assert_eq!(profile["name"], name);
        assert_eq!(profile["arch"], "aarch64");
        let libraries = profile["libraries"].as_array().unwrap();
        let lib = |soname: &str| {
            libraries
                .iter()
                .find(|l| l["soname"] == soname)
                .unwrap_or_else(|| panic!("{name}: no {soname}"))
        };
        let libc = lib("libc.so.6");
        let versions = str_array(&libc["versions"]);
        assert_eq!(versions[1], "GLIBC_2.17", "{name}");
        assert!(versions.contains(&glibc), "{name}: {versions:?}");
        assert!(!libc["exports"].as_array().unwrap().is_empty(), "{name}");
        for soname in ["libstdc++.so.6", "libgcc_s.so.1", "libz.so.1"] {
            assert!(
                !lib(soname)["exports"].as_array().unwrap().is_empty(),
                "{name}: {soname}"
            );
        }
        assert!(
            lib("ld-linux-aarch64.so.1")["paths"]
                .as_array()
                .unwrap()
                .contains(&"/lib/ld-linux-aarch64.so.1".into()),
            "{name}"
        );
        assert!(!libraries
            .iter()
            .any(|l| l["soname"] == "ld-linux-x86-64.so.2"));
        let host_suffix = profile["host"]["extension_suffixes"][0].as_str();
        assert_eq!(host_suffix, suffix, "{name}");
    }
}

/// (issue 29) aarch64's libgcc_s defines `GCC_4.5.0` (`__unordtf2`, a helper
/// of its 128-bit long double), which x86_64's has no node for: an aarch64
/// addon needing it (@duckdb/node-bindings-linux-arm64, onnxruntime-node)
/// loads in every arm64 Node.js runtime, as node loads it. The addon is
/// linked against a stand-in with that node and soname (the cross compiler's
/// own libgcc_s differs by toolchain), which the package does not carry.
#[test]
fn an_aarch64_addon_needing_libgcc_s_gcc_4_5_0_loads_on_arm64() {
    let dir = tempfile::tempdir().unwrap();
    let stand_in = dir.path().join("link/libgcc_s.so.1");
    let script = dir.path().join("link/libgcc_s.map");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, "GCC_4.5.0 { __unordtf2; };\n").unwrap();
    let version_script = format!("-Wl,--version-script={}", script.display());
    aarch64_cc(
        &stand_in,
        "int __unordtf2(long double a, long double b) { return a != a || b != b; }\n",
        &[
            "-shared",
            "-fPIC",
            "-Wl,-soname,libgcc_s.so.1",
            &version_script,
        ],
    );
    let addon = dir.path().join("package/duckdb.node");
    aarch64_cc(
        &addon,
        "typedef struct napi_env__ *napi_env; typedef struct napi_value__ *napi_value;\n\
         extern int __unordtf2(long double, long double);\n\
         volatile long double a, b; int unordered;\n\
         napi_value napi_register_module_v1(napi_env env, napi_value exports) {\n\
           unordered = __unordtf2(a, b); return exports; }\n",
        &["-shared", "-fPIC", stand_in.to_str().unwrap()],
    );
    for runtime in ["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"] {
        let (code, doc) = check_json_arch("arm64", runtime, addon.to_str().unwrap());
        assert_eq!(code, 0, "{runtime}: {doc:#}");
    }
}
