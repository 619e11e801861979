//! Which of a Node.js package's files its loader opens on a runtime: npm
//! packages ship prebuilt addons for many platforms and Node.js versions,
//! and the JavaScript that loads them picks the one for the running
//! platform, architecture, libc and NODE_MODULE_VERSION. The others are
//! never opened there, so they are not judged (docs/design.md, with the
//! loaders' rules in docs/runtime-facts.md §5b):
//! - a package whose `package.json` excludes the runtime by npm's `os`,
//!   `cpu` or `libc` fields (napi-rs's per-platform packages,
//!   `@scope/pkg-darwin-arm64`, `-linux-x64-musl`, `-win32-x64-msvc`): npm
//!   installs it only there, and its loader requires it only there;
//! - node-gyp-build's `prebuilds/<platform>-<arch>/<name>.<tags>.node`, in a
//!   package that depends on node-gyp-build: its `load.resolve` picks one
//!   file (or `build/Release`'s first `.node`, which wins over every
//!   prebuild), and a package where it finds none fails to load, which is
//!   named as its own error.
//!
//! Everything else (a `.node` outside these conventions) is judged as before.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::archive::Entry;
use crate::bounded;

/// The largest package.json read (as `npm`'s).
const MAX_MANIFEST: u64 = 1024 * 1024;

/// What a loader sees of the runtime: Node.js's `os.platform()` is
/// `linux`, its `os.arch()` this, glibc (no /etc/alpine-release), and the
/// runtime's `process.versions.modules`.
pub struct Target {
    /// `x64` or `arm64` (Node.js's names).
    pub arch: &'static str,
    pub abi: u32,
}

impl Target {
    /// The target of a runtime whose ELF architecture is `elf_arch`.
    pub fn new(elf_arch: &str, abi: u32) -> Target {
        let arch = if elf_arch == "aarch64" {
            "arm64"
        } else {
            "x64"
        };
        Target { arch, abi }
    }

    /// The N-API version of the runtime's Node.js (`process.versions.napi`):
    /// that of the release its profile was read from for each
    /// NODE_MODULE_VERSION (node-packages.json: 18.20.8 and 20.20.2 have 9,
    /// 22.23.5 and 24.22.3 have 10), the nearest below for another.
    pub fn napi(&self) -> u64 {
        match self.abi {
            ..=107 => 8,
            108..=126 => 9,
            _ => 10,
        }
    }

    /// `linux-x64, glibc, NODE_MODULE_VERSION 115 or N-API`.
    pub fn describe(&self) -> String {
        format!(
            "linux-{}, glibc, NODE_MODULE_VERSION {} or N-API",
            self.arch, self.abi
        )
    }
}

/// The files the loaders never open on the target, and the packages whose
/// loader finds no file for it.
#[derive(Default)]
pub struct Choice {
    /// Path in the package (`Entry::name`) -> why it is never opened.
    pub never_opened: BTreeMap<String, String>,
    /// Package directory (`""` for the root) -> why its loader fails.
    pub no_variant: BTreeMap<String, String>,
    /// The packages of `no_variant` whose main module falls back to
    /// JavaScript when the loader throws: they run without the addon.
    pub fallback: BTreeSet<String>,
}

impl Choice {
    /// Whether no loader claimed anything.
    pub fn is_empty(&self) -> bool {
        self.never_opened.is_empty() && self.no_variant.is_empty()
    }
}

#[derive(Deserialize, Default)]
struct Manifest {
    #[serde(default)]
    name: Value,
    #[serde(default)]
    os: Value,
    #[serde(default)]
    cpu: Value,
    #[serde(default)]
    libc: Value,
    #[serde(default)]
    dependencies: Value,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Value,
    #[serde(default)]
    version: Value,
    #[serde(default)]
    main: Value,
    /// @mapbox/node-pre-gyp's configuration (`module_name`, `module_path`, …).
    #[serde(default)]
    binary: Value,
}

impl Manifest {
    fn read(file: &Path) -> Option<Manifest> {
        let text = bounded::read_small_file(file, MAX_MANIFEST).ok()?;
        serde_json::from_slice(&text).ok()
    }

    fn depends_on(&self, package: &str) -> bool {
        [&self.dependencies, &self.optional_dependencies]
            .iter()
            .any(|deps| deps.get(package).is_some())
    }

    /// Why npm's `os`, `cpu` or `libc` field excludes the target, if one does.
    fn excludes(&self, target: &Target) -> Option<String> {
        [
            ("os", &self.os, "linux"),
            ("cpu", &self.cpu, target.arch),
            ("libc", &self.libc, "glibc"),
        ]
        .into_iter()
        .find(|(_, field, value)| !npm_allows(field, value))
        .map(|(name, field, _)| format!("its package.json has \"{name}\": {field}"))
    }
}

