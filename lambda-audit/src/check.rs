//! Judging a resolved closure against the runtime profile, as the loader would.
//!
//! Works on facts already read (the closure and the profile) and never reads
//! the runtime's disk. The rules follow glibc: every version a file needs must
//! be defined by the library that resolves (a missing version fails the load
//! unless its version-need entry is flagged `VER_FLG_WEAK`: a weak *symbol*
//! does not make its version optional); every non-weak undefined symbol must be
//! defined somewhere in the process's scope, matching its version; a weak
//! undefined symbol nobody defines is null, not an error.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashSet};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::elf::{read_elf, ElfFacts, ElfKind, Export, Import, VersionDef};
use crate::error::Result;
use crate::lexical::normalized;
use crate::openssl::{dynamic_libraries, version_texts, OpensslUse, VersionText};
use crate::profile::{ExportTable, Host, Profile};
use crate::resolve::{resolve, Closure, Outcome, Role, Source, TaskDir};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One reason an artifact will not load, or a warning about how it loads.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Finding {
    /// ELF class or machine differs from the runtime's.
    WrongArch {
        object: String,
        found: String,
        expected: String,
    },
    /// The artifact cannot be loaded the way the runtime loads it.
    NotLoadable {
        object: String,
        reason: String,
        fix: String,
    },
    /// A Python extension module (it exports `PyInit_<name>`) whose file name
    /// the host's importer never opens: built for another interpreter.
    ForeignModule {
        object: String,
        reason: String,
        fix: String,
    },
    /// The program's interpreter (PT_INTERP) is not in the runtime.
    MissingInterpreter { object: String, interpreter: String },
    /// A DT_NEEDED entry that nothing in the search order provides.
    MissingLibrary {
        needed_by: String,
        library: String,
        searched: Vec<String>,
        skipped: Vec<String>,
    },
    /// The first file the search finds for a DT_NEEDED entry is not a loadable
    /// ELF object; the loader stops there ("invalid ELF header").
    BrokenLibrary {
        needed_by: String,
        library: String,
        path: String,
        reason: String,
    },
    /// A version the resolved library does not define.
    MissingVersion {
        object: String,
        library: String,
        library_path: String,
        version: String,
        /// The symbols bound to that version, `name@VERSION`.
        symbols: Vec<String>,
        runtime_versions: Vec<String>,
        /// True when the version-need entry is flagged VER_FLG_WEAK (only a warning).
        weak: bool,
    },
    /// A non-weak undefined symbol nothing in the process defines.
    UndefinedSymbol {
        object: String,
        symbol: String,
        library: Option<String>,
    },
    /// A library the profile's policy forbids as a DT_NEEDED entry.
    ForbiddenLibrary {
        object: String,
        library: String,
        reason: String,
        fix: String,
    },
    /// A Node.js package whose loader finds no file for the runtime
    /// (node-gyp-build: no prebuild for its platform, CPU, libc and ABI).
    /// A warning when its main module falls back to JavaScript then
    /// (`fallback`: ws's bufferutil and utf-8-validate).
    MissingVariant {
        package: String,
        reason: String,
        fallback: bool,
    },
    /// A packaged library that never loads because another file of that name wins.
    Shadowed {
        bundled: String,
        name: String,
        loaded: String,
        rule: String,
    },
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::Shadowed { .. } => Severity::Warning,
            Finding::MissingVersion { weak: true, .. } => Severity::Warning,
            Finding::MissingVariant { fallback: true, .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Finding::WrongArch { .. } => "wrong-arch",
            Finding::NotLoadable { .. } => "not-loadable",
            Finding::ForeignModule { .. } => "foreign-module",
            Finding::MissingInterpreter { .. } => "missing-interpreter",
            Finding::MissingLibrary { .. } => "missing-library",
            Finding::BrokenLibrary { .. } => "broken-library",
            Finding::MissingVersion { .. } => "missing-version",
            Finding::UndefinedSymbol { .. } => "undefined-symbol",
            Finding::ForbiddenLibrary { .. } => "forbidden-library",
            Finding::MissingVariant { .. } => "missing-variant",
            Finding::Shadowed { .. } => "shadowed",
        }
    }
}

