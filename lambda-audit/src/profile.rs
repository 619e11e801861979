//! Runtime profiles: a Lambda runtime as data.
//!
//! A profile says where the runtime's loader looks (the `LD_LIBRARY_PATH` in
//! order, then its default directories), which libraries it finds there with
//! their version definitions and (where known) exported symbols, what the host
//! process provides, and which libraries must not be linked dynamically.
//! Built-in profiles live in `profiles/*.json` and are embedded; any other
//! profile is a file with the same schema (see `profiles/README.md`), usually
//! written by `lambda-audit profile scan`.

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::elf::{Arch, Export};
use crate::error::{AuditError, Result};
use crate::lifecycle::{is_date, RuntimeFacts};

pub const SCHEMA: u32 = 1;

/// The built-in profiles, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "amazonlinux-2017.03-python3.6",
        include_str!("../profiles/amazonlinux-2017.03-python3.6.json"),
    ),
    (
        "amazonlinux-2",
        include_str!("../profiles/amazonlinux-2.json"),
    ),
    (
        "amazonlinux-2023",
        include_str!("../profiles/amazonlinux-2023.json"),
    ),
    ("python3.6", include_str!("../profiles/python3.6.json")),
    ("python3.8", include_str!("../profiles/python3.8.json")),
    ("python3.9", include_str!("../profiles/python3.9.json")),
    ("python3.10", include_str!("../profiles/python3.10.json")),
    ("python3.11", include_str!("../profiles/python3.11.json")),
    ("python3.12", include_str!("../profiles/python3.12.json")),
    ("python3.13", include_str!("../profiles/python3.13.json")),
    ("python3.14", include_str!("../profiles/python3.14.json")),
    (
        "provided.al2",
        include_str!("../profiles/provided.al2.json"),
    ),
    (
        "provided.al2023",
        include_str!("../profiles/provided.al2023.json"),
    ),
    ("nodejs18.x", include_str!("../profiles/nodejs18.x.json")),
    ("nodejs20.x", include_str!("../profiles/nodejs20.x.json")),
    ("nodejs22.x", include_str!("../profiles/nodejs22.x.json")),
    ("nodejs24.x", include_str!("../profiles/nodejs24.x.json")),
    ("java8.al2", include_str!("../profiles/java8.al2.json")),
    ("java11", include_str!("../profiles/java11.json")),
    ("java17", include_str!("../profiles/java17.json")),
    ("java21", include_str!("../profiles/java21.json")),
    ("java25", include_str!("../profiles/java25.json")),
    (
        "java8.al2023",
        include_str!("../profiles/java8.al2023.json"),
    ),
    (
        "java11.al2023",
        include_str!("../profiles/java11.al2023.json"),
    ),
    (
        "java17.al2023",
        include_str!("../profiles/java17.al2023.json"),
    ),
    ("ruby3.2", include_str!("../profiles/ruby3.2.json")),
    ("ruby3.3", include_str!("../profiles/ruby3.3.json")),
    ("ruby3.4", include_str!("../profiles/ruby3.4.json")),
    ("ruby4.0", include_str!("../profiles/ruby4.0.json")),
    ("dotnet8", include_str!("../profiles/dotnet8.json")),
    ("dotnet10", include_str!("../profiles/dotnet10.json")),
    // arm64: the same names, for Lambda's other architecture (`--arch arm64`).
    (
        "amazonlinux-2-arm64",
        include_str!("../profiles/amazonlinux-2-arm64.json"),
    ),
    (
        "amazonlinux-2023-arm64",
        include_str!("../profiles/amazonlinux-2023-arm64.json"),
    ),
    (
        "python3.8-arm64",
        include_str!("../profiles/python3.8-arm64.json"),
    ),
    (
        "python3.9-arm64",
        include_str!("../profiles/python3.9-arm64.json"),
    ),
    (
        "python3.10-arm64",
        include_str!("../profiles/python3.10-arm64.json"),
    ),
    (
        "python3.11-arm64",
        include_str!("../profiles/python3.11-arm64.json"),
    ),
    (
        "python3.12-arm64",
        include_str!("../profiles/python3.12-arm64.json"),
    ),
    (
        "python3.13-arm64",
        include_str!("../profiles/python3.13-arm64.json"),
    ),
    (
        "python3.14-arm64",
        include_str!("../profiles/python3.14-arm64.json"),
    ),
    (
        "provided.al2-arm64",
        include_str!("../profiles/provided.al2-arm64.json"),
    ),
    (
        "provided.al2023-arm64",
        include_str!("../profiles/provided.al2023-arm64.json"),
    ),
    (
        "nodejs18.x-arm64",
        include_str!("../profiles/nodejs18.x-arm64.json"),
    ),
    (
        "nodejs20.x-arm64",
        include_str!("../profiles/nodejs20.x-arm64.json"),
    ),
    (
        "nodejs22.x-arm64",
        include_str!("../profiles/nodejs22.x-arm64.json"),
    ),
    (
        "nodejs24.x-arm64",
        include_str!("../profiles/nodejs24.x-arm64.json"),
    ),
    (
        "java8.al2-arm64",
        include_str!("../profiles/java8.al2-arm64.json"),
    ),
    (
        "java11-arm64",
        include_str!("../profiles/java11-arm64.json"),
    ),
    (
        "java17-arm64",
        include_str!("../profiles/java17-arm64.json"),
    ),
    (
        "java21-arm64",
        include_str!("../profiles/java21-arm64.json"),
    ),
    (
        "java25-arm64",
        include_str!("../profiles/java25-arm64.json"),
    ),
    (
        "java8.al2023-arm64",
        include_str!("../profiles/java8.al2023-arm64.json"),
    ),
    (
        "java11.al2023-arm64",
        include_str!("../profiles/java11.al2023-arm64.json"),
    ),
    (
        "java17.al2023-arm64",
        include_str!("../profiles/java17.al2023-arm64.json"),
    ),
    (
        "ruby3.2-arm64",
        include_str!("../profiles/ruby3.2-arm64.json"),
    ),
    (
        "ruby3.3-arm64",
        include_str!("../profiles/ruby3.3-arm64.json"),
    ),
    (
        "ruby3.4-arm64",
        include_str!("../profiles/ruby3.4-arm64.json"),
    ),
    (
        "ruby4.0-arm64",
        include_str!("../profiles/ruby4.0-arm64.json"),
    ),
    (
        "dotnet8-arm64",
        include_str!("../profiles/dotnet8-arm64.json"),
    ),
    (
        "dotnet10-arm64",
        include_str!("../profiles/dotnet10-arm64.json"),
    ),
];

