"""The body of scripts/invoke-lambda (see there)."""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import signal
import tempfile
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runtime_api import MAX_REQUEST, Config, RuntimeApi, exit_status, lambda_environment  # noqa: E402
from runtime_facts import UnknownRuntime, runtime_facts  # noqa: E402

# The trees scripts/debian-rootfs makes: their glibc and whether Python 3.6 is there.
TREES = {
    "bionic": {"glibc": (2, 27), "name": "Ubuntu 18.04", "python3.6": True},
    "bullseye": {"glibc": (2, 31), "name": "Debian 11", "python3.6": False},
    "trixie": {"glibc": (2, 41), "name": "Debian 13", "python3.6": False},
}
# The arm64 trees (scripts/debian-rootfs --arch arm64), whose programs run
# under qemu-user: no arm64 program runs on this machine itself.
ARM64_TREES = {
    "bullseye": {"glibc": (2, 31), "name": "Debian 11 arm64"},
    "bookworm": {"glibc": (2, 36), "name": "Debian 12 arm64"},
}
# Where a PyO3 function's Python runs: a tree with CPython of the runtime's
# version and its whole standard library (scripts/debian-rootfs), by
# (version, architecture); None: this machine's Debian 12 /usr/bin/python3.11
# (the package python3.11: glibc 2.36).
PYTHON_PLACES = {
    ("3.10", "x86_64"): ("jammy", "Ubuntu 22.04", (2, 35)),
    ("3.11", "x86_64"): (None, "this machine's Debian 12", (2, 36)),
    ("3.12", "x86_64"): ("noble", "Ubuntu 24.04", (2, 39)),
    ("3.13", "x86_64"): ("trixie", "Debian 13", (2, 41)),
    ("3.11", "arm64"): ("bookworm", "Debian 12 arm64", (2, 36)),
}
# AWS's Python runtime client and what it needs, pinned by sha256.
RUNTIME_CLIENT = "scripts/lib/awslambdaric-requirements.txt"
# The emulator inside an arm64 tree (scripts/debian-rootfs puts it there).
QEMU = "/usr/bin/qemu-aarch64-static"
# ELF e_machine values (elf.h) by Lambda's name of the architecture.
ELF_MACHINES = {62: "x86_64", 183: "arm64"}
# The python3.6 runtime's PATH (AWS's list of its variables: /var/lang/bin
# first) and LD_LIBRARY_PATH (docs/runtime-facts.md §1.2).
PYTHON36_PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
PYTHON36_LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib"


def fail(message, code=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def say(message):
    print(f"==> {message}", file=sys.stderr)


def facts_of(root, runtime, arch=None):
    """Its profile and glibc, as scripts/pipeline reads them."""
    try:
        return runtime_facts(runtime, root, arch)
    except UnknownRuntime as e:
        fail(f"{e} (--runtime)")


def host_glibc():
    return tuple(int(n) for n in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2])


