//! `check PACKAGE.zip` end to end (unzip::unpack, then package::check_package
//! as a layer) over archives built from the fuzzer's bytes, so that symlink
//! members, members under them, `..` targets and `*.dist-info/RECORD` files
//! come up constantly, as raw bytes would almost never make them (run:
//! cargo +nightly fuzz run check_zip). Asserted, whatever the archive says:
//! no panic; nothing written outside the private directory (a directory
//! `outside` beside TMPDIR, which `../` targets reach, stays empty); nothing
//! left in TMPDIR or beside the archive afterwards.
#![no_main]

use std::io::Write;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;

mod common;
use common::{assert_nothing_outside_or_left, base, listing};

/// Name pieces the bytes choose from: what hostile archives are made of.
const PIECES: &[&str] = &[
    "a",
    "b",
    "/",
    "..",
    "../",
    ".",
    "x.dist-info",
    "RECORD",
    "lib.so",
    "outside",
    "/tmp",
    "\\",
    "\n",
    "mod.so",
    "bootstrap",
    ",",
    "\"",
];

/// One member: its kind (file, directory, symlink), name, and content (a
/// symlink's target).
fn members(data: &[u8]) -> Vec<(u8, String, Vec<u8>)> {
    data.split(|b| *b == 0xff)
        .take(64)
        .filter_map(|chunk| {
            let (&kind, rest) = chunk.split_first()?;
            let split = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
            let name: String = rest[..split]
                .iter()
                .map(|b| PIECES[*b as usize % PIECES.len()])
                .collect();
            let content = rest.get(split + 1..).unwrap_or(&[]);
            // Link targets and RECORD lines spelt from the same pieces.
            let content = if kind % 3 == 2 || name.ends_with("RECORD") {
                content
                    .iter()
                    .map(|b| PIECES[*b as usize % PIECES.len()])
                    .collect::<String>()
                    .into_bytes()
            } else {
                content.to_vec()
            };
            Some((kind % 3, name, content))
        })
        .collect()
}

fn write_zip(path: &Path, members: &[(u8, String, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = SimpleFileOptions::default().unix_permissions(0o644);
    for (kind, name, content) in members {
        let _ = match kind {
            0 => zip
                .start_file(name.as_str(), options)
                .map_err(drop)
                .and_then(|()| zip.write_all(content).map_err(drop)),
            1 => zip.add_directory(name.as_str(), options).map_err(drop),
            _ => zip
                .add_symlink(name.as_str(), String::from_utf8_lossy(content), options)
                .map_err(drop),
        };
    }
    let _ = zip.finish();
}

fuzz_target!(|data: &[u8]| {
    let base = base();
    let work = tempfile::tempdir_in(base).unwrap();
    let archive = work.path().join("package.zip");
    write_zip(&archive, &members(data));
    let profile = lambda_audit::profile::Profile::load("provided.al2023").unwrap();
    let _ = lambda_audit::package::check_package(
        &profile,
        &archive,
        lambda_audit::package::LAYER_ROOT,
        &mut |_report| Ok(()),
    );
    assert_nothing_outside_or_left(base);
    assert_eq!(
        listing(work.path()),
        [work.path().to_path_buf(), archive],
        "written beside the archive"
    );
});
