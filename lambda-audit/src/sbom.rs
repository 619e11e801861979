//! `sbom`: a CycloneDX 1.6 bill of materials of a deployment package (a
//! directory or a zip, with its layers), in the types `serde-cyclonedx`
//! generates from the official schema.
//!
//! What it lists (docs/design.md, "The SBOM"): the package itself
//! (`metadata.component`, with the runtime, architecture and `check`'s
//! verdict as properties); every file with its SHA-256; for each ELF file
//! the crates of its `.dep-v0` section (read by `auditable-info`), the
//! OpenSSL its read-only data names (`openssl`) and zlib (`clibs`); the
//! Python distributions (`*.dist-info/METADATA`, their files from RECORD),
//! the npm packages (`node_modules/…/package.json`), and the components of
//! any CycloneDX SBOM a wheel ships (`*.dist-info/sboms/`, PEP 770). One
//! component per bom-ref (its purl, or for a file its path): what is found
//! twice is merged, each place it was found an occurrence. Deterministic:
//! components, properties and dependencies sorted, no timestamp, and the
//! serial number derived from a SHA-256 of the document itself.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;

use serde_cyclonedx::cyclonedx::v_1_6 as cdx;
use sha2::{Digest, Sha256};

use crate::archive::Entry;
use crate::bounded;
use crate::error::{shown, AuditError, Result};
use crate::layers::Layers;
use crate::package::{
    check_opened, distribution_fields, distribution_name, distributions, Package,
};
use crate::profile::Profile;

/// The largest decompressed `.dep-v0` JSON read (auditable-info's default).
const MAX_DEP_INFO: usize = 8 * 1024 * 1024;

/// The largest SBOM a wheel ships that is read; a larger one is passed over.
const MAX_SHIPPED_SBOM: u64 = 8 * 1024 * 1024;

/// How deep a shipped SBOM's nested `components` are followed.
const MAX_NESTING: usize = 8;

/// Our properties' namespace (CycloneDX's property taxonomy reserves `cdx:`).
const NS: &str = "lambda-audit";

/// One component as it is gathered, before it becomes CycloneDX's: merged
/// with any other of the same bom-ref.
#[derive(Default, Clone)]
struct Part {
    kind: &'static str,
    name: String,
    version: Option<String>,
    purl: Option<String>,
    cpe: Option<String>,
    sha256: Option<String>,
    properties: BTreeSet<(String, String)>,
    /// The files (paths in the package) it was found in.
    found_in: BTreeSet<String>,
    /// How its identity was found: (technique, the text that says so).
    identity: BTreeSet<(&'static str, String)>,
}

/// The document being gathered: components by bom-ref, and what each depends on.
#[derive(Default)]
struct Gathered {
    parts: BTreeMap<String, Part>,
    depends: BTreeMap<String, BTreeSet<String>>,
}

impl Gathered {
    /// Adds `part` under `bom_ref`, merged with one already there; returns the bom-ref.
    fn add(&mut self, bom_ref: String, part: Part) -> String {
        match self.parts.get_mut(&bom_ref) {
            Some(had) => {
                had.properties.extend(part.properties);
                had.found_in.extend(part.found_in);
                had.identity.extend(part.identity);
                had.cpe = had.cpe.take().or(part.cpe);
                had.sha256 = had.sha256.take().or(part.sha256);
            }
            None => {
                self.parts.insert(bom_ref.clone(), part);
            }
        }
        bom_ref
    }

