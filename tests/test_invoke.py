"""scripts/invoke-lambda, the user's local run of a built zip: the zips
scripts/build-lambda-zip made (scripts/test builds them first), each with one
event, in the tree it picks (Ubuntu 18.04 for python3.6 and provided.al2:
glibc 2.27, the closest here to 2.17 and 2.26; this machine for
provided.al2023, saying so), with that tree's own loader and Python."""

import json

import pytest

from conftest import ROOT, TARGET, assert_greets, run

GOOD = {"request": {"method": "GET", "service": "iam", "region": "us-east-1", "query": {"Action": "ListUsers"}},
        "credentials": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "secret"}}


def zip_for(runtime):
    path = TARGET / ("lambda" if runtime == "python3.6" else f"lambda-{runtime}") / "lambda.zip"
    assert path.is_file(), f"run scripts/build-lambda-zip --runtime {runtime} first"
    return path


def invoke(*args, event):
    return run(["bash", ROOT / "scripts/invoke-lambda", *map(str, args)], input=event, timeout=600)


@pytest.mark.parametrize("runtime", ["provided.al2", "provided.al2023"])
def test_a_bootstrap_answers_a_good_event_and_reports_a_bad_one(runtime):
    result = invoke(zip_for(runtime), "--runtime", runtime, event='{"name": "Ada"}')
    assert result.returncode == 0, result.stderr
    assert_greets(json.loads(result.stdout), "Ada", "request-1", runtime)
    where = "invoking in Ubuntu 18.04 (bionic: glibc 2.27" if runtime == "provided.al2" else "invoking on this machine"
    assert where in result.stderr, result.stderr

    result = invoke(zip_for(runtime), "--runtime", runtime, event='{"name": "   "}')
    assert result.returncode == 1 and result.stdout == "", result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the event's name is empty" in errors[0], result.stderr


def test_a_python36_module_is_imported_and_called_by_python_36(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps(GOOD))
    result = invoke(zip_for("python3.6"), "--event", event, event="")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["url"].startswith("https://iam.amazonaws.com/") and "AWS4-HMAC-SHA256" in answer["headers"]["authorization"]
    assert "handler liblambda.handler" in result.stderr and "bionic" in result.stderr

    result = invoke(zip_for("python3.6"), event='{"no": "request"}')
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        'error: the handler raised RuntimeError: the event has no "request" object']


def test_a_zip_the_audit_refuses_is_not_invoked_and_bad_events_are_one_line():
    # The AL2023 program needs GLIBC_2.34: not for provided.al2.
    result = invoke(zip_for("provided.al2023"), "--runtime", "provided.al2", event='{"name": "Ada"}')
    assert result.returncode == 1, result.stderr
    assert "not invoked" in result.stderr.splitlines()[-1] and "GLIBC_2.34" in result.stdout + result.stderr
    result = invoke(zip_for("provided.al2023"), event="this is not JSON {")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: the event is not JSON (Lambda invokes a function with a JSON document)"]