/// npm's rule for `os`, `cpu` and `libc` (npm-install-checks' `checkList`):
/// a string is a list of one, `["any"]` allows all, a value listed as
/// `!value` is denied, and otherwise it must be listed unless every entry
/// is a negation. A field that is neither restricts nothing.
fn npm_allows(field: &Value, value: &str) -> bool {
    let names: Vec<&str> = match field {
        Value::String(one) => vec![one.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    if names == ["any"] {
        return true;
    }
    let mut negated = 0;
    let mut listed = false;
    for name in &names {
        match name.strip_prefix('!') {
            Some(denied) if denied == value => return false,
            Some(_) => negated += 1,
            None => listed |= *name == value,
        }
    }
    listed || negated == names.len()
}

/// What the loaders' choice reads of a package whatever the runtime, made
/// once so that the runtimes of a matrix share it (`package::Package`
/// keeps it): every package.json (by its directory in the package), its
/// files' names, its directories' listing, and where each package's
/// optional dependencies are installed.
pub struct Manifests {
    /// The directories holding a package.json (`""` the root), in the entries' order.
    dirs: Vec<String>,
    /// Each of those directories' package.json (none if it could not be read).
    manifests: HashMap<String, Option<Manifest>>,
    /// Every file's path in the package (`Entry::name`).
    files: HashSet<String>,
    listing: Listing,
    /// The package owning each ELF file of the entries (in their order):
    /// its directory, if it has one.
    owners: Vec<Option<String>>,
    /// The packages with `optionalDependencies` (their directories, in
    /// `dirs`' order), each with where its dependencies are installed.
    optional: Vec<(String, Vec<Installed>)>,
}

/// An optional dependency's name and the directory node's `require` finds
/// it in, if npm installed it (`installed_dir`).
type Installed = (String, Option<String>);

impl Manifests {
    /// The package.json files of `entries` (a package unpacked at `root`),
    /// each read once (one that cannot be read or parsed is kept as none),
    /// the names of its files, their directories' listing, and the package
    /// owning each ELF file.
    pub fn read(root: &Path, entries: &[Entry]) -> Manifests {
        let dirs: Vec<String> = package_dirs(entries).map(String::from).collect();
        let manifests = dirs
            .iter()
            .map(|dir| {
                let manifest = Manifest::read(&root.join(join(dir, "package.json")));
                (dir.clone(), manifest)
            })
            .collect();
        let mut read = Manifests {
            dirs,
            manifests,
            files: entries.iter().map(|e| e.name.clone()).collect(),
            listing: Listing::new(entries.iter().map(|e| e.name.as_str())),
            owners: Vec::new(),
            optional: Vec::new(),
        };
        let elf = entries.iter().filter(|e| e.elf);
        read.owners = elf.map(|e| read.owner(&e.name).map(String::from)).collect();
        read.optional = read
            .dirs()
            .filter_map(|dir| {
                let deps = read.get(dir)?.optional_dependencies.as_object()?;
                let installed = deps
                    .keys()
                    .map(|dep| (dep.clone(), installed_dir(&read.files, dir, dep)))
                    .collect();
                Some((dir.to_string(), installed))
            })
            .collect();
        read
    }

    /// The nearest package.json above `file` that names a package (npm's
    /// package: a nested one may only set options, as in `npm`): its directory.
    fn owner<'f>(&self, file: &'f str) -> Option<&'f str> {
        let dirs = file.match_indices('/').rev().map(|(i, _)| &file[..i]);
        dirs.chain(std::iter::once(""))
            .find(|dir| self.get(dir).is_some_and(|m| m.name.is_string()))
    }

    /// The directories holding a package.json, as `package_dirs` of the entries.
    fn dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs.iter().map(String::as_str)
    }

    /// The package.json in `dir` (a directory in the package, `""` the root), if one was read.
    fn get(&self, dir: &str) -> Option<&Manifest> {
        self.manifests.get(dir).and_then(Option::as_ref)
    }
}

/// The files of `entries` (a package unpacked at `root`, its package.json
/// files read as `manifests`) that the loaders never open on `target`, and
/// the packages with no file for it.
pub fn choose(root: &Path, entries: &[Entry], manifests: &Manifests, target: &Target) -> Choice {
    let files = &manifests.files;
    let mut choice = Choice::default();
    // Each package's ELF files (the package directory, `""` for the root).
    let mut owned: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let elf = entries.iter().filter(|e| e.elf);
    for (entry, owner) in elf.zip(&manifests.owners) {
        let Some(owner) = owner.as_deref() else {
            continue;
        };
        let read = manifests.get(owner);
        if let Some(why) = read.and_then(|m| m.excludes(target)) {
            choice.never_opened.insert(entry.name.clone(), why);
            continue;
        }
        owned
            .entry(owner.to_string())
            .or_default()
            .push(&entry.name);
    }
    platform_packages(manifests, target, &mut choice);
    let listing = &manifests.listing;
    for dir in manifests.dirs() {
        let Some(manifest) = manifests.get(dir) else {
            continue;
        };
        let own: &[&str] = owned.get(dir).map_or(&[], Vec::as_slice);
        let (flavor, mut candidates) = if manifest.depends_on("node-gyp-build-optional-packages") {
            (Flavor::OptionalPackages, in_prebuilds(dir, own))
        } else if manifest.depends_on("node-gyp-build") {
            // node-gyp-build 3 (the version installed for the package) has its own layout.
            let installed = installed_dir(files, dir, "node-gyp-build")
                .and_then(|d| manifests.get(&d))
                .and_then(|m| m.version.as_str());
            let old = installed
                .is_some_and(|v| v.split('.').next().is_some_and(|m| m < "4" && m.len() == 1));
            let flavor = if old {
                Flavor::NodeGypBuild3
            } else {
                Flavor::NodeGypBuild
            };
            (flavor, in_prebuilds(dir, own))
        } else {
            if manifest.depends_on("require-addon") {
                require_addon(dir, manifest, own, files, target, &mut choice);
            } else if let Some(config) = PreGyp::of(manifest) {
                config.choose(dir, own, files, target, &mut choice);
            } else if manifest.depends_on("bindings") {
                bindings(dir, own, target, &mut choice);
            }
            continue;
        };
        // node-gyp-build-optional-packages: then the platform package's root (lmdb).
        let platform = (flavor == Flavor::OptionalPackages)
            .then(|| platform_package_of(manifest, target))
            .flatten()
            .and_then(|name| installed_dir(files, dir, &name));
        if let Some(platform) = &platform {
            let top = |f: &&&str| {
                f.strip_prefix(platform.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|rest| !rest.contains('/') && rest.ends_with(".node"))
            };
            candidates.extend(owned.get(platform).into_iter().flatten().filter(top));
        }
        // (The fork is the package's loader whatever it holds: one with no
        // file for the runtime, cbor-extract 2.2.3 whose platform packages
        // npm finds none of, fails.)
        if !candidates.is_empty() || flavor == Flavor::OptionalPackages {
            let found = Prebuilds {
                package: dir,
                listing,
                flavor,
                platform: platform.as_deref(),
            };
            found.choose(&candidates, target, &mut choice);
        }
    }
    let missing: Vec<String> = choice.no_variant.keys().cloned().collect();
    for dir in missing {
        let manifest = manifests.get(&dir);
        if let Some(manifest) = manifest {
            if falls_back(root, &dir, manifest) {
                if let Some(reason) = choice.no_variant.get_mut(&dir) {
                    reason.push_str("; its main module catches that and requires its JavaScript fallback instead: it runs without the addon");
                }
                choice.fallback.insert(dir);
            }
        }
    }
    choice
}

