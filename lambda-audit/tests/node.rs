//! Node.js runtimes (`nodejs18.x` … `nodejs24.x`): addons (`.node` files)
//! judged against node's own exports (N-API, libuv) and NODE_MODULE_VERSION,
//! on the runtime's OS. The addons are built here with gcc, declaring the
//! N-API functions they call as node's headers do (`extern`, resolved in
//! node at load time).

mod common;

use common::{audit_on, check_json, expect_stderr, expect_stdout, findings, shared};
use std::path::Path;

/// An N-API addon calling `called`, an N-API function.
fn napi_addon(out: &Path, called: &str) {
    let source = format!(
        "typedef struct napi_env__ *napi_env; typedef struct napi_value__ *napi_value;\n\
         extern int {called}(napi_env, const void *, unsigned long, napi_value *);\n\
         napi_value napi_register_module_v1(napi_env env, napi_value exports) {{\n\
           napi_value key; {called}(env, \"k\", 1, &key); return exports; }}\n"
    );
    shared(out, &source, &[]);
}

#[test]
fn an_n_api_function_newer_than_the_runtimes_node_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let addon = dir.path().join("keys.node");
    // node_api_create_property_key_utf16: in Node.js 20's N-API, not 18's.
    napi_addon(&addon, "node_api_create_property_key_utf16");
    let (code, report) = check_json("nodejs18.x", None, &addon);
    assert_eq!(code, 1);
    let missing = findings(&report, "undefined-symbol");
    assert_eq!(missing.len(), 1, "{report:#}");
    assert_eq!(missing[0]["symbol"], "node_api_create_property_key_utf16");
    for newer in ["nodejs20.x", "nodejs22.x", "nodejs24.x"] {
        let (code, report) = check_json(newer, None, &addon);
        assert_eq!(
            (code, &report["unverified_symbols"]),
            (0, &0.into()),
            "{newer}: {report:#}"
        );
    }
}

#[test]
fn an_n_api_function_every_node_has_loads_everywhere_on_both_cpus() {
    let dir = tempfile::tempdir().unwrap();
    let addon = dir.path().join("strings.node");
    napi_addon(&addon, "napi_create_string_utf8");
    for runtime in ["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"] {
        let (code, report) = check_json(runtime, None, &addon);
        assert_eq!(code, 0, "{runtime}: {report:#}");
    }
    // The same name on arm64 judges an x86_64 file as the wrong CPU.
    let run = audit_on(
        &["check", "--arch", "arm64", "--profile", "nodejs20.x"],
        &addon,
    );
    expect_stdout(&run, 1, "wrong-arch");
}

#[test]
fn an_addon_built_against_v8_loads_only_in_the_node_of_its_module_version() {
    let dir = tempfile::tempdir().unwrap();
    let addon = dir.path().join("v8addon.node");
    // NODE_MODULE_VERSION 108 is Node.js 18's; the registration node 18 looks for.
    shared(
        &addon,
        "void node_register_module_v108(void *e, void *m, void *c) {}\n",
        &[],
    );
    let (code, report) = check_json("nodejs18.x", None, &addon);
    assert_eq!(code, 0, "{report:#}");
    let (code, report) = check_json("nodejs20.x", None, &addon);
    assert_eq!(code, 1);
    let refused = findings(&report, "foreign-module");
    assert_eq!(refused.len(), 1, "{report:#}");
    let reason = refused[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("NODE_MODULE_VERSION 108") && reason.contains("NODE_MODULE_VERSION 115"),
        "{reason}"
    );
}

#[test]
fn a_v8_symbol_is_unverified_and_an_unknown_n_api_name_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let addon = dir.path().join("mixed.node");
    // v8::Isolate::GetCurrent(): one of node's C++ exports the profile does not list.
    shared(
        &addon,
        "extern void *_ZN2v87Isolate10GetCurrentEv(void);\n\
         extern int napi_no_such_function(void);\n\
         void *napi_register_module_v1(void *env, void *exports) {\n\
           return napi_no_such_function() ? exports : _ZN2v87Isolate10GetCurrentEv(); }\n",
        &[],
    );
    let (code, report) = check_json("nodejs22.x", None, &addon);
    assert_eq!(code, 1);
    assert_eq!(report["unverified_symbols"], 1, "{report:#}");
    let missing = findings(&report, "undefined-symbol");
    assert_eq!(missing.len(), 1, "{report:#}");
    assert_eq!(missing[0]["symbol"], "napi_no_such_function");
}

