//! Which C libraries other than OpenSSL (`openssl`) an artifact carries,
//! from the version texts they bring into its read-only data. Only a text
//! whose whole shape is the library's own is taken; a library whose version
//! is not spelled out that way is not claimed (libcurl's and SQLite's
//! version strings are bare numbers or shared with other programs' text, so
//! they are not read at all).
//!
//! zlib: `deflate.c` holds `deflate_copyright[] = " deflate 1.3.1 Copyright
//! 1995-2024 Jean-loup Gailly and Mark Adler "` and `inflate.c`
//! `inflate_copyright[] = " inflate 1.3.1 Copyright 1995-2024 Mark Adler "`
//! (zlib 1.3.1's sources; the same shape since 1.2.x). zlib-ng keeps the
//! same texts with zlib's version (zlib-ng 2.x's `deflate.c`), and names
//! itself in its `ZLIB_VERSION`, `"1.3.1.zlib-ng"`: a file holding that is
//! zlib-ng's, and no zlib version is claimed for it.

use std::collections::BTreeSet;

/// A C library's version found in an artifact: its name (as its upstream
/// spells it), version, and the text that says so.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub library: &'static str,
    pub version: String,
    pub text: String,
}

/// The zlib texts, split where the version and the year go.
const ZLIB: [(&[u8], &[u8]); 2] = [
    (b" deflate ", b" Jean-loup Gailly and Mark Adler \0"),
    (b" inflate ", b" Mark Adler \0"),
];

/// The longest zlib version read (`1.2.13.1-motley` is not zlib's own).
const MAX_VERSION: usize = 12;

/// Every C library version text in `bytes` (the whole ELF file) read from
/// its `.rodata` sections only, each library's versions sorted; a file that
/// is not an ELF file with section headers gives none.
pub fn found_in(bytes: &[u8]) -> Vec<Found> {
    let Ok(ranges) = crate::openssl::read_only_data(bytes) else {
        return Vec::new();
    };
    let mut found = BTreeSet::new();
    for range in &ranges {
        zlib_in(&bytes[range.clone()], &mut found);
    }
    // zlib-ng keeps zlib's copyright texts, with zlib's version, and says
    // what it is in its ZLIB_VERSION (`1.3.1.zlib-ng`): another library,
    // whose version those texts do not give.
    if !found.is_empty() && ranges.iter().any(|r| is_zlib_ng(&bytes[r.clone()])) {
        return Vec::new();
    }
    found.into_iter().collect()
}

/// Whether `data` holds zlib-ng's ZLIB_VERSION suffix.
fn is_zlib_ng(data: &[u8]) -> bool {
    memchr::memmem::find(data, b".zlib-ng\0").is_some()
}

/// Adds each zlib copyright text in `data` to `found`.
fn zlib_in(data: &[u8], found: &mut BTreeSet<Found>) {
    for (head, tail) in ZLIB {
        for start in memchr::memmem::find_iter(data, head) {
            if let Some(text) = zlib_text(&data[start..], head, tail) {
                found.insert(text);
            }
        }
    }
}

/// `<head><version> Copyright 1995-<year><tail>` at the start of
/// `candidate`, with a version of two to four dot-separated numbers.
fn zlib_text(candidate: &[u8], head: &[u8], tail: &[u8]) -> Option<Found> {
    let rest = &candidate[head.len()..];
    let version_len = rest
        .iter()
        .take(MAX_VERSION + 1)
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    let version = std::str::from_utf8(&rest[..version_len]).ok()?;
    let parts: Vec<&str> = version.split('.').collect();
    if version_len > MAX_VERSION
        || !(2..=4).contains(&parts.len())
        || parts.iter().any(|p| p.is_empty() || p.len() > 3)
    {
        return None;
    }
    let rest = rest[version_len..].strip_prefix(b" Copyright 1995-")?;
    let year = rest.get(..4)?;
    if !year.iter().all(u8::is_ascii_digit) {
        return None;
    }
    rest[4..].starts_with(tail).then(|| {
        let end = head.len() + version_len + b" Copyright 1995-".len() + 4 + tail.len() - 1;
        Found {
            library: "zlib",
            version: version.to_string(),
            text: String::from_utf8_lossy(&candidate[..end])
                .trim()
                .to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(data: &[u8]) -> Vec<String> {
        let mut found = BTreeSet::new();
        zlib_in(data, &mut found);
        let versions: BTreeSet<String> = found.into_iter().map(|f| f.version).collect();
        versions.into_iter().collect()
    }

    #[test]
    fn zlibs_own_copyright_texts_give_its_version() {
        let data = b"x\0 deflate 1.3.1 Copyright 1995-2024 Jean-loup Gailly and Mark Adler \0 inflate 1.3.1 Copyright 1995-2024 Mark Adler \0";
        assert_eq!(versions(data), ["1.3.1"]);
        let mut found = BTreeSet::new();
        zlib_in(data, &mut found);
        let texts: Vec<String> = found.into_iter().map(|f| f.text).collect();
        assert!(texts.contains(&"inflate 1.3.1 Copyright 1995-2024 Mark Adler".to_string()));
        assert_eq!(
            versions(b" inflate 1.2.11 Copyright 1995-2017 Mark Adler \0"),
            ["1.2.11"]
        );
    }

    #[test]
    fn zlib_ngs_version_suffix_is_recognised() {
        assert!(is_zlib_ng(b"x\x001.3.1.zlib-ng\x00y"));
        assert!(!is_zlib_ng(b"1.3.1\x00zlib-ng is elsewhere\x00"));
    }

    #[test]
    fn look_alikes_are_not_zlib_versions() {
        for data in [
            &b" deflate 1.3.1 Copyright 1995-2024 Jean-loup Gailly and Mark Adler "[..],
            b" deflate 1.3.1.zlib-ng Copyright 1995-2024 Jean-loup Gailly, Mark Adler and Hans Kristian Rosbach \0",
            b" inflate 1 Copyright 1995-2024 Mark Adler \0",
            b" inflate 1.3.1 Copyright 1995-24 Mark Adler \0",
            b" inflate 1.3.1 Copyright 1995-2024 Mark Adler and others\0",
            b" inflate 1111.3.1 Copyright 1995-2024 Mark Adler \0",
            b" inflate ",
        ] {
            assert_eq!(versions(data), Vec::<String>::new(), "{}", String::from_utf8_lossy(data));
        }
    }
}