/// The verdict on one artifact.
#[derive(Debug)]
pub struct Report {
    pub artifact: PathBuf,
    pub runtime_path: String,
    pub profile: String,
    /// The profile's architecture (its ELF name: `x86_64`, `aarch64`).
    pub arch: String,
    pub findings: Vec<Finding>,
    /// `None` when the artifact could not be resolved (wrong architecture).
    pub closure: Option<Closure>,
    /// Undefined symbols that could not be proven present or absent: the
    /// profile does not list the exports of a library in scope.
    pub unverified_symbols: usize,
    /// The Python distribution that installed the file (`name version`, from
    /// its `*.dist-info/RECORD`), when the file is part of a checked package.
    pub distribution: Option<String>,
    /// Which OpenSSL the artifact carries (said, not judged: no finding).
    pub openssl: OpensslUse,
    /// The layer (as given to `--with-layer`) the file came from, when it
    /// is one of a function's layers' files.
    pub layer: Option<String>,
    /// Why the runtime's loader never opens this file (a Node.js package's
    /// prebuild for another platform, CPU, libc or ABI: `loaders`); such a
    /// report has no findings and no closure.
    pub never_opened: Option<String>,
}

impl Report {
    pub fn loads(&self) -> bool {
        self.findings
            .iter()
            .all(|f| f.severity() != Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == severity)
            .count()
    }
}

/// Audits `artifact` for `profile`; `package` is the local directory the
/// runtime sees as its task root (`/var/task`), if any.
pub fn check(profile: &Profile, package: Option<&Path>, artifact: &Path) -> Result<Report> {
    check_in(
        profile,
        &TaskDir::new(&profile.task_root, package),
        artifact,
    )
}

/// `check` against a task directory shared by many checks (its package
/// listing is read once: `zip` checks every ELF file of a package).
pub fn check_in(profile: &Profile, task: &TaskDir, artifact: &Path) -> Result<Report> {
    check_read(profile, task, artifact, &Artifact::read(artifact)?)
}

/// What a check reads of an artifact whatever the profile: its ELF facts
/// and the OpenSSL version texts in it, and what built-in export lists
/// answered for its imports. Read once, it serves every profile of a
/// matrix.
#[derive(Debug, Clone)]
pub struct Artifact {
    facts: Arc<ElfFacts>,
    linked_in: Vec<VersionText>,
    answers: Answers,
}

impl Artifact {
    pub fn read(path: &Path) -> Result<Artifact> {
        Ok(Artifact {
            facts: Arc::new(read_elf(path)?),
            linked_in: version_texts(path)?,
            answers: Answers::default(),
        })
    }
}

/// Whether a built-in export list defines an import of the artifact, as
/// looked up: by the list's number, an answer or none yet for each import
/// (by its index); empty for a list not asked. The runtimes over one OS
/// share its libraries' lists (`profile::builtin_base`), so a matrix of
/// them looks each import up in libc's list once, not once a runtime. By
/// index, not hashed: remembering costs a single check next to nothing.
#[derive(Debug, Clone, Default)]
struct Answers(RefCell<Vec<Vec<Option<bool>>>>);

impl Answers {
    /// `ask()`, the answer of built-in list `list` (if it is one) for import
    /// `import` of `imports`, asked once.
    fn remembered(
        &self,
        list: Option<u32>,
        import: usize,
        imports: usize,
        ask: impl FnOnce() -> bool,
    ) -> bool {
        let Some(list) = list.map(|n| n as usize) else {
            return ask();
        };
        let mut lists = self.0.borrow_mut();
        if lists.len() <= list {
            lists.resize_with(list + 1, Vec::new);
        }
        let answers = &mut lists[list];
        if answers.is_empty() {
            *answers = vec![None; imports];
        }
        *answers[import].get_or_insert_with(ask)
    }
}