#[test]
fn a_node_modules_tree_names_each_addons_npm_package() {
    let package = tempfile::tempdir().unwrap();
    let root = package.path();
    let module = root.join("node_modules/@scope/native-linux-x64-gnu");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("package.json"),
        r#"{"name": "@scope/native-linux-x64-gnu", "version": "1.2.3"}"#,
    )
    .unwrap();
    napi_addon(
        &module.join("native.linux-x64-gnu.node"),
        "node_api_create_property_key_utf16",
    );
    // A library beside it, no addon: judged on its own, not as an entry point.
    shared(
        &module.join("libhelper.so"),
        "int helper(void) { return 1; }\n",
        &[],
    );
    let run = audit_on(
        &[
            "check",
            "--json",
            "--profile",
            "nodejs18.x",
            "--profile",
            "nodejs24.x",
        ],
        root,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let text = audit_on(&["check", "--profile", "nodejs18.x"], root);
    assert!(text.stdout.contains("native.linux-x64-gnu.node (from @scope/native-linux-x64-gnu 1.2.3): WILL NOT LOAD in nodejs18.x"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("libhelper.so (from @scope/native-linux-x64-gnu 1.2.3): loads"),
        "{}",
        text.stdout
    );
    let new = audit_on(&["check", "--profile", "nodejs24.x"], root);
    assert_eq!(new.code, 0, "{}", new.stdout);
}

#[test]
fn a_node_package_without_an_addon_says_what_an_entry_point_is() {
    let package = tempfile::tempdir().unwrap();
    shared(
        &package.path().join("lib/libonly.so"),
        "int only(void) { return 1; }\n",
        &[],
    );
    let run = audit_on(&["check", "--profile", "nodejs24.x"], package.path());
    expect_stderr(&run, 2, "expected a Node.js addon (a .node file)");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// (issue 28, decision) A package.json name or version longer than npm
/// takes (214 bytes, 256) names no package: the addon is named by the
/// package above it, or by none. A 1 MB name over 200 addons made a 200 MB
/// report (a package.json is read up to 1 MiB: half a MB here); 214 bytes
/// is still a name.
#[test]
fn a_name_longer_than_npm_takes_names_no_package() {
    let package = tempfile::tempdir().unwrap();
    let root = package.path();
    std::fs::write(
        root.join("package.json"),
        r#"{"name": "outer", "version": "1.0.0"}"#,
    )
    .unwrap();
    let module = root.join("node_modules/long");
    std::fs::create_dir_all(&module).unwrap();
    napi_addon(&module.join("addon.node"), "napi_create_string_utf8");
    for (name, version, named) in [
        (
            "n".repeat(214),
            "1.0.0".to_string(),
            format!("{} 1.0.0", "n".repeat(214)),
        ),
        (
            "n".repeat(1 << 20),
            "1.0.0".to_string(),
            "outer 1.0.0".to_string(),
        ),
        (
            "long".to_string(),
            "9".repeat(257),
            "outer 1.0.0".to_string(),
        ),
    ] {
        let manifest = serde_json::json!({"name": name, "version": version});
        std::fs::write(module.join("package.json"), manifest.to_string()).unwrap();
        let run = audit_on(&["check", "--profile", "nodejs22.x"], root);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.len() < 4096, "{} bytes", run.stdout.len());
        assert!(
            run.stdout
                .contains(&format!("addon.node (from {named}): loads")),
            "{}",
            run.stdout
        );
    }
}

/// An addon registered as the `NAPI_MODULE` macro of older N-API headers
/// does it: a constructor calling N-API's `napi_module_register` with its
/// module, and no `napi_register_module_v1` export (bufferutil 4.1.0,
/// utf-8-validate 6.0.6, @parcel/watcher 2.2.0).
fn napi_module_register_addon(out: &Path) {
    shared(
        out,
        "typedef struct { int version; unsigned flags; const char *file;\n\
           void *(*init)(void *, void *); const char *name; void *priv; void *reserved[4]; } napi_module;\n\
         extern void napi_module_register(napi_module *);\n\
         static void *init(void *env, void *exports) { return exports; }\n\
         static napi_module module = {1, 0, \"validation.c\", init, \"validation\", 0, {0}};\n\
         __attribute__((constructor)) static void registered(void) { napi_module_register(&module); }\n",
        &[],
    );
}

/// (issue 29) node loads an addon that registers itself through
/// `napi_module_register` in every version (node's DLOpen takes the module
/// a constructor registered before it looks for any export): alone it
/// loads, and a function holding only such addons (the `ws` optional
/// dependencies) is judged, not refused for want of an entry point.
#[test]
fn an_addon_registered_by_napi_module_register_loads_in_every_node() {
    let package = tempfile::tempdir().unwrap();
    let module = package.path().join("node_modules/utf-8-validate");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("package.json"),
        r#"{"name": "utf-8-validate", "version": "6.0.6"}"#,
    )
    .unwrap();
    let addon = module.join("build/Release/validation.node");
    napi_module_register_addon(&addon);
    for runtime in ["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"] {
        let (code, report) = check_json(runtime, None, &addon);
        assert_eq!(code, 0, "{runtime}: {report:#}");
        let run = audit_on(&["check", "--profile", runtime], package.path());
        assert_eq!(run.code, 0, "{runtime}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("validation.node (from utf-8-validate 6.0.6): loads"),
            "{}",
            run.stdout
        );
    }
}

