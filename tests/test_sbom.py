"""`lambda-audit sbom`: the CycloneDX 1.6 SBOM of a package, checked by the
official schema (cyclonedx-python-lib's validator, pinned by hash), on the
zips this project builds (scripts/build-lambda-zip, as scripts/test runs it
before these tests), the real wheels and npm packages the other tests use,
an ELF file carrying a real cargo-auditable `.dep-v0` section, and hostile
archives. And `check`'s one warning line for an OpenSSL past its end of life."""

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import CACHE, ROOT, TARGET, pinned_wheel, run

REQUIREMENTS = ROOT / "tests/sbom-validator-requirements.txt"

# runtime: the zip scripts/test builds for it (before the end-to-end tests)
BUILT = {
    "python3.6": TARGET / "lambda" / "lambda.zip",
    "provided.al2023": TARGET / "lambda-provided.al2023" / "lambda.zip",
    "python3.12": TARGET / "lambda-python3.12" / "lambda.zip",
}

VALIDATE = """
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(sys.stdin.read())
print(error or "valid")
"""


@pytest.fixture(scope="session")
def validate():
    """document text -> "valid", or the schema's complaint: cyclonedx-python-lib's
    strict JSON validator (the official CycloneDX 1.6 schema), installed once
    from tests/sbom-validator-requirements.txt (--require-hashes) into CACHE."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    home = CACHE / f"sbom-validator-{digest}"
    if not (home / "cyclonedx").is_dir():
        partial = Path(f"{home}.tmp.{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        result = run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                      "--require-hashes", "--only-binary=:all:", "--no-deps", "--target", partial,
                      "-r", REQUIREMENTS], timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        shutil.rmtree(home, ignore_errors=True)
        partial.rename(home)

    def call(text):
        result = run([sys.executable, "-c", VALIDATE], input=text, env={**os.environ, "PYTHONPATH": str(home)})
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.strip()

    return call


@pytest.fixture(scope="session")
def sbom(audit, tmp_path_factory):
    """lambda-audit sbom ARGS... --out FILE: (the document, its bytes)."""
    work = tmp_path_factory.mktemp("sboms")

    def call(*args):
        out = work / f"{len(list(work.iterdir()))}.cdx.json"
        result = audit("sbom", *args, "--out", out)
        assert result.returncode == 0 and result.stdout == "", result.stderr
        data = out.read_bytes()
        return json.loads(data), data

    return call


def components(doc, purl_prefix=""):
    return {c["bom-ref"]: c for c in doc["components"] if c["bom-ref"].startswith(purl_prefix)}


def places(component):
    return sorted(o["location"] for o in component.get("evidence", {}).get("occurrences", []))


def props(thing):
    out = {}
    for p in thing.get("properties", []):
        out.setdefault(p["name"], []).append(p["value"])
    return out


def test_the_validator_rejects_what_the_schema_forbids(validate):
    """The validator is a real check: a component type the schema does not
    have, a serial number not a UUID, are refused."""
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
           "components": [{"type": "library", "name": "x", "bom-ref": "x"}]}
    assert validate(json.dumps(doc)) == "valid"
    doc["components"][0]["type"] = "gadget"
    assert validate(json.dumps(doc)) != "valid"
    doc["components"][0]["type"] = "library"
    doc["serialNumber"] = "urn:uuid:not-a-uuid"
    assert validate(json.dumps(doc)) != "valid"


@pytest.mark.parametrize("runtime", sorted(BUILT))
def test_each_built_zips_sbom_is_valid_lists_its_files_and_names_its_static_openssl(
        runtime, sbom, validate, built_openssl):
    """The SBOM of each zip the project builds: valid CycloneDX 1.6; every
    member with its SHA-256; the OpenSSL the build linked (its header's
    version text) as pkg:generic/openssl with its CPE, found in the ELF file
    that carries it; the runtime, architecture and verdict as metadata."""
    archive = BUILT[runtime]
    assert archive.is_file(), f"run scripts/build-lambda-zip --runtime {runtime} first"
    doc, data = sbom("--profile", runtime, archive)
    assert validate(data.decode()) == "valid"
    assert doc["specVersion"] == "1.6" and doc["serialNumber"].startswith("urn:uuid:")
    meta = doc["metadata"]
    assert props(meta) == {"lambda-audit:runtime": [runtime], "lambda-audit:arch": ["x86_64"],
                           "lambda-audit:verdict": ["loads"]}
    assert meta["component"]["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(archive.read_bytes()).hexdigest()}]
    with zipfile.ZipFile(archive) as z:
        members = {i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist() if not i.is_dir()}
    files = {c["name"]: c["hashes"][0]["content"] for c in doc["components"] if c["type"] == "file"}
    assert files == members
    version = built_openssl(runtime)["static"][0]["version"]
    openssl = components(doc, "pkg:generic/openssl@")
    assert list(openssl) == [f"pkg:generic/openssl@{version}"], openssl
    (component,) = openssl.values()
    assert component["cpe"] == f"cpe:2.3:a:openssl:openssl:{version}:*:*:*:*:*:*:*"
    elves = [name for name in members if name == "bootstrap" or name.endswith(".so")]
    assert places(component) == elves
    assert props(component)["lambda-audit:found-by"] == ["OPENSSL_VERSION_TEXT in .rodata"]


def test_the_same_zip_gives_the_same_bytes_and_its_unpacked_directory_the_same_components(sbom, tmp_path):
    archive = BUILT["python3.12"]
    assert archive.is_file(), "run scripts/build-lambda-zip --runtime python3.12 first"
    first, first_bytes = sbom("--profile", "python3.12", archive)
    _, second_bytes = sbom("--profile", "python3.12", archive)
    assert first_bytes == second_bytes
    # Another path to the same zip: the same components and metadata component's hash.
    copy = tmp_path / "elsewhere" / "lambda.zip"
    copy.parent.mkdir()
    shutil.copy(archive, copy)
    assert sbom("--profile", "python3.12", copy)[1] == first_bytes
    unpacked = tmp_path / "lambda"
    with zipfile.ZipFile(archive) as z:
        z.extractall(unpacked)
    as_dir, _ = sbom("--profile", "python3.12", unpacked)
    assert as_dir["components"] == first["components"]
    assert as_dir["dependencies"] == first["dependencies"]


def test_stdout_has_the_same_document_as_out(audit, sbom):
    archive = BUILT["python3.12"]
    _, data = sbom("--profile", "python3.12", archive)
    result = audit("sbom", "--profile", "python3.12", archive)
    assert result.returncode == 0 and result.stdout.encode() == data


def test_check_warns_once_that_the_python36_zips_openssl_is_past_its_end_of_life(audit, built_openssl):
    """The python3.6 zip links OpenSSL 1.1.1w (1.0.2u with Nix): one warning
    line naming it and the day support ended, a JSON field, exit status 0."""
    archive = BUILT["python3.6"]
    version = built_openssl("python3.6")["static"][0]["version"]
    until = {"1.1.1": "2023-09-11", "1.0.2": "2019-12-31"}[version[:5]]
    human = audit("check", "--profile", "python3.6", archive)
    assert human.returncode == 0, human.stderr
    warnings = [line for line in human.stdout.splitlines() if "end of life" in line]
    assert len(warnings) == 1 and warnings[0].startswith("  warning: ") and version in warnings[0] \
        and until in warnings[0], human.stdout
    as_json = audit("check", "--json", "--profile", "python3.6", archive)
    assert as_json.returncode == 0
    (artifact,) = json.loads(as_json.stdout)["artifacts"]
    assert artifact["openssl_end_of_life"] == [{"version": version, "supported_until": until}]
    assert artifact["warnings"] == 0 and artifact["loads"]
    # A supported 3.5 gets no such line.
    modern = audit("check", "--json", "--profile", "python3.12", BUILT["python3.12"])
    assert all(a["openssl_end_of_life"] == [] for a in json.loads(modern.stdout)["artifacts"])


# -- .dep-v0: the crates cargo-auditable embeds --------------------------------------------

def locked_version(name):
    """NAME's version in pyfunction/Cargo.lock (the python3.12 module's lock file; one entry)."""
    lock = (ROOT / "pyfunction/Cargo.lock").read_text().split("[[package]]")
    (version,) = [b.split('version = "')[1].split('"')[0] for b in lock if f'\nname = "{name}"\n' in b]
    return version


def auditable(elf, packages, out):
    """A copy of ELF with a `.dep-v0` section holding `packages` as
    cargo-auditable writes it (auditable-serde's JSON, zlib-compressed);
    any section already there is replaced."""
    data = out.parent / (out.name + ".dep-v0")
    data.write_bytes(zlib.compress(json.dumps({"packages": packages}).encode()))
    result = run(["objcopy", "--remove-section=.dep-v0", "--add-section", f".dep-v0={data}", elf, out])
    assert result.returncode == 0, result.stderr
    data.unlink()
    return out


def test_the_crates_of_dep_v0_are_listed_with_kind_and_dependencies_and_the_gap_is_closed(sbom, validate, tmp_path):
    """The python3.12 module (static OpenSSL 3.5.5) with the `.dep-v0`
    cargo-auditable would embed for its OpenSSL chain (versions from
    pyfunction/Cargo.lock): the crates say `openssl` and `openssl-sys`, whose
    versions are the Rust bindings', and `cc` as a build dependency; no crate
    carries the C library's version (openssl-src, where used, is a build
    dependency, which scanners keeping runtime crates drop). The SBOM names
    the C library itself, from its version text, beside the crates."""
    archive = BUILT["python3.12"]
    package = tmp_path / "package"
    with zipfile.ZipFile(archive) as z:
        z.extractall(package)
    (module,) = package.glob("pyfunction/*.so")
    crates = [
        {"name": "pyfunction", "version": "0.1.0", "source": "local", "dependencies": [1], "root": True},
        {"name": "openssl", "version": locked_version("openssl"), "source": "crates.io", "dependencies": [2]},
        {"name": "openssl-sys", "version": locked_version("openssl-sys"), "source": "crates.io", "dependencies": [3]},
        {"name": "cc", "version": locked_version("cc"), "source": "crates.io", "kind": "build"},
    ]
    auditable(module, crates, module.with_suffix(".tmp")).rename(module)
    doc, data = sbom("--profile", "python3.12", package)
    assert validate(data.decode()) == "valid"
    cargo = components(doc, "pkg:cargo/")
    kinds = {c["name"]: props(c)["lambda-audit:cargo:kind"] for c in cargo.values()}
    assert kinds == {"pyfunction": ["runtime"], "openssl": ["runtime"], "openssl-sys": ["runtime"], "cc": ["build"]}
    # What a scanner reading the crates sees: nothing with the C library's version.
    assert not any("3.5.5" in c["version"] for c in cargo.values())
    name = str(module.relative_to(package))
    for crate in crates:
        component = cargo[f"pkg:cargo/{crate['name']}@{crate['version']}"]
        assert component["version"] == crate["version"] and places(component) == [name]
    depends = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}
    assert depends[f"file:{name}"] == ["pkg:cargo/pyfunction@0.1.0", "pkg:generic/openssl@3.5.5"]
    assert depends["pkg:cargo/openssl-sys@" + locked_version("openssl-sys")] == ["pkg:cargo/cc@" + locked_version("cc")]
    openssl = components(doc)["pkg:generic/openssl@3.5.5"]
    assert places(openssl) == [name] and openssl["cpe"] == "cpe:2.3:a:openssl:openssl:3.5.5:*:*:*:*:*:*:*"


def test_a_dep_v0_that_is_not_zlib_is_said_not_fatal(sbom, tmp_path, fixtures):
    package = tmp_path / "package"
    package.mkdir()
    data = tmp_path / "junk"
    data.write_bytes(b"not zlib at all")
    lib = package / "libjunk.so"
    result = run(["objcopy", "--add-section", f".dep-v0={data}", next(fixtures.glob("*.so")), lib])
    assert result.returncode == 0, result.stderr
    doc, _ = sbom("--profile", "python3.12", package)
    unreadable = props(components(doc)["file:libjunk.so"])["lambda-audit:dep-v0"]
    assert len(unreadable) == 1 and unreadable[0].startswith("unreadable: "), unreadable
    assert components(doc, "pkg:cargo/") == {}


# -- C libraries other than OpenSSL -------------------------------------------------------

def loaded_libz():
    """(the path of the libz.so.1 this process loads, the version its zlibVersion() says)."""
    libz = ctypes.CDLL("libz.so.1")
    libz.zlibVersion.restype = ctypes.c_char_p
    version = libz.zlibVersion().decode()
    maps = Path("/proc/self/maps").read_text().split()
    (path,) = {p for p in maps if p.endswith("/libz.so.1") or "/libz.so.1." in p}
    return Path(path), version


def test_zlibs_version_text_is_read_as_zlibs_own_function_says_it(sbom, tmp_path):
    path, version = loaded_libz()
    package = tmp_path / "package"
    (package / "lib").mkdir(parents=True)
    shutil.copy(path, package / "lib" / "libz.so.1")
    doc, _ = sbom("--profile", "python3.12", package)
    (zlib_component,) = components(doc, "pkg:generic/zlib@").values()
    assert zlib_component["version"] == version
    assert zlib_component["cpe"] == f"cpe:2.3:a:zlib:zlib:{version}:*:*:*:*:*:*:*"
    assert places(zlib_component) == ["lib/libz.so.1"]
    # No entry point: the verdict says so, the SBOM is written all the same.
    assert props(doc["metadata"])["lambda-audit:verdict"][0].startswith("refused: ")


def test_a_layers_files_are_listed_at_opt_with_their_layer(sbom, validate, tmp_path):
    """--with-layer: the layer's files at /opt, each naming its layer, what
    is in them found as in the function's; the layer named in the metadata."""
    path, version = loaded_libz()
    layer = tmp_path / "layer"
    (layer / "lib").mkdir(parents=True)
    shutil.copy(path, layer / "lib" / "libz.so.1")
    doc, data = sbom("--profile", "python3.12", "--with-layer", layer, BUILT["python3.12"])
    assert validate(data.decode()) == "valid"
    meta = props(doc["metadata"])
    assert meta["lambda-audit:with-layer"] == [str(layer)] and meta["lambda-audit:verdict"] == ["loads"]
    libz = components(doc)["file:/opt/lib/libz.so.1"]
    assert props(libz)["lambda-audit:layer"] == [str(layer)]
    (zlib_component,) = components(doc, "pkg:generic/zlib@").values()
    assert zlib_component["version"] == version and places(zlib_component) == ["/opt/lib/libz.so.1"]
    assert "pkg:generic/openssl@3.5.5" in components(doc)