/// The largest main module read for a fallback.
const MAX_MAIN: u64 = 64 * 1024;

/// Whether the package's main module (`main`, else `index.js`) requires
/// its loader inside a `try` whose `catch` requires a module of its own, as
/// ws's bufferutil and utf-8-validate do (`try { module.exports =
/// require('node-gyp-build')(__dirname) } catch (e) { module.exports =
/// require('./fallback') }`): without an addon, it runs in JavaScript.
fn falls_back(root: &Path, package: &str, manifest: &Manifest) -> bool {
    let main = manifest.main.as_str().unwrap_or("index.js");
    let main = main.trim_start_matches("./");
    let candidates = [
        main.to_string(),
        format!("{main}.js"),
        format!("{main}/index.js"),
    ];
    let Some(text) = candidates.iter().find_map(|m| {
        let file = root.join(join(package, m));
        bounded::read_small_file(&file, MAX_MAIN).ok()
    }) else {
        return false;
    };
    let text = String::from_utf8_lossy(&text);
    let loaders = [
        "node-gyp-build",
        "node-gyp-build-optional-packages",
        "require-addon",
        "bindings",
    ];
    let call = loaders.iter().find_map(|l| {
        ['\'', '"']
            .iter()
            .find_map(|q| text.find(&format!("require({q}{l}{q})")))
    });
    let Some(call) = call else { return false };
    let Some(catch) = text[call..].find("catch").map(|c| call + c) else {
        return false;
    };
    text[..call].contains("try")
        && ["require('./", "require(\"./"]
            .iter()
            .any(|r| text[catch..].contains(r))
}

/// The directories of `entries` that hold a package.json (`""` the root).
fn package_dirs(entries: &[Entry]) -> impl Iterator<Item = &str> {
    entries.iter().filter_map(|e| {
        if e.name == "package.json" {
            Some("")
        } else {
            e.name.strip_suffix("/package.json")
        }
    })
}

/// The files of `own` (a package's ELF files) under its `prebuilds/`.
fn in_prebuilds<'f>(package: &str, own: &[&'f str]) -> Vec<&'f str> {
    own.iter()
        .copied()
        .filter(|f| {
            f[package.len()..]
                .trim_start_matches('/')
                .starts_with("prebuilds/")
        })
        .collect()
}

/// node-gyp-build-optional-packages' platform package of a package named
/// `name`: `@name/name-linux-x64` (`@scope/name-linux-x64` for a scoped one).
fn platform_package_of(manifest: &Manifest, target: &Target) -> Option<String> {
    let name = manifest.name.as_str()?;
    let scope = if name.starts_with('@') {
        String::new()
    } else {
        format!("@{name}/")
    };
    Some(format!("{scope}{name}-linux-{}", target.arch))
}

/// napi-rs's loaders (and esbuild's, sharp's, …): a package lists its
/// per-platform packages as `optionalDependencies`, npm installs the one
/// whose `os`, `cpu` and `libc` fit the machine, and the loader requires
/// it. A package whose installed platform packages are all for other
/// platforms (npm ran on another machine) has no variant for the runtime:
/// `no_variant`, named. One for `wasm32` is a loader's fallback (napi-rs's
/// WASI build): then nothing is claimed.
fn platform_packages(manifests: &Manifests, target: &Target, choice: &mut Choice) {
    for (dir, deps) in &manifests.optional {
        // The variant for the runtime it declares (`-linux-x64-gnu`,
        // `@esbuild/linux-x64`): without one, an optional dependency for
        // another platform is a feature (chokidar's fsevents), not its addon.
        let linux = format!("linux-{}", target.arch);
        let declared: Vec<&str> = deps
            .iter()
            .map(|(dep, _)| dep.as_str())
            .filter(|d| d.contains(&linux))
            .collect();
        if declared.is_empty() {
            continue;
        }
        let declared = declared.join(", ");
        let mut others = Vec::new();
        let mut fits = false;
        for (dep, installed) in deps {
            let Some(manifest) = installed.as_deref().and_then(|i| manifests.get(i)) else {
                continue;
            };
            if [&manifest.os, &manifest.cpu, &manifest.libc]
                .iter()
                .all(|f| f.is_null())
            {
                continue; // not a platform package
            }
            let wasm = !manifest.cpu.is_null() && npm_allows(&manifest.cpu, "wasm32");
            if wasm || manifest.excludes(target).is_none() {
                fits = true;
            } else {
                others.push(dep.as_str());
            }
        }
        if !fits && !others.is_empty() {
            choice.no_variant.insert(
                dir.clone(),
                format!(
                    "it declares {declared} for {}, which is not installed: its platform packages here ({}) are all for other platforms (npm installed it on another machine), so its loader finds no addon",
                    target.describe(),
                    others.join(", ")
                ),
            );
        }
    }
}