/// (issue 29) Inside a package, an addon built against V8 for another
/// NODE_MODULE_VERSION is not a library judged on its own needs: node
/// refuses it when it is required ("compiled against a different Node.js
/// version"), so it is a `foreign-module` error, beside an N-API addon that
/// loads; alone it is the same error (exit 1), not a package without an
/// entry point (exit 2).
#[test]
fn an_addon_for_another_module_version_inside_a_package_does_not_load() {
    let package = tempfile::tempdir().unwrap();
    let root = package.path();
    napi_addon(&root.join("napi/strings.node"), "napi_create_string_utf8");
    shared(
        &root.join("v8/v8addon.node"),
        "void node_register_module_v108(void *e, void *m, void *c) {}\n",
        &[],
    );
    let run = audit_on(&["check", "--json", "--profile", "nodejs20.x"], root);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = common::stdout_json(&run);
    let v8 = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"].as_str().unwrap().ends_with("v8addon.node"))
        .unwrap_or_else(|| panic!("{doc:#}"));
    let foreign = findings(v8, "foreign-module");
    assert_eq!(foreign.len(), 1, "{v8:#}");
    let reason = foreign[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("NODE_MODULE_VERSION 108") && reason.contains("NODE_MODULE_VERSION 115"),
        "{reason}"
    );
    let on18 = audit_on(&["check", "--profile", "nodejs18.x"], root);
    assert_eq!(on18.code, 0, "{}{}", on18.stdout, on18.stderr);
    // Alone in a function: the addon will not load, which is a verdict.
    std::fs::remove_dir_all(root.join("napi")).unwrap();
    let alone = audit_on(&["check", "--profile", "nodejs22.x"], root);
    expect_stdout(&alone, 1, "WILL NOT LOAD");
}

/// (issue 29) node looks up `node_register_module_v<its own version>` by
/// name: an addon exporting several is judged by the runtime's (never by
/// whichever export comes first), and a name node never forms (a leading
/// zero, a sign) registers nothing.
#[test]
fn an_addon_is_judged_by_the_registration_of_the_runtimes_module_version() {
    let dir = tempfile::tempdir().unwrap();
    let every = dir.path().join("every.node");
    shared(
        &every,
        "void node_register_module_v83(void *e, void *m, void *c) {}\n\
         void node_register_module_v108(void *e, void *m, void *c) {}\n\
         void node_register_module_v115(void *e, void *m, void *c) {}\n\
         void node_register_module_v127(void *e, void *m, void *c) {}\n\
         void node_register_module_v137(void *e, void *m, void *c) {}\n",
        &[],
    );
    for runtime in ["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"] {
        let (code, report) = check_json(runtime, None, &every);
        assert_eq!(code, 0, "{runtime}: {report:#}");
    }
    let misspelt = dir.path().join("misspelt.node");
    shared(
        &misspelt,
        "void node_register_module_v0115(void *e, void *m, void *c) {}\n\
         void node_register_module_v127(void *e, void *m, void *c) {}\n\
         asm(\".globl \\\"node_register_module_v+115\\\"\\n\\\"node_register_module_v+115\\\": ret\");\n",
        &[],
    );
    let (code, report) = check_json("nodejs20.x", None, &misspelt);
    assert_eq!(code, 1, "{report:#}");
    let foreign = findings(&report, "foreign-module");
    assert_eq!(foreign.len(), 1, "{report:#}");
    let reason = foreign[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("NODE_MODULE_VERSION 127;")
            && reason.contains("requires NODE_MODULE_VERSION 115"),
        "{reason}"
    );
    let (code, report) = check_json("nodejs22.x", None, &misspelt);
    assert_eq!(code, 0, "{report:#}");
}

/// Writes `package.json` into `dir` (created).
fn manifest(dir: &Path, json: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("package.json"), json).unwrap();
}

/// An N-API addon as musl's builds are: it needs musl's libc, which no
/// Lambda runtime has.
fn musl_addon(out: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let musl = dir.path().join("libc.musl-x86_64.so.1");
    shared(
        &musl,
        "int musl_only(void) { return 1; }\n",
        &["-Wl,-soname,libc.musl-x86_64.so.1"],
    );
    shared(
        out,
        "extern int musl_only(void);\nvoid *napi_register_module_v1(void *e, void *x) { return musl_only() ? x : 0; }\n",
        &[musl.to_str().unwrap()],
    );
}

/// napi-rs's `@scope/native-linux-x64-gnu` under `scope` (a directory of
/// node_modules/), with its addon.
fn linux_x64_gnu_package(scope: &Path) {
    let gnu = scope.join("native-linux-x64-gnu");
    manifest(
        &gnu,
        r#"{"name": "@scope/native-linux-x64-gnu", "version": "1.0.0", "os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]}"#,
    );
    napi_addon(
        &gnu.join("native.linux-x64-gnu.node"),
        "napi_create_string_utf8",
    );
}