def elf_arch(header):
    """Lambda's name of the architecture of an ELF file's first 20 bytes, or None."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little" if header[5] == 1 else "big"))


def choose_arm64_tree(runtime, glibc):
    fitting = [(info["glibc"], suite) for suite, info in ARM64_TREES.items() if info["glibc"] >= glibc]
    if not fitting:
        fail(f"no arm64 tree here has {runtime}'s glibc {'.'.join(map(str, glibc))} or newer")
    return min(fitting)[1]


def choose_place(runtime, glibc):
    """The tree with the oldest glibc that is still the runtime's or newer (and
    Python 3.6 for python3.6), or this machine when it is at least as close."""
    host = host_glibc()
    fitting = [(info["glibc"], suite) for suite, info in TREES.items()
               if info["glibc"] >= glibc and (runtime != "python3.6" or info["python3.6"])]
    if runtime != "python3.6" and host >= glibc:
        fitting.append((host, None))
    if not fitting:
        fail(f"no place to run {runtime} here: no tree with its Python and glibc {'.'.join(map(str, glibc))} or newer")
    return min(fitting, key=lambda f: (f[0], f[1] is None))[1]


def tree_path(root, suite, arch=None):
    result = subprocess.run(["bash", os.path.join(root, "scripts/debian-rootfs"),
                             *(["--arch", arch] if arch else []), suite], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        fail(f"scripts/debian-rootfs {suite} failed (above)")
    return result.stdout.strip().splitlines()[-1]


def in_tree(tree, mounts, argv, env, emulated=False):
    """argv run inside `tree` with its own loader, its root and working
    directory the tree's / and /var/task (as Lambda's are), after private bind
    mounts (source dir -> path in the tree) and a private /tmp that nothing
    outside sees, in its own PID namespace: whatever it starts ends with it.
    emulated: an arm64 tree, whose programs the tree's qemu-user runs (its own
    env would be an arm64 program too, so the environment is cleared outside)."""
    script = "set -e; tree=$1; shift\n"
    for source, target in mounts:
        script += f"mount --bind {shquote(source)} \"$tree\"{shquote(target)}\n"
    script += 'mount -t tmpfs -o mode=1777 lambda-tmp "$tree/tmp"\n'
    pairs = [f"{k}={v}" for k, v in env.items()]
    # unshare --root --wd: chroot and chdir, by a program of this machine.
    if emulated:
        script += 'exec env -i "$@"\n'
        # unshare by its path: env -i leaves no PATH to find it by.
        return [*NAMESPACES, "bash", "-c", script, "invoke", tree, *pairs, shutil.which("unshare"), "--root", tree,
                "--wd", "/var/task", QEMU, *argv]
    script += 'exec unshare --root "$tree" --wd /var/task /usr/bin/env -i "$@"\n'
    return [*NAMESPACES, "bash", "-c", script, "invoke", tree, *pairs, *argv]


# A private mount namespace, and a PID namespace whose first process is the
# function's: when it ends (or unshare, killed, takes it along) the kernel
# ends every process the function started, a daemon that left its process group too.
NAMESPACES = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--"]


def on_host(task, argv, env, runtime_dir=None):
    """argv run on this machine as Lambda runs a function: the zip's files at
    /var/task, its working directory, and a private /tmp (Lambda's only
    writable place), by mounts in a private mount namespace over a fresh
    /var (Lambda's /var holds the task and the runtime alone), in its own PID
    namespace (NAMESPACES)."""
    script = ("set -e; task=$1; shift\n"
              "mount --make-rprivate /\n"
              "mount -t tmpfs -o mode=755 lambda-var /var\n"
              "mkdir /var/task /var/runtime /var/tmp\n"
              'mount --bind "$task" /var/task\n'
              + ('mount --bind "$runtime" /var/runtime\n' if runtime_dir else "")
              + "mount -t tmpfs -o mode=1777 lambda-tmp /tmp\n"
              "cd /var/task\n"
              'exec env -i "$@"\n')
    script = script.replace("set -e; task=$1; shift\n", "set -e; task=$1; runtime=$2; shift 2\n")
    return [*NAMESPACES, "bash", "-c", script, "invoke", task, runtime_dir or "",
            *(f"{k}={v}" for k, v in env.items()), *argv]


def shquote(text):
    return "'" + text.replace("'", "'\\''") + "'"


class Function:
    """The function's process: in its own session (a process group of its
    own) and namespaces; stop() ends the whole group, on every way out."""

    def __init__(self, argv):
        self.argv = argv
        self.process = None

    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        self.stop()
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr,
                                        start_new_session=True)

    def stop(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        self.process = None


def error_text(result):
    """`TYPE: MESSAGE` of an error result, in one line."""
    try:
        error = json.loads(result["body"])
        text = f"{error.get('errorType') or result.get('error_type')}: {error.get('errorMessage')}"
    except (ValueError, AttributeError):
        text = f"{result.get('error_type')}: {result['body'].decode(errors='replace')}"
    return " ".join(text.split())


# The content type of a streamed answer that starts with an HTTP prelude
# (lambda_runtime's StreamResponse sends it).
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"


def report(result):
    """Prints one event's answer as one line on stdout (its error document for
    an error, as Lambda's Invoke answers) and an error's reason on stderr; True
    for an error."""
    body = result["body"]
    if result["kind"] == "response":
        if result.get("content_type") == HTTP_INTEGRATION and b"\0" * 8 in body:
            # An HTTP prelude (status, headers; what a function URL answers with), 8 NULs, the body.
            prelude, body = body.split(b"\0" * 8, 1)
            say(f"streamed answer; its HTTP prelude: {prelude.decode(errors='replace')}")
        # One answer a line: a streamed answer that ends its last line is not given another.
        sys.stdout.buffer.write(body if body.endswith(b"\n") and result.get("streamed") else body + b"\n")
        sys.stdout.flush()
        return False
    if result.get("partial"):
        say(f"the function streamed {len(result['partial'])} bytes before its error")
    if result["kind"] == "init-error":
        what = "failed before its first event (Runtime.InitError)"
        document = {"errorType": "Runtime.InitError", "errorMessage": error_text(result)}
        body = json.dumps(document).encode()
    elif result.get("origin") == "lambda":
        what = "ended while it initialised" if result.get("init") else "failed"
    else:
        what = "returned an error"
    sys.stdout.buffer.write(body + b"\n")
    sys.stdout.flush()
    print(f"error: the function {what}: {error_text(result)}", file=sys.stderr)
    return True


# Lambda's errors after which the execution environment is not used again.
ENDS_THE_RUNTIME = ("Runtime.ExitError", "Sandbox.Timedout")


def invoke_program(task, tree, events, config, emulated=False, command=("/var/task/bootstrap",),
                   runtime_dir=None, runtime_own=None):
    """Each event to one warm runtime, as Lambda invokes a function in a row;
    a runtime that ended (exit, timeout, init error) is started anew for the
    next event, as Lambda starts a new execution environment. 1 if any failed.
    command: the runtime's process (the zip's bootstrap, or a Python
    runtime's `python3.X -m awslambdaric HANDLER`); runtime_dir: mounted at
    /var/runtime; runtime_own: the runtime's own variables."""
    failed = False
    with RuntimeApi(config=config) as api:
        env = lambda_environment(api, runtime_own=runtime_own)
        mounts = [(task, "/var/task")] + ([(runtime_dir, "/var/runtime")] if runtime_dir else [])
        if tree:
            argv = in_tree(tree, mounts, list(command), env, emulated)
        else:
            argv = on_host(task, list(command), env, runtime_dir)
        function = Function(argv)
        try:
            for event in events:
                if function.process is not None and not function.running():
                    say(f"the runtime ended ({exit_status(function.process.returncode)}) between events: "
                        "a new one starts, as Lambda starts a new execution environment")
                    function.stop()
                if function.process is None:
                    api.new_runtime()
                    function.start()
                result = api.answer(api.add(event), function.process)
                if result["kind"] == "init-error" or result["error_type"] in ENDS_THE_RUNTIME:
                    function.stop()
                failed |= report(result)
        finally:
            function.stop()
    return 1 if failed else 0