/// Where node's `require(dep)` from a package in `dir` finds `dep`: the
/// nearest `node_modules/dep` with a package.json, from `dir` up.
fn installed_dir(files: &HashSet<String>, dir: &str, dep: &str) -> Option<String> {
    let ancestors = dir.match_indices('/').rev().map(|(i, _)| &dir[..i]);
    std::iter::once(dir)
        .chain(ancestors)
        .chain(std::iter::once(""))
        .map(|up| join(&join(up, "node_modules"), dep))
        .find(|candidate| files.contains(join(candidate, "package.json").as_str()))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The package's directories: the names directly in each (a path in the
/// package, `""` for the root), sorted as libuv's scandir gives them to
/// `fs.readdirSync` (strcmp), each with whether it is a directory. Made once,
/// in time linear in the files' paths.
struct Listing(HashMap<String, BTreeSet<(String, bool)>>);

impl Listing {
    fn new<'f>(files: impl Iterator<Item = &'f str>) -> Listing {
        let mut dirs: HashMap<&str, BTreeSet<(&str, bool)>> = HashMap::new();
        for file in files {
            let (mut path, mut is_dir): (&str, bool) = (file, false);
            loop {
                let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
                let fresh = dirs.entry(dir).or_default().insert((name, is_dir));
                // A directory already listed was listed with its parents.
                if dir.is_empty() || !fresh && is_dir {
                    break;
                }
                (path, is_dir) = (dir, true);
            }
        }
        let owned = |names: BTreeSet<(&str, bool)>| {
            let names = names.into_iter();
            names
                .map(|(name, is_dir)| (name.to_string(), is_dir))
                .collect()
        };
        Listing(
            dirs.into_iter()
                .map(|(dir, names)| (dir.to_string(), owned(names)))
                .collect(),
        )
    }

    fn of(&self, dir: &str) -> Vec<(&str, bool)> {
        self.0
            .get(dir)
            .map(|names| {
                names
                    .iter()
                    .map(|(name, is_dir)| (name.as_str(), *is_dir))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// node-gyp-build's tags of a prebuild's file name (its `parseTags`).
#[derive(Default)]
struct Tags<'n> {
    file: &'n str,
    runtime: Option<&'n str>,
    napi: bool,
    abi: Option<&'n str>,
    uv: Option<&'n str>,
    armv: Option<&'n str>,
    libc: Option<&'n str>,
    specificity: usize,
}

fn parse_tags(file: &str) -> Option<Tags<'_>> {
    let (stem, extension) = file.rsplit_once('.').unwrap_or(("", file));
    if extension != "node" {
        return None;
    }
    let mut tags = Tags {
        file,
        ..Tags::default()
    };
    let parts = if file.contains('.') {
        stem.split('.').collect()
    } else {
        Vec::new()
    };
    for tag in parts {
        if matches!(tag, "node" | "electron" | "node-webkit") {
            tags.runtime = Some(tag);
        } else if tag == "napi" {
            tags.napi = true;
        } else if let Some(abi) = tag.strip_prefix("abi") {
            tags.abi = Some(abi);
        } else if let Some(uv) = tag.strip_prefix("uv") {
            tags.uv = Some(uv);
        } else if let Some(armv) = tag.strip_prefix("armv") {
            tags.armv = Some(armv);
        } else if matches!(tag, "glibc" | "musl") {
            tags.libc = Some(tag);
        } else {
            continue;
        }
        tags.specificity += 1;
    }
    Some(tags)
}

/// The two loaders of `prebuilds/`: node-gyp-build (4.x) and its fork
/// node-gyp-build-optional-packages (5.x, lmdb's and msgpackr-extract's),
/// which takes an `abi` tag only when it is the runtime's and then looks
/// in a platform package (`@lmdb/lmdb-linux-x64`).
#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    NodeGypBuild,
    /// node-gyp-build 3: `prebuilds/linuxglibc-<arch>/`, then
    /// `prebuilds/linux-<arch>/` (each also with `-v8` first on arm64),
    /// and in each `node-<ABI>.node`, else `node-napi.node`.
    NodeGypBuild3,
    OptionalPackages,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::NodeGypBuild => "node-gyp-build",
            Flavor::NodeGypBuild3 => "node-gyp-build 3",
            Flavor::OptionalPackages => "node-gyp-build-optional-packages",
        }
    }
}

