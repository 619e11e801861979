"""The differential test: lambda-audit's verdict against the real loader.

The bullseye tree (glibc 2.31, Python 3.9) is scanned into a profile whose
LD_LIBRARY_PATH puts a stand-in OpenSSL 1.0.1 libcrypto.so.10 and the system
directories ahead of /var/task, as Lambda does. For every case, the artifact
(and its package) is placed in /var/task; lambda-audit judges it statically
and bullseye's python3 imports it in a chroot. The two must agree; any
disagreement fails with both sides printed.

The aarch64 corpus is the same cases built for aarch64 (tests/fixtures/build.sh
--arch aarch64), judged with `--arch arm64` against a profile scanned from
the bullseye arm64 tree, and imported by that tree's own python3.9 under
qemu-user: its loader, not this machine's, is the oracle.

The dynamic-link policy (no libssl/libcrypto) is a rule of this project, not
of the loader, so policy findings are left out of the static verdict here."""

import json
from pathlib import Path

import pytest

from conftest import Rootfs, run

RUNTIME_LIB = "/opt/lambda-audit-runtime-lib"


def search_path(triplet):
    return f"{RUNTIME_LIB}:/lib/{triplet}:/usr/lib/{triplet}:/var/task:/var/task/lib"


SEARCH_PATH = search_path("x86_64-linux-gnu")
AARCH64_SEARCH_PATH = search_path("aarch64-linux-gnu")

FIXTURE_MODULES = [
    "mod_ok", "mod_ssleay", "mod_newglibc", "mod_weaksym", "mod_weakver", "mod_weakabsent",
    "mod_undefined", "mod_ssl", "mod_zlib", "mod_newzlib", "mod_missing", "mod_vendored",
    "mod_rpath", "mod_runpath", "mod_norpath",
]


def scanned_profile(rootfs, fixtures, audit, out, name, search):
    """The tree, with the runtime's stand-in libraries put in RUNTIME_LIB,
    scanned into a profile (its python3 the host) at out."""
    for library in ("libcrypto.so.10", "libversioned.so.1"):
        rootfs.put(fixtures / "runtime-lib" / library, f"{RUNTIME_LIB}/{library}")
    result = audit("profile", "scan", rootfs.path, "--name", name, "--search-path", search,
                   "--host-exe", "/usr/bin/python3", "--module-init-prefix", "PyInit_", "--out", out)
    assert result.returncode == 0, result.stderr
    profile = json.loads(out.read_text())
    assert profile["host"]["exports"], "python3's exports must be scanned"
    assert any(lib["soname"] == "libcrypto.so.10" for lib in profile["libraries"])
    return out


@pytest.fixture(scope="module")
def bullseye_profile(rootfs, fixtures, audit, tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "bullseye.json"
    return scanned_profile(rootfs, fixtures, audit, out, "bullseye-as-lambda", SEARCH_PATH)


def system_lib(name):
    """A library of this (build) machine, newer than bullseye's."""
    for directory in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"):
        if (Path(directory) / name).exists():
            return Path(directory) / name
    raise AssertionError(f"{name} not found on this machine")


def fixture_cases(fixtures, newer_libz):
    """(name, module, {runtime path: local file}) for every case of the
    fixtures (of either architecture); newer_libz is a libz.so.1 newer than
    the tree's, of the same architecture."""
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
          "/var/task/lib/libz.so.1": newer_libz}),
        # A newer libz in lib/ is shadowed by the system's: still fails.
        ("mod_newzlib with a shadowed lib/libz.so.1", "mod_newzlib",
         {"/var/task/mod_newzlib.so": fixtures / "mod_newzlib.so",
          "/var/task/lib/libz.so.1": newer_libz}),
        ("mod_zlib with a shadowed lib/libz.so.1", "mod_zlib",
         {"/var/task/mod_zlib.so": fixtures / "mod_zlib.so",
          "/var/task/lib/libz.so.1": newer_libz}),
    ]
    return found


def cases(fixtures, lambda_package, host_built_module):
    """The x86_64 corpus: the fixtures, the real module both ways, other CPUs."""
    return fixture_cases(fixtures, system_lib("libz.so.1")) + [
        ("liblambda.so built by zig for glibc 2.17", "liblambda",
         {"/var/task/liblambda.so": lambda_package / "liblambda.so"}),
        ("liblambda.so built by the host toolchain", "liblambda",
         {"/var/task/liblambda.so": host_built_module}),
        ("a 32-bit library named as a module", "plain_i386",
         {"/var/task/plain_i386.so": fixtures / "cross/plain-i386.so"}),
        ("an aarch64 library named as a module", "plain_aarch64",
         {"/var/task/plain_aarch64.so": fixtures / "cross/plain-aarch64.so"}),
    ]