def invoke_module(root, task, tree, handler, events, config):
    runtime_dir = tempfile.mkdtemp(prefix="lambda-runtime.")
    try:
        with open(os.path.join(root, "scripts/lib/invoke_python.py")) as source, \
                open(os.path.join(runtime_dir, "invoke.py"), "w") as copy:
            copy.write(source.read())
        # Lambda's variables, and the python3.6 runtime's own search paths.
        env = lambda_environment(None, config, {"_HANDLER": handler, "PATH": PYTHON36_PATH,
                                                "LD_LIBRARY_PATH": PYTHON36_LD_LIBRARY_PATH,
                                                "PYTHONPATH": "/var/runtime"})
        argv = in_tree(tree, [(task, "/var/task"), (runtime_dir, "/var/runtime")],
                       ["/usr/bin/python3.6", "/var/runtime/invoke.py", "/var/task", handler], env)
        # python3-minimal has no json module: the invoker reads and writes Python literals.
        function = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr,
                                    text=True, start_new_session=True)
        try:
            output, _ = function.communicate(repr([json.loads(event) for event in events]), timeout=config.timeout)
        except subprocess.TimeoutExpired:
            fail(f"Task timed out after {config.timeout:.2f} seconds (Sandbox.Timedout)", 1)
        finally:
            try:
                os.killpg(function.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            function.wait()
    finally:
        subprocess.run(["rm", "-rf", runtime_dir])
    if function.returncode != 0:
        fail(f"Python 3.6 could not import or call {handler} (its error is above)", 1)
    failed = False
    for answer in ast.literal_eval(output.strip().splitlines()[-1]):
        if "ok" in answer:
            print(json.dumps(answer["ok"]))
        else:
            failed = True
            print(json.dumps({"errorType": answer["error"], "errorMessage": answer["message"]}))
            print(f"error: the handler raised {answer['error']}: {' '.join(answer['message'].split())}",
                  file=sys.stderr)
    return 1 if failed else 0


def cache_dir():
    """scripts/lib/common.sh's CACHE: downloads kept outside the checkout."""
    return os.environ.get("LAMBDA_TOOLCHAIN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lambda-toolchain")


def runtime_client(root, python, arch):
    """awslambdaric and what it needs, for CPython `python` on `arch`
    (Lambda's name), installed once from the pinned wheels into the cache."""
    machine = "aarch64" if arch == "arm64" else "x86_64"
    site = os.path.join(cache_dir(), f"awslambdaric-cp{python.replace('.', '')}-{machine}")
    if os.path.exists(os.path.join(site, "awslambdaric", "__main__.py")):
        return site
    say(f"installing AWS's runtime client (awslambdaric, pinned wheels) for CPython {python} on {arch} into {site}")
    stage = f"{site}.tmp.{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    platforms = [arg for minor in range(34, 4, -1) for arg in ("--platform", f"manylinux_2_{minor}_{machine}")]
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             "--no-compile", "--only-binary=:all:", "--implementation", "cp", "--python-version",
                             python, *platforms, "--platform", f"manylinux2014_{machine}", "--require-hashes",
                             "-r", os.path.join(root, RUNTIME_CLIENT), "--target", stage],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        shutil.rmtree(stage, ignore_errors=True)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        fail(f"installing awslambdaric for CPython {python} failed: {lines[-1] if lines else 'pip failed'}")
    shutil.rmtree(site, ignore_errors=True)
    os.rename(stage, site)
    return site