/// node-gyp-build's `matchTags('node', abi)`: libuv 1 (every Node.js
/// since 0.12), ARMv8 on arm64 and none on x64, glibc. (The fork: a file
/// without an `abi` tag matches only with `napi`.)
fn matches(tags: &Tags, target: &Target, flavor: Flavor) -> bool {
    let abi = target.abi.to_string();
    let armv = if target.arch == "arm64" { "8" } else { "" };
    let agnostic = tags.runtime == Some("node") && tags.napi;
    let other_abi = match flavor {
        Flavor::NodeGypBuild | Flavor::NodeGypBuild3 => {
            tags.abi.is_some_and(|a| !a.is_empty() && a != abi)
        }
        Flavor::OptionalPackages => tags.abi != Some(abi.as_str()),
    };
    !(tags.runtime.is_some_and(|r| r != "node") && !agnostic
        || other_abi && !tags.napi
        || tags.uv.is_some_and(|u| !u.is_empty() && u != "1")
        || tags.armv.is_some_and(|a| !a.is_empty() && a != armv)
        || tags.libc.is_some_and(|l| l != "glibc"))
}

/// node-gyp-build's `compareTags('node')`: its own runtime first, then a
/// file with an ABI tag, then the more specific.
fn compare(a: &Tags, b: &Tags) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    if a.runtime != b.runtime {
        if a.runtime == Some("node") {
            Less
        } else {
            Greater
        }
    } else if a.abi != b.abi {
        if a.abi.is_some_and(|a| !a.is_empty()) {
            Less
        } else {
            Greater
        }
    } else {
        b.specificity.cmp(&a.specificity)
    }
}

/// A package loaded by node-gyp-build or its fork.
struct Prebuilds<'a> {
    /// The package's directory (`""` for the root).
    package: &'a str,
    listing: &'a Listing,
    flavor: Flavor,
    /// The fork's platform package, where it is installed.
    platform: Option<&'a str>,
}

impl Prebuilds<'_> {
    /// `resolveFile(dir)`: the best-matching `.node` file directly in `dir`.
    fn resolve_file(&self, dir: &str, target: &Target) -> Option<String> {
        let mut candidates: Vec<Tags> = self
            .listing
            .of(dir)
            .into_iter()
            .filter(|(_, is_dir)| !is_dir)
            .filter_map(|(name, _)| parse_tags(name))
            .filter(|tags| matches(tags, target, self.flavor))
            .collect();
        candidates.sort_by(compare);
        candidates.first().map(|t| join(dir, t.file))
    }

    /// `load.resolve(package)` on the target: the file it requires, and the
    /// directory it was chosen in (whose other files are libraries beside it).
    fn resolve(&self, target: &Target) -> (Option<String>, Option<String>) {
        let built = ["build/Release", "build/Debug"].iter().find_map(|dir| {
            let dir = join(self.package, dir);
            let first = self
                .listing
                .of(&dir)
                .into_iter()
                .find(|(name, is_dir)| name.ends_with(".node") && !*is_dir)?;
            Some(format!("{dir}/{}", first.0))
        });
        if built.is_some() {
            return (built, None);
        }
        let prebuilds = join(self.package, "prebuilds");
        if self.flavor == Flavor::NodeGypBuild3 {
            return self.resolve_3(&prebuilds, target);
        }
        let tuple = self
            .listing
            .of(&prebuilds)
            .into_iter()
            .filter(|(name, is_dir)| *is_dir && tuple_matches(name, target.arch))
            .min_by_key(|(name, _)| {
                name.split_once('-')
                    .map_or(0, |(_, a)| a.split('+').count())
            });
        if let Some((tuple, _)) = tuple {
            let dir = format!("{prebuilds}/{tuple}");
            // A tuple with no matching file ends the search (its `resolve`
            // returns nothing, then node's own directory, then the package).
            if let Some(file) = self.resolve_file(&dir, target) {
                return (Some(file), Some(dir));
            }
        }
        match self.platform {
            Some(platform) => (
                self.resolve_file(platform, target),
                Some(platform.to_string()),
            ),
            None => (None, None),
        }
    }

    /// node-gyp-build 3's `load.path` after `build/`: its directory names
    /// from the most specific, and in each the file for the ABI, else N-API's.
    fn resolve_3(&self, prebuilds: &str, target: &Target) -> (Option<String>, Option<String>) {
        let arch = target.arch;
        let mut names = vec![format!("linux-{arch}"), format!("linuxglibc-{arch}")];
        if arch == "arm64" {
            names.extend([format!("linux-{arch}-v8"), format!("linuxglibc-{arch}-v8")]);
        }
        for name in names.iter().rev() {
            let dir = format!("{prebuilds}/{name}");
            let listed = self.listing.of(&dir);
            for wanted in [format!("node-{}.node", target.abi), "node-napi.node".into()] {
                if listed.iter().any(|(n, is_dir)| *n == wanted && !is_dir) {
                    return (Some(format!("{dir}/{wanted}")), Some(dir));
                }
            }
        }
        (None, None)
    }

    /// Notes every file of `candidates` (the package's ELF files under
    /// `prebuilds/`, the platform package's `.node` files) that the loader
    /// does not open, and a package where it finds none as `no_variant`.
    fn choose(&self, candidates: &[&str], target: &Target, choice: &mut Choice) {
        let (winner, chosen_dir) = self.resolve(target);
        let loader = self.flavor.name();
        for file in candidates {
            if Some(*file) == winner.as_deref() {
                continue;
            }
            let in_chosen = chosen_dir.as_deref().is_some_and(|d| {
                file.strip_prefix(d)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|rest| !rest.contains('/') && !rest.ends_with(".node"))
            });
            if in_chosen {
                continue; // a library beside the chosen addon: judged as before
            }
            let why = match &winner {
                Some(w) => format!(
                    "{loader} loads {} on {}",
                    w.strip_prefix(self.package)
                        .unwrap_or(w)
                        .trim_start_matches('/'),
                    target.describe()
                ),
                None => format!("{loader} finds no prebuild for {}", target.describe()),
            };
            choice.never_opened.insert(file.to_string(), why);
        }
        if winner.is_some() {
            return;
        }
        let prebuilds = join(self.package, "prebuilds");
        let shipped: Vec<&str> = self
            .listing
            .of(&prebuilds)
            .into_iter()
            .filter(|(_, is_dir)| *is_dir)
            .map(|(name, _)| name)
            .collect();
        let platform = match self.platform {
            Some(p) => format!(", nor in its platform package {p}"),
            None => String::new(),
        };
        choice.no_variant.insert(
            self.package.to_string(),
            format!(
                "{loader} finds no prebuild for {} in {} (it has {}){platform} and no build/Release/*.node, so require() throws \"No native build was found\"",
                target.describe(),
                prebuilds,
                if shipped.is_empty() { "none".to_string() } else { shipped.join(", ") }
            ),
        );
    }
}

