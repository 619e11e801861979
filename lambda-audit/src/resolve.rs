//! Resolving an artifact's `DT_NEEDED` closure as the runtime's loader would.
//!
//! The order follows glibc's ld.so(8): a name already loaded is reused; a name
//! with a slash is a path; otherwise `DT_RPATH` of the object and of the
//! objects that loaded it (only when the object has no `DT_RUNPATH`), then
//! `LD_LIBRARY_PATH`, then the object's `DT_RUNPATH`, then the default
//! directories (skipped under `DF_1_NODEFLIB`). `$ORIGIN`, `$LIB` and
//! `$PLATFORM` are expanded. A candidate of another ELF class or machine is
//! skipped, as the loader skips it. Dependencies are loaded breadth first, and
//! the host process (the Python interpreter) and its libraries come first.
//!
//! Files come from two places: the runtime's libraries (the profile) and the
//! function's package, whose directory on this machine is mapped onto the
//! runtime's task root (`/var/task`). Nothing here reads the runtime's disk.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::elf::{read_elf, Arch, ElfFacts};
use crate::error::{AuditError, Result};
use crate::lexical::{normal, normalize, normalized};
use crate::profile::Profile;

/// Which search rule found a library (libtree's "which rule" column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "rule")]
pub enum Rule {
    /// The file being audited.
    Artifact,
    /// The process that loads the artifact (the interpreter).
    HostProgram,
    /// Already loaded under this name (by the host or earlier in the closure).
    AlreadyLoaded,
    /// `DT_NEEDED` held a path.
    Path,
    /// `DT_RPATH` of the object or of an object that loaded it.
    Rpath {
        owner: String,
    },
    LdLibraryPath,
    Runpath,
    DefaultDirs,
}

impl Rule {
    pub fn describe(&self) -> String {
        match self {
            Rule::Artifact => "the artifact".into(),
            Rule::HostProgram => "the host program".into(),
            Rule::AlreadyLoaded => "already loaded".into(),
            Rule::Path => "path in DT_NEEDED".into(),
            Rule::Rpath { owner } => format!("DT_RPATH of {}", owner),
            Rule::LdLibraryPath => "LD_LIBRARY_PATH".into(),
            Rule::Runpath => "DT_RUNPATH".into(),
            Rule::DefaultDirs => "default directories".into(),
        }
    }
}

/// Where a loaded object's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A library of the runtime profile (index into `profile.libraries`).
    Runtime(usize),
    /// A file on this machine: the artifact or a file of its package.
    Local(PathBuf),
    /// The host program, known only through the profile.
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Host,
    Artifact,
    Dependency,
}

#[derive(Debug)]
pub struct Object {
    pub runtime_path: String,
    pub soname: Option<String>,
    /// Names by which it was requested, its soname, and its path: what "already loaded" matches.
    pub names: Vec<String>,
    pub source: Source,
    /// Shared: an artifact's facts serve every profile of a matrix.
    pub facts: Option<Arc<ElfFacts>>,
    pub role: Role,
    pub rule: Rule,
    /// The object whose `DT_NEEDED` brought it in.
    pub needed_by: Option<usize>,
}

impl Object {
    /// The name to show: soname, else file name.
    pub fn display_name(&self) -> &str {
        self.soname.as_deref().unwrap_or_else(|| {
            self.runtime_path
                .rsplit('/')
                .next()
                .unwrap_or(&self.runtime_path)
        })
    }

    pub fn is_local(&self) -> bool {
        matches!(self.source, Source::Local(_))
    }
}

/// One `DT_NEEDED` entry and what became of it.
#[derive(Debug)]
pub struct Edge {
    pub from: usize,
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum Outcome {
    Found {
        object: usize,
        rule: Rule,
    },
    Missing {
        searched: Vec<String>,
        skipped: Vec<(String, String)>,
    },
    /// The first file of that name is not a loadable ELF object: the loader stops there.
    Broken {
        path: String,
        reason: String,
    },
}

#[derive(Debug)]
pub struct Closure {
    pub objects: Vec<Object>,
    pub edges: Vec<Edge>,
    pub artifact: usize,
}

impl Closure {
    /// The host program that `object` was loaded for, if it came in on the
    /// host's side (before the artifact): the host itself or its dependencies.
    pub fn loaded_by_host<'a>(&'a self, object: &'a Object) -> Option<&'a str> {
        let mut current = Some(object);
        while let Some(o) = current {
            match o.role {
                Role::Host => return Some(o.display_name()),
                Role::Artifact => return None,
                Role::Dependency => current = o.needed_by.map(|i| &self.objects[i]),
            }
        }
        None
    }

