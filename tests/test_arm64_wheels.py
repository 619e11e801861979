"""Real aarch64 wheels from PyPI against the arm64 runtime profiles
(`--arch arm64`), and wheels of one of Lambda's architectures in a package
for the other.

The wheels (pinned by sha256, downloaded at test time with `pip download`,
cached like tests/test_wheels.py's) are cryptography 44.0.0's cp39-abi3
module for aarch64 in three builds: manylinux2014 (glibc 2.17),
manylinux_2_28 and manylinux_2_34. The oracle is a real import: Debian 11's
arm64 python3.9 (glibc 2.31), run under qemu-user in the bullseye arm64 tree
(scripts/debian-rootfs --arch arm64), imports each module with its own
loader. An import in a tree of glibc G says something about a runtime of
glibc R only one way or the other: a module that loads with G loads with
any R >= G (glibc keeps every older version node), and one refused for a
missing GLIBC_x with x > R is refused by R too; otherwise the tree cannot
tell. No arm64 tree older than 2.31 can be made here (Ubuntu's arm64 archive
and Debian's archive of older releases are not reachable), so where the tree
cannot tell, the module's own version needs, read by readelf (binutils reads
any architecture's ELF), against the runtime's glibc (docs/runtime-facts.md
§2: Amazon Linux 2, 2.26; §3: Amazon Linux 2023, 2.34) are the oracle. The
arm64 profiles' derivation is repeated from the pinned arm64 packages: an
interpreter's C API and suffixes, and libc's version nodes."""

import json
import os
import re
import shutil
import zipfile

import pytest

from conftest import QEMU, pinned_wheel, real_import, run
from test_wheels import c_api, scan_pinned