    fn depend(&mut self, from: &str, on: String) {
        self.depends.entry(from.to_string()).or_default().insert(on);
    }
}

fn property(name: &str, value: impl Into<String>) -> (String, String) {
    (format!("{NS}:{name}"), value.into())
}

/// Writes the SBOM of `package` (a directory or a zip) with `layers`,
/// judged for `profile`, to `out`: JSON text ending with a newline. The
/// components are made one at a time as they are written (twice: once
/// into the hash that gives the serial number), so memory holds what was
/// gathered, not the document.
pub fn write_sbom(
    profile: &Profile,
    package: &Path,
    layers: Option<&Layers>,
    out: &mut dyn Write,
) -> Result<()> {
    let opened = Package::open(package, layers)?;
    let verdict = verdict(profile, &opened, layers)?;
    let dir = opened.dir();
    let entries = crate::archive::list(dir)?;
    let root = std::fs::canonicalize(dir).map_err(|e| AuditError::io(dir, e))?;
    let mut gathered = Gathered::default();
    files(&mut gathered, &entries, "")?;
    python(&mut gathered, &root, &entries, "");
    npm(&mut gathered, &root, &entries, "");
    drop(entries);
    if let Some(layers) = layers {
        let opt = format!("{}/", crate::package::LAYER_ROOT);
        let layer_root =
            std::fs::canonicalize(layers.dir()).map_err(|e| AuditError::io(layers.dir(), e))?;
        files(&mut gathered, layers.entries(), &opt)?;
        python(&mut gathered, &layer_root, layers.entries(), &opt);
        npm(&mut gathered, &layer_root, layers.entries(), &opt);
        for entry in layers.entries() {
            if let (Some(part), Some(layer)) = (
                gathered
                    .parts
                    .get_mut(&file_ref(&format!("{opt}{}", entry.name))),
                layers.layer_of(&entry.name),
            ) {
                part.properties
                    .insert(property("layer", layer.display().to_string()));
            }
        }
    }
    let files: BTreeSet<String> = gathered
        .parts
        .iter()
        .filter(|(_, p)| p.kind == "file")
        .map(|(r, _)| r.clone())
        .collect();
    gathered.depends.insert("package".into(), files);
    let mut doc = Doc {
        metadata: metadata(profile, package, &verdict, layers)?,
        gathered,
        serial_number: None,
    };
    let mut hasher = Sha256::new();
    write_json(&doc, &mut hasher)?;
    doc.serial_number = Some(uuid_of(&hasher.finalize()));
    write_json(&doc, out)
}

/// `doc` as pretty JSON and a newline, written to `out`.
fn write_json(doc: &Doc, out: &mut dyn Write) -> Result<()> {
    let failed = |e: std::io::Error| AuditError::io(Path::new("the SBOM"), e);
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, doc).map_err(|e| failed(e.into()))?;
    out.write_all(b"\n").map_err(failed)?;
    out.flush().map_err(failed)
}

/// The document: its keys in the order `serde-cyclonedx`'s `CycloneDx`
/// gives them, each component made from its part as it is written.
struct Doc {
    metadata: cdx::Metadata,
    gathered: Gathered,
    serial_number: Option<String>,
}

impl serde::Serialize for Doc {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json")?;
        map.serialize_entry("bomFormat", "CycloneDX")?;
        map.serialize_entry("components", &Components(&self.gathered.parts))?;
        map.serialize_entry("dependencies", &Dependencies(&self.gathered.depends))?;
        map.serialize_entry("metadata", &self.metadata)?;
        if let Some(serial) = &self.serial_number {
            map.serialize_entry("serialNumber", serial)?;
        }
        map.serialize_entry("specVersion", "1.6")?;
        map.serialize_entry("version", &1)?;
        map.end()
    }
}

/// The components, sorted by bom-ref, each made as it is written.
struct Components<'a>(&'a BTreeMap<String, Part>);

impl serde::Serialize for Components<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .iter()
                .map(|(bom_ref, part)| to_component(bom_ref.clone(), part.clone())),
        )
    }
}

/// What each component depends on, sorted, each made as it is written.
struct Dependencies<'a>(&'a BTreeMap<String, BTreeSet<String>>);

impl serde::Serialize for Dependencies<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|(from, on)| cdx::Dependency {
            depends_on: Some(on.iter().cloned().collect()),
            provides: None,
            ref_: from.clone(),
        }))
    }
}

