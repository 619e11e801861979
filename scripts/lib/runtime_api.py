"""A small implementation of the Lambda Runtime API (scripts/invoke-lambda
and the tests), on 127.0.0.1 (what a `provided.*` function's bootstrap talks to; AWS's
"Using the Lambda runtime API for custom runtimes"):

  GET  /2018-06-01/runtime/invocation/next             the next event, with its
       Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn and -Trace-Id
  POST /2018-06-01/runtime/invocation/{id}/response    the function's answer
  POST /2018-06-01/runtime/invocation/{id}/error       the function's error
  POST /2018-06-01/runtime/init/error                  a failure before the first event

Events are served in order; when none is left, `next` waits (as Lambda does
between invocations) until the server is closed. Every answer is recorded."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:lambda-rust-test"


class QuietServer(ThreadingHTTPServer):
    """A function stopped while it waits for its next event resets its
    connection: that is how every local run ends, not an error to print."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RuntimeApi:
    def __init__(self, events):
        """`events`: the request bodies (bytes), served in order."""
        self.events = list(events)
        self.served = 0
        self.results = []  # {"request_id", "kind": "response"|"error"|"init-error", "body", "error_type"}
        self.changed = threading.Condition()
        self.closed = False
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
                    while api.served >= len(api.events) and not api.closed:
                        api.changed.wait(0.5)
                    if api.closed:
                        return self.reply(410, b"")
                    index = api.served
                    api.served += 1
                request_id = f"request-{index + 1}"
                self.reply(200, api.events[index], [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000)),
                    ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
                    ("Lambda-Runtime-Trace-Id", f"Root=1-00000000-{index:024d};Sampled=0"),
                ])

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts == ["init", "error"]:
                    result = {"request_id": None, "kind": "init-error"}
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    result = {"request_id": parts[1], "kind": parts[2]}
                else:
                    return self.reply(404, b'{"errorType":"NotFound"}')
                result["body"] = body
                result["error_type"] = self.headers.get("Lambda-Runtime-Function-Error-Type")
                with api.changed:
                    api.results.append(result)
                    api.changed.notify_all()
                self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

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


def lambda_environment(api):
    """What Lambda sets for a function's process (the variables lambda_runtime reads)."""
    return {
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": "lambda-rust-test",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/lambda-rust-test",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/28/[$LATEST]test",
        "LAMBDA_TASK_ROOT": "/var/task",
        "_HANDLER": "bootstrap",
        "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }


def decoded(result):
    return json.loads(result["body"]) if result["body"] else None
