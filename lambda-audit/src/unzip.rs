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
pub fn is_zip_behind_a_stub(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && !is_zip(path)
        && std::fs::File::open(path).is_ok_and(holds_members)
}

/// How far from a zip's end its end-of-central-directory record may begin:
/// the record's 22 bytes and the longest comment (65,535), by the format's
/// definition (unzip looks no further).
const END_OF_DIRECTORY_REACH: u64 = 22 + 65_535;

/// Whether `file` holds a zip archive with a member whose local header
/// reads: the library accepts a bare end-of-directory record, and
/// libpython's code holds one (`zipimport`'s signature bytes), which is no
/// archive. Read within bounds: the last end-of-directory record in the
/// tail must name a central directory that ends where the record (or its
/// zip64 record) begins, as every zip writer puts it (`central_directory`);
/// the library is then told where the archive starts, and cannot read
/// before that directory while it reads it, so a forged record in the tail
/// of a huge file costs a few small reads, not the library's search of the
/// whole file for another (12.2 s for a 3 GiB file).
fn holds_members<F: Read + Seek>(mut file: F) -> bool {
    let Some(found) = central_directory(&mut file) else {
        return false;
    };
    let floor = std::cell::Cell::new(found.start.min(found.tail_start));
    let reader = Floored {
        inner: file,
        floor: &floor,
        at: 0,
    };
    let config = zip::read::Config {
        archive_offset: zip::read::ArchiveOffset::Known(found.archive_offset),
    };
    let Ok(mut zip) = ZipArchive::with_config(config, reader) else {
        return false;
    };
    // The members' local headers lie before the directory.
    floor.set(found.archive_offset);
    !zip.is_empty() && zip.by_index(0).is_ok()
}

/// Where a zip's central directory is, as its end-of-directory record says.
struct Directory {
    /// Where the directory starts in the file.
    start: u64,
    /// Where the archive starts (after a stub): its offsets count from here.
    archive_offset: u64,
    /// Where the tail searched for the record starts.
    tail_start: u64,
}

/// The central directory that the last end-of-directory record in the
/// file's last `END_OF_DIRECTORY_REACH` bytes names, if it is right before
/// the record (or before the zip64 record the zip64 locator points at)
/// and starts with a directory entry's signature. A file whose tail lacks
/// the record, or holds one no writer would make, is no zip; an empty
/// archive is none either. The record's three fields are read to bound
/// the zip library's reading, which does the parsing.
fn central_directory(file: &mut (impl Read + Seek)) -> Option<Directory> {
    const END_OF_DIRECTORY: &[u8] = b"PK\x05\x06";
    let len = file.seek(SeekFrom::End(0)).ok()?;
    let tail_start = len.saturating_sub(END_OF_DIRECTORY_REACH);
    let tail = read_at(file, tail_start, END_OF_DIRECTORY_REACH)?;
    // The forward search first: it is vectorised, the reverse one is not
    // (4 instructions a byte), and most files checked hold no record at all.
    memchr::memmem::find(&tail, END_OF_DIRECTORY)?;
    let at = memchr::memmem::rfind(&tail, END_OF_DIRECTORY)?;
    let record = tail.get(at..at + 22)?;
    let field = |range: std::ops::Range<usize>| {
        record[range]
            .iter()
            .rev()
            .fold(0u64, |n, b| n << 8 | u64::from(*b))
    };
    let (entries, mut size, mut offset) = (field(10..12), field(12..16), field(16..20));
    let mut end = tail_start + at as u64;
    if entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        // Zip64: its locator right before the record, and before that its
        // record (56 bytes, no extensible data, as writers make it).
        let locator = end.checked_sub(20)?;
        let record64_at = locator.checked_sub(56)?;
        let record64 = read_at(file, record64_at, 76).filter(|r| r.len() == 76)?;
        if !record64.starts_with(b"PK\x06\x06") || &record64[56..60] != b"PK\x06\x07" {
            return None;
        }
        let field64 = |from: usize| {
            record64[from..from + 8]
                .iter()
                .rev()
                .fold(0u64, |n, b| n << 8 | u64::from(*b))
        };
        (size, offset, end) = (field64(40), field64(48), record64_at);
    } else if entries == 0 {
        return None;
    }
    let start = end.checked_sub(size)?;
    let archive_offset = start.checked_sub(offset)?;
    (read_at(file, start, 4)? == b"PK\x01\x02").then_some(Directory {
        start,
        archive_offset,
        tail_start,
    })
}

/// `want` bytes of `file` from `at` (fewer at its end); None if unreadable
/// or empty.
fn read_at(file: &mut (impl Read + Seek), at: u64, want: u64) -> Option<Vec<u8>> {
    // Room for all of it at once (`want` is at most the tail's 65,557
    // bytes): read_to_end would otherwise grow it by doubling, copying.
    let mut bytes = Vec::with_capacity(usize::try_from(want).ok()?);
    file.seek(SeekFrom::Start(at)).ok()?;
    file.take(want).read_to_end(&mut bytes).ok()?;
    (!bytes.is_empty()).then_some(bytes)
}

