//! Reading an existing deployment package (`check PACKAGE.zip`): the zip is
//! unpacked into a private temporary directory, removed afterwards (and on a
//! signal), and audited there as the runtime would see it unpacked.
//!
//! The same guarantees as `zip` gives when it writes one: no entry may name a
//! path outside the package (absolute, `..`, a backslash), none may be a
//! device, FIFO or socket, and the unpacked bytes are counted as they are
//! written (never trusting the sizes the archive declares) and stop at
//! Lambda's 250 MB limit. Entries are streamed to disk: memory stays bounded
//! by the archive's directory, not its contents.
//!
//! Nothing is created before the whole archive is checked: no member may lie
//! under a symlink member (it would be written through the link, wherever
//! that points) or under a file, and every symlink must resolve inside the
//! package, resolved lexically over the archive's own members, never by
//! following a link on disk. Regular files and directories are then written,
//! and the symlinks last, so no write ever goes through a symlink.
//! A name the archive holds twice is read once, as its last entry (the zip
//! library's reading, and what an extractor that overwrites leaves).

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use zip::ZipArchive;

use crate::archive::MAX_UNZIPPED;
use crate::atomic::{guarded, PrivateDir};
use crate::error::{shown, AuditError, Result};

/// Whether `path` is a zip archive (by its first bytes, as unzip decides).
pub fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && (&magic == b"PK\x03\x04" || &magic == b"PK\x05\x06")
}

/// Whether `path` is a regular file holding a zip archive that does not
/// start at its first byte (a self-extracting stub, or an ELF file with a
/// zip appended): the zip library finds an archive from the end of a file.
/// The archive must have a member whose local header reads: the library
/// accepts a bare end-of-directory record, and libpython's code holds one
/// (`zipimport`'s signature bytes), which is no archive.
pub fn is_zip_behind_a_stub(path: &Path) -> bool {
    let holds_members = |file: std::fs::File| {
        ZipArchive::new(file).is_ok_and(|mut zip| !zip.is_empty() && zip.by_index(0).is_ok())
    };
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && !is_zip(path)
        && std::fs::File::open(path)
            .is_ok_and(|mut file| may_hold_a_zip(&mut file) && holds_members(file))
}

/// How far from a zip's end its end-of-central-directory record may begin:
/// the record's 22 bytes and the longest comment (65,535), by the format's
/// definition (unzip looks no further).
const END_OF_DIRECTORY_REACH: u64 = 22 + 65_535;

/// The zip library reads no archive without an end-of-directory record,
/// which lies in the last `END_OF_DIRECTORY_REACH` bytes: a file whose tail
/// lacks its signature bytes is no zip, told by reading that tail alone
/// (never the whole file: the library's backward search, through reads and
/// seeks, costs an ELF file's size many times over). A tail that cannot be
/// read is no zip either: the library could not read it.
fn may_hold_a_zip(file: &mut (impl Read + Seek)) -> bool {
    const END_OF_DIRECTORY: &[u8] = b"PK\x05\x06";
    let mut tail = Vec::new();
    let read = file.seek(SeekFrom::End(0)).and_then(|len| {
        file.seek(SeekFrom::Start(len.saturating_sub(END_OF_DIRECTORY_REACH)))?;
        (&mut *file)
            .take(END_OF_DIRECTORY_REACH)
            .read_to_end(&mut tail)
    });
    read.is_ok() && memchr::memmem::find(&tail, END_OF_DIRECTORY).is_some()
}

/// The unix file type bits of a zip entry's external attributes.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// Why a symlink with an absolute target is refused.
const ABSOLUTE: &str = "leaves the package (an absolute target names the runtime's own files)";

/// The longest symlink target read (PATH_MAX).
const MAX_LINK: u64 = 4096;

/// How many symlinks one path may pass through, as the kernel's limit.
const MAX_HOPS: usize = 40;

/// The longest member name (PATH_MAX): no file system takes a longer path.
const MAX_NAME: usize = 4096;

/// The most members an archive may have: far more than any package holds
/// (each is a file or directory made on disk), and what keeps the plan of a
/// hostile archive small.
const MAX_MEMBERS: usize = 200_000;

/// Unpacks `archive` into a new temporary directory and returns it.
pub fn unpack(archive: &Path) -> Result<PrivateDir> {
    unpack_within(archive, MAX_UNZIPPED).map(|(dir, _)| dir)
}

/// `unpack`, writing at most `limit` bytes (what Lambda's limit leaves to
/// this archive beside the others of a function); returns the directory
/// and the bytes written.
pub fn unpack_within(archive: &Path, limit: u64) -> Result<(PrivateDir, u64)> {
    unpack_as(archive, limit, false)
}

