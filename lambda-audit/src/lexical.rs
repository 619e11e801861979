//! Lexical normalization of absolute paths (`//`, `/./`, `/../`), as the
//! profile stores its directories and the resolver compares paths: by
//! their text, never by following a link on disk. One home for what
//! `profile` (a task root) and `resolve` (every path it tries) both use.

use std::borrow::Cow;

/// Lexical normalization of an absolute path: `//`, `/./` and `/../`.
pub fn normalize(path: &str) -> String {
    normalized(path).into_owned()
}

/// `normalize`, borrowing `path` when it is normal already, as most are
/// (a profile's directories and paths): no copy.
pub fn normalized(path: &str) -> Cow<'_, str> {
    match is_normal(path) {
        true => Cow::Borrowed(path),
        false => Cow::Owned(normalize_parts(path)),
    }
}

/// `normalize` of a path made for the purpose, kept when it is normal.
pub fn normal(path: String) -> String {
    match is_normal(&path) {
        true => path,
        false => normalize_parts(&path),
    }
}

/// Whether `normalize` gives `path` itself: absolute, and no component
/// empty (`//`, a trailing `/`), `.` or `..`.
fn is_normal(path: &str) -> bool {
    match path.as_bytes().split_first() {
        Some((b'/', rest)) => rest
            .split(|b| *b == b'/')
            .all(|part| !matches!(part, b"" | b"." | b"..")),
        _ => false,
    }
}

/// `normalize`, component by component.
fn normalize_parts(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::{is_normal, normalize, normalize_parts};

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize("/var/task/../lib//x/./y"), "/var/lib/x/y");
        assert_eq!(normalize("/.."), "/");
        assert_eq!(normalize("/lib64/"), "/lib64");
        for path in [
            "/",
            "/lib64",
            "/var/task/a.b/..c/.d",
            "lib",
            "",
            "/a/",
            "/a//b",
            "/a/.",
        ] {
            // Kept as it is only when normal ("/" is, and is made again).
            assert!(
                !is_normal(path) || normalize_parts(path) == path,
                "{path:?}"
            );
            assert_eq!(normalize(path), normalize_parts(path), "{path:?}");
        }
    }
}
