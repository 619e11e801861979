//! A function with its layers (`check PACKAGE --with-layer LAYER …`).
//!
//! Lambda extracts a function's layers into /opt in the order they are
//! given, a later layer's file replacing an earlier one's at the same path,
//! and the function's package into /var/task. Here each layer is unpacked
//! (a zip, with every guarantee of `unzip`) or read (a directory, listed as
//! `archive` lists a package), and placed over the earlier ones in one
//! private directory: what the runtime sees at /opt.
//!
//! Lambda's 250 MB limit counts the function and all its layers unzipped.
//! The sizes are taken from the archives' directories (a directory's file
//! sizes), and a function over the limit with its layers is refused before
//! anything is unpacked; unpacking still counts the bytes it writes, within
//! what the archives before it left of the limit.

use std::collections::HashMap;
use std::fs::FileType;
use std::path::{Path, PathBuf};

use crate::archive::{self, Entry, MAX_UNZIPPED};
use crate::atomic::{guarded, PrivateDir};
use crate::error::{shown, AuditError, Result};
use crate::lexical;
use crate::unzip;

/// The most layers Lambda takes for one function (AWS: "up to five
/// layers"); more cannot be deployed, so none is judged.
pub const MAX_LAYERS: usize = 5;

/// A function's layers, merged as the runtime has them at /opt.
pub struct Layers {
    /// The layers as given, in order.
    given: Vec<PathBuf>,
    dir: PrivateDir,
    /// The layer (an index into `given`) each file of `dir` came from, by
    /// its path there (`Entry::name`).
    origin: HashMap<String, usize>,
    entries: Vec<Entry>,
    /// The bytes the layers hold unzipped.
    unzipped: u64,
}

impl Layers {
    /// Unpacks `given` in order into one private directory, a later
    /// layer's files replacing an earlier one's, within what a function of
    /// `function` bytes unzipped leaves of Lambda's limit: the bytes each
    /// zip writes are counted (never the sizes it declares), and a
    /// directory's files by their size.
    pub fn unpack(given: &[PathBuf], function: u64) -> Result<Layers> {
        check_temp_dir_outside(given)?;
        let dir = PrivateDir::new(".lambda-audit-layers")?;
        let mut origin = HashMap::new();
        let mut unzipped: u64 = 0;
        let limit = MAX_UNZIPPED.saturating_sub(function);
        for (index, layer) in given.iter().enumerate() {
            let mut over = Overlay {
                onto: dir.path(),
                layer: index,
                named: layer,
                origin: &mut origin,
            };
            if layer.is_dir() {
                // Sized first: a special file is refused before any copy.
                unzipped = unzipped.saturating_add(dir_size(layer)?);
                if unzipped > limit {
                    return Err(over_limit(layer, function, unzipped));
                }
                over.place(layer, Take::Copy)?;
            } else {
                let room = limit.saturating_sub(unzipped);
                let zip = zip_layer(layer)?;
                let (unpacked, written) = unzip::unpack_layer(zip, room)?;
                unzipped += written;
                over.place(unpacked.path(), Take::Move)?;
            }
        }
        // Every symlink resolves inside the merged /opt (a directory
        // layer's were copied as they are), or the layers are refused.
        check_links(dir.path(), &origin, given)?;
        let entries = archive::list(dir.path()).map_err(|e| in_opt(e, dir.path()))?;
        Ok(Layers {
            given: given.to_vec(),
            dir,
            origin,
            entries,
            unzipped,
        })
    }

    /// The merged layers: the runtime's /opt.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every file of the merged layers.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The bytes the layers hold unzipped.
    pub fn unzipped(&self) -> u64 {
        self.unzipped
    }

    /// The layers as given, in order.
    pub fn given(&self) -> &[PathBuf] {
        &self.given
    }

    /// The layer (as given) the file at `name` in /opt came from.
    pub fn layer_of(&self, name: &str) -> Option<&Path> {
        self.origin.get(name).map(|&i| self.given[i].as_path())
    }

    /// The file at `name` in /opt as its layer names it: `LAYER.zip!/name`,
    /// or `LAYER/name` for a directory.
    pub fn shown_file(&self, name: &str) -> Option<PathBuf> {
        let layer = self.layer_of(name)?;
        Some(if layer.is_dir() {
            layer.join(name)
        } else {
            PathBuf::from(format!("{}!/{name}", layer.display()))
        })
    }
}