/// A package loaded by holepunch's require-addon (sodium-native 4,
/// udx-native): bare-addon-resolve's `directory` tries, in `prebuilds/`
/// of the package and of each directory above it,
/// `<host>/<name>@<version>.node`, then `<host>/<name>.node` (`host`
/// `linux-x64`; `name` the package's, `/` as `__`, without `@`). The
/// package's other files under `prebuilds/` (other hosts, Bare's `.bare`
/// builds) are never opened; with none, it throws "Cannot find addon".
fn require_addon(
    package: &str,
    manifest: &Manifest,
    own: &[&str],
    files: &HashSet<String>,
    target: &Target,
    choice: &mut Choice,
) {
    let Some(name) = manifest.name.as_str() else {
        return;
    };
    let name = name.replace('/', "__");
    let name = name.strip_prefix('@').unwrap_or(&name);
    let host = format!("linux-{}", target.arch);
    let mut wanted = Vec::new();
    if let Some(version) = manifest.version.as_str() {
        wanted.push(format!("{host}/{name}@{version}.node"));
    }
    wanted.push(format!("{host}/{name}.node"));
    let scopes = package.match_indices('/').rev().map(|(i, _)| &package[..i]);
    let winner = std::iter::once(package)
        .chain(scopes)
        .chain((!package.is_empty()).then_some(""))
        .flat_map(|dir| wanted.iter().map(move |w| join(&join(dir, "prebuilds"), w)))
        .find(|file| files.contains(file.as_str()));
    let shown = |file: &str| file[package.len()..].trim_start_matches('/').to_string();
    for file in in_prebuilds(package, own) {
        if Some(file) != winner.as_deref() {
            let why = match &winner {
                Some(w) => format!("require-addon loads {} on {}", shown(w), target.describe()),
                None => format!("require-addon finds no addon for {}", target.describe()),
            };
            choice.never_opened.insert(file.to_string(), why);
        }
    }
    if winner.is_none() {
        choice.no_variant.insert(
            package.to_string(),
            format!(
                "require-addon finds no prebuilds/{} for {}, so require() throws \"Cannot find addon\"",
                wanted.join(" or prebuilds/"),
                target.describe()
            ),
        );
    }
}

/// A package loaded by @mapbox/node-pre-gyp (`binary.find(package.json)`):
/// its package.json's `binary.module_name` and `binary.module_path`.
struct PreGyp<'m> {
    manifest: &'m Manifest,
    module_name: &'m str,
    module_path: &'m str,
}