/// `unpack_within` for a layer, which Lambda unpacks at /opt with the
/// function's other layers: a symlink may resolve to another layer's file
/// (`lib/alias.so -> libz.so` where another has `lib/libz.so`), or be
/// absolute under /opt (`/opt/lib/libz.so`, made relative to its place, so
/// it never reaches this machine's /opt). Links are resolved once the
/// layers are merged (`layers`); any other absolute one is refused here.
pub fn unpack_layer(archive: &Path, limit: u64) -> Result<(PrivateDir, u64)> {
    unpack_as(archive, limit, true)
}

fn unpack_as(archive: &Path, limit: u64, layer: bool) -> Result<(PrivateDir, u64)> {
    let bad = |why: String| AuditError::Usage(format!("{}: {}", shown(archive), why));
    let mut zip = open(archive)?;
    let dir = PrivateDir::new(".lambda-audit-check")?;
    let written = unpack_into(&mut zip, dir.path(), limit, layer).map_err(bad)?;
    Ok((dir, written))
}

/// The sum of the unzipped sizes `archive` declares (its central
/// directory's): what Lambda counts against its limit, told before
/// anything is written. Unpacking still counts the bytes it writes.
pub fn declared_size(archive: &Path) -> Result<u64> {
    let bad = |why: String| AuditError::Usage(format!("{}: {}", shown(archive), why));
    let mut zip = open(archive)?;
    let mut total: u64 = 0;
    for index in 0..zip.len() {
        let entry = zip
            .by_index_raw(index)
            .map_err(|e| bad(format!("entry {index}: {e}")))?;
        total = total.saturating_add(entry.size());
    }
    Ok(total)
}

fn open(archive: &Path) -> Result<ZipArchive<std::fs::File>> {
    let file = std::fs::File::open(archive).map_err(|e| AuditError::io(archive, e))?;
    ZipArchive::new(file)
        .map_err(|e| AuditError::Usage(format!("{}: not a readable zip ({e})", shown(archive))))
}

/// The entry name as a relative path inside the package, or why not.
fn relative_name(name: &str) -> std::result::Result<PathBuf, String> {
    if name.len() > MAX_NAME {
        let start: String = name.chars().take(60).collect();
        return Err(format!(
            "entry {start:?}… is longer than {MAX_NAME} bytes, which no file system takes as a path"
        ));
    }
    if name.contains('\\') {
        return Err(format!(
            "entry {name:?} has a backslash, which some extractors read as a path separator"
        ));
    }
    if name.contains('\0') {
        return Err(format!("entry {name:?} has a NUL byte"));
    }
    let path = Path::new(name.trim_end_matches('/'));
    if path.as_os_str().is_empty() {
        return Err(format!("entry {name:?} has no name"));
    }
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => clean.push(p),
            Component::CurDir => {}
            _ => {
                return Err(format!(
                    "entry {name:?} names a path outside the package (absolute, or with ..)"
                ))
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(format!("entry {name:?} has no name"));
    }
    Ok(clean)
}

/// What one member of the archive becomes in the package.
enum Member {
    Dir,
    File { index: usize, mode: u32 },
    Link { target: String },
}

/// The archive's members by their path in the package, checked as a whole
/// before anything is created.
struct Plan {
    members: HashMap<PathBuf, Member>,
    /// Every directory a member lies in (each member's ancestors).
    dirs: HashSet<PathBuf>,
}

/// Unpacks the checked plan of `zip` under `root`, within `limit` bytes;
/// returns the bytes written.
fn unpack_into(
    zip: &mut ZipArchive<std::fs::File>,
    root: &Path,
    limit: u64,
    layer: bool,
) -> std::result::Result<u64, String> {
    let plan = plan(zip)?;
    plan.check_nothing_lies_under_a_file_or_link()?;
    if layer {
        plan.check_links_stay_in_opt()?;
    } else {
        plan.check_links_resolve_inside()?;
    }
    let written = write_files(zip, root, &plan, limit)?;
    make_links(root, &plan)?;
    Ok(written)
}