/// The layers are merged (and a zip unpacked) in the system's temporary
/// directory: inside a layer directory, the copy would be listed as the
/// layer's own files and copied into itself, level after level. Refused
/// before anything is made, naming the layer (not the private directory).
fn check_temp_dir_outside(given: &[PathBuf]) -> Result<()> {
    let temp = std::env::temp_dir();
    let Ok(temp) = std::fs::canonicalize(&temp) else {
        // Creating the private directory will say why.
        return Ok(());
    };
    for layer in given.iter().filter(|l| l.is_dir()) {
        let real = std::fs::canonicalize(layer).map_err(|e| AuditError::io(layer, e))?;
        if temp.starts_with(&real) {
            return Err(AuditError::Usage(format!(
                "--with-layer {}: the temporary directory (TMPDIR) is inside this layer, and the layer would be copied into itself: set TMPDIR to a directory outside it",
                shown(layer)
            )));
        }
    }
    Ok(())
}

/// Every symlink of the merged layers must resolve to a file or directory
/// inside them, as Lambda resolves it at /opt (a later layer's link to an
/// earlier layer's file does): one that dangles or leaves them is refused,
/// naming the layer it came from and its path there.
fn check_links(merged: &Path, origin: &HashMap<String, usize>, given: &[PathBuf]) -> Result<()> {
    let root = std::fs::canonicalize(merged).map_err(|e| AuditError::io(merged, e))?;
    let links = walkdir::WalkDir::new(&root)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter(|item| item.file_type().is_symlink());
    for link in links {
        let rel = link.path().strip_prefix(&root).unwrap_or(link.path());
        let target = std::fs::read_link(link.path()).unwrap_or_default();
        let why = match std::fs::canonicalize(link.path()) {
            Ok(real) if real.starts_with(&root) => continue,
            Ok(_) => "outside the package directory (the layers at /opt)",
            Err(_) => "which resolves to nothing in the layers at /opt (dangling)",
        };
        let layer = rel
            .to_str()
            .and_then(|r| origin.get(r))
            .map_or(Path::new("/opt"), |&i| given[i].as_path());
        return Err(AuditError::Usage(format!(
            "--with-layer {}: {}: symlink to {}, {why}",
            shown(layer),
            shown(rel),
            shown(&target)
        )));
    }
    Ok(())
}

/// A refusal of the merged layers, naming each path by its place in /opt
/// (never by the private directory they are merged in).
fn in_opt(e: AuditError, merged: &Path) -> AuditError {
    let AuditError::Usage(why) = e else {
        return e;
    };
    let mut why = why;
    let real = std::fs::canonicalize(merged).unwrap_or_else(|_| merged.to_path_buf());
    for prefix in [real.as_path(), merged] {
        why = why.replace(&shown(prefix).to_string(), "/opt");
    }
    AuditError::Usage(format!("--with-layer: the layers merged at /opt: {why}"))
}

/// A directory layer's bytes: its regular files' sizes, symlinks not
/// followed (one may resolve only over the earlier layers: it is checked in
/// the merged /opt). Anything else (a FIFO, a device) is refused before
/// anything is copied: a copy of a FIFO would block.
fn dir_size(layer: &Path) -> Result<u64> {
    let mut size: u64 = 0;
    for item in walkdir::WalkDir::new(layer).follow_links(false) {
        let bad = |why: String| AuditError::Usage(format!("--with-layer {}: {why}", shown(layer)));
        let item = item.map_err(|e| bad(e.to_string()))?;
        let kind = item.file_type();
        if kind.is_dir() || kind.is_symlink() {
            continue;
        }
        let meta = item.metadata().map_err(|e| bad(e.to_string()))?;
        if !kind.is_file() {
            let rel = item.path().strip_prefix(layer).unwrap_or(item.path());
            return Err(bad(format!(
                "{}: {}, not a regular file: a layer holds files only",
                shown(rel),
                crate::atomic::special_kind(&meta)
            )));
        }
        size = size.saturating_add(meta.len());
    }
    Ok(size)
}

/// `layer` if it is a zip; a layer is a zip or a directory.
fn zip_layer(layer: &Path) -> Result<&Path> {
    if unzip::is_zip(layer) {
        return Ok(layer);
    }
    Err(AuditError::Usage(format!(
        "--with-layer {}: not a directory or a zip (a layer is what Lambda unpacks at /opt)",
        shown(layer)
    )))
}

/// `unzipped_size` of a layer: a directory's symlinks may resolve only
/// over the earlier layers, and are checked once the layers are merged.
pub fn layer_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path).map_err(|e| AuditError::io(path, e))?;
    if path.is_dir() {
        dir_size(path)
    } else {
        unzipped_size(path)
    }
}

/// The bytes a package (or a layer, `layer_size`) holds unzipped: a directory's file sizes,
/// or the sizes a zip's directory declares (nothing is unpacked).
pub fn unzipped_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path).map_err(|e| AuditError::io(path, e))?;
    if path.is_dir() {
        Ok(archive::list(path)?.iter().map(|e| e.size).sum())
    } else {
        unzip::declared_size(zip_layer(path)?)
    }
}

