//! The audit against ELF fixtures built at test time (tests/fixtures), run
//! through the real binary. Each case reproduces a way an artifact fails (or
//! does not fail) to load; the differential test against the real loader is
//! tests/test_differential.py.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

/// This machine's library directories (Debian's by default; the Nix check
/// sets LAMBDA_AUDIT_SYSTEM_LIB_DIRS to its glibc and zlib).
fn system_lib_dirs() -> String {
    std::env::var("LAMBDA_AUDIT_SYSTEM_LIB_DIRS")
        .unwrap_or_else(|_| "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu".to_string())
}

/// A system library of this machine, by file name.
fn system_lib(name: &str) -> PathBuf {
    system_lib_dirs()
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{} is in none of {}", name, system_lib_dirs()))
}

/// A profile scanned from this machine: its glibc, its Python as the host, and
/// the 1.0.1 stand-in libcrypto.so.10 first on the search path.
fn host_profile() -> &'static Path {
    static PROFILE: OnceLock<PathBuf> = OnceLock::new();
    PROFILE.get_or_init(|| {
        let out = fixtures().join("host-profile.json");
        let search = format!("{}:{}", fixture("runtime-lib").display(), system_lib_dirs());
        let python = std::env::var("LAMBDA_AUDIT_HOST_PYTHON")
            .unwrap_or_else(|_| "/usr/bin/python3".to_string());
        let run = audit([
            "profile",
            "scan",
            "/",
            "--name",
            "this-machine",
            "--search-path",
            &search,
            "--default-path",
            &search,
            "--host-exe",
            &python,
            "--module-init-prefix",
            "PyInit_",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "scan of / failed: {}", run.stderr);
        out
    })
}

/// Every `name@VERSION` the report says the runtime lacks a version for.
fn missing_symbols(report: &Value) -> Vec<String> {
    findings(report, "missing-version")
        .iter()
        .flat_map(|f| strings(&f["symbols"]))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    str_array(value).into_iter().map(String::from).collect()
}

/// mod_ssleay.so's missing-version finding: `SSLeay_version@OPENSSL_1.0.2`,
/// where the runtime's libcrypto.so.10 defines only 1.0.1 (and 1.0.1_EC).
fn assert_ssleay_version_missing_from_openssl_1_0_1(missing: &Value) {
    assert_eq!(
        strings(&missing["symbols"]),
        ["SSLeay_version@OPENSSL_1.0.2"]
    );
    assert_eq!(
        strings(&missing["runtime_versions"]),
        ["libcrypto.so.10", "OPENSSL_1.0.1", "OPENSSL_1.0.1_EC"]
    );
}

#[test]
fn seed_openssl_failure_names_the_symbol_and_the_runtime_versions() {
    let (code, report) = check_json(AL1, None, &fixture("mod_ssleay.so"));
    assert_eq!(code, 1);
    let missing = findings(&report, "missing-version");
    assert_eq!(missing.len(), 1, "{:#}", report);
    assert_eq!(missing[0]["library"], "libcrypto.so.10");
    assert_eq!(missing[0]["version"], "OPENSSL_1.0.2");
    assert_ssleay_version_missing_from_openssl_1_0_1(missing[0]);

    let text = audit(["check", fixture("mod_ssleay.so").to_str().unwrap()]).stdout;
    assert!(
        text.contains("SSLeay_version@OPENSSL_1.0.2 from libcrypto.so.10: the runtime defines libcrypto.so.10, OPENSSL_1.0.1, OPENSSL_1.0.1_EC"),
        "{}",
        text
    );
}

#[test]
fn scanned_runtime_with_openssl_1_0_1_stand_in_fails_the_same_way() {
    let (code, report) = check_json(
        host_profile().to_str().unwrap(),
        None,
        &fixture("mod_ssleay.so"),
    );
    assert_eq!(code, 1, "{:#}", report);
    let missing = findings(&report, "missing-version");
    assert_eq!(missing.len(), 1, "{:#}", report);
    assert_ssleay_version_missing_from_openssl_1_0_1(missing[0]);
    assert!(missing[0]["library_path"]
        .as_str()
        .unwrap()
        .ends_with("runtime-lib/libcrypto.so.10"));
}

#[test]
fn host_built_module_needs_newer_glibc_and_passes_on_the_host() {
    let (code, report) = check_json(AL1, None, &fixture("mod_newglibc.so"));
    assert_eq!(code, 1);
    let symbols = missing_symbols(&report);
    assert!(
        symbols.contains(&"stat@GLIBC_2.33".to_string()),
        "{:?}",
        symbols
    );
    assert!(
        symbols.contains(&"arc4random@GLIBC_2.36".to_string()),
        "{:?}",
        symbols
    );

    let (code, report) = check_json(
        host_profile().to_str().unwrap(),
        None,
        &fixture("mod_newglibc.so"),
    );
    assert_eq!(code, 0, "{:#}", report);
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{:#}",
        report
    );
}

/// Findings without paths, for comparing two runs.
fn comparable(report: &Value) -> Value {
    let mut findings = report["findings"].clone();
    for f in findings.as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("library_path");
    }
    findings
}

