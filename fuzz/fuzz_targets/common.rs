//! What the fuzz targets that write and unpack archives share: a private
//! TMPDIR beside a directory that must stay empty, and listings to compare.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A per-process base: BASE/tmp is TMPDIR, BASE/outside must stay empty
/// (`../` targets reach it from an archive written in BASE).
pub fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = tempfile::tempdir().unwrap().keep();
        std::fs::create_dir_all(base.join("tmp")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::env::set_var("TMPDIR", base.join("tmp"));
        base
    })
}

/// Every path under `dir` (links not followed), sorted.
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .map(|e| e.path().to_path_buf())
        .collect();
    all.sort();
    all
}

/// After an input: nothing was written in BASE/outside and nothing is left
/// in the private TMPDIR.
pub fn assert_nothing_outside_or_left(base: &Path) {
    let outside = base.join("outside");
    assert_eq!(listing(&outside), [outside], "written outside");
    let tmp = base.join("tmp");
    assert_eq!(listing(&tmp), [tmp], "left in TMPDIR");
}