/// Each member's path and kind (a symlink with its target), from the
/// archive's directory and the links' few bytes: nothing is created yet.
fn plan(zip: &mut ZipArchive<std::fs::File>) -> std::result::Result<Plan, String> {
    if zip.len() > MAX_MEMBERS {
        return Err(format!(
            "it has {} members, more than {MAX_MEMBERS} members: no package needs that many",
            zip.len()
        ));
    }
    let mut members: HashMap<PathBuf, Member> = HashMap::new();
    let mut dirs: HashSet<PathBuf> = HashSet::new();
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| format!("entry {index}: {e}"))?;
        let name = entry.name().to_string();
        let rel = relative_name(&name)?;
        let mode = entry.unix_mode().unwrap_or(0);
        let kind = mode & S_IFMT;
        let member = if entry.is_dir() || kind == S_IFDIR {
            Member::Dir
        } else if kind == S_IFLNK {
            let mut target = String::new();
            (&mut entry)
                .take(MAX_LINK + 1)
                .read_to_string(&mut target)
                .map_err(|e| format!("{}: symlink target: {e}", shown(&rel)))?;
            if target.len() as u64 > MAX_LINK || target.is_empty() || target.contains('\0') {
                return Err(format!("{}: a symlink with no usable target", shown(&rel)));
            }
            Member::Link { target }
        } else if kind == 0 || kind == S_IFREG {
            Member::File { index, mode }
        } else {
            return Err(format!(
                "{}: a device, FIFO or socket (mode {mode:o}), not a regular file: a package holds files only",
                shown(&rel)
            ));
        };
        // An ancestor already known has its own ancestors known: each
        // directory is added once, so planning is linear in the names.
        for dir in rel.ancestors().skip(1) {
            if !dirs.insert(dir.to_path_buf()) {
                break;
            }
        }
        let twice = match members.insert(rel.clone(), member) {
            None => false,
            Some(Member::Dir) => !matches!(members[&rel], Member::Dir),
            Some(_) => true,
        };
        if twice {
            return Err(format!(
                "{}: the archive holds this name twice",
                shown(&rel)
            ));
        }
    }
    Ok(Plan { members, dirs })
}

impl Plan {
    /// A member under a file cannot be made; one under a symlink member
    /// would be written through the link, wherever it points: both refused.
    fn check_nothing_lies_under_a_file_or_link(&self) -> std::result::Result<(), String> {
        for dir in &self.dirs {
            match self.members.get(dir) {
                Some(Member::File { .. }) => {
                    return Err(format!(
                        "{}: a file, and the archive has members under it",
                        shown(dir)
                    ))
                }
                Some(Member::Link { .. }) => {
                    return Err(format!(
                        "{}: a symlink, and the archive has members under it, which would be written through the link: a package may not",
                        shown(dir)
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Every symlink must resolve, as the runtime would resolve it, to a
    /// member (or a directory holding one): resolved lexically over the
    /// archive's own members, never by following a link on disk.
    fn check_links_resolve_inside(&self) -> std::result::Result<(), String> {
        for (link, member) in &self.members {
            if let Member::Link { target } = member {
                self.resolve(link, target).map_err(|why| {
                    format!("{}: a symlink to {target:?}, which {why}", shown(link))
                })?;
            }
        }
        Ok(())
    }

    /// A layer's symlinks: relative, or absolute under /opt; where they
    /// lead is told in the merged /opt, with the other layers.
    fn check_links_stay_in_opt(&self) -> std::result::Result<(), String> {
        for (link, member) in &self.members {
            if let Member::Link { target } = member {
                if target.starts_with('/') && crate::lexical::under_opt(target).is_none() {
                    return Err(format!(
                        "{}: a symlink to {target:?}, which {ABSOLUTE}",
                        shown(link)
                    ));
                }
            }
        }
        Ok(())
    }

    fn resolve(&self, link: &Path, target: &str) -> std::result::Result<(), &'static str> {
        if target.starts_with('/') {
            return Err(ABSOLUTE);
        }
        let mut current: PathBuf = link.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut pending: Vec<Component> = Path::new(target).components().rev().collect();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part {
                Component::Normal(name) => current.push(name),
                Component::ParentDir => {
                    if !current.pop() {
                        return Err("does not resolve inside the package (it climbs above the package's root)");
                    }
                    continue;
                }
                _ => continue,
            }
            match self.members.get(&current) {
                Some(Member::Link { target }) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return Err("does not resolve inside the package (too many levels of symbolic links)");
                    }
                    if target.starts_with('/') {
                        return Err(ABSOLUTE);
                    }
                    current.pop();
                    pending.extend(Path::new(target.as_str()).components().rev());
                }
                Some(Member::File { .. }) if !pending.is_empty() => {
                    return Err("does not resolve inside the package (it passes through a file)");
                }
                Some(_) => {}
                None if self.dirs.contains(&current) => {}
                None => return Err(
                    "does not resolve inside the package (the archive has nothing of that name)",
                ),
            }
        }
        Ok(())
    }
}

/// Directories and regular files, streamed to disk and counted. No member
/// lies under a symlink (checked), and the links are made after these, so
/// nothing here is written through one. A directory member is made only if
/// a link may point at it: the audit reads files, a file's directories are
/// made with it, and an empty directory costs a slow `mkdir` for nothing.
fn write_files(
    zip: &mut ZipArchive<std::fs::File>,
    root: &Path,
    plan: &Plan,
    limit: u64,
) -> std::result::Result<u64, String> {
    let mut written: u64 = 0;
    let has_links = plan
        .members
        .values()
        .any(|m| matches!(m, Member::Link { .. }));
    for (rel, member) in &plan.members {
        let dest = root.join(rel);
        let (index, mode) = match member {
            Member::Dir if !has_links => continue,
            Member::Dir => {
                guarded(|| std::fs::create_dir_all(&dest))
                    .map_err(|e| format!("{}: {e}", shown(rel)))?;
                continue;
            }
            Member::File { index, mode } => (*index, *mode),
            Member::Link { .. } => continue,
        };
        let mut entry = zip
            .by_index(index)
            .map_err(|e| format!("entry {index}: {e}"))?;
        let mut out = guarded(|| {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&dest)
        })
        .map_err(|e| format!("{}: {e}", shown(rel)))?;
        let room = limit - written;
        let copied = std::io::copy(&mut (&mut entry).take(room + 1), &mut out)
            .map_err(|e| format!("{}: {e}", shown(rel)))?;
        written += copied;
        if copied > room {
            return Err(over_limit(limit));
        }
        out.flush().map_err(|e| format!("{}: {e}", shown(rel)))?;
        // The permission bits matter (a bootstrap must be executable); the
        // type bits were checked in the plan.
        use std::os::unix::fs::PermissionsExt;
        let permissions = if mode == 0 { 0o644 } else { mode & 0o777 };
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(permissions | 0o600))
            .map_err(|e| format!("{}: {e}", shown(rel)))?;
    }
    Ok(written)
}

