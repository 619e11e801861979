"""The Lambda function (crate/) end to end: the module built by
scripts/build-lambda-zip imported by real interpreters, its signatures checked
against an independent SigV4 implementation, the zip imported inside the
bullseye root filesystem, the audit and its negative control, bundling, and
reproducibility."""

import ast
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from conftest import AL1, LAMBDA_LD_LIBRARY_PATH, ROOT, TARGET, run

HANDLER = "liblambda.handler"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def invoke(task_root, events, env=None, python="python3"):
    result = run(
        [python, ROOT / "scripts/lib/invoke_python.py", task_root, HANDLER],
        input=json.dumps(events),
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- An independent SigV4 (AWS General Reference, "Signature Version 4 signing process").


def _encode(value, safe="-_.~"):
    return urllib.parse.quote(value, safe=safe)


def sigv4_signature(method, path, query, headers, signed, payload, region, service, amz_date, secret):
    canonical_uri = _encode(_encode(path, safe="/-_.~"), safe="/-_.~")
    canonical_query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query.items()))
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    canonical_request = "\n".join(
        [method, canonical_uri, canonical_query, canonical_headers, ";".join(signed), hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def assert_signed_correctly(result, request, key_id=KEY_ID, secret=SECRET):
    headers = result["headers"]
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        headers["authorization"],
    )
    assert match, headers["authorization"]
    credential, day, region, service, signed, signature = match.groups()
    assert (credential, region, service) == (key_id, request["region"], request["service"])
    assert day == headers["x-amz-date"][:8]
    expected_signed = {"host", "x-amz-date", "x-amz-content-sha256", "content-type"}
    expected_signed |= {name.lower() for name in request.get("headers", {})}
    if "x-amz-security-token" in headers:
        expected_signed.add("x-amz-security-token")
    assert set(signed.split(";")) == expected_signed
    body = request.get("body", "").encode()
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert signature == sigv4_signature(
        request["method"], request.get("path", "/"), request.get("query", {}), headers, signed.split(";"),
        body, request["region"], request["service"], headers["x-amz-date"], secret,
    )


@pytest.fixture(scope="module")
def task_root(lambda_package, tmp_path_factory):
    root = tmp_path_factory.mktemp("task")
    shutil.copy(lambda_package / "liblambda.so", root)
    return root


def test_handler_signs_like_an_independent_sigv4_and_hashes_with_openssl(task_root):
    requests = [
        {"method": "GET", "service": "iam", "region": "us-east-1", "path": "/",
         "query": {"Action": "ListUsers", "Version": "2010-05-08"}},
        {"method": "POST", "service": "dynamodb", "region": "eu-west-1", "path": "/",
         "headers": {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"},
         "body": '{"Limit": 5}'},
        {"method": "GET", "service": "s3", "region": "us-west-2", "path": "/my-bucket/photos/cat.jpg",
         "query": {"list-type": "2", "prefix": "a b/c"}},
    ]
    events = [{"request": r, "credentials": {"access_key_id": KEY_ID, "secret_access_key": SECRET},
               "hmac_key": "secret-key"} for r in requests]
    results = invoke(task_root, events)
    for request, result in zip(requests, results):
        assert "ok" in result, result
        result = result["ok"]
        assert_signed_correctly(result, request)
        body = request.get("body", "").encode()
        assert result["body_sha256"] == hashlib.sha256(body).hexdigest()
        assert result["body_hmac_sha256"] == hmac.new(b"secret-key", body, hashlib.sha256).hexdigest()
        assert result["openssl"]["dir"] == 'OPENSSLDIR: "/etc/pki/tls"'
        assert result["url"].startswith("https://")


def test_credentials_come_from_the_environment_when_the_event_has_none(task_root):
    request = {"method": "GET", "service": "sts", "region": "us-east-1", "query": {"Action": "GetCallerIdentity"}}
    env = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "token-1"}
    [result] = invoke(task_root, [{"request": request}], env=env)
    assert result["ok"]["headers"]["x-amz-security-token"] == "token-1"
    assert_signed_correctly(result["ok"], request, key_id="AKIDENV", secret="env-secret")

    clean = {k: "" for k in env}
    [result] = invoke(task_root, [{"request": request}], env=clean)
    assert result["error"] == "RuntimeError" and "no credentials" in result["message"], result


def test_a_malformed_event_raises_a_python_exception_and_the_interpreter_survives(task_root):
    good = {"request": {"method": "GET", "service": "iam", "region": "us-east-1"},
            "credentials": {"access_key_id": KEY_ID, "secret_access_key": SECRET}}
    bad = [
        ([1, 2], "must be a JSON object"),
        ({}, 'no "request"'),
        ({"request": "GET /"}, "event.request must be an object"),
        ({"request": {"service": "iam", "region": "us-east-1"}}, "event.request.method is required"),
        ({**good, "request": {**good["request"], "region": "mars-north-1"}}, 'unknown AWS region "mars-north-1"'),
        ({**good, "request": {**good["request"], "headers": {"x": 1}}}, "event.request.headers.x must be a string"),
        ({**good, "credentials": {"access_key_id": KEY_ID}}, "event.credentials.secret_access_key is required"),
    ]
    results = invoke(task_root, [event for event, _ in bad] + [good])
    for (event, message), result in zip(bad, results):
        assert result.get("error") == "RuntimeError", (event, result)
        assert message in result["message"], (event, result)
    assert "ok" in results[-1], "the interpreter must still answer after errors"


def readelf(*args):
    result = run(["readelf", *args])
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_module_is_audited_for_the_2017_runtime_and_readelf_agrees(check_json, lambda_package):
    module = lambda_package / "liblambda.so"
    code, report = check_json(AL1, module)
    assert code == 0 and report["loads"], report
    assert report["findings"] == [] and report["unverified_symbols"] == 0, report
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", readelf("-d", module))
    assert needed and not [n for n in needed if re.match(r"lib(ssl|crypto)", n)], needed
    versions = re.findall(r"Name: GLIBC_(\d+)\.(\d+)", readelf("-V", "-W", module))
    assert versions and max((int(a), int(b)) for a, b in versions) <= (2, 17), versions
    # No path of the build machine in the artifact.
    data = module.read_bytes()
    for path in (str(ROOT), str(Path.home()), "/tmp/"):
        assert path.encode() not in data, path


def test_the_zip_says_it_carries_the_openssl_the_build_linked(check_json, lambda_zip, built_openssl):
    code, report = check_json(AL1, lambda_zip)
    assert code == 0 and report["path"].endswith("!/liblambda.so"), report
    assert report["openssl"] == built_openssl("python3.6"), report


def test_negative_control_the_host_toolchain_build_fails_the_audit_naming_symbols(check_json, audit, host_built_module):
    code, report = check_json(AL1, host_built_module)
    assert code == 1
    missing = [f for f in report["findings"] if f["kind"] == "missing-version"]
    assert missing, report
    symbols = [s for f in missing for s in f["symbols"]]
    assert all(re.fullmatch(r"\S+@GLIBC_2\.(1[89]|[2-9]\d)", s) for s in symbols), symbols
    assert symbols, "the offending symbols must be named"
    text = audit("check", host_built_module).stdout
    assert "the runtime defines libc.so.6" in text and symbols[0] in text


def test_pipeline_verify_passes_the_build_and_refuses_the_seed_failures(audit_bin, fixtures, host_built_module, tmp_path):
    """`scripts/pipeline verify`, which `nix flake check` runs on the built zip,
    passes the real package and refuses dynamic OpenSSL and a newer glibc."""

    def verify(out):
        return run(["bash", ROOT / "scripts/pipeline", "verify", out], env={**os.environ, "LAMBDA_AUDIT": str(audit_bin)})

    def package_of(module):
        out = tmp_path / module.parent.name
        (out / "package").mkdir(parents=True)
        shutil.copy(module, out / "package" / "liblambda.so")
        with zipfile.ZipFile(out / "lambda.zip", "w") as zip_file:
            zip_file.write(module, "liblambda.so")
        return out

    passed = verify(TARGET / "lambda")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    dynamic_openssl = verify(package_of(fixtures / "mod_ssl.so"))
    assert dynamic_openssl.returncode == 1, dynamic_openssl.stderr
    assert "links libssl/libcrypto dynamically" in dynamic_openssl.stderr
    assert "libssl.so.10" in dynamic_openssl.stderr
    newer_glibc = verify(package_of(host_built_module))
    assert newer_glibc.returncode == 1, newer_glibc.stdout + newer_glibc.stderr
    assert re.search(r"@GLIBC_2\.(1[89]|[2-9]\d)", newer_glibc.stdout), newer_glibc.stdout


def test_pipeline_verify_refuses_a_package_changed_after_zipping_or_holding_a_store_path(audit_bin, tmp_path):
    """What crane's post-install hooks did to the flake's output (rewrote
    package/ after lambda.zip was written), and a build-machine path in the zip."""

    def verify(out):
        return run(["bash", ROOT / "scripts/pipeline", "verify", out], env={**os.environ, "LAMBDA_AUDIT": str(audit_bin)})

    def copy_of_the_build(name):
        out = tmp_path / name
        shutil.copytree(TARGET / "lambda", out)
        return out

    rewritten = copy_of_the_build("rewritten")
    module = rewritten / "package" / "liblambda.so"
    data = bytearray(module.read_bytes())
    data[-1] ^= 0xFF
    module.write_bytes(bytes(data))
    result = verify(rewritten)
    assert result.returncode == 1
    assert "liblambda.so differs between the zip and" in result.stderr

    extra = copy_of_the_build("extra")
    (extra / "package" / "notes.txt").write_text("not zipped")
    result = verify(extra)
    assert result.returncode == 1 and "notes.txt is in" in result.stderr and "but not in the zip" in result.stderr

    store = copy_of_the_build("store-path")
    (store / "package" / "paths.txt").write_text("/nix/store/0123456789abcdfghijklmnpqrsvwxyz0-vendor-cargo-deps/x\n")
    with zipfile.ZipFile(store / "lambda.zip", "a") as archive:
        archive.write(store / "package" / "paths.txt", "paths.txt")
    result = verify(store)
    assert result.returncode == 1
    assert "paths.txt contains the build-machine path /nix/store/" in result.stderr


def test_the_zip_imports_and_answers_in_the_bullseye_chroot(rootfs, lambda_zip):
    rootfs.clear_task()
    with zipfile.ZipFile(lambda_zip) as archive:
        names = archive.namelist()
        archive.extractall(rootfs.task)
    assert names == sorted(names) and "liblambda.so" in names
    (rootfs.task / "liblambda.so").chmod(0o755)
    rootfs.put(ROOT / "scripts/lib/invoke_python.py", "/var/runtime/invoke.py")
    event = {"request": {"method": "GET", "service": "iam", "region": "us-east-1", "query": {"Action": "ListUsers"}},
             "credentials": {"access_key_id": KEY_ID, "secret_access_key": SECRET}}
    result = run(
        ["chroot", rootfs.path, "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", f"LD_LIBRARY_PATH={LAMBDA_LD_LIBRARY_PATH}",
         "/usr/bin/python3", "/var/runtime/invoke.py", "/var/task", HANDLER],
        input=repr([event]),
    )
    assert result.returncode == 0, result.stderr
    [answer] = ast.literal_eval(result.stdout)
    assert_signed_correctly(answer["ok"], event["request"])


def test_bundled_libraries_load_in_the_chroot_and_the_bundled_copy_is_the_one_loaded(rootfs, fixtures, audit, tmp_path):
    # Without bundling: libvendored is nowhere, and bullseye's zlib (1.2.11) lacks ZLIB_1.2.12.
    rootfs.clear_task()
    for module in ("mod_vendored", "mod_newzlib"):
        rootfs.put(fixtures / f"{module}.so", f"/var/task/{module}.so")
        result = rootfs.import_module(module, LAMBDA_LD_LIBRARY_PATH)
        assert result.returncode != 0, f"{module} should not load unbundled: {result.stdout}"

    package = tmp_path / "package"
    result = audit("bundle", "--out", package, "--library-path", fixtures / "build-lib",
                   fixtures / "mod_vendored.so", fixtures / "mod_newzlib.so")
    assert result.returncode == 0, result.stderr
    rootfs.clear_task()
    shutil.copytree(package, rootfs.task, dirs_exist_ok=True)
    for module in ("mod_vendored", "mod_newzlib"):
        result = rootfs.import_module(module, LAMBDA_LD_LIBRARY_PATH)
        assert result.returncode == 0, result.stderr
    # From inside the process: which libz is mapped after the import?
    code = ("import sys; sys.path.insert(0, '/var/task'); import mod_newzlib;"
            "print([l.split()[-1] for l in open('/proc/self/maps') if 'libz' in l])")
    proc = rootfs.path / "proc"
    mounted = run(["mount", "-t", "proc", "proc", proc]).returncode == 0
    try:
        result = rootfs.python(code, LAMBDA_LD_LIBRARY_PATH)
    finally:
        if mounted:
            run(["umount", proc])
    assert result.returncode == 0, result.stderr
    maps = set(ast.literal_eval(result.stdout))
    # The interpreter itself loaded the system libz.so.1; the module's copy,
    # under its own soname, is mapped beside it (only it has ZLIB_1.2.12).
    bundled = [m for m in maps if re.fullmatch(r"/var/task/lib/libz-[0-9a-f]{8}\.so\.1", m)]
    assert len(bundled) == 1, maps


def _tracked_copy(dest):
    files = run(["git", "ls-files", "-z"], cwd=ROOT).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def test_two_clean_builds_in_different_directories_are_bit_for_bit_identical(tmp_path):
    """Each build has its own checkout, target directory and toolchain cache,
    so OpenSSL is compiled twice too (an hour apart, it must not differ). The
    second checkout's path has a space: cargo splits RUSTFLAGS on spaces, so
    the path remaps travel as CARGO_ENCODED_RUSTFLAGS."""
    digests = []
    for name in ("first-checkout", "second dir/checkout"):
        tree = _tracked_copy(tmp_path / name)
        env = {k: v for k, v in os.environ.items() if k not in ("CARGO_TARGET_DIR", "SOURCE_DATE_EPOCH")}
        env["LAMBDA_TOOLCHAIN_CACHE"] = str(tmp_path / f"cache-of-{name.replace('/', '-').replace(' ', '-')}")
        result = run(["bash", tree / "scripts/build-lambda-zip"], cwd=tree, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        module = tree / "target/x86_64-unknown-linux-gnu/release/liblambda.so"
        archive = tree / "target/lambda/lambda.zip"
        # OpenSSL records a build date; it must be the fixed epoch, not the day of the build.
        built_on = re.findall(rb"built on: ([^\0]*)", module.read_bytes())
        assert built_on == [b"Tue Jan  1 00:00:00 1980 UTC"], built_on
        digests.append((hashlib.sha256(module.read_bytes()).hexdigest(), hashlib.sha256(archive.read_bytes()).hexdigest()))
    assert digests[0] == digests[1], digests
