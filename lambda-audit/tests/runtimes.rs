//! The runtimes besides Python's and the OS-only ones: java, ruby and
//! dotnet, each its OS (glibc, libstdc++, libgcc_s, libz) under its
//! identifier with a host whose own exports the profile says it lacks; and
//! python3.14. Every fixture is built here with gcc/g++ (glibc 2.34 or
//! later, as matrix.rs's: a thread it starts is `pthread_create@GLIBC_2.34`).

mod common;

use std::path::{Path, PathBuf};

use common::{
    assert_verdict_line, audit, audit_on, check_at, check_json, cxx, findings, shared, stdout_json,
    str_array, Run,
};
use serde_json::Value;

/// The Java runtimes, then Ruby's, then .NET's, as AWS's table has them
/// (docs/runtime-facts.md §6b), each with its OS profile.
const RUNTIMES: &[(&str, &str)] = &[
    ("java8.al2", "amazonlinux-2"),
    ("java11", "amazonlinux-2"),
    ("java17", "amazonlinux-2"),
    ("java21", "amazonlinux-2023"),
    ("java25", "amazonlinux-2023"),
    ("java8.al2023", "amazonlinux-2023"),
    ("java11.al2023", "amazonlinux-2023"),
    ("java17.al2023", "amazonlinux-2023"),
    ("ruby3.2", "amazonlinux-2"),
    ("ruby3.3", "amazonlinux-2023"),
    ("ruby3.4", "amazonlinux-2023"),
    ("ruby4.0", "amazonlinux-2023"),
    ("dotnet8", "amazonlinux-2023"),
    ("dotnet10", "amazonlinux-2023"),
];

/// A JNI library as g++ on this machine builds it: `JNI_OnLoad` starts a
/// thread (`pthread_create@GLIBC_2.34`), uses a `std::string`
/// (libstdc++'s `GLIBCXX_3.4.21`) and asks the JVM for its VMs
/// (`JNI_GetCreatedJavaVMs`, libjvm's: left undefined, as a JNI library
/// leaves what the JVM's process provides).
fn jni_library(dir: &Path) -> PathBuf {
    let library = dir.join("libnative.so");
    let source = r#"
#include <pthread.h>
#include <string>
extern "C" {
struct JavaVM_;
int JNI_GetCreatedJavaVMs(JavaVM_ **, int, int *);
static void *work(void *arg) { return arg; }
int JNI_OnLoad(JavaVM_ *vm, void *reserved) {
    pthread_t thread;
    pthread_create(&thread, 0, work, 0);
    std::string name(reserved ? "reserved" : "none");
    int count = 0;
    JNI_GetCreatedJavaVMs(&vm, 1, &count);
    return 0x00150000 + (int)name.size() * 0 + count * 0;
}
}
"#;
    cxx(&library, source, &["-shared", "-fPIC"]);
    library
}

/// A native gem's extension: it parses a float with `std::from_chars`
/// (`GLIBCXX_3.4.29`: gcc 11's libstdc++, Amazon Linux 2023's, not gcc 7's
/// of Amazon Linux 2) and hands it to Ruby (`rb_float_new`, libruby's).
fn native_gem(dir: &Path) -> PathBuf {
    let extension = dir.join("native.so");
    let source = r#"
#include <charconv>
#include <cstring>
extern "C" {
typedef unsigned long VALUE;
VALUE rb_float_new(double);
VALUE native_parse(const char *text) {
    double value = 0;
    std::from_chars(text, text + std::strlen(text), value);
    return rb_float_new(value);
}
void Init_native(void) {}
}
"#;
    cxx(&extension, source, &["-std=c++17", "-shared", "-fPIC"]);
    extension
}

/// `check ARGS... ARTIFACT`, at the pinned date 2026-01-01.
fn matrix(args: &[&str], artifact: &Path) -> Run {
    check_at("2026-01-01", args, artifact)
}