#[test]
fn stripped_copies_give_the_same_findings() {
    let stripped = fixture("stripped");
    let mut compared = 0;
    for entry in std::fs::read_dir(&stripped).unwrap() {
        let path = entry.unwrap().path();
        let sections = Command::new("readelf")
            .args(["-S", "-W"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&sections.stdout).contains(".symtab"),
            "{} kept .symtab",
            path.display()
        );
        let original = fixture(path.file_name().unwrap().to_str().unwrap());
        for profile in [AL1, host_profile().to_str().unwrap()] {
            let (code_a, a) = check_json(profile, None, &original);
            let (code_b, b) = check_json(profile, None, &path);
            assert_eq!(code_a, code_b, "{}", path.display());
            assert_eq!(comparable(&a), comparable(&b), "{}", path.display());
        }
        compared += 1;
    }
    assert!(compared >= 10, "only {} stripped fixtures", compared);
}

#[test]
fn a_weak_symbol_does_not_make_its_version_optional() {
    let (code, report) = check_json(AL1, None, &fixture("mod_weaksym.so"));
    assert_eq!(code, 1);
    let missing = findings(&report, "missing-version");
    assert_eq!(missing[0]["version"], "GLIBC_2.32");
    assert_eq!(missing[0]["weak"], false);
    assert_eq!(missing[0]["severity"], "error");
    assert_eq!(
        strings(&missing[0]["symbols"]),
        ["pthread_attr_getsigmask_np@GLIBC_2.32"]
    );
}

#[test]
fn a_version_need_flagged_weak_only_warns() {
    let (code, report) = check_json(AL1, None, &fixture("mod_weakver.so"));
    assert_eq!(code, 0, "{:#}", report);
    let missing = findings(&report, "missing-version");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["weak"], true);
    assert_eq!(missing[0]["severity"], "warning");
}

#[test]
fn a_weak_undefined_symbol_nobody_defines_is_null_not_an_error() {
    let (code, report) = check_json(AL1, None, &fixture("mod_weakabsent.so"));
    assert_eq!(code, 0, "{:#}", report);
    assert!(report["findings"].as_array().unwrap().is_empty());
}

#[test]
fn an_undefined_symbol_is_named() {
    let (code, report) = check_json(AL1, None, &fixture("mod_undefined.so"));
    assert_eq!(code, 1);
    let undefined = findings(&report, "undefined-symbol");
    assert_eq!(undefined.len(), 1, "{:#}", report);
    assert_eq!(undefined[0]["symbol"], "lambda_audit_undefined_function");
}

#[test]
fn dynamic_libssl_fails_the_policy_with_the_static_link_hint() {
    let (code, report) = check_json(AL1, None, &fixture("mod_ssl.so"));
    assert_eq!(code, 1);
    let forbidden = findings(&report, "forbidden-library");
    assert_eq!(forbidden.len(), 1);
    assert_eq!(forbidden[0]["library"], "libssl.so.10");
    let fix = forbidden[0]["fix"].as_str().unwrap();
    for var in ["OPENSSL_STATIC=1", "OPENSSL_LIB_DIR", "OPENSSL_INCLUDE_DIR"] {
        assert!(fix.contains(var), "{}", fix);
    }
}

#[test]
fn a_bundled_library_shadowed_by_the_system_copy_is_reported() {
    let package = tree(&[
        ("/mod_zlib.so", &fixture("mod_zlib.so")),
        ("/lib/libz.so.1", &system_lib("libz.so.1")),
    ]);
    let (code, report) = check_json(
        AL1,
        Some(package.path()),
        &package.path().join("mod_zlib.so"),
    );
    assert_eq!(
        code, 0,
        "shadowing alone does not stop the load: {:#}",
        report
    );
    let shadowed = findings(&report, "shadowed");
    assert_eq!(shadowed.len(), 1, "{:#}", report);
    assert_eq!(shadowed[0]["bundled"], "/var/task/lib/libz.so.1");
    assert_eq!(shadowed[0]["loaded"], "/lib64/libz.so.1");
    assert_eq!(shadowed[0]["rule"], "LD_LIBRARY_PATH");
    assert_eq!(shadowed[0]["severity"], "warning");
}