def static_verdict(report):
    errors = [f for f in report["findings"] if f["severity"] == "error" and f["kind"] != "forbidden-library"]
    return not errors, errors


def disagreements(rootfs, profile, corpus, search, check_json):
    """Each case of the corpus put in the tree's /var/task, judged by
    lambda-audit and imported by the tree's python3: the cases where the two
    differ, each with both sides."""
    found = []
    for name, module, files in corpus:
        rootfs.clear_task()
        for runtime_path, source in files.items():
            rootfs.put(source, runtime_path)
        artifact = rootfs.task / f"{module}.so"
        _, report = check_json(str(profile), artifact, bundle_dir=rootfs.task)
        loads, errors = static_verdict(report)
        imported = rootfs.import_module(module, search)
        really_loads = imported.returncode == 0 and "imported" in imported.stdout
        if loads != really_loads:
            found.append(
                f"{name}:\n  lambda-audit: {'loads' if loads else 'will not load'} {json.dumps(errors, indent=1)}\n"
                f"  python3 in the tree: {'imported' if really_loads else 'failed'}: {imported.stderr.strip()[-800:]}"
            )
    return found


def test_lambda_audit_agrees_with_the_real_loader(rootfs, fixtures, lambda_package, host_built_module,
                                                  bullseye_profile, check_json):
    corpus = cases(fixtures, lambda_package, host_built_module)
    assert len(corpus) == len(FIXTURE_MODULES) * 2 + 12
    found = disagreements(rootfs, bullseye_profile, corpus, SEARCH_PATH, check_json)
    assert not found, "\n".join(found)


@pytest.fixture(scope="module")
def arm64_rootfs(arm64_tree):
    return Rootfs(Path(arm64_tree("bullseye")), emulated=True)


@pytest.fixture(scope="module")
def newer_arm64_libz(arm64_tree):
    """bookworm's arm64 libz.so.1 (1.2.13), newer than bullseye's (1.2.11)."""
    return (Path(arm64_tree("bookworm")) / "lib/aarch64-linux-gnu/libz.so.1").resolve()


@pytest.fixture(scope="module")
def aarch64_fixtures(tmp_path_factory, newer_arm64_libz):
    out = tmp_path_factory.mktemp("fixtures-aarch64")
    result = run(["bash", Path(__file__).parent / "fixtures/build.sh", out, "--arch", "aarch64", newer_arm64_libz])
    assert result.returncode == 0, result.stderr
    return out


def aarch64_cases(fixtures, newer_libz):
    """The aarch64 corpus: the fixtures, and an x86_64 library in the arm64 tree."""
    return fixture_cases(fixtures, newer_libz) + [
        ("an x86_64 library named as a module", "plain_x86_64",
         {"/var/task/plain_x86_64.so": fixtures / "cross/plain-x86_64.so"}),
    ]


def test_lambda_audit_agrees_with_the_real_arm64_loader_under_qemu(arm64_rootfs, aarch64_fixtures, newer_arm64_libz,
                                                                   audit, check_json, tmp_path):
    profile = scanned_profile(arm64_rootfs, aarch64_fixtures, audit, tmp_path / "bullseye-arm64.json",
                              "bullseye-arm64-as-lambda", AARCH64_SEARCH_PATH)
    assert json.loads(profile.read_text())["arch"] == "aarch64"
    corpus = aarch64_cases(aarch64_fixtures, newer_arm64_libz)
    assert len(corpus) == len(FIXTURE_MODULES) * 2 + 9
    found = disagreements(arm64_rootfs, profile, corpus, AARCH64_SEARCH_PATH, check_json)
    assert not found, "\n".join(found)
    # The mix: the arm64 tree's loader loads some and refuses others.
    verdicts = {}
    for module in ("mod_ok", "mod_weaksym"):
        arm64_rootfs.clear_task()
        arm64_rootfs.put(aarch64_fixtures / f"{module}.so", f"/var/task/{module}.so")
        verdicts[module] = "imported" in arm64_rootfs.import_module(module, AARCH64_SEARCH_PATH).stdout
    assert verdicts == {"mod_ok": True, "mod_weaksym": False}


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