#[test]
fn a_jni_library_linked_on_a_new_glibc_loads_on_java21_and_not_on_java11() {
    let work = tempfile::tempdir().unwrap();
    let library = jni_library(work.path());
    let run = matrix(&["--profile", "java11", "--profile", "java21"], &library);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().take(2).collect();
    assert_verdict_line(
        &run.stdout,
        0,
        "java11 x86_64: WILL NOT LOAD",
        "needs version GLIBC_2.34 of libc.so.6",
    );
    assert_eq!(lines[1], "java21 x86_64: loads", "{}", run.stdout);

    let (code, report) = check_json("java11", None, &library);
    assert_eq!(code, 1);
    let missing = findings(&report, "missing-version");
    assert_eq!(missing.len(), 1, "{report:#}");
    assert_eq!(missing[0]["version"], "GLIBC_2.34");
    assert_eq!(missing[0]["symbols"][0], "pthread_create@GLIBC_2.34");

    // On Amazon Linux 2023 glibc and libstdc++ are judged name by name;
    // the JVM's function is the one symbol left unverified, not guessed.
    let (code, report) = check_json("java21", None, &library);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["findings"], Value::Array(Vec::new()), "{report:#}");
    assert_eq!(report["unverified_symbols"], 1, "{report:#}");
    let closure: Vec<&Value> = report["closure"].as_array().unwrap().iter().collect();
    assert!(closure
        .iter()
        .any(|o| o["role"] == "host" && o["path"] == "/var/lang/bin/java"));
    assert!(closure
        .iter()
        .any(|o| o["name"] == "libstdc++.so.6" && o["source"] == "runtime"));
    let human = audit_on(&["check", "--profile", "java21"], &library);
    assert!(
        human
            .stdout
            .contains("note: 1 undefined symbol could not be checked by name")
            && human.stdout.contains("host.note"),
        "{}",
        human.stdout
    );
}

/// A JNI library linked against libjvm (`-ljvm`, here a stub of it that
/// is not packaged): its `DT_NEEDED` libjvm.so is the JVM's own copy, in the
/// process before it, and its symbol from there is unverified; in Ruby's
/// process there is none.
#[test]
fn a_jni_library_needing_libjvm_gets_the_jvms_copy() {
    let work = tempfile::tempdir().unwrap();
    let stub = work.path().join("stub/libjvm.so");
    shared(
        &stub,
        "int JNI_GetCreatedJavaVMs(void *vms, int size, int *count) { return size + (vms == count); }\n",
        &["-Wl,-soname,libjvm.so"],
    );
    let library = work.path().join("task/libjvmlinked.so");
    let link = format!("-L{}", stub.parent().unwrap().display());
    shared(
        &library,
        "int JNI_GetCreatedJavaVMs(void *, int, int *);\n\
         int JNI_OnLoad(void *vm, void *reserved) { int n = 0; return JNI_GetCreatedJavaVMs(vm, 1, &n) + (reserved != 0); }\n",
        &[&link, "-ljvm"],
    );
    let (code, report) = check_json("java21", None, &library);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["unverified_symbols"], 1, "{report:#}");
    let (code, report) = check_json("ruby3.3", None, &library);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "missing-library")[0]["library"],
        "libjvm.so"
    );
    let shown = audit(["profile", "show", "java21"]).stdout;
    let host = &serde_json::from_str::<Value>(&shown).unwrap()["host"];
    assert_eq!(
        host["loaded"],
        serde_json::json!(["libjvm.so", "libjava.so"])
    );
}

#[test]
fn a_native_gem_needing_gcc_11s_libstdcxx_loads_on_al2023_rubies_only() {
    let work = tempfile::tempdir().unwrap();
    let gem = native_gem(work.path());
    let args = [
        "-p", "ruby3.2", "-p", "ruby3.3", "-p", "ruby4.0", "-p", "dotnet8",
    ];
    let run = matrix(&args, &gem);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().take(4).collect();
    assert_verdict_line(
        &run.stdout,
        0,
        "ruby3.2 x86_64: WILL NOT LOAD",
        "needs version GLIBCXX_3.4.29 of libstdc++.so.6",
    );
    assert_eq!(
        lines[1..],
        [
            "ruby3.3 x86_64: loads",
            "ruby4.0 x86_64: loads",
            "dotnet8 x86_64: loads"
        ]
    );
}

