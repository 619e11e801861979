"""An implementation of the Lambda Runtime API (scripts/invoke-lambda and the
tests), on 127.0.0.1: what a `provided.*` function's bootstrap talks to (AWS's
"Using the Lambda runtime API for custom runtimes"), and what a runtime client
such as awslambdaric can talk to as well:

  GET  /2018-06-01/runtime/invocation/next             the next event, byte for byte, with its
       Lambda-Runtime-Aws-Request-Id, -Deadline-Ms (now + the configured timeout),
       -Invoked-Function-Arn and -Trace-Id
  POST /2018-06-01/runtime/invocation/{id}/response    the function's answer: a body of at most
       6 MB (over it: Function.ResponseSizeTooLarge), or a streamed one
       (Lambda-Runtime-Function-Response-Mode: streaming, a chunked body of at most
       200 MiB, a failure in the trailers Lambda-Runtime-Function-Error-Type and -Body)
  POST /2018-06-01/runtime/invocation/{id}/error       the function's error
  POST /2018-06-01/runtime/init/error                  a failure before the first event

The interface: `RuntimeApi(events, config)` as a context manager (the server
runs inside it); `add(event)` queues one more event and gives its request id;
`answer(request_id, process)` waits for that event's result as Lambda reports
it, watching the function's process (a runtime that exits is reported at once
as Runtime.ExitError, one slower than the timeout as Sandbox.Timedout);
`lambda_environment(api)` is the environment Lambda gives the process.
Events are served in order; when none is left, `next` waits (as Lambda does
between invocations) until the server is closed. Every answer is recorded in
`results`."""

import base64
import json
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
# Lambda's quotas ("Lambda quotas"): an invocation payload of 6 MB each way.
# The request is refused over 6 MB (6,291,456 bytes); a buffered response over
# the size Lambda's own error message names (6,291,556 bytes, as AWS's Runtime
# Interface Emulator has it too) becomes Function.ResponseSizeTooLarge; a
# streamed response may be up to 200 MB ("Response streaming for Lambda functions").
MAX_REQUEST = 6_291_456
MAX_RESPONSE = 6_291_556
MAX_STREAMED_RESPONSE = 200 * 1024 * 1024
READ_CHUNK = 1 << 20


class Config:
    """The function's configuration, as Lambda's (CreateFunction's) settings."""

    def __init__(self, name="lambda-rust-test", memory=128, timeout=60, region="us-east-1", version="$LATEST",
                 handler="bootstrap", runtime=None, env=None):
        self.name, self.memory, self.timeout, self.region = name, memory, timeout, region
        self.version, self.handler, self.runtime = version, handler, runtime
        self.env = dict(env or {})
        self.arn = f"arn:aws:lambda:{region}:123456789012:function:{name}"
        # The log stream Lambda names for an execution environment: date/[version]id.
        self.log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{version}]{uuid.uuid4().hex}"


