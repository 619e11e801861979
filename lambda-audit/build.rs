//! The built-in profiles as the binary embeds them: each file with its
//! export lists taken out (a list becomes `["\u0000<number>"]`, the number
//! of the list), so loading a profile parses a few kilobytes, and a list is
//! read in place, by binary search, only when a check looks a name up in
//! it (`profile::Exports`). The lists are sorted, as `profile scan` writes
//! them; with each goes where its entries of each first byte start, so a
//! search looks only among the names that begin as the one looked up.
//! Writes `builtin.rs` (every file's text, by name, and the lists) into
//! `OUT_DIR`.

use std::path::Path;

use serde_json::Value;

fn main() {
    println!("cargo:rerun-if-changed=profiles");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut files: Vec<_> = std::fs::read_dir("profiles")
        .expect("profiles/")
        .map(|e| e.expect("profiles/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        // The pins the profiles are derived from are no profiles.
        .filter(|p| {
            !p.ends_with("distribution-packages.json") && !p.ends_with("node-packages.json")
        })
        .collect();
    files.sort();
    let mut lists = Lists::default();
    let mut code =
        String::from("/// Built-in profile files without their export lists, by name.\n");
    code += "pub const STRIPPED: &[(&str, &str)] = &[\n";
    for file in &files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 name");
        let text = std::fs::read_to_string(file).expect("a profile file");
        let mut value: Value = serde_json::from_str(&text).expect("a JSON profile");
        take_lists(&mut value, &mut lists);
        let stripped = Path::new(&out).join(format!("{stem}.json"));
        std::fs::write(&stripped, value.to_string()).expect("writing OUT_DIR");
        code += &format!("    ({stem:?}, include_str!({:?})),\n", stripped);
    }
    code += "];\n\n/// How many entries there are up to each export list's end.\n";
    code += &format!("pub const LIST_ENDS: &[u32] = &{:?};\n\n", lists.list_ends);
    let text = Path::new(&out).join("exports.txt");
    std::fs::write(&text, &lists.text).expect("writing OUT_DIR");
    code += "/// Every export list's entries, each ended by a newline.\n";
    code += &format!("pub const EXPORTS: &str = include_str!({text:?});\n\n");
    let ends = Path::new(&out).join("entry-ends.bin");
    std::fs::write(&ends, &lists.entry_ends).expect("writing OUT_DIR");
    code += "/// Where each entry's newline is in `EXPORTS` (u32, little-endian).\n";
    code += &format!("pub const ENTRY_ENDS: &[u8] = include_bytes!({ends:?});\n\n");
    let starts = Path::new(&out).join("byte-starts.bin");
    std::fs::write(&starts, &lists.byte_starts).expect("writing OUT_DIR");
    code += "/// For each list, 257 positions in it (u32, little-endian): the first\n";
    code += "/// entry whose first byte is not below `b`, for each `b` of 0..=256.\n";
    code += &format!("pub const BYTE_STARTS: &[u8] = include_bytes!({starts:?});\n");
    std::fs::write(Path::new(&out).join("builtin.rs"), code).expect("writing OUT_DIR");
}

/// Every export list, one after another: `text` (each entry ended by a
/// newline), `entry_ends` (where each entry's newline is, u32 little-endian),
/// `list_ends` (how many entries there are up to each list's end) and
/// `byte_starts` (each list's `first_byte_starts`, u32 little-endian).
#[derive(Default)]
struct Lists {
    text: String,
    entry_ends: Vec<u8>,
    list_ends: Vec<u32>,
    byte_starts: Vec<u8>,
}

/// For each byte `b` of 0..=256, how many of the sorted `entries` begin
/// with a byte below `b`: entries beginning with `b` are those from
/// position `b` to position `b + 1`.
fn first_byte_starts(entries: &[&str]) -> Vec<u32> {
    (0..=256u32)
        .map(|b| {
            let below = entries.partition_point(|e| u32::from(e.as_bytes()[0]) < b);
            offset(below)
        })
        .collect()
}

/// Moves the export lists of `libraries[]` and `host` into `lists`.
fn take_lists(profile: &mut Value, lists: &mut Lists) {
    let Some(fields) = profile.as_object_mut() else {
        return;
    };
    let mut holders = Vec::new();
    for (key, field) in fields.iter_mut() {
        match key.as_str() {
            "libraries" => holders.extend(field.as_array_mut().into_iter().flatten()),
            "host" => holders.push(field),
            _ => {}
        }
    }
    for holder in holders {
        let Some(list) = holder.get_mut("exports").filter(|l| l.is_array()) else {
            continue;
        };
        let entries: Vec<&str> = list
            .as_array()
            .expect("an array")
            .iter()
            .map(|e| e.as_str().expect("exports are strings"))
            .collect();
        assert!(
            entries.windows(2).all(|w| w[0] <= w[1]),
            "a built-in export list is sorted, as `profile scan` writes it"
        );
        for entry in &entries {
            assert!(
                !entry.is_empty() && !entry.contains('\n'),
                "export {entry:?}"
            );
            lists.text.push_str(entry);
            lists
                .entry_ends
                .extend(offset(lists.text.len()).to_le_bytes());
            lists.text.push('\n');
        }
        for start in first_byte_starts(&entries) {
            lists.byte_starts.extend(start.to_le_bytes());
        }
        *list = Value::from(vec![format!("\0{}", lists.list_ends.len())]);
        lists.list_ends.push(offset(lists.entry_ends.len() / 4));
    }
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("under 4 GiB")
}
