"""A workspace of three functions built by one scripts/build-lambda-zip
command: a crowbar module (python3.6) that hashes with the static OpenSSL,
and two lambda_runtime programs (provided.al2023) that answer differently,
one a bin named bootstrap, one a bin named after its package. Each lands in
target/lambda/<function>/, verifies, and answers: the programs through
scripts/invoke-lambda against the real Runtime API, the module imported and
called by Python 3.6. The tools, lambda-audit and each runtime's OpenSSL are
made ready once for the three. The workspace is written here, with this
repository's Cargo.lock as its lock (the same dependency versions, nothing
resolved anew), and builds in its own target directory."""

import hashlib
import json
import os
import shutil
import tomllib
import zipfile

import pytest

from conftest import ROOT, run

WORKSPACE = '''[workspace]
resolver = "2"
members = [{members}]

# As the template's, but without LTO: this is a test of the one command, and
# a link-time optimisation of each function would triple its build time.
[profile.release]
opt-level = "z"
strip = true
'''
MODULE_TOML = '''[package]
name = "greeter"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
name = "lambda"
crate-type = ["cdylib"]
test = false
doctest = false

[dependencies]
crowbar = "=0.2.0"
cpython = { version = "0.1", default-features = false, features = ["python3-sys"] }
openssl = "0.10"
serde_json = "1"
'''
MODULE_RS = '''//! `{"name": "Ada"}` answers a greeting and the name's SHA-256 (by the static OpenSSL).
#[macro_use(lambda)]
extern crate crowbar;
#[macro_use]
extern crate cpython;

use crowbar::{LambdaContext, LambdaResult, Value};

fn greet(event: Value, _context: LambdaContext) -> LambdaResult {
    let name = event.get("name").and_then(Value::as_str).ok_or("the event needs a name")?;
    let digest: String = openssl::sha::sha256(name.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    Ok(serde_json::json!({ "greeting": format!("Hello, {name}!"), "sha256": digest }))
}

lambda!(greet);
'''
PROGRAM_TOML = '''[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false
{bin}
[dependencies]
lambda_runtime = {{ version = "1.5", default-features = false }}
serde_json = "1"
tokio = {{ version = "1", features = ["macros", "rt"] }}
'''
PROGRAM_RS = '''use lambda_runtime::{{service_fn, Error, LambdaEvent}};
use serde_json::{{json, Value}};

async fn answer(event: LambdaEvent<Value>) -> Result<Value, Error> {{
    let name = event.payload["name"].as_str().ok_or("the event needs a name")?;
    Ok({answer})
}}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {{
    lambda_runtime::run(service_fn(answer)).await
}}
'''
# function -> (Cargo.toml, src/ file, its source)
FUNCTIONS = {
    "greeter": (MODULE_TOML, "lib.rs", MODULE_RS),
    # A bin named bootstrap: the function is named after its package.
    "hello": (PROGRAM_TOML.format(name="hello", bin='\n[[bin]]\nname = "bootstrap"\npath = "src/main.rs"\n'),
              "main.rs", PROGRAM_RS.format(answer='json!({ "message": format!("Hello, {name}!") })')),
    # The bin cargo makes of src/main.rs, named after the package: the function is named after the bin.
    "shout": (PROGRAM_TOML.format(name="shout", bin=""),
              "main.rs", PROGRAM_RS.format(answer='json!({ "shout": format!("{}!", name.to_uppercase()) })')),
}


def write_workspace(path, functions, lock=True):
    path.mkdir(parents=True)
    (path / "Cargo.toml").write_text(WORKSPACE.format(members=", ".join(f'"{name}"' for name in functions)))
    for name, (cargo_toml, source_name, source) in functions.items():
        (path / name / "src").mkdir(parents=True)
        (path / name / "Cargo.toml").write_text(cargo_toml)
        (path / name / "src" / source_name).write_text(source)
    if lock:
        # This repository's versions of every dependency; cargo drops the
        # packages the workspace does not use and adds its members, offline.
        shutil.copy(ROOT / "Cargo.lock", path / "Cargo.lock")
        result = run(["cargo", "update", "--workspace", "--offline"], cwd=path)
        assert result.returncode == 0, result.stderr


def build(manifest, *args):
    # The workspace's own target directory is the one under test.
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    return run(["bash", ROOT / "scripts/build-lambda-zip", "--manifest-path", manifest, *args], env=env)


def registry_versions(lock):
    return {(p["name"], p["version"]) for p in tomllib.loads(lock.read_text())["package"] if "source" in p}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    path = tmp_path_factory.mktemp("workspace") / "ws"
    write_workspace(path, FUNCTIONS)
    new = registry_versions(path / "Cargo.lock") - registry_versions(ROOT / "Cargo.lock")
    assert not new, f"versions this repository's lock does not have: {sorted(new)}"
    result = build(path / "Cargo.toml")
    assert result.returncode == 0, result.stderr[-4000:]
    return path, result.stderr