/// A file the zip library may not read before `floor`: a read there is an
/// error, which ends its search instead of letting it scan the file.
struct Floored<'f, F> {
    inner: F,
    floor: &'f std::cell::Cell<u64>,
    at: u64,
}

impl<F: Read> Read for Floored<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at < self.floor.get() {
            return Err(std::io::Error::other("before the zip's central directory"));
        }
        let n = self.inner.read(buf)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl<F: Seek> Seek for Floored<'_, F> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.at = self.inner.seek(to)?;
        Ok(self.at)
    }
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
    unpack_as(archive, limit, Place::Alone)
}

/// `unpack_within` for a function over its layers, merged in `opt`: a
/// symlink absolute under /opt (`/opt/lib/libz.so`) reaches a layer's file
/// there, as Lambda resolves it, and is made to the file in `opt` (never
/// this machine's /opt); one to a file no layer has is refused.
pub fn unpack_over_layers(archive: &Path, limit: u64, opt: &Path) -> Result<(PrivateDir, u64)> {
    unpack_as(archive, limit, Place::OverLayers(opt))
}

/// `unpack_within` for a layer, which Lambda unpacks at /opt with the
/// function's other layers: a symlink may resolve to another layer's file
/// (`lib/alias.so -> libz.so` where another has `lib/libz.so`), or be
/// absolute under /opt (`/opt/lib/libz.so`, made relative to its place, so
/// it never reaches this machine's /opt). Links are resolved once the
/// layers are merged (`layers`); any other absolute one is refused here.
pub fn unpack_layer(archive: &Path, limit: u64) -> Result<(PrivateDir, u64)> {
    unpack_as(archive, limit, Place::Layer)
}

/// Where Lambda unpacks an archive, which decides where its symlinks may
/// lead.
#[derive(Clone, Copy)]
enum Place<'o> {
    /// A package on its own: inside it.
    Alone,
    /// A layer, at /opt: anywhere in the merged layers (checked there).
    Layer,
    /// A function, over its layers merged in the directory given: inside
    /// it, or absolute into /opt where a layer has the file.
    OverLayers(&'o Path),
}