/// `check_in` of an artifact already read (`Artifact::read` of `artifact`).
pub fn check_read(
    profile: &Profile,
    task: &TaskDir,
    artifact: &Path,
    read: &Artifact,
) -> Result<Report> {
    let facts = read.facts.clone();
    let mut openssl = OpensslUse {
        linked_in: read.linked_in.clone(),
        dynamic: Vec::new(),
    };
    let name = artifact
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut findings = Vec::new();

    let expected = profile.arch().expect("validated profile");
    if facts.arch != expected {
        findings.push(Finding::WrongArch {
            object: name.clone(),
            found: facts.arch.name(),
            expected: expected.name(),
        });
        return Ok(Report {
            artifact: artifact.to_path_buf(),
            runtime_path: task
                .runtime_path_of(artifact)
                .unwrap_or_else(|| format!("{}/{}", task.root, name)),
            profile: profile.name.clone(),
            arch: profile.arch.clone(),
            findings,
            closure: None,
            unverified_symbols: 0,
            distribution: None,
            openssl,
            layer: None,
            never_opened: None,
        });
    }
    findings.extend(loadability(profile, &name, &facts));

    let closure = resolve(profile, task, artifact, facts)?;
    findings.extend(missing_libraries(profile, &closure));
    findings.extend(forbidden_libraries(profile, &closure));
    let version_findings = missing_versions(profile, &closure);
    let (symbol_findings, unverified_symbols) =
        undefined_symbols(profile, &closure, &version_findings, read);
    findings.extend(version_findings);
    findings.extend(symbol_findings);
    findings.extend(shadowed(task, &closure));
    openssl.dynamic = dynamic_libraries(&closure);

    Ok(Report {
        artifact: artifact.to_path_buf(),
        runtime_path: closure.objects[closure.artifact].runtime_path.clone(),
        profile: profile.name.clone(),
        arch: profile.arch.clone(),
        findings,
        closure: Some(closure),
        unverified_symbols,
        distribution: None,
        openssl,
        layer: None,
        never_opened: None,
    })
}

/// What `require()` needs of a Node.js addon: the `.node` name (node
/// opens no other file as an addon) and a registration node accepts
/// (node's `DLOpen`, src/node_binding.cc): a call from a constructor to
/// `node_module_register` or N-API's `napi_module_register` (the
/// `NAPI_MODULE` macro of older N-API headers) when the file loads; or
/// N-API's `napi_register_module_v1` (any Node.js with the functions it
/// imports); or `node_register_module_v<N>`, looked up by its exact name
/// for the host's own NODE_MODULE_VERSION (an addon built against V8
/// directly). An addon registered only for other versions is a
/// `foreign-module`: node refuses it, although nothing in it is missing.
fn node_addon(host: &Host, abi: u32, name: &str, facts: &ElfFacts) -> Option<Finding> {
    let not_loadable = |reason: String, fix: &str| {
        Some(Finding::NotLoadable {
            object: name.into(),
            reason,
            fix: fix.into(),
        })
    };
    let built_for = node_module_versions(facts);
    let registers = facts
        .imports
        .iter()
        .any(|i| i.name == "node_module_register" || i.name == "napi_module_register");
    let registered = registers
        || facts.exports.contains_key("napi_register_module_v1")
        || built_for.contains(&abi);
    if !registered && !built_for.is_empty() {
        let versions: Vec<String> = built_for.iter().map(u32::to_string).collect();
        return Some(Finding::ForeignModule {
            object: name.into(),
            reason: format!(
                "it was compiled against NODE_MODULE_VERSION {}; {} requires NODE_MODULE_VERSION {abi}",
                versions.join(", "),
                host.executable
            ),
            fix: "rebuild it with the runtime's Node.js version (npm rebuild, or npm install under that version), or use an N-API build of the addon".into(),
        });
    }
    if !name.ends_with(".node") {
        return not_loadable(
            format!("{} loads addons only from .node files", host.executable),
            "require() the addon's .node file (a library it needs is judged with it)",
        );
    }
    if registered {
        return None;
    }
    not_loadable(
        format!("it exports neither napi_register_module_v1 nor node_register_module_v{abi}, so require() fails with \"Module did not self-register\""),
        "build it as a Node.js addon (node-addon-api, napi-rs or node-gyp)",
    )
}

