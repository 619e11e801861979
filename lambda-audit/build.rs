//! The built-in profiles as the binary embeds them: each file with its
//! export lists taken out (a list becomes `["\u0000<number>"]`, the number
//! of the list in `exports.txt`), so loading a profile parses a few
//! kilobytes, and a list is read, in place, only when a check looks a name
//! up in it (`profile::Exports`). Writes `builtin.rs` (every file's text,
//! by name, and where each list ends) into `OUT_DIR`.

use std::path::Path;

use serde_json::Value;

fn main() {
    println!("cargo:rerun-if-changed=profiles");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut files: Vec<_> = std::fs::read_dir("profiles")
        .expect("profiles/")
        .map(|e| e.expect("profiles/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.ends_with("distribution-packages.json"))
        .collect();
    files.sort();
    let mut lists = String::new();
    let mut ends = Vec::new();
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
        take_lists(&mut value, &mut lists, &mut ends);
        let stripped = Path::new(&out).join(format!("{stem}.json"));
        std::fs::write(&stripped, value.to_string()).expect("writing OUT_DIR");
        code += &format!("    ({stem:?}, include_str!({:?})),\n", stripped);
    }
    code += "];\n\n/// Where each export list ends in `EXPORTS`.\n";
    code += &format!("pub const LIST_ENDS: &[u32] = &{ends:?};\n\n");
    let lists_file = Path::new(&out).join("exports.txt");
    std::fs::write(&lists_file, &lists).expect("writing OUT_DIR");
    code += "/// Every export list, one after another, its entries ended by newlines.\n";
    code += &format!("pub const EXPORTS: &str = include_str!({lists_file:?});\n");
    std::fs::write(Path::new(&out).join("builtin.rs"), code).expect("writing OUT_DIR");
}

/// Moves the export lists of `libraries[]` and `host` into `lists`.
fn take_lists(profile: &mut Value, lists: &mut String, ends: &mut Vec<u32>) {
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
        for entry in list.as_array().expect("an array") {
            let entry = entry.as_str().expect("exports are strings");
            assert!(
                !entry.is_empty() && !entry.contains('\n'),
                "export {entry:?}"
            );
            lists.push_str(entry);
            lists.push('\n');
        }
        *list = Value::from(vec![format!("\0{}", ends.len())]);
        ends.push(u32::try_from(lists.len()).expect("under 4 GiB"));
    }
}