/// Why unpacking stopped at `limit` bytes: all of Lambda's limit, or what
/// the function's other archives left of it.
fn over_limit(limit: u64) -> String {
    if limit == MAX_UNZIPPED {
        format!(
            "more than {} unzipped, over Lambda's limit for a function and its layers",
            crate::archive::bytes(MAX_UNZIPPED)
        )
    } else {
        format!(
            "more than {} unzipped, what the function's other archives leave of Lambda's limit of {} for a function and its layers",
            crate::archive::bytes(limit),
            crate::archive::bytes(MAX_UNZIPPED)
        )
    }
}

/// The symlinks, last, each already known to resolve inside the package.
fn make_links(root: &Path, plan: &Plan) -> std::result::Result<(), String> {
    for (rel, member) in &plan.members {
        let Member::Link { target } = member else {
            continue;
        };
        let dest = root.join(rel);
        // A layer's link under /opt: relative, never to the machine's /opt.
        let target = crate::lexical::opt_relative(rel, target).unwrap_or_else(|| target.into());
        guarded(|| {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::os::unix::fs::symlink(&target, &dest)
        })
        .map_err(|e| format!("{}: {e}", shown(rel)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_package_are_refused() {
        for name in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\..\\x",
            "",
            "./",
            "a\0b",
        ] {
            assert!(relative_name(name).is_err(), "{name:?}");
        }
        assert_eq!(relative_name("a/./b/").unwrap(), PathBuf::from("a/b"));
        assert_eq!(
            relative_name("bootstrap").unwrap(),
            PathBuf::from("bootstrap")
        );
    }

    /// A reader that counts the bytes read from it.
    struct Counted {
        inner: std::io::Cursor<Vec<u8>>,
        read: u64,
    }

    impl Read for Counted {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n as u64;
            Ok(n)
        }
    }

    impl Seek for Counted {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(to)
        }
    }

    /// (issue 28) Whether a file may hold a zip is told from its tail alone:
    /// a signature early in a large file is not read, nor is anything
    /// before the last 65,557 bytes (the whole file was scanned).
    #[test]
    fn only_the_tail_is_read_for_an_end_of_directory_record() {
        let reach = END_OF_DIRECTORY_REACH as usize;
        let counted = |bytes: Vec<u8>| Counted {
            inner: std::io::Cursor::new(bytes),
            read: 0,
        };
        let mut early = [&b"PK\x05\x06"[..], &vec![0u8; 8 << 20]].concat();
        let mut file = counted(early.clone());
        assert!(!may_hold_a_zip(&mut file));
        assert_eq!(file.read, END_OF_DIRECTORY_REACH);
        // At the very start of the reach, and at the very end: found.
        early.truncate(reach);
        assert!(may_hold_a_zip(&mut counted(early.clone())));
        early.push(0);
        assert!(!may_hold_a_zip(&mut counted(early)));
        let late = [&vec![0u8; 8 << 20][..], b"PK\x05\x06"].concat();
        let mut file = counted(late);
        assert!(may_hold_a_zip(&mut file));
        assert_eq!(file.read, END_OF_DIRECTORY_REACH);
        assert!(!may_hold_a_zip(&mut counted(Vec::new())));
    }
}