/// Lambda's limit on a function and its layers together, unzipped (AWS:
/// "must be smaller than 262144000 bytes"): `function` and `layers`, each
/// with its size, refused over it in one line naming each size.
pub fn check_total(function: (&Path, u64), layers: &[(&Path, u64)]) -> Result<()> {
    let total = layers
        .iter()
        .fold(function.1, |sum, (_, size)| sum.saturating_add(*size));
    if total < MAX_UNZIPPED {
        return Ok(());
    }
    let sizes: Vec<String> = std::iter::once(&function)
        .chain(layers)
        .map(|(path, size)| format!("{} {}", shown(path), archive::bytes(*size)))
        .collect();
    Err(AuditError::Usage(format!(
        "{} with its layers is {} unzipped ({}), over Lambda's limit of {} for a function and its layers: nothing was unpacked",
        shown(function.0),
        archive::bytes(total),
        sizes.join(", "),
        archive::bytes(MAX_UNZIPPED)
    )))
}

/// Why the layers stopped at `layer`: with a function of `function` bytes,
/// the `unzipped` bytes of the layers so far are over Lambda's limit.
fn over_limit(layer: &Path, function: u64, unzipped: u64) -> AuditError {
    AuditError::Usage(format!(
        "--with-layer {}: the layers come to {} unzipped, which with the function's {} is over Lambda's limit of {} for a function and its layers",
        shown(layer),
        archive::bytes(unzipped),
        archive::bytes(function),
        archive::bytes(MAX_UNZIPPED)
    ))
}

/// How a layer's files reach the merged directory: moved out of our own
/// unpacked copy, or copied from a directory of the user's.
#[derive(Clone, Copy)]
enum Take {
    Move,
    Copy,
}

/// One layer being placed over the earlier ones.
struct Overlay<'a> {
    onto: &'a Path,
    layer: usize,
    /// The layer as given, for messages.
    named: &'a Path,
    origin: &'a mut HashMap<String, usize>,
}

impl Overlay<'_> {
    /// Places the tree `from` over `onto`, as extracting the layer over
    /// the earlier ones: directories are merged, a file or symlink replaces
    /// the file or symlink at its path. A directory where an earlier layer
    /// has a file (or the reverse) is refused: nothing is ever written
    /// through an earlier layer's symlink.
    fn place(&mut self, from: &Path, take: Take) -> Result<()> {
        let walk = walkdir::WalkDir::new(from)
            .follow_links(false)
            .sort_by_file_name()
            .min_depth(1);
        for item in walk {
            let item = item.map_err(|e| self.bad(from, &e.to_string()))?;
            let rel = item.path().strip_prefix(from).expect("under its root");
            let dest = self.onto.join(rel);
            let there = std::fs::symlink_metadata(&dest).ok().map(|m| m.file_type());
            let dir_there = there.is_some_and(|t| t.is_dir());
            if item.file_type().is_dir() {
                match there {
                    None => guarded(|| std::fs::create_dir(&dest))
                        .map_err(|e| AuditError::io(&dest, e))?,
                    Some(_) if dir_there => {}
                    Some(_) => {
                        return Err(self.bad(
                            rel,
                            "a directory here, and a file or symlink of an earlier layer",
                        ))
                    }
                }
                continue;
            }
            if dir_there {
                return Err(self.bad(
                    rel,
                    "a file or symlink here, and a directory of an earlier layer",
                ));
            }
            // Under the lock the signal handler's removal holds, as every
            // step that creates a path in a private directory.
            let kind = item.file_type();
            guarded(|| take_file(item.path(), kind, rel, &dest, there.is_some(), take))?;
            self.origin
                .insert(rel.to_string_lossy().into_owned(), self.layer);
        }
        Ok(())
    }

    fn bad(&self, rel: &Path, why: &str) -> AuditError {
        AuditError::Usage(format!(
            "--with-layer {}: {}: {why}",
            shown(self.named),
            shown(rel)
        ))
    }
}

/// Puts the file or symlink `source` at `dest`, replacing what is there
/// (`replaced`): a copy removes it first, so a copy is never written
/// through an earlier layer's symlink.
fn take_file(
    source: &Path,
    kind: FileType,
    rel: &Path,
    dest: &Path,
    replaced: bool,
    take: Take,
) -> Result<()> {
    let io = |e| AuditError::io(dest, e);
    match take {
        // rename(2) replaces a file or symlink in one step.
        Take::Move => std::fs::rename(source, dest).map_err(io),
        Take::Copy => {
            if replaced {
                std::fs::remove_file(dest).map_err(io)?;
            }
            if kind.is_symlink() {
                let target = std::fs::read_link(source).map_err(|e| AuditError::io(source, e))?;
                // A link under /opt: relative, never to the machine's /opt.
                let in_opt = target.to_str().and_then(|t| lexical::opt_relative(rel, t));
                std::os::unix::fs::symlink(in_opt.unwrap_or(target), dest).map_err(io)
            } else {
                std::fs::copy(source, dest).map(drop).map_err(io)
            }
        }
    }
}
