//! `check FUNCTION --with-layer LAYER …`: a function judged with its layers
//! unpacked at /opt in order (a later layer's file replacing an earlier
//! one's), every ELF file of both judged, Lambda's 250 MB limit counting
//! them all, and the zip reader's guarantees holding for each layer.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    audit_in_tmpdir, expect_stderr, expect_stdout, shared, stdout_json, zip_members, zip_tree,
    Member, Run,
};

const PROFILE: &str = "python3.12";

/// `libfoo.so.1` in `layer/lib`: `foo_old`, and `foo_new` too if `new`.
fn libfoo(layer: &Path, new: bool) -> PathBuf {
    let lib = layer.join("lib/libfoo.so.1");
    let source = if new {
        "int foo_old(void) { return 1; }\nint foo_new(void) { return 2; }\n"
    } else {
        "int foo_old(void) { return 1; }\n"
    };
    shared(&lib, source, &["-Wl,-soname,libfoo.so.1"]);
    lib
}

/// A function package `function/` with one module, `_uses.abi3.so`, that
/// needs `foo_new` from `libfoo.so.1` (linked against `with`'s copy), and
/// its zip.
fn function(work: &Path, with: &Path) -> PathBuf {
    let dir = work.join("function");
    let lib_dir = format!("-L{}", with.parent().unwrap().display());
    shared(
        &dir.join("_uses.abi3.so"),
        "int foo_new(void); void *PyInit__uses(void) { return (void *)(long)foo_new(); }\n",
        &[&lib_dir, "-l:libfoo.so.1"],
    );
    let zip = work.join("function.zip");
    zip_tree(&dir, &zip);
    zip
}

/// A layer directory `work/NAME` with `libfoo.so.1` (with `foo_new` if
/// `new`), and its zip `work/NAME.zip`.
fn layer(work: &Path, name: &str, new: bool) -> (PathBuf, PathBuf) {
    let dir = work.join(name);
    libfoo(&dir, new);
    let zip = work.join(format!("{name}.zip"));
    zip_tree(&dir, &zip);
    (dir, zip)
}

/// `check ARGS FUNCTION [--with-layer L]…`, with TMPDIR at `tmp` (where
/// packages and layers are unpacked).
fn check(tmp: &Path, function: &Path, layers: &[&Path], args: &[&str]) -> Run {
    let mut all: Vec<&OsStr> = vec![OsStr::new("check")];
    all.extend(args.iter().map(OsStr::new));
    for layer in layers {
        all.extend([OsStr::new("--with-layer"), layer.as_os_str()]);
    }
    all.push(function.as_os_str());
    audit_in_tmpdir(tmp, all)
}

/// `check --profile python3.12 EXTRA FUNCTION [--with-layer L]…`.
fn check_py(tmp: &Path, function: &Path, layers: &[&Path], extra: &[&str]) -> Run {
    let args: Vec<&str> = ["--profile", PROFILE]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    check(tmp, function, layers, &args)
}

/// The report on the artifact whose path ends with `suffix`.
fn report<'a>(doc: &'a serde_json::Value, suffix: &str) -> &'a serde_json::Value {
    doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no report on {suffix}: {doc:#}"))
}

/// A scratch directory with its own TMPDIR, which must be empty after each run.
fn work() -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    (work, tmp)
}

fn assert_nothing_left(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp).unwrap().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

