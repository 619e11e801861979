//! `check FUNCTION --with-layer LAYER …` end to end over a function and up
//! to three layers built from the fuzzer's bytes (run: cargo +nightly fuzz
//! run check_layers). Each is a zip or a directory whose members (files,
//! directories, symlinks) are named and filled either verbatim (real
//! packages given as seeds: an npm package's package.json, its prebuilt
//! `.node` addons) or spelt from hostile pieces (`..`, `/opt/`, a newline,
//! `node_modules/`, `prebuilds/linux-x64/`, `package.json`, JSON keys that
//! the Node.js loaders read: `os`, `cpu`, `libc`, `optionalDependencies`,
//! `gypfile`). The run follows the CLI's: the sizes declared against
//! Lambda's limit, the layers merged as /opt, the function opened within
//! what they leave, every file judged and rendered as the text report.
//!
//! Asserted, whatever the archives say: no panic; every report line,
//! skipped line and error is one line without control characters (names
//! are escaped); nothing written outside the private directory (`outside`,
//! beside TMPDIR, which `../` targets reach, stays empty); TMPDIR empty
//! afterwards; the inputs' directory holds exactly what the harness wrote
//! (nothing beside the archives, nothing added to or removed from a layer
//! or function directory).
#![no_main]

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use lambda_audit::layers::{self, Layers};
use lambda_audit::package::{check_opened, Package};
use lambda_audit::profile::Profile;
use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;

mod common;
use common::{assert_nothing_outside_or_left, base, listing};

/// The runtimes the bytes choose from: the Node.js ones (their loaders
/// pick among prebuilds), and an OS-only one (a bootstrap, possibly a
/// layer's).
const PROFILES: &[&str] = &["nodejs20.x", "nodejs22.x", "nodejs18.x", "provided.al2023"];

/// `PROFILES`, loaded once.
fn profiles() -> &'static [Profile] {
    static LOADED: OnceLock<Vec<Profile>> = OnceLock::new();
    LOADED.get_or_init(|| PROFILES.iter().map(|p| Profile::load(p).unwrap()).collect())
}

/// Name and link-target pieces: what hostile archives are made of.
const PIECES: &[&str] = &[
    "a",
    "/",
    "..",
    "../",
    ".",
    "node_modules/",
    "pkg",
    "package.json",
    "prebuilds/",
    "linux-x64",
    "linux-arm64",
    "build/Release/",
    "addon.node",
    "addon.glibc.node",
    "addon.musl.node",
    "lib/",
    "lib.so",
    "bootstrap",
    "/opt/",
    "outside",
    "/tmp",
    "\n",
    "\x1b",
    "@scope/",
];

/// package.json pieces: the keys and values the npm name and the loaders'
/// choice read, and JSON's own punctuation.
const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\"name\":",
    "\"version\":",
    "\"os\":",
    "\"cpu\":",
    "\"libc\":",
    "\"optionalDependencies\":",
    "\"gypfile\":",
    "\"main\":",
    "true",
    "\"linux\"",
    "\"x64\"",
    "\"arm64\"",
    "\"glibc\"",
    "\"musl\"",
    "\"!linux\"",
    "\"pkg\"",
    "\"pkg-linux-x64-gnu\"",
    "\"1.0.0\"",
    "\"\\n\"",
    "\"\\u001b\"",
    "\"node-gyp-build\"",
];

/// Reads the input front to back; past its end, every read is empty.
struct Cursor<'d>(&'d [u8]);

impl<'d> Cursor<'d> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    fn take(&mut self, n: usize) -> &'d [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }

    fn short(&mut self) -> usize {
        usize::from(self.byte()) | usize::from(self.byte()) << 8
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    File,
    Executable,
    Dir,
    Symlink,
}

struct Member {
    kind: Kind,
    name: String,
    content: Vec<u8>,
}

/// `bytes` verbatim (mode 0), spelt from `PIECES` (1) or from `JSON_PIECES` (2).
fn spelt(bytes: &[u8], mode: u8) -> Vec<u8> {
    let pieces = match mode {
        1 => PIECES,
        2 => JSON_PIECES,
        _ => return bytes.to_vec(),
    };
    bytes
        .iter()
        .map(|b| pieces[usize::from(*b) % pieces.len()])
        .collect::<String>()
        .into_bytes()
}

/// One archive's members: a count, then for each a kind byte (bits 0-1 the
/// kind, bit 2 a verbatim name, bits 3-4 how the content is spelt), a
/// name (length byte, bytes) and a content or link target (two length
/// bytes, bytes).
fn members(input: &mut Cursor) -> Vec<Member> {
    let count = usize::from(input.byte() % 48);
    (0..count)
        .map(|_| {
            let k = input.byte();
            let kind = [Kind::File, Kind::Executable, Kind::Dir, Kind::Symlink][usize::from(k & 3)];
            let len = usize::from(input.byte());
            let name = spelt(input.take(len), u8::from(k & 4 == 0));
            let len = input.short();
            let content = spelt(input.take(len), (k >> 3) & 3);
            Member {
                kind,
                name: String::from_utf8_lossy(&name).into_owned(),
                content,
            }
        })
        .collect()
}