def test_the_architecture_asked_is_the_metadatas_and_judged(sbom, tmp_path):
    """The x86_64 module judged for arm64: said in the metadata, and the
    verdict is check's (it does not load there)."""
    doc, _ = sbom("--profile", "python3.12", "--arch", "arm64", BUILT["python3.12"])
    meta = props(doc["metadata"])
    assert meta["lambda-audit:arch"] == ["arm64"] and meta["lambda-audit:verdict"] == ["does-not-load"]


@pytest.mark.parametrize("zlib_version, claimed", [("1.3.1", "1.3.1"), ("1.3.1.zlib-ng", None)])
def test_zlib_ng_keeping_zlibs_text_is_not_taken_for_zlib(sbom, tmp_path, zlib_version, claimed):
    """A library with zlib 1.3.1's copyright text is zlib 1.3.1, unless its
    ZLIB_VERSION says zlib-ng (which keeps zlib's text and version)."""
    source = tmp_path / "z.c"
    source.write_text(
        'const char deflate_copyright[] = " deflate 1.3.1 Copyright 1995-2024 Jean-loup Gailly and Mark Adler ";\n'
        f'const char *zlibVersion(void) {{ return "{zlib_version}"; }}\n'
        'const char *copyright(void) { return deflate_copyright; }\n')
    package = tmp_path / "package"
    package.mkdir()
    built = run(["gcc", "-shared", "-fPIC", "-O1", "-o", package / "libz.so.1", source])
    assert built.returncode == 0, built.stderr
    doc, _ = sbom("--profile", "python3.12", package)
    found = [c["version"] for c in components(doc, "pkg:generic/zlib@").values()]
    assert found == ([claimed] if claimed else [])


