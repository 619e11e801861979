//! The profile schema: a runtime as data (see `profiles/README.md`), the
//! process that loads the artifact, the policy, and each library with its
//! version definitions and exports.

use serde::{Deserialize, Serialize};

use super::exports::{ExportTable, Exports};
use crate::lifecycle::RuntimeFacts;

pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub schema: u32,
    pub name: String,
    pub description: String,
    /// The built-in profile this one adds to (a runtime over its OS: `python3.12`
    /// over `amazonlinux-2023`). Resolved by `Profile::parse`: the base's fields,
    /// then this file's, with both `sources` lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    /// A Lambda runtime's OS, architectures and deprecation (AWS's runtime
    /// table); absent for an OS profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeFacts>,
    /// `x86_64`, `aarch64`, ...
    pub arch: String,
    /// Where the function's package is unpacked (`/var/task`); also the working directory.
    pub task_root: String,
    /// The runtime's `LD_LIBRARY_PATH`, in order.
    pub ld_library_path: Vec<String>,
    /// What the loader searches after `DT_RUNPATH`: ld.so.cache's directories and the built-in defaults.
    pub default_dirs: Vec<String>,
    /// True when `libraries` lists everything in the search directories (a scanned rootfs).
    #[serde(default)]
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    #[serde(default)]
    pub policy: Policy,
    /// Shared by the runtimes loaded over one built-in OS profile.
    pub libraries: std::sync::Arc<Vec<Library>>,
}

impl Profile {
    /// The export table of `libraries[index]`, if its exports are known.
    pub fn library_exports(&self, index: usize) -> Option<ExportTable<'_>> {
        Some(self.libraries.get(index)?.exports.as_ref()?.table())
    }

    /// The host's export table, if its exports are listed.
    pub fn host_exports(&self) -> Option<ExportTable<'_>> {
        Some(self.host.as_ref()?.exports.as_ref()?.table())
    }

    /// Each export list build.rs took out of a built-in, put back in place.
    /// Libraries shared with a base (theirs already put back) are not copied.
    pub(super) fn with_builtin_lists(mut self) -> Profile {
        let marked = |l: &Library| {
            l.exports
                .as_ref()
                .is_some_and(|e| e.builtin_mark().is_some())
        };
        let libraries = match self.libraries.iter().any(marked) {
            true => Some(std::sync::Arc::make_mut(&mut self.libraries)),
            false => None,
        };
        let host = self.host.as_mut().map(|h| &mut h.exports);
        let lists = libraries
            .into_iter()
            .flatten()
            .map(|l| &mut l.exports)
            .chain(host);
        for exports in lists.flatten() {
            if let Some(list) = exports.builtin_mark().and_then(Exports::builtin) {
                *exports = list;
            }
        }
        self
    }
}

/// The process that loads the artifact. Absent: the artifact is the program.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub executable: String,
    /// Python extension modules must export `<prefix><module name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_init_prefix: Option<String>,
    /// The host executable's `DT_NEEDED`: loaded before the artifact.
    #[serde(default)]
    pub needed: Vec<String>,
    /// The host executable's `DT_RPATH` and `DT_RUNPATH` (its own libraries, e.g. libpython).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rpath: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runpath: Vec<String>,
    /// Symbols the host executable exports, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exports: Option<Exports>,
    /// Name prefixes the host is known to export when the full list is not (the C API: `Py`, `_Py`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_prefixes: Vec<String>,
    /// The file name endings the host's importer accepts for an extension
    /// module, in its order (Python 3.9: `.cpython-39-x86_64-linux-gnu.so`,
    /// `.abi3.so`, `.so`). Empty: not checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_suffixes: Vec<String>,
    /// The name prefixes `exports` is complete for (Node.js: `napi_`,
    /// `node_api_`, `uv_`): a name with one of them that the list lacks is
    /// not exported; any other name the list lacks is unknown (node's V8 and
    /// C++ exports are not listed). Empty: the list is complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exports_cover: Vec<String>,
    /// A Node.js host: its `NODE_MODULE_VERSION`, the ABI an addon built
    /// against V8 directly must have been compiled for (N-API addons need
    /// none). Addons are `.node` files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_module_version: Option<u32>,
    /// Sonames of the host's own libraries, in its process before the
    /// artifact (the JVM's `libjvm.so`), whose exports are not known: a
    /// `DT_NEEDED` of one is that copy (glibc matches a loaded object's
    /// soname), and a symbol only it could define is unverified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loaded: Vec<String>,
    /// What the profile does not know of the host, in words (`profile show`):
    /// a JVM whose own exports no pinned package gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Host {
    /// Whether `exports` answers for `name`: a name outside what
    /// `exports_cover` covers is neither known to be exported nor not.
    pub fn covers(&self, name: &str) -> bool {
        self.exports_cover.is_empty()
            || self
                .exports_cover
                .iter()
                .any(|prefix| name.starts_with(prefix.as_str()))
    }

    /// The module a file name gives under this host's importer: the name
    /// without the longest accepted suffix, if that leaves a module name
    /// (`import a.b` never looks for a file named `a.b.so`).
    pub fn module_of<'n>(&self, file_name: &'n str) -> Option<&'n str> {
        if self.extension_suffixes.is_empty() {
            return file_name.split('.').next();
        }
        self.extension_suffixes
            .iter()
            .filter_map(|suffix| file_name.strip_suffix(suffix.as_str()))
            .filter(|stem| !stem.is_empty() && !stem.contains('.'))
            .min_by_key(|stem| stem.len())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub forbidden_needed: Vec<Forbidden>,
}

/// A library that must not be a `DT_NEEDED` entry, with what to do instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forbidden {
    /// A soname, or a prefix ending in `*` (`libssl.so*`).
    pub pattern: String,
    pub reason: String,
    pub fix: String,
}

impl Forbidden {
    pub fn matches(&self, name: &str) -> bool {
        let base = name.rsplit('/').next().unwrap_or(name);
        match self.pattern.strip_suffix('*') {
            Some(prefix) => base.starts_with(prefix),
            None => base == self.pattern,
        }
    }
}

/// A library the runtime has.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soname: Option<String>,
    /// Every path in the search directories that reaches this file.
    pub paths: Vec<String>,
    /// Its version definitions; `null` when unknown (version needs are then not checked).
    pub versions: Option<Vec<String>>,
    /// Exported symbols as `name`, `name@@VERSION` (default) or `name@VERSION`; `null` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exports: Option<Exports>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Parts of glibc, by soname prefix: they come with the runtime's loader, so
/// they can be neither vendored nor linked against any glibc but the runtime's.
const GLIBC_PARTS: &[&str] = &[
    "ld-linux",
    "libc.so",
    "libm.so",
    "libmvec.so",
    "libpthread.so",
    "libdl.so",
    "librt.so",
    "libutil.so",
    "libresolv.so",
    "libnsl.so",
    "libanl.so",
    "libBrokenLocale.so",
    "libcrypt.so",
    "libnss_",
];

pub fn is_glibc_part(soname: &str) -> bool {
    GLIBC_PARTS.iter().any(|p| soname.starts_with(p))
}