fn unpack_as(archive: &Path, limit: u64, place: Place) -> Result<(PrivateDir, u64)> {
    let bad = |why: String| AuditError::Usage(format!("{}: {}", shown(archive), why));
    let mut zip = open(archive)?;
    let dir = PrivateDir::new(".lambda-audit-check")?;
    let written = unpack_into(&mut zip, dir.path(), limit, place).map_err(bad)?;
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
    place: Place,
) -> std::result::Result<u64, String> {
    let plan = plan(zip)?;
    plan.check_nothing_lies_under_a_file_or_link()?;
    match place {
        Place::Layer => plan.check_links_stay_in_opt()?,
        Place::Alone => plan.check_links_resolve_inside(None)?,
        Place::OverLayers(opt) => plan.check_links_resolve_inside(Some(opt))?,
    }
    let written = write_files(zip, root, &plan, limit)?;
    make_links(root, &plan, place)?;
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
    /// A function's over its layers (merged in `opt`) may also be
    /// absolute into /opt, to a file or directory a layer has there.
    fn check_links_resolve_inside(&self, opt: Option<&Path>) -> std::result::Result<(), String> {
        for (link, member) in &self.members {
            if let Member::Link { target } = member {
                if let Some(opt) = opt.filter(|_| crate::lexical::under_opt(target).is_some()) {
                    in_layers(opt, target).ok_or_else(|| {
                        format!(
                            "{}: a symlink to {target:?}, which no layer given provides at /opt",
                            shown(link)
                        )
                    })?;
                    continue;
                }
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

/// The file or directory of the merged layers `opt` that `target`, a
/// link's absolute target under /opt, reaches; None if it is not there.
fn in_layers(opt: &Path, target: &str) -> Option<PathBuf> {
    let rest = crate::lexical::under_opt(target)?;
    let opt = std::fs::canonicalize(opt).ok()?;
    let real = std::fs::canonicalize(opt.join(rest)).ok()?;
    real.starts_with(&opt).then_some(real)
}

/// The symlinks, last, each already known to resolve inside the package.
fn make_links(root: &Path, plan: &Plan, place: Place) -> std::result::Result<(), String> {
    for (rel, member) in &plan.members {
        let Member::Link { target } = member else {
            continue;
        };
        let dest = root.join(rel);
        // A link under /opt: a layer's relative, a function's to the file
        // in the merged layers; never to this machine's /opt.
        let in_opt = match place {
            Place::Alone => None,
            Place::Layer => crate::lexical::opt_relative(rel, target),
            Place::OverLayers(opt) => in_layers(opt, target),
        };
        let target = in_opt.unwrap_or_else(|| target.into());
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

    fn counted(bytes: Vec<u8>) -> Counted {
        Counted {
            inner: std::io::Cursor::new(bytes),
            read: 0,
        }
    }

    /// A zip of `entries` empty members, behind `stub` bytes of zeros.
    fn stub_zip(stub: usize, entries: usize) -> Vec<u8> {
        let mut behind = std::io::Cursor::new(vec![0u8; stub]);
        behind.set_position(stub as u64);
        let mut zip = zip::ZipWriter::new(behind);
        let options = zip::write::SimpleFileOptions::default();
        for i in 0..entries {
            zip.start_file(format!("m{i}"), options).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// An end-of-directory record naming `entries` members in a directory
    /// of `size` bytes at `offset`.
    fn record(entries: u16, size: u32, offset: u32) -> Vec<u8> {
        let mut r = b"PK\x05\x06\0\0\0\0".to_vec();
        r.extend_from_slice(&entries.to_le_bytes());
        r.extend_from_slice(&entries.to_le_bytes());
        r.extend_from_slice(&size.to_le_bytes());
        r.extend_from_slice(&offset.to_le_bytes());
        r.extend_from_slice(&0u16.to_le_bytes());
        r
    }

    /// (issue 28) Whether a file holds a zip is told from its tail alone:
    /// a signature early in a large file is not read, nor is anything
    /// before the last 65,557 bytes (the whole file was scanned).
    #[test]
    fn only_the_tail_is_read_for_an_end_of_directory_record() {
        let reach = END_OF_DIRECTORY_REACH as usize;
        let early = [&record(1, 46, 0)[..], &vec![0u8; 8 << 20]].concat();
        let mut file = counted(early);
        assert!(!holds_members(&mut file));
        assert_eq!(file.read, END_OF_DIRECTORY_REACH);
        // A real archive at the very start of the reach is found.
        let mut zip = stub_zip(0, 1);
        let padding = reach - zip.len();
        zip.splice(0..0, std::iter::repeat(0u8).take(padding));
        assert!(!is_zip_at_start(&zip) && holds_members(&mut counted(zip.clone())));
        assert!(!holds_members(&mut counted(Vec::new())));
    }

    fn is_zip_at_start(bytes: &[u8]) -> bool {
        bytes.starts_with(b"PK\x03\x04")
    }

    /// (issue 28) A forged end-of-directory record at the end of a large
    /// file (a member named, its directory not there) is no zip, told by a
    /// few reads: the library searched the whole file for the directory,
    /// then for another record (12.2 s for a 3 GiB file).
    #[test]
    fn a_forged_end_of_directory_record_costs_a_few_reads() {
        for forged in [
            record(1, 46, 0),
            record(3, 0x10_0000, 0x100),
            record(0xFFFF, u32::MAX, u32::MAX),
        ] {
            let mut file = counted([&vec![0u8; 32 << 20][..], &forged].concat());
            assert!(!holds_members(&mut file));
            assert!(
                file.read < 2 * END_OF_DIRECTORY_REACH,
                "{} bytes read",
                file.read
            );
        }
    }

    /// A real archive behind a stub is found, zip64 too (65,536 members),
    /// and its reading never goes back into the stub.
    #[test]
    fn an_archive_behind_a_stub_is_read_from_its_own_start() {
        let stub = 4 << 20;
        for entries in [1, 65_536] {
            let bytes = stub_zip(stub, entries);
            let archive = (bytes.len() - stub) as u64;
            let mut file = counted(bytes);
            let zip64 =
                memchr::memmem::rfind(&file.inner.get_ref()[stub..], b"PK\x06\x06").is_some();
            assert_eq!(zip64, entries > 0xFFFF, "{entries} members");
            assert!(holds_members(&mut file), "{entries} members");
            assert!(
                file.read < archive + 2 * END_OF_DIRECTORY_REACH,
                "{entries}: {} bytes read",
                file.read
            );
        }
        // Cut: the directory the record names is not there.
        let mut bytes = stub_zip(stub, 3);
        let end = bytes.len() - 22;
        bytes.drain(end - 10..end);
        assert!(!holds_members(&mut counted(bytes)));
    }

    /// (issue 28) `check` of a 1 GiB file (sparse) ending in a forged
    /// record: this thread reads a few KiB of it (the kernel's count of
    /// its read bytes, /proc/thread-self/io), not the whole file.
    #[test]
    fn a_huge_file_with_a_forged_record_is_not_read_through() {
        let rchar = || {
            let io = std::fs::read_to_string("/proc/thread-self/io").unwrap();
            let line = io.lines().find(|l| l.starts_with("rchar:")).unwrap();
            line[6..].trim().parse::<u64>().unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.so");
        let file = std::fs::File::create(&path).unwrap();
        let forged = record(1, 46, 0);
        file.set_len((1 << 30) - forged.len() as u64).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&forged)
            .unwrap();
        let before = rchar();
        assert!(!is_zip_behind_a_stub(&path));
        let read = rchar() - before;
        assert!(read < 1 << 20, "{read} bytes read of a 1 GiB file");
    }
}