# -- Python distributions and npm packages -----------------------------------------------

def test_the_wheels_the_tests_use_are_listed_as_their_distributions(sbom, validate, tmp_path):
    from test_wheels import WHEELS

    package = tmp_path / "package"
    for name in ("psycopg2-cp39", "cryptography-cp39-abi3"):
        requirement, python, abi, wheel, digest, module = WHEELS[name]
        pip_args = ["--platform", "manylinux2014_x86_64", "--python-version", python, requirement]
        if abi:
            pip_args[-1:-1] = ["--abi", abi]
        download = tmp_path / f"download-{name}"
        download.mkdir()
        with zipfile.ZipFile(pinned_wheel(wheel, digest, pip_args, download)) as archive:
            archive.extractall(package)
    doc, data = sbom("--profile", "python3.9", package)
    assert validate(data.decode()) == "valid"
    pypi = components(doc, "pkg:pypi/")
    assert set(pypi) == {"pkg:pypi/psycopg2-binary@2.9.5", "pkg:pypi/cryptography@44.0.0"}, set(pypi)
    psycopg2 = pypi["pkg:pypi/psycopg2-binary@2.9.5"]
    assert psycopg2["name"] == "psycopg2-binary" and psycopg2["version"] == "2.9.5"
    (module,) = [p for p in places(psycopg2) if p.startswith("psycopg2/_psycopg.")]
    assert "psycopg2_binary-2.9.5.dist-info/METADATA" in places(psycopg2)
    # Every file of the distribution's RECORD that the package holds is one of its places.
    record = (package / "psycopg2_binary-2.9.5.dist-info/RECORD").read_text().splitlines()
    held = sorted(line.split(",")[0] for line in record if (package / line.split(",")[0]).is_file())
    assert places(psycopg2) == held
    # The libraries auditwheel grafted carry their own OpenSSL: found in them.
    openssl = components(doc, "pkg:generic/openssl@")
    assert openssl and all(any(p.startswith(("psycopg2_binary.libs/", "cryptography/")) for p in places(c))
                           for c in openssl.values()), openssl


