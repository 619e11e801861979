"""The provided.al2023 and provided.al2 function (bootstrap/), from the zips
scripts/build-lambda-zip made, run as Lambda runs it: unzipped, `bootstrap`
started with Lambda's environment, talking to a Runtime API
(scripts/lib/runtime_api.py, which scripts/invoke-lambda serves too) on
127.0.0.1 that serves a good event, three bad
ones and a good one. The AL2023 build (glibc 2.34) runs on this machine
(glibc 2.36); the AL2 build (glibc 2.26) in the bullseye tree (glibc 2.31),
with bullseye's own loader."""

import re
import subprocess
import zipfile

import pytest

from conftest import ROOT, TARGET, assert_greets, run
from runtime_api import RuntimeApi, decoded, lambda_environment

EVENTS = [
    b'{"name": "Ada"}',
    b"this is not JSON {",
    b'{"name": "   "}',
    b'{"greeting": "an event without a name"}',
    b'{"name": "Grace"}',
]


def zip_for(runtime):
    path = TARGET / f"lambda-{runtime}" / "lambda.zip"
    assert path.is_file(), f"run scripts/build-lambda-zip --runtime {runtime} first"
    return path


def unzip(archive, into):
    """As Lambda unpacks a function: the zip's files and modes."""
    result = run(["unzip", "-q", "-o", archive, "-d", into])
    assert result.returncode == 0, result.stderr


def serve(argv, env):
    """Runs the function against the test Runtime API; returns its results and stderr."""
    with RuntimeApi(EVENTS) as api:
        command = argv(lambda_environment(api) | env)
        process = subprocess.Popen([str(c) for c in command], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            results = api.wait_for(len(EVENTS), timeout=60)
        finally:
            process.kill()
            _, stderr = process.communicate(timeout=30)
    return results, stderr.decode(errors="replace")


def assert_served_every_event(results, stderr, runtime):
    assert len(results) == len(EVENTS), (results, stderr)
    by_id = {r["request_id"]: r for r in results}
    assert sorted(by_id) == [f"request-{i}" for i in range(1, 6)], results

    good = by_id["request-1"]
    assert good["kind"] == "response", good
    assert_greets(decoded(good), "Ada", "request-1", runtime)

    # Not JSON, an empty name (the handler's own error), no name at all: each
    # reported to /error with a type and a message, and serving goes on.
    for request in ("request-2", "request-3", "request-4"):
        error = by_id[request]
        assert error["kind"] == "error", error
        body = decoded(error)
        assert body["errorType"] and body["errorMessage"], body
    assert decoded(by_id["request-3"])["errorMessage"] == "the event's name is empty"
    assert "name" in decoded(by_id["request-4"])["errorMessage"]

    last = by_id["request-5"]
    assert last["kind"] == "response", last
    assert_greets(decoded(last), "Grace", "request-5", runtime)


def test_the_provided_al2023_zip_is_bootstrap_at_its_root_and_needs_no_newer_glibc(audit):
    archive = zip_for("provided.al2023")
    with zipfile.ZipFile(archive) as z:
        (entry,) = z.infolist()
        assert entry.filename == "bootstrap"
        assert (entry.external_attr >> 16) & 0o777 == 0o755
    result = audit("check", "--profile", "provided.al2023", archive)
    assert result.returncode == 0, result.stdout + result.stderr
    versions = run(["readelf", "-V", "--wide", TARGET / "lambda-provided.al2023" / "package" / "bootstrap"]).stdout
    needed = {tuple(int(n) for n in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", versions)}
    assert needed and max(needed) <= (2, 34), sorted(needed)


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2"])
def test_each_provided_zip_says_it_carries_the_runtimes_openssl_3(check_json, built_openssl, runtime):
    """The zip carries the OpenSSL the build linked (its header's version
    text, found by `lambda-audit check` in the program), and that is the
    runtime's own choice in toolchain/target.json: a supported 3.x."""
    from runtime_facts import runtime_facts

    code, report = check_json(runtime, zip_for(runtime))
    assert code == 0 and report["path"].endswith("!/bootstrap"), report
    assert report["openssl"] == built_openssl(runtime), report
    version = runtime_facts(runtime)["openssl"]
    assert version.startswith("3.") and report["openssl"]["static"][0]["version"] == version, report


def test_the_provided_al2023_function_serves_events_on_this_machine(tmp_path):
    task = tmp_path / "task"
    unzip(zip_for("provided.al2023"), task)
    results, stderr = serve(lambda env: ["env", "-i", *(f"{k}={v}" for k, v in env.items()), task / "bootstrap"], {})
    assert_served_every_event(results, stderr, "provided.al2023")


def test_the_provided_al2_function_serves_events_in_bullseye(rootfs):
    rootfs.clear_task()
    unzip(zip_for("provided.al2"), rootfs.task)
    results, stderr = serve(
        lambda env: ["chroot", rootfs.path, "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), "/var/task/bootstrap"],
        {},
    )
    assert_served_every_event(results, stderr, "provided.al2")


def test_the_al2023_build_does_not_load_on_al2s_glibc(audit):
    """The negative control: the AL2023 program (GLIBC_2.34) judged for provided.al2."""
    result = audit("check", "--profile", "provided.al2", zip_for("provided.al2023"))
    assert result.returncode == 1, result.stdout
    assert "GLIBC_2.34" in result.stdout, result.stdout


def test_the_runtime_api_test_server_refuses_unknown_paths():
    """The stand-in is strict: a wrong path is a 404, not a silent success."""
    import urllib.error
    import urllib.request

    with RuntimeApi([b"{}"]) as api:
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"http://{api.address}/2018-06-01/runtime/invocation/nope", timeout=5)
        assert error.value.code == 404
    assert ROOT.is_dir()