def pyo3_module(names):
    """The Python version, architecture and module name of a PyO3 zip's
    module (NAME.cpython-3XY-ARCH-linux-gnu.so, at the root or in its
    package NAME/), or None; an abi3 module gives no version."""
    for name in names:
        match = re.fullmatch(r"(?:([A-Za-z_]\w*)/)?([A-Za-z_]\w*)\.(?:cpython-3(\d+)-(x86_64|aarch64)-linux-gnu|abi3)\.so",
                             name)
        if match and (match.group(1) in (None, match.group(2))):
            version = f"3.{match.group(3)}" if match.group(3) else None
            arch = {"x86_64": "x86_64", "aarch64": "arm64"}.get(match.group(4))
            return version, arch, match.group(2)
    return None


def invoke_python(root, zip_path, task, runtime, arch, handler, events, config):
    """A python3.9+ function as Lambda's Python runtime runs it: AWS's own
    runtime client (awslambdaric) imports the handler from /var/task and
    serves the events from the Runtime API, under CPython of the runtime's
    version in a tree (arm64 under qemu), or this machine's Python 3.11."""
    version = runtime[len("python"):]
    place = PYTHON_PLACES.get((version, arch))
    if place is None:
        fail(f"no CPython {version} for {arch} here to run {zip_path} with (the trees: "
             f"{', '.join(f'{v} on {a}' for v, a in PYTHON_PLACES)}): the audit above is the proof it loads")
    suite, name, glibc = place
    interpreter = f"/usr/bin/python{version}"
    if suite:
        tree = tree_path(root, suite, "arm64" if arch == "arm64" else None)
        for directory in ("var/task", "var/runtime"):
            os.makedirs(os.path.join(tree, directory), exist_ok=True)
    else:
        tree = None
        if not os.path.exists(os.path.join("/usr/lib", f"python{version}", "json", "__init__.py")):
            fail(f"{interpreter} with its standard library is missing: apt-get install python{version}")
    say(f"invoking with awslambdaric under {name}'s CPython {version} (glibc {'.'.join(map(str, glibc))}), handler {handler}")
    site = runtime_client(root, version, arch)
    # The Python runtimes' own variables (AWS's Python images): the runtime's directory on sys.path.
    own = {"PYTHONPATH": "/var/runtime", "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"}
    return invoke_program(task, tree, events, config, arch == "arm64",
                          command=(interpreter, "-m", "awslambdaric", handler), runtime_dir=site, runtime_own=own)


