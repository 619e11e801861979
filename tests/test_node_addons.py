"""Node.js addons: real prebuilt addons from npm (pinned by their registry
integrity, downloaded at test time and cached) in a function's
node_modules/, judged by `check` for every Node.js runtime in one matrix
run, and required by the real node of each runtime's major version (the
official builds the profiles are read from, pinned in
lambda-audit/profiles/node-packages.json) in the bullseye tree, with
LD_BIND_NOW=1 so that glibc's loader binds every symbol at load (node's own
dlopen is lazy: a missing function would fail only when called).

A require in the tree says something about a runtime only one way or the
other (as for the arm64 wheels): an addon that loads with the tree's glibc
2.31 and GCC 10 libstdc++ loads on a runtime whose libraries define every
version node the tree's do (Amazon Linux 2023's glibc 2.34 and GCC 11); one
refused for a version node the runtime lacks too, or for an N-API function
that node release lacks, is refused by the runtime. Otherwise (nodejs18.x's
Amazon Linux 2: glibc 2.26, GCC 7, older than the tree) the oracle is the
files' own version needs, read by readelf, against the runtime's nodes."""

import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from conftest import QEMU, ROOT, Rootfs, pinned_npm, run

REGISTRY = "https://registry.npmjs.org"
# npm package: (version, the registry's integrity of its tarball)
NPM = {
    "@img/sharp-linux-x64@0.35.5":
        "sha512-SxFtLTeJInhAA9Q836kux2vZNeOBQEx658qvbboZScr0wIARym3IcGmW7KpVD5sbVg0Ojy+udFQdayYIZyoNog==",
    "@img/sharp-libvips-linux-x64@1.3.4":
        "sha512-GJ//SSXbnwSDes02umB3nDJLFcQzw8a18V8fyhqr6tV515tOEMdImjjxj1AoafMRz56F3PHgftnj1QEKSU1zkw==",
    "@img/sharp-linux-x64@0.33.0":
        "sha512-PaZM4Zi7/Ek71WgTdvR+KzTZpBqrQOFcPe7/8ZoPRlTYYRe43k6TWsf4GVH6XKRLMYeSp8J89RfAhBrSP4itNA==",
    "@img/sharp-libvips-linux-x64@1.0.0":
        "sha512-naldaJy4hSVhWBgEjfdBY85CAa4UO+W1nx6a1sWStHZ7EUfNiuBTTN2KUYT5dH1+p/xij1t2QSXfCiFJoC5S/Q==",
    "@node-rs/argon2-linux-x64-gnu@2.2.1":
        "sha512-PIbG2WrqB84k2sdirnSXigFJvAemw0JkzZ/hOg6I9tO2GvhlY4P4z0NgmoRm7iKH+XTMo199src1Upm7RZwRAw==",
    "@napi-rs/canvas-linux-x64-gnu@1.1.1":
        "sha512-7bZfDI9lxKqj9wJRHiSQBimCRanxDGHYE7TugnOmFJ9ScpgFSsLHFQtOH9wvmbQvBwv5nBuDBGJlG0+7iGkN+w==",
    "@img/sharp-linux-arm64@0.35.5":
        "sha512-LYVx5JTsOM2CBzmxreh+nl64/3H6Xb09iSLknqH47z2T2DFFxDeFLP5y4dJwe6H7uGQlHPyEEtIqyo3DYsRwdQ==",
    "@img/sharp-libvips-linux-arm64@1.3.4":
        "sha512-Y3dgX/6lE2QhQb+Gxy0WZxfg9MEm/JBjamZpS2IklP7xIQoKN4hzAm7KcMVGtaVDt3neE9OKBC7vAfonA/Lr1A==",
    # Registered by napi_module_register (node-addon-api's NAPI_MODULE), no napi_register_module_v1.
    "@parcel/watcher-linux-x64-glibc@2.5.1":
        "sha512-GcESn8NZySmfwlTsIur+49yDqSny2IhPeZfXunQi48DMugKeZ7uy1FX83pO0X22sHntJ4Ub+9k34XQCX+oHt2A==",
    # node-gyp-build's prebuilds (darwin-arm64, darwin-x64, linux-x64, win32-ia32,
    # win32-x64; no linux-arm64), its addon registered by napi_module_register.
    "bufferutil@4.1.0":
        "sha512-ZMANVnAixE6AWWnPzlW2KpUrxhm9woycYvPOo67jWHyFowASTEd9s+QN1EIMsSDtwhIxN4sWE1jotpuDUIgyIw==",
    # node-gyp-build's prebuilds for 9 NODE_MODULE_VERSIONs (108 … 147) of
    # linux-x64 and linux-arm64, glibc and musl (36 ELF files), darwin and win32.
    "@datadog/pprof@5.20.0":
        "sha512-el72sY8ipZsA6dPFqNhXtXbA0e189U+eyYUWl2bBz4+qEIheIgmpLzDrF2F7gxu/Cn87pLLYnj+oNcySKBdylQ==",
    "node-gyp-build@4.8.4":
        "sha512-LA4ZjwlnUblHVgq0oBF3Jl/6h/Nvs5fzBLwdEF4nuxnFdsfajde4WfxtJr3CaiH+F6ewcIB/q4jQ4UzPyid+CQ==",
}
# Each function: the npm packages in its node_modules/, and its addon.
# sharp 0.35's libvips needs GLIBC_2.28 (Amazon Linux 2023 only); the older
# 0.33 release's needs at most 2.25 and GCC 7's libstdc++ (Amazon Linux 2 too).
FUNCTIONS = {
    "sharp-0.35": (["@img/sharp-linux-x64@0.35.5", "@img/sharp-libvips-linux-x64@1.3.4"],
                   "node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.5.node"),
    "sharp-0.33": (["@img/sharp-linux-x64@0.33.0", "@img/sharp-libvips-linux-x64@1.0.0"],
                   "node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node"),
    "argon2": (["@node-rs/argon2-linux-x64-gnu@2.2.1"],
               "node_modules/@node-rs/argon2-linux-x64-gnu/argon2.linux-x64-gnu.node"),
    "canvas": (["@napi-rs/canvas-linux-x64-gnu@1.1.1"],
               "node_modules/@napi-rs/canvas-linux-x64-gnu/skia.linux-x64-gnu.node"),
    "parcel-watcher": (["@parcel/watcher-linux-x64-glibc@2.5.1"],
                       "node_modules/@parcel/watcher-linux-x64-glibc/watcher.node"),
    # Built here: an N-API addon calling a function Node.js 20 added.
    "property-keys": ([], "node_modules/property-keys/property-keys.node"),
}
RUNTIMES = {"nodejs18.x": "node18", "nodejs20.x": "node20", "nodejs22.x": "node22", "nodejs24.x": "node24"}
PROPERTY_KEYS = r"""
typedef struct napi_env__ *napi_env; typedef struct napi_value__ *napi_value;
extern int node_api_create_property_key_utf16(napi_env, const unsigned short *, unsigned long, napi_value *);
napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  static const unsigned short key[] = {'k'};
  napi_value value;
  node_api_create_property_key_utf16(env, key, 1, &value);
  return exports;
}
"""