/// Lambda's two instruction set architectures, as its API names them
/// (`Architectures`: `x86_64`, `arm64`). A built-in profile's name means
/// the x86_64 one, Lambda's default; its arm64 one is the file
/// `NAME-arm64.json` (`BUILTIN` key `NAME-arm64`), whose `name` is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaArch {
    X86_64,
    Arm64,
}

impl LambdaArch {
    pub const ALL: [LambdaArch; 2] = [LambdaArch::X86_64, LambdaArch::Arm64];

    /// Lambda's name (`x86_64`, `arm64`).
    pub fn name(self) -> &'static str {
        match self {
            LambdaArch::X86_64 => "x86_64",
            LambdaArch::Arm64 => "arm64",
        }
    }

    /// The ELF architecture its loader accepts.
    pub fn elf(self) -> Arch {
        match self {
            LambdaArch::X86_64 => Arch::X86_64,
            LambdaArch::Arm64 => Arch::AARCH64,
        }
    }

    /// The Lambda architecture of an ELF one, if Lambda has it.
    pub fn of_elf(arch: Arch) -> Option<LambdaArch> {
        LambdaArch::ALL.into_iter().find(|a| a.elf() == arch)
    }

    /// The `BUILTIN` key of the built-in profile `name` for this architecture.
    fn builtin_key(self, name: &str) -> String {
        match self {
            LambdaArch::X86_64 => name.to_string(),
            LambdaArch::Arm64 => format!("{name}-arm64"),
        }
    }
}

impl std::str::FromStr for LambdaArch {
    type Err = String;

    /// `x86_64` or `arm64` (`aarch64`, the ELF name, is taken for arm64).
    fn from_str(text: &str) -> std::result::Result<LambdaArch, String> {
        match text {
            "x86_64" => Ok(LambdaArch::X86_64),
            "arm64" | "aarch64" => Ok(LambdaArch::Arm64),
            _ => Err(format!(
                "{text:?} is not a Lambda architecture (x86_64, arm64)"
            )),
        }
    }
}

pub const DEFAULT_PROFILE: &str = "amazonlinux-2017.03-python3.6";

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

/// The built-in profiles as build.rs leaves them: `STRIPPED` (each file's
/// text, its export lists taken out), `EXPORTS` and `LIST_ENDS` (the lists).
mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// An export list in the profile notation (`name`, `name@@VERSION`,
/// `name@VERSION`), in its order: a file's own, or a built-in's, read in
/// place from the binary (sorted: build.rs checks it). An owned list's
/// order is sorted on first use, so a check pays for the lists of the
/// libraries its artifact loads, and no others.
#[derive(Debug, Clone)]
pub struct Exports {
    list: List,
    order: OnceLock<Vec<u32>>,
}

#[derive(Debug, Clone)]
enum List {
    Owned(Vec<String>),
    /// A built-in's, list `number` of build.rs's: entries
    /// `first..first + count` of `builtin::EXPORTS`.
    Builtin {
        number: u32,
        first: usize,
        count: usize,
    },
}

impl List {
    fn len(&self) -> usize {
        match self {
            List::Owned(entries) => entries.len(),
            List::Builtin { count, .. } => *count,
        }
    }

    /// Entry `i`, in the list's order (inlined: a search reads a dozen).
    #[inline]
    fn entry(&self, i: usize) -> &str {
        match self {
            List::Owned(entries) => &entries[i],
            List::Builtin { first, .. } => builtin_entry(first + i),
        }
    }
}

/// Where, in built-in list `number`, its entries whose first byte is
/// `byte` start and end.
fn builtin_byte_range(number: u32, byte: u8) -> std::ops::Range<usize> {
    let start = |b: usize| {
        let at = 4 * (257 * number as usize + b);
        let bytes = builtin::BYTE_STARTS[at..at + 4]
            .try_into()
            .expect("4 bytes");
        u32::from_le_bytes(bytes) as usize
    };
    start(byte as usize)..start(byte as usize + 1)
}