    pub fn edges_from(&self, from: usize) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.from == from)
    }
}

/// Where Lambda unpacks layers.
pub const LAYER_ROOT: &str = "/opt";

/// The function's package as the runtime sees it.
#[derive(Debug, Clone)]
pub struct TaskDir {
    /// The runtime's task root, `/var/task`.
    pub root: String,
    /// The package's directory on this machine, if there is one.
    pub local: Option<PathBuf>,
    /// The function's layers merged, as the runtime has them at /opt
    /// (`check --with-layer`), if any.
    layers: Option<PathBuf>,
    /// The package's shared libraries, listed and read once per TaskDir
    /// however many files are checked against it.
    packaged: std::sync::OnceLock<Vec<PackagedLibrary>>,
    /// File name or soname -> indices into the packaged libraries.
    packaged_by_name: std::sync::OnceLock<HashMap<String, Vec<usize>>>,
}

/// A shared library in the package directory.
#[derive(Debug, Clone)]
pub struct PackagedLibrary {
    /// Its file name.
    pub name: String,
    pub path: PathBuf,
    pub canonical: PathBuf,
    pub soname: Option<String>,
}

impl TaskDir {
    /// The task root of `profile`, with the package directory `package`.
    pub fn new(root: &str, package: Option<&Path>) -> TaskDir {
        TaskDir {
            root: root.to_string(),
            local: package.map(canonical),
            layers: None,
            packaged: std::sync::OnceLock::new(),
            packaged_by_name: std::sync::OnceLock::new(),
        }
    }

    /// This task directory with the directory `layers` at /opt: the
    /// function's layers, merged as Lambda extracts them.
    pub fn with_layers(mut self, layers: &Path) -> TaskDir {
        self.layers = Some(canonical(layers));
        self
    }

    /// Each local directory with the runtime directory it is seen at: the
    /// package at the task root, then the layers at /opt.
    fn mounts(&self) -> impl Iterator<Item = (&str, &Path)> {
        let package = self.local.iter().map(|l| (self.root.as_str(), l.as_path()));
        let layers = self.layers.iter().map(|l| (LAYER_ROOT, l.as_path()));
        package.chain(layers)
    }

    /// The packaged libraries whose file name or soname is `name`.
    pub fn packaged_named(&self, name: &str) -> &[usize] {
        let index = self.packaged_by_name.get_or_init(|| {
            let mut index: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, library) in self.packaged_libraries().iter().enumerate() {
                index.entry(library.name.clone()).or_default().push(i);
                if let Some(soname) = library.soname.as_ref().filter(|s| **s != library.name) {
                    index.entry(soname.clone()).or_default().push(i);
                }
            }
            index
        });
        index.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every regular file named like a shared object (`*.so*`) under the
    /// package directory, sorted, with its soname.
    pub fn packaged_libraries(&self) -> &[PackagedLibrary] {
        self.packaged.get_or_init(|| {
            self.mounts()
                .flat_map(|(_, local)| {
                    walkdir::WalkDir::new(local)
                        .follow_links(false)
                        .sort_by_file_name()
                })
                .flatten()
                .filter(|entry| entry.file_type().is_file())
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !name.contains(".so") {
                        return None;
                    }
                    let path = entry.path().to_path_buf();
                    Some(PackagedLibrary {
                        canonical: std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone()),
                        soname: read_elf(&path).ok().and_then(|f| f.soname),
                        name,
                        path,
                    })
                })
                .collect()
        })
    }

    fn local_file(&self, runtime_path: &str) -> Option<PathBuf> {
        self.mounts().find_map(|(root, local)| {
            let rel = runtime_path.strip_prefix(root)?.strip_prefix('/')?;
            let candidate = local.join(rel);
            candidate.is_file().then_some(candidate)
        })
    }

    /// The runtime path of a file under the local package directory (or
    /// the layers').
    pub fn runtime_path_of(&self, file: &Path) -> Option<String> {
        self.mounts().find_map(|(root, local)| {
            let rel = file.strip_prefix(local).ok()?;
            Some(joined(root, &rel.to_string_lossy()))
        })
    }
}

