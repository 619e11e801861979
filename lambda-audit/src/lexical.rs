//! Lexical normalization of absolute paths (`//`, `/./`, `/../`), as the
//! profile stores its directories and the resolver compares paths: by
//! their text, never by following a link on disk. One home for what
//! `profile` (a task root) and `resolve` (every path it tries) both use.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

/// Where Lambda unpacks a function's layers.
const OPT: &str = "opt";

/// The part of an absolute symlink target under /opt (`/opt/lib/x`:
/// `lib/x`), by its components; None for any other target.
pub fn under_opt(target: &str) -> Option<&Path> {
    let mut parts = Path::new(target).components();
    let opt = parts.next() == Some(Component::RootDir)
        && parts.next() == Some(Component::Normal(OPT.as_ref()));
    opt.then_some(parts.as_path())
}

/// A layer's symlink at `link` (its path in /opt) to the absolute `target`
/// under /opt, written relative to the link's own place: `lib/sub/y ->
/// /opt/lib/x` is `../../lib/x`, which reaches the same file wherever the
/// merged /opt is (a private directory here), never the machine's own /opt.
pub fn opt_relative(link: &Path, target: &str) -> Option<PathBuf> {
    let rest = under_opt(target)?;
    let up = link.parent().map_or(0, |p| p.components().count());
    let mut relative: PathBuf = std::iter::repeat("..").take(up).collect();
    relative.push(rest);
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    Some(relative)
}

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
    use super::{is_normal, normalize, normalize_parts, opt_relative};
    use std::path::{Path, PathBuf};

    #[test]
    fn a_link_into_opt_is_made_relative_to_its_place_in_opt() {
        let rel = |link: &str, target: &str| opt_relative(Path::new(link), target);
        assert_eq!(
            rel("lib/sub/y", "/opt/lib/x"),
            Some(PathBuf::from("../../lib/x"))
        );
        assert_eq!(rel("y", "/opt/lib/x"), Some(PathBuf::from("lib/x")));
        assert_eq!(rel("y", "//opt/./lib/x"), Some(PathBuf::from("lib/x")));
        assert_eq!(rel("y", "/opt"), Some(PathBuf::from(".")));
        for elsewhere in ["/optx/lib", "/var/task/x", "opt/x", "/lib/../opt/x", "/"] {
            assert_eq!(rel("y", elsewhere), None, "{elsewhere}");
        }
    }

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