/// Entry `n` of all the built-ins' export lists.
#[inline]
fn builtin_entry(n: usize) -> &'static str {
    let newline = |n: usize| {
        let at = builtin::ENTRY_ENDS[4 * n..4 * n + 4]
            .try_into()
            .expect("4 bytes");
        u32::from_le_bytes(at) as usize
    };
    let start = n.checked_sub(1).map_or(0, |p| newline(p) + 1);
    &builtin::EXPORTS[start..newline(n)]
}

impl From<Vec<String>> for Exports {
    fn from(entries: Vec<String>) -> Exports {
        Exports::of(List::Owned(entries))
    }
}

impl Serialize for Exports {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.entries())
    }
}

impl<'de> Deserialize<'de> for Exports {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<String>::deserialize(deserializer).map(Exports::from)
    }
}

impl Exports {
    fn of(list: List) -> Exports {
        Exports {
            list,
            order: OnceLock::new(),
        }
    }

    /// The entries, in the list's order.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        (0..self.list.len()).map(|i| self.list.entry(i))
    }

    /// Built-in list `number`, if this is the mark build.rs left in its place.
    fn builtin_mark(&self) -> Option<usize> {
        match &self.list {
            List::Owned(entries) if entries.len() == 1 => {
                entries[0].strip_prefix('\0')?.parse().ok()
            }
            _ => None,
        }
    }

    /// Built-in list `number` (see build.rs).
    fn builtin(number: usize) -> Option<Exports> {
        let end = *builtin::LIST_ENDS.get(number)? as usize;
        let first = number
            .checked_sub(1)
            .map_or(0, |n| builtin::LIST_ENDS[n] as usize);
        let count = end - first;
        Some(Exports::of(List::Builtin {
            number: number as u32,
            first,
            count,
        }))
    }

    /// Its lookups by name.
    pub fn table(&self) -> ExportTable<'_> {
        let order = match &self.list {
            List::Builtin { .. } => None,
            List::Owned(entries) => {
                Some(self.order.get_or_init(|| sorted_order(entries)).as_slice())
            }
        };
        ExportTable {
            list: &self.list,
            order,
        }
    }
}

/// The indices of `entries`, sorted by entry.
fn sorted_order(entries: &[String]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..entries.len() as u32).collect();
    order.sort_by(|a, b| entries[*a as usize].cmp(&entries[*b as usize]));
    order
}

/// An export list's lookups: its entries in sorted order (`order`, or the
/// list's own for a built-in), where a name's definitions are found by
/// binary search: the name itself and the entries starting with `name@`,
/// one run in that order.
#[derive(Debug, Clone, Copy)]
pub struct ExportTable<'p> {
    list: &'p List,
    order: Option<&'p [u32]>,
}

