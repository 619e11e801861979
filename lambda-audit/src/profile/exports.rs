//! The export index: a library's (or the host's) exported symbols as the
//! profile lists them (`name`, `name@@VERSION`, `name@VERSION`), a file's
//! own list or a built-in's read in place from the binary, and the table a
//! check looks symbols up in.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::builtin;
use crate::elf::Export;

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
    pub(super) fn builtin_mark(&self) -> Option<usize> {
        match &self.list {
            List::Owned(entries) if entries.len() == 1 => {
                entries[0].strip_prefix('\0')?.parse().ok()
            }
            _ => None,
        }
    }

    /// Built-in list `number` (see build.rs).
    pub(super) fn builtin(number: usize) -> Option<Exports> {
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

/// `parse_export`, borrowing: (name, version, hidden). The name ends at
/// the first `@@`, else at the first `@`; both searched with `memchr` (a
/// lookup parses each definition it finds).
pub(super) fn parse_export_borrowed(entry: &str) -> (&str, Option<&str>, bool) {
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
