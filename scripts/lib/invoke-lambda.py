"""The body of scripts/invoke-lambda (see there)."""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runtime_api import RuntimeApi, lambda_environment  # noqa: E402
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
# The emulator inside an arm64 tree (scripts/debian-rootfs puts it there).
QEMU = "/usr/bin/qemu-aarch64-static"
# ELF e_machine values (elf.h) by Lambda's name of the architecture.
ELF_MACHINES = {62: "x86_64", 183: "arm64"}
# The python3.6 runtime's LD_LIBRARY_PATH (docs/runtime-facts.md §1.3).
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
    """argv run inside `tree` by chroot, with its own loader, after private bind
    mounts (source dir -> path in the tree) that nothing outside sees.
    emulated: an arm64 tree, whose programs the tree's qemu-user runs (its own
    env would be an arm64 program too, so the environment is cleared outside)."""
    script = "set -e; tree=$1; shift\n"
    for source, target in mounts:
        script += f"mount --bind {shquote(source)} \"$tree\"{shquote(target)}\n"
    pairs = [f"{k}={v}" for k, v in env.items()]
    if emulated:
        script += 'exec env -i "$@"\n'
        # chroot by its path: env -i leaves no PATH to find it by.
        chroot = shutil.which("chroot") or "/usr/sbin/chroot"
        return ["unshare", "--mount", "--", "bash", "-c", script, "invoke", tree, *pairs, chroot, tree, QEMU, *argv]
    script += 'exec chroot "$tree" /usr/bin/env -i "$@"\n'
    return ["unshare", "--mount", "--", "bash", "-c", script, "invoke", tree, *pairs, *argv]


def shquote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def invoke_program(task, tree, event, timeout, emulated=False):
    with RuntimeApi([event]) as api:
        env = lambda_environment(api)
        if tree:
            argv = in_tree(tree, [(task, "/var/task")], ["/var/task/bootstrap"], env, emulated)
        else:
            argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), os.path.join(task, "bootstrap")]
        process = subprocess.Popen(argv, stdout=sys.stderr, stderr=sys.stderr)
        try:
            results = api.wait_for(1, timeout)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    if not results:
        fail(f"the function gave no answer within {timeout} s (its output is above)", 1)
    result = results[0]
    body = result["body"].decode(errors="replace")
    if result["kind"] == "response":
        print(body)
        return 0
    try:
        error = json.loads(body)
        text = f"{error.get('errorType')}: {error.get('errorMessage')}"
    except ValueError:
        text = body
    what = "failed before its first event (init error)" if result["kind"] == "init-error" else "returned an error"
    print(f"error: the function {what}: {' '.join(text.split())}", file=sys.stderr)
    return 1


def invoke_module(root, task, tree, handler, event, timeout):
    runtime_dir = tempfile.mkdtemp(prefix="lambda-runtime.")
    try:
        with open(os.path.join(root, "scripts/lib/invoke_python.py")) as source, \
                open(os.path.join(runtime_dir, "invoke.py"), "w") as copy:
            copy.write(source.read())
        env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": PYTHON36_LD_LIBRARY_PATH}
        argv = in_tree(tree, [(task, "/var/task"), (runtime_dir, "/var/runtime")],
                       ["/usr/bin/python3.6", "/var/runtime/invoke.py", "/var/task", handler], env)
        # python3-minimal has no json module: the invoker reads and writes Python literals.
        result = subprocess.run(argv, input=repr([event]), stdout=subprocess.PIPE, stderr=sys.stderr,
                                text=True, timeout=timeout)
    finally:
        subprocess.run(["rm", "-rf", runtime_dir])
    if result.returncode != 0:
        fail(f"Python 3.6 could not import or call {handler} (its error is above)", 1)
    (answer,) = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    if "ok" in answer:
        print(json.dumps(answer["ok"]))
        return 0
    print(f"error: the handler raised {answer['error']}: {' '.join(answer['message'].split())}", file=sys.stderr)
    return 1


def main():
    root, audit = sys.argv[1:3]
    parser = argparse.ArgumentParser(prog="scripts/invoke-lambda")
    parser.add_argument("zip")
    parser.add_argument("--runtime")
    parser.add_argument("--event", default="-")
    parser.add_argument("--handler")
    parser.add_argument("--timeout", type=int, default=60)
    args = parser.parse_args(sys.argv[3:])
    try:
        with zipfile.ZipFile(args.zip) as archive:
            names = archive.namelist()
            # The architecture is the program's own (its ELF header), as Lambda's is the function's setting.
            arch = elf_arch(archive.open("bootstrap").read(20)) if "bootstrap" in names else None
    except (OSError, zipfile.BadZipFile) as e:
        fail(f"{args.zip}: not a readable zip ({e})")
    modules = [n for n in names if re.fullmatch(r"lib[^/]*\.so", n)]
    runtime = args.runtime or ("provided.al2023" if "bootstrap" in names else "python3.6")
    facts = facts_of(root, runtime, arch)
    glibc, profile = facts["glibc"], facts["profile"]
    if args.event == "-":
        if sys.stdin.isatty():
            fail("give the event as JSON on standard input or with --event FILE")
        raw = sys.stdin.buffer.read()
    else:
        try:
            raw = open(args.event, "rb").read()
        except OSError as e:
            fail(f"{args.event}: {e.strerror}")
    try:
        event = json.loads(raw)
    except ValueError:
        fail("the event is not JSON (Lambda invokes a function with a JSON document)")

    arch_option = ["--arch", arch] if arch == "arm64" else []
    if arch_option and "--arch" not in subprocess.run([audit, "check", "--help"], stdout=subprocess.PIPE,
                                                      stderr=subprocess.STDOUT, text=True).stdout:
        fail(f"{audit} has no --arch option, which judging an arm64 zip needs: use this checkout's lambda-audit")
    say(f"lambda-audit check {' '.join(arch_option + ['--profile', profile, args.zip])}")
    if subprocess.run([audit, "check", *arch_option, "--profile", profile, args.zip], stdout=sys.stderr).returncode != 0:
        fail(f"the audit says {args.zip} does not load in {runtime} (above): not invoked", 1)

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
    task = tempfile.mkdtemp(prefix="lambda-task.")
    try:
        # As Lambda unpacks a function: the zip's files and modes.
        if subprocess.run(["unzip", "-q", "-o", args.zip, "-d", task]).returncode != 0:
            fail(f"{args.zip}: unzip failed (above)")
        if runtime == "python3.6":
            if not modules and not args.handler:
                fail(f"{args.zip} holds no lib*.so module at its root: give --handler MODULE.FUNCTION")
            handler = args.handler or modules[0][:-3] + ".handler"
            say(f"handler {handler}")
            return invoke_module(root, task, tree, handler, event, args.timeout)
        if "bootstrap" not in names:
            fail(f"{args.zip} has no bootstrap at its root, which {runtime} runs")
        return invoke_program(task, tree, json.dumps(event).encode(), args.timeout, emulated)
    finally:
        subprocess.run(["rm", "-rf", task])


if __name__ == "__main__":
    sys.exit(main())