# name: (requirement, --platform, wheel file, sha256, the glibc its tag allows)
WHEELS = {
    "manylinux2014": ("cryptography==44.0.0", "manylinux2014_aarch64",
                      "cryptography-44.0.0-cp39-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
                      "1923cb251c04be85eec9fda837661c67c1049063305d6be5721643c22dd4e2b7", (2, 17)),
    "manylinux_2_28": ("cryptography==44.0.0", "manylinux_2_28_aarch64",
                       "cryptography-44.0.0-cp39-abi3-manylinux_2_28_aarch64.whl",
                       "c5eb858beed7835e5ad1faba59e865109f3e52b3783b9ac21e7e47dc5554e289", (2, 28)),
    "manylinux_2_34": ("cryptography==44.0.0", "manylinux_2_34_aarch64",
                       "cryptography-44.0.0-cp39-abi3-manylinux_2_34_aarch64.whl",
                       "9e6fc8a08e116fb7c7dd1f040074c9d7b51d74a8ea40d4df2fc7aa08b76b9e6c", (2, 34)),
    # The x86_64 build of the same release (tests/test_wheels.py pins it too).
    "x86_64": ("cryptography==44.0.0", "manylinux2014_x86_64",
               "cryptography-44.0.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
               "404fdc66ee5f83a1388be54300ae978b2efd538018de18556dde92575e05defc", (2, 17)),
}
MODULE = "cryptography/hazmat/bindings/_rust.abi3.so"
MODULE_NAME = "cryptography.hazmat.bindings._rust"
AARCH64_WHEELS = ["manylinux2014", "manylinux_2_28", "manylinux_2_34"]
# The arm64 tree whose python3 imports the wheels, and its glibc.
ORACLE_TREE, ORACLE_GLIBC = "bullseye", (2, 31)
# cryptography's module imports cffi's when it initialises: the import
# oracle puts the same release's aarch64 build for that python3.9 beside it.
CFFI = ("cffi==1.17.1", "cffi-1.17.1-cp39-cp39-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        "ca74b8dbe6e8e8263c0ffd60277de77dcee6c837a3d0881d8c1ead7268c9e576")
# The glibc of each runtime's Amazon Linux release (docs/runtime-facts.md §2, §3).
RUNTIME_GLIBC = {"python3.9": (2, 26), "python3.12": (2, 34), "python3.14": (2, 34)}


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """name -> a package directory holding that wheel's files (as pip install --target leaves them)."""
    found = {}
    for name, (requirement, platform, wheel, digest, _) in WHEELS.items():
        pip_args = ["--platform", platform, "--python-version", "3.9.2", "--abi", "abi3", requirement]
        path = pinned_wheel(wheel, digest, pip_args, tmp_path_factory.mktemp("download"))
        package = tmp_path_factory.mktemp(name)
        with zipfile.ZipFile(path) as archive:
            archive.extractall(package)
        assert (package / MODULE).is_file()
        found[name] = package
    return found


def newest_glibc_need(module):
    """The newest GLIBC_x.y version the module needs, by readelf -V."""
    result = run(["readelf", "-V", "-W", module])
    assert result.returncode == 0, result.stderr
    needs = {tuple(int(n) for n in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", result.stdout)}
    assert needs, result.stdout
    return max(needs)


def check_package(audit, package, *args):
    result = audit("check", "--json", *args, package)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize("wheel", AARCH64_WHEELS)
@pytest.mark.parametrize("profile", ["python3.9", "python3.12", "python3.14"])
def test_an_aarch64_wheel_loads_where_its_glibc_needs_are_met(packages, audit, wheel, profile):
    package = packages[wheel]
    need = newest_glibc_need(package / MODULE)
    assert need <= WHEELS[wheel][4], f"{wheel}: the module needs GLIBC_{need}, newer than its tag"
    expected = need <= RUNTIME_GLIBC[profile]
    code, document = check_package(audit, package, "--arch", "arm64", "--profile", profile)
    assert document["arch"] == "arm64"
    [report] = document["artifacts"]
    assert report["distribution"] == "cryptography 44.0.0"
    assert report["runtime_path"] == "/var/task/" + MODULE
    assert (code == 0) == expected == report["loads"], report["findings"]
    # Every undefined symbol checked by name: glibc's, libgcc_s's and the
    # interpreter's exports are all in the arm64 profile.
    assert report["unverified_symbols"] == 0
    if not expected:
        missing = {f["version"] for f in report["findings"] if f["kind"] == "missing-version"}
        assert "GLIBC_%d.%d" % need in missing, report["findings"]
        assert {f["kind"] for f in report["findings"] if f["severity"] == "error"} == {"missing-version"}


def glibc_release(text):
    return tuple(int(n) for n in text.split("."))


@pytest.fixture(scope="module")
def cffi(tmp_path_factory):
    requirement, wheel, digest = CFFI
    pip_args = ["--platform", "manylinux2014_aarch64", "--python-version", "3.9.2", "--implementation", "cp",
                "--abi", "cp39", requirement]
    return pinned_wheel(wheel, digest, pip_args, tmp_path_factory.mktemp("download"))


def imported_under_qemu(tree, package, cffi, name):
    """The real import of the package's module by the arm64 tree's python3
    under qemu (conftest.real_import's rules: loaded, or why not), with the
    package and cffi placed at /var/task/NAME in the tree."""
    task = os.path.join(tree, "var/task", name)
    shutil.rmtree(task, ignore_errors=True)
    shutil.copytree(package, task)
    with zipfile.ZipFile(cffi) as archive:
        archive.extractall(task)
    try:
        argv = ["env", "-i", shutil.which("chroot"), tree, QEMU, "/usr/bin/python3"]
        return real_import(argv, f"/var/task/{name}", MODULE_NAME, f"/var/task/{name}/{MODULE}")
    finally:
        shutil.rmtree(task)


def what_the_import_proves(imported, runtime_glibc):
    """True (loads), False (will not) or None (the tree cannot tell) for a
    runtime of glibc runtime_glibc, from an import in the oracle tree."""
    if imported["loaded"]:
        return True if ORACLE_GLIBC <= runtime_glibc else None
    missing = re.findall(r"version `GLIBC_([0-9.]+)' not found", imported["outcome"])
    if missing and glibc_release(missing[0]) > runtime_glibc:
        return False
    return None


@pytest.fixture(scope="module")
def imports(packages, cffi, arm64_tree):
    """wheel -> its real import under qemu in the oracle tree."""
    tree = arm64_tree(ORACLE_TREE)
    return {wheel: imported_under_qemu(tree, packages[wheel], cffi, wheel) for wheel in AARCH64_WHEELS}


@pytest.mark.parametrize("wheel", AARCH64_WHEELS)
@pytest.mark.parametrize("profile", list(RUNTIME_GLIBC))
def test_check_agrees_with_a_real_import_under_qemu_where_the_tree_can_tell(packages, imports, audit, wheel,
                                                                            profile):
    proven = what_the_import_proves(imports[wheel], RUNTIME_GLIBC[profile])
    code, document = check_package(audit, packages[wheel], "--arch", "arm64", "--profile", profile)
    [report] = document["artifacts"]
    if proven is not None:
        assert report["loads"] == proven and (code == 0) == proven, (imports[wheel], report["findings"])


def test_the_real_imports_decide_the_expected_cases(imports):
    """What the oracle tree decides, so that the test above cannot pass by
    deciding nothing: the 2.17 and 2.28 builds import (so they load on
    python3.12's 2.34), the 2.34 build is refused for a version bullseye lacks
    (so python3.9's 2.26 refuses it too), and the rest is for readelf."""
    decided = {(wheel, profile): what_the_import_proves(imports[wheel], glibc)
               for wheel in AARCH64_WHEELS for profile, glibc in RUNTIME_GLIBC.items()}
    assert {case: verdict for case, verdict in decided.items() if verdict is not None} == {
        ("manylinux2014", "python3.12"): True,
        ("manylinux_2_28", "python3.12"): True,
        ("manylinux2014", "python3.14"): True,
        ("manylinux_2_28", "python3.14"): True,
        ("manylinux_2_34", "python3.9"): False,
    }, imports
    # Loaded means initialised here: the whole import ran, cffi's module too.
    assert imports["manylinux2014"]["outcome"] == imports["manylinux_2_28"]["outcome"] == "imported", imports


def test_an_x86_64_module_in_an_arm64_package_fails_the_real_import_too(packages, cffi, audit, arm64_tree):
    imported = imported_under_qemu(arm64_tree(ORACLE_TREE), packages["x86_64"], cffi, "x86_64")
    assert not imported["loaded"], imported
    code, document = check_package(audit, packages["x86_64"], "--arch", "arm64", "--profile", "python3.9")
    [report] = document["artifacts"]
    assert code == 1 and not report["loads"]
    assert [f["kind"] for f in report["findings"] if f["severity"] == "error"] == ["wrong-arch"], report["findings"]


def test_the_manylinux_2_28_build_is_the_one_amazon_linux_2_refuses(packages):
    """The two builds differ where the test above needs them to: 2.17's needs
    fit Amazon Linux 2 (2.26), 2.28's do not."""
    assert newest_glibc_need(packages["manylinux2014"] / MODULE) <= RUNTIME_GLIBC["python3.9"]
    assert newest_glibc_need(packages["manylinux_2_28"] / MODULE) > RUNTIME_GLIBC["python3.9"]


@pytest.mark.parametrize("wheel, args, found, expected", [
    ("x86_64", ["--arch", "arm64"], "x86_64", "aarch64"),
    ("manylinux2014", [], "aarch64", "x86_64"),
])
def test_a_wheel_for_the_other_cpu_is_named_with_its_distribution(packages, audit, wheel, args, found, expected):
    code, document = check_package(audit, packages[wheel], *args, "--profile", "python3.12")
    assert code == 1
    [report] = document["artifacts"]
    assert report["distribution"] == "cryptography 44.0.0"
    wrong = [f for f in report["findings"] if f["kind"] == "wrong-arch"]
    assert [(f["found"], f["expected"]) for f in wrong] == [(found, expected)], report["findings"]
    text = audit("check", *args, "--profile", "python3.12", packages[wheel]).stdout
    assert "_rust.abi3.so (from cryptography 44.0.0): WILL NOT LOAD" in text, text


@pytest.mark.parametrize("version", ["3.11", "3.14"])
def test_the_pinned_arm64_python_gives_the_builtin_exports_and_suffixes(audit, tmp_path, version):
    """The derivation of the built-in arm64 python3.11 and python3.14,
    repeated: Debian's arm64 python3.X-minimal (3.11.2 of Debian 12, 3.14.10
    of unstable; with its libc beside it), scanned with --host-exe, gives
    exactly its C API and the aarch64 suffixes."""
    scanned = scan_pinned(audit, tmp_path, (f"python{version}-arm64", "bookworm-libc6-arm64"), "aarch64-linux-gnu",
                          "--host-exe", f"/usr/bin/python{version}", "--module-init-prefix", "PyInit_")
    assert scanned["arch"] == "aarch64"
    builtin = json.loads(audit("profile", "show", "--arch", "arm64", f"python{version}").stdout)["host"]
    nodot = version.replace(".", "")
    assert scanned["host"]["extension_suffixes"] == builtin["extension_suffixes"] == [
        f".cpython-{nodot}-aarch64-linux-gnu.so", ".abi3.so", ".so"]
    assert c_api(scanned["host"]["exports"]) == builtin["exports"]


def test_the_arm64_glibc_nodes_are_debians_arm64_build_cut_to_the_runtimes(audit, tmp_path):
    """The arm64 Amazon Linux 2023 profile's libc nodes, repeated: those of
    Debian's arm64 glibc 2.36, up to GLIBC_2.34, starting at GLIBC_2.17."""
    scanned = scan_pinned(audit, tmp_path, ("bookworm-libc6-arm64",), "aarch64-linux-gnu")
    libc = next(lib for lib in scanned["libraries"] if lib["soname"] == "libc.so.6")
    # GLIBC_2.x releases up to 2.34 (not 2.36's GLIBC_ABI_DT_RELR marker), and GLIBC_PRIVATE.
    release = lambda node: tuple(int(n) for n in node.removeprefix("GLIBC_").split("."))
    cut = [n for n in libc["versions"][1:]
           if n == "GLIBC_PRIVATE" or n.startswith("GLIBC_2.") and release(n) <= (2, 34)]
    profile = json.loads(audit("profile", "show", "--arch", "arm64", "provided.al2023").stdout)
    builtin = next(lib for lib in profile["libraries"] if lib["soname"] == "libc.so.6")
    assert builtin["versions"] == ["libc.so.6"] + cut
    assert cut[0] == "GLIBC_2.17" and "GLIBC_2.34" in cut and "GLIBC_2.35" not in cut