class BadEvent(Exception):
    pass


def refuse_constant(name):
    raise BadEvent(f"{name} is not JSON")


NOT_JSON = "the event is not JSON (Lambda invokes a function with a JSON document)"


def checked(raw, where="the event"):
    """The event's bytes, unchanged, once they are what Lambda's Invoke takes:
    at most 6 MB of JSON (duplicate keys are JSON: the function's own parser
    judges them, as on Lambda; NaN and Infinity are not)."""
    limited(raw, where)
    try:
        json.loads(raw, parse_constant=refuse_constant)
    except RecursionError:
        raise BadEvent(f"{where} nests deeper than invoke-lambda can check (about {sys.getrecursionlimit()} "
                       "levels; serde_json itself refuses over 128)") from None
    except (BadEvent, ValueError):
        raise BadEvent(NOT_JSON if where == "the event" else f"{where} is not JSON") from None
    return raw


def limited(raw, where):
    if len(raw) > MAX_REQUEST:
        raise BadEvent(f"{where} is over 6 MB: Lambda refuses a request over {MAX_REQUEST} bytes "
                       "(RequestEntityTooLargeException)")
    return raw


def read_limited(stream, where):
    """At most one byte more than an event may have: a bigger one is not read whole."""
    return limited(stream.read(MAX_REQUEST + 1), where)


def stdin_events(stream):
    """The events on standard input: one JSON document (which may span lines),
    or JSON Lines (a document per line). The first is read before anything runs;
    the rest as they come."""
    first = stream.readline(MAX_REQUEST + 2)
    if not first.strip():
        rest = read_limited(stream, "the event") if first else b""
        if not (first + rest).strip():
            raise BadEvent("no event on standard input")
        return [checked(first + rest)]
    try:
        event = checked(first.rstrip(b"\r\n"))
    except BadEvent:
        # Not a line of JSON: the whole input is one document.
        rest = read_limited(stream, "the event")
        return [checked(first + rest)]

    def lines():
        yield event
        number = 1
        for line in iter(lambda: stream.readline(MAX_REQUEST + 2), b""):
            number += 1
            if line.strip():
                yield checked(line.rstrip(b"\r\n"), f"the event on line {number} of standard input")
    return lines()


def read_events(paths):
    """The events of the --event options, in order ('-': standard input)."""
    if paths.count("-") > 1:
        fail("--event - (standard input) can be given once")
    events = []
    for path in paths:
        if path == "-":
            if sys.stdin.isatty():
                fail("give the event as JSON on standard input or with --event FILE")
            events.append(stdin_events(sys.stdin.buffer))
            continue
        try:
            with open(path, "rb") as f:
                events.append([checked(read_limited(f, path), path)])
        except OSError as e:
            fail(f"{path}: {e.strerror}")
    if len(events) == 1:
        return events[0]
    return (event for group in events for event in group)


