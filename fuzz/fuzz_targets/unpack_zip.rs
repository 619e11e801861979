//! Reading a deployment package (`check PACKAGE.zip`) must turn any bytes into
//! an unpacked package or a one-line error, never a panic, a hang, or a write
//! outside its temporary directory (run: cargo +nightly fuzz run unpack_zip).
//! Each input is written to a file in a directory of its own; after the
//! unpack, nothing but that file may be left there (the unpacked copy lives
//! in the system's temporary directory and is removed when dropped).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("package.zip");
    std::fs::write(&archive, data).unwrap();
    if let Ok(unpacked) = lambda_audit::unzip::unpack(&archive) {
        // Everything it wrote resolves inside its own directory.
        let root = unpacked.path().canonicalize().unwrap();
        for entry in walkdir::WalkDir::new(&root).follow_links(true) {
            let Ok(entry) = entry else { continue };
            let real = entry.path().canonicalize().unwrap();
            assert!(
                real.starts_with(&root),
                "{} leaves the package",
                entry.path().display()
            );
        }
    }
    let left: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "the unpack wrote beside the archive");
});