/// The NODE_MODULE_VERSIONs an addon registers for: each export
/// `node_register_module_v<N>` whose N is as node spells it (decimal
/// digits, no sign, no leading zero), since node looks the name up whole.
fn node_module_versions(facts: &ElfFacts) -> BTreeSet<u32> {
    facts
        .exports
        .keys()
        .filter_map(|symbol| {
            let digits = symbol.strip_prefix("node_register_module_v")?;
            let canonical = digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.is_empty()
                && (digits == "0" || !digits.starts_with('0'));
            canonical.then(|| digits.parse().ok()).flatten()
        })
        .collect()
}

/// Can the runtime load this kind of file at all?
fn loadability(profile: &Profile, name: &str, facts: &ElfFacts) -> Vec<Finding> {
    let mut findings = Vec::new();
    match &profile.host {
        Some(host) => {
            if facts.kind != ElfKind::SharedObject
                || facts.interpreter.is_some() && facts.exports.contains_key("main")
            {
                findings.push(Finding::NotLoadable {
                    object: name.into(),
                    reason: format!(
                        "{} imports shared objects; this is an executable",
                        host.executable
                    ),
                    fix: "build a cdylib (crate-type = [\"cdylib\"])".into(),
                });
            }
            if let Some(abi) = host.node_module_version {
                findings.extend(node_addon(host, abi, name, facts));
            }
            if let Some(prefix) = &host.module_init_prefix {
                let Some(module) = host.module_of(name) else {
                    let module = name.split('.').next().unwrap_or(name);
                    // Exporting the init function of its name, it is a module
                    // for another interpreter; otherwise a library (judged as
                    // one inside a package).
                    let reason = format!(
                        "`import {module}` in {} looks only for {}, so it never opens {name}",
                        host.executable,
                        host.extension_suffixes
                            .iter()
                            .map(|s| format!("{module}{s}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    let fix = format!(
                        "use the build of {module} for this interpreter (its own {} suffix, or an abi3 build its version supports)",
                        host.extension_suffixes.first().map(String::as_str).unwrap_or(".so")
                    );
                    let object = name.to_string();
                    findings.push(
                        if facts.exports.contains_key(&format!("{prefix}{module}")) {
                            Finding::ForeignModule {
                                object,
                                reason,
                                fix,
                            }
                        } else {
                            Finding::NotLoadable {
                                object,
                                reason,
                                fix,
                            }
                        },
                    );
                    return findings;
                };
                let init = format!("{}{}", prefix, module);
                if !facts.exports.contains_key(&init) {
                    findings.push(Finding::NotLoadable {
                        object: name.into(),
                        reason: format!("it does not export {}, so `import {}` fails", init, module),
                        fix: format!(
                            "name the file after the module its init function declares (crowbar's lambda! exports PyInit_liblambda: liblambda.so), or export {}",
                            init
                        ),
                    });
                }
            }
        }
        None => {
            if facts.kind != ElfKind::Executable && facts.interpreter.is_none() {
                findings.push(Finding::NotLoadable {
                    object: name.into(),
                    reason: "the runtime executes the artifact as its program, and this is not an executable".into(),
                    fix: "build a binary target named bootstrap".into(),
                });
            }
            if let Some(interp) = &facts.interpreter {
                let wanted = normalized(interp);
                let known = profile
                    .libraries
                    .iter()
                    .any(|l| l.paths.iter().any(|p| normalized(p) == wanted));
                if !known {
                    findings.push(Finding::MissingInterpreter {
                        object: name.into(),
                        interpreter: interp.clone(),
                    });
                }
            }
        }
    }
    findings
}

fn missing_libraries(profile: &Profile, closure: &Closure) -> Vec<Finding> {
    closure
        .edges
        .iter()
        .filter_map(|edge| match &edge.outcome {
            Outcome::Missing { searched, skipped } => {
                let from = &closure.objects[edge.from];
                // The profile may not list every system library; their own
                // needs are only judged when it claims to be complete.
                if matches!(from.source, Source::Runtime(_) | Source::Host) && !profile.complete {
                    return None;
                }
                Some(Finding::MissingLibrary {
                    needed_by: from.display_name().to_string(),
                    library: edge.name.clone(),
                    searched: searched.clone(),
                    skipped: skipped
                        .iter()
                        .map(|(p, why)| format!("{}: {}", p, why))
                        .collect(),
                })
            }
            Outcome::Broken { path, reason } => Some(Finding::BrokenLibrary {
                needed_by: closure.objects[edge.from].display_name().to_string(),
                library: edge.name.clone(),
                path: path.clone(),
                reason: reason.clone(),
            }),
            Outcome::Found { .. } => None,
        })
        .collect()
}

fn forbidden_libraries(profile: &Profile, closure: &Closure) -> Vec<Finding> {
    let mut findings = Vec::new();
    for object in closure.objects.iter().filter(|o| o.is_local()) {
        for needed in object.facts.iter().flat_map(|f| f.needed.iter()) {
            if let Some(rule) = profile
                .policy
                .forbidden_needed
                .iter()
                .find(|r| r.matches(needed))
            {
                findings.push(Finding::ForbiddenLibrary {
                    object: object.display_name().to_string(),
                    library: needed.clone(),
                    reason: rule.reason.clone(),
                    fix: rule.fix.clone(),
                });
            }
        }
    }
    findings
}

/// The object a version need of `from` refers to: the one loaded for `file`.
fn loaded_for(closure: &Closure, from: usize, file: &str) -> Option<usize> {
    closure
        .edges_from(from)
        .find_map(|e| match &e.outcome {
            Outcome::Found { object, .. } if e.name == file => Some(*object),
            _ => None,
        })
        .or_else(|| {
            closure
                .objects
                .iter()
                .position(|o| o.names.iter().any(|n| n == file))
        })
}

/// The version names an object defines, where they are (not copied: most
/// needs are met, and only a missing one's finding lists them).
enum Versions<'a> {
    Read(&'a [VersionDef]),
    Listed(&'a [String]),
}

impl Versions<'_> {
    fn contains(&self, version: &str) -> bool {
        match self {
            Versions::Read(defs) => defs.iter().any(|d| d.name == version),
            Versions::Listed(names) => names.iter().any(|v| v == version),
        }
    }

    fn to_vec(&self) -> Vec<String> {
        match self {
            Versions::Read(defs) => defs.iter().map(|d| d.name.clone()).collect(),
            Versions::Listed(names) => names.to_vec(),
        }
    }
}

/// The version names an object defines, if known.
fn defined_versions<'a>(
    profile: &'a Profile,
    closure: &'a Closure,
    index: usize,
) -> Option<Versions<'a>> {
    let object = &closure.objects[index];
    match (&object.source, &object.facts) {
        (_, Some(facts)) => {
            // A library without version definitions satisfies any need (glibc only warns).
            if facts.version_defs.is_empty() {
                None
            } else {
                Some(Versions::Read(&facts.version_defs))
            }
        }
        (Source::Runtime(lib), None) => profile.libraries[*lib]
            .versions
            .as_deref()
            .map(Versions::Listed),
        _ => None,
    }
}