/// `check`'s verdict on the package: `loads`, `does-not-load`, or
/// `refused: WHY` for a package `check` refuses to judge (no entry point,
/// an unreadable file).
fn verdict(profile: &Profile, opened: &Package, layers: Option<&Layers>) -> Result<String> {
    let mut failing = 0usize;
    let judged = check_opened(profile, opened, &profile.task_root, layers, &mut |r| {
        failing += usize::from(!r.loads());
        Ok(())
    });
    match judged {
        Ok(_) if failing == 0 => Ok("loads".into()),
        Ok(_) => Ok("does-not-load".into()),
        Err(AuditError::Usage(why) | AuditError::NoEntryPoint(why) | AuditError::Refused(why)) => {
            Ok(format!("refused: {why}"))
        }
        Err(e) => Err(e),
    }
}

/// The bom-ref of a file: its path at run time relative to the task root
/// (a layer's under `/opt/`).
fn file_ref(name: &str) -> String {
    format!("file:{name}")
}

/// A component for every file of `entries` (named `prefix` + its path),
/// with its SHA-256; for an ELF file, what it was built from.
fn files(gathered: &mut Gathered, entries: &[Entry], prefix: &str) -> Result<()> {
    for entry in entries {
        let name = format!("{prefix}{}", entry.name);
        let part = Part {
            kind: "file",
            name: name.clone(),
            sha256: Some(sha256_of(&entry.file)?),
            ..Part::default()
        };
        let file = gathered.add(file_ref(&name), part);
        if entry.elf {
            built_from(gathered, &entry.file, &name, &file);
        }
    }
    Ok(())
}

