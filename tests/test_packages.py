"""`lambda-audit check` of whole Python deployment packages, made here with
`pip install --target` from real PyPI wheels (pinned by sha256 with
--require-hashes), as people make them for the python3.8 runtime (Amazon
Linux 2, glibc 2.26): cryptography 40.0.2 with cffi and pycparser, once from
its manylinux2014 wheel (glibc 2.17: loads) and once from its
manylinux_2_28 wheel (needs GLIBC_2.28: does not).

The oracle is Ubuntu 18.04's loader (glibc 2.27, older than 2.28, as AL2's
2.26 is) and its python3.6, importing every extension module of both
packages in a chroot; a profile scanned from that tree must agree with it
module by module. cryptography's modules are cp36-abi3, so 3.6 imports them;
cffi's is cp38, which 3.6's importer never opens (the oracle says so too)."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, Rootfs, module_name, real_import, run

# The wheels, pinned by sha256 (one file the benchmark reads too).
REQUIREMENTS = (ROOT / "tests/packages-requirements.txt").read_text()
# package: the --platform tags pip may choose from, best first
PLATFORMS = {
    "manylinux2014": ["manylinux2014_x86_64"],
    "manylinux_2_28": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """name -> a package directory made by pip install --target for python3.8."""
    work = tmp_path_factory.mktemp("packages")
    requirements = work / "requirements.txt"
    requirements.write_text(REQUIREMENTS)
    made = {}
    for name, platforms in PLATFORMS.items():
        target = work / name
        args = ["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                "--require-hashes", "--only-binary=:all:", "--python-version", "3.8.10", "--target", target,
                "-r", requirements]
        for platform in platforms:
            args += ["--platform", platform]
        result = run(args, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        made[name] = target
    return made


def check(audit, profile, package):
    result = audit("check", "--json", "--profile", profile, package)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def by_path(report, package):
    return {a["path"][len(str(package)) + 1:]: a for a in report["artifacts"]}


def test_the_manylinux2014_package_loads_on_al2_and_the_2_28_one_does_not(packages, audit):
    code, report = check(audit, "python3.8", packages["manylinux2014"])
    assert code == 0, json.dumps([a["findings"] for a in report["artifacts"] if not a["loads"]], indent=1)
    files = by_path(report, packages["manylinux2014"])
    assert files["cryptography/hazmat/bindings/_rust.abi3.so"]["distribution"] == "cryptography 40.0.2"
    assert files["_cffi_backend.cpython-38-x86_64-linux-gnu.so"]["distribution"] == "cffi 1.17.1"

    code, report = check(audit, "python3.8", packages["manylinux_2_28"])
    assert code == 1
    failing = {path: a for path, a in by_path(report, packages["manylinux_2_28"]).items() if not a["loads"]}
    rust = failing["cryptography/hazmat/bindings/_rust.abi3.so"]
    assert rust["distribution"] == "cryptography 40.0.2"
    versions = {f["version"] for f in rust["findings"] if f["kind"] == "missing-version"}
    assert "GLIBC_2.28" in versions, rust["findings"]
    # cffi's module is the same manylinux2014 build in both packages: it loads.
    assert "_cffi_backend.cpython-38-x86_64-linux-gnu.so" not in failing
    # The human report names the distribution of each failing file.
    human = audit("check", "--profile", "python3.8", packages["manylinux_2_28"]).stdout
    assert "_rust.abi3.so (from cryptography 40.0.2): WILL NOT LOAD in python3.8" in human, human


@pytest.fixture(scope="module")
def bionic(packages, audit, tmp_path_factory):
    """Ubuntu 18.04 with both packages in /var/task/<name>, and a profile scanned from it."""
    result = run([ROOT / "scripts/debian-rootfs", "bionic"], timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    tree = Rootfs(Path(result.stdout.strip().splitlines()[-1]))
    tree.clear_task()
    for name, package in packages.items():
        shutil.copytree(package, tree.task / name, symlinks=True)
    out = tmp_path_factory.mktemp("profile") / "bionic.json"
    result = audit("profile", "scan", tree.path, "--name", "ubuntu-18.04-python3.6",
                   "--search-path", "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/var/task",
                   "--host-exe", "/usr/bin/python3.6", "--module-init-prefix", "PyInit_", "--out", out)
    assert result.returncode == 0, result.stderr
    return tree, out


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_every_module_agrees_with_glibc_227s_loader(bionic, packages, audit, name):
    tree, scanned = bionic
    package = tree.task / name
    code, report = check(audit, str(scanned), package)
    verdicts = by_path(report, package)
    # The extension modules (a wheel's bundled libraries, in *.libs/, are not imported).
    modules = [p for p in verdicts if ".libs/" not in p]
    oracle_said = {}
    for path in modules:
        runtime_path = f"/var/task/{name}/{path}"
        directory = runtime_path.rsplit("/", 1)[0]
        chroot = ["chroot", tree.path, "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "/usr/bin/python3.6"]
        oracle = real_import(chroot, directory, module_name(tree.path / runtime_path.lstrip("/")), runtime_path)
        oracle_said[path] = oracle
        assert verdicts[path]["loads"] == oracle["loaded"], (path, oracle, verdicts[path]["findings"])
    rust = oracle_said["cryptography/hazmat/bindings/_rust.abi3.so"]
    if name == "manylinux_2_28":
        assert not rust["loaded"] and "GLIBC_2.28" in rust["outcome"], rust
    else:
        assert rust["loaded"], rust
    # cp38 is never imported by 3.6: the oracle and the scanned profile agree on that too.
    assert not oracle_said["_cffi_backend.cpython-38-x86_64-linux-gnu.so"]["loaded"]
    assert code == 1  # (so each package fails under Ubuntu's 3.6, for cffi's cp38 module)
