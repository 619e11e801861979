"""scripts/invoke-lambda, the user's local run of a built zip: the zips
scripts/build-lambda-zip made (scripts/test builds them first), each with one
event, in the tree it picks (Ubuntu 18.04 for python3.6 and provided.al2:
glibc 2.27, the closest here to 2.17 and 2.26; this machine for
provided.al2023, saying so), with that tree's own loader and Python. Then
Lambda's behaviour, one test per difference issue 27 found (each failed on the
code before): streamed answers, the size limits, a runtime's exit, init
errors, the event's bytes, the deadline, /var/task and the environment, a warm
runtime, hostile input, nothing left running."""

import base64
import json
import os
import re
import signal
import subprocess
import textwrap
import time
import uuid
import zipfile

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
    # Its error document on stdout (as Lambda's Invoke answers it), the reason in one line on stderr.
    assert result.returncode == 1 and json.loads(result.stdout)["errorMessage"] == "the event's name is empty"
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


# Lambda's variables of every runtime, for a function of 256 MB (AWS's list; README.md).
LAMBDA_VARIABLES = {
    "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "lambda-rust-test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/lambda-rust-test",
    "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime", "TZ": ":UTC", "LANG": "en_US.UTF-8",
}


def test_a_python36_handler_gets_lambdas_environment_and_var_task(tmp_path):
    # The project's zip and a Python handler beside its module: what Python 3.6 is given.
    archive = tmp_path / "env.zip"
    with zipfile.ZipFile(zip_for("python3.6")) as built, zipfile.ZipFile(archive, "w") as z:
        for info in built.infolist():
            z.writestr(info, built.read(info))
        z.writestr("envcheck.py", textwrap.dedent("""
            import os
            def handler(event, context):
                return {"env": dict(os.environ), "cwd": os.getcwd(), "memory": context.memory_limit_in_mb,
                        "name": context.function_name}
            """))
    result = invoke(archive, "--handler", "envcheck.handler", event="{}")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["cwd"] == "/var/task" and answer["env"]["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.6", answer
    result = invoke(archive, "--handler", "envcheck.handler", "--memory", "256", "--env", "TABLE=users", event="{}")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["cwd"] == "/var/task" and answer["memory"] == "256" and answer["name"] == "lambda-rust-test"
    env = answer["env"]
    assert env.pop("AWS_LAMBDA_LOG_STREAM_NAME").endswith(tuple("0123456789abcdef")), env
    assert env == {
        **LAMBDA_VARIABLES, "AWS_EXECUTION_ENV": "AWS_Lambda_python3.6", "_HANDLER": "envcheck.handler",
        "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib",
        "PYTHONPATH": "/var/runtime", "TABLE": "users",
    }, env


def test_a_zip_the_audit_refuses_is_not_invoked_and_bad_events_are_one_line():
    # The AL2023 program needs GLIBC_2.34: not for provided.al2.
    result = invoke(zip_for("provided.al2023"), "--runtime", "provided.al2", event='{"name": "Ada"}')
    assert result.returncode == 1, result.stderr
    assert "not invoked" in result.stderr.splitlines()[-1] and "GLIBC_2.34" in result.stdout + result.stderr
    result = invoke(zip_for("provided.al2023"), event="this is not JSON {")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: the event is not JSON (Lambda invokes a function with a JSON document)"]


# --- Lambda's behaviour, with functions made here (issue 27) ---------------
# Each function below is a real process against invoke-lambda's Runtime API:
# a Python script (function.py) behind an ELF bootstrap that execs this
# machine's Python on it (tests/fixtures/python_bootstrap.c: lambda-audit and
# Lambda want a program), or, for what lambda_runtime itself does, the Rust
# function tests/fixtures/streaming. They run on this machine (provided.al2023),
# as root: in private mount and PID namespaces.

# The Runtime API client each script function starts with.
CLIENT = r'''
import base64, http.client, json, os, socket, subprocess, sys, time
HOST, PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")


def call(method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(HOST, int(PORT), timeout=1000)
    connection.request(method, "/2018-06-01/runtime" + path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


def next_event():
    response, body = call("GET", "/invocation/next")
    return response.headers["Lambda-Runtime-Aws-Request-Id"], response.headers, body


def respond(request_id, answer):
    call("POST", f"/invocation/{request_id}/response", answer if isinstance(answer, bytes) else json.dumps(answer))


def stream(request_id, chunks, error=None):
    """A streamed answer: a chunked body, a failure in its trailers."""
    s = socket.create_connection((HOST, int(PORT)))
    s.sendall(f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: {HOST}\r\n"
              "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
              "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n".encode())
    for chunk in chunks:
        s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    trailers = b""
    if error:
        trailers = (f"Lambda-Runtime-Function-Error-Type: {error[0]}\r\n"
                    f"Lambda-Runtime-Function-Error-Body: {base64.b64encode(error[1].encode()).decode()}\r\n").encode()
    s.sendall(b"0\r\n" + trailers + b"\r\n")
    s.recv(65536)
    s.close()


def serve(handler):
    while True:
        request_id, headers, event = next_event()
        respond(request_id, handler(event, headers))
'''


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    out = tmp_path_factory.mktemp("launcher") / "bootstrap"
    result = run(["gcc", "-O2", "-o", out, ROOT / "tests/fixtures/python_bootstrap.c"])
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def function_zip(tmp_path, launcher):
    """A zip of the bootstrap and function.py (CLIENT, then `code`), and `files`."""

    def make(code, files=None, name="function.zip"):
        archive = tmp_path / name
        with zipfile.ZipFile(archive, "w") as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o100755 << 16
            z.writestr(info, launcher.read_bytes())
            z.writestr("function.py", CLIENT + textwrap.dedent(code))
            for path, text in (files or {}).items():
                z.writestr(path, text)
        return archive

    return make


@pytest.fixture(scope="module")
def rust_function(tmp_path_factory):
    """tests/fixtures/streaming (lambda_runtime, the workspace's versions) built and zipped."""
    target = TARGET / "streaming-function"
    result = run(["cargo", "build", "--locked", "--manifest-path", ROOT / "tests/fixtures/streaming/Cargo.toml"],
                 env={**os.environ, "CARGO_TARGET_DIR": str(target)}, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    archive = tmp_path_factory.mktemp("streaming") / "lambda.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        z.writestr(info, (target / "debug" / "bootstrap").read_bytes(), zipfile.ZIP_DEFLATED)
    return archive


def errors_of(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def lines_of(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_streamed_answer_comes_whole_and_a_slow_one_times_out(rust_function):
    # lambda_runtime's StreamResponse: an HTTP prelude, then each word a chunk, 200 ms apart.
    words = ["Hello", "world", "from", "Lambda!"]
    event = json.dumps({"stream": words, "pause_ms": 200})
    result = invoke(rust_function, event=event)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello\nworld\nfrom\nLambda!\n", result.stdout
    assert '"statusCode":200' in result.stderr  # its prelude, said aside

    started = time.monotonic()
    result = invoke(rust_function, "--timeout", "1", event=json.dumps({"stream": words, "pause_ms": 600}))
    assert result.returncode == 1 and time.monotonic() - started < 30, result.stderr
    assert "Sandbox.Timedout" in errors_of(result)[-1] and "Task timed out after 1.00 seconds" in errors_of(result)[-1]


def test_a_stream_that_fails_and_one_over_200_mb_are_errors(function_zip):
    archive = function_zip("""
        while True:
            request_id, headers, event = next_event()
            size = json.loads(event)["size"]
            if size:
                stream(request_id, (b"x" * (1 << 20) for _ in range(size)))
            else:
                stream(request_id, [b"half ", b"way"], ("Function.Oops", '{"errorType":"Function.Oops","errorMessage":"half way"}'))
        """)
    result = invoke(archive, event='{"size": 0}')
    assert result.returncode == 1 and json.loads(result.stdout)["errorType"] == "Function.Oops", result.stderr
    assert errors_of(result) == ["error: the function returned an error: Function.Oops: half way"], result.stderr
    result = invoke(archive, event='{"size": 201}')
    assert result.returncode == 1 and json.loads(result.stdout)["errorType"] == "Function.ResponseSizeTooLarge"
    assert errors_of(result) == [f"error: the function failed: Function.ResponseSizeTooLarge: Response payload size "
                                 f"exceeded maximum allowed payload size ({200 * 1024 * 1024} bytes)."]
    result = invoke(archive, event='{"size": 2}')
    assert result.returncode == 0 and result.stdout == "x" * (2 << 20) + "\n", result.stderr


def test_the_6_mb_limits_of_an_event_and_an_answer(function_zip, tmp_path):
    archive = function_zip("""
        # Answers a JSON string of the size the event asks, or the event's own size.
        serve(lambda event, headers: b'"' + b"x" * (json.loads(event)["answer"] - 2) + b'"'
              if event.startswith(b"{") else json.dumps({"event_bytes": len(event)}).encode())
        """)
    limit, answer_limit = 6_291_456, 6_291_556
    result = invoke(archive, event=json.dumps({"answer": answer_limit + 1}))
    assert result.returncode == 1 and json.loads(result.stdout)["errorType"] == "Function.ResponseSizeTooLarge"
    assert errors_of(result) == [f"error: the function failed: Function.ResponseSizeTooLarge: Response payload size "
                                 f"exceeded maximum allowed payload size ({answer_limit} bytes)."]
    result = invoke(archive, event=json.dumps({"answer": answer_limit}))
    assert result.returncode == 0 and len(result.stdout) == answer_limit + 1, result.stderr
    (tmp_path / "big").write_bytes(b'"' + b"x" * (limit - 2) + b'"')
    result = invoke(archive, "--event", tmp_path / "big", event="")
    assert result.returncode == 0 and lines_of(result) == [{"event_bytes": limit}], result.stderr

    (tmp_path / "too-big").write_bytes(b'"' + b"x" * (limit - 1) + b'"')
    result = invoke(archive, "--event", tmp_path / "too-big", event="")
    assert result.returncode == 2 and errors_of(result) == result.stderr.strip().splitlines(), result.stderr
    assert "over 6 MB" in result.stderr and "RequestEntityTooLargeException" in result.stderr


def test_a_runtime_that_exits_is_reported_at_once_and_a_new_one_serves_the_next_event(function_zip):
    archive = function_zip("""
        served = 0
        while True:
            request_id, headers, event = next_event()
            served += 1
            if json.loads(event).get("exit"):
                os._exit(3)
            respond(request_id, {"served": served})
        """)
    started = time.monotonic()
    result = invoke(archive, "--timeout", "60", event='{"exit": true}')
    assert time.monotonic() - started < 20, result.stderr
    assert result.returncode == 1, result.stderr
    assert errors_of(result) == ["error: the function failed: Runtime.ExitError: RequestId: request-1 Error: "
                                 "Runtime exited with error: exit status 3"], result.stderr
    # The next event goes to a new runtime (its count starts again), as Lambda starts a new environment.
    result = invoke(archive, "--timeout", "60", event='{}\n{"exit": true}\n{"exit": false}\n{}\n')
    assert result.returncode == 1 and time.monotonic() - started < 40, result.stderr
    assert [line.get("served") for line in lines_of(result)] == [1, None, 1, 2]


def test_a_failure_before_the_first_event_is_an_init_error(function_zip):
    posted = function_zip("""
        call("POST", "/init/error", json.dumps({"errorType": "Config", "errorMessage": "no table name"}),
             {"Lambda-Runtime-Function-Error-Type": "Config"})
        time.sleep(300)
        """)
    started = time.monotonic()
    result = invoke(posted, "--timeout", "60", event="{}")
    assert result.returncode == 1 and time.monotonic() - started < 20, result.stderr
    assert errors_of(result) == ["error: the function failed before its first event (Runtime.InitError): "
                                 "Config: no table name"], result.stderr
    exited = function_zip("sys.exit(4)", name="exits.zip")
    result = invoke(exited, "--timeout", "60", event="{}")
    assert result.returncode == 1 and time.monotonic() - started < 40, result.stderr
    assert errors_of(result) == ["error: the function ended while it initialised: Runtime.ExitError: RequestId: "
                                 "request-1 Error: Runtime exited with error: exit status 4"], result.stderr


def test_the_event_is_passed_on_byte_for_byte_and_non_json_is_refused(function_zip, rust_function):
    archive = function_zip("""
        serve(lambda event, headers: {"event": base64.b64encode(event).decode()})
        """)
    for event in ['{"name":"Ada","name":"Bob"}', '{ "name" : "Ada" ,\n  "n": 1.50e3 }']:
        result = invoke(archive, event=event)
        assert result.returncode == 0, result.stderr
        assert base64.b64decode(json.loads(result.stdout)["event"]).decode() == event
    # Duplicate keys are JSON; the function's own parser refuses them, as on Lambda.
    result = invoke(rust_function, event='{"name":"Ada","name":"Bob"}')
    assert result.returncode == 1, result.stderr
    assert "duplicate field `name` at line 1 column 20" in errors_of(result)[-1], result.stderr
    for event in ['{"n": NaN}', '[Infinity]', '{"a": 1} {"b": 2}']:
        result = invoke(archive, event=event)
        assert result.returncode == 2 and result.stderr.strip().splitlines() == [
            "error: the event is not JSON (Lambda invokes a function with a JSON document)"], result.stderr
    # In JSON Lines, the events before a bad line are answered; the bad one ends the run.
    result = invoke(archive, event='{"a": 1}\n\n{"b": NaN}\n{"c": 3}\n')
    assert result.returncode == 2 and len(lines_of(result)) == 1, result.stderr
    assert errors_of(result) == ["error: the event on line 3 of standard input is not JSON"], result.stderr


def test_the_deadline_is_the_configured_timeout(function_zip):
    archive = function_zip("""
        serve(lambda event, headers: {"left_ms": int(headers["Lambda-Runtime-Deadline-Ms"]) - time.time() * 1000})
        """)
    result = invoke(archive, "--timeout", "7", event="{}")
    assert result.returncode == 0, result.stderr
    assert 5000 < lines_of(result)[0]["left_ms"] <= 7000, result.stdout


def test_the_function_runs_in_var_task_with_lambdas_environment(function_zip):
    archive = function_zip("""
        def handler(event, headers):
            with open("/tmp/" + json.loads(event)["write"], "w") as f:
                f.write("private")
            return {"root": open(os.environ["LAMBDA_TASK_ROOT"] + "/data.json").read(),
                    "here": open("data.json").read(), "cwd": os.getcwd(),
                    # What the process was given (Python adds LC_CTYPE to os.environ itself).
                    "env": dict(v.split("=", 1) for v in open("/proc/self/environ").read().split(chr(0)) if v),
                    "script": os.path.realpath(sys.argv[0])}
        serve(handler)
        """, {"data.json": '{"table": "users"}'})
    written = f"written-by-the-function-{uuid.uuid4().hex}"
    event = json.dumps({"write": written})
    result = invoke(archive, event=event)
    assert result.returncode == 0, result.stderr
    (answer,) = lines_of(result)
    assert answer["root"] == answer["here"] == '{"table": "users"}'
    assert answer["cwd"] == "/var/task" and answer["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    result = invoke(archive, "--memory", "256", "--env", "TABLE=users", "--env", "EMPTY=", event=event)
    assert result.returncode == 0, result.stderr
    (answer,) = lines_of(result)
    assert answer["root"] == answer["here"] == '{"table": "users"}'
    assert answer["cwd"] == "/var/task" and answer["script"] == "/var/task/function.py"
    env = answer["env"]
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env.pop("AWS_LAMBDA_LOG_STREAM_NAME")), env
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env.pop("AWS_LAMBDA_RUNTIME_API")), env
    assert env == {
        **LAMBDA_VARIABLES, "_HANDLER": "bootstrap", "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
        "TABLE": "users", "EMPTY": "",
    }, env
    # Its /tmp was its own.
    assert not os.path.exists(f"/tmp/{written}")

    for option in ["AWS_REGION=eu-west-1", "no-equals", "--memory=64"]:
        args = ["--env", option] if not option.startswith("--") else [option]
        result = invoke(archive, *args, event="{}")
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_ten_events_go_to_one_warm_runtime(rust_function, function_zip, tmp_path):
    lines = "".join(json.dumps({"name": f"n{i}"}) + "\n" for i in range(1, 11))
    result = invoke(rust_function, event=lines)
    assert result.returncode == 0, result.stderr
    assert lines_of(result) == [{"message": f"Hello, n{i}!", "served": i} for i in range(1, 11)]

    archive = function_zip("""
        served = []
        serve(lambda event, headers: served.append(json.loads(event)) or served)
        """)
    events = []
    for i in range(3):
        (tmp_path / f"{i}.json").write_text(f'{{\n  "n": {i}\n}}\n')
        events += ["--event", tmp_path / f"{i}.json"]
    result = invoke(archive, *events, event="")
    assert result.returncode == 0, result.stderr
    assert lines_of(result) == [[{"n": 0}], [{"n": 0}, {"n": 1}], [{"n": 0}, {"n": 1}, {"n": 2}]]


def test_bad_zips_and_deep_events_are_one_line(function_zip, tmp_path):
    archive = function_zip("serve(lambda event, headers: {})")
    data = archive.read_bytes()
    # bootstrap is the zip's first member: its local header at 0, its central record the first one.
    central = data.index(b"PK\x01\x02")
    assert data.startswith(b"PK\x03\x04")
    zstd = bytearray(data)
    zstd[8:10] = zstd[central + 10:central + 12] = (93).to_bytes(2, "little")  # compression method 93: zstd
    encrypted = bytearray(data)
    encrypted[6] |= 1  # general purpose flag bit 0: encrypted
    encrypted[central + 8] |= 1
    for name, broken in [("zstd", zstd), ("encrypted", encrypted)]:
        (tmp_path / f"{name}.zip").write_bytes(broken)
        result = invoke(tmp_path / f"{name}.zip", event="{}")
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, (name, result.stderr)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr

    result = invoke(archive, event="[" * 100_000 + "]" * 100_000)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "nests deeper" in result.stderr


def processes_with(marker):
    """The processes whose command line holds `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


# A function that starts a child (`python3 -c ... MARKER`) or a daemon (the same,
# forked twice and in a session of its own), then answers, or hangs after
# saying "hanging" on stderr.
SPAWNER = """
    def handler(event, headers):
        event = json.loads(event)
        sleeper = ["python3", "-c", "import time; time.sleep(300)", event["marker"]]
        if event.get("daemon"):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp("python3", sleeper)
                os._exit(0)
        else:
            subprocess.Popen(sleeper)
        if event.get("hang"):
            print("hanging", file=sys.stderr, flush=True)
            time.sleep(300)
        return {}
    serve(handler)
    """


def test_a_daemon_the_function_started_ends_with_the_run(function_zip, tmp_path):
    archive = function_zip(SPAWNER)
    marker = f"marker-{uuid.uuid4().hex}"
    # Its output pipes are held by nothing once invoke-lambda ends (else this run would hang).
    result = run(["bash", ROOT / "scripts/invoke-lambda", archive],
                 input=json.dumps({"marker": marker, "daemon": True}), timeout=120)
    assert result.returncode == 0, result.stderr
    assert processes_with(marker) == []
    # The pipeline of the issue: `invoke-lambda ... 2>&1 | cat` ends (the function's output is invoke-lambda's stderr).
    marker = f"marker-{uuid.uuid4().hex}"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"marker": marker, "daemon": True}))
    result = run(["bash", "-c", 'bash "$1" "$2" --event "$3" 2>&1 | cat', "piped",
                  ROOT / "scripts/invoke-lambda", archive, event], timeout=120)
    assert result.returncode == 0 and result.stdout.endswith("\n{}\n"), result.stdout
    assert processes_with(marker) == []


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_run_cleanly(function_zip, tmp_path, signum, code):
    archive = function_zip(SPAWNER)
    marker = f"marker-{uuid.uuid4().hex}"
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"marker": marker, "hang": True}))
    process = subprocess.Popen(["bash", ROOT / "scripts/invoke-lambda", archive, "--event", event],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TMPDIR": str(tmpdir)})
    stderr = ""
    for line in process.stderr:
        stderr += line
        if line.strip() == "hanging":
            break
    started = time.monotonic()
    while not processes_with(marker) and time.monotonic() - started < 30:
        time.sleep(0.1)  # the child's exec
    assert processes_with(marker), stderr
    process.send_signal(signum)
    # Its output ends with it: nothing it started holds the pipes.
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == code, stderr + rest
    assert "Traceback" not in rest and errors_of(subprocess.CompletedProcess([], 0, "", rest)), rest
    assert processes_with(marker) == [] and os.listdir(tmpdir) == []
