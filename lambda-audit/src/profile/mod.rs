//! Runtime profiles: a Lambda runtime as data.
//!
//! A profile says where the runtime's loader looks (the `LD_LIBRARY_PATH` in
//! order, then its default directories), which libraries it finds there with
//! their version definitions and (where known) exported symbols, what the host
//! process provides, and which libraries must not be linked dynamically.
//! Built-in profiles live in `profiles/*.json` and are embedded; any other
//! profile is a file with the same schema (see `profiles/README.md`), usually
//! written by `lambda-audit profile scan`.
//!
//! Three rooms: `schema` (the data), `builtin` (the embedded table and
//! which profile a name means), `exports` (the export index); here, how a
//! profile is read: a file or a built-in, over the base it `extends`,
//! validated.

mod builtin;
mod exports;
mod schema;

pub use builtin::{LambdaArch, BUILTIN, DEFAULT_PROFILE};
pub use exports::{export_table, format_export, parse_export, ExportTable, Exports};
pub use schema::*;

use std::path::Path;
use std::sync::OnceLock;

use crate::elf::Arch;
use crate::error::{AuditError, Result};
use crate::lifecycle::is_date;
use builtin::{base_for_arch, builtin_for};

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
    use super::exports::parse_export_borrowed;
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
        let facts = include_str!("../../../docs/runtime-facts.md");
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
        let text = include_str!("../../profiles/amazonlinux-2.json").replacen(
            "\"schema\": 1",
            "\"schema\": 2",
            1,
        );
        let error = Profile::parse("test", &text).unwrap_err().to_string();
        assert!(error.contains("schema 2 is not supported"), "{}", error);
    }
}