impl<'p> ExportTable<'p> {
    /// Entry `k` in sorted order.
    fn sorted(self, k: usize) -> &'p str {
        match self.order {
            Some(order) => self.list.entry(order[k] as usize),
            None => self.list.entry(k),
        }
    }

    /// The positions in sorted order of the entries that can start with
    /// `name`: for a built-in list, those of its first byte (build.rs's
    /// `first_byte_starts`: a name no entry begins like is not searched
    /// for at all); all of them otherwise.
    fn candidates(self, name: &str) -> std::ops::Range<usize> {
        match (self.list, name.as_bytes().first()) {
            (List::Builtin { number, .. }, Some(byte)) => builtin_byte_range(*number, *byte),
            _ => 0..self.list.len(),
        }
    }

    /// The first position in sorted order, in `low..high`, whose entry is
    /// not before (`before` says which are).
    fn partition_point(
        self,
        mut low: usize,
        mut high: usize,
        before: impl Fn(&str) -> bool,
    ) -> usize {
        while low < high {
            let mid = low + (high - low) / 2;
            if before(self.sorted(mid)) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }

    /// The definitions of `name`, as (version, hidden); none when it
    /// exports no such name.
    pub fn get(self, name: &'p str) -> impl Iterator<Item = (Option<&'p str>, bool)> {
        let candidates = self.candidates(name);
        let end = candidates.end;
        let exact = self.partition_point(candidates.start, end, |e| e < name);
        let past_exact = (exact..end)
            .find(|k| self.sorted(*k) != name)
            .unwrap_or(end);
        let versioned = self.versioned_from(past_exact, end, name);
        let run = move |from: usize| (from..end).map(move |k| self.sorted(k));
        let versioned = run(versioned)
            .take_while(move |e| e.strip_prefix(name).is_some_and(|v| v.starts_with('@')));
        (exact..past_exact)
            .map(move |k| self.sorted(k))
            .chain(versioned)
            .map(parse_export_borrowed)
            .filter(move |(n, _, _)| *n == name)
            .map(|(_, version, hidden)| (version, hidden))
    }

    /// Where the entries `name@…` start, given `from`, the position just
    /// past the entries `name`: the entries starting with `name` follow
    /// one another, so they start there when the entry there is one (a
    /// name's usual neighbours: one binary search a lookup), there are none
    /// when that entry does not start with `name` or goes on with a byte
    /// after `@`, and only past the names it prefixes with a byte before
    /// `@` (`name.x`, `name1`) are they searched for.
    /// `end` is the end of the candidates (`candidates`).
    fn versioned_from(self, from: usize, end: usize, name: &str) -> usize {
        let rest = match from < end {
            true => self.sorted(from).strip_prefix(name),
            false => None,
        };
        match rest.and_then(|r| r.as_bytes().first()) {
            Some(b'@') => from,
            // Before `name@`: `name` and then less than `@`.
            Some(b) if *b < b'@' => {
                self.partition_point(from, end, |e| match e.strip_prefix(name) {
                    Some(rest) => rest.as_bytes().first().is_some_and(|b| *b < b'@'),
                    None => e < name,
                })
            }
            _ => end,
        }
    }

    /// The number of the built-in list this is (build.rs's), the same for
    /// every profile that has it: its identity. `None` for a file's own.
    pub fn builtin_number(self) -> Option<u32> {
        match self.list {
            List::Builtin { number, .. } => Some(*number),
            List::Owned(_) => None,
        }
    }
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
    fn with_builtin_lists(mut self) -> Profile {
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

/// `parse_export`, borrowing: (name, version, hidden). The name ends at
/// the first `@@`, else at the first `@`; both searched with `memchr` (a
/// lookup parses each definition it finds).
fn parse_export_borrowed(entry: &str) -> (&str, Option<&str>, bool) {
    let bytes = entry.as_bytes();
    let Some(first) = memchr::memchr(b'@', bytes) else {
        return (entry, None, false);
    };
    // The first `@@` is at an `@`: the first one or a later one.
    let mut at = first;
    loop {
        if bytes.get(at + 1) == Some(&b'@') {
            return (&entry[..at], Some(&entry[at + 2..]), false);
        }
        match memchr::memchr(b'@', &bytes[at + 1..]) {
            Some(next) => at += 1 + next,
            None => return (&entry[..first], Some(&entry[first + 1..]), true),
        }
    }
}

/// Parses the `name@@VER` / `name@VER` / `name` notation of profile exports.
pub fn parse_export(entry: &str) -> (&str, Export) {
    let (name, version, hidden) = parse_export_borrowed(entry);
    let version = version.map(String::from);
    (name, Export { version, hidden })
}

/// The inverse of `parse_export`.
pub fn format_export(name: &str, export: &Export) -> String {
    match (&export.version, export.hidden) {
        (Some(v), false) => format!("{}@@{}", name, v),
        (Some(v), true) => format!("{}@{}", name, v),
        (None, _) => name.to_string(),
    }
}

/// Export lists turned into lookup tables (see `Profile::library_exports`).
pub fn export_table(entries: &[String]) -> HashMap<String, Vec<Export>> {
    let mut table: HashMap<String, Vec<Export>> = HashMap::default();
    for entry in entries {
        let (name, export) = parse_export(entry);
        table.entry(name.to_string()).or_default().push(export);
    }
    table
}

/// A profile that `extends` a built-in one: the base's fields, overridden
/// field by field by its own; `sources` are the base's and then its own. The
/// base must itself extend nothing (one level: a runtime over its OS).
fn with_base(mut value: serde_json::Value) -> std::result::Result<serde_json::Value, String> {
    let Some(base_name) = value
        .get("extends")
        .and_then(|v| v.as_str())
        .map(String::from)
    else {
        return Ok(value);
    };
    let base_name = base_for_arch(&base_name, value.get("arch").and_then(|v| v.as_str()));
    let (_, base_text) = BUILTIN
        .iter()
        .find(|(name, _)| *name == base_name)
        .ok_or_else(|| format!("extends {base_name:?}, which is not a built-in profile"))?;
    let mut base: serde_json::Value = serde_json::from_str(base_text).map_err(|e| e.to_string())?;
    if base.get("extends").is_some() {
        return Err(format!(
            "extends {base_name:?}, which itself extends another profile"
        ));
    }
    let (Some(base_fields), Some(own)) = (base.as_object_mut(), value.as_object_mut()) else {
        return Err("a profile is a JSON object".into());
    };
    let own_sources = own.get("sources");
    if own_sources.is_some_and(|v| {
        !v.as_array()
            .is_some_and(|a| a.iter().all(|s| s.is_string()))
    }) {
        return Err("sources: a list of strings, added to the base's".into());
    }
    let mut sources = base_fields
        .get("sources")
        .cloned()
        .unwrap_or(serde_json::Value::Array(Vec::new()));
    if let (Some(all), Some(serde_json::Value::Array(more))) = (sources.as_array_mut(), own_sources)
    {
        all.extend(more.iter().cloned());
    }
    for (key, field) in std::mem::take(own) {
        base_fields.insert(key, field);
    }
    base_fields.insert("sources".into(), sources);
    Ok(base)
}

/// The built-in base a profile of ELF architecture `arch` extends by the
/// name `base`: its arm64 twin for an aarch64 profile (`"extends":
/// "amazonlinux-2023", "arch": "aarch64"` is Amazon Linux 2023 on arm64).
fn base_for_arch(base: &str, arch: Option<&str>) -> String {
    if arch == Some("aarch64") {
        let twin = LambdaArch::Arm64.builtin_key(base);
        if BUILTIN.iter().any(|(name, _)| *name == twin) {
            return twin;
        }
    }
    base.to_string()
}

/// The built-in base `name` (one that extends nothing), parsed once per process.
fn builtin_base(name: &str) -> std::result::Result<&'static Profile, String> {
    static BASES: [OnceLock<Profile>; builtin::STRIPPED.len()] =
        [const { OnceLock::new() }; builtin::STRIPPED.len()];
    let index = builtin::STRIPPED
        .iter()
        .position(|(key, _)| *key == name)
        .ok_or_else(|| format!("extends {name:?}, which is not a built-in profile"))?;
    if let Some(base) = BASES[index].get() {
        return Ok(base);
    }
    let base = Profile::parse_builtin(name).map_err(|e| e.to_string())?;
    if base.extends.is_some() {
        return Err(format!(
            "extends {name:?}, which itself extends another profile"
        ));
    }
    Ok(BASES[index].get_or_init(|| base))
}

/// The largest profile file read.
const MAX_PROFILE_FILE: u64 = 64 << 20;

/// Any JSON value, refused if an object in it holds a key twice.
struct NoKeyTwice;

impl<'de> serde::Deserialize<'de> for NoKeyTwice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoKeyTwice)
    }
}