/// The closure entry for `name` in a JSON report.
fn loaded<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["closure"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{} is not in the closure: {:#}", name, report))
}

/// DT_RPATH is searched before LD_LIBRARY_PATH, DT_RUNPATH after it: with the
/// runtime's older libversioned.so.1 first on LD_LIBRARY_PATH, only the
/// module with DT_RPATH $ORIGIN/lib gets the package's newer copy.
#[test]
fn rpath_wins_over_ld_library_path_and_runpath_does_not() {
    let profile = host_profile().to_str().unwrap();
    for (module, loads) in [
        ("mod_rpath", true),
        ("mod_runpath", false),
        ("mod_norpath", false),
    ] {
        let file = format!("{}.so", module);
        let package = tree(&[
            (&format!("/{}", file), &fixture(&file)),
            (
                "/lib/libversioned.so.1",
                &fixture("build-lib/libversioned.so.1"),
            ),
        ]);
        let (code, report) = check_json(profile, Some(package.path()), &package.path().join(&file));
        let versioned = loaded(&report, "libversioned.so.1");
        if loads {
            assert_eq!(code, 0, "{}: {:#}", module, report);
            assert_eq!(versioned["path"], "/var/task/lib/libversioned.so.1");
            assert_eq!(versioned["found_by"]["rule"], "rpath");
        } else {
            assert_eq!(code, 1, "{}: {:#}", module, report);
            assert!(versioned["path"]
                .as_str()
                .unwrap()
                .ends_with("runtime-lib/libversioned.so.1"));
            assert_eq!(versioned["found_by"]["rule"], "ld-library-path");
            assert_eq!(missing_symbols(&report), ["versioned_new@VERSIONED_2"]);
            assert_eq!(
                findings(&report, "shadowed")[0]["bundled"],
                "/var/task/lib/libversioned.so.1"
            );
        }
    }
}

#[test]
fn a_library_the_interpreter_loaded_is_not_replaced_even_through_rpath() {
    // The built-in python3.6 profile, with an interpreter that links zlib (as
    // Debian's python3 does): libz.so.1 is loaded before the module is.
    let shown = audit(["profile", "show", AL1]);
    let mut profile = stdout_json(&shown);
    profile["host"]["needed"]
        .as_array_mut()
        .unwrap()
        .push("libz.so.1".into());
    let work = tempfile::tempdir().unwrap();
    let profile_file = work.path().join("python-with-zlib.json");
    std::fs::write(&profile_file, profile.to_string()).unwrap();

    let package = tree(&[
        ("/mod_newzlib_rpath.so", &fixture("mod_newzlib_rpath.so")),
        ("/lib/libz.so.1", &system_lib("libz.so.1")),
    ]);
    let artifact = package.path().join("mod_newzlib_rpath.so");
    let (code, report) = check_json(
        profile_file.to_str().unwrap(),
        Some(package.path()),
        &artifact,
    );
    assert_eq!(code, 1, "{:#}", report);
    assert_eq!(loaded(&report, "libz.so.1")["path"], "/lib64/libz.so.1");
    assert_eq!(loaded(&report, "libz.so.1")["needed_by"], "python3.6");
    assert_eq!(missing_symbols(&report), ["crc32_combine_gen@ZLIB_1.2.12"]);
    assert_eq!(
        findings(&report, "shadowed")[0]["rule"],
        "already loaded by python3.6"
    );

    // With the built-in profile (zlib not preloaded) DT_RPATH finds the package's copy.
    let (code, report) = check_json(AL1, Some(package.path()), &artifact);
    assert_eq!(code, 0, "{:#}", report);
}

#[test]
fn the_loader_stops_at_a_file_that_is_not_elf() {
    // /var/task comes before /var/task/lib: the text file there ends the search.
    let package = tree(&[
        ("/mod_vendored.so", &fixture("mod_vendored.so")),
        ("/libvendored.so.1", &fixture("not-elf.so.1")),
        (
            "/lib/libvendored.so.1",
            &fixture("build-lib/libvendored.so.1"),
        ),
    ]);
    let artifact = package.path().join("mod_vendored.so");
    let (code, report) = check_json(AL1, Some(package.path()), &artifact);
    assert_eq!(code, 1, "{:#}", report);
    let broken = findings(&report, "broken-library");
    assert_eq!(broken.len(), 1, "{:#}", report);
    assert_eq!(broken[0]["path"], "/var/task/libvendored.so.1");
    // Without the text file, lib/ provides it.
    std::fs::remove_file(package.path().join("libvendored.so.1")).unwrap();
    let (code, report) = check_json(AL1, Some(package.path()), &artifact);
    assert_eq!(code, 0, "{:#}", report);
}

#[test]
fn a_missing_library_lists_where_it_was_searched() {
    let (code, report) = check_json(AL1, None, &fixture("mod_missing.so"));
    assert_eq!(code, 1);
    let missing = findings(&report, "missing-library");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["library"], "libabsent.so.1");
    let searched = strings(&missing[0]["searched"]);
    assert_eq!(searched[0], "/var/lang/lib/libabsent.so.1");
    assert!(searched.contains(&"/var/task/lib/libabsent.so.1".to_string()));
}

#[test]
fn other_architectures_are_named() {
    for (file, arch) in [
        ("cross/plain-i386.so", "i386"),
        ("cross/plain-aarch64.so", "aarch64"),
    ] {
        let (code, report) = check_json(AL1, None, &fixture(file));
        assert_eq!(code, 1);
        let wrong = findings(&report, "wrong-arch");
        assert_eq!(wrong.len(), 1, "{:#}", report);
        assert_eq!(wrong[0]["found"], arch);
        assert_eq!(wrong[0]["expected"], "x86_64");
    }
}

