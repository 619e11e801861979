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

/// The files of `entries` (a package unpacked at `root`) that the loaders
/// never open on `target`, and the packages with no file for it.
pub fn choose(root: &Path, entries: &[Entry], target: &Target) -> Choice {
    let files: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut manifests: HashMap<String, Option<Manifest>> = HashMap::new();
    let mut choice = Choice::default();
    let mut prebuilt: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for entry in entries.iter().filter(|e| e.elf) {
        // The nearest package.json above the file that names a package
        // (npm's package: a nested one may only set options, as in `npm`).
        let dirs = entry
            .name
            .match_indices('/')
            .rev()
            .map(|(i, _)| &entry.name[..i]);
        let mut owner = None;
        for dir in dirs.chain(std::iter::once("")) {
            let path = join(dir, "package.json");
            if !files.contains(path.as_str()) {
                continue;
            }
            let read = manifests
                .entry(path)
                .or_insert_with_key(|p| Manifest::read(&root.join(p)));
            if read.as_ref().is_some_and(|m| m.name.is_string()) {
                owner = Some(dir);
                break;
            }
        }
        let Some(owner) = owner else { continue };
        let read = manifests[&join(owner, "package.json")].as_ref();
        if let Some(why) = read.and_then(|m| m.excludes(target)) {
            choice.never_opened.insert(entry.name.clone(), why);
            continue;
        }
        let inside = entry.name[owner.len()..].trim_start_matches('/');
        if inside.starts_with("prebuilds/") && read.is_some_and(|m| m.depends_on("node-gyp-build"))
        {
            prebuilt
                .entry(owner.to_string())
                .or_default()
                .push(&entry.name);
        }
    }
    platform_packages(root, entries, &files, &mut manifests, target, &mut choice);
    if !prebuilt.is_empty() {
        let listing = Listing::new(&files);
        for (package, elf_files) in prebuilt {
            node_gyp_build(&package, &listing, &elf_files, target, &mut choice);
        }
    }
    choice
}