/// The case: the function's module needs a library only its layer
/// provides. Without the layer it will not load (the library is not found);
/// with it (a zip or a directory) it loads, the library found at /opt/lib.
#[test]
fn a_module_loads_with_the_layer_that_provides_its_library() {
    let (work, tmp) = work();
    let (layer_dir, layer_zip) = layer(work.path(), "a", true);
    let function = function(work.path(), &layer_dir.join("lib/libfoo.so.1"));

    let run = check_py(&tmp, &function, &[], &["--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = stdout_json(&run);
    let missing = common::findings(report(&doc, "_uses.abi3.so"), "missing-library");
    assert_eq!(missing.len(), 1, "{doc:#}");
    assert_eq!(missing[0]["library"], "libfoo.so.1");

    for given in [&layer_zip, &layer_dir] {
        let run = check_py(&tmp, &function, &[given], &["--json"]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let doc = stdout_json(&run);
        let module = report(&doc, "function.zip!/_uses.abi3.so");
        assert_eq!(module["layer"], serde_json::Value::Null);
        let lib = module["closure"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "libfoo.so.1")
            .unwrap_or_else(|| panic!("libfoo in the closure: {module:#}"));
        assert_eq!(lib["path"], "/opt/lib/libfoo.so.1");
        assert_nothing_left(&tmp);
    }

    // A layer's file of the other architecture is placed at /opt too.
    let run = check_py(
        &tmp,
        &function,
        &[&layer_zip],
        &["--json", "--arch", "arm64"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = stdout_json(&run);
    let lib = report(&doc, "a.zip!/lib/libfoo.so.1");
    assert_eq!(lib["runtime_path"], "/opt/lib/libfoo.so.1", "{lib:#}");
    assert_eq!(common::findings(lib, "wrong-arch").len(), 1, "{lib:#}");

    // In a matrix too: each combination sees the layer.
    let matrix = ["--profile", "python3.11"];
    let run = check_py(&tmp, &function, &[&layer_zip], &matrix);
    expect_stdout(&run, 0, "python3.11 x86_64: loads");
    let run = check_py(&tmp, &function, &[], &matrix);
    expect_stdout(&run, 1, "libfoo.so.1: not found");
}

/// Layers are extracted in order: the later layer's `libfoo.so.1` replaces
/// the earlier one's, so the order decides whether `foo_new` is there.
#[test]
fn a_later_layer_replaces_an_earlier_ones_library() {
    let (work, tmp) = work();
    let (new_dir, new) = layer(work.path(), "new", true);
    let (_, old) = layer(work.path(), "old", false);
    let function = function(work.path(), &new_dir.join("lib/libfoo.so.1"));

    let run = check_py(&tmp, &function, &[&old, &new], &["--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let run = check_py(&tmp, &function, &[&new, &old], &["--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = stdout_json(&run);
    let undefined = common::findings(report(&doc, "_uses.abi3.so"), "undefined-symbol");
    assert_eq!(undefined.len(), 1, "{doc:#}");
    assert_eq!(undefined[0]["symbol"], "foo_new");
    assert_nothing_left(&tmp);
}

/// Every ELF file of the layers is judged, not only what the function
/// loads; a report on one names its layer (text and JSON) and the file as
/// that layer holds it.
#[test]
fn a_finding_on_a_layers_file_names_the_layer() {
    let (work, tmp) = work();
    let (a_dir, a) = layer(work.path(), "a", true);
    let function = function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let b_dir = work.path().join("b");
    let gone = b_dir.join("build/libgone.so.9");
    shared(
        &gone,
        "int gone(void) { return 9; }\n",
        &["-Wl,-soname,libgone.so.9"],
    );
    let lib_dir = format!("-L{}", gone.parent().unwrap().display());
    shared(
        &b_dir.join("lib/libbar.so.1"),
        "int gone(void); int bar(void) { return gone(); }\n",
        &[&lib_dir, "-l:libgone.so.9", "-Wl,-soname,libbar.so.1"],
    );
    std::fs::remove_dir_all(b_dir.join("build")).unwrap();
    let b = work.path().join("b.zip");
    zip_tree(&b_dir, &b);

    let run = check_py(&tmp, &function, &[&a, &b], &["--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = stdout_json(&run);
    let bar = report(&doc, "b.zip!/lib/libbar.so.1");
    assert_eq!(bar["layer"], b.display().to_string());
    assert_eq!(bar["runtime_path"], "/opt/lib/libbar.so.1");
    assert_eq!(bar["loads"], false);
    let missing = common::findings(bar, "missing-library");
    assert_eq!(missing[0]["library"], "libgone.so.9", "{bar:#}");
    assert!(report(&doc, "_uses.abi3.so")["loads"].as_bool().unwrap());

    let run = check_py(&tmp, &function, &[&a, &b], &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let header = run
        .stdout
        .lines()
        .find(|l| l.contains("libbar.so.1") && l.contains("WILL NOT LOAD"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        header.contains(&format!("(from layer {})", b.display())),
        "{header}"
    );
}

/// Lambda's 250 MB limit is on the function and its layers together: two
/// layers each well under it, over it together, are refused before
/// anything is unpacked (the sizes come from the archives' directories),
/// with each size named, in one line, exit status 2.
#[test]
fn the_size_limit_counts_the_layers() {
    let (work, tmp) = work();
    let (a_dir, _) = layer(work.path(), "a", true);
    let function = function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let lib = std::fs::read(a_dir.join("lib/libfoo.so.1")).unwrap();
    let big = |name: &str| {
        let zip = work.path().join(name);
        let zeros = Member::Zeros("share/zeros", 126 << 20);
        zip_members(&zip, &[Member::File("lib/libfoo.so.1", &lib), zeros]);
        zip
    };
    let (one, two) = (big("one.zip"), big("two.zip"));

    let run = check_py(&tmp, &function, &[&one], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // A file size limit of 1 MiB: refused before a byte is unpacked.
    let limited = Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 1024 && exec \"$@\"")
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_lambda-audit"))
        .args(["check", "--profile", PROFILE, "--with-layer"])
        .arg(&one)
        .arg("--with-layer")
        .arg(&two)
        .arg(&function)
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&limited.stderr);
    assert_eq!(limited.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("over Lambda's limit"), "{stderr}");
    for size in [
        format!("{} 126.0 MiB", one.display()),
        format!("{} 126.0 MiB", two.display()),
    ] {
        assert!(stderr.contains(&size), "{size}: {stderr}");
    }
    assert!(
        stderr.contains(&format!("{} 0.0 MiB", function.display())),
        "{stderr}"
    );
    assert_nothing_left(&tmp);
}

/// Sets the unzipped size the zip `path` declares for its member `name`,
/// in its local header and its central directory entry, to `size`: a zip
/// that lies about its size (the compressed data, its CRC, are the truth).
fn declare_size(path: &Path, name: &str, size: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut patched = 0;
    for (signature, size_at, name_at) in [(b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)] {
        let starts: Vec<usize> = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w == signature)
            .map(|(i, _)| i)
            .collect();
        for start in starts {
            let named = bytes.get(start + name_at..start + name_at + name.len());
            if named == Some(name.as_bytes()) {
                bytes[start + size_at..start + size_at + 4].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
        }
    }
    assert_eq!(patched, 2, "{name} in {}", path.display());
    std::fs::write(path, bytes).unwrap();
}

/// (issue 28) Lambda's limit counts what is unpacked, the function's bytes
/// with the layers': a function directory of 200 MiB with a layer zip of
/// 100 MiB that declares 1 byte is refused while the layer is unpacked,
/// in one line, exit 2, nothing left (it was judged to load: the layers
/// were counted from 0, not from the function's size). The same layer
/// beside a small function loads.
#[test]
fn a_layer_that_lies_about_its_size_is_counted_with_the_function() {
    let (work, tmp) = work();
    let (a_dir, _) = layer(work.path(), "a", true);
    let function = function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let function_dir = work.path().join("function");
    let lib = std::fs::read(a_dir.join("lib/libfoo.so.1")).unwrap();
    let lying = work.path().join("lying.zip");
    let zeros = Member::Zeros("share/zeros", 100 << 20);
    zip_members(&lying, &[Member::File("lib/libfoo.so.1", &lib), zeros]);
    declare_size(&lying, "share/zeros", 1);

    for small in [&function, &function_dir] {
        let run = check_py(&tmp, small, &[&lying], &[]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    let big = std::fs::File::create(function_dir.join("big.data")).unwrap();
    big.set_len(200 << 20).unwrap();
    let run = check_py(&tmp, &function_dir, &[&lying], &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&lying.display().to_string()),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Lambda's limit"), "{}", run.stderr);
    assert_nothing_left(&tmp);
}

/// (issue 28, 3) SIGTERM or SIGINT while the layers are merged (a layer
/// directory copied, a layer zip's files moved): the private directories
/// are gone when the process has exited (the merge did not hold the lock
/// the signal handler's removal holds, and went on creating paths in what
/// it removed: up to 12,015 paths were left). Real processes, repeated at
/// spread moments once the merge has begun.
#[test]
fn a_signal_during_the_layers_merge_leaves_nothing() {
    let (work, tmp) = work();
    let (a_dir, _) = layer(work.path(), "a", true);
    function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let function_dir = work.path().join("function");
    let many = work.path().join("many");
    for i in 0..3000 {
        let dir = many.join(format!("d{}/e{}", i % 150, i / 150));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("f{i}")), "x".repeat(64)).unwrap();
    }
    let many_zip = work.path().join("many.zip");
    zip_tree(&many, &many_zip);
    let merging = |tmp: &Path| {
        std::fs::read_dir(tmp).unwrap().any(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(".lambda-audit-layers")
                && std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_some())
        })
    };
    for attempt in 0..16u64 {
        let layer = if attempt % 4 < 2 { &many } else { &many_zip };
        let args = ["check", "--profile", PROFILE, "--with-layer"];
        let args = args.iter().map(OsStr::new);
        let args = args.chain([layer.as_os_str(), function_dir.as_os_str()]);
        let mut child = common::spawn_in_tmpdir(&tmp, args);
        common::wait_until(|| merging(&tmp));
        std::thread::sleep(std::time::Duration::from_millis(attempt % 6));
        let (signal, status) = common::interrupt(&mut child, attempt);
        let left = common::tree_listing(&tmp).len() - 1;
        assert_eq!(
            left,
            0,
            "attempt {attempt} ({signal}, {}, {status}): {left} paths left",
            layer.display()
        );
    }
}

/// (issue 28, 4) A TMPDIR inside a layer directory is refused before
/// anything is copied, in one line naming the layer and TMPDIR, not our
/// private directory (the layer was copied into itself, 131 levels deep,
/// ending in "File name too long" with a 4 KB message); after a zip layer
/// too, whose unpacked copy would be listed as the directory layer's.
#[test]
fn a_tmpdir_inside_a_layer_directory_is_refused() {
    let (work, _) = work();
    let (a_dir, a_zip) = layer(work.path(), "a", true);
    let function = function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let (b_dir, _) = layer(work.path(), "b", true);
    let inside = b_dir.join("tmp");
    std::fs::create_dir(&inside).unwrap();
    for layers in [
        vec![b_dir.as_path()],
        vec![a_zip.as_path(), b_dir.as_path()],
    ] {
        let run = check_py(&inside, &function, &layers, &[]);
        assert_eq!(run.code, 2, "{layers:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains("TMPDIR"), "{}", run.stderr);
        let named = format!("--with-layer {}:", b_dir.display());
        assert!(run.stderr.contains(&named), "{}", run.stderr);
        assert!(!run.stderr.contains(".lambda-audit"), "{}", run.stderr);
        assert_nothing_left(&inside);
    }
    // The function's directory holding TMPDIR is never copied: it loads.
    let function_dir = work.path().join("function");
    let beside = function_dir.join("tmp");
    std::fs::create_dir(&beside).unwrap();
    let run = check_py(&beside, &function_dir, &[&a_dir], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_nothing_left(&beside);
}

/// Each layer gets the zip reader's guarantees (no path out of it, no
/// symlink out of it), and a layer's directory where an earlier layer has
/// a file is refused: one line naming the layer, exit 2, nothing left
/// behind, not even the earlier, good layer's unpacked copy.
#[test]
fn hostile_layers_are_refused_and_leave_nothing() {
    let (work, tmp) = work();
    let (a_dir, a) = layer(work.path(), "a", true);
    let function = function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let outside = work.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let escape = format!("{}/evil", outside.display());
    let cases: [(&str, Vec<Member>, &str); 4] = [
        (
            "traversal",
            vec![Member::File("../../outside/evil", b"x")],
            "outside the package",
        ),
        (
            "absolute",
            vec![Member::File(&escape, b"x")],
            "outside the package",
        ),
        (
            "link out",
            vec![Member::Link("lib/libfoo.so.1", "/etc/passwd")],
            "leaves the package",
        ),
        (
            "file over a directory",
            vec![Member::File("lib", b"not a directory")],
            "a file or symlink here, and a directory of an earlier layer",
        ),
    ];
    for (what, members, reason) in cases {
        let hostile = work.path().join(format!("{}.zip", what.replace(' ', "-")));
        zip_members(&hostile, &members);
        let before = common::tree_listing(work.path());
        let run = check_py(&tmp, &function, &[&a, &hostile], &[]);
        assert_eq!(run.code, 2, "{what}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "{what}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(reason), "{what}: {}", run.stderr);
        let name = hostile.file_name().unwrap().to_str().unwrap();
        assert!(run.stderr.contains(name), "{what}: {}", run.stderr);
        assert_eq!(
            common::tree_listing(work.path()),
            before,
            "{what}: files written"
        );
        assert_nothing_left(&tmp);
    }
    // A directory layer is listed as a package is: a symlink out of it is refused.
    let dir = work.path().join("linked");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("lib/libfoo.so.1")).unwrap();
    let run = check_py(&tmp, &function, &[&a, &dir], &[]);
    expect_stderr(&run, 2, "outside the package directory");
    assert!(run.stderr.contains("linked"), "{}", run.stderr);
    assert_nothing_left(&tmp);
}

/// `--with-layer` is for a function package: with `--layer`, for a single
/// file, or with a layer that is neither a zip nor a directory, it is
/// refused in one line (exit 2), never a panic.
#[test]
fn with_layer_is_refused_where_it_means_nothing() {
    let (work, tmp) = work();
    let (a_dir, a) = layer(work.path(), "a", true);
    let function = function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let module = work.path().join("function/_uses.abi3.so");
    let cases: [(&Path, &Path, &[&str], &str); 4] = [
        (
            &function,
            &a,
            &["--layer"],
            "a layer has no layers of its own",
        ),
        (&module, &a, &[], "a single file, not a function package"),
        (&function, &module, &[], "not a directory or a zip"),
        (
            &function,
            &work.path().join("nowhere.zip"),
            &[],
            "nowhere.zip",
        ),
    ];
    for (artifact, layer, extra, reason) in cases {
        let run = check_py(&tmp, artifact, &[layer], extra);
        assert_eq!(run.code, 2, "{reason}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(reason), "{reason}: {}", run.stderr);
        assert_nothing_left(&tmp);
    }
}

/// (issue 28, decision) Lambda takes at most 5 layers for a function: 5
/// are judged, 6 refused before anything is unpacked (100 were accepted).
#[test]
fn more_than_five_layers_are_refused() {
    let (work, tmp) = work();
    let (a_dir, a) = layer(work.path(), "a", true);
    let function = function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let run = check_py(&tmp, &function, &[a.as_path(); 5], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = check_py(&tmp, &function, &[a.as_path(); 6], &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("at most 5 layers"), "{}", run.stderr);
    assert_nothing_left(&tmp);
}

/// An OS-only runtime runs the function's `bootstrap`, or without one the
/// layers' (`/opt/bootstrap`): a layer can be the function's runtime.
#[test]
fn a_layers_bootstrap_serves_a_function_without_one() {
    let (work, tmp) = work();
    let runtime = work.path().join("runtime");
    common::cc(
        &runtime.join("bootstrap"),
        "int main(void) { return 0; }\n",
        &[],
    );
    let layer = work.path().join("runtime.zip");
    zip_tree(&runtime, &layer);
    let function = work.path().join("function.zip");
    zip_members(&function, &[Member::File("handler.sh", b"echo hi\n")]);
    let provided = ["--profile", "provided.al2023"];

    let run = check(&tmp, &function, &[], &provided);
    expect_stderr(&run, 1, "no bootstrap");

    let run = check(&tmp, &function, &[&layer], &provided);
    expect_stdout(&run, 0, "runtime.zip!/bootstrap (from layer");
    assert!(run.stdout.contains("(as /opt/bootstrap)"), "{}", run.stdout);
}

/// (issue 28, decision) A file skipped in a zip or a layer (data that
/// starts like ELF) is named as a report on it is, `PACKAGE.zip!/x.so`, not
/// by the path of the private directory it was unpacked or merged in
/// (which is gone by the time the person reads it).
#[test]
fn a_skipped_file_is_named_inside_its_zip_or_layer() {
    let (work, tmp) = work();
    let (a_dir, _) = layer(work.path(), "a", true);
    function(work.path(), &a_dir.join("lib/libfoo.so.1"));
    let function_dir = work.path().join("function");
    std::fs::write(function_dir.join("trunc.so"), b"\x7fELF\x02\x01\x01").unwrap();
    let function_zip = work.path().join("skips.zip");
    zip_tree(&function_dir, &function_zip);
    std::fs::write(a_dir.join("lib/trunc.so"), b"\x7fELF\x02\x01\x01").unwrap();
    let a_zip = work.path().join("a-skips.zip");
    zip_tree(&a_dir, &a_zip);
    let run = check_py(&tmp, &function_zip, &[&a_zip], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for name in [
        format!("skipped {}!/trunc.so: ", function_zip.display()),
        format!("skipped {}!/lib/trunc.so: ", a_zip.display()),
    ] {
        assert!(run.stderr.contains(&name), "{name}: {}", run.stderr);
    }
    assert!(!run.stderr.contains(".lambda-audit"), "{}", run.stderr);
    assert_nothing_left(&tmp);
}

/// A Python module at `out` that needs `libalias.so` (no soname of its
/// own: the name the loader looks for) for `foo_new`, linked against a copy
/// in `work/build`.
fn alias_module(work: &Path, out: &Path) {
    let build = work.join("build");
    shared(
        &build.join("libalias.so"),
        "int foo_new(void) { return 2; }\n",
        &[],
    );
    shared(
        out,
        "int foo_new(void); void *PyInit__alias(void) { return (void *)(long)foo_new(); }\n",
        &[&format!("-L{}", build.display()), "-l:libalias.so"],
    );
}

/// (issue 28) Lambda unpacks every layer at /opt, and a symlink is resolved
/// when it is opened: a later layer's link to an earlier layer's file
/// (relative, or absolute under /opt) reaches it there. Judged in the
/// merged /opt (both were refused: "does not resolve inside the package",
/// "leaves the package"), the absolute one made relative to its place, so
/// it never reads this machine's /opt; a directory layer's links too.
#[test]
fn a_later_layers_link_to_an_earlier_layers_file_is_followed_at_opt() {
    let (work, tmp) = work();
    let (a_dir, a) = layer(work.path(), "a", true);
    // The function's module needs `libalias.so`, which only the later
    // layer's link provides (to the earlier layer's libfoo.so.1).
    let dir = work.path().join("aliased");
    alias_module(work.path(), &dir.join("_alias.abi3.so"));
    let function = work.path().join("aliased.zip");
    zip_tree(&dir, &function);
    let links = [
        Member::Link("lib/libalias.so", "libfoo.so.1"),
        Member::Link("lib/sub/libabsolute.so", "/opt/lib/libfoo.so.1"),
    ];
    let b = work.path().join("b.zip");
    zip_members(&b, &links);
    let b_dir = work.path().join("b");
    std::fs::create_dir_all(b_dir.join("lib/sub")).unwrap();
    std::os::unix::fs::symlink("libfoo.so.1", b_dir.join("lib/libalias.so")).unwrap();
    std::os::unix::fs::symlink("/opt/lib/libfoo.so.1", b_dir.join("lib/sub/libabsolute.so"))
        .unwrap();
    for (earlier, later) in [(&a, &b), (&a_dir, &b_dir), (&a, &b_dir), (&a_dir, &b)] {
        let run = check_py(&tmp, &function, &[earlier, later], &["--json"]);
        assert_eq!(run.code, 0, "{later:?}: {}{}", run.stdout, run.stderr);
        let doc = stdout_json(&run);
        let module = report(&doc, "aliased.zip!/_alias.abi3.so");
        // Found by its DT_NEEDED name at /opt/lib, the earlier layer's file.
        let closure = module["closure"].as_array().unwrap();
        let found = closure.iter().find(|o| o["path"] == "/opt/lib/libalias.so");
        assert_eq!(
            found.map(|o| &o["name"]),
            Some(&"libfoo.so.1".into()),
            "{module:#}"
        );
        assert_nothing_left(&tmp);
    }
    // Alone, the later layer's links lead nowhere: `--layer` judges a layer
    // by itself, and `--with-layer` refuses them without the earlier one,
    // naming the layer and the link.
    let run = check(&tmp, &b, &[], &["--profile", PROFILE, "--layer"]);
    expect_stderr(&run, 2, "b.zip: lib/");
    assert!(run.stderr.contains(": a symlink to "), "{}", run.stderr);
    let (_, other) = layer(work.path(), "other", true);
    std::fs::remove_file(work.path().join("other/lib/libfoo.so.1")).unwrap();
    for later in [&b, &b_dir] {
        let run = check_py(&tmp, &function, &[later], &[]);
        expect_stderr(
            &run,
            2,
            "which resolves to nothing in the layers at /opt (dangling)",
        );
        assert!(
            run.stderr
                .contains(&format!("--with-layer {}: lib/", later.display())),
            "{}",
            run.stderr
        );
        assert_nothing_left(&tmp);
    }
    // An absolute link elsewhere stays refused, in a zip layer before
    // anything is merged.
    let out = work.path().join("out.zip");
    zip_members(
        &out,
        &[Member::Link("lib/libfoo.so.1", "/optional/lib/libfoo.so.1")],
    );
    let run = check_py(&tmp, &function, &[&other, &out], &[]);
    expect_stderr(&run, 2, "leaves the package");
    assert_nothing_left(&tmp);
}

/// (issue 28) A function zip's absolute link into /opt reaches the file a
/// layer provides there, as Lambda resolves it: judged with the layer that
/// has it (it was refused: "leaves the package"), and made to that file in
/// the merged layers, never this machine's /opt. Without a layer that has
/// it, it is refused in one line.
#[test]
fn a_functions_link_into_opt_reaches_the_layers_file() {
    let (work, tmp) = work();
    let (_, a) = layer(work.path(), "a", true);
    // The module needs `libalias.so`, found at /var/task/lib (on the
    // runtime's LD_LIBRARY_PATH), a link to the layer's libfoo.so.1.
    let module = work.path().join("build/_alias.abi3.so");
    alias_module(work.path(), &module);
    let bytes = std::fs::read(&module).unwrap();
    let function = work.path().join("linked.zip");
    zip_members(
        &function,
        &[
            Member::File("_alias.abi3.so", &bytes),
            Member::Link("lib/libalias.so", "/opt/lib/libfoo.so.1"),
        ],
    );
    let run = check_py(&tmp, &function, &[&a], &["--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = stdout_json(&run);
    let module = report(&doc, "linked.zip!/_alias.abi3.so");
    let closure = module["closure"].as_array().unwrap();
    let found = closure
        .iter()
        .find(|o| o["path"] == "/var/task/lib/libalias.so");
    assert_eq!(
        found.map(|o| &o["name"]),
        Some(&"libfoo.so.1".into()),
        "{module:#}"
    );
    assert_nothing_left(&tmp);
    // Alone it leaves the package; with a layer lacking the file, no layer has it.
    let run = check_py(&tmp, &function, &[], &[]);
    expect_stderr(
        &run,
        2,
        "lib/libalias.so: a symlink to \"/opt/lib/libfoo.so.1\", which leaves the package",
    );
    let (empty, _) = layer(work.path(), "empty", true);
    std::fs::remove_file(empty.join("lib/libfoo.so.1")).unwrap();
    std::fs::write(empty.join("lib/other.txt"), "x").unwrap();
    let run = check_py(&tmp, &function, &[&empty], &[]);
    expect_stderr(&run, 2, "which no layer given provides at /opt");
    assert_nothing_left(&tmp);
}
