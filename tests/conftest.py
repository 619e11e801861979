"""Shared fixtures of the end-to-end tests (run by scripts/test after
scripts/build-lambda-zip): the auditor, the ELF fixtures, the bullseye root
filesystem and a runner that imports modules inside it with its own loader."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Runtime API server and the python3.6 invoker are scripts/invoke-lambda's.
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
from pinned import NotThePinnedFile, pinned_file  # noqa: E402
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
# The Lambda python3.6 runtime's LD_LIBRARY_PATH (facts §1.3): system directories first.
LAMBDA_LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib"
AL1 = "amazonlinux-2017.03-python3.6"
# Downloads are cached outside the checkout (scripts/lib/common.sh's CACHE),
# so later runs and sessions reuse them.
CACHE = Path(os.environ.get("LAMBDA_TOOLCHAIN_CACHE") or Path.home() / ".cache" / "lambda-toolchain")


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run([str(c) for c in cmd], **kw)


def build_tools_path():
    """The directories of every tool scripts/pipeline looks for before it
    builds (zig and cargo-zigbuild, cargo-auditable), as a PATH prefix: what
    scripts/build-lambda-zip puts on PATH for it."""
    dirs = []
    for args in ([], ["--crate", "cargo-auditable"]):
        result = run(["bash", ROOT / "scripts/bootstrap-tools", *args], timeout=3600)
        assert result.returncode == 0, result.stderr
        dirs.append(result.stdout.strip().splitlines()[-1])
    return ":".join(dirs)


def pinned_download(url, digest, cache_dir, suffix, algorithm="sha256"):
    """The file at url, downloaded once into CACHE/cache_dir (named by its
    digest, with suffix) and checked against that digest (hex, of
    `algorithm`) every time (scripts/lib/pinned.py)."""
    try:
        return Path(pinned_file(url, digest, CACHE / cache_dir, digest + suffix, algorithm))
    except NotThePinnedFile as e:
        raise AssertionError(f"not the pinned file: {e}") from None


def pinned_npm(url, integrity):
    """An npm tarball pinned by its registry `integrity` (sha512-BASE64)."""
    algorithm, digest = integrity.split("-", 1)
    return pinned_download(url, base64.b64decode(digest).hex(), "npm", ".tgz", algorithm)


def pinned_wheel(wheel, sha256, pip_args, download_dir):
    """The wheel file named `wheel`, fetched once by `pip download PIP_ARGS`
    (binary only, no dependencies) into CACHE/wheels and checked against its
    sha256; `download_dir` is an empty directory for pip."""
    cache = CACHE / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / wheel
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        result = run(["python3", "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                      "--only-binary=:all:", "-d", download_dir, *pip_args], timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        fetched = download_dir / wheel
        assert fetched.exists(), f"pip chose another wheel: {os.listdir(download_dir)}"
        assert hashlib.sha256(fetched.read_bytes()).hexdigest() == sha256, f"{wheel}: not the pinned file"
        shutil.move(fetched, path)
    return path


@pytest.fixture(scope="session")
def audit_bin():
    path = Path(os.environ.get("LAMBDA_AUDIT", TARGET / "release" / "lambda-audit"))
    assert path.is_file(), f"{path} is missing: run scripts/build-lambda-zip first"
    return path


@pytest.fixture(scope="session")
def audit(audit_bin):
    def call(*args):
        return run([audit_bin, *args])

    return call


@pytest.fixture(scope="session")
def check_json(audit):
    """`check --json` of one artifact: (exit code, its report)."""

    def call(profile, artifact, bundle_dir=None):
        args = ["check", "--json", "--profile", profile]
        if bundle_dir:
            args += ["--bundle-dir", bundle_dir]
        result = audit(*args, artifact)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)["artifacts"][0]

    return call


@pytest.fixture(scope="session")
def built_openssl():
    """What `lambda-audit check` must say a zip for RUNTIME carries when it
    links the build's OpenSSL: `OPENSSL_VERSION_TEXT` of the opensslv.h in the
    OPENSSL_INCLUDE_DIR that scripts/build-openssl gives for that runtime (the
    one scripts/build-lambda-zip linked: LAMBDA_OPENSSL_SOURCE, and where the
    OpenSSL is the runtime's, LAMBDA_RUNTIME, choose it for both)."""

    def call(runtime):
        result = run([ROOT / "scripts/build-openssl", "--print-env"], env={**os.environ, "LAMBDA_RUNTIME": runtime})
        assert result.returncode == 0, result.stderr
        include = dict(line.split("=", 1) for line in result.stdout.split())["OPENSSL_INCLUDE_DIR"]
        header = (Path(include) / "openssl" / "opensslv.h").read_text()
        texts = re.findall(r'define\s+OPENSSL_VERSION_TEXT\s+"([^"]+)"', header)
        # 1.0.2's header chooses between a -fips text and the plain one; the recipe builds no FIPS module.
        (text,) = [t for t in texts if "-fips" not in t]
        return {"static": [{"version": text.split()[1], "text": text}], "dynamic": []}

    return call


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures")
    result = run(["bash", ROOT / "tests/fixtures/build.sh", out])
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def lambda_package():
    package = TARGET / "lambda" / "package"
    assert (package / "liblambda.so").is_file(), "run scripts/build-lambda-zip first"
    return package


@pytest.fixture(scope="session")
def lambda_zip():
    path = TARGET / "lambda" / "lambda.zip"
    assert path.is_file(), "run scripts/build-lambda-zip first"
    return path


class Rootfs:
    """A Debian tree: files go to /var/task, python3 runs under chroot (an
    arm64 tree's under its qemu-user, `emulated`)."""

    def __init__(self, path: Path, emulated=False):
        self.path = path
        self.task = path / "var" / "task"
        self.emulated = emulated

    def clear_task(self):
        shutil.rmtree(self.task, ignore_errors=True)
        self.task.mkdir(parents=True)

    def put(self, source, runtime_path):
        dest = self.path / str(runtime_path).lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
        return dest

    def python(self, code, ld_library_path, env=None):
        environment = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": ld_library_path, **(env or {})}
        if self.emulated:
            # qemu-user runs one arm64 program (no binfmt_misc: not the tree's
            # env), and gives the environment to it alone (-E), not to the
            # host's chroot.
            argv = ["env", "-i", shutil.which("chroot"), self.path, QEMU]
            argv += [arg for k, v in environment.items() for arg in ("-E", f"{k}={v}")]
        else:
            argv = ["chroot", self.path, "/usr/bin/env", "-i"]
            argv += [f"{k}={v}" for k, v in environment.items()]
        argv += ["/usr/bin/python3", "-c", code]
        return run(argv, timeout=120)

    def import_module(self, name, ld_library_path):
        """Imports /var/task/<name> as the Lambda bootstrap does (task root first on sys.path)."""
        code = f"import sys; sys.path.insert(0, '/var/task'); import {name}; print('imported')"
        return self.python(code, ld_library_path)


@pytest.fixture(scope="session")
def rootfs():
    path = os.environ.get("LAMBDA_ROOTFS")
    if not path:
        result = run([ROOT / "scripts/debian-rootfs", "bullseye"])
        assert result.returncode == 0, result.stderr
        path = result.stdout.strip().splitlines()[-1]
    fs = Rootfs(Path(path))
    assert (fs.path / "usr/bin/python3").exists()
    return fs


@pytest.fixture(scope="session")
def host_built_module():
    """The same crate built by the host toolchain against its glibc (2.36): the negative control."""
    target = TARGET / "host-control"
    env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
    # The same static OpenSSL as the real build: only the toolchain (and so glibc) differs.
    openssl = run([ROOT / "scripts/build-openssl", "--print-env"], env=env)
    assert openssl.returncode == 0, openssl.stderr
    env.update(line.split("=", 1) for line in openssl.stdout.split())
    result = run(["cargo", "build", "--locked", "--release", "-p", "lambda"], cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return target / "release" / "liblambda.so"


# The tree's own copy of this machine's qemu-user (scripts/debian-rootfs puts it there).
QEMU = "/usr/bin/qemu-aarch64-static"


@pytest.fixture(scope="session")
def arm64_tree():
    """scripts/debian-rootfs --arch arm64 SUITE, made once per session and suite."""
    trees = {}

    def tree(suite):
        if suite not in trees:
            result = run([ROOT / "scripts/debian-rootfs", "--arch", "arm64", suite], timeout=1800)
            assert result.returncode == 0, result.stderr[-3000:]
            trees[suite] = result.stdout.strip().splitlines()[-1]
            path = trees[suite]
            assert os.path.exists(f"{path}/lib/ld-linux-aarch64.so.1") and os.access(f"{path}{QEMU}", os.X_OK), path
        return trees[suite]

    return tree


def emulated(tree, program, env):
    """argv running `program` (a path in the tree) under the tree's qemu in a
    chroot, with exactly `env` (cleared outside: the tree's env is arm64)."""
    return ["env", "-i", *(f"{k}={v}" for k, v in env.items()), shutil.which("chroot"), tree, QEMU, program]

# The oracle of whether an interpreter loads a module: a real import, run
# with the interpreter given (in a chroot or not). (No json: bullseye's python3-minimal has no json module.)
IMPORT = """
import sys
directory, name, path = sys.argv[1:]
sys.path.insert(0, directory)
try:
    __import__(name)
    outcome, loaded = "imported", True
except ModuleNotFoundError as e:
    # The importer found no file it accepts for the name (the suffix rule).
    outcome, loaded = f"ModuleNotFoundError: {e}", e.name != name
except ImportError as e:
    # The dynamic load failed (dlopen's error, or no PyInit_): CPython sets
    # the module's path on exactly these errors.
    outcome, loaded = f"ImportError: {e}", e.path != path
except BaseException as e:
    # Loaded and initialised; it failed later in Python code.
    outcome, loaded = f"{type(e).__name__}: {e}", True
print(loaded, outcome.replace(chr(10), " "), sep="\t")
"""


def real_import(argv_prefix, directory, name, path):
    result = run([*argv_prefix, "-c", IMPORT, directory, name, path], timeout=120)
    assert result.returncode == 0, result.stderr
    loaded, outcome = result.stdout.rstrip("\n").split("\t", 1)
    return {"loaded": loaded == "True", "outcome": outcome}


def module_name(module):
    return module.name.split(".")[0]


def assert_greets(answer, name, request_id, runtime):
    """bootstrap/'s answer to {"name": NAME}: the greeting, the name's SHA-256
    as the static OpenSSL computed it, and that OpenSSL's version, the one
    toolchain/target.json gives the runtime (3.5.5: not whatever libssl the
    tree or this machine has)."""
    from runtime_facts import runtime_facts

    version = runtime_facts(runtime)["openssl"]
    assert answer.pop("openssl", "").startswith(f"OpenSSL {version} "), answer
    assert answer == {
        "message": f"Hello, {name}!",
        "request_id": request_id,
        "name_sha256": hashlib.sha256(name.encode()).hexdigest(),
    }

