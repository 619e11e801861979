"""The differential test: lambda-audit's verdict against the real loader.

The bullseye tree (glibc 2.31, Python 3.9) is scanned into a profile whose
LD_LIBRARY_PATH puts a stand-in OpenSSL 1.0.1 libcrypto.so.10 and the system
directories ahead of /var/task, as Lambda does. For every case, the artifact
(and its package) is placed in /var/task; lambda-audit judges it statically
and bullseye's python3 imports it in a chroot. The two must agree; any
disagreement fails with both sides printed.

The dynamic-link policy (no libssl/libcrypto) is a rule of this project, not
of the loader, so policy findings are left out of the static verdict here."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import run

RUNTIME_LIB = "/opt/lambda-audit-runtime-lib"
SEARCH_PATH = f"{RUNTIME_LIB}:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/var/task:/var/task/lib"

FIXTURE_MODULES = [
    "mod_ok", "mod_ssleay", "mod_newglibc", "mod_weaksym", "mod_weakver", "mod_weakabsent",
    "mod_undefined", "mod_ssl", "mod_zlib", "mod_newzlib", "mod_missing", "mod_vendored",
    "mod_rpath", "mod_runpath", "mod_norpath",
]


@pytest.fixture(scope="module")
def bullseye_profile(rootfs, fixtures, audit, tmp_path_factory):
    for library in ("libcrypto.so.10", "libversioned.so.1"):
        rootfs.put(fixtures / "runtime-lib" / library, f"{RUNTIME_LIB}/{library}")
    out = tmp_path_factory.mktemp("profile") / "bullseye.json"
    result = audit("profile", "scan", rootfs.path, "--name", "bullseye-as-lambda", "--search-path", SEARCH_PATH,
                   "--host-exe", "/usr/bin/python3", "--module-init-prefix", "PyInit_", "--out", out)
    assert result.returncode == 0, result.stderr
    profile = json.loads(out.read_text())
    assert profile["host"]["exports"], "python3's exports must be scanned"
    assert any(lib["soname"] == "libcrypto.so.10" for lib in profile["libraries"])
    return out


def system_lib(name):
    """A library of this (build) machine, newer than bullseye's."""
    for directory in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"):
        if (Path(directory) / name).exists():
            return Path(directory) / name
    raise AssertionError(f"{name} not found on this machine")


