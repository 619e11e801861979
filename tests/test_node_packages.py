"""Node.js packages as npm installs them (issue 29): a corpus of real npm
packages with native addons, each a function of its own whose
node_modules/ holds the package and everything npm 11 installs with it on
linux for the CPU (tests/node-package-corpus.json: each package's version
and registry integrity, made by tests/node_package_corpus.py). The kinds:
node-gyp-build prebuilds (per-ABI, N-API, glibc and musl, Android and
other platforms), node-gyp-build-optional-packages' platform packages
(lmdb, msgpackr-extract, cbor-extract), napi-rs's per-platform optional
packages, napi_module_register addons, arm64.

For each function and runtime, `check` of the four Node.js runtimes in one
matrix run gives the function's verdict, and the official node of the
runtime's major (the tree and nodes of test_node_addons.py) requires the
package's main module, as the function's handler would, with
LD_BIND_NOW=1 and node's `process.dlopen` recorded: the two must agree,
where the require cannot decide (the tree's libraries newer than the
runtime's) by the version needs of the files node opened. Every file node
opens must be one `check` judged, never one it calls never opened."""

import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from conftest import QEMU, ROOT, pinned_npm, run
from test_node_addons import (REGISTRY, RUNTIMES, arm64_node, nodes, runtime_nodes, tree_nodes,  # noqa: F401
                              what_the_require_proves)

CORPUS = json.loads((ROOT / "tests/node-package-corpus.json").read_text())["functions"]
X64 = sorted(k for k in CORPUS if k.endswith(" x64"))
ARM64 = sorted(k for k in CORPUS if k.endswith(" arm64"))

# Requires the package (argv[1]) from /var/task as a handler there would,
# noting every addon node's dlopen is asked to open: {error, opened}.
REQUIRE = """
const opened = [];
const dlopen = process.dlopen;
process.dlopen = function (module, file, ...rest) { opened.push(file); return dlopen.call(this, module, file, ...rest); };
let error = null;
try { require(require.resolve(process.argv[1], {paths: ['/var/task']})); }
catch (e) { error = String(e && e.message || e).slice(0, 3000); }
console.log(JSON.stringify({error, opened}));
"""


def unpack(spec, integrity, dest):
    """The npm tarball of `spec` (name@version), pinned by `integrity`, unpacked at `dest`."""
    name, version = spec.rsplit("@", 1)
    tarball = pinned_npm(f"{REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz", integrity)
    with tarfile.open(tarball) as archive:
        # Files and directories under the tarball's one top directory
        # (`package/` for most), none climbing out.
        members = [m for m in archive.getmembers() if "/" in m.name and ".." not in m.name.split("/")
                   and (m.isfile() or m.isdir())]
        for member in members:
            member.name = member.name.split("/", 1)[1]
        options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(dest, members=members, **options)


def function_of(key, into):
    """The function `key` (`SPEC CPU`) as npm lays it out, at into/KEY."""
    root = into / re.sub(r"[^A-Za-z0-9.]+", "-", key)
    if not root.exists():
        part = root.with_suffix(".part")
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir()
        (part / "package.json").write_text(json.dumps({"name": "function", "version": "1.0.0"}))
        for path, (name, version, integrity) in CORPUS[key].items():
            unpack(f"{name}@{version}", integrity, part / path)
        part.rename(root)
    return root


def main_package(key):
    return key.rsplit("@", 1)[0]


def required(tree, node, package, name):
    """node requiring `name` in `tree` (the package at /var/task): (error or None, the addons it opened)."""
    tree.clear_task()
    shutil.copytree(package, tree.task, dirs_exist_ok=True, symlinks=True)
    if tree.emulated:
        command = ["env", "-i", shutil.which("chroot"), tree.path, QEMU, "-E", "LD_BIND_NOW=1", node]
    else:
        command = ["chroot", tree.path, "/usr/bin/env", "-i", "LD_BIND_NOW=1", node]
    result = run([*command, "-e", REQUIRE, name], timeout=300)
    assert result.returncode == 0 and result.stdout.strip(), result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome["error"], outcome["opened"]


def needs_of(tree, opened):
    """The version nodes the files node opened need, and the libraries beside them (readelf -V)."""
    needs = set()
    for path in beside(tree, opened):
        text = run(["readelf", "-V", "-W", path]).stdout
        needs |= set(re.findall(r"Name: ((?:GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+)", text))
    return needs


# What node's failure says: the loader found no file for the runtime.
NO_FILE = ("No native build was found", "Cannot find module", "Cannot find native binding",
           "Failed to load native binding", "No prebuild or local build")


def beside(tree, opened):
    """The files node opened, and the ELF libraries in their directories."""
    files = set()
    for f in opened:
        here = tree.path / f.lstrip("/")
        files |= {here} | {p for p in here.parent.iterdir() if p.is_file() and not p.name.endswith(".node")
                           and p.read_bytes()[:4] == b"\x7fELF"}
    return files