/// `path` canonical, or as it is if it cannot be (it is then compared as given).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Resolves the closure of `artifact`, given the profile and the package directory.
pub fn resolve(
    profile: &Profile,
    task: &TaskDir,
    artifact: &Path,
    artifact_facts: Arc<ElfFacts>,
) -> Result<Closure> {
    let arch = profile.arch().unwrap_or(Arch::X86_64);
    let mut resolver = Resolver {
        profile,
        task,
        arch,
        by_path: library_paths(profile),
        local_facts: FxHashMap::default(),
        objects: Vec::new(),
        edges: Vec::new(),
    };

    let mut queue = VecDeque::new();
    if let Some(host) = &profile.host {
        resolver.objects.push(Object {
            runtime_path: host.executable.clone(),
            soname: None,
            // Its own libraries already loaded answer to their sonames.
            names: std::iter::once(&host.executable)
                .chain(&host.loaded)
                .cloned()
                .collect(),
            source: Source::Host,
            facts: None,
            role: Role::Host,
            rule: Rule::HostProgram,
            needed_by: None,
        });
        queue.push_back(0);
        resolver.run(&mut queue)?;
    }

    let canonical = std::fs::canonicalize(artifact).unwrap_or_else(|_| artifact.to_path_buf());
    // Where the runtime opens it: a symlink in the package by its own path
    // (a module is imported by the link's name, and $ORIGIN is the link's
    // directory, as glibc takes the name it opened).
    let runtime_path = task
        .runtime_path_of(artifact)
        .or_else(|| task.runtime_path_of(&canonical))
        .unwrap_or_else(|| {
            let file = artifact
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{}/{}", task.root, file)
        });
    let soname = artifact_facts.soname.clone();
    let mut names = vec![runtime_path.clone()];
    names.extend(soname.clone());
    let artifact_index = resolver.objects.len();
    resolver
        .local_facts
        .insert(canonical.clone(), artifact_index);
    resolver.objects.push(Object {
        runtime_path,
        soname,
        names,
        source: Source::Local(canonical),
        facts: Some(artifact_facts),
        role: Role::Artifact,
        rule: Rule::Artifact,
        needed_by: None,
    });
    queue.push_back(artifact_index);
    resolver.run(&mut queue)?;

    Ok(Closure {
        objects: resolver.objects,
        edges: resolver.edges,
        artifact: artifact_index,
    })
}

/// Each path of the profile's libraries, normalized, to the first library
/// it reaches. The paths a profile lists are already normal, so the index
/// borrows them: building it costs a hash of each, not a copy.
fn library_paths(profile: &Profile) -> FxHashMap<Cow<'_, str>, usize> {
    let paths = profile.libraries.iter().map(|l| l.paths.len()).sum();
    let mut by_path = FxHashMap::with_capacity_and_hasher(paths, Default::default());
    for (index, lib) in profile.libraries.iter().enumerate() {
        for path in &lib.paths {
            by_path.entry(normalized(path)).or_insert(index);
        }
    }
    by_path
}

struct Resolver<'a> {
    profile: &'a Profile,
    task: &'a TaskDir,
    arch: Arch,
    by_path: FxHashMap<Cow<'a, str>, usize>,
    /// Local files already loaded, by canonical path (the loader's inode check).
    local_facts: FxHashMap<PathBuf, usize>,
    objects: Vec<Object>,
    edges: Vec<Edge>,
}

/// Why a candidate file was not loaded.
enum Skip {
    /// The loader passes over it (another ELF class or machine) and searches on.
    Continue(String),
    /// The loader gives up on the name ("invalid ELF header", "file too short").
    Stop(String),
}