#[test]
fn a_program_is_judged_against_the_provided_runtimes() {
    let (code, report) = check_json("amazonlinux-2", None, &fixture("bootstrap"));
    assert_eq!(code, 1);
    let missing = findings(&report, "missing-version");
    assert!(
        missing
            .iter()
            .any(|f| strings(&f["symbols"]).contains(&"__libc_start_main@GLIBC_2.34".to_string())),
        "{:#}",
        report
    );
    assert!(
        missing[0]["fix"]
            .as_str()
            .unwrap()
            .contains("x86_64-unknown-linux-gnu.2.26"),
        "{:#}",
        report
    );
    let (code, report) = check_json("amazonlinux-2023", None, &fixture("bootstrap"));
    assert_eq!(code, 0, "{:#}", report);
    // A program is not a Python module: the python3.6 profile says so.
    let (code, report) = check_json(AL1, None, &fixture("bootstrap"));
    assert_eq!(code, 1);
    assert!(
        !findings(&report, "not-loadable").is_empty(),
        "{:#}",
        report
    );
}

#[test]
fn a_plain_library_is_not_an_importable_module() {
    // Named as a module file (`.so`), it still lacks the init function.
    let work = tempfile::tempdir().unwrap();
    let module = work.path().join("libvendored.so");
    std::fs::copy(fixture("build-lib/libvendored.so.1"), &module).unwrap();
    let (code, report) = check_json(AL1, None, &module);
    assert_eq!(code, 1);
    let not_loadable = findings(&report, "not-loadable");
    assert!(
        not_loadable[0]["reason"]
            .as_str()
            .unwrap()
            .contains("PyInit_libvendored"),
        "{:#}",
        report
    );
    // Under its versioned name no `import` ever opens it (python3.6 accepts
    // .cpython-36m-x86_64-linux-gnu.so, .abi3.so and .so only).
    let (code, report) = check_json(AL1, None, &fixture("build-lib/libvendored.so.1"));
    assert_eq!(code, 1);
    let reason = findings(&report, "not-loadable")[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("libvendored.abi3.so") && reason.contains("never opens libvendored.so.1"),
        "{reason}"
    );
}