class QuietServer(ThreadingHTTPServer):
    """A function stopped while it waits for its next event resets its
    connection: that is how every local run ends, not an error to print."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def error_body(error_type, message):
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


class TooLarge(Exception):
    pass


class RuntimeApi:
    def __init__(self, events=(), config=None):
        """`events`: request bodies (bytes) to serve first, in order."""
        self.config = config or Config()
        self.events = []  # (request_id, body)
        self.served = 0
        self.next_calls = 0
        self.results = []  # {"request_id", "kind": "response"|"error"|"init-error", "body", "error_type", ...}
        self.changed = threading.Condition()
        self.closed = False
        self.generation = 0
        for event in events:
            self.add(event)
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self.reply(404, b'{"errorType":"NotFound"}')
                with api.changed:
                    api.next_calls += 1
                    generation = api.generation
                    api.changed.notify_all()
                    while api.served >= len(api.events) and not api.closed and generation == api.generation:
                        api.changed.wait(0.5)
                    if api.closed or generation != api.generation:
                        # The server closes, or this runtime was ended: its pending
                        # `next` takes no event from the next one.
                        return self.reply(410, b"")
                    request_id, body = api.events[api.served]
                    api.served += 1
                deadline = int(time.time() * 1000) + int(api.config.timeout * 1000)
                self.reply(200, body, [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", api.config.arn),
                    ("Lambda-Runtime-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"),
                ])

            def read_sized(self, limit):
                """The body of Content-Length, refused (and drained) over `limit` bytes."""
                length = int(self.headers.get("Content-Length") or 0)
                if length <= limit:
                    return self.rfile.read(length)
                while length > 0:
                    data = self.rfile.read(min(length, READ_CHUNK))
                    if not data:
                        break
                    length -= len(data)
                raise TooLarge(limit)

            def read_chunked(self, limit):
                """A chunked body and its trailers; over `limit` bytes the rest is
                drained, and TooLarge raised."""
                parts, size, trailers = [], 0, {}
                while True:
                    line = self.rfile.readline(1024)
                    if not line:
                        raise ConnectionError("the chunked body ended early")
                    length = int(line.split(b";")[0].strip() or b"0", 16)
                    if length == 0:
                        break
                    while length > 0:
                        data = self.rfile.read(min(length, READ_CHUNK))
                        if not data:
                            raise ConnectionError("the chunked body ended early")
                        length -= len(data)
                        size += len(data)
                        if size <= limit:
                            parts.append(data)
                    self.rfile.readline(16)
                while True:
                    line = self.rfile.readline(65536)
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    trailers[name.strip().lower()] = value.strip()
                if size > limit:
                    raise TooLarge(limit)
                return b"".join(parts), trailers

            def do_POST(self):
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts == ["init", "error"]:
                    result = {"request_id": None, "kind": "init-error"}
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    result = {"request_id": parts[1], "kind": parts[2]}
                else:
                    self.read_sized(MAX_RESPONSE)
                    return self.reply(404, b'{"errorType":"NotFound"}')
                streamed = self.headers.get("Lambda-Runtime-Function-Response-Mode", "").lower() == "streaming"
                chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
                result["error_type"] = self.headers.get("Lambda-Runtime-Function-Error-Type")
                result["streamed"] = streamed
                result["content_type"] = self.headers.get("Content-Type")
                too_large = None
                try:
                    if chunked:
                        limit = MAX_STREAMED_RESPONSE if streamed else MAX_RESPONSE
                        result["body"], trailers = self.read_chunked(limit)
                    else:
                        result["body"], trailers = self.read_sized(MAX_RESPONSE), {}
                except TooLarge as e:
                    too_large = e.args[0]
                if too_large is not None:
                    result.update(kind="error", error_type="Function.ResponseSizeTooLarge", origin="lambda", body=error_body(
                        "Function.ResponseSizeTooLarge",
                        f"Response payload size exceeded maximum allowed payload size ({too_large} bytes)."))
                elif trailers.get("lambda-runtime-function-error-type"):
                    # A failure in the middle of a stream: what was sent stays the
                    # answer's start; the error is the trailers' (its body base64).
                    result["partial"] = result["body"]
                    result["kind"], result["error_type"] = "error", trailers["lambda-runtime-function-error-type"]
                    try:
                        result["body"] = base64.b64decode(trailers.get("lambda-runtime-function-error-body", ""))
                    except ValueError:
                        result["body"] = trailers.get("lambda-runtime-function-error-body", "").encode()
                with api.changed:
                    if result["request_id"] is not None and result["request_id"] not in api.ids():
                        status = 400
                    else:
                        status = 202
                        api.results.append(result)
                    api.changed.notify_all()
                if too_large is not None:
                    return self.reply(413, error_body("RequestEntityTooLarge", decoded(result)["errorMessage"]),
                                      [("Content-Type", "application/json")])
                if status == 400:
                    return self.reply(400, error_body("InvalidRequestID", "Invalid request ID"))
                self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def new_runtime(self):
        """A new runtime process takes over (the last one was ended): what the
        old one still waits for is not served."""
        with self.changed:
            self.generation += 1
            self.next_calls = 0
            self.changed.notify_all()

    def ids(self):
        return {request_id for request_id, _ in self.events}

    def add(self, body):
        """Queues one event (bytes, passed on as they are); its request id."""
        with self.changed:
            request_id = f"request-{len(self.events) + 1}"
            self.events.append((request_id, bytes(body)))
            self.changed.notify_all()
        return request_id

    @property
    def address(self):
        host, port = self.server.server_address
        return f"{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        with self.changed:
            self.closed = True
            self.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count, timeout):
        """The first `count` results, waiting up to `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.results) < count and time.monotonic() < deadline:
                self.changed.wait(0.2)
            return list(self.results)

    def answer(self, request_id, process=None, timeout=None):
        """The result of the event `request_id`, as Lambda reports it: the
        function's answer or error; its init error (posted before it asked for
        this event); Runtime.ExitError at once if `process` (a Popen) ends
        first; Sandbox.Timedout after `timeout` seconds (the configured one).
        An error Lambda makes has "origin": "lambda"."""
        timeout = self.config.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for result in self.results:
                    if result["request_id"] == request_id or (result["kind"] == "init-error" and not result.get("taken")):
                        result["taken"] = True
                        return result
                if process is not None and process.poll() is not None:
                    initialised = self.next_calls > 0
                    return self.made_error(request_id, "Runtime.ExitError",
                                           f"RequestId: {request_id} Error: Runtime exited with error: "
                                           f"{exit_status(process.returncode)}", exit_status=process.returncode,
                                           init=not initialised)
                left = deadline - time.monotonic()
                if left <= 0:
                    return self.made_error(request_id, "Sandbox.Timedout",
                                           f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds")
                self.changed.wait(min(left, 0.05))

    def made_error(self, request_id, error_type, message, **extra):
        result = {"request_id": request_id, "kind": "error", "error_type": error_type, "origin": "lambda",
                  "body": error_body(error_type, message), **extra}
        self.results.append(result)
        return result


def exit_status(returncode):
    """A process's end as Lambda words it (Go's os.ProcessState)."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
        return "signal: " + {"SIGKILL": "killed", "SIGSEGV": "segmentation fault", "SIGABRT": "aborted",
                             "SIGTERM": "terminated"}.get(name, name)
    return f"exit status {returncode}"


# The provided runtimes' LD_LIBRARY_PATH (docs/runtime-facts.md §2 and §3:
# aws-lambda-base-images' Dockerfile.provided.al2 and .al2023).
LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"


def lambda_environment(api, config=None, runtime_own=None):
    """What Lambda sets for a function's process ("Defined runtime environment
    variables" in AWS's Lambda developer guide; README.md lists each with its
    source), the runtime's own (`runtime_own`: a runtime without the Runtime
    API, api None, gives its PATH and the like), then the function's own
    variables (config.env, --env)."""
    config = config or api.config
    env = {
        **({"AWS_LAMBDA_RUNTIME_API": api.address} if api else {}),
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": config.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": config.log_stream,
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": config.handler,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "LD_LIBRARY_PATH": LD_LIBRARY_PATH,
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    }
    # Not set for the OS-only runtimes (the provided family), AWS says.
    if config.runtime and not config.runtime.startswith("provided"):
        env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{config.runtime}"
    env.update(runtime_own or {})
    env.update(config.env)
    return env


def decoded(result):
    return json.loads(result["body"]) if result["body"] else None