enum Candidate {
    Runtime(usize),
    Local(PathBuf),
}

impl<'a> Resolver<'a> {
    fn run(&mut self, queue: &mut VecDeque<usize>) -> Result<()> {
        while let Some(index) = queue.pop_front() {
            for name in self.needed_of(index) {
                let outcome = self.resolve_one(index, &name, queue);
                self.edges.push(Edge {
                    from: index,
                    name,
                    outcome,
                });
            }
        }
        Ok(())
    }

    fn needed_of(&self, index: usize) -> Vec<String> {
        let object = &self.objects[index];
        match (&object.source, &object.facts) {
            (_, Some(facts)) => facts.needed.clone(),
            (Source::Runtime(lib), None) => self.profile.libraries[*lib].needed.clone(),
            (Source::Host, None) => self
                .profile
                .host
                .as_ref()
                .map(|h| h.needed.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn resolve_one(&mut self, from: usize, name: &str, queue: &mut VecDeque<usize>) -> Outcome {
        if let Some(loaded) = self
            .objects
            .iter()
            .position(|o| o.names.iter().any(|n| n == name))
        {
            return Outcome::Found {
                object: loaded,
                rule: Rule::AlreadyLoaded,
            };
        }
        // A name with a slash is a path: one try, at that path.
        let tries: Vec<(Cow<str>, Rule)> = if name.contains('/') {
            let path = if name.starts_with('/') {
                normalize(name)
            } else {
                joined(&self.task.root, name)
            };
            vec![(Cow::Owned(path), Rule::Path)]
        } else {
            self.search_dirs(from)
        };
        let mut skipped = Vec::new();
        // Most tries find nothing: each one's path is made in one buffer,
        // and kept only if the finding names it.
        let mut buffer = String::with_capacity(256);
        for (place, rule) in &tries {
            let path = tried_path(place, name, &mut buffer);
            let Some(candidate) = self.lookup(&path) else {
                continue;
            };
            match self.admit(candidate, &path, name, from, rule.clone()) {
                Ok((index, new)) => {
                    if new {
                        queue.push_back(index);
                    }
                    return Outcome::Found {
                        object: index,
                        rule: rule.clone(),
                    };
                }
                Err(Skip::Continue(reason)) => skipped.push((path.into_owned(), reason)),
                // glibc stops at a file that is not a loadable ELF object.
                Err(Skip::Stop(reason)) => {
                    return Outcome::Broken {
                        path: path.into_owned(),
                        reason,
                    }
                }
            }
        }
        // Every try was searched.
        let searched = tries
            .iter()
            .map(|(place, _)| tried_path(place, name, &mut String::new()).into_owned())
            .collect();
        Outcome::Missing { searched, skipped }
    }

    /// The directories to try, in the loader's order, each with its rule
    /// (the profile's own borrowed, not copied).
    fn search_dirs(&self, from: usize) -> Vec<(Cow<'a, str>, Rule)> {
        let mut chain = Vec::new();
        let mut at = Some(from);
        while let Some(o) = at {
            let object = &self.objects[o];
            let (rpath, runpath, nodeflib) = self.paths_of(o);
            chain.push(Loader {
                name: object.display_name(),
                path: &object.runtime_path,
                rpath,
                runpath,
                nodeflib,
            });
            at = object.needed_by;
        }
        search_order(
            &chain,
            &self.profile.ld_library_path,
            &self.profile.default_dirs,
            &|entry, path| self.expand(entry, path),
        )
    }

    /// An object's DT_RPATH, DT_RUNPATH and DF_1_NODEFLIB, from its file or, for the host, the profile.
    fn paths_of(&self, index: usize) -> (&[String], &[String], bool) {
        let object = &self.objects[index];
        match (&object.source, &object.facts) {
            (_, Some(f)) => (&f.rpath, &f.runpath, f.nodeflib),
            (Source::Host, None) => match &self.profile.host {
                Some(h) => (&h.rpath, &h.runpath, false),
                None => (&[], &[], false),
            },
            _ => (&[], &[], false),
        }
    }

    /// An entry expanded (see `expand_tokens`); relative entries are relative to the working directory, the task root.
    fn expand(&self, entry: &str, object_path: &str) -> String {
        let expanded = expand_tokens(entry, object_path, self.arch);
        if expanded.starts_with('/') {
            normal(expanded)
        } else {
            joined(&self.task.root, &expanded)
        }
    }

    fn lookup(&self, path: &str) -> Option<Candidate> {
        if let Some(local) = self.task.local_file(path) {
            return Some(Candidate::Local(local));
        }
        self.by_path.get(path).map(|i| Candidate::Runtime(*i))
    }

    /// Loads a candidate unless the loader would skip it; returns its object index.
    fn admit(
        &mut self,
        candidate: Candidate,
        path: &str,
        name: &str,
        from: usize,
        rule: Rule,
    ) -> std::result::Result<(usize, bool), Skip> {
        match candidate {
            Candidate::Runtime(lib) => {
                if let Some(existing) = self
                    .objects
                    .iter()
                    .position(|o| matches!(o.source, Source::Runtime(l) if l == lib))
                {
                    self.objects[existing].names.push(name.to_string());
                    return Ok((existing, false));
                }
                let library = &self.profile.libraries[lib];
                let mut names = vec![name.to_string(), path.to_string()];
                names.extend(library.soname.clone());
                self.objects.push(Object {
                    runtime_path: path.to_string(),
                    soname: library.soname.clone(),
                    names,
                    source: Source::Runtime(lib),
                    facts: None,
                    role: Role::Dependency,
                    rule,
                    needed_by: Some(from),
                });
                Ok((self.objects.len() - 1, true))
            }
            Candidate::Local(file) => {
                let canonical = std::fs::canonicalize(&file).unwrap_or(file.clone());
                if let Some(&existing) = self.local_facts.get(&canonical) {
                    self.objects[existing].names.push(name.to_string());
                    return Ok((existing, false));
                }
                let facts = read_elf(&file).map_err(|e| match &e {
                    // glibc's open_path searches on past a file it may not
                    // open (EACCES), and stops at any other failure.
                    AuditError::Io { source, .. }
                        if source.kind() == std::io::ErrorKind::PermissionDenied =>
                    {
                        Skip::Continue(e.to_string())
                    }
                    _ => Skip::Stop(e.to_string()),
                })?;
                if facts.arch != self.arch {
                    return Err(Skip::Continue(format!(
                        "wrong ELF class or machine ({})",
                        facts.arch.name()
                    )));
                }
                let mut names = vec![name.to_string(), path.to_string()];
                names.extend(facts.soname.clone());
                let index = self.objects.len();
                self.local_facts.insert(canonical.clone(), index);
                self.objects.push(Object {
                    runtime_path: path.to_string(),
                    soname: facts.soname.clone(),
                    names,
                    source: Source::Local(canonical),
                    facts: Some(Arc::new(facts)),
                    role: Role::Dependency,
                    rule,
                    needed_by: Some(from),
                });
                Ok((index, true))
            }
        }
    }
}

/// One object of a loading chain: what the search order needs of it.
pub struct Loader<'a> {
    /// How findings name it (the owner in `Rule::Rpath`).
    pub name: &'a str,
    /// Its path, for `$ORIGIN`.
    pub path: &'a str,
    pub rpath: &'a [String],
    pub runpath: &'a [String],
    pub nodeflib: bool,
}

/// The directories glibc's loader tries for a name that `chain[0]` needs,
/// in order, each with its rule: `chain` is the needing object, then the
/// object that loaded it, and so on up to the first. Without a DT_RUNPATH
/// of its own, the DT_RPATH of every object in the chain (inherited
/// DT_RPATH: how a wheel's `.libs` reach the libraries they need), then
/// `ld_library_path`, then its DT_RUNPATH, then `default_dirs` unless
/// DF_1_NODEFLIB. `expand` turns an entry of an object at a path into a
/// directory. `check` (the runtime) and `bundle` (this machine) both use it.
pub fn search_order<'d>(
    chain: &[Loader],
    ld_library_path: &'d [String],
    default_dirs: &'d [String],
    expand: &dyn Fn(&str, &str) -> String,
) -> Vec<(Cow<'d, str>, Rule)> {
    let Some(object) = chain.first() else {
        return Vec::new();
    };
    let rpaths: usize = chain.iter().map(|l| l.rpath.len()).sum();
    let mut dirs = Vec::with_capacity(
        rpaths + ld_library_path.len() + object.runpath.len() + default_dirs.len(),
    );
    if object.runpath.is_empty() {
        for loader in chain {
            for entry in loader.rpath {
                dirs.push((
                    Cow::Owned(expand(entry, loader.path)),
                    Rule::Rpath {
                        owner: loader.name.to_string(),
                    },
                ));
            }
        }
    }
    for dir in ld_library_path {
        dirs.push((Cow::Borrowed(dir.as_str()), Rule::LdLibraryPath));
    }
    for entry in object.runpath {
        dirs.push((Cow::Owned(expand(entry, object.path)), Rule::Runpath));
    }
    if !object.nodeflib {
        for dir in default_dirs {
            dirs.push((Cow::Borrowed(dir.as_str()), Rule::DefaultDirs));
        }
    }
    dirs
}

/// The loader's dynamic string tokens in a DT_RPATH or DT_RUNPATH entry:
/// `$ORIGIN` (the directory of the object at `object_path`, a runtime path),
/// `$LIB` and `$PLATFORM` (for `arch`), each also as `${…}`.
pub fn expand_tokens(entry: &str, object_path: &str, arch: Arch) -> String {
    let origin = object_path.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
    let lib = if arch.bits == 64 { "lib64" } else { "lib" };
    let platform = arch.name();
    let tokens = [
        ("ORIGIN", origin),
        ("LIB", lib),
        ("PLATFORM", platform.as_str()),
    ];
    let mut out = String::with_capacity(entry.len());
    let mut rest = entry;
    'scan: while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        for (name, value) in tokens {
            // `${NAME}`, or `$NAME` not followed by more of a name (glibc's
            // is_dst: `$ORIGINAL` is no token, and stays as it is).
            let braced = format!("{{{name}}}");
            let length = if after.starts_with(&braced) {
                Some(braced.len())
            } else if after.starts_with(name)
                && !after[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            {
                Some(name.len())
            } else {
                None
            };
            if let Some(length) = length {
                out.push_str(value);
                rest = &after[length..];
                continue 'scan;
            }
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The file a try of `resolve_one` looks at: `name` in the directory
/// `place`, normalized, made in `buffer`; for a name with a slash, `place`
/// is that file's path already.
fn tried_path<'b>(place: &'b str, name: &str, buffer: &'b mut String) -> Cow<'b, str> {
    if name.contains('/') {
        return Cow::Borrowed(place);
    }
    buffer.clear();
    buffer.push_str(place);
    buffer.push('/');
    buffer.push_str(name);
    let buffer: &'b String = buffer;
    normalized(buffer)
}

/// `dir/name`, normalized.
fn joined(dir: &str, name: &str) -> String {
    let mut path = String::with_capacity(dir.len() + 1 + name.len());
    path.push_str(dir);
    path.push('/');
    path.push_str(name);
    normal(path)
}

#[cfg(test)]
mod tests {
    use super::expand_tokens;
    use crate::elf::Arch;

    #[test]
    fn dynamic_string_tokens_expand_in_both_spellings() {
        assert_eq!(
            expand_tokens(
                "$ORIGIN/../${LIB}:${ORIGIN}/$PLATFORM",
                "/usr/bin/python3",
                Arch::X86_64
            ),
            "/usr/bin/../lib64:/usr/bin/x86_64"
        );
        assert_eq!(expand_tokens("lib", "/var/task/m.so", Arch::X86_64), "lib");
        // Not a token: a longer name, or an unknown one, stays as written.
        assert_eq!(
            expand_tokens(
                "$ORIGINAL/x:$ORIGIN_2:$FOO:$",
                "/var/task/m.so",
                Arch::X86_64
            ),
            "$ORIGINAL/x:$ORIGIN_2:$FOO:$"
        );
    }
}
