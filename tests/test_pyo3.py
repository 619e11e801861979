"""PyO3 modules for today's Python runtimes (python3.9 to python3.14): the
example (pyfunction/) built by scripts/build-lambda-zip for python3.12
(x86_64 and arm64) and python3.11, a module nobody here wrote (rpds-py, from
its PyPI sdist), and modules with Python dependencies, each imported and
invoked by AWS's own runtime client (awslambdaric, pinned) against the
Runtime API, under a real CPython of the runtime's version: Ubuntu 24.04's
3.12, Debian 12's 3.11 (this machine's, arm64 under qemu in a bookworm tree).
The glibc floor is proven by readelf and by real imports in older trees."""

import hashlib
import hmac
import json
import os
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import CACHE, ROOT, TARGET, pinned_download, run

ABI3_CRATE = ROOT / "tests/fixtures/pyo3-abi3"
# rpds-py 2026.9.1's sdist (PyPI): its Rust source, Cargo.lock and pyproject.toml.
RPDS_SDIST = ("https://files.pythonhosted.org/packages/42/68/3bd46b8a5e01d3c2ebdf9c5e9497912e3fe0cde02bac21a7130ca866e403/"
              "rpds_py-2026.9.1.tar.gz",
              "4793ef7f78268b124b73fa933440f01d258bbae01de9fa53e9080c9ab0425a12")
# botocore 1.44.5 and what it needs: AWS's own SigV4 signer in Python, the oracle of the example's signature.
BOTOCORE = [
    "botocore==1.44.5 --hash=sha256:8f16a56d1dff125dd65322ae021efa7ba5195a6db5102b96862566055b748921",
    "jmespath==1.1.0 --hash=sha256:a5663118de4908c91729bea0acadca56526eb2698e83de10cd116ae0f4e97c64",
    "python-dateutil==2.9.0.post0 --hash=sha256:a8b2bc7bffae282281c8140a97d3aa9c14da0b136dfe83f850eea9a5f7470427",
    "urllib3==2.8.0 --hash=sha256:0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3",
    "six==1.17.0 --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274",
]
CREDENTIALS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
SIGN_EVENT = {
    "request": {"method": "POST", "service": "sqs", "region": "eu-west-1",
                "url": "https://sqs.eu-west-1.amazonaws.com/?Action=ListQueues&Version=2012-11-05",
                "headers": {"content-type": "application/x-www-form-urlencoded"}, "body": "QueueNamePrefix=jobs"},
    "credentials": CREDENTIALS,
    "time": "20150830T123600Z",
    "hmac_key": "the key",
}


def zip_for(runtime, arch="x86_64"):
    suffix = "" if arch == "x86_64" else f"-{arch}"
    path = TARGET / f"lambda-{runtime}{suffix}" / "lambda.zip"
    assert path.is_file(), f"run scripts/build-lambda-zip --runtime {runtime} --arch {arch} first"
    return path


