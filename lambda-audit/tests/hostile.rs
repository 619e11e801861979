//! Hostile input: what must never happen (data loss, writes outside --out,
//! hangs, blow-ups) and verdicts the loader disagreed with. Each test failed
//! before its fix. Fixtures are built here with gcc or crafted from real files.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_succeeded, audit, check_json, expect_stderr, findings, fixture, stdout_json, str_array,
    tree_listing, vendored_package, zip_listing, zip_package, Run, AL1,
};

/// Builds a shared library with gcc: `soname`, written to `path`, needing `deps`.
fn shared_library(path: &Path, soname: Option<&OsStr>, deps: &[&Path]) {
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let source = dir.join(format!("{}.c", path.file_name().unwrap().to_string_lossy()));
    std::fs::write(&source, "int answer(void) { return 42; }\n").unwrap();
    let mut gcc = Command::new("gcc");
    gcc.args(["-shared", "-fPIC", "-O1", "-Wl,--no-as-needed", "-o"])
        .arg(path)
        .arg(&source);
    if let Some(soname) = soname {
        let mut flag = std::ffi::OsString::from("-Wl,-soname,");
        flag.push(soname);
        gcc.arg(flag);
    }
    gcc.args(deps);
    assert_succeeded(&gcc.output().unwrap());
}

/// A Python 3.6-style extension module `name.so` in `dir`, needing `deps`.
fn module(dir: &Path, name: &str, deps: &[&Path]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let source = dir.join(format!("{name}.c"));
    std::fs::write(
        &source,
        format!("void *PyInit_{name}(void) {{ return 0; }}\n"),
    )
    .unwrap();
    let path = dir.join(format!("{name}.so"));
    let out = Command::new("gcc")
        .args(["-shared", "-fPIC", "-O1", "-Wl,--no-as-needed", "-o"])
        .arg(&path)
        .arg(&source)
        .args(deps)
        .output()
        .unwrap();
    assert_succeeded(&out);
    path
}

fn needed(path: &Path) -> Vec<String> {
    lambda_audit::elf::read_elf(path).unwrap().needed
}

fn bundle(out: &Path, library_path: &Path, artifacts: &[&Path]) -> Run {
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("bundle"),
        OsStr::new("--out"),
        out.as_os_str(),
        OsStr::new("--library-path"),
        library_path.as_os_str(),
    ];
    args.extend(artifacts.iter().map(|a| a.as_os_str()));
    audit(args)
}

