//! Showing reports: text for people, JSON (schema `lambda-audit.check/1`,
//! documented in `docs/check-json.md`) for programs, and the `tree` view.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::check::{Finding, Report, Severity};
use crate::error::{shown, without_controls};
use crate::lifecycle::Deprecation;
use crate::openssl::OpensslUse;
use crate::profile::is_glibc_part;
use crate::resolve::{Closure, Outcome, Source};

pub const JSON_SCHEMA: &str = "lambda-audit.check/1";

/// `writeln!` for a line of a text report: the line is escaped as a name is
/// (`error::shown`: a newline, a carriage return, ESC, any control
/// character), so nothing a name brought in (an npm package's, a profile's,
/// a library's) can make a line of its own or drive a terminal. Every line
/// of every text report is written through here.
macro_rules! report_line {
    ($out:expr, $($arg:tt)*) => {
        push_line(&mut $out, format_args!($($arg)*))
    };
}

/// Appends `line`, escaped, and a newline to `out` (`report_line!`).
fn push_line(out: &mut String, line: std::fmt::Arguments) {
    let start = out.len();
    let _ = out.write_fmt(line);
    if let std::borrow::Cow::Owned(clean) = without_controls(&out[start..], true) {
        out.truncate(start);
        out.push_str(&clean);
    }
    out.push('\n');
}

/// `line` escaped as `report_line!` escapes a line, for one line given
/// whole (a matrix's verdict line).
pub fn one_line(line: &str) -> String {
    without_controls(line, true).into_owned()
}

/// `a, b, c` for short lists; the ends of long ones, so the newest stays visible.
fn list(items: &[String]) -> String {
    if items.len() <= 8 {
        items.join(", ")
    } else {
        format!(
            "{}, ... {} ({} in all)",
            items[..3].join(", "),
            items[items.len() - 3..].join(", "),
            items.len()
        )
    }
}

/// `2.17` from `[…, GLIBC_2.16, GLIBC_2.17, GLIBC_PRIVATE]`.
fn newest_glibc(versions: &[String]) -> Option<String> {
    versions
        .iter()
        .filter_map(|v| v.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let parts: Option<Vec<u32>> = v.split('.').map(|p| p.parse().ok()).collect();
            parts.map(|p| (p, v.to_string()))
        })
        .max()
        .map(|(_, v)| v)
}

/// The fix a person can act on, per kind of finding, for a runtime of
/// architecture `arch` (its ELF name).
fn fix(finding: &Finding, arch: &str) -> String {
    match finding {
        Finding::WrongArch { expected, .. } => format!(
            "build for the runtime's architecture ({expected}); for a Python package, install its wheels for that platform (pip install --platform manylinux2014_{expected} --only-binary=:all: --target DIR)"
        ),
        Finding::NotLoadable { fix, .. }
        | Finding::ForeignModule { fix, .. }
        | Finding::ForbiddenLibrary { fix, .. } => fix.clone(),
        Finding::MissingInterpreter { .. } => "link for the runtime's glibc, whose loader is in the profile".into(),
        Finding::BrokenLibrary { path, .. } => {
            format!("replace {} with a library built for the runtime, or remove it", path)
        }
        Finding::MissingLibrary { library, .. } => format!(
            "link {} statically, or vendor it with `lambda-audit bundle` (it then loads from $ORIGIN/lib)",
            library
        ),
        Finding::MissingVersion { library, runtime_versions, .. } if is_glibc_part(library) => {
            match newest_glibc(runtime_versions) {
                Some(v) => format!(
                    "link against the runtime's glibc ({} is its newest): cargo zigbuild --target {}-unknown-linux-gnu.{} (zig's glibc stubs of that version)",
                    v, arch, v
                ),
                None => "link against the runtime's glibc".into(),
            }
        }
        Finding::MissingVersion { library, .. } => format!(
            "build against the runtime's {} (or link that library statically)",
            library
        ),
        Finding::UndefinedSymbol { .. } => "link the library that defines it, or build against the runtime's versions of its libraries".into(),
        Finding::MissingVariant { .. } => "install the package for the runtime's platform (npm install on linux with the runtime's CPU, or npm install --os=linux --cpu=x64|arm64 --libc=glibc), or build the addon there (npm rebuild)".into(),
        Finding::Shadowed { .. } => "drop the copy, or run `lambda-audit bundle`, which gives bundled libraries unique sonames and DT_RPATH $ORIGIN/lib".into(),
    }
}

