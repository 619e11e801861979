"""A real function someone else wrote: the `basic` example that
lambda_runtime 0.5.1 ships in its crates.io package (with its own Cargo.lock),
built by scripts/build-lambda-zip --example from the published .crate file
(downloaded once, pinned by sha256) and invoked through scripts/invoke-lambda
against the real Runtime API."""

import json
import os
import zipfile

import pytest

from conftest import ROOT, pinned_download, run

CRATE_URL = "https://static.crates.io/crates/lambda_runtime/lambda_runtime-0.5.1.crate"
CRATE_SHA256 = "1c73464e59463e91bf179195a308738477df90240173649d5dd2a1f3a2e4a2d2"


@pytest.fixture(scope="module")
def example_zip(tmp_path_factory):
    crate = pinned_download(CRATE_URL, CRATE_SHA256, "crates", ".crate")
    unpacked = tmp_path_factory.mktemp("crates-io")
    # tar, not tarfile: Debian 12's Python 3.11.2 has no extraction filters,
    # and the file is the one crates.io published (its sha256 is checked).
    result = run(["tar", "-xzf", crate, "-C", unpacked])
    assert result.returncode == 0, result.stderr
    manifest = unpacked / "lambda_runtime-0.5.1" / "Cargo.toml"
    assert (manifest.parent / "Cargo.lock").is_file(), "the published crate ships its Cargo.lock"
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    result = run(["bash", ROOT / "scripts/build-lambda-zip", "--runtime", "provided.al2023",
                  "--manifest-path", manifest, "--example", "basic"], env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "note: the example basic is packaged as bootstrap, the name Lambda runs" in result.stderr
    return manifest.parent / "target" / "lambda-provided.al2023" / "lambda.zip"


def test_the_published_example_is_built_and_answers_its_command(example_zip):
    with zipfile.ZipFile(example_zip) as archive:
        assert archive.namelist() == ["bootstrap"]
    result = run(["bash", ROOT / "scripts/invoke-lambda", example_zip],
                 input=json.dumps({"command": "do something"}), timeout=600)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"req_id": "request-1", "msg": "Command do something executed."}