#[test]
fn profile_show_says_which_host_exports_the_profile_lacks() {
    for (name, own) in [
        ("java21", "the JVM's own exports"),
        ("ruby3.3", "libruby's exports"),
        ("dotnet8", "the .NET host's exports"),
    ] {
        for arch in ["x86_64", "arm64"] {
            let run = audit(["profile", "show", name, "--arch", arch]);
            assert_eq!(run.code, 0, "{}", run.stderr);
            let profile = stdout_json(&run);
            let host = &profile["host"];
            assert!(host.get("exports").is_none(), "{name}: {host:#}");
            assert!(host.get("export_prefixes").is_none(), "{name}: {host:#}");
            let note = host["note"].as_str().unwrap_or_default();
            assert!(
                note.starts_with(&format!("Not in this profile: {own}"))
                    && note.contains("counted as unverified, not judged"),
                "{name}: {note}"
            );
            assert!(
                profile["description"].as_str().unwrap().contains(own),
                "{name}"
            );
        }
    }
}

#[test]
fn each_runtime_is_its_os_on_both_architectures_with_its_dates() {
    let list = audit(["profile", "list"]).stdout;
    for (name, os) in RUNTIMES {
        let line = list
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not in profile list:\n{list}"));
        assert_eq!(
            line.split_whitespace().nth(1),
            Some("x86_64,arm64"),
            "{line}"
        );
        for (arch, loader) in [
            ("x86_64", "ld-linux-x86-64.so.2"),
            ("arm64", "ld-linux-aarch64.so.1"),
        ] {
            let shown = audit(["profile", "show", name, "--arch", arch]).stdout;
            let profile: Value = serde_json::from_str(&shown).unwrap();
            let base = stdout_json(&audit(["profile", "show", os, "--arch", arch]));
            assert_eq!(profile["runtime"]["os"], *os, "{name}");
            assert_eq!(
                profile["runtime"]["architectures"],
                serde_json::json!(["x86_64", "arm64"])
            );
            assert!(profile["runtime"]["deprecated"].is_string(), "{name}");
            // The OS's libraries, as the OS profile has them.
            assert_eq!(profile["libraries"], base["libraries"], "{name} {arch}");
            assert!(shown.contains(loader), "{name} {arch}");
        }
    }
}

#[test]
fn a_deprecated_runtime_names_the_newest_of_its_language() {
    let work = tempfile::tempdir().unwrap();
    let gem = native_gem(work.path());
    for (name, since, newest) in [
        ("ruby3.2", "2026-03-31", "ruby4.0"),
        ("dotnet8", "2026-11-10", "dotnet10"),
        ("java11", "2027-06-30", "java25"),
    ] {
        let run = check_at(since, &["-p", name], &gem);
        assert_eq!(
            run.stderr,
            format!("lambda-audit: warning: {name} is deprecated since {since}: use {newest}\n")
        );
    }
    let run = check_at("2027-06-29", &["-p", "java11"], &gem);
    assert_eq!(run.stderr, "");
}

