//! Which OpenSSL an artifact carries.
//!
//! A statically linked libcrypto brings its `OPENSSL_VERSION_TEXT` (what
//! `OpenSSL_version(OPENSSL_VERSION)` returns) into the artifact's read-only
//! data: `OpenSSL 1.0.2u  20 Dec 2019`, `OpenSSL 1.1.1w  11 Sep 2023` (two
//! spaces before the date in 1.x), `OpenSSL 3.5.5 27 Jan 2026` (one in 3.x:
//! `"OpenSSL " OPENSSL_FULL_VERSION_STR " " OPENSSL_RELEASE_DATE`). Only that
//! exact shape counts: BoringSSL's `OpenSSL 1.1.1 (compatible; BoringSSL)`
//! and LibreSSL's `LibreSSL 3.8.2` are other libraries, and a version is
//! reported only where OpenSSL's own text says it, never guessed.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use goblin::container::Ctx;
use goblin::elf::section_header::{SectionHeader, SHN_XINDEX, SHT_PROGBITS};
use goblin::elf::Elf;
use serde::Serialize;

use crate::elf::map_elf;
use crate::error::{AuditError, Result};
use crate::resolve::Closure;

/// One OpenSSL version text found in an artifact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct VersionText {
    /// `3.5.5`, `1.1.1w`, `1.0.2u-fips`: the version as the text gives it,
    /// with its pre-release or build suffix (a FIPS build is not the same thing).
    pub version: String,
    /// The whole text, `OpenSSL 3.5.5 27 Jan 2026`.
    pub text: String,
}

/// Which OpenSSL an artifact carries: linked in (its version texts), needed
/// as a library, both, or neither (then nothing is said).
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpensslUse {
    /// The version texts in the artifact's read-only data, sorted.
    #[serde(rename = "static")]
    pub linked_in: Vec<VersionText>,
    /// The OpenSSL libraries (`DT_NEEDED` names) that the artifact, or a
    /// library of its own package that it loads, needs: sorted, each once.
    pub dynamic: Vec<String>,
}

impl OpensslUse {
    pub fn is_none(&self) -> bool {
        self.linked_in.is_empty() && self.dynamic.is_empty()
    }
}

/// The OpenSSL libraries the package's own objects in `closure` need, as
/// `forbidden_libraries` judges them (the runtime's own libraries are the
/// runtime's business).
pub fn dynamic_libraries(closure: &Closure) -> Vec<String> {
    let names: BTreeSet<&str> = closure
        .edges
        .iter()
        .filter(|edge| closure.objects[edge.from].is_local() && is_openssl_library(&edge.name))
        .map(|edge| edge.name.as_str())
        .collect();
    names.into_iter().map(str::to_string).collect()
}

/// How the text begins; `memmem` finds it, then the rest of the shape is checked.
const MARKER: &[u8] = b"OpenSSL ";

/// The longest text of the accepted shape (every field below is bounded):
/// a candidate is looked at this far and no further, so each byte of the
/// data is read a bounded number of times.
const MAX_TEXT: usize = 96;

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// The distinct OpenSSL version texts in `path`'s `.rodata` sections, sorted.
pub fn version_texts(path: &Path) -> Result<Vec<VersionText>> {
    let map = map_elf(path)?;
    version_texts_in(&map).map_err(|reason| AuditError::MalformedElf {
        path: path.to_path_buf(),
        reason,
    })
}

/// `version_texts` of bytes in memory: one pass over each file byte of the
/// `.rodata` sections, however many section headers name it.
pub fn version_texts_in(bytes: &[u8]) -> std::result::Result<Vec<VersionText>, String> {
    let mut found = BTreeSet::new();
    for range in read_only_data(bytes)? {
        texts_in(&bytes[range], &mut found);
    }
    Ok(found.into_iter().collect())
}

