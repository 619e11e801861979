"""Real wheels from PyPI against the built-in runtime profiles, with real
interpreters as the oracle.

The wheels (pinned by sha256, downloaded at test time with `pip download`)
are the kinds people deploy: psycopg2-binary for cp36 and cp39 (libpq and
OpenSSL in `psycopg2_binary.libs`, reached through the module's DT_RPATH;
glibc's libresolv), psycopg-binary for cp311 (a version-specific module
suffix) and cryptography as cp311-abi3 and cp39-abi3 (the stable ABI of one
version: 3.11's adds PyType_GetName and more).

Each module is judged by the built-in `python3.X` profiles and, where an
interpreter of that version runs here, compared with a real import: the
bullseye tree's python3.9 and the trixie tree's python3.13 (in a chroot,
against both the built-in profile and a profile scanned from the tree) and
this machine's python3.11 (Debian 12: the built-in python3.11 profile and one
scanned from this machine). The wheels are all manylinux2014 (glibc
2.17), so the glibc of the oracle does not decide anything: the interpreter's
C API and its module suffixes do."""

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, Rootfs, module_name, pinned_download, pinned_wheel, real_import, run

# name: (requirement, --python-version (a release: 3.9 alone means 3.9.0, which cryptography excludes), --abi or None, wheel file, sha256, the module in it)
WHEELS = {
    "psycopg2-cp36": ("psycopg2-binary==2.9.5", "3.6.15", None,
                      "psycopg2_binary-2.9.5-cp36-cp36m-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                      "6f8a9bcab7b6db2e3dbf65b214dfc795b4c6b3bb3af922901b6a67f7cb47d5f8", "psycopg2/_psycopg"),
    "psycopg2-cp39": ("psycopg2-binary==2.9.5", "3.9.2", None,
                      "psycopg2_binary-2.9.5-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                      "e59137cdb970249ae60be2a49774c6dfb015bd0403f05af1fe61862e9626642d", "psycopg2/_psycopg"),
    "psycopg-cp311": ("psycopg-binary==3.2.3", "3.11.2", None,
                      "psycopg_binary-3.2.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                      "7d784f614e4d53050cbe8abf2ae9d1aaacf8ed31ce57b42ce3bf2a48a66c3a5c", "psycopg_binary/_psycopg"),
    "cryptography-cp311-abi3": ("cryptography==48.0.0", "3.11.2", "abi3",
                                "cryptography-48.0.0-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
                                "7995ef305d7165c3f11ae07f2517e5a4f1d5c18da1376a0a9ed496336b69e5f3", "cryptography/hazmat/bindings/_rust"),
    "cryptography-cp39-abi3": ("cryptography==44.0.0", "3.9.2", "abi3",
                               "cryptography-44.0.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                               "404fdc66ee5f83a1388be54300ae978b2efd538018de18556dde92575e05defc", "cryptography/hazmat/bindings/_rust"),
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """name -> (package directory as /var/task would hold it, the extension module in it)."""
    found = {}
    for name, (requirement, python, abi, wheel, digest, module) in WHEELS.items():
        pip_args = ["--platform", "manylinux2014_x86_64", "--python-version", python, requirement]
        if abi:
            pip_args[-1:-1] = ["--abi", abi]
        path = pinned_wheel(wheel, digest, pip_args, tmp_path_factory.mktemp("download"))
        package = tmp_path_factory.mktemp(name)
        with zipfile.ZipFile(path) as archive:
            archive.extractall(package)  # what pip install --target does with a wheel's files
        modules = [p for p in package.rglob("*.so") if str(p.relative_to(package)).startswith(module + ".")]
        assert len(modules) == 1, modules
        found[name] = (package, modules[0])
    return found


def verdict(check_json, profile, package, module):
    code, report = check_json(profile, module, bundle_dir=package)
    return code, report


def kinds(report):
    return {f["kind"] for f in report["findings"] if f["severity"] == "error"}


def undefined(report):
    return {f["symbol"] for f in report["findings"] if f["kind"] == "undefined-symbol"}


def test_glibc_family_libresolv_is_in_the_runtime(packages, check_json, audit, tmp_path):
    """psycopg2-binary's cp36 wheel: its libraries need libresolv.so.2, which
    every glibc installs; it was 'missing' on all three Amazon Linux profiles."""
    package, module = packages["psycopg2-cp36"]
    for profile in ("python3.6", "amazonlinux-2017.03-python3.6"):
        code, report = verdict(check_json, profile, package, module)
        assert code == 0, json.dumps(report["findings"], indent=1)
    # bundle follows the module's DT_RPATH into psycopg2_binary.libs for the
    # libraries that libpq needs (inherited DT_RPATH), and vendors them.
    out = tmp_path / "bundled"
    result = audit("bundle", "--profile", "python3.6", "--out", out, module)
    assert result.returncode == 0, result.stderr
    vendored = sorted(p.name.split("-")[0] for p in (out / "lib").iterdir())
    assert {"libpq", "libssl", "libcrypto", "libldap_r"} <= set(vendored), vendored


def test_the_interpreter_api_is_the_versions_own(packages, check_json):
    """cryptography's cp311-abi3 module uses 3.11's stable ABI: named as
    undefined on 3.6, 3.9 and 3.10, loading on 3.11 and later (3.14's C API,
    read from another distribution's build, keeps every name it uses)."""
    package, module = packages["cryptography-cp311-abi3"]
    for profile in ("python3.6", "python3.9", "python3.10"):
        code, report = verdict(check_json, profile, package, module)
        assert code == 1, profile
        assert kinds(report) == {"undefined-symbol"}, report["findings"]
        assert {"PyType_GetName", "PyType_GetQualName"} <= undefined(report), (profile, undefined(report))
    for profile in ("python3.11", "python3.12", "python3.13", "python3.14"):
        code, report = verdict(check_json, profile, package, module)
        assert code == 0, (profile, report["findings"])
        # Every symbol checked by name: libc, libpthread and libdl (glibc
        # 2.34 moved their functions into libc, keeping the old versions
        # there), libgcc_s's unwinder, the interpreter.
        assert report["unverified_symbols"] == 0, profile


def test_a_module_suffix_of_another_version_is_never_imported(packages, check_json):
    package, module = packages["psycopg-cp311"]
    code, report = verdict(check_json, "python3.9", package, module)
    assert code == 1
    reasons = [f["reason"] for f in report["findings"] if f["kind"] == "foreign-module"]
    assert reasons and "_psycopg.cpython-39-x86_64-linux-gnu.so" in reasons[0], report["findings"]
    code, report = verdict(check_json, "python3.11", package, module)
    assert code == 0, report["findings"]


# What each interpreter does with each module (the oracle checked too: an
# oracle that never loads anything would agree with a profile that refuses all).
LOADS_ON = {
    "3.9": {"psycopg2-cp39", "cryptography-cp39-abi3"},
    "3.11": {"psycopg-cp311", "cryptography-cp311-abi3", "cryptography-cp39-abi3"},
    "3.13": {"cryptography-cp311-abi3", "cryptography-cp39-abi3"},
}
# Debian trees with a real interpreter: suite -> Python version.
TREES = {"bullseye": "3.9", "trixie": "3.13"}


@pytest.fixture(scope="module")
def trees(rootfs, packages, audit, tmp_path_factory):
    """suite -> (the tree with every wheel in /var/task/<name>, a profile scanned from it)."""
    found = {}
    for suite, version in TREES.items():
        if suite == "bullseye":
            tree = rootfs
        else:
            result = run([ROOT / "scripts/debian-rootfs", suite], timeout=900)
            assert result.returncode == 0, result.stderr[-2000:]
            tree = Rootfs(Path(result.stdout.strip().splitlines()[-1]))
        tree.clear_task()
        for name, (package, _) in packages.items():
            shutil.copytree(package, tree.task / name, symlinks=True)
        out = tmp_path_factory.mktemp("profile") / f"{suite}-python{version}.json"
        result = audit("profile", "scan", tree.path, "--name", f"{suite}-python{version}",
                       "--search-path", "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/var/task",
                       "--host-exe", f"/usr/bin/python{version}", "--module-init-prefix", "PyInit_", "--out", out)
        assert result.returncode == 0, result.stderr
        found[suite] = (tree, out)
    return found


def c_api(exports):
    return sorted(e for e in exports if e.startswith(("Py", "_Py")) and not e.startswith("PyInit_"))


@pytest.mark.parametrize("suite", sorted(TREES))
def test_scanned_interpreter_gives_the_builtin_exports_and_suffixes(trees, audit, suite):
    """profile scan --host-exe reads the interpreter's exports and its module
    suffix; for bullseye's python3.9 and trixie's python3.13 they are the
    built-in lists (taken from those releases' builds by
    scripts/profile-runtime-data)."""
    version = TREES[suite]
    host = json.loads(trees[suite][1].read_text())["host"]
    builtin = json.loads(audit("profile", "show", f"python{version}").stdout)["host"]
    nodot = version.replace(".", "")
    assert host["extension_suffixes"] == builtin["extension_suffixes"] == [
        f".cpython-{nodot}-x86_64-linux-gnu.so", ".abi3.so", ".so"]
    assert c_api(host["exports"]) == builtin["exports"]


@pytest.mark.parametrize("suite,name", [(suite, name) for suite in sorted(TREES) for name in sorted(WHEELS)])
def test_verdicts_agree_with_the_trees_interpreter(trees, packages, check_json, suite, name):
    """The built-in python3.X profile, the profile scanned from the tree and a
    real import in the tree (chroot) agree on every wheel."""
    version = TREES[suite]
    tree, scanned = trees[suite]
    package, module = packages[name]
    runtime_path = f"/var/task/{name}/{module.relative_to(package)}"
    local = tree.path / runtime_path.lstrip("/")
    chroot = ["chroot", tree.path, "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", f"/usr/bin/python{version}"]
    oracle = real_import(chroot, str(Path(runtime_path).parent), module_name(module), runtime_path)
    assert oracle["loaded"] == (name in LOADS_ON[version]), oracle
    for profile in (f"python{version}", str(scanned)):
        code, report = check_json(profile, local, bundle_dir=tree.task / name)
        assert (code == 0) == oracle["loaded"], (profile, oracle, report["findings"])


HOST_PYTHON311 = "/usr/bin/python3.11"  # Debian 12's, installed by scripts/test


@pytest.fixture(scope="module")
def this_machine(audit, tmp_path_factory):
    """A profile scanned from this machine (Debian 12) with its python3.11 as the host."""
    out = tmp_path_factory.mktemp("profile") / "this-machine.json"
    result = audit("profile", "scan", "/", "--name", "this-machine-python3.11", "--host-exe", HOST_PYTHON311,
                   "--module-init-prefix", "PyInit_", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


PINS = json.loads((ROOT / "lambda-audit/profiles/distribution-packages.json").read_text())["packages"]


def pinned_deb(key):
    """One of the packages the built-in profiles are read from, downloaded once and checked by sha256."""
    pin = PINS[key]
    return pinned_download(pin["url"], pin["sha256"], "distribution-packages", ".deb")


def scan_pinned(audit, tmp_path, keys, triplet, *args):
    """`profile scan` (with ARGS) of the pinned packages KEYS unpacked into
    one tree, whose libraries are in Debian's TRIPLET directories, as
    scripts/profile-runtime-data scans them: the profile it writes."""
    tree = tmp_path / "+".join(keys)
    for key in keys:
        result = run(["dpkg-deb", "-x", pinned_deb(key), tree])
        assert result.returncode == 0, result.stderr
    out = tmp_path / "scan.json"
    result = audit("profile", "scan", tree, "--name", "pinned", "--default-path",
                   f"/lib/{triplet}:/usr/lib/{triplet}", "--out", out, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize("version", ["3.11", "3.14"])
def test_the_pinned_python_gives_the_builtin_exports_and_suffixes(audit, tmp_path, version):
    """The derivation of the built-in python3.11 and python3.14 lists,
    repeated: the pinned package (python3.X-minimal: Debian 12's 3.11.2,
    Ubuntu 26.04's 3.14.4, with a libc beside it, as
    scripts/profile-runtime-data unpacks it) scanned with --host-exe gives
    exactly the built-in exports and suffixes. Not this machine's python3.11:
    every Debian point release changes its private names, and a test of the
    derivation must not depend on the host's patch level."""
    host = scan_pinned(audit, tmp_path, (f"python{version}", "bookworm-libc6"), "x86_64-linux-gnu",
                       "--host-exe", f"/usr/bin/python{version}", "--module-init-prefix", "PyInit_")["host"]
    builtin = json.loads(audit("profile", "show", f"python{version}").stdout)["host"]
    nodot = version.replace(".", "")
    assert host["extension_suffixes"] == builtin["extension_suffixes"] == [
        f".cpython-{nodot}-x86_64-linux-gnu.so", ".abi3.so", ".so"]
    assert c_api(host["exports"]) == builtin["exports"]


# The gcc runtime libraries of the arm64 OS profiles, and the pinned aarch64
# build of each that scripts/profile-runtime-data reads (docs/runtime-facts.md §4, §5).
ARM64_GCC_RUNTIME = {"libgcc_s.so.1": "bookworm-libgcc-s1-arm64",
                     "libstdc++.so.6": "bookworm-libstdc++6-arm64",
                     "libz.so.1": "bookworm-zlib1g-arm64"}


def version_key(node):
    """GCC_4.5.0 -> (GCC, (4, 5, 0)): a node's family and its place in it."""
    family, _, number = node.rpartition("_")
    return family, tuple(int(n) for n in number.split("."))


@pytest.mark.parametrize("os_name", ["amazonlinux-2", "amazonlinux-2023"])
@pytest.mark.parametrize("soname", sorted(ARM64_GCC_RUNTIME))
def test_the_arm64_gcc_runtime_keeps_the_nodes_only_aarch64_has(audit, tmp_path, os_name, soname):
    """(issue 29) The release's version nodes of libgcc_s, libstdc++ and libz
    are its x86_64 build's; on arm64 the profile has every node of the pinned
    aarch64 build no newer than the release's newest of its family, those only
    aarch64 has included: Debian's aarch64 libgcc_s defines GCC_4.5.0 (its
    128-bit float helpers: __unordtf2, which @duckdb/node-bindings-linux-arm64
    and onnxruntime-node need, and node loads), which x86_64's lacks, and a
    derivation that kept only the x86_64 nodes aarch64 also has dropped it."""
    real = scan_pinned(audit, tmp_path, (ARM64_GCC_RUNTIME[soname],), "aarch64-linux-gnu")
    real = {lib["soname"]: lib for lib in real["libraries"]}[soname]
    profiles = ROOT / "lambda-audit/profiles"
    x86, arm64 = ({lib["soname"]: lib for lib in json.loads((profiles / f"{os_name}{suffix}.json").read_text())["libraries"]}[soname]
                  for suffix in ("", "-arm64"))
    newest = {}
    for node in x86["versions"][1:]:
        family, number = version_key(node)
        newest[family] = max(newest.get(family, number), number)
    expected = [node for node in real["versions"][1:]
                if version_key(node)[0] in newest and version_key(node)[1] <= newest[version_key(node)[0]]]
    assert arm64["versions"] == [soname] + expected
    nodes = set(expected)
    assert arm64["exports"] == sorted(e for e in real["exports"] if "@" not in e or e.split("@")[-1] in nodes)
    if soname == "libgcc_s.so.1":
        assert "GCC_4.5.0" in arm64["versions"] and "GCC_4.5.0" not in x86["versions"]
        assert "__unordtf2@@GCC_4.5.0" in arm64["exports"]


def test_this_machines_python311_has_the_builtin_suffixes_and_nearly_its_exports(audit, this_machine):
    """This machine's python3.11 (whatever Debian 12 point release it is) has
    the same module suffixes, and its C API differs from the pinned build's
    by private names only (`_Py*`): the public API of a minor version does
    not change in point releases."""
    host = json.loads(this_machine.read_text())["host"]
    builtin = json.loads(audit("profile", "show", "python3.11").stdout)["host"]
    assert host["extension_suffixes"] == builtin["extension_suffixes"]
    differ = set(c_api(host["exports"])) ^ set(builtin["exports"])
    assert all(name.startswith("_Py") for name in differ), sorted(differ)


def test_the_python311_profile_agrees_with_this_machines_python311(packages, check_json, this_machine):
    """The built-in python3.11 and the profile scanned from this machine against
    its own interpreter: Debian 12's python3.11, the build the profile's list
    is read from."""
    python = HOST_PYTHON311
    for name, (package, module) in sorted(packages.items()):
        oracle = real_import([python, "-I"], str(module.parent), module_name(module), str(module))
        assert oracle["loaded"] == (name in LOADS_ON["3.11"]), (name, oracle)
        for profile in ("python3.11", str(this_machine)):
            code, report = check_json(profile, module, bundle_dir=package)
            assert (code == 0) == oracle["loaded"], (name, profile, oracle, report["findings"])