/// One finding as text lines (without indentation).
fn describe(finding: &Finding) -> Vec<String> {
    match finding {
        Finding::WrongArch {
            object,
            found,
            expected,
        } => {
            vec![format!(
                "{} is {}, the runtime is {}",
                object, found, expected
            )]
        }
        Finding::NotLoadable { object, reason, .. }
        | Finding::ForeignModule { object, reason, .. } => {
            vec![format!("{}: {}", object, reason)]
        }
        Finding::BrokenLibrary {
            needed_by,
            library,
            path,
            reason,
        } => vec![format!(
            "{} needs {}: the loader stops at {}, which is not a loadable ELF object ({})",
            needed_by, library, path, reason
        )],
        Finding::MissingInterpreter {
            object,
            interpreter,
        } => {
            vec![format!(
                "{} asks for the program interpreter {}, which the runtime does not have",
                object, interpreter
            )]
        }
        Finding::MissingLibrary {
            needed_by,
            library,
            searched,
            skipped,
        } => {
            let mut lines = vec![format!(
                "{} needs {}: not found in the runtime's search order",
                needed_by, library
            )];
            let mut dirs: Vec<String> = Vec::new();
            for path in searched {
                let dir = path
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default();
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
            lines.push(format!("  searched: {}", dirs.join(":")));
            for s in skipped {
                lines.push(format!("  skipped: {}", s));
            }
            lines
        }
        Finding::MissingVersion {
            object,
            library,
            library_path,
            version,
            symbols,
            runtime_versions,
            weak,
        } => {
            let mut lines = vec![format!(
                "{} needs version {} of {} ({}), which the runtime's copy does not define{}",
                object,
                version,
                library,
                library_path,
                if *weak {
                    " (a weak version need: the loader only warns)"
                } else {
                    ""
                }
            )];
            let defines = list(runtime_versions);
            if symbols.is_empty() {
                lines.push(format!(
                    "  (no symbol is bound to it) from {}: the runtime defines {}",
                    library, defines
                ));
            }
            for symbol in symbols {
                lines.push(format!(
                    "  {} from {}: the runtime defines {}",
                    symbol, library, defines
                ));
            }
            lines
        }
        Finding::UndefinedSymbol {
            object,
            symbol,
            library,
        } => vec![match library {
            Some(l) => format!(
                "{} needs {} from {}: no object in the process defines it",
                object, symbol, l
            ),
            None => format!(
                "{} needs {}: no object in the process defines it",
                object, symbol
            ),
        }],
        Finding::ForbiddenLibrary {
            object,
            library,
            reason,
            ..
        } => {
            vec![format!(
                "{} links {} dynamically: {}",
                object, library, reason
            )]
        }
        Finding::Shadowed {
            bundled,
            name,
            loaded,
            rule,
        } => vec![format!(
            "{} never loads: the runtime finds {} first at {} ({})",
            bundled, name, loaded, rule
        )],
        Finding::MissingVariant {
            package, reason, ..
        } => vec![format!("{package}: {reason}")],
    }
}

/// The human report for one artifact.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let from = report
        .distribution
        .as_ref()
        .map(|d| format!(" (from {d})"))
        .unwrap_or_default();
    if let Some(why) = &report.never_opened {
        report_line!(
            out,
            "{}{from}: not for {}{}, never opened: {}",
            shown(&report.artifact),
            report.profile,
            on_arch(&report.arch),
            why
        );
        return out;
    }
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let verdict = if report.loads() {
        "loads"
    } else {
        "WILL NOT LOAD"
    };
    report_line!(
        out,
        "{}{from}{}: {} in {}{} (as {}){}",
        shown(&report.artifact),
        report
            .layer
            .as_ref()
            .map(|l| format!(" (from layer {})", shown(l)))
            .unwrap_or_default(),
        verdict,
        report.profile,
        on_arch(&report.arch),
        report.runtime_path,
        match (errors, warnings) {
            (0, 0) => String::new(),
            (e, w) => format!(
                ": {} error{}, {} warning{}",
                e,
                if e == 1 { "" } else { "s" },
                w,
                if w == 1 { "" } else { "s" }
            ),
        }
    );
    if let Some(line) = openssl_line(&report.openssl) {
        report_line!(out, "  openssl: {line}");
    }
    if let Some(line) = end_of_life_line(&report.openssl) {
        report_line!(out, "  warning: {line}");
    }
    // Grouped by problem, errors first; one fix line per group.
    for severity in [Severity::Error, Severity::Warning] {
        let mut kinds: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.severity() == severity)
            .map(|f| f.kind())
            .collect();
        kinds.dedup();
        let mut seen = std::collections::HashSet::new();
        for kind in kinds.into_iter().filter(|k| seen.insert(*k)) {
            let group: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.severity() == severity && f.kind() == kind)
                .collect();
            let label = if severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            report_line!(out, "  {}[{}]", label, kind);
            // Each distinct fix once, in order (a set: a group can hold
            // thousands of findings, each with its own fix).
            let mut fixes: Vec<String> = Vec::new();
            let mut known_fixes = rustc_hash::FxHashSet::default();
            for finding in &group {
                for line in describe(finding) {
                    report_line!(out, "    {}", line);
                }
                let f = fix(finding, &report.arch);
                if known_fixes.insert(f.clone()) {
                    fixes.push(f);
                }
            }
            for f in fixes {
                report_line!(out, "    fix: {}", f);
            }
        }
    }
    if report.unverified_symbols > 0 {
        report_line!(
            out,
            "  note: {} undefined symbol{} could not be checked by name: the profile lacks the exports of what would provide them (a library it lists only with its version definitions, or a host whose own exports it does not have: its host.note in `profile show`)",
            report.unverified_symbols,
            if report.unverified_symbols == 1 { "" } else { "s" }
        );
    }
    out
}