fn missing_versions(profile: &Profile, closure: &Closure) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, object) in closure
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_local())
    {
        let Some(facts) = &object.facts else { continue };
        for need in &facts.version_needs {
            let Some(target) = loaded_for(closure, index, &need.file) else {
                continue;
            };
            let Some(versions) = defined_versions(profile, closure, target) else {
                continue;
            };
            if versions.contains(&need.version) {
                continue;
            }
            let mut symbols: Vec<String> = facts
                .symbols_needing(need.index)
                .iter()
                .map(|i| format!("{}@{}", i.name, need.version))
                .collect();
            symbols.sort();
            symbols.dedup();
            findings.push(Finding::MissingVersion {
                object: object.display_name().to_string(),
                library: need.file.clone(),
                library_path: closure.objects[target].runtime_path.clone(),
                version: need.version.clone(),
                symbols,
                runtime_versions: versions.to_vec(),
                weak: need.weak,
            });
        }
    }
    findings
}

/// What one scope object says about a symbol reference.
enum Lookup {
    Defined,
    NotDefined,
    Unknown,
}

/// glibc's `check_match`: do the definitions of a name (version, hidden)
/// satisfy a reference? Without version tables, any definition does.
fn satisfies<'d>(
    mut defs: impl Iterator<Item = (Option<&'d str>, bool)>,
    version: Option<&str>,
    object_versioned: bool,
) -> bool {
    if !object_versioned {
        return defs.next().is_some();
    }
    defs.any(|(have, hidden)| match (version, have) {
        // A versioned reference takes the same version, or an unversioned, non-hidden definition.
        (Some(wanted), Some(have)) => wanted == have,
        (Some(_), None) => !hidden,
        // An unversioned reference takes the default (non-hidden) definition.
        (None, _) => !hidden,
    })
}

