"""Every artifact is built through cargo-auditable, so its crates are in a
.dep-v0 section: read back by real consumers, not by this project's own
reader. `cargo audit bin` (cargo-audit, the RustSec client) finds an
advisory of a local advisory database in the program and the modules the
zips hold, and none when the advisory's range excludes the linked version;
`rust-audit-info` (cargo-auditable's own reader) prints exactly the crates
`cargo tree` says the artifact's build compiles, each dependency's kind
as cargo-auditable records it. Both tools are the crates
toolchain/target.json pins (crateTools), built once into the cache by
scripts/bootstrap-tools --crate. The artifacts are the ones
scripts/build-lambda-zip made (scripts/test builds them first)."""

import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT, TARGET, run
from runtime_facts import runtime_facts

# The artifacts of the zips scripts/test builds: (what, file in its package,
# the workspace whose Cargo.lock built it, its package, its Rust target).
ARTIFACTS = {
    "python3.6 module": ("lambda/package/liblambda.so", ROOT, "lambda", "x86_64-unknown-linux-gnu"),
    "provided.al2023 bootstrap": ("lambda-provided.al2023/package/bootstrap", ROOT, "bootstrap", "x86_64-unknown-linux-gnu"),
    "provided.al2 arm64 bootstrap": ("lambda-provided.al2-arm64/package/bootstrap", ROOT, "bootstrap", "aarch64-unknown-linux-gnu"),
    "python3.12 PyO3 module": ("lambda-python3.12/package/pyfunction/pyfunction.cpython-312-x86_64-linux-gnu.so",
                               ROOT / "pyfunction", "pyfunction", "x86_64-unknown-linux-gnu"),
}


def artifact(what):
    path = TARGET / ARTIFACTS[what][0]
    assert path.is_file(), f"{path} is missing: run scripts/build-lambda-zip for it first (scripts/test does)"
    return path


@pytest.fixture(scope="session")
def crate_tool():
    """The pinned crate tool NAME's program (scripts/bootstrap-tools --crate NAME)."""

    def tool(name):
        result = run([ROOT / "scripts/bootstrap-tools", "--crate", name], timeout=7200)
        assert result.returncode == 0, result.stderr[-3000:]
        return f"{result.stdout.strip()}/{name}"

    return tool


def locked_version(workspace, name):
    lock = tomllib.loads((workspace / "Cargo.lock").read_text())
    (version,) = [p["version"] for p in lock["package"] if p["name"] == name]
    return version


def advisory_db(tmp_path, package, patched):
    """A RustSec advisory database of one advisory for `package`, patched in
    the versions `patched` (RustSec's advisory-db layout, which rustsec's
    Database::open reads from a plain directory: crates/PACKAGE/ID.md, TOML
    front matter, then a Markdown title and description)."""
    db = tmp_path / "advisory-db"
    (db / "crates" / package).mkdir(parents=True)
    (db / "crates" / package / "RUSTSEC-2026-9001.md").write_text(f"""```toml
[advisory]
id = "RUSTSEC-2026-9001"
package = "{package}"
date = "2026-12-07"
url = "https://example.invalid/RUSTSEC-2026-9001"
categories = ["memory-corruption"]

[versions]
patched = {json.dumps(patched)}
```

# A test advisory for {package}

Written by tests/test_auditable.py: cargo audit bin must find it in the embedded crate list.
""")
    return db


def audit_bin(cargo_audit, db, binary):
    """`cargo audit bin --json` with the local database only (no fetch, and
    no look-up of yanked crates in the registry's index): its exit status
    and the advisories it reports."""
    result = run([cargo_audit, "audit", "--db", db, "--no-fetch", "--no-yanked", "--json", "bin", binary], timeout=300)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = json.loads(result.stdout)
    return result.returncode, [(v["advisory"]["id"], v["package"]["name"], v["package"]["version"])
                               for v in report["vulnerabilities"]["list"]]


def next_patch(version):
    major, minor, patch = version.split("+")[0].split("-")[0].split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


@pytest.mark.parametrize("what", ARTIFACTS)
def test_cargo_audit_finds_an_advisory_of_a_linked_crate(what, crate_tool, tmp_path):
    """The `openssl` crate (the bindings every artifact here calls) at the
    version its Cargo.lock pins: an advisory patched only in the next
    release is reported, one patched in that very version is not."""
    cargo_audit = crate_tool("cargo-audit")
    binary = artifact(what)
    version = locked_version(ARTIFACTS[what][1], "openssl")

    status, found = audit_bin(cargo_audit, advisory_db(tmp_path / "affected", "openssl", [f">= {next_patch(version)}"]), binary)
    assert (status, found) == (1, [("RUSTSEC-2026-9001", "openssl", version)])

    status, found = audit_bin(cargo_audit, advisory_db(tmp_path / "patched", "openssl", [f">= {version}"]), binary)
    assert (status, found) == (0, [])