def cases(fixtures, lambda_package, host_built_module):
    """(name, module, {runtime path: local file}) for every case."""
    found = []
    for name in FIXTURE_MODULES:
        found.append((name, name, {f"/var/task/{name}.so": fixtures / f"{name}.so"}))
        found.append((f"{name} (stripped)", name, {f"/var/task/{name}.so": fixtures / "stripped" / f"{name}.so"}))
    found += [
        # The runtime searches /var/task/lib after the system: a library only there loads from there.
        ("mod_vendored with lib/", "mod_vendored",
         {"/var/task/mod_vendored.so": fixtures / "mod_vendored.so",
          "/var/task/lib/libvendored.so.1": fixtures / "build-lib/libvendored.so.1"}),
        # The runtime-lib directory's libversioned.so.1 (VERSIONED_1) comes first on
        # LD_LIBRARY_PATH; the package's (VERSIONED_2) wins only through DT_RPATH.
        *[(f"{module} with lib/libversioned.so.1", module,
           {f"/var/task/{module}.so": fixtures / f"{module}.so",
            "/var/task/lib/libversioned.so.1": fixtures / "build-lib/libversioned.so.1"})
          for module in ("mod_rpath", "mod_runpath", "mod_norpath")],
        # glibc stops at the first file of the name, even when it is not ELF.
        ("mod_vendored with a non-ELF libvendored.so.1 before lib/", "mod_vendored",
         {"/var/task/mod_vendored.so": fixtures / "mod_vendored.so",
          "/var/task/libvendored.so.1": fixtures / "not-elf.so.1",
          "/var/task/lib/libvendored.so.1": fixtures / "build-lib/libvendored.so.1"}),
        # Even DT_RPATH cannot replace a library the interpreter already loaded.
        ("mod_newzlib_rpath with a newer lib/libz.so.1", "mod_newzlib_rpath",
         {"/var/task/mod_newzlib_rpath.so": fixtures / "mod_newzlib_rpath.so",
          "/var/task/lib/libz.so.1": system_lib("libz.so.1")}),
        # A newer libz in lib/ is shadowed by the system's: still fails.
        ("mod_newzlib with a shadowed lib/libz.so.1", "mod_newzlib",
         {"/var/task/mod_newzlib.so": fixtures / "mod_newzlib.so",
          "/var/task/lib/libz.so.1": system_lib("libz.so.1")}),
        ("mod_zlib with a shadowed lib/libz.so.1", "mod_zlib",
         {"/var/task/mod_zlib.so": fixtures / "mod_zlib.so",
          "/var/task/lib/libz.so.1": system_lib("libz.so.1")}),
        ("liblambda.so built by zig for glibc 2.17", "liblambda",
         {"/var/task/liblambda.so": lambda_package / "liblambda.so"}),
        ("liblambda.so built by the host toolchain", "liblambda",
         {"/var/task/liblambda.so": host_built_module}),
        ("a 32-bit library named as a module", "plain_i386",
         {"/var/task/plain_i386.so": fixtures / "cross/plain-i386.so"}),
        ("an aarch64 library named as a module", "plain_aarch64",
         {"/var/task/plain_aarch64.so": fixtures / "cross/plain-aarch64.so"}),
    ]
    return found


def static_verdict(report):
    errors = [f for f in report["findings"] if f["severity"] == "error" and f["kind"] != "forbidden-library"]
    return not errors, errors


def test_lambda_audit_agrees_with_the_real_loader(rootfs, fixtures, lambda_package, host_built_module,
                                                  bullseye_profile, check_json):
    disagreements = []
    checked = 0
    for name, module, files in cases(fixtures, lambda_package, host_built_module):
        rootfs.clear_task()
        for runtime_path, source in files.items():
            rootfs.put(source, runtime_path)
        artifact = rootfs.task / f"{module}.so"
        _, report = check_json(str(bullseye_profile), artifact, bundle_dir=rootfs.task)
        loads, errors = static_verdict(report)
        imported = rootfs.import_module(module, SEARCH_PATH)
        really_loads = imported.returncode == 0 and "imported" in imported.stdout
        checked += 1
        if loads != really_loads:
            disagreements.append(
                f"{name}:\n  lambda-audit: {'loads' if loads else 'will not load'} {json.dumps(errors, indent=1)}\n"
                f"  python3 in bullseye: {'imported' if really_loads else 'failed'}: {imported.stderr.strip()[-800:]}"
            )
    assert checked == len(FIXTURE_MODULES) * 2 + 12
    assert not disagreements, "\n".join(disagreements)


def test_the_cases_are_not_all_alike(rootfs, fixtures, bullseye_profile, check_json):
    """A differential test is only as good as its mix: some cases must load, some must not."""
    verdicts = set()
    for module in ("mod_ok", "mod_ssleay", "mod_weakver", "mod_weaksym", "mod_rpath"):
        rootfs.clear_task()
        rootfs.put(fixtures / f"{module}.so", f"/var/task/{module}.so")
        _, report = check_json(str(bullseye_profile), rootfs.task / f"{module}.so", bundle_dir=rootfs.task)
        verdicts.add((module, static_verdict(report)[0]))
    # mod_rpath alone, without its lib/, finds only the runtime's old libversioned.so.1.
    assert verdicts == {("mod_ok", True), ("mod_ssleay", False), ("mod_weakver", True), ("mod_weaksym", False),
                        ("mod_rpath", False)}