/// The file ranges of the read-only data sections (`.rodata`, `.rodata.*`,
/// `.rodata1`: where compilers put string literals), merged: sections that
/// overlap (a hostile file may have thousands over the same bytes) are read
/// once. Other read-only sections are not read: the unwind tables
/// (`.eh_frame`, `.gcc_except_table`) are most of a large Rust or C++
/// library's read-only bytes and hold no strings. Ranges outside the file are
/// passed over: the loader never reads section headers, so they do not make
/// the artifact unusable. No section headers (an sstrip'ed file): no ranges,
/// and so no version is claimed.
pub(crate) fn read_only_data(bytes: &[u8]) -> std::result::Result<Vec<Range<usize>>, String> {
    let err = |e: goblin::error::Error| e.to_string();
    let header = Elf::parse_header(bytes).map_err(err)?;
    let ctx = Ctx::new(
        header.container().map_err(err)?,
        header.endianness().map_err(err)?,
    );
    let sections =
        SectionHeader::parse(bytes, header.e_shoff as usize, header.e_shnum as usize, ctx)
            .map_err(err)?;
    let names = section_names(bytes, &header, &sections);
    let mut ranges: Vec<Range<usize>> = sections
        .iter()
        .filter(|s| is_read_only_data(s) && is_rodata_name(names, s.sh_name))
        .filter_map(SectionHeader::file_range)
        .filter(|r| r.start < r.end && r.end <= bytes.len())
        .collect();
    ranges.sort_by_key(|r| r.start);
    Ok(merged(ranges))
}

/// The section name string table's bytes (`e_shstrndx`, or with more
/// sections than the header can count, section 0's `sh_link`); empty when
/// it lies outside the file.
fn section_names<'a>(
    bytes: &'a [u8],
    header: &goblin::elf::Header,
    sections: &[SectionHeader],
) -> &'a [u8] {
    let index = match u32::from(header.e_shstrndx) {
        SHN_XINDEX => sections.first().map_or(0, |s| s.sh_link),
        index => index,
    };
    sections
        .get(index as usize)
        .and_then(SectionHeader::file_range)
        .and_then(|range| bytes.get(range))
        .unwrap_or(&[])
}

/// Whether the name at `offset` of `names` is `.rodata`, `.rodata.<any>` or
/// `.rodata1`: only the bytes after the prefix are looked at, so each
/// section costs the same whatever the table holds.
fn is_rodata_name(names: &[u8], offset: usize) -> bool {
    let Some(rest) = names.get(offset..).and_then(|n| n.strip_prefix(b".rodata")) else {
        return false;
    };
    matches!(rest, [0, ..] | [b'.', ..] | [b'1', 0, ..])
}

/// Mapped (`SHF_ALLOC`), neither writable nor code, with bytes in the file.
/// A writable copy of the text (in `.data`) is a program's buffer, which it
/// may rewrite; OpenSSL's own text is a string literal, always read-only.
fn is_read_only_data(section: &SectionHeader) -> bool {
    section.sh_type == SHT_PROGBITS
        && section.is_alloc()
        && !section.is_writable()
        && !section.is_executable()
}

/// Sorted ranges with every overlapping or touching pair joined.
fn merged(sorted: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match out.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => out.push(range),
        }
    }
    out
}

/// Adds every version text in `data` to `found`. The text need not start a
/// string: the linker may merge it into the tail of a longer one (1.0.2's
/// `" part of " OPENSSL_VERSION_TEXT`).
fn texts_in(data: &[u8], found: &mut BTreeSet<VersionText>) {
    for start in memchr::memmem::find_iter(data, MARKER) {
        let reach = &data[start..data.len().min(start + MAX_TEXT)];
        if let Some(text) = version_text(reach) {
            found.insert(text);
        }
    }
}

/// The version text at the start of `candidate`, if it has exactly the shape
/// `OpenSSL <version> <DD Mon YYYY>` and ends with a NUL: a version
/// `N.N.N` with optional letters (`1.1.1w`, `0.9.8zh`), an optional
/// pre-release (`-dev`, `-fips`, `-alpha1`) and build metadata (`+fips`), one
/// or two spaces, then the release date.
fn version_text(candidate: &[u8]) -> Option<VersionText> {
    let mut text = Cursor {
        bytes: candidate,
        at: 0,
    };
    text.literal(MARKER)?;
    let version_start = text.at;
    text.version_number()?;
    text.optional_suffix(b'-')?;
    text.optional_suffix(b'+')?;
    let version_end = text.at;
    text.spaces(1, 2)?;
    text.release_date()?;
    text.literal(b"\0")?;
    // Every byte accepted so far is ASCII.
    let ascii = |range: Range<usize>| String::from_utf8_lossy(&candidate[range]).into_owned();
    Some(VersionText {
        version: ascii(version_start..version_end),
        text: ascii(0..text.at - 1),
    })
}