impl<'m> PreGyp<'m> {
    /// The package's node-pre-gyp configuration, if it depends on the
    /// loader (`@mapbox/node-pre-gyp`, or `node-pre-gyp`, its old name).
    fn of(manifest: &'m Manifest) -> Option<PreGyp<'m>> {
        if !["@mapbox/node-pre-gyp", "node-pre-gyp"]
            .iter()
            .any(|loader| manifest.depends_on(loader))
        {
            return None;
        }
        Some(PreGyp {
            manifest,
            module_name: manifest.binary.get("module_name")?.as_str()?,
            module_path: manifest.binary.get("module_path")?.as_str()?,
        })
    }

    /// `napi.get_best_napi_build_version`: the highest of `binary.napi_versions`
    /// the runtime's N-API has; `Err` when it lists some and none fits
    /// (`validate_package_json` throws).
    fn napi_build_version(&self, target: &Target) -> Result<Option<u64>, String> {
        let Some(listed) = self
            .manifest
            .binary
            .get("napi_versions")
            .and_then(Value::as_array)
        else {
            return Ok(None);
        };
        let listed: Vec<u64> = listed.iter().filter_map(Value::as_u64).collect();
        match listed.iter().filter(|v| **v <= target.napi()).max() {
            Some(best) => Ok(Some(*best)),
            None if listed.is_empty() => Ok(None),
            None => Err(format!(
                "its binary.napi_versions ({}) are all newer than the runtime's N-API {}",
                listed
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                target.napi()
            )),
        }
    }

    /// `versioning.evaluate(...).module`: `module_path` with its
    /// placeholders filled in as on the target, `/module_name.node`, in the
    /// package. None when node-pre-gyp could not parse the version.
    fn module(&self, package: &str, target: &Target, napi_build: Option<u64>) -> Option<String> {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => "undefined".to_string(),
            other => other.to_string(),
        };
        let version = self.manifest.version.as_str()?;
        let version = version.trim().trim_start_matches(['v', '=']);
        let (version, build) = version.split_once('+').unwrap_or((version, ""));
        let (release, prerelease) = version.split_once('-').unwrap_or((version, ""));
        let numbers: Vec<&str> = release.split('.').collect();
        let [major, minor, patch] = numbers[..] else {
            return None;
        };
        if numbers.iter().any(|n| n.parse::<u64>().is_err()) {
            return None;
        }
        let node_abi = format!("node-v{}", target.abi);
        let binary = &self.manifest.binary;
        let napi_build = napi_build.map_or(String::new(), |v| v.to_string());
        let acl = binary
            .get("acl")
            .filter(|a| !a.is_null())
            .map_or("public-read".to_string(), text);
        // versioning.js's `opts`, in its order: eval_template replaces each key in turn.
        let opts: [(&str, String); 27] = [
            ("name", text(&self.manifest.name)),
            ("configuration", "Release".into()),
            ("debug", "undefined".into()),
            ("module_name", self.module_name.into()),
            ("version", version.into()),
            ("prerelease", prerelease.into()),
            ("build", build.into()),
            ("major", major.into()),
            ("minor", minor.into()),
            ("patch", patch.into()),
            ("runtime", "node".into()),
            ("node_abi", node_abi.clone()),
            ("node_abi_napi", "napi".into()),
            ("napi_version", target.napi().to_string()),
            ("napi_build_version", napi_build.clone()),
            (
                "node_napi_label",
                if napi_build.is_empty() {
                    node_abi
                } else {
                    format!("napi-v{napi_build}")
                },
            ),
            ("target", String::new()),
            ("platform", "linux".into()),
            ("target_platform", "linux".into()),
            ("arch", target.arch.into()),
            ("target_arch", target.arch.into()),
            ("libc", "glibc".into()),
            ("module_main", text(&self.manifest.main)),
            ("toolset", String::new()),
            ("bucket", text(binary.get("bucket").unwrap_or(&Value::Null))),
            ("region", text(binary.get("region").unwrap_or(&Value::Null))),
            ("acl", acl),
        ];
        let mut path = self.module_path.to_string();
        for (key, value) in &opts {
            path = path.replace(&format!("{{{key}}}"), value);
        }
        let module = format!("/{}/{path}/{}.node", package, self.module_name);
        Some(
            crate::lexical::normalize(&module)
                .trim_start_matches('/')
                .to_string(),
        )
    }

