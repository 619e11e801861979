//! `check` of several runtimes in one run (`--profile A --profile B`, `--arch`
//! twice): the matrix, its JSON and exit status; and the deprecation
//! warning, judged at a date the test pins (`--today`). Every fixture is
//! built here with gcc.

mod common;

use std::path::{Path, PathBuf};

use common::{
    assert_verdict_line, audit, cc, check_at, findings, shared, stdout_json, zip_package, Run,
};
use serde_json::Value;

/// A program as this machine's gcc links it: glibc 2.34 or later gives it
/// `__libc_start_main@GLIBC_2.34`, which Amazon Linux 2023 (glibc 2.34)
/// defines and Amazon Linux 2 (glibc 2.26) does not.
fn new_glibc_program(dir: &Path) -> PathBuf {
    let program = dir.join("bootstrap");
    cc(&program, "int main(void) { return 0; }\n", &[]);
    program
}

/// A function package (a zip, written by `lambda-audit zip`) whose
/// `bootstrap` needs libcrypt.so.1's `crypt@GLIBC_2.2.5`, as a program
/// linked on Amazon Linux 2 does: glibc's libcrypt, which Amazon Linux 2
/// has and Amazon Linux 2023 does not. Its own `_start` keeps it from
/// needing a newer glibc's `__libc_start_main`.
fn libcrypt_function_zip(dir: &Path) -> PathBuf {
    let crypt = dir.join("crypt");
    std::fs::create_dir_all(&crypt).unwrap();
    let map = crypt.join("crypt.map");
    std::fs::write(&map, "GLIBC_2.2.5 { global: crypt; local: *; };\n").unwrap();
    let script = format!("-Wl,--version-script={}", map.display());
    shared(
        &crypt.join("libcrypt.so.1"),
        "char *crypt(const char *k, const char *s) { return (char *)s + (k == 0); }\n",
        &["-Wl,-soname,libcrypt.so.1", &script],
    );
    let package = dir.join("package");
    let libs = format!("-L{}", crypt.display());
    cc(
        &package.join("bootstrap"),
        "char *crypt(const char *, const char *);\n\
         void _start(void) { crypt(\"k\", \"$1$salt\"); for (;;) {} }\n",
        &["-nostartfiles", &libs, "-l:libcrypt.so.1"],
    );
    let zip = dir.join("function.zip");
    let run = zip_package(&package, &zip, "provided.al2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    zip
}

/// `check ARGS... ARTIFACT`, at the pinned date 2026-12-01.
fn check(args: &[&str], artifact: &Path) -> Run {
    check_at("2026-12-01", args, artifact)
}

#[test]
fn a_program_for_a_newer_glibc_loads_in_al2023_not_al2() {
    let work = tempfile::tempdir().unwrap();
    let program = new_glibc_program(work.path());
    let run = check(
        &["--profile", "provided.al2", "--profile", "provided.al2023"],
        &program,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_verdict_line(
        &run.stdout,
        0,
        "provided.al2 x86_64: WILL NOT LOAD: ",
        "needs version GLIBC_2.34 of libc.so.6",
    );
    assert_eq!(lines[1], "provided.al2023 x86_64: loads");
    // Then each combination's report, as one run of it prints it.
    assert!(run.stdout.contains("\n== provided.al2 x86_64 ==\n"));
    let alone = check(&["-p", "provided.al2023"], &program);
    assert_eq!(alone.code, 0);
    assert!(
        run.stdout
            .ends_with(&format!("\n== provided.al2023 x86_64 ==\n{}", alone.stdout)),
        "{}",
        run.stdout
    );
}

#[test]
fn the_migration_answer_names_the_soname_al2023_lacks() {
    let work = tempfile::tempdir().unwrap();
    let zip = libcrypt_function_zip(work.path());
    let run = check(
        &["--profile", "provided.al2", "--profile", "provided.al2023"],
        &zip,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "provided.al2 x86_64: loads");
    assert_verdict_line(
        &run.stdout,
        1,
        "provided.al2023 x86_64: WILL NOT LOAD: ",
        "bootstrap needs libcrypt.so.1: not found",
    );
    // Every combination loads: exit 0.
    let run = check(
        &["--profile", "provided.al2", "--profile", "amazonlinux-2"],
        &zip,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run
        .stdout
        .starts_with("provided.al2 x86_64: loads\namazonlinux-2 x86_64: loads\n"));
}

#[test]
fn the_matrix_json_has_one_entry_per_combination() {
    let work = tempfile::tempdir().unwrap();
    let zip = libcrypt_function_zip(work.path());
    let run = check(
        &[
            "--json",
            "--profile",
            "provided.al2",
            "--profile",
            "provided.al2023",
        ],
        &zip,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = stdout_json(&run);
    assert_eq!(doc["schema"], "lambda-audit.check/1");
    assert_eq!(doc["loads"], false);
    let all = doc["combinations"].as_array().unwrap();
    assert_eq!(all.len(), 2, "{doc:#}");
    let (al2, al2023) = (&all[0], &all[1]);
    assert_eq!(
        (&al2["profile"], &al2["arch"], &al2["loads"], &al2["exists"]),
        (
            &Value::from("provided.al2"),
            &Value::from("x86_64"),
            &Value::from(true),
            &Value::from(true)
        )
    );
    assert_eq!(al2["deprecated"]["since"], "2026-07-31");
    assert_eq!(al2["deprecated"]["use"], "provided.al2023");
    assert_eq!(al2023["loads"], false);
    assert!(al2023.get("deprecated").is_none(), "{al2023:#}");
    let missing = findings(&al2023["artifacts"][0], "missing-library");
    assert_eq!(missing[0]["library"], "libcrypt.so.1");
    assert_eq!(
        al2023["artifacts"][0]["path"],
        format!("{}!/bootstrap", zip.display())
    );
}

#[test]
fn a_combination_lambda_does_not_have_is_named_not_fatal() {
    let work = tempfile::tempdir().unwrap();
    let program = new_glibc_program(work.path());
    let run = check(
        &[
            "-p",
            "python3.6",
            "-p",
            "provided.al2023",
            "--arch",
            "x86_64",
            "--arch",
            "arm64",
        ],
        &program,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("python3.6 x86_64: WILL NOT LOAD: "));
    assert!(
        lines[1].starts_with("no such runtime: python3.6 is x86_64 only"),
        "{}",
        run.stdout
    );
    assert_eq!(lines[2], "provided.al2023 x86_64: loads");
    assert!(lines[3].starts_with("provided.al2023 arm64: WILL NOT LOAD: "));
    let run = check(
        &[
            "--json",
            "-p",
            "python3.6",
            "-p",
            "python3.12",
            "--arch",
            "arm64",
        ],
        &program,
    );
    let doc = stdout_json(&run);
    assert_eq!(doc["combinations"][0]["exists"], false);
    assert!(doc["combinations"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("x86_64 only"));
    assert_eq!(doc["combinations"][1]["exists"], true);
    // None exists: the run's input is unusable.
    let run = check(
        &[
            "-p",
            "python3.6",
            "-p",
            "amazonlinux-2017.03-python3.6",
            "--arch",
            "arm64",
        ],
        &program,
    );
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run
        .stderr
        .contains("no combination of --profile and --arch exists"));
}

#[test]
fn a_deprecated_runtime_gets_one_warning_and_the_same_exit_status() {
    let work = tempfile::tempdir().unwrap();
    let module = work.path().join("mod.so");
    shared(&module, "void PyInit_mod(void) {}\n", &[]);
    let program = new_glibc_program(work.path());
    let at = |date: &str, profile: &str, artifact: &Path, json: bool| {
        let mut args = vec!["-p", profile];
        if json {
            args.push("--json");
        }
        check_at(date, &args, artifact)
    };
    // The phase at the run's date: python3.6's functions can be neither
    // created nor updated any more; provided.al2's still can (until 2027).
    for (profile, artifact, since, replacement, before, phase) in [
        (
            "python3.6",
            &module,
            "2022-07-18",
            "python3.14",
            "2022-07-17",
            ": new functions blocked since 2022-07-18, updates blocked since 2022-08-29",
        ),
        (
            "provided.al2",
            &program,
            "2026-07-31",
            "provided.al2023",
            "2026-07-30",
            " is deprecated since 2026-07-31",
        ),
    ] {
        let deprecated = at("2026-12-01", profile, artifact, false);
        let warning = format!("lambda-audit: warning: {profile}{phase}: use {replacement}\n");
        assert_eq!(deprecated.stderr, warning, "{}", deprecated.stderr);
        let earlier = at(before, profile, artifact, false);
        assert_eq!(earlier.stderr, "");
        // The warning changes neither the report nor the exit status.
        assert_eq!(earlier.stdout, deprecated.stdout);
        assert_eq!(earlier.code, deprecated.code);
        let doc = stdout_json(&at("2026-12-01", profile, artifact, true));
        assert_eq!(doc["deprecated"]["since"], since);
        assert_eq!(doc["deprecated"]["use"], replacement);
        assert!(doc["deprecated"]["blocks_create"].is_string(), "{doc:#}");
        assert!(doc["deprecated"]["blocks_update"].is_string(), "{doc:#}");
        let doc = stdout_json(&at(before, profile, artifact, true));
        assert!(doc.get("deprecated").is_none(), "{doc:#}");
    }
    // A runtime whose date is later gets none.
    let run = at("2026-12-01", "provided.al2023", &program, false);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let run = at("2026-12-32", "provided.al2023", &program, false);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--today \"2026-12-32\": not a date"));
}

#[test]
fn each_runtime_profile_carries_its_os_and_architectures() {
    let show = |name: &str| -> Value { stdout_json(&audit(["profile", "show", name])) };
    let al2 = show("provided.al2");
    assert_eq!(al2["runtime"]["os"], "amazonlinux-2");
    assert_eq!(
        al2["runtime"]["architectures"],
        serde_json::json!(["x86_64", "arm64"])
    );
    let py36 = show("python3.6");
    assert_eq!(py36["runtime"]["os"], "amazonlinux-2017.03");
    assert_eq!(
        py36["runtime"]["architectures"],
        serde_json::json!(["x86_64"])
    );
    assert_eq!(show("python3.12")["runtime"]["deprecated"], "2028-10-31");
    assert_eq!(show("python3.12")["runtime"]["replacement"], "python3.14");
    // The newest of its language names none.
    assert!(show("python3.14")["runtime"].get("replacement").is_none());
    // An OS profile is no runtime.
    assert!(show("amazonlinux-2023").get("runtime").is_none());
}

/// (issue 28, decision) Spellings of one profile file (`p.json`,
/// `./p.json`, `d/../p.json`, a link to it) are one profile: judged once,
/// as a single run (they were a matrix of as many combinations, each file
/// read again: 1,000 spellings peaked at 904 MiB). Two files are two.
#[test]
fn spellings_of_one_profile_file_are_one_profile() {
    let work = tempfile::tempdir().unwrap();
    let module = work.path().join("mod.so");
    shared(&module, "void *PyInit_mod(void) { return 0; }\n", &[]);
    let mut profile = stdout_json(&audit(["profile", "show", "python3.12"]));
    profile["name"] = "mine".into();
    let file = work.path().join("p.json");
    std::fs::write(&file, profile.to_string()).unwrap();
    std::fs::create_dir(work.path().join("d")).unwrap();
    std::os::unix::fs::symlink(&file, work.path().join("link.json")).unwrap();
    let dir = work.path().to_str().unwrap();
    let spellings = [
        format!("{dir}/p.json"),
        format!("{dir}/./p.json"),
        format!("{dir}/d/../p.json"),
        format!("{dir}//link.json"),
    ];
    let mut args = vec!["check"];
    for spelling in &spellings {
        args.extend(["--profile", spelling]);
    }
    let once = common::audit_on(&["check", "--profile", &spellings[0]], &module);
    let run = common::audit_on(&args, &module);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, once.stdout);
    profile["name"] = "other".into();
    let other = work.path().join("other.json");
    std::fs::write(&other, profile.to_string()).unwrap();
    let two = common::audit_on(
        &[
            "check",
            "--profile",
            &spellings[1],
            "--profile",
            other.to_str().unwrap(),
        ],
        &module,
    );
    assert_eq!(two.code, 0, "{}{}", two.stdout, two.stderr);
    assert!(
        two.stdout
            .starts_with("mine x86_64: loads\nother x86_64: loads\n"),
        "{}",
        two.stdout
    );
}