/// ` on arm64` after a profile's name, for a runtime of another
/// architecture than x86_64, Lambda's default (whose reports stay as they were).
pub fn on_arch(arch: &str) -> String {
    match arch {
        "x86_64" => String::new(),
        "aarch64" => " on arm64".into(),
        other => format!(" on {other}"),
    }
}

/// `3.5.5 (static, "OpenSSL 3.5.5 27 Jan 2026")`, `links libssl.so.10
/// dynamically` (the words of a `forbidden-library` finding), or both;
/// `None` when the artifact carries no OpenSSL that can be named.
fn openssl_line(openssl: &OpensslUse) -> Option<String> {
    let mut parts: Vec<String> = openssl
        .linked_in
        .iter()
        .map(|t| format!("{} (static, \"{}\")", t.version, t.text))
        .collect();
    if !openssl.dynamic.is_empty() {
        parts.push(format!("links {} dynamically", openssl.dynamic.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// One line naming the linked-in OpenSSL versions past their upstream end
/// of life, with the day support ended; `None` when there is none. Not a
/// finding: the artifact loads all the same.
fn end_of_life_line(openssl: &OpensslUse) -> Option<String> {
    let past = crate::openssl::end_of_life(openssl);
    let named: Vec<String> = past
        .iter()
        .map(|e| format!("{} (supported until {})", e.version, e.supported_until))
        .collect();
    (!named.is_empty()).then(|| {
        format!(
            "statically linked OpenSSL {} past its upstream end of life: no more security fixes from OpenSSL; link a supported series (3.x) unless the runtime needs this one",
            named.join(", ")
        )
    })
}

fn closure_json(closure: &Closure) -> Value {
    let objects: Vec<Value> = closure
        .objects
        .iter()
        .map(|o| {
            json!({
                "name": o.display_name(),
                "path": o.runtime_path,
                "role": o.role,
                "found_by": o.rule,
                "needed_by": o.needed_by.map(|i| closure.objects[i].display_name().to_string()),
                "source": match &o.source {
                    Source::Runtime(_) => "runtime".to_string(),
                    Source::Host => "host".to_string(),
                    Source::Local(p) => shown(p),
                },
            })
        })
        .collect();
    Value::Array(objects)
}

/// One artifact's object in the JSON document.
fn artifact_json(r: &Report) -> Value {
    let findings: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).expect("findings serialize");
            v["severity"] = serde_json::to_value(f.severity()).expect("severity serializes");
            v["fix"] = Value::String(fix(f, &r.arch));
            v
        })
        .collect();
    let mut artifact = json!({
        "path": r.artifact.display().to_string(),
        "runtime_path": r.runtime_path,
        "distribution": r.distribution,
        "layer": r.layer,
        "loads": r.loads(),
        "errors": r.count(Severity::Error),
        "warnings": r.count(Severity::Warning),
        "unverified_symbols": r.unverified_symbols,
        "findings": findings,
        "openssl": (!r.openssl.is_none()).then_some(&r.openssl),
        "openssl_end_of_life": crate::openssl::end_of_life(&r.openssl),
        "closure": r.closure.as_ref().map(closure_json).unwrap_or(Value::Array(vec![])),
    });
    if let Some(why) = &r.never_opened {
        artifact["never_opened"] = Value::String(why.clone());
    }
    artifact
}

/// The JSON document of a `check` run (`docs/check-json.md`), written
/// artifact by artifact as the reports are made, so memory does not grow
/// with their number. The text is what `serde_json::to_string_pretty` gives
/// for the whole document: its keys are sorted, and `artifacts` comes first,
/// before `loads`, which needs them all.
pub struct JsonStream<W: std::io::Write> {
    out: W,
    profile: String,
    /// Lambda's name of the profile's architecture (`x86_64`, `arm64`).
    arch: String,
    artifacts: usize,
    loads: bool,
    /// The runtime's deprecation at the run's date: the `deprecated` field.
    deprecated: Option<Deprecation>,
}

impl<W: std::io::Write> JsonStream<W> {
    pub fn new(out: W, profile: &str, arch: &str) -> JsonStream<W> {
        JsonStream {
            out,
            profile: profile.to_string(),
            arch: arch.to_string(),
            artifacts: 0,
            loads: true,
            deprecated: None,
        }
    }

    /// With the `deprecated` field (present only when there is one).
    pub fn deprecated(mut self, deprecated: Option<Deprecation>) -> JsonStream<W> {
        self.deprecated = deprecated;
        self
    }

    pub fn artifact(&mut self, report: &Report) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&artifact_json(report)).expect("JSON serializes");
        let opening = if self.artifacts == 0 {
            format!("{}  \"artifacts\": [\n", self.head())
        } else {
            ",\n".into()
        };
        self.out.write_all(opening.as_bytes())?;
        // A JSON string holds no raw newline: every line is the document's.
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(b"    ")?;
            self.out.write_all(line.as_bytes())?;
        }
        self.artifacts += 1;
        self.loads &= report.loads();
        Ok(())
    }

    /// The document's opening and its one key sorted before `artifacts`.
    fn head(&self) -> String {
        let arch = serde_json::to_string(&self.arch).expect("JSON serializes");
        format!("{{\n  \"arch\": {arch},\n")
    }

    /// Ends the document; whether every artifact loads.
    pub fn finish(mut self) -> std::io::Result<bool> {
        let mut rest = json!({
            "loads": self.loads,
            "profile": self.profile,
            "schema": JSON_SCHEMA,
        });
        if let Some(d) = &self.deprecated {
            rest["deprecated"] = deprecation_json(d);
        }
        let rest = serde_json::to_string_pretty(&rest).expect("JSON serializes");
        let fields = rest
            .strip_prefix("{\n")
            .expect("an object")
            .trim_end_matches('}');
        let opening = if self.artifacts == 0 {
            format!("{}  \"artifacts\": [],\n", self.head())
        } else {
            "\n  ],\n".into()
        };
        writeln!(self.out, "{opening}{fields}}}")?;
        self.out.flush()?;
        Ok(self.loads)
    }
}