def foreign_libraries(tree, opened, package_sonames, runtime_sonames):
    """The libraries the files node opened need that neither the function
    nor the runtime has (the tree has more than Lambda's image: libudev)."""
    needed = set()
    for path in beside(tree, opened):
        needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", run(["readelf", "-d", "-W", path]).stdout))
    return needed - package_sonames - runtime_sonames


def proven(tree, error, opened, tree_versions, runtime):
    """Whether the package loads on the runtime, as the require shows it."""
    loaded = error is None
    runtime_versions, runtime_sonames, package_sonames = runtime
    if loaded and foreign_libraries(tree, opened, package_sonames, runtime_sonames):
        return False
    decided = what_the_require_proves(loaded, error or "", tree_versions, runtime_versions)
    if decided is not None:
        return decided
    if not loaded and not re.search(r"version `[^']+' not found", error):
        # Nothing about libraries: the loader found no file to open.
        assert any(s in error for s in NO_FILE), error
        return False
    # The tree's libraries are newer than the runtime's: the needs of what node opened decide.
    return needs_of(tree, opened) <= runtime_versions


def runtime_of(audit, runtime, package):
    """The runtime's version nodes and sonames, and the sonames of the function's ELF files."""
    shown = audit("profile", "show", runtime)
    assert shown.returncode == 0, shown.stderr
    sonames = {lib["soname"] for lib in json.loads(shown.stdout)["libraries"] if lib.get("soname")}
    ours = set()
    for path in package.rglob("*.so*"):
        if path.is_file() and path.read_bytes()[:4] == b"\x7fELF":
            ours |= set(re.findall(r"\(SONAME\)\s+Library soname: \[([^]]+)\]", run(["readelf", "-d", "-W", path]).stdout))
    return runtime_nodes(audit, runtime), sonames, ours


def verdicts(audit, package, arch, runtimes):
    args = ["check", "--json", "--arch", arch, *(a for r in runtimes for a in ("--profile", r)), package]
    result = audit(*args)
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr
    document = json.loads(result.stdout)
    # (One runtime: the document is its combination.)
    return {c["profile"]: c for c in document.get("combinations", [document])}


def agree(audit, tree, package, combination, error, opened, tree_versions):
    """Asserts check's verdict on the function is node's, and that every addon node opened was judged."""
    runtime = combination["profile"]
    expected = proven(tree, error, opened, tree_versions, runtime_of(audit, runtime, package))
    judged = {a["runtime_path"] for a in combination.get("artifacts", []) if "never_opened" not in a}
    assert set(opened) <= judged, (runtime, opened, sorted(judged))
    assert combination["loads"] == expected, (runtime, error, opened, combination.get("reason"),
                                              [(a["runtime_path"], a["findings"]) for a in combination["artifacts"]
                                               if a["findings"]])


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("key", X64)
def test_check_of_the_function_agrees_with_requiring_it(key, corpus_dir, rootfs, nodes, tree_nodes, audit):
    package = function_of(key, corpus_dir)
    found = verdicts(audit, package, "x86_64", RUNTIMES)
    for runtime, node in nodes.items():
        error, opened = required(rootfs, node, package, main_package(key))
        agree(audit, rootfs, package, found[runtime], error, opened, tree_nodes)


@pytest.fixture(scope="module")
def arm64_tree_versions(arm64_node, audit, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan") / "bullseye-arm64.json"
    result = audit("profile", "scan", arm64_node.path, "--name", "bullseye-arm64", "--out", out)
    assert result.returncode == 0, result.stderr
    from test_node_addons import version_nodes
    return version_nodes(json.loads(out.read_text())["libraries"])


@pytest.mark.parametrize("key", ARM64)
def test_an_arm64_function_agrees_with_the_arm64_node_under_qemu(key, corpus_dir, arm64_node, arm64_tree_versions,
                                                                  audit):
    package = function_of(key, corpus_dir)
    found = verdicts(audit, package, "arm64", ["nodejs20.x"])
    error, opened = required(arm64_node, "/var/lang/node20/node", package, main_package(key))
    agree(audit, arm64_node, package, found["nodejs20.x"], error, opened, arm64_tree_versions)


def test_the_corpus_has_the_kinds_it_claims(corpus_dir):
    """At least 30 packages beyond test_node_addons.py's, and each kind the issue names present."""
    from test_node_addons import NPM
    theirs = {spec.rsplit("@", 1)[0] for spec in NPM}
    assert len({main_package(k) for k in CORPUS} - theirs) >= 30 and len(ARM64) >= 5
    kinds = {"musl": 0, "android": 0, "abi": 0, "platform package": 0}
    for key in X64:
        for path in function_of(key, corpus_dir).rglob("*.node"):
            text = str(path)
            kinds["musl"] += "musl" in text
            kinds["android"] += "android" in text
            kinds["abi"] += bool(re.search(r"\babi\d+\b", path.name))
            kinds["platform package"] += "-linux-x64" in text
    assert all(kinds.values()), kinds