/// (issue 29) napi-rs's per-platform packages: the loader requires only the
/// one for the running platform, CPU and libc (`-linux-x64-gnu` on x86_64
/// Lambda), and npm's `os`, `cpu` and `libc` fields in each package.json say
/// which that is. The others (a musl build, another CPU's) are listed as never
/// opened, in text and JSON, and do not fail the function.
#[test]
fn per_platform_packages_for_another_platform_are_never_opened() {
    let package = tempfile::tempdir().unwrap();
    let root = package.path().join("node_modules/@scope");
    linux_x64_gnu_package(&root);
    let musl = root.join("native-linux-x64-musl");
    manifest(
        &musl,
        r#"{"name": "@scope/native-linux-x64-musl", "version": "1.0.0", "os": ["linux"], "cpu": ["x64"], "libc": ["musl"]}"#,
    );
    musl_addon(&musl.join("native.linux-x64-musl.node"));
    let arm = root.join("native-linux-arm64-gnu");
    manifest(
        &arm,
        r#"{"name": "@scope/native-linux-arm64-gnu", "version": "1.0.0", "os": ["linux"], "cpu": ["arm64"], "libc": ["glibc"]}"#,
    );
    musl_addon(&arm.join("native.linux-arm64-gnu.node"));
    let run = audit_on(&["check", "--profile", "nodejs22.x"], package.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("native.linux-x64-gnu.node (from @scope/native-linux-x64-gnu 1.0.0): loads"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("native.linux-x64-musl.node (from @scope/native-linux-x64-musl 1.0.0): not for nodejs22.x, never opened: its package.json has \"libc\": [\"musl\"]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("native.linux-arm64-gnu.node (from @scope/native-linux-arm64-gnu 1.0.0): not for nodejs22.x, never opened: its package.json has \"cpu\": [\"arm64\"]"),
        "{}",
        run.stdout
    );
    let run = audit_on(
        &["check", "--json", "--profile", "nodejs22.x"],
        package.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = common::stdout_json(&run);
    let never: Vec<&str> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["never_opened"].is_string())
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert_eq!(never.len(), 2, "{doc:#}");
    assert!(never.iter().all(|p| !p.contains("x64-gnu")), "{never:?}");
    // Installed for x86_64 only: on arm64 nothing is left that a loader
    // opens, and the files are judged as they are (Lambda's other CPU).
    std::fs::remove_dir_all(&arm).unwrap();
    std::fs::remove_dir_all(&musl).unwrap();
    let run = audit_on(
        &[
            "check",
            "--json",
            "--arch",
            "arm64",
            "--profile",
            "nodejs20.x",
        ],
        package.path(),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = common::stdout_json(&run);
    assert_eq!(
        findings(&doc["artifacts"][0], "wrong-arch").len(),
        1,
        "{doc:#}"
    );
}

/// A package that loads its addon with node-gyp-build, shipping `files`
/// (name under prebuilds/, and what it is).
fn node_gyp_build_package(root: &Path, files: &[(&str, &str)]) {
    let module = root.join("node_modules/bufferutil");
    manifest(
        &module,
        r#"{"name": "bufferutil", "version": "4.0.9", "dependencies": {"node-gyp-build": "^4.3.0"}}"#,
    );
    for (name, kind) in files {
        let out = module.join("prebuilds").join(name);
        match *kind {
            "napi" => napi_addon(&out, "napi_create_string_utf8"),
            "musl" => musl_addon(&out),
            "v108" => shared(
                &out,
                "void node_register_module_v108(void *e, void *m, void *c) {}\n",
                &[],
            ),
            other => panic!("{other}"),
        }
    }
}

/// (issue 29) node-gyp-build opens one prebuild: `prebuilds/linux-x64/`,
/// the file whose tags match (runtime node, the ABI or napi, glibc),
/// preferring an ABI build, then the most specific. The rest is never opened.
#[test]
fn node_gyp_build_opens_only_the_prebuild_for_the_runtime() {
    let package = tempfile::tempdir().unwrap();
    node_gyp_build_package(
        package.path(),
        &[
            ("linux-x64/node.napi.node", "napi"),
            ("linux-x64/node.napi.musl.node", "musl"),
            ("linux-x64/node.abi108.node", "v108"),
            ("linux-arm64/node.napi.node", "musl"),
            ("android-arm64/node.napi.node", "musl"),
        ],
    );
    let run = audit_on(&["check", "--profile", "nodejs20.x"], package.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let line = |file: &str| {
        run.stdout
            .lines()
            .find(|l| l.contains(&format!("prebuilds/{file} ")))
            .unwrap_or_else(|| panic!("{file}: {}", run.stdout))
            .to_string()
    };
    assert!(line("linux-x64/node.napi.node").contains(": loads in nodejs20.x"));
    for other in [
        "linux-x64/node.napi.musl.node",
        "linux-x64/node.abi108.node",
        "linux-arm64/node.napi.node",
        "android-arm64/node.napi.node",
    ] {
        assert!(
            line(other)
                .contains("never opened: node-gyp-build loads prebuilds/linux-x64/node.napi.node"),
            "{}",
            line(other)
        );
    }
    // Node.js 18 is NODE_MODULE_VERSION 108: node-gyp-build prefers that build.
    let run = audit_on(&["check", "--profile", "nodejs18.x"], package.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("prebuilds/linux-x64/node.napi.node (from bufferutil 4.0.9): not for nodejs18.x, never opened: node-gyp-build loads prebuilds/linux-x64/node.abi108.node"),
        "{}",
        run.stdout
    );
}

/// The reason of the one `missing-variant` finding of `check --json` of
/// `package` on `runtime` (exit 1), which names `named`.
fn the_missing_variant(package: &Path, runtime: &str, named: &str) -> String {
    let run = audit_on(&["check", "--json", "--profile", runtime], package);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = common::stdout_json(&run);
    let missing: Vec<&serde_json::Value> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| findings(a, "missing-variant"))
        .collect();
    assert_eq!(missing.len(), 1, "{doc:#}");
    assert_eq!(missing[0]["package"], named);
    missing[0]["reason"].as_str().unwrap().to_string()
}

/// (issue 29) A package whose node-gyp-build finds no prebuild for the
/// runtime (only musl's here) fails to load, named as such.
#[test]
fn a_package_without_a_prebuild_for_the_runtime_is_named() {
    let package = tempfile::tempdir().unwrap();
    node_gyp_build_package(
        package.path(),
        &[
            ("linux-x64/node.napi.musl.node", "musl"),
            ("darwin-x64+arm64/node.napi.node", "napi"),
        ],
    );
    let reason = the_missing_variant(package.path(), "nodejs24.x", "node_modules/bufferutil");
    assert!(
        reason.contains("no prebuild for linux-x64, glibc, NODE_MODULE_VERSION 137 or N-API")
            && reason.contains("darwin-x64+arm64, linux-x64"),
        "{reason}"
    );
    let text = audit_on(&["check", "--profile", "nodejs24.x"], package.path());
    expect_stdout(
        &text,
        1,
        "node_modules/bufferutil (from bufferutil 4.0.9): WILL NOT LOAD in nodejs24.x",
    );
}

/// (issue 29) A package whose loader requires its per-platform package
/// (napi-rs, esbuild, sharp) installed by npm on another machine: the
/// variant for the runtime it declares is missing, and only another
/// platform's is there. That is the error, naming the package; an optional
/// dependency that is no variant of it (chokidar's fsevents) is not.
#[test]
fn a_package_installed_for_another_platform_is_named() {
    let package = tempfile::tempdir().unwrap();
    let modules = package.path().join("node_modules");
    manifest(
        &modules.join("@scope/native"),
        r#"{"name": "@scope/native", "version": "1.0.0", "optionalDependencies": {"@scope/native-darwin-arm64": "1.0.0", "@scope/native-linux-x64-gnu": "1.0.0", "@scope/native-linux-arm64-gnu": "1.0.0"}}"#,
    );
    let darwin = modules.join("@scope/native-darwin-arm64");
    manifest(
        &darwin,
        r#"{"name": "@scope/native-darwin-arm64", "version": "1.0.0", "os": ["darwin"], "cpu": ["arm64"]}"#,
    );
    // A Mach-O file: not ELF, so not judged at all.
    std::fs::write(darwin.join("native.darwin-arm64.node"), b"\xcf\xfa\xed\xfe").unwrap();
    manifest(
        &modules.join("chokidar"),
        r#"{"name": "chokidar", "version": "2.1.8", "optionalDependencies": {"fsevents": "^1.2.7"}}"#,
    );
    manifest(
        &modules.join("fsevents"),
        r#"{"name": "fsevents", "version": "1.2.13", "os": ["darwin"]}"#,
    );
    // Another addon of the function, which loads.
    napi_addon(&package.path().join("own.node"), "napi_create_string_utf8");
    let reason = the_missing_variant(package.path(), "nodejs22.x", "node_modules/@scope/native");
    assert!(
        reason.contains("declares @scope/native-linux-x64-gnu for linux-x64")
            && reason.contains("(@scope/native-darwin-arm64)"),
        "{reason}"
    );
    // Installed for this platform too: the loader finds its addon.
    linux_x64_gnu_package(&modules.join("@scope"));
    let run = audit_on(&["check", "--profile", "nodejs22.x"], package.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// (issue 29, decision) A matrix of a Node.js and a Python runtime over a
/// Node.js package: each combination has its line, the Python one "WILL
/// NOT LOAD" for want of an entry point (exit 1), not the whole run
/// refused; only when no runtime of the matrix has one is it bad input.
#[test]
fn a_matrix_over_a_node_package_gives_each_runtime_its_line() {
    let package = tempfile::tempdir().unwrap();
    napi_addon(
        &package.path().join("node_modules/x/x.node"),
        "napi_create_string_utf8",
    );
    let both = [
        "check",
        "--profile",
        "nodejs22.x",
        "--profile",
        "python3.12",
    ];
    let run = audit_on(&both, package.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().take(2).collect();
    assert_eq!(lines[0], "nodejs22.x x86_64: loads", "{}", run.stdout);
    assert!(
        lines[1].starts_with("python3.12 x86_64: WILL NOT LOAD: ")
            && lines[1].contains("holds no entry point for python3.12"),
        "{}",
        run.stdout
    );
    let json = audit_on(
        &[&both[..1], &["--json"], &both[1..]].concat(),
        package.path(),
    );
    let doc = common::stdout_json(&json);
    let python = &doc["combinations"][1];
    assert_eq!(
        (&python["profile"], &python["loads"]),
        (&"python3.12".into(), &false.into()),
        "{doc:#}"
    );
    assert!(python["reason"]
        .as_str()
        .unwrap()
        .contains("holds no entry point"));
    let pythons = [
        "check",
        "--profile",
        "python3.11",
        "--profile",
        "python3.12",
    ];
    expect_stderr(
        &audit_on(&pythons, package.path()),
        2,
        "holds no entry point for python3.11",
    );
}

/// An addon registered for NODE_MODULE_VERSION `abi` only.
fn v8_addon(out: &Path, abi: u32) {
    shared(
        out,
        &format!("void node_register_module_v{abi}(void *e, void *m, void *c) {{}}\n"),
        &[],
    );
}

/// The JSON reports of `check` on `runtime`: (judged file -> loads, never
/// opened file -> why), by their paths in the package.
fn judged_and_never_opened(
    run: &common::Run,
) -> (
    std::collections::BTreeMap<String, bool>,
    std::collections::BTreeMap<String, String>,
) {
    let doc = common::stdout_json(run);
    let mut judged = std::collections::BTreeMap::new();
    let mut never = std::collections::BTreeMap::new();
    for a in doc["artifacts"].as_array().unwrap() {
        let path = a["runtime_path"].as_str().unwrap().to_string();
        match a["never_opened"].as_str() {
            Some(why) => never.insert(path, why.to_string()),
            None => judged
                .insert(path, a["loads"].as_bool().unwrap())
                .map(|_| String::new()),
        };
    }
    (judged, never)
}

/// Asserts that `check` of `package` on `runtime` loads, judging `chosen`
/// (its runtime path) alone, and that `others` files are never opened,
/// each because the loader loads another: the reason starting with `why`.
fn only_opened(package: &Path, runtime: &str, chosen: &str, others: usize, why: &str) {
    let run = audit_on(&["check", "--json", "--profile", runtime], package);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (judged, never) = judged_and_never_opened(&run);
    assert_eq!(
        judged.into_iter().collect::<Vec<_>>(),
        [(chosen.to_string(), true)]
    );
    assert_eq!(never.len(), others, "{never:?}");
    assert!(never.values().all(|w| w.starts_with(why)), "{never:?}");
}

/// lmdb's layout: `lmdb` depends on node-gyp-build-optional-packages,
/// whose platform package `@lmdb/lmdb-linux-x64` holds builds by tags.
fn optional_packages_function(root: &Path) {
    let modules = root.join("node_modules");
    manifest(
        &modules.join("lmdb"),
        r#"{"name": "lmdb", "version": "3.5.6", "dependencies": {"node-gyp-build-optional-packages": "5.2.2"}, "optionalDependencies": {"@lmdb/lmdb-linux-x64": "3.5.6", "@lmdb/lmdb-darwin-x64": "3.5.6"}}"#,
    );
    let platform = modules.join("@lmdb/lmdb-linux-x64");
    manifest(
        &platform,
        r#"{"name": "@lmdb/lmdb-linux-x64", "version": "3.5.6", "os": ["linux"], "cpu": ["x64"]}"#,
    );
    v8_addon(&platform.join("node.abi115.glibc.node"), 115);
    napi_addon(
        &platform.join("node.napi.glibc.node"),
        "napi_create_string_utf8",
    );
    musl_addon(&platform.join("node.napi.musl.node"));
    // No abi or napi tag: node-gyp-build would take it, its fork never does.
    musl_addon(&platform.join("lmdb.node"));
}

/// (issue 29) node-gyp-build-optional-packages (lmdb, msgpackr-extract):
/// when the package has no prebuild it opens the best-tagged file of its
/// platform package `@lmdb/lmdb-linux-x64` (the runtime's ABI, else N-API,
/// glibc), and a file without either tag never; the musl build and the
/// other ABI's are never opened. (Judged alone, the musl build failed the
/// function on every runtime.)
#[test]
fn node_gyp_build_optional_packages_opens_the_platform_packages_build() {
    let package = tempfile::tempdir().unwrap();
    optional_packages_function(package.path());
    let at = |f: &str| format!("/var/task/node_modules/@lmdb/lmdb-linux-x64/{f}");
    for (runtime, chosen) in [
        ("nodejs20.x", "node.abi115.glibc.node"),
        ("nodejs22.x", "node.napi.glibc.node"),
    ] {
        let why = format!(
            "node-gyp-build-optional-packages loads node_modules/@lmdb/lmdb-linux-x64/{chosen} on linux-x64"
        );
        only_opened(package.path(), runtime, &at(chosen), 3, &why);
    }
    // Only the musl build and an untagged file: no variant, named.
    let platform = package.path().join("node_modules/@lmdb/lmdb-linux-x64");
    std::fs::remove_file(platform.join("node.abi115.glibc.node")).unwrap();
    std::fs::remove_file(platform.join("node.napi.glibc.node")).unwrap();
    let reason = the_missing_variant(package.path(), "nodejs20.x", "node_modules/lmdb");
    assert!(
        reason.contains("node-gyp-build-optional-packages finds no prebuild for linux-x64")
            && reason.contains("nor in its platform package node_modules/@lmdb/lmdb-linux-x64"),
        "{reason}"
    );
}

/// (issue 29) The loaders' rules hold in a layer too: lmdb installed in a
/// layer's nodejs/node_modules (/opt/nodejs/node_modules), beside a
/// function of JavaScript only, and the function given by a relative path.
#[test]
fn a_layers_node_modules_are_chosen_as_their_loader_does() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("layer");
    optional_packages_function(&layer.join("nodejs"));
    let function = dir.path().join("function");
    std::fs::create_dir_all(&function).unwrap();
    std::fs::write(
        function.join("index.mjs"),
        "export const handler = async () => 1;\n",
    )
    .unwrap();
    let run = common::audit_in_dir(
        dir.path(),
        [
            "check",
            "--json",
            "--profile",
            "nodejs20.x",
            "function",
            "--with-layer",
            "layer",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (judged, never) = judged_and_never_opened(&run);
    let at = |f: &str| format!("/opt/nodejs/node_modules/@lmdb/lmdb-linux-x64/{f}");
    assert_eq!(
        judged.into_iter().collect::<Vec<_>>(),
        [(at("node.abi115.glibc.node"), true)]
    );
    assert_eq!(
        never.keys().collect::<Vec<_>>(),
        [
            &at("lmdb.node"),
            &at("node.napi.glibc.node"),
            &at("node.napi.musl.node")
        ]
    );
    let doc = common::stdout_json(&run);
    assert!(
        doc["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["layer"] == "layer" && a["distribution"] == "@lmdb/lmdb-linux-x64 3.5.6"),
        "{doc:#}"
    );
    // The function itself as a relative path: its own node_modules the same.
    std::fs::rename(
        layer.join("nodejs/node_modules"),
        function.join("node_modules"),
    )
    .unwrap();
    let run = common::audit_in_dir(
        dir.path(),
        ["check", "--json", "--profile", "nodejs20.x", "function"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (judged, never) = judged_and_never_opened(&run);
    assert_eq!(judged.len(), 1, "{judged:?}");
    assert_eq!(never.len(), 3, "{never:?}");
}

/// A package loaded by @mapbox/node-pre-gyp: `binary.module_path` with
/// the N-API build version, platform, libc and arch in it.
fn node_pre_gyp_package(root: &Path, builds: &[(&str, &str)]) -> std::path::PathBuf {
    let module = root.join("node_modules/sqlite-like");
    manifest(
        &module,
        r#"{"name": "sqlite-like", "version": "5.1.7", "main": "lib/index.js",
            "dependencies": {"@mapbox/node-pre-gyp": "^2.0.0"},
            "binary": {"module_name": "addon", "module_path": "./lib/binding/napi-v{napi_build_version}-{platform}-{libc}-{arch}",
                       "host": "https://example.invalid", "napi_versions": [3, 10]}}"#,
    );
    for (dir, kind) in builds {
        let out = module.join("lib/binding").join(dir).join("addon.node");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        match *kind {
            "napi" => napi_addon(&out, "napi_create_string_utf8"),
            "musl" => musl_addon(&out),
            other => panic!("{other}"),
        }
    }
    module
}

/// (issue 29) @mapbox/node-pre-gyp opens `module_path/module_name.node`
/// with its placeholders filled in for the runtime: the highest of the
/// package's `napi_versions` the runtime's N-API has (Node.js 18 and 20:
/// 9; 22 and 24: 10), linux, glibc, the arch. The other builds of the name
/// are never opened; a package without that file is a missing variant.
#[test]
fn node_pre_gyp_opens_its_module_path_for_the_runtime() {
    let package = tempfile::tempdir().unwrap();
    node_pre_gyp_package(
        package.path(),
        &[
            ("napi-v3-linux-glibc-x64", "napi"),
            ("napi-v10-linux-glibc-x64", "napi"),
            ("napi-v3-linux-musl-x64", "musl"),
            ("napi-v3-linux-glibc-arm64", "musl"),
        ],
    );
    let at = |d: &str| format!("/var/task/node_modules/sqlite-like/lib/binding/{d}/addon.node");
    for (runtime, chosen) in [
        ("nodejs18.x", "napi-v3-linux-glibc-x64"),
        ("nodejs24.x", "napi-v10-linux-glibc-x64"),
    ] {
        let why =
            format!("@mapbox/node-pre-gyp loads lib/binding/{chosen}/addon.node on linux-x64");
        only_opened(package.path(), runtime, &at(chosen), 3, &why);
    }
    let musl_only = tempfile::tempdir().unwrap();
    node_pre_gyp_package(musl_only.path(), &[("napi-v3-linux-musl-x64", "musl")]);
    let reason = the_missing_variant(musl_only.path(), "nodejs20.x", "node_modules/sqlite-like");
    assert!(
        reason.contains("opens lib/binding/napi-v3-linux-glibc-x64/addon.node on linux-x64")
            && reason.contains("(it has lib/binding/napi-v3-linux-musl-x64/addon.node)"),
        "{reason}"
    );
}

/// (issue 29) `bindings` requires the first of its fixed places that holds
/// the name (build/, build/Debug, build/Release, …, then
/// lib/binding/node-v<ABI>-<platform>-<arch>); the later copies of the name
/// and builds for another platform or ABI are never opened.
#[test]
fn bindings_opens_the_first_of_its_places() {
    let package = tempfile::tempdir().unwrap();
    let module = package.path().join("node_modules/ref-like");
    manifest(
        &module,
        r#"{"name": "ref-like", "version": "1.0.0", "dependencies": {"bindings": "^1.5.0"}}"#,
    );
    let build = |dir: &str, kind: &str| {
        let out = module.join(dir).join("binding.node");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        match kind {
            "napi" => napi_addon(&out, "napi_create_string_utf8"),
            _ => musl_addon(&out),
        }
    };
    build("build/Release", "napi");
    build("Release", "musl");
    build("compiled/20.0.0/darwin/x64", "musl");
    build("lib/binding/node-v115-linux-x64", "musl");
    build("lib/binding/node-v108-linux-arm64", "musl");
    let run = audit_on(
        &["check", "--json", "--profile", "nodejs20.x"],
        package.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (judged, never) = judged_and_never_opened(&run);
    let at = |d: &str| format!("/var/task/node_modules/ref-like/{d}/binding.node");
    assert_eq!(
        judged.into_iter().collect::<Vec<_>>(),
        [(at("build/Release"), true)]
    );
    assert_eq!(never.len(), 4, "{never:?}");
    assert!(never[&at("Release")].starts_with("bindings finds build/Release/binding.node first"));
    assert!(never[&at("compiled/20.0.0/darwin/x64")].contains("(a build for darwin-x64)"));
    assert!(never[&at("lib/binding/node-v108-linux-arm64")]
        .contains("(a build for node-v108-linux-arm64)"));
}

/// (issue 29, decision) A package whose main module catches its loader's
/// failure and requires a JavaScript fallback (ws's bufferutil and
/// utf-8-validate) runs without the addon: its missing variant is a
/// warning, the function loads; without the fallback it is an error.
#[test]
fn a_missing_variant_with_a_javascript_fallback_is_a_warning() {
    let package = tempfile::tempdir().unwrap();
    node_gyp_build_package(
        package.path(),
        &[("darwin-x64+arm64/node.napi.node", "napi")],
    );
    let main = package.path().join("node_modules/bufferutil/index.js");
    std::fs::write(
        &main,
        "'use strict';\n\ntry {\n  module.exports = require('node-gyp-build')(__dirname);\n} catch (e) {\n  module.exports = require('./fallback');\n}\n",
    )
    .unwrap();
    let run = audit_on(
        &["check", "--json", "--profile", "nodejs22.x"],
        package.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = common::stdout_json(&run);
    let missing = findings(&doc["artifacts"][0], "missing-variant");
    assert_eq!(missing.len(), 1, "{doc:#}");
    assert_eq!(
        (&missing[0]["severity"], &missing[0]["fallback"]),
        (&"warning".into(), &true.into())
    );
    assert!(missing[0]["reason"]
        .as_str()
        .unwrap()
        .contains("requires its JavaScript fallback"));
    std::fs::write(
        &main,
        "module.exports = require('node-gyp-build')(__dirname);\n",
    )
    .unwrap();
    the_missing_variant(package.path(), "nodejs22.x", "node_modules/bufferutil");
}

/// (issue 29) node-gyp-build 3 (@datadog/native-metrics 3 installs it):
/// `prebuilds/linuxglibc-<arch>/` before `linux-<arch>/`, and in it
/// `node-<ABI>.node` before `node-napi.node`; musl's directory never.
#[test]
fn node_gyp_build_3_opens_its_own_layout() {
    let package = tempfile::tempdir().unwrap();
    let modules = package.path().join("node_modules");
    manifest(
        &modules.join("node-gyp-build"),
        r#"{"name": "node-gyp-build", "version": "3.9.0"}"#,
    );
    let module = modules.join("@datadog/native-metrics");
    manifest(
        &module,
        r#"{"name": "@datadog/native-metrics", "version": "3.1.2", "dependencies": {"node-gyp-build": "^3.9.0"}}"#,
    );
    let prebuilds = module.join("prebuilds");
    for dir in ["linuxglibc-x64", "linux-x64", "linuxmusl-x64"] {
        std::fs::create_dir_all(prebuilds.join(dir)).unwrap();
    }
    v8_addon(&prebuilds.join("linuxglibc-x64/node-127.node"), 127);
    napi_addon(
        &prebuilds.join("linuxglibc-x64/node-napi.node"),
        "napi_create_string_utf8",
    );
    musl_addon(&prebuilds.join("linux-x64/node-napi.node"));
    musl_addon(&prebuilds.join("linuxmusl-x64/node-napi.node"));
    let at = |f: &str| format!("/var/task/node_modules/@datadog/native-metrics/prebuilds/{f}");
    let why = "node-gyp-build 3 loads prebuilds/linuxglibc-x64/";
    only_opened(
        package.path(),
        "nodejs22.x",
        &at("linuxglibc-x64/node-127.node"),
        3,
        why,
    );
    only_opened(
        package.path(),
        "nodejs20.x",
        &at("linuxglibc-x64/node-napi.node"),
        3,
        why,
    );
}

/// (issue 29) holepunch's require-addon (sodium-native 4): the package's
/// `prebuilds/linux-x64/<name>.node`; its Bare build and other hosts'
/// never opened; with none for the runtime, a missing variant.
#[test]
fn require_addon_opens_the_hosts_build_of_the_packages_name() {
    let package = tempfile::tempdir().unwrap();
    let module = package.path().join("node_modules/sodium-native");
    manifest(
        &module,
        r#"{"name": "sodium-native", "version": "4.3.3", "dependencies": {"require-addon": "^1.1.0"}}"#,
    );
    let prebuilds = module.join("prebuilds");
    for dir in ["linux-x64", "linux-arm64"] {
        std::fs::create_dir_all(prebuilds.join(dir)).unwrap();
    }
    napi_addon(
        &prebuilds.join("linux-x64/sodium-native.node"),
        "napi_create_string_utf8",
    );
    musl_addon(&prebuilds.join("linux-x64/sodium-native.bare"));
    musl_addon(&prebuilds.join("linux-arm64/sodium-native.node"));
    only_opened(
        package.path(),
        "nodejs22.x",
        "/var/task/node_modules/sodium-native/prebuilds/linux-x64/sodium-native.node",
        2,
        "require-addon loads prebuilds/linux-x64/sodium-native.node on linux-x64",
    );
    std::fs::remove_file(prebuilds.join("linux-x64/sodium-native.node")).unwrap();
    let reason = the_missing_variant(package.path(), "nodejs22.x", "node_modules/sodium-native");
    assert!(
        reason.contains("no prebuilds/linux-x64/sodium-native@4.3.3.node or prebuilds/linux-x64/sodium-native.node"),
        "{reason}"
    );
}