def test_the_npm_packages_the_tests_use_are_listed_with_their_scoped_purls(sbom, validate, tmp_path):
    from test_node_addons import npm_package

    root = tmp_path / "function"
    root.mkdir()
    (root / "package.json").write_text(json.dumps({"name": "my-function", "version": "1.0.0"}))
    specs = ["@img/sharp-linux-x64@0.35.5", "@img/sharp-libvips-linux-x64@1.3.4", "bufferutil@4.1.0"]
    for spec in specs:
        npm_package(spec, root)
    doc, data = sbom("--profile", "nodejs20.x", root)
    assert validate(data.decode()) == "valid"
    npm = components(doc, "pkg:npm/")
    assert set(npm) == {"pkg:npm/%40img/sharp-linux-x64@0.35.5", "pkg:npm/%40img/sharp-libvips-linux-x64@1.3.4",
                        "pkg:npm/bufferutil@4.1.0"}, set(npm)
    assert npm["pkg:npm/%40img/sharp-linux-x64@0.35.5"]["name"] == "@img/sharp-linux-x64"
    assert props(npm["pkg:npm/bufferutil@4.1.0"])["lambda-audit:package-json"] == ["node_modules/bufferutil/package.json"]
    # libvips carries zlib-ng (its ZLIB_VERSION says "…zlib-ng"), which is not zlib.
    libvips = list((root / "node_modules/@img/sharp-libvips-linux-x64/lib").glob("libvips-cpp.so*"))
    assert libvips and b".zlib-ng\0" in libvips[0].read_bytes()
    assert components(doc, "pkg:generic/zlib@") == {}