def npm_package(spec, into):
    """The pinned npm package `spec` (name@version) unpacked at into/node_modules/NAME."""
    name, version = spec.rsplit("@", 1)
    tarball = pinned_npm(f"{REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz", NPM[spec])
    dest = into / "node_modules" / name
    with tarfile.open(tarball) as archive:
        # Files and directories under package/ only, none climbing out.
        members = [m for m in archive.getmembers() if m.name.startswith("package/") and ".." not in m.name.split("/")
                   and (m.isfile() or m.isdir())]
        for member in members:
            member.name = member.name[len("package/"):]
        # (Debian 12's Python 3.11.2 has no extraction filters; the members are checked above.)
        options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(dest, members=members, **options)
    return dest


@pytest.fixture(scope="module")
def functions(tmp_path_factory):
    """name -> a function package directory (node_modules/ as npm lays it out)."""
    made = {}
    for name, (specs, addon) in FUNCTIONS.items():
        root = tmp_path_factory.mktemp(name)
        (root / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0"}))
        for spec in specs:
            npm_package(spec, root)
        if not specs:
            module = (root / addon).parent
            module.mkdir(parents=True)
            (module / "package.json").write_text(json.dumps({"name": "property-keys", "version": "0.1.0"}))
            (module / "keys.c").write_text(PROPERTY_KEYS)
            built = run(["gcc", "-O1", "-shared", "-fPIC", "-o", root / addon, module / "keys.c"])
            assert built.returncode == 0, built.stderr
            (module / "keys.c").unlink()
        assert (root / addon).is_file(), addon
        made[name] = root
    return made


@pytest.fixture(scope="module")
def nodes(rootfs):
    """runtime -> the official node of its major version, at /var/lang/<key>/node in the tree."""
    pins = json.loads((ROOT / "lambda-audit/profiles/node-packages.json").read_text())["packages"]
    placed = {}
    for runtime, key in RUNTIMES.items():
        tarball = pinned_npm(pins[key]["url"], pins[key]["integrity"])
        dest = rootfs.path / "var/lang" / key / "node"
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(tarball) as archive:
                source = archive.extractfile("package/bin/node")
                with open(dest.with_suffix(".part"), "wb") as out:
                    shutil.copyfileobj(source, out)
            dest.with_suffix(".part").chmod(0o755)
            dest.with_suffix(".part").rename(dest)
        placed[runtime] = f"/var/lang/{key}/node"
    return placed


def required(rootfs, node, package, addon):
    """`LD_BIND_NOW=1 node -e 'require(ADDON)'` in the tree, the package at /var/task: (loaded, why not)."""
    rootfs.clear_task()
    shutil.copytree(package, rootfs.task, dirs_exist_ok=True, symlinks=True)
    script = "require(process.argv[1]); console.log('required')"
    result = run(["chroot", rootfs.path, "/usr/bin/env", "-i", "LD_BIND_NOW=1", node, "-e", script,
                  f"/var/task/{addon}"], timeout=120)
    # (The loader's message comes first; node's stack follows it.)
    return result.returncode == 0 and result.stdout.strip() == "required", result.stderr.strip()[:3000]


def version_nodes(libraries, sonames=("libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2",
                                      "libstdc++.so.6", "libgcc_s.so.1")):
    """Every version node the profile's (or scan's) system libraries define."""
    return {v for lib in libraries if lib.get("soname") in sonames for v in lib.get("versions", [])}


@pytest.fixture(scope="module")
def tree_nodes(rootfs, audit, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan") / "bullseye.json"
    result = audit("profile", "scan", rootfs.path, "--name", "bullseye", "--out", out)
    assert result.returncode == 0, result.stderr
    nodes = version_nodes(json.loads(out.read_text())["libraries"])
    assert {"GLIBC_2.31", "GLIBCXX_3.4.28"} <= nodes and "GLIBC_2.32" not in nodes
    return nodes


def runtime_nodes(audit, runtime):
    shown = audit("profile", "show", runtime)
    assert shown.returncode == 0, shown.stderr
    return version_nodes(json.loads(shown.stdout)["libraries"])


FAMILIES = ("GLIBC_2.", "GLIBCXX_3.4.", "CXXABI_1.3.", "GCC_")


def newest(nodes, family):
    releases = [n.removeprefix(family) for n in nodes if n.startswith(family)]
    return max(tuple(int(x) for x in r.split(".")) for r in releases if re.fullmatch(r"[0-9.]+", r))


def no_newer(tree, runtime):
    """Whether the runtime's glibc, libstdc++ and libgcc_s are each at least
    the tree's release (they keep every older node: the newest one tells)."""
    return all(newest(tree, family) <= newest(runtime, family) for family in FAMILIES)


def what_the_require_proves(loaded, why, tree, runtime):
    """True, False or None (the tree cannot tell) for the runtime whose
    system libraries define the version nodes `runtime`."""
    if loaded:
        return True if no_newer(tree, runtime) else None
    missing = re.findall(r"version `([^']+)' not found", why)
    if missing and missing[0] not in runtime:
        return False
    # A function of node's own N-API the node of that major version lacks.
    if re.search(r"undefined symbol: (napi|node_api)_", why):
        return False
    return None


def version_needs(package):
    """Every version node the package's ELF files need, by readelf -V."""
    needs = set()
    for path in package.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.read_bytes()[:4] == b"\x7fELF":
            text = run(["readelf", "-V", "-W", path]).stdout
            needs |= set(re.findall(r"Name: ((?:GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+)", text))
    return needs


@pytest.fixture(scope="module")
def verdicts(functions, audit):
    """function -> runtime -> its report, from one `check` of all four runtimes."""
    found = {}
    for name, package in functions.items():
        result = audit("check", "--json", *(a for r in RUNTIMES for a in ("--profile", r)), package)
        assert result.returncode in (0, 1), result.stderr
        document = json.loads(result.stdout)
        found[name] = {}
        for combination in document["combinations"]:
            [report] = [r for r in combination["artifacts"] if r["runtime_path"] == f"/var/task/{FUNCTIONS[name][1]}"]
            found[name][combination["profile"]] = report
        assert document["loads"] == all(r["loads"] for r in found[name].values())
    return found


@pytest.fixture(scope="module")
def requires(functions, rootfs, nodes):
    return {(name, runtime): required(rootfs, nodes[runtime], package, FUNCTIONS[name][1])
            for name, package in functions.items() for runtime in RUNTIMES}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_check_agrees_with_the_real_node_or_with_readelf(name, functions, verdicts, requires, tree_nodes, audit):
    for runtime in RUNTIMES:
        report = verdicts[name][runtime]
        nodes = runtime_nodes(audit, runtime)
        loaded, why = requires[(name, runtime)]
        proven = what_the_require_proves(loaded, why, tree_nodes, nodes)
        if proven is None:
            # The tree's libraries are newer than the runtime's: its version needs decide.
            proven = version_needs(functions[name]) <= nodes
        assert report["loads"] == proven, (runtime, loaded, why, report["findings"])


def test_the_real_node_decides_what_it_can(requires, tree_nodes, audit):
    """The oracle is not idle: every require on the Amazon Linux 2023 runtimes
    decides (sharp 0.35's loads there, as everything else), node 18 refuses the
    N-API function it lacks, and only readelf decides the rest of nodejs18.x."""
    decided = {}
    for (name, runtime), (loaded, why) in requires.items():
        decided[(name, runtime)] = what_the_require_proves(loaded, why, tree_nodes, runtime_nodes(audit, runtime))
    for name in FUNCTIONS:
        for runtime in ("nodejs20.x", "nodejs22.x", "nodejs24.x"):
            assert decided[(name, runtime)] is True, (name, runtime, requires[(name, runtime)])
    assert decided[("property-keys", "nodejs18.x")] is False
    assert "node_api_create_property_key_utf16" in requires[("property-keys", "nodejs18.x")][1]
    assert {n for n in FUNCTIONS if decided[(n, "nodejs18.x")] is None} == {"sharp-0.35", "sharp-0.33", "argon2",
                                                                            "canvas", "parcel-watcher"}


def test_sharps_libvips_fails_amazon_linux_2_naming_the_glibc_version(verdicts, functions):
    report = verdicts["sharp-0.35"]["nodejs18.x"]
    assert report["distribution"] == "@img/sharp-linux-x64 0.35.5"
    missing = {(f["object"], f["version"]) for f in report["findings"] if f["kind"] == "missing-version"}
    assert ("libvips-cpp.so.8.18.7", "GLIBC_2.28") in missing, report["findings"]
    assert "GLIBC_2.28" in version_needs(functions["sharp-0.35"] / "node_modules/@img/sharp-libvips-linux-x64")
    # The older release loads there, as Amazon Linux 2's Node.js had it.
    assert verdicts["sharp-0.33"]["nodejs18.x"]["loads"]


def test_an_n_api_function_newer_than_node_18_is_named(verdicts):
    report = verdicts["property-keys"]["nodejs18.x"]
    assert report["distribution"] == "property-keys 0.1.0"
    assert [f["symbol"] for f in report["findings"] if f["kind"] == "undefined-symbol"] == [
        "node_api_create_property_key_utf16"]
    assert all(verdicts["property-keys"][r]["loads"] for r in ("nodejs20.x", "nodejs22.x", "nodejs24.x"))


# arm64: sharp's aarch64 build, judged with --arch arm64 and required by the
# official arm64 node 20 under qemu-user in the bullseye arm64 tree (glibc
# 2.31: older than nodejs20.x's 2.34, so its require decides there).
ARM64_ADDON = "node_modules/@img/sharp-linux-arm64/lib/sharp-linux-arm64-0.35.5.node"


@pytest.fixture(scope="module")
def arm64_function(tmp_path_factory):
    root = tmp_path_factory.mktemp("sharp-arm64")
    for spec in ("@img/sharp-linux-arm64@0.35.5", "@img/sharp-libvips-linux-arm64@1.3.4"):
        npm_package(spec, root)
    return root


@pytest.fixture(scope="module")
def arm64_node(arm64_tree):
    """The bullseye arm64 tree with the official arm64 node 20 at /var/lang/node20/node."""
    tree = Rootfs(Path(arm64_tree("bullseye")), emulated=True)
    pin = json.loads((ROOT / "lambda-audit/profiles/node-packages.json").read_text())["packages"]["node20-arm64"]
    dest = tree.path / "var/lang/node20/node"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(pinned_npm(pin["url"], pin["integrity"])) as archive:
            with open(dest.with_suffix(".part"), "wb") as out:
                shutil.copyfileobj(archive.extractfile("package/bin/node"), out)
        dest.with_suffix(".part").chmod(0o755)
        dest.with_suffix(".part").rename(dest)
    return tree


def required_under_qemu(tree, package, addon):
    tree.clear_task()
    shutil.copytree(package, tree.task, dirs_exist_ok=True)
    script = "require(process.argv[1]); console.log(process.arch)"
    result = run(["env", "-i", shutil.which("chroot"), tree.path, QEMU, "-E", "LD_BIND_NOW=1", "/var/lang/node20/node",
                  "-e", script, f"/var/task/{addon}"], timeout=300)
    return result.returncode == 0 and result.stdout.strip() == "arm64", result.stderr.strip()[:3000]


def test_an_arm64_addon_agrees_with_the_arm64_node_under_qemu(arm64_function, arm64_node, functions, audit):
    loaded, why = required_under_qemu(arm64_node, arm64_function, ARM64_ADDON)
    assert loaded, why
    result = audit("check", "--json", "--arch", "arm64", "--profile", "nodejs18.x", "--profile", "nodejs20.x",
                   arm64_function)
    assert result.returncode == 1, result.stderr
    verdict = {c["profile"]: c for c in json.loads(result.stdout)["combinations"]}
    # Loaded with glibc 2.31: nodejs20.x's 2.34 loads it too.
    assert verdict["nodejs20.x"]["loads"] and verdict["nodejs20.x"]["arch"] == "arm64"
    # Amazon Linux 2's 2.26 is older than the tree: readelf's needs decide.
    [report] = [r for r in verdict["nodejs18.x"]["artifacts"] if r["runtime_path"] == f"/var/task/{ARM64_ADDON}"]
    needs = version_needs(arm64_function)
    assert "GLIBC_2.28" in needs and not report["loads"], report["findings"]
    assert report["distribution"] == "@img/sharp-linux-arm64 0.35.5"


def test_an_x86_64_addon_in_an_arm64_function_is_named_and_fails_under_qemu(functions, arm64_node, audit):
    package, addon = functions["argon2"], FUNCTIONS["argon2"][1]
    loaded, why = required_under_qemu(arm64_node, package, addon)
    assert not loaded, why
    result = audit("check", "--json", "--arch", "arm64", "--profile", "nodejs20.x", package)
    assert result.returncode == 1, result.stderr
    [report] = json.loads(result.stdout)["artifacts"]
    assert report["distribution"] == "@node-rs/argon2-linux-x64-gnu 2.2.1"
    assert [(f["found"], f["expected"]) for f in report["findings"] if f["kind"] == "wrong-arch"] == [
        ("x86_64", "aarch64")], report["findings"]


# (issue 29) A package loaded by node-gyp-build, as npm installs it: the
# real loader's choice under each runtime's node, against check's.
BUFFERUTIL = "node_modules/bufferutil"
LOADER = ("const dir = process.argv[1];"
          "const file = require(require.resolve('node-gyp-build', {paths: [dir]})).resolve(dir);"
          "console.log(file); require(file)")


@pytest.fixture(scope="module")
def bufferutil(tmp_path_factory):
    return node_gyp_build_function(tmp_path_factory, "bufferutil@4.1.0")


def node_gyp_build_function(tmp_path_factory, spec):
    root = tmp_path_factory.mktemp(spec.split("@")[-2].replace("/", "-") or "package")
    (root / "package.json").write_text(json.dumps({"name": "function", "version": "1.0.0"}))
    for one in (spec, "node-gyp-build@4.8.4"):
        npm_package(one, root)
    return root


def resolved_in(tree, node, package, module=BUFFERUTIL):
    """The file node-gyp-build resolves for `module` under `node` in `tree`
    (its package at /var/task), and whether requiring that file loads:
    (exit code, the file, stderr)."""
    tree.clear_task()
    shutil.copytree(package, tree.task, dirs_exist_ok=True)
    command = ["chroot", tree.path, "/usr/bin/env", "-i", "LD_BIND_NOW=1", node]
    if tree.emulated:
        command = ["env", "-i", shutil.which("chroot"), tree.path, QEMU, "-E", "LD_BIND_NOW=1", node]
    result = run([*command, "-e", LOADER, f"/var/task/{module}"], timeout=300)
    return result.returncode, result.stdout.strip(), result.stderr.strip()[:3000]


def test_node_gyp_build_opens_the_file_check_judges_and_no_other(bufferutil, rootfs, nodes, audit):
    """On x86_64 every node requires prebuilds/linux-x64/bufferutil.node (an
    addon registered by napi_module_register), which check judges and finds
    loading; the darwin and win32 prebuilds are no ELF files; the function loads."""
    result = audit("check", "--json", *(a for r in RUNTIMES for a in ("--profile", r)), bufferutil)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    for combination in document["combinations"]:
        runtime = combination["profile"]
        code, chosen, why = resolved_in(rootfs, nodes[runtime], bufferutil)
        assert code == 0 and chosen == f"/var/task/{BUFFERUTIL}/prebuilds/linux-x64/bufferutil.node", (runtime, why)
        judged = [(r["runtime_path"], r["loads"]) for r in combination["artifacts"] if "never_opened" not in r]
        assert judged == [(chosen, True)], combination["artifacts"]


def test_no_prebuild_for_arm64_is_named_as_node_fails_under_qemu(bufferutil, arm64_node, audit):
    """bufferutil 4.1.0 has no linux-arm64 prebuild: the official arm64 node
    20 throws node-gyp-build's "No native build was found", and check names
    the package (missing-variant) and lists the x86_64 file as never opened.
    Its main module catches the loader's error and requires its JavaScript
    fallback, so requiring the package works: the finding is a warning."""
    code, _, why = resolved_in(arm64_node, "/var/lang/node20/node", bufferutil)
    assert code != 0 and "No native build was found for platform=linux arch=arm64" in why, why
    arm64_node.clear_task()
    shutil.copytree(bufferutil, arm64_node.task, dirs_exist_ok=True)
    main = run(["env", "-i", shutil.which("chroot"), arm64_node.path, QEMU, "/var/lang/node20/node", "-e",
                "require('/var/task/node_modules/bufferutil'); console.log('required')"], timeout=300)
    assert main.returncode == 0 and main.stdout.strip() == "required", main.stderr
    result = audit("check", "--json", "--arch", "arm64", "--profile", "nodejs20.x", bufferutil)
    assert result.returncode == 0, result.stdout + result.stderr
    artifacts = json.loads(result.stdout)["artifacts"]
    missing = [f for a in artifacts for f in a["findings"] if f["kind"] == "missing-variant"]
    assert [(f["package"], f["severity"], f["fallback"]) for f in missing] == [(BUFFERUTIL, "warning", True)], artifacts
    # Without its fallback, the package fails as its loader does.
    main_module = bufferutil / BUFFERUTIL / "index.js"
    original = main_module.read_text()
    main_module.write_text("module.exports = require('node-gyp-build')(__dirname);\n")
    try:
        without = audit("check", "--json", "--arch", "arm64", "--profile", "nodejs20.x", bufferutil)
    finally:
        main_module.write_text(original)
    assert without.returncode == 1, without.stdout + without.stderr
    never = [a["runtime_path"] for a in artifacts if "never_opened" in a]
    assert never == [f"/var/task/{BUFFERUTIL}/prebuilds/linux-x64/bufferutil.node"], artifacts


def test_pprofs_per_abi_prebuilds_are_chosen_as_node_gyp_build_does(tmp_path_factory, rootfs, nodes, tree_nodes, audit):
    """@datadog/pprof 5.20.0 ships dd_pprof.node.abi<N>.node for nine
    NODE_MODULE_VERSIONs, glibc and musl, x64 and arm64 (36 ELF files): under
    each runtime's node, node-gyp-build resolves the one of its version,
    which check judges alone (the 35 others never opened), with the verdict of requiring it (or, where the tree's glibc is
    newer than the runtime's, of its version needs)."""
    package = node_gyp_build_function(tmp_path_factory, "@datadog/pprof@5.20.0")
    module = "node_modules/@datadog/pprof"
    result = audit("check", "--json", *(a for r in RUNTIMES for a in ("--profile", r)), package)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    for combination in json.loads(result.stdout)["combinations"]:
        runtime = combination["profile"]
        code, chosen, why = resolved_in(rootfs, nodes[runtime], package, module)
        judged = [r for r in combination["artifacts"] if "never_opened" not in r]
        assert [r["runtime_path"] for r in judged] == [chosen], (runtime, chosen, why)
        never = [r for r in combination["artifacts"] if "never_opened" in r]
        assert len(never) == 35 and all(f"loads {chosen.split(module + '/')[1]} " in r["never_opened"]
                                        for r in never), never[:2]
        proven = what_the_require_proves(code == 0, why, tree_nodes, runtime_nodes(audit, runtime))
        if proven is None:
            text = run(["readelf", "-V", "-W", rootfs.path / chosen.lstrip("/")]).stdout
            needs = set(re.findall(r"Name: ((?:GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+)", text))
            proven = needs <= runtime_nodes(audit, runtime)
        assert judged[0]["loads"] == proven, (runtime, code, why, judged[0]["findings"])