/// `{"since": DATE, "use": RUNTIME}`.
fn deprecation_json(d: &Deprecation) -> Value {
    json!({
        "since": d.since,
        "use": d.replacement,
        "blocks_create": d.blocks_create,
        "blocks_update": d.blocks_update,
    })
}

/// The first reason a report will not load, in a line: the first line of
/// its first error (`bootstrap needs libcrypt.so.1: not found in the
/// runtime's search order`).
pub fn first_reason(report: &Report) -> String {
    report
        .findings
        .iter()
        .find(|f| f.severity() == Severity::Error)
        .and_then(|f| describe(f).into_iter().next())
        .map(|line| one_line(&format!("{}: {}", shown(&report.artifact), line)))
        .unwrap_or_default()
}

/// One combination of a `check` matrix, for `matrix_json`.
pub enum Combination<'a> {
    /// A runtime Lambda does not have on that architecture: why.
    Impossible(&'a str),
    /// A runtime for which the package holds no entry point: why.
    NoEntryPoint {
        profile: &'a str,
        arch: &'a str,
        why: &'a str,
    },
    Judged {
        profile: &'a str,
        arch: &'a str,
        deprecation: Option<&'a Deprecation>,
        reports: &'a [Report],
    },
}

fn combination_json(c: &Combination) -> Value {
    match c {
        Combination::Impossible(why) => json!({ "exists": false, "reason": why }),
        Combination::NoEntryPoint { profile, arch, why } => json!({
            "exists": true,
            "profile": profile,
            "arch": arch,
            "loads": false,
            "reason": why,
            "artifacts": [],
        }),
        Combination::Judged {
            profile,
            arch,
            deprecation,
            reports,
        } => {
            let mut v = json!({
                "exists": true,
                "profile": profile,
                "arch": arch,
                "loads": reports.iter().all(Report::loads),
                "artifacts": reports.iter().map(artifact_json).collect::<Vec<_>>(),
            });
            if let Some(d) = deprecation {
                v["deprecated"] = deprecation_json(d);
            }
            v
        }
    }
}