def test_a_wheels_own_sbom_is_merged_not_repeated(sbom, validate, tmp_path):
    """PEP 770: a distribution's `.dist-info/sboms/*.json`; a component with
    a purl already found is one component, listed where both say so."""
    package = tmp_path / "package"
    dist_info = package / "demo_pkg-1.2.0.dist-info"
    (dist_info / "sboms").mkdir(parents=True)
    (package / "demo_pkg").mkdir()
    (package / "demo_pkg/__init__.py").write_text("")
    (dist_info / "METADATA").write_text("Metadata-Version: 2.4\nName: Demo_Pkg\nVersion: 1.2.0\n\nbody\n")
    (dist_info / "RECORD").write_text("demo_pkg/__init__.py,,\ndemo_pkg-1.2.0.dist-info/METADATA,,\n")
    shipped = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
               "metadata": {"component": {"type": "library", "name": "demo-pkg", "version": "1.2.0",
                                          "purl": "pkg:pypi/demo-pkg@1.2.0"}},
               "components": [{"type": "library", "name": "serde", "version": "1.0.200",
                               "purl": "pkg:cargo/serde@1.0.200",
                               "components": [{"type": "library", "name": "serde_derive", "version": "1.0.200",
                                               "purl": "pkg:cargo/serde_derive@1.0.200"}]}]}
    (dist_info / "sboms/demo.cdx.json").write_text(json.dumps(shipped))
    (dist_info / "sboms/broken.json").write_text("{not json")
    doc, data = sbom("--profile", "python3.12", package)
    assert validate(data.decode()) == "valid"
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(refs) == len(set(refs))
    demo = components(doc)["pkg:pypi/demo-pkg@1.2.0"]
    assert demo["name"] == "Demo_Pkg" and places(demo) == ["demo_pkg-1.2.0.dist-info/METADATA", "demo_pkg/__init__.py"]
    assert props(demo)["lambda-audit:listed-in"] == ["demo_pkg-1.2.0.dist-info/sboms/demo.cdx.json"]
    assert {"pkg:cargo/serde@1.0.200", "pkg:cargo/serde_derive@1.0.200"} <= set(components(doc))
    broken = props(components(doc)["file:demo_pkg-1.2.0.dist-info/sboms/broken.json"])
    assert broken["lambda-audit:shipped-sbom"][0].startswith("passed over: ")