/// A closure's scope, as the loader searches it for a symbol: every
/// object, in load order.
struct Scope<'a> {
    profile: &'a Profile,
    closure: &'a Closure,
    read: &'a Artifact,
}

impl Scope<'_> {
    /// What object `index` says of `import`; `key` is the import's index
    /// when it is one of the artifact's own (its answers are remembered).
    fn lookup(&self, index: usize, import: &Import, key: Option<usize>) -> Lookup {
        let (name, version) = (import.name.as_str(), import.version.as_deref());
        let host = self.profile.host.as_ref();
        let object = &self.closure.objects[index];
        match (&object.source, &object.facts) {
            (_, Some(facts)) => {
                let defs = facts.exports.get(name).into_iter().flatten();
                let defs = defs.map(|d: &Export| (d.version.as_deref(), d.hidden));
                found(satisfies(defs, version, facts.versioned))
            }
            (Source::Runtime(lib), None) => match self.profile.library_exports(*lib) {
                Some(table) => found(self.listed(table, import, key)),
                None => Lookup::Unknown,
            },
            (Source::Host, None) => match self.profile.host_exports() {
                Some(table) => match self.listed(table, import, key) {
                    true => Lookup::Defined,
                    // Not listed, and the list does not cover the name.
                    false if host.is_some_and(|h| !h.covers(name)) => Lookup::Unknown,
                    false => Lookup::NotDefined,
                },
                // A host known only by its export prefixes (the Python C API)
                // exports names with those prefixes and nothing else.
                None => match host.map(|h| h.export_prefixes.as_slice()) {
                    Some(prefixes) if !prefixes.is_empty() => {
                        found(prefixes.iter().any(|p| name.starts_with(p.as_str())))
                    }
                    _ => Lookup::Unknown,
                },
            },
            _ => Lookup::Unknown,
        }
    }

    /// Whether an export list defines `import`: a built-in list's answer
    /// for one of the artifact's imports is remembered across the run.
    fn listed(&self, table: ExportTable<'_>, import: &Import, key: Option<usize>) -> bool {
        let ask = || satisfies(table.get(&import.name), import.version.as_deref(), true);
        match key {
            Some(key) => {
                let imports = self.read.facts.imports.len();
                let list = table.builtin_number();
                self.read.answers.remembered(list, key, imports, ask)
            }
            None => ask(),
        }
    }

    /// What the whole scope says of `import`: defined if an object defines
    /// it, else unknown if an object's exports are not known, else not
    /// defined. That answer does not depend on the order, so the object its
    /// version need names (`first`: where a versioned reference is usually
    /// defined) is asked before the others, saving a search of the host's
    /// list and those before it.
    fn verdict(&self, import: &Import, key: Option<usize>, first: Option<usize>) -> Lookup {
        let mut unknown = false;
        if let Some(first) = first {
            match self.lookup(first, import, key) {
                Lookup::Defined => return Lookup::Defined,
                Lookup::Unknown => unknown = true,
                Lookup::NotDefined => {}
            }
        }
        for index in (0..self.closure.objects.len()).filter(|i| Some(*i) != first) {
            match self.lookup(index, import, key) {
                Lookup::Defined => return Lookup::Defined,
                Lookup::Unknown => unknown = true,
                Lookup::NotDefined => {}
            }
        }
        match unknown {
            true => Lookup::Unknown,
            false => Lookup::NotDefined,
        }
    }
}

fn found(defined: bool) -> Lookup {
    match defined {
        true => Lookup::Defined,
        false => Lookup::NotDefined,
    }
}