fn readelf_dynamic(path: &Path) -> String {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `lambda-audit bundle --out OUT ARGS…`.
fn bundle(out: &Path, args: &[&str]) -> Run {
    audit(
        ["bundle", "--out", out.to_str().unwrap()]
            .iter()
            .chain(args),
    )
}

#[test]
fn bundle_vendors_what_is_missing_and_makes_it_unshadowable() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("package");
    let run = bundle(
        &out,
        &[
            "--library-path",
            // This machine's libz (newer than the runtime's) is vendored too.
            &format!("{}:{}", fixture("build-lib").display(), system_lib_dirs()),
            fixture("mod_vendored.so").to_str().unwrap(),
            fixture("mod_newzlib.so").to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let libs: Vec<String> = std::fs::read_dir(out.join("lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(libs.len(), 2, "{:?}", libs);
    let libz = libs
        .iter()
        .find(|n| n.starts_with("libz-"))
        .expect("libz vendored under a unique name");
    assert!(
        libz.ends_with(".so.1") && libz.len() == "libz-12345678.so.1".len(),
        "{}",
        libz
    );

    let dynamic = readelf_dynamic(&out.join("mod_newzlib.so"));
    assert!(
        dynamic.contains(&format!("Shared library: [{}]", libz)),
        "{}",
        dynamic
    );
    assert!(
        dynamic.contains("(RPATH)") && dynamic.contains("[$ORIGIN/lib]"),
        "{}",
        dynamic
    );
    assert!(!dynamic.contains("RUNPATH"), "{}", dynamic);
    assert!(readelf_dynamic(&out.join("lib").join(libz))
        .contains(&format!("Library soname: [{}]", libz)));

    for module in ["mod_vendored.so", "mod_newzlib.so"] {
        let (code, report) = check_json(AL1, Some(&out), &out.join(module));
        assert_eq!(code, 0, "{:#}", report);
        let tree = audit([
            "tree",
            "--bundle-dir",
            out.to_str().unwrap(),
            out.join(module).to_str().unwrap(),
        ])
        .stdout;
        assert!(tree.contains("DT_RPATH of"), "{}", tree);
    }
    // The originals are untouched.
    assert!(readelf_dynamic(&fixture("mod_newzlib.so")).contains("Shared library: [libz.so.1]"));
}

#[test]
fn bundle_refuses_what_cannot_be_vendored_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("package");
    let run = bundle(&out, &[fixture("mod_newglibc.so").to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("glibc cannot be vendored")
            && run.stderr.contains("(glibc 2.17)")
            && run.stderr.contains("x86_64-unknown-linux-gnu.2.17"),
        "{}",
        run.stderr
    );
    // A glibc library the runtime lacks altogether (Amazon Linux 2023 builds
    // glibc without libcrypt) is not "a newer" one. The program needs a
    // libcrypt.so.1 made here (the machine's own may be missing or .so.2).
    let crypt_dir = tempfile::tempdir().unwrap();
    shared(
        &crypt_dir.path().join("libcrypt.so.1"),
        "char *crypt(const char *k, const char *s) { return (char *)s + (k == 0); }\n",
        &["-Wl,-soname,libcrypt.so.1"],
    );
    let program = work.path().join("bootstrap");
    let libs = format!("-L{}", crypt_dir.path().display());
    cc(
        &program,
        "char *crypt(const char *, const char *);\n\
         int main(void) { return crypt(\"k\", \"$1$salt\") == 0; }\n",
        &[&libs, "-l:libcrypt.so.1"],
    );
    let run = audit([
        "bundle",
        "--profile",
        "provided.al2023",
        "--out",
        out.to_str().unwrap(),
        program.to_str().unwrap(),
    ]);
    expect_stderr(
        &run,
        1,
        "needs libcrypt.so.1, a part of glibc that provided.al2023 does not have",
    );
    std::fs::remove_file(&program).unwrap();
    let run = bundle(&out, &[fixture("mod_ssl.so").to_str().unwrap()]);
    expect_stderr(&run, 1, "OPENSSL_STATIC");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "half-written files left: {:?}",
        leftovers
    );
}

/// `bundle` replaces --out whole, so an --out that is the working directory,
/// holds it, holds an input, or is a file is refused before anything is
/// touched (it used to delete the working directory's content).
#[test]
fn bundle_refuses_an_out_it_would_destroy_and_touches_nothing() {
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("proj");
    std::fs::create_dir_all(project.join("sub")).unwrap();
    std::fs::write(project.join("keep.txt"), "mine").unwrap();
    std::fs::copy(fixture("mod_ok.so"), project.join("mod.so")).unwrap();
    let file = project.join("notes.txt");
    std::fs::write(&file, "a file").unwrap();
    let before = |dir: &Path| common::tree_listing(dir);
    let listing = before(work.path());
    let in_project = |out: &str, input: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_lambda-audit"))
            .current_dir(project.join("sub"))
            .args(["bundle", "--out", out, input])
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let module = project.join("mod.so");
    let module = module.to_str().unwrap();
    for (out, says) in [
        (".", "is the working directory or holds it"),
        ("..", "is the working directory or holds it"),
        ("../sub/..", "is the working directory or holds it"),
        (
            project.to_str().unwrap(),
            "is the working directory or holds it",
        ),
        (file.to_str().unwrap(), "exists and is not a directory"),
    ] {
        let (code, stderr) = in_project(out, module);
        assert_eq!(code, 2, "--out {out}: {stderr}");
        assert!(
            stderr.contains(says) && stderr.trim().lines().count() == 1,
            "--out {out}: {stderr}"
        );
        assert_eq!(before(work.path()), listing, "--out {out} changed the tree");
    }
    // An --out that holds the input (from outside it).
    let run = bundle(&project, &[module]);
    expect_stderr(&run, 2, "holds the input");
    assert_eq!(before(work.path()), listing);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a file");
}

/// `lambda-audit zip --out OUT PACKAGE`.
fn zip_dir(package: &Path, out: &Path) -> Run {
    audit([
        "zip",
        "--out",
        out.to_str().unwrap(),
        package.to_str().unwrap(),
    ])
}

#[test]
fn zip_is_reproducible_sorted_and_moded() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    vendored_package(&package);
    std::fs::write(package.join("README.txt"), "hello\n").unwrap();
    let zip_with = |name: &str, epoch: &str| {
        let out = work.path().join(name);
        let output = Command::new(env!("CARGO_BIN_EXE_lambda-audit"))
            .args([
                "zip",
                "--out",
                out.to_str().unwrap(),
                package.to_str().unwrap(),
            ])
            .env("SOURCE_DATE_EPOCH", epoch)
            .output()
            .unwrap();
        assert_succeeded(&output);
        std::fs::read(out).unwrap()
    };
    let a = zip_with("a.zip", "1700000000");
    // Another mtime on disk must not change the archive.
    std::fs::write(package.join("README.txt"), "hello\n").unwrap();
    let b = zip_with("b.zip", "1700000000");
    assert_eq!(a, b);
    let c = zip_with("c.zip", "1600000000");
    assert_ne!(a, c, "SOURCE_DATE_EPOCH must set the timestamps");
    assert_eq!(
        zip_listing(&work.path().join("a.zip")),
        [
            ("README.txt".to_string(), 0o644),
            ("lib/libvendored.so.1".to_string(), 0o755),
            ("mod_vendored.so".to_string(), 0o755)
        ]
    );
}

#[test]
fn zip_refuses_a_package_that_would_not_load_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    std::fs::create_dir(&package).unwrap();
    std::fs::copy(fixture("mod_ssleay.so"), package.join("mod_ssleay.so")).unwrap();
    let out = work.path().join("lambda.zip");
    let run = zip_dir(&package, &out);
    expect_stderr(&run, 1, "SSLeay_version@OPENSSL_1.0.2");
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        1,
        "only the package directory remains"
    );

    // A symlink out of the package is refused as bad input.
    std::fs::copy(fixture("mod_ok.so"), package.join("mod_ssleay.so")).unwrap();
    // (to a file of the test's own: a build sandbox's /etc has no hostname)
    let outside = work.path().join("outside-the-package");
    std::fs::write(&outside, "not in the package").unwrap();
    std::os::unix::fs::symlink(&outside, package.join("escape")).unwrap();
    let run = zip_dir(&package, &out);
    expect_stderr(&run, 2, "outside the package directory");
    assert!(!out.exists());
}

