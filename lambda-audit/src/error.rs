//! Errors that make an input unusable (exit status 2). Findings about an
//! artifact that will not load are not errors: they are `check::Finding`s.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{}: {source}", shown(path))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not an ELF file ({reason})", shown(path))]
    NotElf { path: PathBuf, reason: String },
    #[error("{}: malformed ELF: {reason}", shown(path))]
    MalformedElf { path: PathBuf, reason: String },
    #[error("{}: is a directory, not an ELF file", shown(path))]
    IsDirectory { path: PathBuf },
    #[error("profile {}: {reason}", shown(name))]
    Profile { name: String, reason: String },
    #[error("{0}")]
    Usage(String),
    /// A package holding nothing the runtime would load (exit status 2);
    /// in a matrix, that combination's line, not the whole run's refusal.
    #[error("{0}")]
    NoEntryPoint(String),
    #[error("{what}: {reason}")]
    Tool { what: String, reason: String },
    /// The input is fine but the result would not work: exit status 1.
    #[error("{0}")]
    Refused(String),
}

impl AuditError {
    pub fn io(path: &Path, source: std::io::Error) -> AuditError {
        AuditError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl AuditError {
    /// The same error naming `path` for the file it names (a zip's member,
    /// `PACKAGE.zip!/x.so`, for its private unpacked copy).
    pub fn naming(self, path: PathBuf) -> AuditError {
        match self {
            AuditError::Io { source, .. } => AuditError::Io { path, source },
            AuditError::NotElf { reason, .. } => AuditError::NotElf { path, reason },
            AuditError::MalformedElf { reason, .. } => AuditError::MalformedElf { path, reason },
            AuditError::IsDirectory { .. } => AuditError::IsDirectory { path },
            other => other,
        }
    }

    /// 1 for a refusal (the artifact would not work), 2 for unusable input.
    pub fn exit_code(&self) -> i32 {
        match self {
            AuditError::Refused(_) => 1,
            _ => 2,
        }
    }
}

pub type Result<T, E = AuditError> = std::result::Result<T, E>;

/// A name (a path, an archive member, a profile name) as a message shows
/// it: on one line and harmless to a terminal. Control characters (a
/// newline, ESC) are escaped as `\n`, `\x1b`, and bytes that are not UTF-8
/// as `\xNN`; everything else is as it is.
pub fn shown(name: impl AsRef<OsStr>) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut text = String::new();
    for chunk in name.as_ref().as_bytes().utf8_chunks() {
        text.push_str(&without_controls(chunk.valid(), true));
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// `text` with its control characters escaped (`\x1b`), newlines too
/// unless `text` is made of lines (a report, a message with a fix): what is
/// printed for a person never drives the terminal.
pub fn without_controls(text: &str, newlines_too: bool) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| c.is_control() && (newlines_too || c != '\n');
    if !has_controls(text, newlines_too) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut clean = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if newlines_too => clean.push_str("\\n"),
            '\t' if newlines_too => clean.push_str("\\t"),
            c if escape(c) && (c as u32) < 0x100 => clean.push_str(&format!("\\x{:02x}", c as u32)),
            c if escape(c) => clean.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => clean.push(c),
        }
    }
    std::borrow::Cow::Owned(clean)
}

/// Whether `text` has a character `without_controls` escapes: a control
/// character (C0, DEL or C1, what `char::is_control` is), `\n` only if
/// `newlines_too`. A matrix's report is long: a first pass, which the
/// compiler vectorizes, looks for a byte that can begin one (C1 characters
/// are the UTF-8 pairs `c2 80` to `c2 9f`), and only if it finds one are
/// the characters decoded.
fn has_controls(text: &str, newlines_too: bool) -> bool {
    let suspect = |b: u8| match b {
        b'\n' => newlines_too,
        0..=0x1f | 0x7f | 0xc2 => true,
        _ => false,
    };
    if !text.bytes().fold(false, |any, b| any | suspect(b)) {
        return false;
    }
    text.chars()
        .any(|c| c.is_control() && (newlines_too || c != '\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shown_on_one_line_without_controls() {
        assert_eq!(shown("a\nb\x1b[2J\u{9b}c"), "a\\nb\\x1b[2J\\x9bc");
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(shown(OsStr::from_bytes(b"a\xffb")), "a\\xffb");
        assert_eq!(shown("plain/név.so"), "plain/név.so");
        assert_eq!(without_controls("line\n\x1bx", false), "line\n\\x1bx");
    }

    #[test]
    fn control_characters_are_found_as_char_is_control_finds_them() {
        let every: String = (0..0x800u32).filter_map(char::from_u32).collect();
        for c in every.chars() {
            for newlines_too in [false, true] {
                let text = format!("a{c}é");
                let escaped = c.is_control() && (newlines_too || c != '\n');
                assert_eq!(has_controls(&text, newlines_too), escaped, "{c:?}");
            }
        }
    }
}