/// The object loaded for each file the version needs of object `index`
/// name (`loaded_for`), once per file rather than once per import.
fn version_need_targets<'a>(
    closure: &Closure,
    index: usize,
    facts: &'a ElfFacts,
) -> Vec<(&'a str, Option<usize>)> {
    let mut targets: Vec<(&str, Option<usize>)> = Vec::new();
    for need in &facts.version_needs {
        if !targets.iter().any(|(file, _)| *file == need.file) {
            targets.push((&need.file, loaded_for(closure, index, &need.file)));
        }
    }
    targets
}

fn undefined_symbols(
    profile: &Profile,
    closure: &Closure,
    version_findings: &[Finding],
    read: &Artifact,
) -> (Vec<Finding>, usize) {
    let scope = Scope {
        profile,
        closure,
        read,
    };

    // References whose version is already reported missing are not reported twice.
    let reported: HashSet<(&str, &str)> = version_findings
        .iter()
        .filter_map(|f| match f {
            Finding::MissingVersion {
                object, version, ..
            } => Some((object.as_str(), version.as_str())),
            _ => None,
        })
        .collect();

    let mut findings = Vec::new();
    let mut unverified = 0;
    for (index, object) in closure.objects.iter().enumerate() {
        if !object.is_local() {
            continue;
        }
        let Some(facts) = &object.facts else { continue };
        let display_name = object.display_name();
        // The artifact's own facts: the same imports for every profile.
        let remembered = Arc::ptr_eq(facts, &read.facts);
        let targets = version_need_targets(closure, index, facts);
        for (at, import) in facts.imports.iter().enumerate() {
            if import.weak {
                continue;
            }
            if let Some(v) = import.version.as_deref().filter(|_| !reported.is_empty()) {
                if reported.contains(&(display_name, v)) {
                    continue;
                }
            }
            let first = import.from.as_deref().and_then(|from| {
                targets
                    .iter()
                    .find_map(|(file, target)| (*file == from).then_some(*target)?)
            });
            let key = remembered.then_some(at);
            match scope.verdict(import, key, first) {
                Lookup::Defined => continue,
                Lookup::Unknown => {
                    unverified += 1;
                    continue;
                }
                Lookup::NotDefined => {}
            }
            findings.push(Finding::UndefinedSymbol {
                object: display_name.to_string(),
                symbol: match &import.version {
                    Some(v) => format!("{}@{}", import.name, v),
                    None => import.name.clone(),
                },
                library: import.from.clone(),
            });
        }
    }
    (findings, unverified)
}

/// Packaged libraries that a file of the same name elsewhere beats.
fn shadowed(task: &TaskDir, closure: &Closure) -> Vec<Finding> {
    let loaded: HashSet<&PathBuf> = closure
        .objects
        .iter()
        .filter_map(|o| match &o.source {
            Source::Local(p) => Some(p),
            _ => None,
        })
        .collect();
    // Packaged libraries a loaded object's name or soname matches, looked up
    // by name (linear in the closure, whatever the package's size), reported
    // in the package's order.
    let mut candidates = std::collections::BTreeSet::new();
    for object in closure.objects.iter().filter(|o| o.role != Role::Artifact) {
        for name in &object.names {
            candidates.extend(task.packaged_named(name).iter().copied());
        }
    }
    let packaged = task.packaged_libraries();
    let mut findings = Vec::new();
    for library in candidates.into_iter().map(|i| &packaged[i]) {
        if loaded.contains(&library.canonical) {
            continue;
        }
        let winner = closure.objects.iter().find(|o| {
            o.role != Role::Artifact
                && o.names
                    .iter()
                    .any(|n| *n == library.name || Some(n) == library.soname.as_ref())
        });
        if let Some(winner) = winner {
            let bundled = task
                .runtime_path_of(&library.canonical)
                .unwrap_or_else(|| library.path.display().to_string());
            // Loaded on the host's side, it was there before the module: no
            // search path of the module can bring in its own copy.
            let rule = match closure.loaded_by_host(winner) {
                Some(host) => format!("already loaded by {}", host),
                None => winner.rule.describe(),
            };
            findings.push(Finding::Shadowed {
                bundled,
                name: library.name.clone(),
                loaded: winner.runtime_path.clone(),
                rule,
            });
        }
    }
    findings
}
