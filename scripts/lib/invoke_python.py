"""Invokes a crowbar handler the way the Lambda python3.6 bootstrap does:
import the module named by the handler string from the task root, call it with
the event and a context object, print the result (or the exception) as JSON.

Usage: python3 invoke.py TASK_ROOT HANDLER < events
The events are a JSON list; where the interpreter has no json module
(python3-minimal in the bullseye tree) they are a Python literal, and so is the
output. Works on Python 3.6+."""

import ast
import os
import sys

try:
    import json

    load, dump = json.load, json.dumps
except ImportError:
    load, dump = (lambda f: ast.literal_eval(f.read())), repr


class Context:
    """As the runtime's: from Lambda's variables (scripts/invoke-lambda sets them)."""
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "lambda-audit-test")
    function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    invoked_function_arn = "arn:aws:lambda:{}:123456789012:function:{}".format(
        os.environ.get("AWS_REGION", "us-east-1"), function_name)
    memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/lambda-audit-test")
    log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "stream")

    def get_remaining_time_in_millis(self):
        return 3000


def load_module(name, task_root):
    """As the python3.6 runtime's bootstrap.py: imp.find_module, then imp.load_module."""
    try:
        import imp
    except ImportError:  # Python 3.12+
        import importlib

        return importlib.import_module(name)
    handle, pathname, description = imp.find_module(name, [task_root])
    try:
        return imp.load_module(name, handle, pathname, description)
    finally:
        if handle:
            handle.close()


def main():
    task_root, handler = sys.argv[1], sys.argv[2]
    module_name, function_name = handler.rsplit(".", 1)
    sys.path.insert(0, task_root)
    function = getattr(load_module(module_name, task_root), function_name)
    events = load(sys.stdin)
    results = []
    for event in events:
        try:
            results.append({"ok": function(event, Context())})
        except Exception as e:  # what the runtime would report
            results.append({"error": type(e).__name__, "message": str(e)})
    print(dump(results))


if __name__ == "__main__":
    main()