/// Runs lambda-audit with a deadline: a hang is a failure, not a stuck suite.
fn audit_within(seconds: u64, args: &[&OsStr]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lambda-audit"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if started.elapsed() > Duration::from_secs(seconds) {
            child.kill().unwrap();
            child.wait().unwrap();
            return (None, format!("still running after {seconds} s: killed"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------- bundle ---

/// WORK/src/mod.so, needing libdep.so.1 of WORK/libs: (libs, module).
fn module_with_a_library(work: &Path) -> (PathBuf, PathBuf) {
    let libs = work.join("libs");
    shared_library(
        &libs.join("libdep.so.1"),
        Some(OsStr::new("libdep.so.1")),
        &[],
    );
    let module = module(&work.join("src"), "mod", &[&libs.join("libdep.so.1")]);
    (libs, module)
}

/// (1) A non-empty directory bundle did not write is never replaced; one it
/// wrote (marked) is, and a new bundle there works.
#[test]
fn bundle_replaces_only_a_directory_it_wrote() {
    let work = tempfile::tempdir().unwrap();
    let (libs, module) = module_with_a_library(work.path());

    let users = work.path().join("users-dir");
    std::fs::create_dir_all(&users).unwrap();
    std::fs::write(users.join("thesis.txt"), "years of work").unwrap();
    let run = bundle(&users, &libs, &[&module]);
    expect_stderr(&run, 2, "a directory bundle did not write");
    assert_eq!(
        std::fs::read_to_string(users.join("thesis.txt")).unwrap(),
        "years of work"
    );

    let out = work.path().join("package");
    for round in 0..2 {
        let run = bundle(&out, &libs, &[&module]);
        assert_eq!(run.code, 0, "round {round}: {}{}", run.stdout, run.stderr);
        assert!(out.join(lambda_audit::bundle::MARKER).is_file());
    }
    let siblings: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !siblings
            .iter()
            .any(|n| n.to_string_lossy().contains("old-lambda-audit")),
        "{siblings:?}"
    );
}

/// (issue 18, decision) Replacing an earlier package never touches a
/// fixed name beside `--out`: a user's `.package.old-lambda-audit` (the name
/// bundle once used for the package it replaced) is left as it is.
#[test]
fn bundle_leaves_the_files_beside_out_alone() {
    let work = tempfile::tempdir().unwrap();
    let (libs, module) = module_with_a_library(work.path());
    let out = work.path().join("package");
    let users = work.path().join(".package.old-lambda-audit");
    std::fs::create_dir_all(&users).unwrap();
    std::fs::write(users.join("notes.txt"), "mine").unwrap();
    for round in 0..2 {
        let run = bundle(&out, &libs, &[&module]);
        assert_eq!(run.code, 0, "round {round}: {}{}", run.stdout, run.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(users.join("notes.txt")).unwrap(),
        "mine"
    );
    let mut siblings: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    siblings.sort();
    assert_eq!(
        siblings,
        [".package.old-lambda-audit", "libs", "package", "src"]
    );
}

/// (2) A library linked by path (no SONAME: DT_NEEDED is its absolute path) is
/// vendored under lib/ and the entry rewritten; nothing is written beside it.
#[test]
fn bundle_of_a_library_linked_by_path_writes_only_under_out() {
    let work = tempfile::tempdir().unwrap();
    let host_dir = work.path().join("host-libs");
    let library = host_dir.join("libbypath.so");
    shared_library(&library, None, &[]);
    let module = module(&work.path().join("src"), "mod", &[&library]);
    assert_eq!(
        needed(&module).first().map(String::as_str),
        library.to_str()
    );
    let before = tree_listing(&host_dir);

    let out = work.path().join("package");
    let run = bundle(&out, &work.path().join("empty"), &[&module]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        tree_listing(&host_dir),
        before,
        "bundle wrote beside the original library"
    );
    let vendored: Vec<String> = std::fs::read_dir(out.join("lib"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(vendored.len(), 1, "{vendored:?}");
    assert!(vendored[0].starts_with("libbypath-") && vendored[0].ends_with(".so"));
    let now = needed(&out.join("mod.so"));
    assert!(
        now.contains(&vendored[0]) && !now.iter().any(|n| n.contains('/')),
        "{now:?}"
    );
}

/// (7) A diamond: the module needs A and B, B needs A, all vendored. B must
/// name A's new name whatever order the names sort in.
#[test]
fn bundle_of_a_diamond_renames_every_edge_in_either_order() {
    for (a, b) in [("liba.so.1", "libb.so.1"), ("libz.so.7", "liby.so.7")] {
        let work = tempfile::tempdir().unwrap();
        let libs = work.path().join("libs");
        shared_library(&libs.join(a), Some(OsStr::new(a)), &[]);
        shared_library(&libs.join(b), Some(OsStr::new(b)), &[&libs.join(a)]);
        let module = module(
            &work.path().join("src"),
            "mod",
            &[&libs.join(a), &libs.join(b)],
        );
        let out = work.path().join("package");
        let run = bundle(&out, &libs, &[&module]);
        assert_eq!(run.code, 0, "{a} {b}: {}{}", run.stdout, run.stderr);
        assert_every_needed_is_vendored(&out, &[a, b]);
    }
}

/// Every DT_NEEDED in the package that named one of `originals` now names a
/// file in lib/, and lib/ holds each of them exactly once.
fn assert_every_needed_is_vendored(out: &Path, originals: &[&str]) {
    let lib: Vec<String> = std::fs::read_dir(out.join("lib"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for original in originals {
        let stem = &original[..original.find(".so").unwrap()];
        let copies = lib
            .iter()
            .filter(|n| n.starts_with(&format!("{stem}-")))
            .count();
        assert_eq!(copies, 1, "{original} vendored {copies} times: {lib:?}");
    }
    for entry in walkdir::WalkDir::new(out) {
        let path = entry.unwrap().path().to_path_buf();
        if !path.is_file() || path.file_name() == Some(OsStr::new(lambda_audit::bundle::MARKER)) {
            continue;
        }
        for name in needed(&path) {
            assert!(
                !originals.contains(&name.as_str()),
                "{} still needs {name}",
                path.display()
            );
        }
    }
}

/// Bundle planning over random dependency graphs (diamonds, cycles, shared
/// leaves, both name orders): every reachable library is vendored once, every
/// DT_NEEDED is rewritten, the result loads, and nothing is written outside
/// --out. A small xorshift generator keeps each case reproducible by seed.
#[test]
fn bundle_planning_holds_on_random_dependency_graphs() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    for case in 0..12 {
        let work = tempfile::tempdir().unwrap();
        let count = 2 + next(4) as usize; // 2..5 libraries
        let names: Vec<String> = (0..count)
            .map(|i| format!("libg{}x{}.so.1", (count - i) * 7 % 10, i))
            .collect();
        // Edges i -> j for any i != j (cycles allowed), each with probability 1/3.
        let deps: Vec<Vec<usize>> = (0..count)
            .map(|i| (0..count).filter(|&j| j != i && next(3) == 0).collect())
            .collect();
        // Stubs first (same sonames, no needs), so cycles can be linked.
        let stubs = work.path().join("stubs");
        for name in &names {
            shared_library(&stubs.join(name), Some(OsStr::new(name)), &[]);
        }
        let libs = work.path().join("libs");
        for (i, name) in names.iter().enumerate() {
            let dep_paths: Vec<PathBuf> = deps[i].iter().map(|&j| stubs.join(&names[j])).collect();
            let dep_refs: Vec<&Path> = dep_paths.iter().map(PathBuf::as_path).collect();
            shared_library(&libs.join(name), Some(OsStr::new(name)), &dep_refs);
        }
        let roots: Vec<usize> = {
            let chosen: Vec<usize> = (0..count).filter(|_| next(2) == 0).collect();
            if chosen.is_empty() {
                vec![0]
            } else {
                chosen
            }
        };
        let root_paths: Vec<PathBuf> = roots.iter().map(|&j| stubs.join(&names[j])).collect();
        let root_refs: Vec<&Path> = root_paths.iter().map(PathBuf::as_path).collect();
        let module = module(&work.path().join("src"), "mod", &root_refs);

        // What the loader would reach from the module.
        let mut reached: Vec<usize> = Vec::new();
        let mut queue = roots.clone();
        while let Some(j) = queue.pop() {
            if !reached.contains(&j) {
                reached.push(j);
                queue.extend(&deps[j]);
            }
        }
        let before = tree_listing(work.path());
        let out = work.path().join("package");
        let run = bundle(&out, &libs, &[&module]);
        assert_eq!(
            run.code, 0,
            "case {case} ({names:?}, {deps:?}, roots {roots:?}): {}{}",
            run.stdout, run.stderr
        );
        let after: Vec<PathBuf> = tree_listing(work.path())
            .into_iter()
            .filter(|p| !p.starts_with(&out))
            .collect();
        assert_eq!(after, before, "case {case}: written outside --out");
        let originals: Vec<&str> = reached.iter().map(|&j| names[j].as_str()).collect();
        assert_every_needed_is_vendored(&out, &originals);
        let lib_count = std::fs::read_dir(out.join("lib")).unwrap().count();
        assert_eq!(
            lib_count,
            reached.len(),
            "case {case}: only what is reached is vendored"
        );
        let (code, report) = check_json(AL1, Some(&out), &out.join("mod.so"));
        assert_eq!(code, 0, "case {case}: {report:#}");
    }
}

/// (8) Another architecture: bundle gives check's verdict (exit 1), no panic.
#[test]
fn bundle_of_another_architecture_is_refused_like_check() {
    let work = tempfile::tempdir().unwrap();
    let artifact = fixture("cross/plain-aarch64.so");
    let check = audit([OsStr::new("check"), artifact.as_os_str()]);
    assert_eq!(check.code, 1);
    let run = bundle(&work.path().join("package"), work.path(), &[&artifact]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("aarch64") && !run.stderr.contains("internal error"),
        "{}",
        run.stderr
    );
    assert!(!work.path().join("package").exists());
}

// --------------------------------------------------------------- verdicts ---

/// Copies `source` to `dest` and lets `edit` change its bytes.
fn crafted(source: &Path, dest: &Path, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(source).unwrap();
    edit(&mut bytes);
    std::fs::write(dest, &bytes).unwrap();
    dest.to_path_buf()
}

/// The file offsets of the dynamic section's entries with `tag`.
fn dynamic_entries(bytes: &[u8], tag: u64) -> Vec<usize> {
    let elf = goblin::elf::Elf::parse(bytes).unwrap();
    let dynamic = elf
        .program_headers
        .iter()
        .find(|p| p.p_type == goblin::elf::program_header::PT_DYNAMIC)
        .unwrap();
    let dyns = elf.dynamic.as_ref().unwrap();
    dyns.dyns
        .iter()
        .enumerate()
        .filter(|(_, d)| d.d_tag == tag)
        .map(|(i, _)| dynamic.p_offset as usize + i * 16)
        .collect()
}

/// (5) Byte order: a big-endian file never loads on these little-endian runtimes.
#[test]
fn a_big_endian_x86_64_file_is_another_architecture() {
    let work = tempfile::tempdir().unwrap();
    // An ELF header alone, big-endian, ET_DYN, EM_X86_64, no headers after it.
    let mut header = vec![0u8; 64];
    header[..4].copy_from_slice(b"\x7fELF");
    header[4] = 2; // ELFCLASS64
    header[5] = 2; // ELFDATA2MSB
    header[6] = 1;
    header[16..18].copy_from_slice(&3u16.to_be_bytes()); // ET_DYN
    header[18..20].copy_from_slice(&62u16.to_be_bytes()); // EM_X86_64
    header[20..24].copy_from_slice(&1u32.to_be_bytes());
    header[52..54].copy_from_slice(&64u16.to_be_bytes()); // e_ehsize
    let path = work.path().join("mod.so");
    std::fs::write(&path, &header).unwrap();
    let (code, report) = check_json(AL1, None, &path);
    assert_eq!(code, 1, "{report:#}");
    let wrong = findings(&report, "wrong-arch");
    assert_eq!(wrong.len(), 1, "{report:#}");
    assert!(wrong[0].to_string().contains("big-endian"), "{report:#}");
}

/// (6) Names are bytes: a DT_NEEDED that is not UTF-8 is judged (missing), not
/// dropped; one whose string offset lies outside .dynstr is a malformed file.
#[test]
fn dt_needed_names_are_bytes_and_bad_offsets_are_malformed() {
    let work = tempfile::tempdir().unwrap();
    let libs = work.path().join("libs");
    let odd_name = OsStr::from_bytes(b"libodd\xff.so.1");
    let library = libs.join(odd_name);
    shared_library(&library, Some(odd_name), &[]);
    let module = module(&work.path().join("src"), "mod", &[&library]);
    let (code, report) = check_json(AL1, None, &module);
    assert_eq!(code, 1, "{report:#}");
    let missing = findings(&report, "missing-library");
    assert!(
        missing.iter().any(|f| f["library"] == "libodd\\xff.so.1"),
        "{report:#}"
    );

    let bad = crafted(
        &fixture("mod_zlib.so"),
        &work.path().join("bad.so"),
        |bytes| {
            let at = dynamic_entries(bytes, goblin::elf::dynamic::DT_NEEDED)[0];
            bytes[at + 8..at + 16].copy_from_slice(&0x7fff_ffffu64.to_le_bytes());
        },
    );
    let run = audit([OsStr::new("check"), bad.as_os_str()]);
    expect_stderr(&run, 2, "DT_NEEDED names string offset");
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
}

/// Decided with the loader as the judge: glibc loads nothing for an empty
/// DT_NEEDED (offset 0 of .dynstr is always ""), and refuses a program
/// header size other than its own.
#[test]
fn empty_dt_needed_is_ignored_and_a_wrong_phentsize_is_malformed() {
    let work = tempfile::tempdir().unwrap();
    let with_empty = crafted(
        &fixture("mod_zlib.so"),
        &work.path().join("mod_empty.so"),
        |bytes| {
            let needed = dynamic_entries(bytes, goblin::elf::dynamic::DT_NEEDED);
            let at = *needed.first().unwrap();
            bytes[at + 8..at + 16].copy_from_slice(&0u64.to_le_bytes());
        },
    );
    let (_, report) = check_json(AL1, None, &with_empty);
    assert!(
        !findings(&report, "missing-library")
            .iter()
            .any(|f| f["library"] == ""),
        "{report:#}"
    );
    let phentsize = crafted(
        &fixture("mod_ok.so"),
        &work.path().join("mod_ph.so"),
        |bytes| {
            bytes[54..56].copy_from_slice(&8u16.to_le_bytes());
        },
    );
    let run = audit([OsStr::new("check"), phentsize.as_os_str()]);
    expect_stderr(&run, 2, "e_phentsize is 8");
}

/// (12) 4096 version-need entries that all point at one shared chain of 4096
/// aux entries: 128 KiB of file, 16.7 million (need, version) pairs if
/// followed naively. Bounded by the file's size and refused as malformed,
/// quickly and in little memory.
#[test]
fn version_entries_that_overlap_are_malformed_not_quadratic() {
    const N: usize = 4096;
    let work = tempfile::tempdir().unwrap();
    let path = crafted(
        &fixture("mod_zlib.so"),
        &work.path().join("mod_vn.so"),
        |bytes| {
            let elf = goblin::elf::Elf::parse(bytes).unwrap();
            let index = elf
                .section_headers
                .iter()
                .position(|s| s.sh_type == goblin::elf::section_header::SHT_GNU_VERNEED)
                .unwrap();
            let offset = elf.section_headers[index].sh_offset as usize;
            let header_at = elf.header.e_shoff as usize + index * 64;
            let read32 =
                |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
            // The strings the real entry names (a file, a version), reused.
            let vn_file = read32(bytes, offset + 4);
            let aux = offset + read32(bytes, offset + 8) as usize;
            let (vna_hash, vna_name) = (read32(bytes, aux), read32(bytes, aux + 8));
            drop(elf);
            let base = bytes.len().next_multiple_of(8);
            bytes.resize(base, 0);
            let aux_base = base + N * 16;
            for i in 0..N {
                let at = base + i * 16;
                let mut need = [0u8; 16];
                need[0..2].copy_from_slice(&1u16.to_le_bytes());
                need[2..4].copy_from_slice(&(N as u16).to_le_bytes());
                need[4..8].copy_from_slice(&vn_file.to_le_bytes());
                need[8..12].copy_from_slice(&((aux_base - at) as u32).to_le_bytes());
                let next: u32 = if i + 1 < N { 16 } else { 0 };
                need[12..16].copy_from_slice(&next.to_le_bytes());
                bytes.extend_from_slice(&need);
            }
            for i in 0..N {
                let mut entry = [0u8; 16];
                entry[0..4].copy_from_slice(&vna_hash.to_le_bytes());
                entry[6..8].copy_from_slice(&2u16.to_le_bytes());
                entry[8..12].copy_from_slice(&vna_name.to_le_bytes());
                let next: u32 = if i + 1 < N { 16 } else { 0 };
                entry[12..16].copy_from_slice(&next.to_le_bytes());
                bytes.extend_from_slice(&entry);
            }
            // The section header: sh_offset (at 24), sh_size (at 32), sh_info (at 44).
            bytes[header_at + 24..header_at + 32].copy_from_slice(&(base as u64).to_le_bytes());
            bytes[header_at + 32..header_at + 40].copy_from_slice(&((N * 32) as u64).to_le_bytes());
            bytes[header_at + 44..header_at + 48].copy_from_slice(&(N as u32).to_le_bytes());
        },
    );
    let (code, stderr) = audit_within(20, &[OsStr::new("check"), path.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("more version entries than a file of"),
        "{stderr}"
    );
}

/// 60,000 section headers, each naming the whole file as `.rodata`,
/// and one reaching past its end: read naively, 60,000 passes over 4 MB.
/// The OpenSSL text is looked for in each byte once (overlapping sections
/// are merged), found once, and the section outside the file is passed over
/// (the loader never reads section headers: the file is not malformed).
#[test]
fn overlapping_read_only_sections_are_read_once() {
    const N: usize = 60_000;
    let work = tempfile::tempdir().unwrap();
    let program = work.path().join("program");
    common::cc(
        &program,
        "#include <stdio.h>\n\
         const char OPENSSL_VERSION_TEXT_x[] = \"OpenSSL 1.1.1w  11 Sep 2023\";\n\
         int main(void) { puts(OPENSSL_VERSION_TEXT_x); return 0; }\n",
        &[],
    );
    let path = crafted(&program, &work.path().join("bootstrap"), |bytes| {
        let elf = goblin::elf::Elf::parse(bytes).unwrap();
        let (shoff, shnum) = (elf.header.e_shoff as usize, elf.section_headers.len());
        // Each crafted section is named `.rodata` too, so every one is read.
        let rodata = elf
            .section_headers
            .iter()
            .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".rodata"))
            .unwrap()
            .sh_name as u32;
        drop(elf);
        let mut headers = bytes[shoff..shoff + shnum * 64].to_vec();
        let base = bytes.len().next_multiple_of(8);
        let whole_file = (base + (shnum + N + 1) * 64) as u64;
        let section = |offset: u64, size: u64| {
            let mut header = [0u8; 64];
            header[0..4].copy_from_slice(&rodata.to_le_bytes());
            header[4..8].copy_from_slice(&goblin::elf::section_header::SHT_PROGBITS.to_le_bytes());
            let alloc = u64::from(goblin::elf::section_header::SHF_ALLOC);
            header[8..16].copy_from_slice(&alloc.to_le_bytes());
            header[24..32].copy_from_slice(&offset.to_le_bytes());
            header[32..40].copy_from_slice(&size.to_le_bytes());
            header
        };
        for _ in 0..N {
            headers.extend_from_slice(&section(0, whole_file));
        }
        headers.extend_from_slice(&section(0, whole_file * 2));
        bytes.resize(base, 0);
        bytes.extend_from_slice(&headers);
        // e_shoff (at 40) and e_shnum (at 60).
        bytes[40..48].copy_from_slice(&(base as u64).to_le_bytes());
        bytes[60..62].copy_from_slice(&((shnum + N + 1) as u16).to_le_bytes());
    });
    let args = ["check", "--profile", "provided.al2023"].map(OsStr::new);
    let (code, stderr) = audit_within(20, &[&args[..], &[path.as_os_str()]].concat());
    assert_eq!(code, Some(0), "{stderr}");
    let (_, report) = check_json("provided.al2023", None, &path);
    assert_eq!(
        report["openssl"]["static"],
        serde_json::json!([{"version": "1.1.1w", "text": "OpenSSL 1.1.1w  11 Sep 2023"}]),
        "{report:#}"
    );
}

// ------------------------------------------------------------- validation ---

/// (9) Inputs are normalised or refused at the edge, the same way everywhere.
#[test]
fn task_roots_and_bundle_dirs_are_normalised_or_refused() {
    let work = tempfile::tempdir().unwrap();
    // A profile whose task root ends in "/": the same directory as without.
    let profile_text = audit(["profile", "show", AL1]).stdout.replace(
        "\"task_root\": \"/var/task\"",
        "\"task_root\": \"/var/task/\"",
    );
    assert!(profile_text.contains("\"/var/task/\""));
    let profile = work.path().join("profile.json");
    std::fs::write(&profile, profile_text).unwrap();
    let package = work.path().join("package");
    // mod_vendored finds libvendored in /var/task/lib through LD_LIBRARY_PATH.
    vendored_package(&package);
    let run = audit([
        OsStr::new("check"),
        OsStr::new("--profile"),
        profile.as_os_str(),
        OsStr::new("--bundle-dir"),
        package.as_os_str(),
        package.join("mod_vendored.so").as_os_str(),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    for bundle_dir in [work.path().join("missing"), profile.clone()] {
        let run = audit([
            OsStr::new("check"),
            OsStr::new("--bundle-dir"),
            bundle_dir.as_os_str(),
            fixture("mod_ok.so").as_os_str(),
        ]);
        expect_stderr(&run, 2, "not a directory");
    }

    let rootfs = common::tree(&[("/lib64/libc.so.6", &fixture("runtime-lib/libcrypto.so.10"))]);
    let run = audit([
        OsStr::new("profile"),
        OsStr::new("scan"),
        rootfs.path().as_os_str(),
        OsStr::new("--task-root"),
        OsStr::new("relative/task"),
    ]);
    expect_stderr(&run, 2, "--task-root relative/task: not an absolute path");

    // A directory with no libraries is no root filesystem.
    let empty = tempfile::tempdir().unwrap();
    let run = audit([
        OsStr::new("profile"),
        OsStr::new("scan"),
        empty.path().as_os_str(),
    ]);
    expect_stderr(&run, 2, "no shared libraries found");

    // A FIFO as --profile is refused, not read (which would block).
    let fifo = work.path().join("profile-fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (code, stderr) = audit_within(
        10,
        &[
            OsStr::new("check"),
            OsStr::new("--profile"),
            fifo.as_os_str(),
            fixture("mod_ok.so").as_os_str(),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
}

/// (10) `include ld.so.conf.d/*.conf` is read relative to /etc, as ldconfig does.
#[test]
fn scan_follows_relative_includes_from_the_including_file() {
    let rootfs = common::tree(&[
        ("/lib64/libc.so.6", &fixture("runtime-lib/libcrypto.so.10")),
        (
            "/opt/vendor/lib/libvendored.so.1",
            &fixture("build-lib/libvendored.so.1"),
        ),
    ]);
    let etc = rootfs.path().join("etc");
    std::fs::create_dir_all(etc.join("ld.so.conf.d")).unwrap();
    std::fs::write(etc.join("ld.so.conf"), "include ld.so.conf.d/*.conf\n").unwrap();
    std::fs::write(etc.join("ld.so.conf.d/vendor.conf"), "/opt/vendor/lib\n").unwrap();
    let run = audit([
        OsStr::new("profile"),
        OsStr::new("scan"),
        rootfs.path().as_os_str(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let profile = stdout_json(&run);
    let dirs = str_array(&profile["default_dirs"]);
    assert_eq!(dirs.first(), Some(&"/opt/vendor/lib"), "{dirs:?}");
    assert!(run.stdout.contains("libvendored.so.1"));
    // ldconfig, the oracle, reads the same directory from the same file. It
    // follows a relative include only when it can chroot into the tree, that
    // is as root: as root itself, or else in a user namespace of its own (a
    // build sandbox's user is not root). Not a user namespace when already
    // root: the kernel refuses one inside a chroot (a fresh root made with
    // debootstrap, where this ran as root).
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|id| id.stdout == b"0\n");
    let mut ldconfig = if as_root {
        Command::new("ldconfig")
    } else {
        let mut unshare = Command::new("unshare");
        unshare.args(["--user", "--map-root-user", "ldconfig"]);
        unshare
    };
    let ldconfig = ldconfig
        .arg("-r")
        .arg(rootfs.path())
        .args(["-N", "-X", "-v"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ldconfig.stdout);
    assert!(
        text.contains("/opt/vendor/lib:"),
        "ldconfig -r: {text}{}",
        String::from_utf8_lossy(&ldconfig.stderr)
    );
}

/// `profile scan ROOTFS --out ROOTFS/../profile.json` within a deadline:
/// (exit code, standard error, the profile's default directories).
fn scan_within(seconds: u64, rootfs: &Path) -> (Option<i32>, String, Vec<String>) {
    let out = rootfs.with_extension("profile.json");
    let (code, stderr) = audit_within(
        seconds,
        &[
            OsStr::new("profile"),
            OsStr::new("scan"),
            rootfs.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
        ],
    );
    let dirs = std::fs::read_to_string(&out)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .map(|profile| {
            profile["default_dirs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    (code, stderr, dirs)
}

/// DIR/rootfs, a root filesystem with one library, /lib64/libc.so.6.
fn minimal_rootfs(dir: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("lib64")).unwrap();
    std::fs::copy(
        fixture("runtime-lib/libcrypto.so.10"),
        rootfs.join("lib64/libc.so.6"),
    )
    .unwrap();
    rootfs
}

/// (issue 18, 6) `ROOT/etc/ld.so.conf` is judged by its metadata before it
/// is opened (a FIFO hung the scan) and read within a size cap (a link to a
/// 2 GiB sparse file was read whole): either is skipped with a note.
#[test]
fn scan_reads_ld_so_conf_only_if_it_is_a_small_regular_file() {
    let work = tempfile::tempdir().unwrap();
    let rootfs = minimal_rootfs(work.path());
    let etc = rootfs.join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let conf = etc.join("ld.so.conf");
    assert!(Command::new("mkfifo")
        .arg(&conf)
        .status()
        .unwrap()
        .success());
    let (code, stderr, dirs) = scan_within(60, &rootfs);
    assert_eq!(code, Some(0), "a FIFO: {stderr}");
    assert!(stderr.contains("/etc/ld.so.conf: a FIFO"), "{stderr}");
    assert_eq!(dirs, ["/lib64", "/usr/lib64"]);

    std::fs::remove_file(&conf).unwrap();
    let big = std::fs::File::create(etc.join("big")).unwrap();
    big.set_len(2 << 30).unwrap();
    std::os::unix::fs::symlink("big", &conf).unwrap();
    let (code, stderr, dirs) = scan_within(60, &rootfs);
    assert_eq!(code, Some(0), "a big file: {stderr}");
    assert!(stderr.contains("/etc/ld.so.conf: larger than"), "{stderr}");
    assert_eq!(dirs, ["/lib64", "/usr/lib64"]);
}

/// (issue 18, 7) Files that include each other (six files, each including
/// all six) are each read once: the fan-out was exponential (6^8 reads).
#[test]
fn scan_reads_each_included_file_once() {
    let work = tempfile::tempdir().unwrap();
    let rootfs = minimal_rootfs(work.path());
    let confd = rootfs.join("etc/ld.so.conf.d");
    std::fs::create_dir_all(&confd).unwrap();
    std::fs::write(
        rootfs.join("etc/ld.so.conf"),
        "include /etc/ld.so.conf.d/*.conf\n",
    )
    .unwrap();
    for i in 0..6 {
        std::fs::write(
            confd.join(format!("{i}.conf")),
            format!("/opt/dir{i}\ninclude /etc/ld.so.conf.d/*.conf\n"),
        )
        .unwrap();
    }
    let (code, stderr, dirs) = scan_within(60, &rootfs);
    assert_eq!(code, Some(0), "{stderr}");
    let expected: Vec<String> = (0..6)
        .map(|i| format!("/opt/dir{i}"))
        .chain(["/lib64".to_string(), "/usr/lib64".to_string()])
        .collect();
    assert_eq!(dirs, expected, "{stderr}");
    assert!(stderr.contains("already read"), "{stderr}");
}

// -------------------------------------------------------------------- zip ---

/// A package with one Python module that loads in the python3.6 profile.
fn python_package(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(fixture("mod_ok.so"), dir.join("mod_ok.so")).unwrap();
    dir.to_path_buf()
}

/// (4) --out that is a symlink or a FIFO is refused, not replaced.
#[test]
fn zip_refuses_an_out_that_is_not_a_regular_file() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    let target = work.path().join("precious.txt");
    std::fs::write(&target, "keep").unwrap();
    let link = work.path().join("link.zip");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = zip_package(&package, &link, AL1);
    expect_stderr(&run, 2, "a symlink, not a regular file");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");

    let fifo = work.path().join("fifo.zip");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let run = zip_package(&package, &fifo, AL1);
    expect_stderr(&run, 2, "a FIFO, not a regular file");
}

/// (11) A FIFO in the package is refused before it is opened (it blocked).
#[test]
fn zip_refuses_special_files_without_opening_them() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    assert!(Command::new("mkfifo")
        .arg(package.join("pipe"))
        .status()
        .unwrap()
        .success());
    let out = work.path().join("out.zip");
    let (code, stderr) = audit_within(
        10,
        &[
            OsStr::new("zip"),
            OsStr::new("--out"),
            out.as_os_str(),
            package.as_os_str(),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("a FIFO, not a regular file"), "{stderr}");
    assert!(!out.exists());
}

/// (15) --out inside the package directory is not packaged (nor bundle's mark).
#[test]
fn zip_leaves_out_its_own_output_and_bundles_mark() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    std::fs::write(package.join(lambda_audit::bundle::MARKER), "mark").unwrap();
    let out = package.join("lambda.zip");
    for _ in 0..2 {
        let run = zip_package(&package, &out, AL1);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(zip_listing(&out), vec![("mod_ok.so".to_string(), 0o755)]);
}

/// (16) Executable bits are kept (a bootstrap script), and a bootstrap that is
/// not executable is refused for a custom runtime.
#[test]
fn zip_keeps_execute_bits_and_refuses_a_non_executable_bootstrap() {
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("package");
    std::fs::create_dir_all(package.join("bin")).unwrap();
    std::fs::copy(fixture("bootstrap"), package.join("bin/app")).unwrap();
    std::fs::write(
        package.join("bootstrap"),
        "#!/bin/sh\nexec \"$LAMBDA_TASK_ROOT/bin/app\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        package.join("bootstrap"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(package.join("README"), "hello\n").unwrap();
    let out = work.path().join("function.zip");
    // The fixture program is linked against this machine's glibc: AL2023's is new enough.
    let run = zip_package(&package, &out, "amazonlinux-2023");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        zip_listing(&out),
        vec![
            ("README".to_string(), 0o644),
            ("bin/app".to_string(), 0o755),
            ("bootstrap".to_string(), 0o755)
        ]
    );
    std::fs::set_permissions(
        package.join("bootstrap"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::remove_file(&out).unwrap();
    let run = zip_package(&package, &out, "amazonlinux-2023");
    expect_stderr(&run, 1, "bootstrap: not executable");
    assert!(!out.exists());
}

/// (17) A name with a backslash is refused (zip-slip for some extractors).
#[test]
fn zip_refuses_names_an_extractor_could_read_as_paths() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    std::fs::write(package.join("..\\..\\..\\tmp\\evil.txt"), "x").unwrap();
    let run = zip_package(&package, &work.path().join("out.zip"), AL1);
    expect_stderr(&run, 2, "a name with a backslash");
}

/// `len` bytes a compressor cannot shrink (xorshift), so writing a zip of
/// them takes long enough to race or interrupt.
fn incompressible(len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    let mut x: u32 = 12345;
    for byte in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *byte = x as u8;
    }
    data
}

/// `lambda-audit zip --out OUT PACKAGE`, started, not awaited.
fn spawn_zip(package: &Path, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lambda-audit"))
        .args([OsStr::new("zip"), OsStr::new("--profile"), OsStr::new(AL1)])
        .arg("--out")
        .arg(out)
        .arg(package)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until a file whose name starts with `prefix` appears in `dir`.
fn wait_for_file(dir: &Path, prefix: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let seen = std::fs::read_dir(dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(prefix));
        if seen {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// (issue 18, 11) `zip --out` inside the package: another run's temporary
/// file there (being written, or left by a SIGKILLed run) is never
/// packaged. Real concurrent processes, repeated; a real SIGKILL.
#[test]
fn zip_never_packages_another_runs_temporary_file() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    std::fs::write(package.join("data.bin"), incompressible(8 << 20)).unwrap();
    let temporary = ".lambda-audit";
    for round in 0..3 {
        let (a, b) = (package.join("a.zip"), package.join("b.zip"));
        let mut first = spawn_zip(&package, &a);
        assert!(
            wait_for_file(&package, temporary),
            "round {round}: no temporary"
        );
        let second = spawn_zip(&package, &b);
        assert!(first.wait().unwrap().success(), "round {round}");
        let output = second.wait_with_output().unwrap();
        assert!(output.status.success(), "round {round}: {output:?}");
        for archive in [&a, &b] {
            let names: Vec<String> = zip_listing(archive).into_iter().map(|(n, _)| n).collect();
            assert!(
                !names.iter().any(|n| n.contains(temporary)),
                "round {round}: {} holds {names:?}",
                archive.display()
            );
        }
        std::fs::remove_file(&a).unwrap();
        std::fs::remove_file(&b).unwrap();
    }

    let mut killed = spawn_zip(&package, &package.join("killed.zip"));
    assert!(wait_for_file(&package, temporary));
    // SIGKILL (std's kill): a build sandbox has no kill program.
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(
        wait_for_file(&package, temporary),
        "a SIGKILLed run leaves its temporary"
    );
    let out = work.path().join("next.zip");
    let run = zip_package(&package, &out, AL1);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<String> = zip_listing(&out).into_iter().map(|(n, _)| n).collect();
    assert!(!names.iter().any(|n| n.contains(temporary)), "{names:?}");
    assert!(run.stderr.contains("left out"), "{}", run.stderr);
}

/// (14) SIGTERM (and SIGINT) during zip: the temporary file is removed.
#[test]
fn zip_interrupted_leaves_no_temporary_file() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    // 40 MB of incompressible data, so the write takes long enough to interrupt.
    std::fs::write(package.join("data.bin"), incompressible(40 << 20)).unwrap();
    let out_dir = work.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    for (signal, number) in [("TERM", libc::SIGTERM), ("INT", libc::SIGINT)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lambda-audit"))
            .args([
                OsStr::new("zip"),
                OsStr::new("--out"),
                out_dir.join("f.zip").as_os_str(),
                package.as_os_str(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let temp_seen = loop {
            let temps = std::fs::read_dir(&out_dir).unwrap().count();
            if temps > 0 || started.elapsed() > Duration::from_secs(20) {
                break temps > 0;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        assert!(temp_seen, "no temporary file appeared");
        // kill(2) itself: a build sandbox has no kill program.
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        assert_eq!(unsafe { libc::kill(pid, number) }, 0, "kill -{signal}");
        let status = child.wait().unwrap();
        let left: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty()
                || (status.success() && left == vec![std::ffi::OsString::from("f.zip")]),
            "SIG{signal}: left {left:?} (status {status})"
        );
        let _ = std::fs::remove_file(out_dir.join("f.zip"));
    }
}

/// Decided (AWS: the unzipped size "must be smaller than 262144000 bytes"):
/// exactly the limit is refused. A sparse file: no disk is used.
#[test]
fn zip_refuses_exactly_the_unzipped_limit() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    let module_size = std::fs::metadata(package.join("mod_ok.so")).unwrap().len();
    let filler = std::fs::File::create(package.join("filler.bin")).unwrap();
    filler.set_len(262_144_000 - module_size).unwrap();
    let run = zip_package(&package, &work.path().join("out.zip"), AL1);
    expect_stderr(&run, 1, "over Lambda's limit");
}

/// Decided: a file the runtime never loads does not block the package: an
/// unused library of another architecture, or data that merely starts like
/// an ELF file. Each is named on standard error.
#[test]
fn zip_passes_over_files_the_runtime_never_loads() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    std::fs::create_dir_all(package.join("tests")).unwrap();
    std::fs::copy(
        fixture("cross/plain-i386.so"),
        package.join("tests/plain-i386.so"),
    )
    .unwrap();
    std::fs::write(package.join("tests/truncated.bin"), b"\x7fELF\x02\x01").unwrap();
    let run = zip_package(&package, &work.path().join("out.zip"), AL1);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("skipped")
            && run.stderr.contains("plain-i386.so: another architecture"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("truncated.bin"), "{}", run.stderr);
}

/// `lambda-audit ARGS`, its standard output closed by the reader after
/// `keep` bytes (as `| head -c KEEP` does): (exit code, standard error).
fn audit_into_closed_pipe(args: &[&OsStr], keep: usize) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lambda-audit"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = vec![0u8; keep];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// (issue 18, 10) A reader that closes standard output early (`| head -1`)
/// gets one line and exit status 2, never a panic; for a profile, a text
/// report and a JSON report, each larger than a pipe holds.
#[test]
fn a_closed_standard_output_is_one_line_not_a_panic() {
    let module = fixture("mod_missing.so");
    let many: Vec<&OsStr> = std::iter::repeat_n(module.as_os_str(), 400).collect();
    let check: Vec<&OsStr> = [
        OsStr::new("check"),
        OsStr::new("--profile"),
        OsStr::new(AL1),
    ]
    .into_iter()
    .chain(many.iter().copied())
    .collect();
    let mut check_json = check.clone();
    check_json.insert(1, OsStr::new("--json"));
    let show: Vec<&OsStr> = ["profile", "show", "python3.12"].map(OsStr::new).to_vec();
    for args in [show, check, check_json] {
        let (code, stderr) = audit_into_closed_pipe(&args, 10);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("standard output"), "{args:?}: {stderr}");
    }
}

/// The same for a matrix of runtimes (`--profile` twice), text and JSON:
/// its output, written once all are judged, is larger than a pipe holds.
#[test]
fn a_closed_standard_output_of_a_matrix_is_one_line_not_a_panic() {
    let module = fixture("mod_missing.so");
    let many: Vec<&OsStr> = std::iter::repeat_n(module.as_os_str(), 200).collect();
    let check: Vec<&OsStr> = ["check", "-p", AL1, "-p", "amazonlinux-2"]
        .map(OsStr::new)
        .into_iter()
        .chain(many.iter().copied())
        .collect();
    let mut check_json = check.clone();
    check_json.insert(1, OsStr::new("--json"));
    for args in [check, check_json] {
        let (code, stderr) = audit_into_closed_pipe(&args, 10);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("standard output"), "{args:?}: {stderr}");
    }
}

/// No raw control characters in anything printed for a person.
fn assert_no_controls(what: &str, text: &str) {
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: raw control characters in {text:?}"
    );
}

/// (issue 18, 12, and the decision on terminal escapes) A name holding a
/// newline or a terminal escape is shown escaped: an error stays one line,
/// and nothing a name says reaches the terminal as a control.
#[test]
fn names_with_newlines_and_escapes_are_shown_escaped() {
    let work = tempfile::tempdir().unwrap();
    // A missing artifact whose name holds a newline.
    let missing = work.path().join("no\nsuch\x1b[2J.so");
    let run = audit([OsStr::new("check"), missing.as_os_str()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{:?}", run.stderr);
    assert!(
        run.stderr.contains("no\\nsuch\\x1b[2J.so"),
        "{:?}",
        run.stderr
    );
    assert_no_controls("missing artifact", &run.stderr);

    // A package with a module and a file unreadable as ELF: the note naming
    // the file is one line; without the module, so is the error naming the
    // package.
    let package = work.path().join("pack\nage");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(package.join("bad\n\x1b[31mname.so"), b"\x7fELF junk").unwrap();
    std::fs::copy(fixture("mod_ok.so"), package.join("mod_ok.so")).unwrap();
    let check_package = || {
        audit([
            OsStr::new("check"),
            OsStr::new("--profile"),
            OsStr::new("python3.12"),
            package.as_os_str(),
        ])
    };
    let run = check_package();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{:?}", run.stderr);
    assert!(
        run.stderr.contains("bad\\n\\x1b[31mname.so"),
        "{:?}",
        run.stderr
    );
    assert_no_controls("note", &run.stderr);
    assert_no_controls("report", &run.stdout);
    std::fs::remove_file(package.join("mod_ok.so")).unwrap();
    let run = check_package();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{:?}", run.stderr);
    assert_no_controls("package", &run.stderr);

    // A report on an artifact named with an escape.
    let named = work.path().join("mod\x1b[31m_ok.so");
    std::fs::copy(fixture("mod_ok.so"), &named).unwrap();
    let run = audit([
        OsStr::new("check"),
        OsStr::new("--profile"),
        OsStr::new("provided.al2023"),
        named.as_os_str(),
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_no_controls("report", &run.stdout);
    assert!(
        run.stdout.contains("mod\\x1b[31m_ok.so"),
        "{:?}",
        run.stdout
    );
}

/// `profile scan ROOTFS --out OUT`.
fn scan_to(rootfs: &Path, out: &Path) -> Run {
    audit([
        OsStr::new("profile"),
        OsStr::new("scan"),
        rootfs.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ])
}

/// (issue 18, 9) `profile scan --out` writes by renaming a new file over
/// the path, like `zip --out`: a symlink or a special file there (a FIFO
/// here; `/dev/null` as root) is refused and left as it is.
#[test]
fn profile_scan_refuses_an_out_that_is_not_a_regular_file() {
    let rootfs = common::tree(&[("/lib64/libc.so.6", &fixture("runtime-lib/libcrypto.so.10"))]);
    let work = tempfile::tempdir().unwrap();
    let precious = work.path().join("precious.json");
    std::fs::write(&precious, "keep").unwrap();
    let link = work.path().join("link.json");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let fifo = work.path().join("fifo.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (out, kind) in [(&link, "a symlink"), (&fifo, "a FIFO")] {
        let run = scan_to(rootfs.path(), out);
        assert_eq!(run.code, 2, "{kind}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("{kind}, not a regular file")),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    }
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep");
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        3,
        "nothing else written"
    );
    // A regular file (or nothing) is replaced.
    let out = work.path().join("scanned.json");
    let run = scan_to(rootfs.path(), &out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read_to_string(&out).unwrap().contains("libc.so.6"));
}

/// `profile scan` of DIR/rootfs with `/usr/bin/python3` made of a real ELF
/// file followed by `tail`, as a Python host, under the shell's resource
/// limits `limits`: (exit code, standard error, the extension suffixes).
fn scan_python_host(
    dir: &Path,
    tail: impl FnOnce(&mut std::fs::File),
    limits: &str,
) -> (Option<i32>, String, Vec<String>) {
    let rootfs = minimal_rootfs(dir);
    let exe = rootfs.join("usr/bin/python3");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::copy(fixture("runtime-lib/libcrypto.so.10"), &exe).unwrap();
    let mut file = std::fs::OpenOptions::new().append(true).open(&exe).unwrap();
    tail(&mut file);
    drop(file);
    let out = dir.join("profile.json");
    let scan = ["profile", "scan", "--host-exe", "/usr/bin/python3"]
        .into_iter()
        .chain(["--module-init-prefix", "PyInit_", "--out"])
        .map(OsStr::new)
        .chain([out.as_os_str(), rootfs.as_os_str()]);
    let run = common::audit_limited(limits, scan);
    let suffixes = std::fs::read_to_string(&out)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|p| {
            str_array(&p["host"]["extension_suffixes"])
                .into_iter()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    (Some(run.code), run.stderr, suffixes)
}

const SUFFIX: &str = ".cpython-312-x86_64-linux-gnu.so";

/// A `scan_python_host` whose host ends with SUFFIX: the scan succeeded and
/// found it, before the suffixes every Python 3 has.
fn assert_scanned_suffix((code, stderr, suffixes): (Option<i32>, String, Vec<String>)) {
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(suffixes, [SUFFIX, ".abi3.so", ".so"]);
}

/// (issue 18, 8) The host's module suffix is found in one pass: a tail of
/// 1 MiB of `.cpython-` with no NUL (each one was followed to the end of the
/// file: quadratic, 66 s) stays well inside a CPU-time limit.
#[test]
fn host_suffix_search_is_linear() {
    let work = tempfile::tempdir().unwrap();
    assert_scanned_suffix(scan_python_host(
        work.path(),
        |file| {
            use std::io::Write;
            file.write_all(&b".cpython-".repeat((1 << 20) / 9)).unwrap();
            file.write_all(format!("\0{SUFFIX}\0").as_bytes()).unwrap();
        },
        "ulimit -t 5",
    ));
}

/// (issue 18, 8) The host is streamed, not read whole: a 384 MiB sparse
/// host (its suffix at the very end) scans under a 200 MB limit on the
/// heap (`ulimit -d`; the ELF parser's read-only map does not count).
#[test]
fn host_suffix_search_reads_in_bounded_memory() {
    let work = tempfile::tempdir().unwrap();
    assert_scanned_suffix(scan_python_host(
        work.path(),
        |file| {
            use std::io::Write;
            let len = file.metadata().unwrap().len();
            file.set_len(len + (3 << 27)).unwrap();
            file.write_all(format!("\0{SUFFIX}\0").as_bytes()).unwrap();
        },
        "ulimit -d 200000",
    ));
}

/// (issue 18, decision) A file size limit or a full disk while `zip`
/// writes: exit 2, one line naming `--out` (the zip crate's debug print
/// blamed the input file), and no temporary left beside `--out` (SIGXFSZ
/// killed the process before it could remove it). `ulimit -f` gives the
/// same EFBIG a full file system does.
#[test]
fn zip_over_a_file_size_limit_leaves_nothing_and_names_out() {
    let work = tempfile::tempdir().unwrap();
    let package = python_package(&work.path().join("package"));
    std::fs::write(package.join("data.bin"), incompressible(1 << 20)).unwrap();
    let out_dir = work.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("f.zip");
    let args = ["zip", "--profile", AL1, "--out"]
        .map(OsStr::new)
        .into_iter()
        .chain([out.as_os_str(), package.as_os_str()]);
    let run = common::audit_limited("ulimit -f 256", args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("File too large"), "{}", run.stderr);
    assert!(run.stderr.contains("f.zip"), "{}", run.stderr);
    assert!(!run.stderr.contains("data.bin"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "left beside --out"
    );
}

/// `check --profile PROFILE mod_ok.so` under `limits`.
fn check_with_profile(profile: &Path, limits: &str) -> Run {
    let module = fixture("mod_ok.so");
    let args = [
        OsStr::new("check"),
        OsStr::new("--profile"),
        profile.as_os_str(),
        module.as_os_str(),
    ];
    common::audit_limited(limits, args)
}

/// (issue 18, decisions) A profile file is read strictly and within a
/// bound: a key given twice is refused (the last one won), `sources` that is
/// not a list is refused in a profile that `extends` (it was dropped), and a
/// file over the size cap is refused before it is read (1.2 GB were read
/// whole before failing at column 1).
#[test]
fn profiles_are_read_strictly_and_within_a_bound() {
    let work = tempfile::tempdir().unwrap();
    let profile = work.path().join("profile.json");
    let extending = |fields: &str| {
        format!(
            "{{\"schema\": 1, \"name\": \"mine\", \"extends\": \"amazonlinux-2023\", {fields}}}"
        )
    };
    // What the cases vary is accepted when given once and right.
    std::fs::write(&profile, extending("\"sources\": [\"me\"]")).unwrap();
    let run = check_with_profile(&profile, "true");
    assert_eq!(run.code, 1, "{}", run.stderr);
    for (fields, reason) in [
        ("\"name\": \"twice\"", "\"name\" twice"),
        ("\"sources\": 5", "sources"),
    ] {
        std::fs::write(&profile, extending(fields)).unwrap();
        let run = check_with_profile(&profile, "true");
        assert_eq!(run.code, 2, "{fields}: {}", run.stderr);
        assert!(run.stderr.contains(reason), "{fields}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    let big = std::fs::File::create(&profile).unwrap();
    big.set_len(1200 << 20).unwrap();
    let run = check_with_profile(&profile, "ulimit -d 300000");
    expect_stderr(&run, 2, "larger than");
}

/// (issue 28) A name with a newline is escaped (`\n`) in every text report
/// and message, so no line of output is made by a name: an npm package's
/// `name` forged a verdict line, a profile file's `name` a matrix line, its
/// `runtime.replacement` made the deprecation warning three lines, and a
/// library's soname a line of the report.
#[test]
fn names_with_a_newline_make_no_line_of_their_own() {
    let forged = "\nforged: loads";
    let no_forged_line = |run: &Run| {
        let lines = run.stdout.lines().chain(run.stderr.lines());
        let bad: Vec<&str> = lines.filter(|l| l.starts_with("forged")).collect();
        assert!(bad.is_empty(), "{}{}", run.stdout, run.stderr);
    };
    let work = tempfile::tempdir().unwrap();

    let package = work.path().join("node");
    let npm = package.join("node_modules/evil");
    std::fs::create_dir_all(&npm).unwrap();
    let manifest = serde_json::json!({"name": format!("evil{forged}"), "version": "1.0.0"});
    std::fs::write(npm.join("package.json"), manifest.to_string()).unwrap();
    common::shared(
        &npm.join("addon.node"),
        "void *napi_register_module_v1(void *env, void *exports) { return exports; }\n",
        &[],
    );
    let run = common::audit_on(&["check", "--profile", "nodejs22.x"], &package);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("(from evil\\nforged: loads 1.0.0): loads"),
        "{}",
        run.stdout
    );
    no_forged_line(&run);

    let profile = work.path().join("profile.json");
    let mut text = stdout_json(&audit(["profile", "show", "python3.12"]));
    text["name"] = format!("evil{forged}").into();
    text["runtime"]["deprecated"] = "2020-01-01".into();
    text["runtime"]["replacement"] = format!("python3.14{forged}").into();
    std::fs::write(&profile, text.to_string()).unwrap();
    let dir = work.path().join("python");
    let plain = module(&dir, "mod_ok", &[]);
    let profile = profile.to_str().unwrap();
    for args in [
        vec!["check", "--profile", profile],
        vec!["check", "--profile", profile, "--profile", "python3.12"],
    ] {
        let run = common::audit_on(&args, &plain);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        no_forged_line(&run);
        assert_eq!(
            run.stderr,
            "lambda-audit: warning: evil\\nforged: loads is deprecated since 2020-01-01: use python3.14\\nforged: loads\n"
        );
        assert!(
            run.stdout.contains("evil\\nforged: loads"),
            "{}",
            run.stdout
        );
    }

    let dep = dir.join("libdep.so");
    shared_library(&dep, Some(OsStr::new("libdep.so\nforged: loads")), &[]);
    let needing = module(&dir, "mod_dep", &[&dep]);
    std::fs::remove_file(&dep).unwrap();
    for args in [
        vec!["check", "--profile", "python3.12"],
        vec![
            "check",
            "--profile",
            "python3.12",
            "--profile",
            "python3.13",
        ],
    ] {
        let run = common::audit_on(&args, &needing);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        no_forged_line(&run);
        assert!(
            run.stdout.contains("needs libdep.so\\nforged: loads"),
            "{}",
            run.stdout
        );
    }
}

/// (issue 28, decision) A profile file whose `runtime.architectures` does
/// not have its own `arch` (a runtime Lambda offers on arm64 only, judged
/// on x86_64) is refused when it is read, in one line (it was used without
/// a word). With its arch there, the same profile is used.
#[test]
fn a_profile_for_a_runtime_lambda_lacks_on_its_arch_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let module = module(&work.path().join("python"), "mod_ok", &[]);
    let profile = work.path().join("profile.json");
    let mut text = stdout_json(&audit(["profile", "show", "python3.12"]));
    text["name"] = "mine".into();
    for (architectures, code) in [(vec!["x86_64"], 0), (vec!["arm64"], 2)] {
        text["runtime"]["architectures"] = serde_json::json!(architectures);
        std::fs::write(&profile, text.to_string()).unwrap();
        let run = common::audit_on(&["check", "--profile", profile.to_str().unwrap()], &module);
        assert_eq!(
            run.code, code,
            "{architectures:?}: {}{}",
            run.stdout, run.stderr
        );
        if code == 2 {
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
            assert!(run.stderr.contains("its arch is x86_64"), "{}", run.stderr);
        }
    }
}