/// A module of Python 3.14's stable ABI (`PyLong_FromInt64`, new in 3.14):
/// named as undefined on python3.13, loading on python3.14, on each
/// architecture's profile (the arm64 one read from Debian's arm64 build).
#[test]
fn python314_has_its_own_c_api_and_module_suffixes() {
    let work = tempfile::tempdir().unwrap();
    let module = work.path().join("fast.abi3.so");
    let source = "long PyLong_FromInt64(long);\n\
                  void *PyInit_fast(void) { return (void *)PyLong_FromInt64(3); }\n";
    shared(&module, source, &[]);
    let run = matrix(&["-p", "python3.13", "-p", "python3.14"], &module);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().take(2).collect();
    assert_verdict_line(
        &run.stdout,
        0,
        "python3.13 x86_64: WILL NOT LOAD",
        "PyLong_FromInt64",
    );
    assert_eq!(lines[1], "python3.14 x86_64: loads");
    for (arch, triplet) in [
        ("x86_64", "x86_64-linux-gnu"),
        ("arm64", "aarch64-linux-gnu"),
    ] {
        let shown = audit(["profile", "show", "python3.14", "--arch", arch]).stdout;
        let profile: Value = serde_json::from_str(&shown).unwrap();
        let host = &profile["host"];
        assert_eq!(host["executable"], "/var/lang/bin/python3.14");
        assert_eq!(
            host["extension_suffixes"],
            serde_json::json!([format!(".cpython-314-{triplet}.so"), ".abi3.so", ".so"])
        );
        let exports = str_array(&host["exports"]);
        assert!(exports.contains(&"PyLong_FromInt64"), "{arch}");
        assert_eq!(profile["runtime"]["os"], "amazonlinux-2023");
        assert!(profile["runtime"].get("replacement").is_none());
    }
}

/// A stand-in `liblzma.so.5` with xz's version nodes up to `XZ_5.4`, and a
/// bootstrap linked against it needing `node`'s function (the host's own
/// liblzma differs by Debian release). Neither is in the package.
fn lzma_program(dir: &Path, node: &str) -> PathBuf {
    let script = dir.join("link/liblzma.map");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(
        &script,
        "XZ_5.0 { lzma_version_number; };\nXZ_5.2 { lzma_cputhreads; } XZ_5.0;\n\
         XZ_5.4 { lzma_file_info_decoder; } XZ_5.2;\n",
    )
    .unwrap();
    let stand_in = dir.join("link/liblzma.so.5");
    shared(
        &stand_in,
        "unsigned lzma_version_number(void) { return 0; }\n\
         unsigned lzma_cputhreads(void) { return 1; }\n\
         int lzma_file_info_decoder(void) { return 0; }\n",
        &[
            "-Wl,-soname,liblzma.so.5",
            &format!("-Wl,--version-script={}", script.display()),
        ],
    );
    let function = match node {
        "XZ_5.2" => "lzma_cputhreads",
        "XZ_5.4" => "lzma_file_info_decoder",
        _ => unreachable!(),
    };
    let program = dir.join(format!("{node}/bootstrap"));
    common::cc(
        &program,
        &format!(
            "extern unsigned lzma_version_number(void); extern int {function}(void);\n\
             int main(void) {{ return (int)lzma_version_number() + (int){function}(); }}\n"
        ),
        &[stand_in.to_str().unwrap()],
    );
    program
}

/// (issue 29) liblzma.so.5 is in Amazon Linux 2023's image (xz-libs 5.2.5,
/// which its rpm library needs: docs/runtime-facts.md §3): a program needing
/// it at `XZ_5.0` and `XZ_5.2` loads on provided.al2023 and the runtimes on
/// that OS, where the profile called it missing before; one needing a node
/// of a later xz (`XZ_5.4`) does not, and Amazon Linux 2 still has none.
#[test]
fn liblzma_5_2_is_in_amazon_linux_2023_and_nothing_newer() {
    let dir = tempfile::tempdir().unwrap();
    let xz_5_2 = lzma_program(dir.path(), "XZ_5.2");
    let xz_5_4 = lzma_program(dir.path(), "XZ_5.4");
    for runtime in ["provided.al2023", "java21", "ruby3.4"] {
        let (code, report) = check_json(runtime, None, &xz_5_2);
        assert_eq!(code, 0, "{runtime}: {report:#}");
        let (code, report) = check_json(runtime, None, &xz_5_4);
        assert_eq!(code, 1, "{runtime}: {report:#}");
        let missing = findings(&report, "missing-version");
        assert_eq!(missing.len(), 1, "{runtime}: {report:#}");
        assert_eq!(missing[0]["library"], "liblzma.so.5", "{runtime}");
        assert_eq!(missing[0]["version"], "XZ_5.4", "{runtime}");
    }
    let (code, report) = check_json("provided.al2", None, &xz_5_2);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(findings(&report, "missing-library").len(), 1, "{report:#}");
}