#[test]
fn zip_refuses_packages_over_lambda_limits() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    std::fs::create_dir(&package).unwrap();
    std::fs::copy(fixture("mod_ok.so"), package.join("mod_ok.so")).unwrap();
    let out = work.path().join("lambda.zip");

    // 251 MiB unzipped (a sparse file costs no disk).
    let big = std::fs::File::create(package.join("big.bin")).unwrap();
    big.set_len(251 * 1024 * 1024).unwrap();
    let run = zip_dir(&package, &out);
    expect_stderr(&run, 1, "250 MB");
    assert!(!out.exists());

    // 51 MiB of incompressible data: over 50 MB zipped.
    let mut data = vec![0u8; 51 * 1024 * 1024];
    let mut state = 0x9e3779b97f4a7c15u64;
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(package.join("big.bin"), &data).unwrap();
    let run = zip_dir(&package, &out);
    expect_stderr(&run, 1, "50 MB");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

/// Bad input: exit 2 and one line on stderr, never a panic.
fn assert_bad_input(path: &Path, what: &str) {
    let run = audit_on(&["check"], path);
    assert_eq!(run.code, 2, "{}: {}{}", what, run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}: {}", what, run.stderr);
    assert!(
        run.stderr.starts_with("lambda-audit: "),
        "{}: {}",
        what,
        run.stderr
    );
    assert!(
        !run.stderr.contains("internal error") && !run.stderr.contains("panicked"),
        "{}: {}",
        what,
        run.stderr
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("empty.so"), b"").unwrap();
    assert_bad_input(&dir.join("empty.so"), "empty file");
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("random.so"), &random).unwrap();
    assert_bad_input(&dir.join("random.so"), "random bytes");
    let mut elf_magic_random = b"\x7fELF".to_vec();
    elf_magic_random.extend_from_slice(&random);
    std::fs::write(dir.join("magic-random.so"), &elf_magic_random).unwrap();
    assert_bad_input(&dir.join("magic-random.so"), "ELF magic then random bytes");
    assert_bad_input(dir, "a directory");
    std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("dangling.so")).unwrap();
    assert_bad_input(&dir.join("dangling.so"), "a dangling symlink");
    assert_bad_input(&dir.join("does-not-exist.so"), "a missing file");

    // Truncated at many offsets.
    let whole = std::fs::read(fixture("mod_ok.so")).unwrap();
    for cut in (1..whole.len()).step_by(97) {
        std::fs::write(dir.join("truncated.so"), &whole[..cut]).unwrap();
        assert_bad_input(&dir.join("truncated.so"), &format!("truncated at {}", cut));
    }

    // Absurd header counts and offsets (ELF64 little-endian header fields).
    let patches: [(&str, usize, &[u8]); 4] = [
        ("e_phnum = 0xffff", 56, &[0xff, 0xff]),
        ("e_shnum = 0xffff", 60, &[0xff, 0xff]),
        (
            "e_shoff past the end",
            40,
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        ),
        (
            "e_phoff past the end",
            32,
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
        ),
    ];
    for (what, offset, bytes) in patches {
        let mut bad = whole.clone();
        bad[offset..offset + bytes.len()].copy_from_slice(bytes);
        std::fs::write(dir.join("absurd.so"), &bad).unwrap();
        assert_bad_input(&dir.join("absurd.so"), what);
    }
}