def out_of(workspace, function):
    return workspace[0] / "target" / "lambda" / function


def invoke(zip_path, event):
    return run(["bash", ROOT / "scripts/invoke-lambda", zip_path], input=json.dumps(event), timeout=600)


@pytest.mark.parametrize("function, runtime, artifact, says", [
    ("greeter", "python3.6", "liblambda.so", "handler liblambda.handler, runtime python3.6"),
    ("hello", "provided.al2023", "bootstrap", "bootstrap at its root, runtime provided.al2023"),
    ("shout", "provided.al2023", "bootstrap", "bootstrap at its root, runtime provided.al2023"),
])
def test_each_function_has_its_own_verified_zip(workspace, audit_bin, function, runtime, artifact, says):
    out = out_of(workspace, function)
    with zipfile.ZipFile(out / "lambda.zip") as archive:
        assert archive.namelist() == [artifact]
    assert (out / "runtime").read_text().strip() == runtime
    assert f"==> {out}/lambda.zip: {says}" in workspace[1].splitlines()
    # The build's own verify ran for each; and the finished directory passes it again.
    assert workspace[1].count("==> pipeline verify: done") == len(FUNCTIONS)
    result = run(["bash", ROOT / "scripts/pipeline", "verify", out], env={**os.environ, "LAMBDA_AUDIT": str(audit_bin)})
    assert result.returncode == 0, result.stderr[-3000:]


def test_tools_lambda_audit_and_each_runtimes_openssl_are_made_ready_once(workspace):
    steps = [line for line in workspace[1].splitlines() if line.startswith("==> ") and ": done in" not in line]
    assert steps.count("==> cargo build -p lambda-audit") == 1
    assert steps.count("==> zig and cargo-zigbuild (pinned wheels)") == 1
    # The module links OpenSSL; the programs' runtime gets one too, as the
    # workspace's lock has openssl-sys: one for each of the two runtimes, the
    # runtime's own (toolchain/target.json).
    from runtime_facts import runtime_facts

    openssl = sorted(" ".join(line.split()[3:6]) for line in steps if line.startswith("==> static OpenSSL "))
    assert openssl == sorted(f"{runtime_facts(r)['openssl']} for {r}" for r in ("provided.al2023", "python3.6")), steps
    assert not [p for p in (workspace[0] / "target" / "lambda").iterdir() if ".tmp." in p.name]