/// Reading the fields of one candidate text, left to right; each step
/// either takes its field or gives `None`.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn literal(&mut self, expected: &[u8]) -> Option<()> {
        let rest = self.bytes.get(self.at..)?;
        rest.starts_with(expected)
            .then(|| self.at += expected.len())
    }

    /// Between `min` and `max` bytes that satisfy `accept`, as many as there are.
    fn run(&mut self, min: usize, max: usize, accept: impl Fn(u8) -> bool) -> Option<()> {
        let rest = self.bytes.get(self.at..)?;
        let count = rest.iter().take(max).take_while(|&&b| accept(b)).count();
        (count >= min).then(|| self.at += count)
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<()> {
        self.run(min, max, |b| b.is_ascii_digit())
    }

    fn spaces(&mut self, min: usize, max: usize) -> Option<()> {
        self.run(min, max, |b| b == b' ')
    }

    /// `1.1.1w`: three numbers and OpenSSL 1.x's patch letters.
    fn version_number(&mut self) -> Option<()> {
        self.digits(1, 3)?;
        self.literal(b".")?;
        self.digits(1, 3)?;
        self.literal(b".")?;
        self.digits(1, 3)?;
        self.run(0, 2, |b| b.is_ascii_lowercase())
    }

    /// `-fips`, `-alpha.1` (after `-`), `+vendor.1` (after `+`), if there;
    /// the sign with nothing after it is no suffix and no version (`None`).
    fn optional_suffix(&mut self, sign: u8) -> Option<()> {
        if self.literal(&[sign]).is_some() {
            self.run(1, 16, |b| b.is_ascii_alphanumeric() || b == b'.')?;
        }
        Some(())
    }

    /// `20 Dec 2019`, `1 Mar 2016`.
    fn release_date(&mut self) -> Option<()> {
        self.digits(1, 2)?;
        self.literal(b" ")?;
        let month = self.bytes.get(self.at..self.at + 3)?;
        MONTHS.contains(&month).then(|| self.at += 3)?;
        self.literal(b" ")?;
        self.digits(4, 4)
    }
}

/// The OpenSSL series whose upstream support has ended, with the last day
/// of support, as OpenSSL's release strategy states it
/// (openssl.org/policies/releasestrat.html; docs/runtime-facts.md).
const END_OF_LIFE: [(&str, &str); 2] = [("1.0.2", "2019-12-31"), ("1.1.1", "2023-09-11")];

/// An OpenSSL version linked into an artifact whose series is past its
/// upstream end of life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndOfLife {
    /// The version as the text gives it (`1.1.1w`).
    pub version: String,
    /// The last day OpenSSL supported its series (`2023-09-11`).
    pub supported_until: &'static str,
}

/// The versions of `openssl`'s static texts whose series is past its end
/// of life (`1.1.1w` and `1.1.1w-fips` are of 1.1.1).
pub fn end_of_life(openssl: &OpensslUse) -> Vec<EndOfLife> {
    openssl
        .linked_in
        .iter()
        .filter_map(|text| {
            let number_end = text
                .version
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(text.version.len());
            let series = &text.version[..number_end];
            END_OF_LIFE
                .iter()
                .find(|(s, _)| *s == series)
                .map(|(_, until)| EndOfLife {
                    version: text.version.clone(),
                    supported_until: until,
                })
        })
        .collect()
}