#[test]
fn bad_profiles_are_one_line_and_exit_2() {
    let run = audit([
        "check",
        "--profile",
        "no-such-runtime",
        fixture("mod_ok.so").to_str().unwrap(),
    ]);
    expect_stderr(&run, 2, "amazonlinux-2017.03-python3.6");
    let work = tempfile::tempdir().unwrap();
    let bad = work.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": 1, \"name\": 3}").unwrap();
    let run = audit([
        "check",
        "--profile",
        bad.to_str().unwrap(),
        fixture("mod_ok.so").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn profile_list_and_show() {
    let run = audit(["profile", "list"]);
    assert_eq!(run.code, 0);
    for name in [AL1, "amazonlinux-2", "amazonlinux-2023"] {
        assert!(run.stdout.contains(name), "{}", run.stdout);
        let shown = audit(["profile", "show", name]);
        let profile = stdout_json(&shown);
        assert_eq!(profile["name"], name);
        assert!(
            !profile["sources"].as_array().unwrap().is_empty(),
            "{} cites no source",
            name
        );
    }
}

#[test]
fn profile_scan_stays_in_the_root_and_skips_loops_and_dangling_links() {
    let root = tree(&[(
        "/usr/lib64/libcrypto.so.10",
        &fixture("runtime-lib/libcrypto.so.10"),
    )]);
    let lib64 = root.path().join("lib64");
    std::fs::create_dir_all(&lib64).unwrap();
    let link =
        |target: &str, name: &str| std::os::unix::fs::symlink(target, lib64.join(name)).unwrap();
    link("libloop-b.so.1", "libloop-a.so.1");
    link("libloop-a.so.1", "libloop-b.so.1");
    link("/nonexistent/libgone.so.1", "libdangling.so.1");
    // Absolute targets are inside the root, never the host's files.
    link("/usr/lib64/libcrypto.so.10", "libcrypto.so.10");
    link("/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6");
    link(
        "../../../../../../lib/x86_64-linux-gnu/libz.so.1",
        "libz.so.1",
    );
    std::fs::write(lib64.join("libnotelf.so"), "INPUT(-lc)\n").unwrap();

    let out = root.path().join("profile.json");
    let run = audit([
        "profile",
        "scan",
        root.path().to_str().unwrap(),
        "--name",
        "fake",
        "--search-path",
        "/lib64",
        "--default-path",
        "/usr/lib64",
        "--out",
        out.to_str().unwrap(),
    ]);
    expect_stderr(&run, 0, "too many levels of symbolic links");
    assert!(run.stderr.contains("libdangling.so.1"), "{}", run.stderr);
    let profile: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let libraries = profile["libraries"].as_array().unwrap();
    assert_eq!(
        libraries.len(),
        1,
        "only the stand-in libcrypto: {:#}",
        profile
    );
    assert_eq!(
        strings(&libraries[0]["paths"]),
        ["/lib64/libcrypto.so.10", "/usr/lib64/libcrypto.so.10"]
    );
    assert_eq!(
        strings(&libraries[0]["versions"]),
        ["libcrypto.so.10", "OPENSSL_1.0.1", "OPENSSL_1.0.1_EC"]
    );

    // The scanned profile is usable as is.
    let (code, _) = check_json(
        out.to_str().unwrap(),
        None,
        &fixture("build-lib/libvendored.so.1"),
    );
    assert_eq!(code, 1, "a library is not a program");
}

#[test]
fn profile_scan_of_a_missing_root_is_bad_input() {
    let run = audit(["profile", "scan", "/nonexistent-root"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// A wheel laid out as auditwheel repairs it: the module's DT_RPATH
/// `$ORIGIN/../pkg.libs` finds liba, and liba (no RPATH of its own) finds
/// libb there through the module's inherited DT_RPATH, as the loader does.
/// `bundle` searches the same way (issue: it looked only at liba's own).
#[test]
fn bundle_finds_libraries_through_inherited_and_relative_rpath() {
    let work = tempfile::tempdir().unwrap();
    let libs = work.path().join("wheel/pkg.libs");
    shared(
        &libs.join("libb.so.1"),
        "int b(void) { return 2; }\n",
        &["-Wl,-soname,libb.so.1"],
    );
    let libs_arg = format!("-L{}", libs.display());
    shared(
        &libs.join("liba.so.1"),
        "int b(void); int a(void) { return b(); }\n",
        &["-Wl,-soname,liba.so.1", &libs_arg, "-l:libb.so.1"],
    );
    // A module at `path` needing liba, with DT_RPATH `rpath`, bundled: what lib/ holds.
    let bundled = |path: &str, rpath: &str| -> Vec<String> {
        let module = work.path().join(path);
        let name = module.file_stem().unwrap().to_string_lossy().into_owned();
        shared(
            &module,
            &format!("int a(void); void *PyInit_{name}(void) {{ return (void *)(long)a(); }}\n"),
            &[
                &libs_arg,
                "-l:liba.so.1",
                "-Wl,--disable-new-dtags",
                &format!("-Wl,-rpath,{rpath}"),
            ],
        );
        let out = work.path().join(format!("package-{name}"));
        let run = bundle(&out, &[module.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let mut vendored: Vec<String> = std::fs::read_dir(out.join("lib"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .map(|n| n.split('-').next().unwrap().to_string())
            .collect();
        vendored.sort();
        vendored
    };
    assert_eq!(
        bundled("wheel/pkg/inherits.so", "$ORIGIN/../pkg.libs"),
        ["liba", "libb"]
    );
    // A relative DT_RPATH is relative to the working directory, at run time
    // the package root: where the artifact sits, not where bundle runs.
    assert_eq!(bundled("wheel/relative.so", "pkg.libs"), ["liba", "libb"]);
}

/// The gcc runtime and zlib are checked by name, not only by version node:
/// libz's original API (no version node), libstdc++ and libgcc_s. A name the
/// library never had is an error; before, all of these were "unverified".
#[test]
fn gcc_runtime_and_zlib_symbols_are_checked_by_name() {
    let (code, report) = check_json(AL1, None, &fixture("mod_zlib.so"));
    assert_eq!(code, 0, "{:#}", report);
    assert_eq!(report["unverified_symbols"], 0, "{:#}", report);

    let work = tempfile::tempdir().unwrap();
    let module = work.path().join("cxx.so");
    // (Its runtime_error(const char*)@GLIBCXX_3.4.21 is a missing version
    // on this runtime too: a separate finding, not counted below.)
    cxx(
        &module,
        "#include <stdexcept>\n\
         extern \"C\" int lambda_audit_no_such_zlib_function(void);\n\
         extern \"C\" void *PyInit_cxx(void) {\n\
           try { throw std::runtime_error(\"x\"); } catch (...) {}\n\
           return (void *)(long)lambda_audit_no_such_zlib_function;\n\
         }\n",
        &[
            "-shared",
            "-fPIC",
            "-D_GLIBCXX_USE_CXX11_ABI=0",
            "-Wl,--unresolved-symbols=ignore-all",
            "-lz",
        ],
    );
    let (code, report) = check_json(AL1, None, &module);
    assert_eq!(code, 1, "{:#}", report);
    assert_eq!(report["unverified_symbols"], 0, "{:#}", report);
    let undefined: Vec<String> = findings(&report, "undefined-symbol")
        .iter()
        .map(|f| f["symbol"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        undefined,
        ["lambda_audit_no_such_zlib_function"],
        "{:#}",
        report
    );
}

/// A `bootstrap` program from C `source`, in a directory of its own: what a
/// provided.* runtime runs, so it loads on this machine's glibc as the fixture does.
fn program(source: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("bootstrap");
    cc(&path, source, &[]);
    (work, path)
}

/// `check` text of `artifact` in the provided.al2023 profile.
fn check_text(artifact: &Path) -> String {
    let path = artifact.to_str().unwrap();
    let run = audit(["check", "--profile", "provided.al2023", path]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run.stdout
}

/// As libcrypto holds it: `OPENSSL_VERSION_TEXT`, a string literal in
/// `.rodata`, returned by `OpenSSL_version`. Twice (an array and a literal
/// the compiler keeps apart): one version.
#[test]
fn the_openssl_version_text_a_static_libcrypto_carries_is_reported() {
    let (_work, artifact) = program(
        "#include <stdio.h>\n\
         const char OPENSSL_VERSION_TEXT_x[] = \"OpenSSL 3.5.5 27 Jan 2026\";\n\
         const char *OpenSSL_version(int t) { return t ? \"OpenSSL 3.5.5 27 Jan 2026\" : OPENSSL_VERSION_TEXT_x; }\n\
         int main(int argc, char **argv) { (void)argv; puts(OpenSSL_version(argc)); return 0; }\n",
    );
    let (code, report) = check_json("provided.al2023", None, &artifact);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["openssl"],
        serde_json::json!({
            "static": [{"version": "3.5.5", "text": "OpenSSL 3.5.5 27 Jan 2026"}],
            "dynamic": [],
        }),
        "{report:#}"
    );
    let text = check_text(&artifact);
    assert!(
        text.lines()
            .any(|l| l == "  openssl: 3.5.5 (static, \"OpenSSL 3.5.5 27 Jan 2026\")"),
        "{text}"
    );
}

/// Texts that only look like OpenSSL's say nothing: one without its date,
/// BoringSSL's (`OPENSSL_VERSION_TEXT` there is not a release), LibreSSL's,
/// and a real one in writable `.data` only (a buffer the program may
/// rewrite, not the literal libcrypto holds).
#[test]
fn look_alike_version_texts_say_nothing() {
    let (_work, artifact) = program(
        "#include <stdio.h>\n\
         const char undated[] = \"OpenSSL 3.5.5\";\n\
         const char boring[] = \"OpenSSL 1.1.1 (compatible; BoringSSL)\";\n\
         const char libre[] = \"LibreSSL 3.8.2\";\n\
         char writable[] = \"OpenSSL 3.5.5 27 Jan 2026\";\n\
         int main(void) { puts(undated); puts(boring); puts(libre); puts(writable); return 0; }\n",
    );
    // The texts are in the file: nothing is said because of their shape or place.
    let bytes = std::fs::read(&artifact).unwrap();
    for text in [
        &b"OpenSSL 3.5.5\0"[..],
        b"(compatible; BoringSSL)\0",
        b"LibreSSL 3.8.2\0",
        b"OpenSSL 3.5.5 27 Jan 2026\0",
    ] {
        assert!(
            bytes.windows(text.len()).any(|w| w == text),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    let (code, report) = check_json("provided.al2023", None, &artifact);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["openssl"], Value::Null, "{report:#}");
    let text = check_text(&artifact);
    assert!(!text.contains("openssl:"), "{text}");
}

/// A module that links libssl dynamically says so, in the words of the
/// policy finding, and names no version it does not carry.
#[test]
fn a_dynamic_libssl_is_named_as_what_the_artifact_links() {
    let (_, report) = check_json(AL1, None, &fixture("mod_ssl.so"));
    assert_eq!(
        report["openssl"],
        serde_json::json!({"static": [], "dynamic": ["libssl.so.10"]}),
        "{report:#}"
    );
    let text = audit(["check", fixture("mod_ssl.so").to_str().unwrap()]).stdout;
    assert!(
        text.lines()
            .any(|l| l == "  openssl: links libssl.so.10 dynamically"),
        "{text}"
    );
}