def tree(suite, arch=None):
    argv = [ROOT / "scripts/debian-rootfs"] + (["--arch", arch] if arch else []) + [suite]
    result = run(argv, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return Path(result.stdout.strip().splitlines()[-1])


def unzip(archive, into):
    """As Lambda unpacks a function: the zip's files and modes."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        z.extractall(into)
        for info in z.infolist():
            mode = info.external_attr >> 16
            if mode:
                os.chmod(into / info.filename, mode & 0o7777)


def invoke(events, handler, *, runtime, zip_path, tmp_path, extra=None):
    """scripts/invoke-lambda ZIP (python3.9+: AWS's runtime client,
    awslambdaric, under CPython of the runtime's version in a tree, arm64
    under qemu), the events in a row to one warm runtime as JSON Lines; one
    result per event: {"kind": "response"|"error", "body": the line's JSON}.
    `extra`: files added at the zip's root (a handler.py of the test's own)."""
    if extra:
        copy = tmp_path / "with-extra.zip"
        shutil.copy(zip_path, copy)
        with zipfile.ZipFile(copy, "a") as archive:
            for name, text in extra.items():
                archive.writestr(name, text)
        zip_path = copy
    lines = "".join(json.dumps(e) + "\n" for e in events)
    result = run([ROOT / "scripts/invoke-lambda", zip_path, "--runtime", runtime, "--handler", handler],
                 input=lines, timeout=1800)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(events), result.stdout[-2000:] + result.stderr[-3000:]
    results = []
    for answer in answers:
        error = isinstance(answer, dict) and {"errorType", "errorMessage"} <= set(answer)
        results.append({"kind": "error" if error else "response", "body": answer})
    assert result.returncode == (1 if any(r["kind"] == "error" for r in results) else 0), result.stderr[-3000:]
    return results


def botocore_signature(tmp_path):
    """The Authorization header botocore's SigV4Auth computes for SIGN_EVENT."""
    site = CACHE / "botocore-1.44.5"
    if not (site / "botocore").exists():
        requirements = tmp_path / "botocore.txt"
        requirements.write_text("\n".join(BOTOCORE) + "\n")
        stage = tmp_path / "botocore-site"
        result = run(["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                      "--only-binary=:all:", "--require-hashes", "-r", requirements, "--target", stage], timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        shutil.rmtree(site, ignore_errors=True)
        shutil.move(stage, site)
    code = """
import datetime, json, sys
from unittest import mock
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
event = json.loads(sys.argv[1])
r = event["request"]
request = AWSRequest(method=r["method"], url=r["url"], data=r["body"].encode(), headers=dict(r["headers"]))
when = datetime.datetime(2015, 8, 30, 12, 36, 0)
with mock.patch("botocore.auth.get_current_datetime", return_value=when):
    c = event["credentials"]
    SigV4Auth(Credentials(c["access_key_id"], c["secret_access_key"]), r["service"], r["region"]).add_auth(request)
print(json.dumps({"authorization": request.headers["Authorization"], "x-amz-date": request.headers["X-Amz-Date"]}))
"""
    result = run(["python3", "-c", code, json.dumps(SIGN_EVENT)], env={**os.environ, "PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_signs_like_botocore(result, expected, openssl="OpenSSL 3.5.5 "):
    assert result["kind"] == "response", result
    answer = result["body"]
    assert answer["headers"]["authorization"] == expected["authorization"], (answer, expected)
    assert answer["headers"]["x-amz-date"] == expected["x-amz-date"]
    body = SIGN_EVENT["request"]["body"].encode()
    assert answer["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert answer["body_hmac_sha256"] == hmac.new(SIGN_EVENT["hmac_key"].encode(), body, hashlib.sha256).hexdigest()
    assert answer["openssl"]["version"].startswith(openssl), answer["openssl"]


def assert_lambda_error(result, error_type, message):
    # The error document awslambdaric posts, which Lambda's Invoke answers with.
    assert result["kind"] == "error", result
    body = result["body"]
    assert body["errorType"] == error_type, body
    assert body["errorMessage"] == message, body
    assert body["requestId"].startswith("request-") and isinstance(body["stackTrace"], list), body


BAD_EVENTS = [({"request": 3}, "event.request must be an object, not a number"),
              ([1, 2], "the event must be a JSON object, not an array"),
              ({"request": {"method": "GET", "service": "s3"}}, "event.request.region is required (a non-empty string)")]


def newest_glibc(path):
    result = run(["readelf", "-V", "--wide", path])
    assert result.returncode == 0, result.stderr
    found = [tuple(int(n) for n in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", result.stdout)]
    return max(found, default=(0, 0))


def the_module(package, pattern):
    found = sorted(package.rglob(pattern))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("runtime,arch,glibc,suffix,machine", [
    ("python3.12", "x86_64", (2, 34), "cpython-312-x86_64-linux-gnu.so", "X86-64"),
    ("python3.11", "x86_64", (2, 26), "cpython-311-x86_64-linux-gnu.so", "X86-64"),
    ("python3.12", "arm64", (2, 34), "cpython-312-aarch64-linux-gnu.so", "AArch64"),
])
def test_the_example_zip_holds_the_module_named_for_the_runtime_with_no_newer_glibc(
        tmp_path, audit, runtime, arch, glibc, suffix, machine):
    archive = zip_for(runtime, arch)
    names = zipfile.ZipFile(archive).namelist()
    assert f"pyfunction/pyfunction.{suffix}" in names, names
    assert (archive.parent / "handler").read_text() == "pyfunction.handler\n"
    unzip(archive, tmp_path / "package")
    module = tmp_path / "package/pyfunction" / f"pyfunction.{suffix}"
    assert newest_glibc(module) <= glibc
    header = run(["readelf", "-h", module]).stdout
    assert machine in header, header
    dynamic = run(["readelf", "-d", module]).stdout
    assert not re.search(r"NEEDED.*lib(ssl|crypto)", dynamic), dynamic
    report = audit("check", "--profile", runtime, *(["--arch", arch] if arch != "x86_64" else []), str(archive))
    assert report.returncode == 0, report.stdout + report.stderr
    assert f"pyfunction/pyfunction.{suffix}: loads in {runtime}" in report.stdout, report.stdout
    assert 'openssl: 3.5.5 (static, "OpenSSL 3.5.5 27 Jan 2026")' in report.stdout, report.stdout


def test_the_python312_example_answers_as_lambda_under_awslambdaric_in_ubuntu_noble(tmp_path):
    """scripts/invoke-lambda of the zip: AWS's runtime client imports pyfunction.handler under Ubuntu
    24.04's CPython 3.12; the signature is botocore's, the bad events are Lambda-shaped errors."""
    expected = botocore_signature(tmp_path)
    results = invoke([SIGN_EVENT] + [e for e, _ in BAD_EVENTS], "pyfunction.handler", runtime="python3.12",
                     zip_path=zip_for("python3.12"), tmp_path=tmp_path)
    assert_signs_like_botocore(results[0], expected)
    for result, (_, message) in zip(results[1:], BAD_EVENTS):
        assert_lambda_error(result, "ValueError", message)


def test_the_python311_example_answers_as_lambda_under_awslambdaric_in_debian_bookworm(tmp_path):
    expected = botocore_signature(tmp_path)
    results = invoke([SIGN_EVENT, BAD_EVENTS[0][0]], "pyfunction.handler", runtime="python3.11",
                     zip_path=zip_for("python3.11"), tmp_path=tmp_path)
    assert_signs_like_botocore(results[0], expected)
    assert_lambda_error(results[1], "ValueError", BAD_EVENTS[0][1])


def build(args, env=None, timeout=3600):
    return run([ROOT / "scripts/build-lambda-zip", *args], env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture(scope="session")
def abi3_crate(tmp_path_factory):
    """A copy of the abi3 fixture crate (the tests write its requirements.txt),
    built in one target directory for every test."""
    crate = tmp_path_factory.mktemp("pyo3-abi3") / "crate"
    shutil.copytree(ABI3_CRATE, crate)
    return crate


def build_abi3(crate, runtime, out, requirements=None, arch=None, target_dir=TARGET / "pyo3-abi3"):
    (crate / "requirements.txt").unlink(missing_ok=True)
    if requirements is not None:
        (crate / "requirements.txt").write_text(requirements)
    args = ["--runtime", runtime, "--manifest-path", crate / "Cargo.toml", "--out", out] + (["--arch", arch] if arch else [])
    return build(args, env={"CARGO_TARGET_DIR": str(target_dir)})


def test_a_plain_maturin_build_is_refused_for_python311_and_by_a_real_import_and_the_floor_loads(
        tmp_path, abi3_crate, audit):
    # As a user would build it on this machine (Debian 12, glibc 2.36): maturin alone, no zig.
    tools = run([ROOT / "scripts/bootstrap-tools", "--maturin"])
    assert tools.returncode == 0, tools.stderr
    maturin = Path(tools.stdout.strip().splitlines()[-1]) / "maturin"
    plain = run([maturin, "build", "--release", "--interpreter", "python3", "--compatibility", "linux",
                 "--manifest-path", abi3_crate / "Cargo.toml", "--out", tmp_path / "plain"],
                env={**os.environ, "CARGO_TARGET_DIR": str(TARGET / "pyo3-abi3-plain")}, timeout=3600)
    assert plain.returncode == 0, plain.stderr[-3000:]
    [wheel] = (tmp_path / "plain").glob("*.whl")
    unzip(wheel, tmp_path / "plain-package")
    module = the_module(tmp_path / "plain-package", "*.abi3.so")
    newest = newest_glibc(module)
    assert newest > (2, 31), newest  # newer than bullseye's, and so than AL2's 2.26

    check = audit("check", "--profile", "python3.11", str(module))
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"GLIBC_{newest[0]}.{newest[1]}" in check.stdout, check.stdout

    bullseye = tree("bullseye")
    task = bullseye / "var/task"
    shutil.rmtree(task, ignore_errors=True)
    shutil.copytree(tmp_path / "plain-package", task)
    code = "import sys; sys.path.insert(0, '/var/task'); import abi3mod; print('imported')"
    refused = run(["chroot", bullseye, "/usr/bin/python3", "-c", code])
    missing = re.search(r"version `GLIBC_2\.(\d+)' not found \(required by /var/task/abi3mod/abi3mod\.abi3\.so\)", refused.stderr)
    assert refused.returncode != 0 and missing and int(missing.group(1)) > 31, refused.stderr

    # The same crate through the toolchain for python3.11: glibc 2.26 at most, and bullseye's 3.9 imports it.
    built = build_abi3(abi3_crate, "python3.11", tmp_path / "floor")
    assert built.returncode == 0, built.stderr[-4000:]
    unzip(tmp_path / "floor/lambda.zip", tmp_path / "floor-package")
    floored = the_module(tmp_path / "floor-package", "*.abi3.so")
    assert newest_glibc(floored) <= (2, 26)
    shutil.rmtree(task)
    shutil.copytree(tmp_path / "floor-package", task)
    loaded = run(["chroot", bullseye, "/usr/bin/python3", "-c", code])
    assert loaded.returncode == 0 and "imported" in loaded.stdout, loaded.stderr


def test_dependencies_come_as_wheels_for_the_runtimes_glibc_and_load(tmp_path, abi3_crate):
    # numpy 2.3 publishes manylinux_2_27/2_28 wheels only (it needs GLIBC_2.27, newer than AL2's 2.26);
    # 2.2 manylinux2014 ones: for python3.11 the build must choose 2.2 rather than refuse.
    built = build_abi3(abi3_crate, "python3.11", tmp_path / "out", requirements="numpy>=2.2,<2.4\n")
    assert built.returncode == 0, built.stderr[-4000:]
    package = tmp_path / "out/package"
    [dist] = package.glob("numpy-*.dist-info")
    assert dist.name.startswith("numpy-2.2."), dist.name
    for path in package.rglob("*.so*"):
        if path.is_file() and not path.is_symlink():
            assert newest_glibc(path) <= (2, 26), path
    results = invoke([{"name": "Ada", "import": ["numpy"]}], "abi3mod.handler", runtime="python3.11",
                     zip_path=tmp_path / "out/lambda.zip", tmp_path=tmp_path)
    answer = results[0]["body"]
    assert answer == {"greeting": "Hello, Ada!", "versions": {"numpy": dist.name[len("numpy-"):-len(".dist-info")]}}, answer


def test_a_dependency_whose_only_wheel_needs_a_newer_glibc_is_refused_naming_it(tmp_path, abi3_crate):
    requirements = ("numpy==2.3.5 \\\n    --hash=sha256:8cba086a43d54ca804ce711b2a940b16e452807acebe7852ff327f1ecd49b0d4\n")
    built = build_abi3(abi3_crate, "python3.11", tmp_path / "out", requirements=requirements)
    assert built.returncode == 1, built.stdout + built.stderr[-4000:]
    assert re.search(r"/wheels-for-newer-glibc/numpy/random/mtrand\.cpython-311-x86_64-linux-gnu\.so \(from numpy 2\.3\.5\): "
                     r"WILL NOT LOAD in python3\.11", built.stdout, re.M), built.stdout[-3000:]
    assert "mtrand.cpython-311-x86_64-linux-gnu.so needs version GLIBC_2.27 of libm.so.6" in built.stdout
    assert "have no wheels that load in python3.11" in built.stderr, built.stderr[-2000:]
    assert not (tmp_path / "out").exists()


def test_an_sdist_only_dependency_is_refused_in_one_line(tmp_path, abi3_crate):
    built = build_abi3(abi3_crate, "python3.12", tmp_path / "out", requirements="crcmod==1.7\n")
    assert built.returncode == 2, built.stderr[-3000:]
    last = built.stderr.strip().splitlines()[-1]
    assert last.startswith("error: crcmod==1.7 has no wheel for CPython 3.12 on Linux x86_64"), last
    assert not (tmp_path / "out").exists()


def test_a_crate_that_is_not_a_pyo3_cdylib_gets_one_line(tmp_path):
    crate = tmp_path / "plain"
    (crate / "src").mkdir(parents=True)
    (crate / "src/lib.rs").write_text("pub fn handler() {}\n")
    manifest = crate / "Cargo.toml"
    base = '[package]\nname = "plain"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n'
    manifest.write_text(base)
    built = build(["--runtime", "python3.12", "--manifest-path", manifest])
    assert built.returncode == 2, built.stderr[-3000:]
    assert built.stderr.strip().splitlines()[-1] == (
        f'error: plain builds no shared library: add `[lib] crate-type = ["cdylib"]` to {manifest} '
        "(a Python runtime imports a .so)"), built.stderr[-2000:]
    manifest.write_text(base + '\n[lib]\ncrate-type = ["cdylib"]\n')
    built = build(["--runtime", "python3.12", "--manifest-path", manifest])
    assert built.returncode == 2, built.stderr[-3000:]
    assert built.stderr.strip().splitlines()[-1] == (
        f'error: plain does not depend on pyo3: add `pyo3 = "0.30"` to {manifest} and export '
        "`#[pyfunction] fn handler(event, context)` from its `#[pymodule]` (Lambda calls MODULE.handler)"), built.stderr[-2000:]
    assert not (crate / "target/lambda-python3.12").exists()


@pytest.fixture(scope="session")
def rpds_crate(tmp_path_factory):
    sdist = pinned_download(*RPDS_SDIST, "sdists", ".tar.gz")
    into = tmp_path_factory.mktemp("rpds")
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    return into / "rpds_py-2026.9.1"


RPDS_HANDLER = """import rpds

def handler(event, context):
    m = rpds.HashTrieMap(event["items"])
    return {"keys": sorted(m.keys()), "without_first": sorted(m.remove(sorted(m.keys())[0]).keys()),
            "module": rpds.rpds.__file__.rsplit("/", 1)[-1]}
"""


@pytest.mark.parametrize("runtime,arch,python", [
    ("python3.12", "x86_64", "3.12"),  # Ubuntu 24.04's CPython
    ("python3.11", "x86_64", "3.11"),  # Debian 12's
    ("python3.11", "arm64", "3.11"),  # Debian 12 arm64's, under qemu
    ("python3.12", "arm64", "3.12"),  # no CPython 3.12 for arm64 here: built and proven statically
])
def test_rpds_py_from_its_sdist_builds_and_answers_under_awslambdaric(tmp_path, audit, rpds_crate, runtime, arch, python):
    out = tmp_path / "out"
    args = ["--runtime", runtime, "--manifest-path", rpds_crate / "Cargo.toml", "--out", out]
    built = build(args + (["--arch", arch] if arch != "x86_64" else []))
    assert built.returncode == 0, built.stderr[-4000:]
    assert built.stderr.strip().splitlines()[-1].startswith(f"==> {out}/lambda.zip: handler rpds.handler, runtime {runtime}")
    machine = "aarch64" if arch == "arm64" else "x86_64"
    module = the_module(out / "package", f"rpds.cpython-{python.replace('.', '')}-{machine}-linux-gnu.so")
    assert newest_glibc(module) <= ((2, 26) if runtime == "python3.11" else (2, 34))
    assert ("AArch64" if arch == "arm64" else "X86-64") in run(["readelf", "-h", module]).stdout
    if (runtime, arch) == ("python3.12", "arm64"):
        check = audit("check", "--arch", "arm64", "--profile", runtime, str(out / "lambda.zip"))
        assert check.returncode == 0 and f"{module.name}: loads in python3.12 on arm64" in check.stdout, check.stdout
        return
    events = [{"items": {"b": 2, "a": 1, "c": 3}}, {"nothing": True}]
    results = invoke(events, "handler.handler", runtime=runtime, zip_path=out / "lambda.zip", tmp_path=tmp_path,
                     extra={"handler.py": RPDS_HANDLER})
    assert results[0]["body"] == {"keys": ["a", "b", "c"], "without_first": ["b", "c"], "module": module.name}
    assert_lambda_error(results[1], "KeyError", "'items'")


def test_a_pyo3_too_old_for_the_runtimes_python_gets_one_line(tmp_path):
    # PyO3 0.22 supports CPython up to 3.13 (its build script's own rule).
    crate = tmp_path / "old"
    (crate / "src").mkdir(parents=True)
    (crate / "src/lib.rs").write_text("")
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "old"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n\n'
        '[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\npyo3 = "=0.22.6"\n')
    locked = run(["cargo", "generate-lockfile", "--manifest-path", crate / "Cargo.toml"], timeout=600)
    assert locked.returncode == 0, locked.stderr
    built = build(["--runtime", "python3.14", "--manifest-path", crate / "Cargo.toml"])
    assert built.returncode == 2, built.stderr[-3000:]
    assert built.stderr.strip().splitlines()[-1] == (
        "error: old: the configured Python interpreter version (3.14) is newer than PyO3's maximum supported "
        "version (3.13): update PyO3 (cargo update -p pyo3, or a newer pyo3 in Cargo.toml) or build for an "
        "older Python runtime"), built.stderr[-3000:]
    assert not (crate / "target/lambda-python3.14").exists()


def test_a_workspace_builds_its_pyo3_member_for_the_python_runtime_and_its_program_for_provided(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(ABI3_CRATE, ws / "module")
    manifest = (ws / "module/Cargo.toml").read_text().replace("\n[workspace]\n", "\n")
    (ws / "module/Cargo.toml").write_text(manifest)
    (ws / "module/Cargo.lock").unlink()
    (ws / "hello/src").mkdir(parents=True)
    (ws / "hello/Cargo.toml").write_text('[package]\nname = "hello"\nversion = "0.1.0"\nedition = "2021"\n')
    (ws / "hello/src/main.rs").write_text('fn main() {\n    println!("hello");\n}\n')
    (ws / "Cargo.toml").write_text('[workspace]\nresolver = "2"\nmembers = ["module", "hello"]\n')
    # A day when python3.11 functions can no longer be created, but still updated.
    built = build(["--manifest-path", ws / "Cargo.toml", "--runtime", "python3.11"],
                  env={"CARGO_TARGET_DIR": str(TARGET / "pyo3-abi3"), "LAMBDA_TODAY": "2027-08-01"})
    assert built.returncode == 0, built.stderr[-4000:]
    lines = built.stderr.strip().splitlines()
    assert ("lambda-audit: warning: python3.11: new functions blocked since 2027-07-31, updates blocked from "
            "2027-08-31: use python3.14") in lines, lines[-6:]
    assert f"==> {ws}/target/lambda/pyo3-abi3/lambda.zip: handler abi3mod.handler, runtime python3.11" in lines, lines[-5:]
    assert f"==> {ws}/target/lambda/hello/lambda.zip: bootstrap at its root, runtime provided.al2023" in lines, lines[-5:]
    module = the_module(ws / "target/lambda/pyo3-abi3/package", "*.abi3.so")
    assert newest_glibc(module) <= (2, 26)


def test_two_clean_builds_in_different_directories_give_the_same_zip(tmp_path):
    # The crate in two places, each built from an empty target directory, with a Python dependency.
    zips = []
    for place in ("first/a", "second/deeper/b"):
        crate = tmp_path / place / "crate"
        shutil.copytree(ABI3_CRATE, crate)
        built = build_abi3(crate, "python3.12", tmp_path / place / "out", requirements="six==1.17.0\n",
                           target_dir=tmp_path / place / "target")
        assert built.returncode == 0, built.stderr[-4000:]
        zips.append((tmp_path / place / "out/lambda.zip").read_bytes())
    assert hashlib.sha256(zips[0]).hexdigest() == hashlib.sha256(zips[1]).hexdigest()
    assert "six.py" in zipfile.ZipFile(tmp_path / "first/a/out/lambda.zip").namelist()


@pytest.mark.parametrize("runtime", ["python3.10", "python3.13"])  # Ubuntu 22.04's CPython, Debian 13's
def test_an_abi3_module_answers_under_awslambdaric_in_the_tree_of_each_python(tmp_path, abi3_crate, runtime):
    built = build_abi3(abi3_crate, runtime, tmp_path / "out")
    assert built.returncode == 0, built.stderr[-4000:]
    results = invoke([{"name": "Ada", "import": ["json"]}, {"nameless": True}], "abi3mod.handler", runtime=runtime,
                     zip_path=tmp_path / "out/lambda.zip", tmp_path=tmp_path)
    assert results[0]["body"]["greeting"] == "Hello, Ada!", results
    assert_lambda_error(results[1], "ValueError", "the event has no name")


def test_a_python_runtime_with_no_cpython_here_is_one_line():
    # No arm64 CPython 3.12 can be had here: the audit is then the proof, said in one line.
    result = run([ROOT / "scripts/invoke-lambda", zip_for("python3.12", "arm64")], input="{}\n", timeout=600)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: no CPython 3.12 for arm64 here to run "), result.stderr[-2000:]
    assert result.stdout == ""


def test_a_mixed_project_keeps_its_python_files_and_its_handler_wraps_the_module(tmp_path):
    # maturin's mixed layout: python/abi3mod/__init__.py beside the Rust module abi3mod.abi3mod.
    crate = tmp_path / "mixed"
    shutil.copytree(ABI3_CRATE, crate)
    (crate / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["maturin>=1.16,<2"]\nbuild-backend = "maturin"\n\n'
        '[project]\nname = "mixed"\nversion = "0.1.0"\n\n'
        '[tool.maturin]\npython-source = "python"\nmodule-name = "abi3mod.abi3mod"\n')
    (crate / "python/abi3mod").mkdir(parents=True)
    (crate / "python/abi3mod/__init__.py").write_text(
        "from .abi3mod import handler as rust_handler\n\n\n"
        "def handler(event, context):\n"
        "    answer = rust_handler(event, context)\n"
        "    answer['wrapped_by'] = __name__\n"
        "    return answer\n")
    built = build_abi3(crate, "python3.12", tmp_path / "out")
    assert built.returncode == 0, built.stderr[-4000:]
    names = zipfile.ZipFile(tmp_path / "out/lambda.zip").namelist()
    assert "abi3mod/__init__.py" in names and "abi3mod/abi3mod.abi3.so" in names, names
    assert (tmp_path / "out/handler").read_text() == "abi3mod.abi3mod.handler\n"
    results = invoke([{"name": "Ada"}], "abi3mod.handler", runtime="python3.12", zip_path=tmp_path / "out/lambda.zip",
                     tmp_path=tmp_path)
    assert results[0]["body"] == {"greeting": "Hello, Ada!", "wrapped_by": "abi3mod"}, results