/// napi-rs's loaders (and esbuild's, sharp's, …): a package lists its
/// per-platform packages as `optionalDependencies`, npm installs the one
/// whose `os`, `cpu` and `libc` fit the machine, and the loader requires
/// it. A package whose installed platform packages are all for other
/// platforms (npm ran on another machine) has no variant for the runtime:
/// `no_variant`, named. One for `wasm32` is a loader's fallback (napi-rs's
/// WASI build): then nothing is claimed.
fn platform_packages(
    root: &Path,
    entries: &[Entry],
    files: &HashSet<&str>,
    manifests: &mut HashMap<String, Option<Manifest>>,
    target: &Target,
    choice: &mut Choice,
) {
    fn read<'m>(
        manifests: &'m mut HashMap<String, Option<Manifest>>,
        root: &Path,
        path: String,
    ) -> Option<&'m Manifest> {
        manifests
            .entry(path)
            .or_insert_with_key(|p| Manifest::read(&root.join(p)))
            .as_ref()
    }
    let listed = entries.iter().filter_map(|e| {
        if e.name == "package.json" {
            Some("")
        } else {
            e.name.strip_suffix("/package.json")
        }
    });
    for dir in listed {
        let Some(deps) = read(manifests, root, join(dir, "package.json"))
            .and_then(|m| m.optional_dependencies.as_object())
            .map(|deps| deps.keys().cloned().collect::<Vec<String>>())
        else {
            continue;
        };
        // The variant for the runtime it declares (`-linux-x64-gnu`,
        // `@esbuild/linux-x64`): without one, an optional dependency for
        // another platform is a feature (chokidar's fsevents), not its addon.
        let linux = format!("linux-{}", target.arch);
        let declared: Vec<&String> = deps.iter().filter(|d| d.contains(&linux)).collect();
        if declared.is_empty() {
            continue;
        }
        let declared = declared
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut others = Vec::new();
        let mut fits = false;
        for dep in &deps {
            let Some(installed) = installed_dir(files, dir, dep) else {
                continue;
            };
            let Some(manifest) = read(manifests, root, join(&installed, "package.json")) else {
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
                dir.to_string(),
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
fn installed_dir(files: &HashSet<&str>, dir: &str, dep: &str) -> Option<String> {
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
struct Listing<'f>(HashMap<&'f str, BTreeSet<(&'f str, bool)>>);

impl<'f> Listing<'f> {
    fn new(files: &HashSet<&'f str>) -> Listing<'f> {
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
        Listing(dirs)
    }

    fn of(&self, dir: &str) -> Vec<(&'f str, bool)> {
        self.0
            .get(dir)
            .map(|names| names.iter().copied().collect())
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

/// node-gyp-build's `matchTags('node', abi)`: libuv 1 (every Node.js
/// since 0.12), ARMv8 on arm64 and none on x64, glibc.
fn matches(tags: &Tags, target: &Target) -> bool {
    let abi = target.abi.to_string();
    let armv = if target.arch == "arm64" { "8" } else { "" };
    let agnostic = tags.runtime == Some("node") && tags.napi;
    !(tags.runtime.is_some_and(|r| r != "node") && !agnostic
        || tags.abi.is_some_and(|a| !a.is_empty() && a != abi) && !tags.napi
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

/// node-gyp-build's `load.resolve(package)` on the target: the file it
/// requires; every ELF file under `prebuilds/` it does not open is noted,
/// and a package where it finds none is `no_variant`.
fn node_gyp_build(
    package: &str,
    listing: &Listing,
    elf_files: &[&str],
    target: &Target,
    choice: &mut Choice,
) {
    let prebuilds = join(package, "prebuilds");
    let built = ["build/Release", "build/Debug"].iter().find_map(|dir| {
        let dir = join(package, dir);
        let first = listing
            .of(&dir)
            .into_iter()
            .find(|(name, is_dir)| name.ends_with(".node") && !*is_dir)?;
        Some(format!("{dir}/{}", first.0))
    });
    let (winner, tuple) = match &built {
        Some(file) => (Some(file.clone()), None),
        None => {
            let tuple = listing
                .of(&prebuilds)
                .into_iter()
                .filter(|(name, is_dir)| *is_dir && tuple_matches(name, target.arch))
                .min_by_key(|(name, _)| {
                    name.split_once('-')
                        .map_or(0, |(_, a)| a.split('+').count())
                })
                .map(|(name, _)| name);
            let winner = tuple.and_then(|tuple| {
                let dir = format!("{prebuilds}/{tuple}");
                let mut candidates: Vec<Tags> = listing
                    .of(&dir)
                    .into_iter()
                    .filter(|(_, is_dir)| !is_dir)
                    .filter_map(|(name, _)| parse_tags(name))
                    .filter(|tags| matches(tags, target))
                    .collect();
                candidates.sort_by(compare);
                candidates.first().map(|t| format!("{dir}/{}", t.file))
            });
            (winner, tuple)
        }
    };
    let chosen_dir = tuple.map(|t| format!("{prebuilds}/{t}/"));
    for file in elf_files {
        if Some(*file) == winner.as_deref() {
            continue;
        }
        let in_chosen = chosen_dir.as_deref().is_some_and(|d| {
            file.strip_prefix(d)
                .is_some_and(|rest| !rest.contains('/') && !rest.ends_with(".node"))
        });
        if in_chosen {
            continue; // a library beside the chosen addon: judged as before
        }
        let why = match &winner {
            Some(w) => format!(
                "node-gyp-build loads {} on {}",
                &w[package.len()..].trim_start_matches('/'),
                target.describe()
            ),
            None => format!("node-gyp-build finds no prebuild for {}", target.describe()),
        };
        choice.never_opened.insert(file.to_string(), why);
    }
    if winner.is_none() {
        let shipped: Vec<&str> = listing
            .of(&prebuilds)
            .into_iter()
            .filter(|(_, is_dir)| *is_dir)
            .map(|(name, _)| name)
            .collect();
        choice.no_variant.insert(
            package.to_string(),
            format!(
                "node-gyp-build finds no prebuild for {} in {} (it has {}) and no build/Release/*.node, so require() throws \"No native build was found\"",
                target.describe(),
                prebuilds,
                if shipped.is_empty() { "none".to_string() } else { shipped.join(", ") }
            ),
        );
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
            .filter(|t| matches(t, &target()))
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
        let files: HashSet<&str> = ["a/b/c.node", "a/b/d.node", "a/e", "f"].into();
        let listing = Listing::new(&files);
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