def cargo_tree(workspace, selection, target):
    """name@version of every crate cargo builds for `selection` (["-p",
    PACKAGE], or ["--workspace"]: with every member's features), normal and
    build dependencies, for the artifact's target: cargo's own answer."""
    result = run(["cargo", "tree", "--locked", "--offline", "--manifest-path", workspace / "Cargo.toml", *selection,
                  "--target", target, "-e", "normal,build", "--prefix", "none", "--format", "{p}"], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    crates = set()
    for line in filter(None, result.stdout.splitlines()):
        name, version = line.replace(" (*)", "").split()[:2]
        crates.add(f"{name}@{version.lstrip('v')}")
    return crates


@pytest.mark.parametrize("what", ARTIFACTS)
def test_rust_audit_info_lists_every_crate_compiled_in(what, crate_tool):
    """rust-audit-info lists every crate `cargo tree` says the package's
    build compiles; any more it lists are crates the workspace's other
    members' features bring in (cargo-auditable asks `cargo metadata`,
    which resolves features for the whole workspace: docs/design.md). The
    bindings (openssl-sys) are runtime dependencies, their build script's
    `cc` a build one; and no crate carries the OpenSSL itself: it is built
    outside cargo (scripts/build-openssl), so its version is in no crate
    list a scanner reads."""
    rust_audit_info = crate_tool("rust-audit-info")
    result = run([rust_audit_info, artifact(what)], timeout=120)
    assert result.returncode == 0, result.stderr
    packages = json.loads(result.stdout)["packages"]
    listed = {f"{p['name']}@{p['version']}" for p in packages}
    _, workspace, package, target = ARTIFACTS[what]
    compiled = cargo_tree(workspace, ["-p", package], target)
    assert compiled <= listed, f"compiled in but not listed: {sorted(compiled - listed)}"
    assert listed - compiled <= cargo_tree(workspace, ["--workspace"], target), sorted(listed - compiled)
    kinds = {p["name"]: p.get("kind", "runtime") for p in packages}
    assert kinds["openssl-sys"] == "runtime" and kinds["openssl"] == "runtime"
    assert kinds["cc"] == "build"
    assert [p["name"] for p in packages if p.get("root")] == [package]
    assert "openssl-src" not in kinds


@pytest.mark.parametrize("what", ARTIFACTS)
def test_the_pipeline_writes_the_zips_sbom_beside_it(what, audit_bin, tmp_path):
    """OUT/sbom.cdx.json beside each OUT/lambda.zip scripts/test built: the
    CycloneDX 1.6 document `lambda-audit sbom` gives for that zip with its
    runtime's profile and architecture (OUT/runtime, OUT/arch), byte for
    byte (deterministic, and of that very zip)."""
    out = TARGET / Path(ARTIFACTS[what][0]).parts[0]
    runtime = (out / "runtime").read_text().strip()
    arch = (out / "arch").read_text().strip() if (out / "arch").exists() else "x86_64"
    profile = runtime_facts(runtime, arch=arch)["profile"]
    options = ["--arch", arch] if arch != "x86_64" else []
    again = tmp_path / "sbom.cdx.json"
    result = run([audit_bin, "sbom", *options, "--profile", profile, "--out", again, out / "lambda.zip"], timeout=300)
    assert result.returncode == 0, result.stderr
    written = (out / "sbom.cdx.json").read_bytes()
    assert written == again.read_bytes()
    bom = json.loads(written)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")


def test_the_flakes_copy_of_cargo_auditables_lock_is_the_crates_own(tmp_path):
    """nix/cargo-auditable.nix vendors the tool's dependencies from the
    committed copy of its Cargo.lock (crateTools' `lock`): bootstrap-tools
    refuses, in one line and before building, a copy that is not the
    pinned .crate's own file (a checkout whose copy was edited)."""
    checkout = tmp_path / "checkout"
    for name in ("scripts", "toolchain"):
        shutil.copytree(ROOT / name, checkout / name)
    lock = checkout / "toolchain" / "cargo-auditable.Cargo.lock"
    lock.write_text(lock.read_text().replace('name = "serde"', 'name = "serde-edited"', 1))
    cache = tmp_path / "cache"
    result = run([checkout / "scripts/bootstrap-tools", "--crate", "cargo-auditable"], timeout=600,
                 env={**os.environ, "LAMBDA_TOOLCHAIN_CACHE": str(cache)})
    assert result.returncode == 2, result.stderr
    assert "toolchain/cargo-auditable.Cargo.lock is not cargo-auditable 0.7.7's own Cargo.lock" in result.stderr
    assert not list((cache / "crates").glob("cargo-auditable-*/")), "nothing installed"