fn write_zip(path: &Path, members: &[Member]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for m in members {
        let mode = if m.kind == Kind::Executable {
            0o755
        } else {
            0o644
        };
        let options = SimpleFileOptions::default().unix_permissions(mode);
        let _ = match m.kind {
            Kind::File | Kind::Executable => zip
                .start_file(m.name.as_str(), options)
                .map_err(drop)
                .and_then(|()| zip.write_all(&m.content).map_err(drop)),
            Kind::Dir => zip.add_directory(m.name.as_str(), options).map_err(drop),
            Kind::Symlink => zip
                .add_symlink(
                    m.name.as_str(),
                    String::from_utf8_lossy(&m.content),
                    options,
                )
                .map_err(drop),
        };
    }
    let _ = zip.finish();
}

/// The members written into the directory `dir`, as a user's layer or
/// function directory would hold them; the harness itself never writes
/// outside `dir`: a member whose name climbs out, or passes through a
/// symlink or a file made earlier, is left out.
fn write_dir(dir: &Path, members: &[Member]) {
    std::fs::create_dir(dir).unwrap();
    for m in members {
        let rel = Path::new(&m.name);
        if m.name.contains('\0')
            || !rel
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
            || rel.components().all(|c| c == Component::CurDir)
        {
            continue;
        }
        // Every ancestor must be a real directory of ours (or be made one).
        let mut at = dir.to_path_buf();
        let mut blocked = false;
        let parents: Vec<_> = rel.components().collect();
        for c in &parents[..parents.len() - 1] {
            at.push(c);
            match std::fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_dir() => {}
                Ok(_) => blocked = true,
                Err(_) => blocked = std::fs::create_dir(&at).is_err(),
            }
            if blocked {
                break;
            }
        }
        let path = dir.join(rel);
        if blocked || std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        let _ = match m.kind {
            Kind::File | Kind::Executable => std::fs::write(&path, &m.content).map(|()| {
                if m.kind == Kind::Executable {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
                }
            }),
            Kind::Dir => std::fs::create_dir(&path),
            Kind::Symlink => {
                std::os::unix::fs::symlink(String::from_utf8_lossy(&m.content).as_ref(), &path)
            }
        };
    }
}

/// Whether to print what each input gives (CHECK_LAYERS_SHOW set: to
/// replay a seed or a finding and read its verdicts).
fn shown() -> bool {
    static SHOWN: OnceLock<bool> = OnceLock::new();
    *SHOWN.get_or_init(|| std::env::var_os("CHECK_LAYERS_SHOW").is_some())
}

/// A line of output must be one line a person can read: no newline, no
/// control character (a name's are escaped).
fn one_clean_line(what: &str, line: &str) {
    assert!(
        !line.chars().any(char::is_control),
        "{what} with a control character: {line:?}"
    );
}

/// The CLI's `check FUNCTION --with-layer …` (main.rs's prepare_layers,
/// then matrix.rs's run of one combination), with the lines it would print.
fn check(profile: &Profile, function: &Path, given: &[PathBuf]) -> lambda_audit::error::Result<()> {
    let mut sizes = Vec::new();
    for layer in given {
        sizes.push((layer.as_path(), layers::layer_size(layer)?));
    }
    let size = layers::unzipped_size(function)?;
    layers::check_total((function, size), &sizes)?;
    let merged = Layers::unpack(given, size)?;
    let opened = Package::open(function, Some(&merged))?;
    let skipped = check_opened(
        profile,
        &opened,
        &profile.task_root,
        Some(&merged),
        &mut |report| {
            let text = lambda_audit::report::human(&report);
            if shown() {
                eprint!("{text}");
            }
            for line in text.lines() {
                one_clean_line("report line", line);
            }
            Ok(())
        },
    )?;
    for line in &skipped {
        one_clean_line("skipped line", line);
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let base = base();
    let mut input = Cursor(data);
    let header = input.byte();
    let as_dirs = input.byte();
    let profile = &profiles()[usize::from(header) % PROFILES.len()];
    let layer_count = 1 + usize::from(header >> 2) % 3;
    let work = tempfile::tempdir_in(base).unwrap();
    let mut paths = Vec::new();
    for index in 0..=layer_count {
        let members = members(&mut input);
        let name = if index == 0 {
            "function".to_string()
        } else {
            format!("layer{index}")
        };
        let path = if as_dirs >> index & 1 == 1 {
            let path = work.path().join(name);
            write_dir(&path, &members);
            path
        } else {
            let path = work.path().join(format!("{name}.zip"));
            write_zip(&path, &members);
            path
        };
        paths.push(path);
    }
    let before = listing(work.path());
    if let Err(e) = check(profile, &paths[0], &paths[1..]) {
        if shown() {
            eprintln!("error: {e}");
        }
        one_clean_line("error", &e.to_string());
    }
    assert_nothing_outside_or_left(base);
    assert_eq!(
        listing(work.path()),
        before,
        "the inputs' directory changed"
    );
});