/// The SHA-256 of a file, read in pieces (hex).
fn sha256_of(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| AuditError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| AuditError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The crates, OpenSSL and zlib an ELF file (`name` in the package, bom-ref
/// `file`) was built from. A file that cannot be mapped or parsed names
/// nothing (`check` says what is wrong with it).
fn built_from(gathered: &mut Gathered, path: &Path, name: &str, file: &str) {
    let Ok(map) = crate::elf::map_elf(path) else {
        return;
    };
    crates(gathered, &map, name, file);
    for text in crate::openssl::version_texts_in(&map).unwrap_or_default() {
        let found = crate::clibs::Found {
            library: "openssl",
            version: text.version,
            text: text.text,
        };
        let r = c_library(gathered, found, name, "OPENSSL_VERSION_TEXT in .rodata");
        gathered.depend(file, r);
    }
    for found in crate::clibs::found_in(&map) {
        let r = c_library(gathered, found, name, "zlib's copyright text in .rodata");
        gathered.depend(file, r);
    }
}

/// A statically linked C library found by its version text in file `name`.
fn c_library(gathered: &mut Gathered, found: crate::clibs::Found, name: &str, how: &str) -> String {
    let library = found.library;
    let purl = format!("pkg:generic/{library}@{}", purl_encode(&found.version));
    let part = Part {
        kind: "library",
        name: library.to_string(),
        cpe: Some(format!(
            "cpe:2.3:a:{library}:{library}:{}:*:*:*:*:*:*:*",
            cpe_escape(&found.version)
        )),
        version: Some(found.version),
        purl: Some(purl.clone()),
        properties: [
            property("found-by", how),
            property("linking", "static"),
            property("version-text", format!("{name}: {}", found.text)),
        ]
        .into(),
        found_in: [name.to_string()].into(),
        identity: [("binary-analysis", found.text)].into(),
        ..Part::default()
    };
    gathered.add(purl, part)
}

/// The crates of `map`'s `.dep-v0` section (cargo-auditable's), each with
/// its kind (runtime or build) and what it depends on; the file depends on
/// the root crate. No section: nothing; a section that cannot be read: a
/// property of the file saying why.
fn crates(gathered: &mut Gathered, map: &[u8], name: &str, file: &str) {
    let info = match auditable_info::audit_info_from_slice(map, MAX_DEP_INFO) {
        Ok(info) => info,
        Err(auditable_info::Error::NoAuditData) => return,
        Err(e) => {
            if let Some(part) = gathered.parts.get_mut(file) {
                part.properties
                    .insert(property("dep-v0", format!("unreadable: {e}")));
            }
            return;
        }
    };
    let refs: Vec<String> = info
        .packages
        .iter()
        .map(|p| cargo_purl(&p.name, &p.version.to_string()))
        .collect();
    for (package, purl) in info.packages.iter().zip(&refs) {
        let kind = match package.kind {
            auditable_serde::DependencyKind::Build => "build",
            auditable_serde::DependencyKind::Runtime => "runtime",
        };
        let source = match &package.source {
            auditable_serde::Source::CratesIo => "crates.io".to_string(),
            auditable_serde::Source::Git => "git".to_string(),
            auditable_serde::Source::Local => "local".to_string(),
            auditable_serde::Source::Registry => "registry".to_string(),
            auditable_serde::Source::Other(other) => other.clone(),
            other => format!("{other:?}"),
        };
        let part = Part {
            kind: if package.root {
                "application"
            } else {
                "library"
            },
            name: package.name.clone(),
            version: Some(package.version.to_string()),
            purl: Some(purl.clone()),
            properties: [
                property("cargo:kind", kind),
                property("cargo:source", source),
                property("found-by", ".dep-v0 (cargo-auditable)"),
            ]
            .into(),
            found_in: [name.to_string()].into(),
            ..Part::default()
        };
        gathered.add(purl.clone(), part);
        for &dep in &package.dependencies {
            if let Some(on) = refs.get(dep) {
                gathered.depend(purl, on.clone());
            }
        }
        if package.root {
            gathered.depend(file, purl.clone());
        }
    }
}

/// `pkg:cargo/NAME@VERSION`.
fn cargo_purl(name: &str, version: &str) -> String {
    format!("pkg:cargo/{}@{}", purl_encode(name), purl_encode(version))
}

/// The Python distributions of a package (`prefix` before their paths):
/// one component per `*.dist-info/METADATA`, its files those its RECORD
/// lists that the package holds; and the components of the SBOMs the
/// distributions ship (PEP 770: `*.dist-info/sboms/`), merged with ours.
fn python(gathered: &mut Gathered, root: &Path, entries: &[Entry], prefix: &str) {
    let mut files_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, owner) in distributions(root, entries) {
        files_of
            .entry(owner)
            .or_default()
            .insert(format!("{prefix}{file}"));
    }
    for entry in entries {
        let Some(dist_info) = entry.name.strip_suffix("/METADATA") else {
            continue;
        };
        if !dist_info.ends_with(".dist-info") {
            continue;
        }
        let owner = distribution_name(&root.join(dist_info));
        let (name, Some(version)) = distribution_fields(&root.join(dist_info)) else {
            continue;
        };
        let purl = format!(
            "pkg:pypi/{}@{}",
            purl_encode(&pypi_name(&name)),
            purl_encode(&version)
        );
        let mut part = manifest_part(
            name,
            version,
            &purl,
            "*.dist-info/METADATA",
            property("dist-info", format!("{prefix}{dist_info}")),
        );
        part.found_in = files_of.remove(&owner).unwrap_or_default();
        gathered.add(purl, part);
    }
    for entry in entries.iter().filter(|e| is_shipped_sbom(&e.name)) {
        shipped_sbom(gathered, &entry.file, &format!("{prefix}{}", entry.name));
    }
}

/// A package a manifest names (a dist-info's METADATA, a package.json),
/// found by `found_by`, with the manifest's place as property `manifest`.
fn manifest_part(
    name: String,
    version: String,
    purl: &str,
    found_by: &str,
    manifest: (String, String),
) -> Part {
    Part {
        kind: "library",
        name,
        version: Some(version),
        purl: Some(purl.to_string()),
        properties: [property("found-by", found_by), manifest].into(),
        ..Part::default()
    }
}

/// A distribution's name as its purl has it: lower case, `_` as `-` (the
/// purl specification's `pypi` type).
fn pypi_name(name: &str) -> String {
    name.to_lowercase().replace('_', "-")
}

/// `…/NAME.dist-info/sboms/FILE`.
fn is_shipped_sbom(name: &str) -> bool {
    name.rsplit_once("/sboms/")
        .is_some_and(|(dir, file)| dir.ends_with(".dist-info") && !file.contains('/'))
}

/// The components of a CycloneDX JSON SBOM a wheel ships (`name` in the
/// package), read within bounds: name, version, purl, CPE and type, each
/// merged by bom-ref (its purl) with what was found otherwise. A file that
/// is too large, not JSON or not CycloneDX is passed over, said in a
/// property of the file.
fn shipped_sbom(gathered: &mut Gathered, path: &Path, name: &str) {
    let read = bounded::read_small_file(path, MAX_SHIPPED_SBOM)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .filter(|v| v["bomFormat"] == "CycloneDX");
    let Some(doc) = read else {
        if let Some(part) = gathered.parts.get_mut(&file_ref(name)) {
            part.properties.insert(property(
                "shipped-sbom",
                "passed over: not a CycloneDX JSON document within 8 MiB",
            ));
        }
        return;
    };
    let mut listed = Vec::new();
    listed.extend(doc["metadata"].get("component"));
    if let Some(components) = doc["components"].as_array() {
        listed.extend(components);
    }
    let mut depth = 0;
    while !listed.is_empty() && depth <= MAX_NESTING {
        let mut nested = Vec::new();
        for component in listed {
            shipped_component(gathered, component, name);
            if let Some(more) = component["components"].as_array() {
                nested.extend(more);
            }
        }
        listed = nested;
        depth += 1;
    }
}

/// One component of a shipped SBOM (`name` in the package).
fn shipped_component(gathered: &mut Gathered, component: &serde_json::Value, name: &str) {
    let text = |key: &str| component[key].as_str().map(str::to_string);
    let Some(component_name) = text("name") else {
        return;
    };
    let version = text("version");
    let bom_ref = text("purl").unwrap_or_else(|| {
        format!(
            "sbom:{name}#{component_name}@{}",
            version.as_deref().unwrap_or("")
        )
    });
    let kind = COMPONENT_TYPES
        .iter()
        .find(|t| Some(**t) == component["type"].as_str())
        .copied()
        .unwrap_or("library");
    let part = Part {
        kind,
        name: component_name,
        version,
        purl: text("purl"),
        cpe: text("cpe"),
        properties: [property("listed-in", name)].into(),
        ..Part::default()
    };
    gathered.add(bom_ref, part);
}

/// CycloneDX 1.6's component types.
const COMPONENT_TYPES: [&str; 13] = [
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
    "cryptographic-asset",
];

/// The npm packages of a package: every `node_modules/NAME/package.json`
/// (`node_modules/@SCOPE/NAME/package.json`) naming that same package.
fn npm(gathered: &mut Gathered, root: &Path, entries: &[Entry], prefix: &str) {
    for entry in entries {
        let Some(dir) = entry.name.strip_suffix("/package.json") else {
            continue;
        };
        let Some(named) = npm_dir_name(dir) else {
            continue;
        };
        let Some((name, version)) =
            crate::npm::package_named(&root.join(&entry.name)).and_then(|n| {
                n.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
        else {
            continue;
        };
        if name != named {
            continue;
        }
        let purl = match name.split_once('/') {
            Some((scope, base)) => format!(
                "pkg:npm/{}/{}@{}",
                purl_encode(scope),
                purl_encode(base),
                purl_encode(&version)
            ),
            None => format!("pkg:npm/{}@{}", purl_encode(&name), purl_encode(&version)),
        };
        let part = manifest_part(
            name,
            version,
            &purl,
            "package.json",
            property("package-json", format!("{prefix}{}", entry.name)),
        );
        gathered.add(purl, part);
    }
}

/// The package name npm installs in `dir` (`…/node_modules/NAME` or
/// `…/node_modules/@SCOPE/NAME`), if it is such a directory.
fn npm_dir_name(dir: &str) -> Option<String> {
    let (above, base) = dir.rsplit_once('/')?;
    if above == "node_modules" || above.ends_with("/node_modules") {
        return (!base.starts_with('@') && !base.starts_with('.')).then(|| base.to_string());
    }
    let (modules, scope) = above.rsplit_once('/').unwrap_or(("", above));
    let in_modules = modules == "node_modules" || modules.ends_with("/node_modules");
    (in_modules && scope.starts_with('@')).then(|| format!("{scope}/{base}"))
}

/// A purl component percent-encoded: every byte but ASCII letters, digits
/// and `.-_~` (the purl specification's unreserved characters).
fn purl_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A CPE 2.3 formatted-string value: every character but letters, digits,
/// `_`, `-` and `.` escaped with a backslash (NISTIR 7695 §6.2).
fn cpe_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if !(c.is_ascii_alphanumeric() || "_-.".contains(c)) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The package as `metadata.component`, the tool, and the run's properties.
fn metadata(
    profile: &Profile,
    package: &Path,
    verdict: &str,
    layers: Option<&Layers>,
) -> Result<cdx::Metadata> {
    let name = package
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown(package));
    let hashes = if package.is_file() {
        Some(vec![sha256_hash(sha256_of(package)?)])
    } else {
        None
    };
    let mut package = component("package".into(), "application", name);
    package.hashes = hashes;
    let mut properties = vec![
        cdx_property("runtime", &profile.name),
        cdx_property("arch", profile.lambda_arch()),
        cdx_property("verdict", verdict),
    ];
    if let Some(layers) = layers {
        for layer in layers.given() {
            properties.push(cdx_property("with-layer", &layer.display().to_string()));
        }
    }
    let mut tool = component(
        "tool:lambda-audit".into(),
        "application",
        "lambda-audit".into(),
    );
    tool.version = Some(env!("CARGO_PKG_VERSION").into());
    Ok(cdx::Metadata {
        authors: None,
        component: Some(package),
        licenses: None,
        lifecycles: None,
        manufacture: None,
        manufacturer: None,
        properties: Some(properties),
        supplier: None,
        timestamp: None,
        tools: Some(cdx::MetadataTools::Variant0(cdx::MetadataToolsVariant0 {
            components: Some(vec![tool]),
            services: None,
        })),
    })
}

fn cdx_property(name: &str, value: &str) -> cdx::Property {
    cdx::Property {
        name: format!("{NS}:{name}"),
        value: Some(value.to_string()),
    }
}

fn sha256_hash(hex: String) -> cdx::Hash {
    cdx::Hash {
        alg: cdx::HashAlg::Sha256,
        content: hex,
    }
}

/// A component with only its bom-ref, type and name.
fn component(bom_ref: String, kind: &str, name: String) -> cdx::Component {
    cdx::ComponentBuilder::default()
        .bom_ref(bom_ref)
        .type_(kind.to_string())
        .name(name)
        .build()
        .expect("bom-ref, type and name are every required field")
}

/// A gathered part as a CycloneDX component: the files it was found in as
/// evidence occurrences, how its identity was found as identity evidence.
fn to_component(bom_ref: String, part: Part) -> cdx::Component {
    let mut component = component(bom_ref, part.kind, part.name);
    component.version = part.version;
    component.purl = part.purl.clone();
    component.cpe = part.cpe;
    component.hashes = part.sha256.map(|h| vec![sha256_hash(h)]);
    if !part.properties.is_empty() {
        component.properties = Some(
            part.properties
                .into_iter()
                .map(|(name, value)| cdx::Property {
                    name,
                    value: Some(value),
                })
                .collect(),
        );
    }
    let occurrences: Vec<cdx::ComponentEvidenceItemOccurrences> = part
        .found_in
        .into_iter()
        .map(|location| cdx::ComponentEvidenceItemOccurrences {
            additional_context: None,
            bom_ref: None,
            line: None,
            location,
            offset: None,
            symbol: None,
        })
        .collect();
    let identity: Vec<cdx::ComponentIdentityEvidence> = match &part.purl {
        Some(purl) if !part.identity.is_empty() => vec![cdx::ComponentIdentityEvidence {
            concluded_value: Some(purl.clone()),
            confidence: Some(1.0),
            field: "purl".into(),
            methods: Some(
                part.identity
                    .into_iter()
                    .map(
                        |(technique, value)| cdx::ComponentIdentityEvidenceItemMethods {
                            confidence: 1.0,
                            technique: technique.into(),
                            value: Some(value),
                        },
                    )
                    .collect(),
            ),
            tools: None,
        }],
        _ => Vec::new(),
    };
    if !occurrences.is_empty() || !identity.is_empty() {
        component.evidence = Some(cdx::ComponentEvidence {
            callstack: None,
            copyright: None,
            identity: (!identity.is_empty())
                .then_some(cdx::ComponentEvidenceIdentity::Variant0(identity)),
            licenses: None,
            occurrences: (!occurrences.is_empty()).then_some(occurrences),
        });
    }
    component
}

/// `urn:uuid:` of the first 16 bytes of the document's own SHA-256
/// (written without a serial number), shaped as a version 8 (custom) UUID:
/// the same content, the same serial number.
fn uuid_of(digest: &[u8]) -> String {
    let mut id: [u8; 16] = digest[..16].try_into().expect("a SHA-256 has 32 bytes");
    id[6] = (id[6] & 0x0f) | 0x80;
    id[8] = (id[8] & 0x3f) | 0x80;
    let h = hex(&id);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_encoded_as_the_specification_says() {
        assert_eq!(
            purl_encode("3.6.0-alpha.1+vendor.1"),
            "3.6.0-alpha.1%2Bvendor.1"
        );
        assert_eq!(purl_encode("@img"), "%40img");
        assert_eq!(pypi_name("Typing_Extensions"), "typing-extensions");
        assert_eq!(cpe_escape("1.0.2u-fips"), "1.0.2u-fips");
        assert_eq!(cpe_escape("3.6.0+v:1"), "3.6.0\\+v\\:1");
    }

    #[test]
    fn npm_package_directories_are_named_as_npm_installs_them() {
        assert_eq!(npm_dir_name("node_modules/sharp").as_deref(), Some("sharp"));
        assert_eq!(
            npm_dir_name("node_modules/@img/sharp-linux-x64").as_deref(),
            Some("@img/sharp-linux-x64")
        );
        assert_eq!(
            npm_dir_name("node_modules/a/node_modules/b").as_deref(),
            Some("b")
        );
        for dir in [
            "node_modules/a/test",
            "lib/x",
            "node_modules/@img",
            "node_modules/.bin",
        ] {
            assert_eq!(npm_dir_name(dir), None, "{dir}");
        }
    }

    #[test]
    fn shipped_sboms_are_found_only_in_a_dist_info() {
        assert!(is_shipped_sbom("x-1.0.dist-info/sboms/x.cyclonedx.json"));
        assert!(!is_shipped_sbom("x/sboms/x.json"));
        assert!(!is_shipped_sbom("x-1.0.dist-info/sboms/a/x.json"));
    }
}