/// The JSON document of a `check` of several combinations
/// (`docs/check-json.md`): each one's reports, as one run's `artifacts`.
pub fn matrix_json(combinations: &[Combination], loads: bool) -> String {
    let doc = json!({
        "schema": JSON_SCHEMA,
        "loads": loads,
        "combinations": combinations.iter().map(combination_json).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&doc).expect("JSON serializes") + "\n"
}

/// `tree`: the static `ldd`, with the rule that found each library.
pub fn tree(closure: &Closure) -> String {
    let mut out = String::new();
    let root = &closure.objects[closure.artifact];
    report_line!(out, "{} [{}]", root.display_name(), root.runtime_path);
    let mut shown = std::collections::HashSet::new();
    shown.insert(closure.artifact);
    walk(closure, closure.artifact, "", &mut shown, &mut out);
    let host: Vec<&str> = closure
        .objects
        .iter()
        .filter(|o| closure.loaded_by_host(o).is_some())
        .map(|o| o.display_name())
        .collect();
    if !host.is_empty() {
        report_line!(out, "loaded before it by the host: {}", host.join(", "));
    }
    out
}

fn walk(
    closure: &Closure,
    from: usize,
    indent: &str,
    shown: &mut std::collections::HashSet<usize>,
    out: &mut String,
) {
    let edges: Vec<_> = closure.edges_from(from).collect();
    for (i, edge) in edges.iter().enumerate() {
        let last = i + 1 == edges.len();
        let branch = if last { "└── " } else { "├── " };
        let next_indent = format!("{}{}", indent, if last { "    " } else { "│   " });
        match &edge.outcome {
            Outcome::Found { object, rule } => {
                let o = &closure.objects[*object];
                let origin = match o.source {
                    Source::Local(_) => ", in the package",
                    _ => "",
                };
                report_line!(
                    *out,
                    "{}{}{} => {} [{}{}]",
                    indent,
                    branch,
                    edge.name,
                    o.runtime_path,
                    rule.describe(),
                    origin
                );
                if shown.insert(*object) {
                    walk(closure, *object, &next_indent, shown, out);
                }
            }
            Outcome::Missing { .. } => {
                report_line!(*out, "{}{}{} => not found", indent, branch, edge.name);
            }
            Outcome::Broken { path, reason } => {
                report_line!(
                    *out,
                    "{}{}{} => {}: {}",
                    indent,
                    branch,
                    edge.name,
                    path,
                    reason
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_glibc_is_compared_numerically() {
        let versions: Vec<String> = [
            "libc.so.6",
            "GLIBC_2.2.5",
            "GLIBC_2.9",
            "GLIBC_2.17",
            "GLIBC_PRIVATE",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(newest_glibc(&versions).as_deref(), Some("2.17"));
        assert_eq!(newest_glibc(&["OPENSSL_1.0.1".to_string()]), None);
    }

    /// The streamed document is the one serde_json writes for it whole.
    #[test]
    fn the_streamed_document_is_the_whole_one() {
        let whole = |artifacts: Vec<Value>, loads: bool| {
            let document = json!({
                "schema": JSON_SCHEMA,
                "arch": "arm64",
                "profile": "p",
                "loads": loads,
                "artifacts": artifacts,
            });
            serde_json::to_string_pretty(&document).unwrap() + "\n"
        };
        let report = |loads: bool| Report {
            artifact: "a \"b\"\n.so".into(),
            runtime_path: "/var/task/a.so".into(),
            profile: "p".into(),
            arch: "aarch64".into(),
            findings: if loads {
                vec![]
            } else {
                vec![Finding::MissingInterpreter {
                    object: "a.so".into(),
                    interpreter: "/lib/ld.so".into(),
                }]
            },
            closure: None,
            unverified_symbols: 0,
            distribution: None,
            layer: None,
            never_opened: None,
            // Both shapes of the field go through the stream: an object, and null.
            openssl: OpensslUse {
                linked_in: loads
                    .then(|| crate::openssl::VersionText {
                        version: "3.5.5".into(),
                        text: "OpenSSL 3.5.5 27 Jan 2026".into(),
                    })
                    .into_iter()
                    .collect(),
                dynamic: Vec::new(),
            },
        };
        for reports in [
            vec![],
            vec![report(true)],
            vec![report(true), report(false)],
        ] {
            let mut out = Vec::new();
            let mut stream = JsonStream::new(&mut out, "p", "arm64");
            for r in &reports {
                stream.artifact(r).unwrap();
            }
            let loads = stream.finish().unwrap();
            let expected = whole(reports.iter().map(artifact_json).collect(), loads);
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }
}