# -- hostile input -----------------------------------------------------------------------

def hostile_zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name), data)
    return path


@pytest.mark.parametrize("name", ["../escaped", "/etc/escaped", "a/../../escaped"])
def test_a_zip_member_outside_the_package_is_one_line_and_nothing_written(audit, tmp_path, name):
    inside = tmp_path / "inside"
    inside.mkdir()
    archive = hostile_zip(inside / "f.zip", [("bootstrap", b"#!/bin/sh\n"), (name, b"x")])
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    out = inside / "sbom.json"
    result = audit("sbom", "--profile", "provided.al2023", archive, "--out", out)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "outside the package" in result.stderr
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert not Path("/etc/escaped").exists()


def test_a_member_name_with_a_newline_is_listed_as_it_is_escaped_by_json(audit, sbom, validate, tmp_path):
    archive = hostile_zip(tmp_path / "f.zip", [("bootstrap", b"#!/bin/sh\n"), ("evil\n\x1b[31mname", b"x")])
    doc, data = sbom("--profile", "provided.al2023", archive)
    assert validate(data.decode()) == "valid"
    assert "evil\n\x1b[31mname" in [c["name"] for c in doc["components"]]
    assert b"\x1b" not in data and b"evil\n" not in data


def test_a_zip_claiming_a_huge_size_is_read_for_what_it_holds(sbom, tmp_path):
    """A central directory claiming 4 GiB for a small member: the bytes
    written are what count (as for check), and the SBOM hashes them."""
    archive = hostile_zip(tmp_path / "big.zip", [("bootstrap", b"#!/bin/sh\n")])
    data = bytearray(archive.read_bytes())
    at = data.rindex(b"PK\x01\x02") + 24  # the member's uncompressed size
    data[at:at + 4] = (0xFFFFFFFF).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    doc, _ = sbom("--profile", "provided.al2023", archive)
    (bootstrap,) = [c for c in doc["components"] if c["type"] == "file"]
    assert bootstrap["hashes"][0]["content"] == hashlib.sha256(b"#!/bin/sh\n").hexdigest()


def test_a_zip_unpacking_past_lambdas_limit_is_refused_in_one_line(audit, tmp_path):
    """251 MiB of zeros in a small zip: past Lambda's 250 MiB unzipped, so
    refused in one line, exit 2, no output file."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("zeros", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(251):
                member.write(block)
    assert archive.stat().st_size < 1 << 20
    out = tmp_path / "sbom.json"
    result = audit("sbom", archive, "--out", out)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert not out.exists()


def test_a_forged_dist_info_names_nothing_outside_the_package(sbom, validate, tmp_path):
    package = tmp_path / "package"
    dist_info = package / "forged-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (package / "real.py").write_text("")
    (dist_info / "METADATA").write_text("Name: ../../evil/\u001b[31mred\nVersion: 1.0 /x\n\n")
    (dist_info / "RECORD").write_text("../../../etc/passwd,,\n/etc/shadow,,\nreal.py,,\n\"unterminated\n")
    doc, data = sbom("--profile", "python3.12", package)
    assert validate(data.decode()) == "valid"
    (forged,) = components(doc, "pkg:pypi/").values()
    assert places(forged) == ["real.py"]
    # The purl encodes what the name holds: no path separator, no control byte.
    assert forged["purl"] == "pkg:pypi/..%2F..%2Fevil%2F%1B%5B31mred@1.0%20%2Fx"
    assert b"\x1b" not in data


def test_sbom_of_a_single_file_or_a_missing_one_is_one_line_and_exit_2(audit, tmp_path, fixtures):
    for target in [next(fixtures.glob("*.so")), tmp_path / "missing.zip"]:
        result = audit("sbom", target, "--out", tmp_path / "out.json")
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert not (tmp_path / "out.json").exists()