    /// Notes the package's other `<module_name>.node` files as never opened,
    /// and the package as `no_variant` when the file node-pre-gyp opens is
    /// not there.
    fn choose(
        &self,
        package: &str,
        own: &[&str],
        files: &HashSet<String>,
        target: &Target,
        choice: &mut Choice,
    ) {
        let napi_build = match self.napi_build_version(target) {
            Ok(found) => found,
            Err(why) => {
                choice.no_variant.insert(
                    package.to_string(),
                    format!(
                        "@mapbox/node-pre-gyp opens no addon on {}: {why}",
                        target.describe()
                    ),
                );
                return;
            }
        };
        let Some(module) = self.module(package, target, napi_build) else {
            return;
        };
        let shown = |file: &str| file[package.len()..].trim_start_matches('/').to_string();
        let file_name = format!("{}.node", self.module_name);
        let others: Vec<&str> = own
            .iter()
            .copied()
            .filter(|f| *f != module && f.rsplit('/').next() == Some(file_name.as_str()))
            .collect();
        for file in &others {
            choice.never_opened.insert(
                file.to_string(),
                format!(
                    "@mapbox/node-pre-gyp loads {} on {} (its binary.module_path {})",
                    shown(&module),
                    target.describe(),
                    self.module_path
                ),
            );
        }
        if !files.contains(module.as_str()) {
            let has = if others.is_empty() {
                "none".to_string()
            } else {
                others
                    .iter()
                    .map(|f| shown(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            choice.no_variant.insert(
                package.to_string(),
                format!(
                    "@mapbox/node-pre-gyp opens {} on {} (its binary.module_path {}), which is not there (it has {has}), so require() throws \"Cannot find module\"",
                    shown(&module),
                    target.describe(),
                    self.module_path
                ),
            );
        }
    }
}

/// The directories `bindings` (1.5.0, `defaults.try`) looks in for the
/// name its caller gives, from the package's root, in order; `{version}`
/// is Node.js's full version, `{abi}` its NODE_MODULE_VERSION.
const BINDINGS_TRY: [&str; 13] = [
    "build",
    "build/Debug",
    "build/Release",
    "out/Debug",
    "Debug",
    "out/Release",
    "Release",
    "build/default",
    "compiled/{version}/{platform}/{arch}",
    "addon-build/release/install-root",
    "addon-build/debug/install-root",
    "addon-build/default/install-root",
    "lib/binding/node-v{abi}-{platform}-{arch}",
];

/// Where `dir` (in the package) is in `bindings`' list on the target: its
/// place, `Err` with why when it is a place for another platform,
/// architecture or ABI, None when it is not in the list. A
/// `compiled/<version>/linux/<arch>` is placed: the runtime's patch
/// release is not known, so it is judged.
fn bindings_place(dir: &str, target: &Target) -> Option<Result<usize, String>> {
    let parts: Vec<&str> = dir.split('/').collect();
    BINDINGS_TRY
        .iter()
        .position(|t| *t == dir)
        .map(Ok)
        .or_else(|| match parts[..] {
            ["compiled", _, platform, arch] => {
                Some(if platform == "linux" && arch == target.arch {
                    Ok(8)
                } else {
                    Err(format!("for {platform}-{arch}"))
                })
            }
            ["lib", "binding", tuple] => {
                let ours = format!("node-v{}-linux-{}", target.abi, target.arch);
                let known = tuple.starts_with("node-v") && tuple.matches('-').count() >= 3;
                known.then(|| {
                    if tuple == ours {
                        Ok(12)
                    } else {
                        Err(format!("for {tuple}"))
                    }
                })
            }
            _ => None,
        })
}

/// A package loaded by `bindings`: of its `.node` files of one name in the
/// places `bindings` tries, it requires the first; the others, and those
/// in places for other platforms or ABIs, are never opened. (The name is
/// the caller's argument, not known here: each name is taken apart.)
fn bindings(package: &str, own: &[&str], target: &Target, choice: &mut Choice) {
    let mut first: HashMap<&str, (usize, &str)> = HashMap::new();
    let mut placed = Vec::new();
    for file in own.iter().copied().filter(|f| f.ends_with(".node")) {
        let inside = file[package.len()..].trim_start_matches('/');
        let (dir, name) = inside.rsplit_once('/').unwrap_or(("", inside));
        match bindings_place(dir, target) {
            None => {}
            Some(Err(why)) => {
                choice.never_opened.insert(
                    file.to_string(),
                    format!(
                        "bindings never looks there on {} (a build {why})",
                        target.describe()
                    ),
                );
            }
            Some(Ok(place)) => {
                placed.push((file, name, place));
                let best = first.entry(name).or_insert((place, file));
                if place < best.0 {
                    *best = (place, file);
                }
            }
        }
    }
    for (file, name, _) in placed {
        let (_, winner) = first[name];
        if file != winner {
            choice.never_opened.insert(
                file.to_string(),
                format!(
                    "bindings finds {} first on {}",
                    winner[package.len()..].trim_start_matches('/'),
                    target.describe()
                ),
            );
        }
    }
}

/// node-gyp-build's `parseTuple` and `matchTuple('linux', arch)`:
/// `linux-x64`, `linux-x64+arm64`.
fn tuple_matches(name: &str, arch: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let [platform, arches] = parts[..] else {
        return false;
    };
    let arches: Vec<&str> = arches.split('+').collect();
    platform == "linux" && arches.iter().all(|a| !a.is_empty()) && arches.contains(&arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::new("x86_64", 115)
    }

    fn winner(files: &[&str]) -> Option<String> {
        let mut candidates: Vec<Tags> = files
            .iter()
            .filter_map(|f| parse_tags(f))
            .filter(|t| matches(t, &target(), Flavor::NodeGypBuild))
            .collect();
        candidates.sort_by(compare);
        candidates.first().map(|t| t.file.to_string())
    }

    /// node-gyp-build's own test cases (its test.js), on node 20 x64 glibc.
    #[test]
    fn node_gyp_build_prefers_the_abi_build_then_the_most_specific() {
        assert_eq!(
            winner(&["node.napi.node", "node.abi115.node"]).as_deref(),
            Some("node.abi115.node")
        );
        assert_eq!(
            winner(&[
                "node.napi.node",
                "node.napi.glibc.node",
                "node.napi.musl.node"
            ])
            .as_deref(),
            Some("node.napi.glibc.node")
        );
        assert_eq!(
            winner(&[
                "node.abi108.node",
                "electron.napi.node",
                "node.napi.musl.node"
            ]),
            None
        );
        assert_eq!(
            winner(&["electron.napi.node", "node.napi.node"]).as_deref(),
            Some("node.napi.node")
        );
        assert_eq!(winner(&["addon.node"]).as_deref(), Some("addon.node"));
        assert!(tuple_matches("linux-x64", "x64"));
        assert!(tuple_matches("linux-arm64+x64", "x64"));
        assert!(!tuple_matches("linuxmusl-x64", "x64"));
        assert!(!tuple_matches("darwin-x64+arm64", "x64"));
        assert!(!tuple_matches("linux-x64-extra", "x64"));
    }

    #[test]
    fn the_listing_has_each_directorys_names_once() {
        let files = ["a/b/c.node", "a/b/d.node", "a/e", "f"];
        let listing = Listing::new(files.into_iter());
        assert_eq!(listing.of(""), vec![("a", true), ("f", false)]);
        assert_eq!(listing.of("a"), vec![("b", true), ("e", false)]);
        assert_eq!(
            listing.of("a/b"),
            vec![("c.node", false), ("d.node", false)]
        );
        assert!(listing.of("a/b/c.node").is_empty());
    }

    #[test]
    fn npm_os_and_cpu_fields_allow_and_deny() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert!(npm_allows(&v("null"), "linux"));
        assert!(npm_allows(&v(r#"["linux"]"#), "linux"));
        assert!(!npm_allows(&v(r#"["darwin"]"#), "linux"));
        assert!(!npm_allows(&v(r#"["!linux"]"#), "linux"));
        assert!(npm_allows(&v(r#"["!win32"]"#), "linux"));
        assert!(npm_allows(&v(r#""linux""#), "linux"));
        assert!(!npm_allows(&v(r#""darwin""#), "linux"));
        assert!(npm_allows(&v(r#"["any"]"#), "linux"));
        assert!(npm_allows(&v("[]"), "linux"));
    }
}
