//! Which npm package each file of a Node.js package came from: npm installs
//! every package in a directory of its own under `node_modules/`, with its
//! `package.json` at the top, so a file belongs to the package of the
//! nearest `package.json` above it that names one (a nested `package.json`
//! may only set options, such as `{"type": "module"}`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::archive::Entry;
use crate::bounded;

/// The largest package.json read; a larger one names no package here.
const MAX_MANIFEST: u64 = 1024 * 1024;

#[derive(Deserialize)]
struct Manifest {
    name: Option<String>,
    version: Option<String>,
}

/// `name version` of the npm package each ELF file of the package belongs
/// to, keyed by its path in the package (`Entry::name`). Linear in the
/// files and their depth; each package.json is read at most once.
pub fn npm_packages(root: &Path, entries: &[Entry]) -> HashMap<String, String> {
    let files: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut manifests: HashMap<String, Option<String>> = HashMap::new();
    let mut owners = HashMap::new();
    for entry in entries.iter().filter(|e| e.elf) {
        for manifest in manifests_above(&entry.name) {
            if !files.contains(manifest.as_str()) {
                continue;
            }
            let named = manifests
                .entry(manifest)
                .or_insert_with_key(|m| package_named(&root.join(m)));
            if let Some(name) = named {
                owners.insert(entry.name.clone(), name.clone());
                break;
            }
        }
    }
    owners
}

/// The package.json paths a file could belong to, nearest first:
/// `a/b/x.node` gives `a/b/package.json`, `a/package.json`, `package.json`.
fn manifests_above(name: &str) -> impl Iterator<Item = String> + '_ {
    let dirs = name.match_indices('/').rev().map(|(i, _)| &name[..i]);
    dirs.map(|dir| format!("{dir}/package.json"))
        .chain(std::iter::once("package.json".to_string()))
}

/// The longest package name npm takes (its `validate-npm-package-name`).
const MAX_NAME: usize = 214;

/// The longest version npm's semver parses (`MAX_LENGTH`).
const MAX_VERSION: usize = 256;

/// `name version` from a package.json, if it names a package: a name or a
/// version longer than npm takes names none (a name of 1 MB would be
/// repeated in every report on the package's files).
pub(crate) fn package_named(manifest: &Path) -> Option<String> {
    let text = bounded::read_small_file(manifest, MAX_MANIFEST).ok()?;
    let manifest: Manifest = serde_json::from_slice(&text).ok()?;
    let too_long =
        |field: &Option<String>, max: usize| field.as_ref().is_some_and(|f| f.len() > max);
    if too_long(&manifest.name, MAX_NAME) || too_long(&manifest.version, MAX_VERSION) {
        return None;
    }
    match (manifest.name?, manifest.version) {
        (name, Some(version)) => Some(format!("{name} {version}")),
        (name, None) => Some(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(root: &Path, name: &str, elf: bool, text: &str) -> Entry {
        let file = root.join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        Entry {
            name: name.into(),
            file,
            elf,
            executable: false,
            size: text.len() as u64,
        }
    }

    #[test]
    fn a_file_belongs_to_the_nearest_package_json_that_names_a_package() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let entries = vec![
            entry(
                root,
                "package.json",
                false,
                r#"{"name": "my-function", "version": "1.0.0"}"#,
            ),
            entry(
                root,
                "node_modules/@img/sharp-linux-x64/package.json",
                false,
                r#"{"name": "@img/sharp-linux-x64", "version": "0.35.5", "files": ["lib"]}"#,
            ),
            entry(
                root,
                "node_modules/@img/sharp-linux-x64/lib/package.json",
                false,
                r#"{"type": "commonjs"}"#,
            ),
            entry(
                root,
                "node_modules/@img/sharp-linux-x64/lib/sharp.node",
                true,
                "\x7fELF",
            ),
            entry(root, "native/own.node", true, "\x7fELF"),
            entry(root, "node_modules/broken/package.json", false, "{not json"),
            entry(root, "node_modules/broken/x.node", true, "\x7fELF"),
        ];
        let owners = npm_packages(root, &entries);
        assert_eq!(
            owners["node_modules/@img/sharp-linux-x64/lib/sharp.node"],
            "@img/sharp-linux-x64 0.35.5"
        );
        assert_eq!(owners["native/own.node"], "my-function 1.0.0");
        // A package.json that cannot be read names nothing: the next one up does.
        assert_eq!(owners["node_modules/broken/x.node"], "my-function 1.0.0");
        assert_eq!(owners.len(), 3);
    }
}