def test_the_two_programs_answer_each_its_own(workspace):
    result = invoke(out_of(workspace, "hello") / "lambda.zip", {"name": "Ada"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"message": "Hello, Ada!"}
    result = invoke(out_of(workspace, "shout") / "lambda.zip", {"name": "Ada"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"shout": "ADA!"}


def test_the_module_is_imported_and_called_by_python_36(workspace):
    result = invoke(out_of(workspace, "greeter") / "lambda.zip", {"name": "Ada"})
    assert result.returncode == 0, result.stderr
    assert "handler liblambda.handler" in result.stderr and "bionic" in result.stderr
    assert json.loads(result.stdout) == {"greeting": "Hello, Ada!", "sha256": hashlib.sha256(b"Ada").hexdigest()}


# Functions without dependencies: nothing to download, seconds to build.
PLAIN = '[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'


def test_a_function_that_fails_is_named_and_leaves_nothing_of_itself(tmp_path):
    path = tmp_path / "ws"
    write_workspace(path, {
        "answers": (PLAIN.format(name="answers"), "main.rs", "fn main() {}\n"),
        "does-not-compile": (PLAIN.format(name="does-not-compile"), "main.rs", "fn main() { this is not Rust }\n"),
    }, lock=False)
    result = build(path / "Cargo.toml")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: function")]
    assert errors == ["error: function does-not-compile (package does-not-compile, runtime provided.al2023) did not "
                      "build: its error is above; nothing of it was written"], result.stderr[-3000:]
    built = path / "target" / "lambda"
    assert sorted(p.name for p in built.iterdir()) == ["answers"], "only the function built before it"
    assert (built / "answers" / "lambda.zip").is_file()


@pytest.mark.parametrize("args, says", [
    (["--package", "answers", "--package", "shared"],
     "error: shared is not a Lambda function: it has no cdylib depending on crowbar (python3.6) or pyo3 "
     "(python3.9 and later) and no bin (provided.*)"),
    (["--package", "answers", "--package", "absent"], "error: no package named absent in "),
    (["--runtime", "provided.al3"], "error: no runtime 'provided.al3' (--runtime): toolchain/target.json has "),
])
def test_a_wrong_package_or_runtime_is_one_line_before_any_build(tmp_path, args, says):
    path = tmp_path / "ws"
    write_workspace(path, {
        "answers": (PLAIN.format(name="answers"), "main.rs", "fn main() {}\n"),
        "other": (PLAIN.format(name="other"), "main.rs", "fn main() {}\n"),
        "shared": (PLAIN.format(name="shared"), "lib.rs", ""),
    }, lock=False)
    result = build(path / "Cargo.toml", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(says), result.stderr
    assert not (path / "target").exists()


@pytest.mark.parametrize("bin_name, shown", [
    ("b\\nerror: function b built", "'b\\nerror: function b built'"),
    ("a$(touch PWNED)", "'a$(touch PWNED)'"),
])
def test_a_bin_name_cargo_cannot_build_is_one_line_before_any_build(tmp_path, bin_name, shown):
    # cargo metadata lists any bin name; only rustc refuses one with a newline
    # or `$(`, late and over several lines (the newline forged an error line).
    path = tmp_path / "ws"
    manifest = PLAIN.format(name="answers") + f'\n[[bin]]\nname = "{bin_name}"\npath = "src/main.rs"\n'
    write_workspace(path, {"answers": (manifest, "main.rs", "fn main() {}\n")}, lock=False)
    result = build(path / "Cargo.toml")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: answers's bin {shown} is no name cargo can build (letters, digits, - and _): "
                     f"rename it in {path / 'answers' / 'Cargo.toml'}"], result.stderr
    assert not (path / "target").exists() and not list(tmp_path.rglob("PWNED"))


@pytest.mark.parametrize("kind", ["file", "root", "checkout", "holding-the-checkout"])
def test_an_out_the_build_would_spoil_is_one_line_before_anything(tmp_path, kind):
    """--out a file failed late with mkdir's message; --out / or this
    checkout (whose bootstrap/ a function named bootstrap would replace)
    was not refused at all. Each is refused before any tool or build."""
    afile = tmp_path / "a-file"
    afile.write_text("mine\n")
    out = {"file": afile, "root": "/", "checkout": ROOT, "holding-the-checkout": ROOT.parent}[kind]
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    result = run(["bash", ROOT / "scripts/build-lambda-zip", "--out", out], env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --out {out}: "), result.stderr
    assert afile.read_text() == "mine\n"


def test_a_function_directory_the_build_did_not_write_is_refused_not_replaced(tmp_path):
    """A build of function answers replaced OUT/answers whole, deleting the
    user's OUT/answers/notes.txt (and OUT/answers.old/). A directory there
    that no build wrote (no runtime file) is refused before any build."""
    path = tmp_path / "ws"
    write_workspace(path, {
        "answers": (PLAIN.format(name="answers"), "main.rs", "fn main() {}\n"),
        "other": (PLAIN.format(name="other"), "main.rs", "fn main() {}\n"),
    }, lock=False)
    out = tmp_path / "out"
    (out / "answers").mkdir(parents=True)
    (out / "answers" / "notes.txt").write_text("mine\n")
    result = build(path / "Cargo.toml", "--out", out)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}/answers: not a directory an earlier build wrote"), \
        result.stderr[-3000:]
    assert (out / "answers" / "notes.txt").read_text() == "mine\n"
    assert not (path / "target").exists()


def test_the_flake_finds_the_same_functions_as_the_non_nix_path():
    """One rule, two readers: scripts/lib/crate-facts.py (on `cargo metadata`,
    what scripts/build-lambda-zip builds) and nix/lib.nix workspaceFunctions
    (on the manifests, what buildLambdaZips builds) name the same functions,
    of the same packages, bins and runtimes, in tests/nix/workspace: a crowbar
    cdylib, a PyO3 cdylib, a package whose bin is bootstrap, a package with
    two bins, a cdylib without crowbar or pyo3 (not a function)."""
    workspace = ROOT / "tests/nix/workspace"
    metadata = run(["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1",
                    "--manifest-path", workspace / "Cargo.toml"])
    assert metadata.returncode == 0, metadata.stderr
    listed = run(["python3", ROOT / "scripts/lib/crate-facts.py", "functions"], input=metadata.stdout)
    assert listed.returncode == 0, listed.stderr
    by_cargo = {}
    for line in listed.stdout.splitlines():
        function, kind, package, bin_name = line.split()
        runtime = {"python-module": "python3.6", "pyo3-module": "python3.12"}.get(kind, "provided.al2")
        by_cargo[function] = {"cargoPackage": package,
                              "runtime": runtime,
                              "cargoBin": None if bin_name == "-" else bin_name}
    evaluated = run(["nix-instantiate", "--eval", "--strict", "--json", "-E",
                     f'(import {ROOT}/nix/lib.nix).workspaceFunctions {workspace} "provided.al2"'])
    assert evaluated.returncode == 0, evaluated.stderr
    by_nix = json.loads(evaluated.stdout)
    assert by_cargo == by_nix
    assert sorted(by_nix) == ["greeter", "orders", "pricing", "report", "tools"]