def environment_pair(text):
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key):
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (a key of letters, digits and _)")
    if key in RESERVED:
        raise argparse.ArgumentTypeError(f"{key} is reserved: Lambda does not let a function set it")
    return key, value


def positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not above 0")
    return value


def memory(text):
    value = positive(text)
    if not 128 <= value <= 10240:
        raise argparse.ArgumentTypeError(f"{value} MB is outside Lambda's 128 to 10240 MB")
    return value


# Variables Lambda reserves ("Reserved environment variables"): a function's
# configuration cannot set them.
RESERVED = {"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
            "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}


class Parser(argparse.ArgumentParser):
    def error(self, message):
        fail(f"{message} (scripts/invoke-lambda --help)")


def main():
    root, audit = sys.argv[1:3]
    parser = Parser(prog="scripts/invoke-lambda")
    parser.add_argument("zip")
    parser.add_argument("--runtime")
    parser.add_argument("--event", action="append")
    parser.add_argument("--handler")
    parser.add_argument("--timeout", type=positive, default=60)
    parser.add_argument("--memory", type=memory, default=128)
    parser.add_argument("--env", type=environment_pair, action="append", default=[])
    args = parser.parse_args(sys.argv[3:])
    if args.timeout > 900:
        fail(f"--timeout {args.timeout}: Lambda's longest is 900 seconds")
    try:
        with zipfile.ZipFile(args.zip) as archive:
            names = archive.namelist()
            # The architecture is the program's own (its ELF header), as Lambda's is the function's setting.
            arch = elf_arch(archive.open("bootstrap").read(20)) if "bootstrap" in names else None
            pyo3 = pyo3_module(names)
            if pyo3 and not arch:
                arch = pyo3[1] or elf_arch(archive.open(next(n for n in names if n.endswith(".abi3.so"))).read(20))
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as e:
        fail(f"{args.zip}: not a readable zip ({' '.join(str(e).split())})")
    except NotImplementedError as e:
        # Lambda's unzip knows stored and deflated members only.
        fail(f"{args.zip}: its bootstrap is stored in a way Lambda does not read ({e})")
    except RuntimeError as e:
        fail(f"{args.zip}: its bootstrap is not readable ({' '.join(str(e).split())}; an encrypted member?)")
    modules = [n for n in names if re.fullmatch(r"lib[^/]*\.so", n)]
    # The runtime: given, or what the build wrote beside the zip (OUT/runtime),
    # or what the zip's files say.
    beside = os.path.join(os.path.dirname(os.path.abspath(args.zip)), "runtime")
    written = open(beside).read().strip() if os.path.basename(args.zip) == "lambda.zip" and os.path.isfile(beside) else None
    if args.runtime or written:
        runtime = args.runtime or written
    elif "bootstrap" in names:
        runtime = "provided.al2023"
    elif pyo3:
        runtime = f"python{pyo3[0] or '3.12'}"
    else:
        runtime = "python3.6"
    facts = facts_of(root, runtime, arch)
    glibc, profile = facts["glibc"], facts["profile"]
    try:
        events = read_events(args.event or ["-"])
    except BadEvent as e:
        fail(str(e))

    arch_option = ["--arch", arch] if arch == "arm64" else []
    if arch_option and "--arch" not in subprocess.run([audit, "check", "--help"], stdout=subprocess.PIPE,
                                                      stderr=subprocess.STDOUT, text=True).stdout:
        fail(f"{audit} has no --arch option, which judging an arm64 zip needs: use this checkout's lambda-audit")
    say(f"lambda-audit check {' '.join(arch_option + ['--profile', profile, args.zip])}")
    if subprocess.run([audit, "check", *arch_option, "--profile", profile, args.zip], stdout=sys.stderr).returncode != 0:
        fail(f"the audit says {args.zip} does not load in {runtime} (above): not invoked", 1)

    tree, emulated = None, arch == "arm64"
    # A Python runtime's place is its CPython's (invoke_python); the others', their glibc's.
    if facts["artifact"] != "pyo3-module":
        want = ".".join(map(str, glibc))
        emulated = arch == "arm64"
        if emulated:
            suite = choose_arm64_tree(runtime, glibc)
            info = ARM64_TREES[suite]
            say(f"invoking in {info['name']} ({suite}: glibc {'.'.join(map(str, info['glibc']))}, the closest arm64 tree to "
                f"{runtime}'s {want}; its own loader and libraries, under qemu-user)")
            if os.geteuid() != 0:
                fail("running in a tree needs root (chroot and a private mount of /var/task)")
            tree = tree_path(root, suite, "arm64")
            os.makedirs(os.path.join(tree, "var/task"), exist_ok=True)
        elif (suite := choose_place(runtime, glibc)):
            info = TREES[suite]
            say(f"invoking in {info['name']} ({suite}: glibc {'.'.join(map(str, info['glibc']))}, the closest tree to "
                f"{runtime}'s {want}; its own loader and libraries)")
            if os.geteuid() != 0:
                fail("running in a tree needs root (chroot and a private mount of /var/task)")
            tree = tree_path(root, suite)
            os.makedirs(os.path.join(tree, "var/task"), exist_ok=True)
            os.makedirs(os.path.join(tree, "var/runtime"), exist_ok=True)
        else:
            tree = None
            say(f"invoking on this machine (glibc {'.'.join(map(str, host_glibc()))}; no tree here has a glibc between "
                f"{runtime}'s {want} and this machine's: a need newer than {want} would not fail here, the audit above is "
                f"what proves it)")
            if os.geteuid() != 0:
                fail("running as Lambda does on this machine needs root (private mount and PID namespaces: "
                     "the zip at /var/task, a private /tmp)")
    config = Config(memory=args.memory, timeout=args.timeout, runtime=runtime, env=dict(args.env))
    task = tempfile.mkdtemp(prefix="lambda-task.")
    try:
        # As Lambda unpacks a function: the zip's files and modes.
        if subprocess.run(["unzip", "-q", "-o", args.zip, "-d", task], stdout=sys.stderr).returncode != 0:
            fail(f"{args.zip}: unzip failed (above)")
        if facts["artifact"] == "pyo3-module":
            beside = os.path.join(os.path.dirname(os.path.abspath(args.zip)), "handler")
            handler = args.handler or (open(beside).read().strip() if os.path.isfile(beside) else None) \
                or (pyo3 and f"{pyo3[2]}.handler")
            if not handler:
                fail(f"{args.zip} holds no PyO3 module: give --handler MODULE.FUNCTION")
            return invoke_python(root, args.zip, task, runtime, arch or "x86_64", handler, events, config)
        if runtime == "python3.6":
            if not modules and not args.handler:
                fail(f"{args.zip} holds no lib*.so module at its root: give --handler MODULE.FUNCTION")
            handler = args.handler or modules[0][:-3] + ".handler"
            say(f"handler {handler}")
            return invoke_module(root, task, tree, handler, list(events), config)
        if "bootstrap" not in names:
            fail(f"{args.zip} has no bootstrap at its root, which {runtime} runs")
        return invoke_program(task, tree, events, config, emulated)
    except BadEvent as e:
        fail(str(e))
    finally:
        subprocess.run(["rm", "-rf", task])


class Stopped(BaseException):
    """A signal that ends invoke-lambda: the function and its files go first."""


def stopped(signum, frame):
    raise Stopped(signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGHUP, stopped)
    try:
        code = main()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        code = 130
    except Stopped as e:
        print(f"error: stopped by {signal.Signals(e.args[0]).name}", file=sys.stderr)
        code = 128 + e.args[0]
    except BrokenPipeError:
        # Whoever read the answers went away: nothing left to say it to.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    except RecursionError:
        print("error: the input nests deeper than invoke-lambda can follow", file=sys.stderr)
        code = 2
    except Exception as e:  # a reason in one line, never a traceback
        print(f"error: invoke-lambda failed: {type(e).__name__}: {' '.join(str(e).split())}", file=sys.stderr)
        code = 2
    sys.exit(code)