impl<'de> serde::de::Visitor<'de> for NoKeyTwice {
    type Value = NoKeyTwice;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<NoKeyTwice, A::Error> {
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("the key {key:?} twice")));
            }
            map.next_value::<NoKeyTwice>()?;
        }
        Ok(NoKeyTwice)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<NoKeyTwice, A::Error> {
        while seq.next_element::<NoKeyTwice>()?.is_some() {}
        Ok(NoKeyTwice)
    }

    fn visit_bool<E>(self, _: bool) -> Result<NoKeyTwice, E> {
        Ok(NoKeyTwice)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoKeyTwice, E> {
        Ok(NoKeyTwice)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoKeyTwice, E> {
        Ok(NoKeyTwice)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoKeyTwice, E> {
        Ok(NoKeyTwice)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoKeyTwice, E> {
        Ok(NoKeyTwice)
    }
    fn visit_unit<E>(self) -> Result<NoKeyTwice, E> {
        Ok(NoKeyTwice)
    }
}

/// The built-in profile `name` has for `arch`, as its `BUILTIN` key; `None`
/// when `name` is no built-in name (a file's path, then). A built-in name
/// without a profile for `arch` is refused in one line naming the names
/// that have one.
fn builtin_for(name: &str, arch: LambdaArch) -> Result<Option<&'static str>> {
    let key = |name: &str| BUILTIN.iter().find(|(k, _)| *k == name).map(|(k, _)| *k);
    let Some(given) = key(name) else {
        return Ok(None);
    };
    // A key of its own (`python3.12-arm64`) is that profile, whatever its arch.
    if arch == LambdaArch::X86_64 || given.ends_with("-arm64") {
        return Ok(Some(given));
    }
    if let Some(found) = key(&arch.builtin_key(name)) {
        return Ok(Some(found));
    }
    let others: Vec<&str> = BUILTIN
        .iter()
        .filter_map(|(k, _)| k.strip_suffix("-arm64"))
        .filter(|k| !k.starts_with("amazonlinux-"))
        .collect();
    let default = if name == DEFAULT_PROFILE {
        " (the default profile: give --profile)"
    } else {
        ""
    };
    Err(AuditError::Usage(format!(
        "{name}{default} is x86_64 only: Lambda never offered it on {} (its runtimes there: {})",
        arch.name(),
        others.join(", ")
    )))
}

impl Profile {
    /// `load`, for one of Lambda's architectures: a built-in name gives
    /// that architecture's profile (`None`: x86_64, Lambda's default); a
    /// profile file must be of `arch` when one is given.
    pub fn load_for(name_or_path: &str, arch: Option<LambdaArch>) -> Result<Profile> {
        let wanted = arch.unwrap_or(LambdaArch::X86_64);
        let profile = match builtin_for(name_or_path, wanted)? {
            Some(key) => Profile::load(key)?,
            None => Profile::load(name_or_path)?,
        };
        match arch {
            Some(arch) if profile.arch() != Some(arch.elf()) => Err(AuditError::Usage(format!(
                "--arch {}: the profile {} is for {}",
                arch.name(),
                name_or_path,
                profile.arch
            ))),
            _ => Ok(profile),
        }
    }

    /// Lambda's name of this profile's architecture (`arm64` for
    /// `aarch64`), or the profile's own for another one.
    pub fn lambda_arch(&self) -> &str {
        match self.arch().and_then(LambdaArch::of_elf) {
            Some(arch) => arch.name(),
            None => &self.arch,
        }
    }

    /// A built-in profile's name, or a path to a profile file.
    pub fn load(name_or_path: &str) -> Result<Profile> {
        if let Some((name, _)) = BUILTIN.iter().find(|(name, _)| *name == name_or_path) {
            return Profile::parse_builtin(name);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return Err(AuditError::Usage(format!(
                "no profile named {:?}: give a built-in name ({}) or a profile file's path",
                name_or_path,
                names.join(", ")
            )));
        }
        // Decided before opening (a FIFO would block the read), and read
        // within a bound (the largest built-in is well under 1 MiB; a scan of
        // a whole distribution a few MiB).
        let file = std::fs::canonicalize(path).map_err(|e| AuditError::io(path, e))?;
        let bytes = crate::bounded::read_small_file(&file, MAX_PROFILE_FILE).map_err(|why| {
            AuditError::Usage(format!("--profile {}: {why}", crate::error::shown(path)))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| AuditError::Profile {
            name: name_or_path.to_string(),
            reason: "not UTF-8, so not JSON".into(),
        })?;
        Profile::parse(name_or_path, &text)
    }

    pub fn parse(origin: &str, text: &str) -> Result<Profile> {
        let bad = |reason: String| AuditError::Profile {
            name: origin.to_string(),
            reason,
        };
        // A key given twice is refused: serde_json would keep the last.
        serde_json::from_str::<NoKeyTwice>(text).map_err(|e| bad(e.to_string()))?;
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let value = with_base(value).map_err(bad)?;
        let profile: Profile = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        profile.validated(origin)
    }

    /// A built-in profile, from its file as build.rs leaves it: its text
    /// is this binary's own, which the tests hold to what `parse` accepts
    /// (no key twice) and gives (the same profile), so it is read without
    /// the key check, and its export lists are read in place when looked up.
    fn parse_builtin(name: &str) -> Result<Profile> {
        let bad = |reason: String| AuditError::Profile {
            name: name.to_string(),
            reason,
        };
        let text = builtin::STRIPPED
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| bad("not a built-in profile".into()))?;
        // One that extends nothing is read straight into its types.
        let profile: Profile = match memchr::memmem::find(text.as_bytes(), b"\"extends\"") {
            None => serde_json::from_str(text).map_err(|e| bad(e.to_string()))?,
            Some(_) => {
                let own = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
                Profile::over_builtin_base(own).map_err(bad)?
            }
        };
        profile.with_builtin_lists().validated(name)
    }

    /// A built-in runtime `own` (a JSON object) over its base, as
    /// `with_base` and then the types read it: the base's fields, each
    /// given one replaced, and both `sources`. The base is parsed once per
    /// process however many runtimes over it are loaded (a matrix).
    fn over_builtin_base(own: serde_json::Value) -> std::result::Result<Profile, String> {
        let serde_json::Value::Object(own) = own else {
            return Err("a profile is a JSON object".into());
        };
        let extends = own
            .get("extends")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let base_name = base_for_arch(extends, own.get("arch").and_then(|v| v.as_str()));
        let mut profile = builtin_base(&base_name)?.clone();
        for (key, field) in own {
            profile
                .replace_field(&key, field)
                .map_err(|e| e.to_string())?;
        }
        Ok(profile)
    }

    /// Field `key` given `field` (`sources`: added to these).
    fn replace_field(&mut self, key: &str, field: serde_json::Value) -> serde_json::Result<()> {
        use serde_json::from_value;
        match key {
            "schema" => self.schema = from_value(field)?,
            "name" => self.name = from_value(field)?,
            "description" => self.description = from_value(field)?,
            "extends" => self.extends = from_value(field)?,
            "sources" => self.sources.extend(from_value::<Vec<String>>(field)?),
            "arch" => self.arch = from_value(field)?,
            "task_root" => self.task_root = from_value(field)?,
            "ld_library_path" => self.ld_library_path = from_value(field)?,
            "default_dirs" => self.default_dirs = from_value(field)?,
            "complete" => self.complete = from_value(field)?,
            "host" => self.host = from_value(field)?,
            "runtime" => self.runtime = from_value(field)?,
            "policy" => self.policy = from_value(field)?,
            "libraries" => self.libraries = std::sync::Arc::new(from_value(field)?),
            _ => return Err(serde::de::Error::custom(format!("unknown field `{key}`"))),
        }
        Ok(())
    }

    /// The profile once valid, its task root normalized: `/var/task/` and
    /// `/var/task` are one directory, and paths are compared as strings.
    fn validated(mut self, origin: &str) -> Result<Profile> {
        self.validate(origin)?;
        self.task_root = crate::lexical::normalize(&self.task_root);
        Ok(self)
    }

    fn validate(&self, origin: &str) -> Result<()> {
        let bad = |reason: String| {
            Err(AuditError::Profile {
                name: origin.to_string(),
                reason,
            })
        };
        if self.schema != SCHEMA {
            return bad(format!(
                "schema {} is not supported (this lambda-audit reads schema {})",
                self.schema, SCHEMA
            ));
        }
        if self.arch().is_none() {
            return bad(format!(
                "unknown arch {:?} (x86_64, aarch64, i386, arm)",
                self.arch
            ));
        }
        for dir in self
            .ld_library_path
            .iter()
            .chain(&self.default_dirs)
            .chain(std::iter::once(&self.task_root))
        {
            if !dir.starts_with('/') {
                return bad(format!("search directory {:?} is not absolute", dir));
            }
        }
        if let Some(runtime) = &self.runtime {
            let arch = self.lambda_arch();
            if !runtime.architectures.iter().any(|a| a == arch) {
                return bad(format!(
                    "its arch is {} and runtime.architectures {:?} does not have it: Lambda has no such runtime there",
                    arch, runtime.architectures
                ));
            }
            let dates = [
                ("deprecated", &runtime.deprecated),
                ("blocks_create", &runtime.blocks_create),
                ("blocks_update", &runtime.blocks_update),
            ];
            for (field, date) in dates {
                if let Some(date) = date.as_ref().filter(|d| !is_date(d)) {
                    return bad(format!(
                        "runtime.{field} {date:?} is not a date (YYYY-MM-DD)"
                    ));
                }
            }
        }
        for lib in self.libraries.iter() {
            if lib.paths.is_empty() || lib.paths.iter().any(|p| !p.starts_with('/')) {
                return bad(format!("library {:?} needs absolute paths", lib.soname));
            }
        }
        Ok(())
    }

    pub fn arch(&self) -> Option<Arch> {
        Arch::from_name(&self.arch)
    }

    /// All built-in profiles, parsed.
    pub fn builtins() -> Vec<Profile> {
        BUILTIN
            .iter()
            .filter_map(|(name, _)| Profile::parse_builtin(name).ok())
            .collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a profile always serializes") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_notation_round_trips() {
        for entry in [
            "memcpy@@GLIBC_2.14",
            "memcpy@GLIBC_2.2.5",
            "PyInit_liblambda",
        ] {
            let (name, export) = parse_export(entry);
            assert_eq!(format_export(name, &export), entry);
        }
        assert!(parse_export("memcpy@GLIBC_2.2.5").1.hidden);
        assert!(!parse_export("memcpy@@GLIBC_2.14").1.hidden);
        // The name ends at the first `@@` if there is one, else at the first `@`.
        for (entry, parsed) in [
            ("a@b@@V", ("a@b", Some("V"), false)),
            ("a@@@V", ("a", Some("@V"), false)),
            ("a@b@V", ("a", Some("b@V"), true)),
            ("a@", ("a", Some(""), true)),
            ("a@@", ("a", Some(""), false)),
            ("@", ("", Some(""), true)),
            ("a", ("a", None, false)),
        ] {
            assert_eq!(parse_export_borrowed(entry), parsed, "{entry}");
        }
    }

    /// Lookups find what `export_table` of the whole list holds, in any
    /// order of the list, for names a prefix or an `@` of another's.
    #[test]
    fn export_lookups_find_a_names_definitions_only() {
        let entries: Vec<String> = ["b@@V2", "a@b@@V", "a", "a1", "a@V1", "a.x", "ab@@V3"]
            .map(String::from)
            .to_vec();
        let exports = Exports::from(entries);
        let table = exports.table();
        let defs = |name: &'static str| {
            let mut found: Vec<_> = table.get(name).collect();
            found.sort();
            found
        };
        assert_eq!(defs("a"), [(None, false), (Some("V1"), true)]);
        assert_eq!(defs("a@b"), [(Some("V"), false)]);
        assert_eq!(defs("b"), [(Some("V2"), false)]);
        assert_eq!(defs("a1"), [(None, false)]);
        assert_eq!(defs("ab"), [(Some("V3"), false)]);
        assert_eq!(defs("c"), []);
        assert_eq!(defs("a@"), []);
    }

    /// Every built-in's lookups give, name by name, what the export table
    /// of its list holds.
    #[test]
    fn builtin_export_lookups_are_the_export_tables() {
        for profile in Profile::builtins() {
            let lists = profile.libraries.iter().map(|l| &l.exports);
            let host = profile.host.as_ref().map(|h| &h.exports);
            for (index, list) in lists.chain(host).enumerate() {
                let lookups = match index < profile.libraries.len() {
                    true => profile.library_exports(index),
                    false => profile.host_exports(),
                };
                let Some(exports) = list else {
                    assert!(lookups.is_none(), "{} {index}", profile.name);
                    continue;
                };
                let lookups = lookups.expect("a list has lookups");
                let entries: Vec<String> = exports.entries().map(String::from).collect();
                for (name, defs) in export_table(&entries) {
                    let mut found: Vec<_> = lookups.get(&name).collect();
                    let mut expected: Vec<_> = defs
                        .iter()
                        .map(|d| (d.version.as_deref(), d.hidden))
                        .collect();
                    found.sort();
                    expected.sort();
                    assert_eq!(found, expected, "{} {name}", profile.name);
                }
            }
        }
    }

    /// A built-in as build.rs leaves it (`parse_builtin`) is what `parse`
    /// gives of its file, and `parse` accepts that file (no key twice).
    #[test]
    fn builtin_profiles_are_what_parse_gives_of_their_files() {
        for (name, text) in BUILTIN {
            let builtin = Profile::parse_builtin(name).unwrap();
            let parsed = Profile::parse(name, text).unwrap();
            assert_eq!(builtin.to_json(), parsed.to_json(), "{name}");
        }
        assert_eq!(builtin::STRIPPED.len(), BUILTIN.len());
    }

    #[test]
    fn forbidden_patterns_match_sonames_and_prefixes() {
        let rule = |pattern: &str| Forbidden {
            pattern: pattern.into(),
            reason: String::new(),
            fix: String::new(),
        };
        assert!(rule("libssl.so*").matches("libssl.so.10"));
        assert!(rule("libssl.so*").matches("/usr/lib64/libssl.so.1.1"));
        assert!(!rule("libssl.so*").matches("libssl3.so"));
        assert!(rule("libz.so.1").matches("libz.so.1"));
        assert!(!rule("libz.so.1").matches("libz.so.1.2.8"));
    }

    #[test]
    fn builtin_profiles_parse_and_cite_sources() {
        assert_eq!(Profile::builtins().len(), BUILTIN.len());
        for profile in Profile::builtins() {
            assert!(!profile.sources.is_empty(), "{}", profile.name);
            assert!(profile
                .libraries
                .iter()
                .any(|l| l.soname.as_deref() == Some("libc.so.6")));
        }
    }

    /// The project stands alone: each built-in profile cites the project's own
    /// docs (or a script of the project), never a path outside the repository,
    /// and every section it cites of docs/runtime-facts.md exists.
    #[test]
    fn builtin_profiles_cite_only_the_projects_own_sources() {
        let facts = include_str!("../../docs/runtime-facts.md");
        let headings: Vec<&str> = facts.lines().filter(|l| l.starts_with('#')).collect();
        for profile in Profile::builtins() {
            for source in &profile.sources {
                assert!(!source.contains(".."), "{}: {source}", profile.name);
                assert!(
                    source.starts_with("docs/runtime-facts.md §") || source.contains("(scripts/"),
                    "{}: {source}",
                    profile.name
                );
                let cited = source
                    .split('§')
                    .skip(1)
                    .map(|s| s.split([' ', ',']).next().unwrap_or(""));
                for section in cited {
                    let (sub, top) = (format!(" {section} "), format!(" {section}. "));
                    assert!(
                        headings
                            .iter()
                            .any(|h| h.contains(&sub) || h.contains(&top)),
                        "{} cites §{section}, which docs/runtime-facts.md does not have",
                        profile.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_runtime_profile_is_its_os_plus_what_it_adds() {
        let os = Profile::load("amazonlinux-2023").unwrap();
        let runtime = Profile::load("python3.12").unwrap();
        assert_eq!(runtime.extends.as_deref(), Some("amazonlinux-2023"));
        assert_eq!(runtime.ld_library_path, os.ld_library_path);
        assert_eq!(runtime.libraries.len(), os.libraries.len());
        let host = runtime.host.as_ref().expect("python3.12 has a host");
        assert_eq!(host.executable, "/var/lang/bin/python3.12");
        assert_eq!(
            host.extension_suffixes[0],
            ".cpython-312-x86_64-linux-gnu.so"
        );
        // The OS's sources, then the runtime's own.
        assert!(runtime.sources.starts_with(&os.sources));
        assert!(runtime.sources.len() > os.sources.len());
        assert!(Profile::load("provided.al2023").unwrap().host.is_none());
    }

    /// A profile of its own for arm64 names its OS as the x86_64 one does.
    #[test]
    fn an_aarch64_profile_extends_the_arm64_os() {
        let own = r#"{"schema": 1, "name": "mine", "description": "d", "arch": "aarch64", "extends": "amazonlinux-2023"}"#;
        let profile = Profile::parse("test", own).unwrap();
        let sonames: Vec<&str> = profile
            .libraries
            .iter()
            .filter_map(|l| l.soname.as_deref())
            .collect();
        assert!(sonames.contains(&"ld-linux-aarch64.so.1"), "{sonames:?}");
        assert!(!sonames.contains(&"ld-linux-x86-64.so.2"), "{sonames:?}");
        let x86 = Profile::parse("test", &own.replace("aarch64", "x86_64")).unwrap();
        assert!(x86
            .libraries
            .iter()
            .any(|l| l.soname.as_deref() == Some("ld-linux-x86-64.so.2")));
    }

    #[test]
    fn extends_names_a_builtin_base_of_one_level() {
        let error = |text: &str| Profile::parse("test", text).unwrap_err().to_string();
        assert!(error(r#"{"extends": "amazonlinux-1999"}"#).contains("not a built-in profile"));
        assert!(error(r#"{"extends": "python3.12"}"#).contains("itself extends"));
    }

    #[test]
    fn a_module_is_named_by_the_suffixes_its_importer_accepts() {
        let host = Profile::load("python3.9").unwrap().host.unwrap();
        assert_eq!(
            host.module_of("_psycopg.cpython-39-x86_64-linux-gnu.so"),
            Some("_psycopg")
        );
        assert_eq!(host.module_of("_rust.abi3.so"), Some("_rust"));
        assert_eq!(host.module_of("liblambda.so"), Some("liblambda"));
        // Another version's suffix leaves a dotted stem: no `import` opens it.
        assert_eq!(
            host.module_of("_psycopg.cpython-311-x86_64-linux-gnu.so"),
            None
        );
        assert_eq!(host.module_of("libfoo.so.1"), None);
        assert_eq!(host.module_of(".so"), None);
    }

    #[test]
    fn a_profile_of_another_schema_is_refused() {
        let text = include_str!("../profiles/amazonlinux-2.json").replacen(
            "\"schema\": 1",
            "\"schema\": 2",
            1,
        );
        let error = Profile::parse("test", &text).unwrap_err().to_string();
        assert!(error.contains("schema 2 is not supported"), "{}", error);
    }
}