/// Whether a `DT_NEEDED` name is OpenSSL's: `libssl.so.3`, `libcrypto.so.10`,
/// or a copy `lambda-audit bundle` renamed (`libcrypto-1a2b3c4d.so.10`);
/// not NSS's `libssl3.so`.
pub fn is_openssl_library(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    ["libssl", "libcrypto"].iter().any(|stem| {
        base.strip_prefix(stem)
            .is_some_and(|rest| rest.starts_with(".so") || rest.starts_with('-'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version_of(text: &[u8]) -> Option<String> {
        version_text(text).map(|t| t.version)
    }

    #[test]
    fn openssl_version_texts_of_each_series_are_read() {
        for (text, version) in [
            (&b"OpenSSL 1.0.2u  20 Dec 2019\0"[..], "1.0.2u"),
            (b"OpenSSL 1.0.2u-fips  20 Dec 2019\0", "1.0.2u-fips"),
            (b"OpenSSL 1.1.1w  11 Sep 2023\0", "1.1.1w"),
            (b"OpenSSL 3.5.5 27 Jan 2026\0", "3.5.5"),
            (
                b"OpenSSL 3.6.0-alpha.1+vendor.1 1 Mar 2026\0",
                "3.6.0-alpha.1+vendor.1",
            ),
        ] {
            assert_eq!(version_of(text).as_deref(), Some(version), "{version}");
        }
        let text = version_text(b"OpenSSL 3.5.5 27 Jan 2026\0more").unwrap();
        assert_eq!(text.text, "OpenSSL 3.5.5 27 Jan 2026");
    }

    #[test]
    fn look_alikes_are_not_openssl_versions() {
        for text in [
            &b"OpenSSL 1.1.1 (compatible; BoringSSL)\0"[..],
            b"OpenSSL 3.5.5\0",
            b"OpenSSL 3.5.5 27 Jan 2026",
            b"OpenSSL 3.5.5 27 Jan 2026 and more\0",
            b"OpenSSL 3.5.5 27 Jam 2026\0",
            b"OpenSSL 3.5.5   27 Jan 2026\0",
            b"OpenSSL 3.5 27 Jan 2026\0",
            b"LibreSSL 3.8.2\0",
            b"OpenSSL 3.5.5- 27 Jan 2026\0",
        ] {
            assert_eq!(version_of(text), None, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn texts_are_found_anywhere_in_the_data_and_counted_once() {
        let mut found = BTreeSet::new();
        texts_in(
            b"\0 part of OpenSSL 1.0.2u  20 Dec 2019\0OpenSSL 1.0.2u  20 Dec 2019\0OpenSSL 3.5.5\0",
            &mut found,
        );
        let versions: Vec<&str> = found.iter().map(|t| t.version.as_str()).collect();
        assert_eq!(versions, ["1.0.2u"]);
    }

    #[test]
    fn only_read_only_data_section_names_count() {
        let names = b"\0.rodata\0.rodata.str1.1\0.rodata1\0.rodatax\0.eh_frame\0.rodata";
        let at = |name: &[u8]| names.windows(name.len()).position(|w| w == name).unwrap();
        for name in [&b".rodata\0"[..], b".rodata.str1.1\0", b".rodata1\0"] {
            assert!(is_rodata_name(names, at(name)), "{name:?}");
        }
        // Another name, a name the table cuts short, an offset past its end.
        for offset in [at(b".rodatax"), at(b".eh_frame"), names.len() - 7, 999] {
            assert!(!is_rodata_name(names, offset), "{offset}");
        }
        assert!(!is_rodata_name(names, 0));
    }

    #[test]
    fn overlapping_sections_are_read_once() {
        assert_eq!(merged(vec![0..10, 2..5, 10..12, 20..30]), [0..12, 20..30]);
        assert_eq!(merged(vec![]), Vec::<Range<usize>>::new());
    }

    #[test]
    fn only_the_series_past_their_end_of_life_are_named() {
        let texts = [
            "1.0.2u",
            "1.1.1w",
            "1.1.1w-fips",
            "3.5.5",
            "1.1.10",
            "1.0.20",
        ];
        let openssl = OpensslUse {
            linked_in: texts
                .iter()
                .map(|v| VersionText {
                    version: v.to_string(),
                    text: String::new(),
                })
                .collect(),
            dynamic: Vec::new(),
        };
        let named: Vec<(String, &str)> = end_of_life(&openssl)
            .into_iter()
            .map(|e| (e.version, e.supported_until))
            .collect();
        assert_eq!(
            named,
            [
                ("1.0.2u".to_string(), "2019-12-31"),
                ("1.1.1w".to_string(), "2023-09-11"),
                ("1.1.1w-fips".to_string(), "2023-09-11")
            ]
        );
    }

    #[test]
    fn openssl_sonames_are_told_from_others() {
        for name in [
            "libssl.so.10",
            "libcrypto.so.3",
            "/usr/lib64/libssl.so.1.1",
            "libcrypto-1a2b3c4d.so.10",
        ] {
            assert!(is_openssl_library(name), "{name}");
        }
        for name in ["libssl3.so", "libcryptopp.so.8", "libc.so.6", "libsslx.so"] {
            assert!(!is_openssl_library(name), "{name}");
        }
    }
}
