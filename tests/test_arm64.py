"""arm64 (Graviton) builds: the provided.al2 and provided.al2023 zips of
bootstrap/ that scripts/test builds with `scripts/build-lambda-zip --arch
arm64`, proved with real parts. This machine is x86_64, so every arm64
program runs under qemu-user (qemu-aarch64-static) in a real Debian arm64
tree (scripts/debian-rootfs --arch arm64), whose own loader and glibc decide
what loads: bullseye's glibc 2.31 for provided.al2 (2.26), bookworm's 2.36 for
provided.al2023 (2.34). The functions serve the Runtime API test server
(scripts/lib/runtime_api.py) as Lambda's would. Then the refusals: a runtime
Lambda never offered on arm64, and a request for the build machine's own CPU
(cargo-lambda issue 934) in each place a user could make it."""

import json
import os
import re
import shutil
import zipfile

import pytest

from conftest import QEMU, ROOT, TARGET, assert_greets, build_tools_path, emulated, run
from test_bootstrap import assert_served_every_event, serve, unzip

# The arm64 tree each runtime's program is run in: the oldest with its glibc or newer.
TREE_OF = {"provided.al2": "bullseye", "provided.al2023": "bookworm"}


def out_for(runtime):
    return TARGET / f"lambda-{runtime}-arm64"


def zip_for(runtime):
    path = out_for(runtime) / "lambda.zip"
    assert path.is_file(), f"run scripts/build-lambda-zip --runtime {runtime} --arch arm64 first"
    return path


def glibc_of(runtime):
    from runtime_facts import runtime_facts

    return runtime_facts(runtime, arch="arm64")["glibc"]


def clear_task(tree):
    task = os.path.join(tree, "var/task")
    shutil.rmtree(task, ignore_errors=True)
    os.makedirs(task)
    return task


@pytest.mark.parametrize("runtime", ["provided.al2", "provided.al2023"])
def test_each_arm64_zip_is_an_aarch64_bootstrap_needing_no_newer_glibc(runtime):
    with zipfile.ZipFile(zip_for(runtime)) as z:
        (entry,) = z.infolist()
        assert entry.filename == "bootstrap" and (entry.external_attr >> 16) & 0o777 == 0o755
    program = out_for(runtime) / "package" / "bootstrap"
    header = run(["readelf", "-h", program]).stdout
    assert re.search(r"Machine:\s+AArch64\n", header), header
    versions = run(["readelf", "-V", "--wide", program]).stdout
    needed = {tuple(int(n) for n in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", versions)}
    assert needed and max(needed) <= glibc_of(runtime), sorted(needed)
    assert (out_for(runtime) / "arch").read_text() == "arm64\n"


@pytest.mark.parametrize("runtime", ["provided.al2", "provided.al2023"])
def test_pipeline_verify_passes_each_finished_arm64_zip(audit_bin, runtime):
    result = run(["bash", ROOT / "scripts/pipeline", "verify", out_for(runtime)],
                 env={**os.environ, "LAMBDA_AUDIT": str(audit_bin)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "==> readelf -h: machine AArch64 (arm64)" in result.stderr, result.stderr


@pytest.mark.parametrize("runtime", ["provided.al2", "provided.al2023"])
def test_the_arm64_function_serves_events_under_qemu_in_a_debian_arm64_tree(arm64_tree, runtime):
    tree = arm64_tree(TREE_OF[runtime])
    unzip(zip_for(runtime), clear_task(tree))
    results, stderr = serve(lambda env: emulated(tree, "/var/task/bootstrap", env), {})
    assert_served_every_event(results, stderr, runtime)


def test_bullseyes_real_loader_refuses_the_al2023_arm64_build(arm64_tree):
    """The oracle can say no: the AL2023 program needs GLIBC_2.34, bullseye has 2.31."""
    tree = arm64_tree("bullseye")
    unzip(zip_for("provided.al2023"), clear_task(tree))
    result = run(emulated(tree, "/var/task/bootstrap", {"PATH": "/usr/bin:/bin"}), timeout=120)
    assert result.returncode != 0
    assert "version `GLIBC_2.34' not found" in result.stderr, result.stderr


def test_the_arm64_build_pins_neoverse_n1_for_its_openssl():
    """The static OpenSSL of the arm64 build was compiled for Graviton2's CPU:
    OpenSSL records its compiler's command line in libcrypto."""
    result = run([ROOT / "scripts/build-openssl", "--runtime", "provided.al2023", "--arch", "arm64", "--print-env"])
    assert result.returncode == 0, result.stderr
    lib_dir = dict(line.split("=", 1) for line in result.stdout.split())["OPENSSL_LIB_DIR"]
    assert "aarch64-linux-gnu.2.17" in lib_dir, lib_dir
    libcrypto = open(os.path.join(lib_dir, "libcrypto.a"), "rb").read()
    assert b"zig cc -target aarch64-linux-gnu.2.17 -mcpu=neoverse_n1" in libcrypto


# --- the loader under qemu, and the CPU baseline, with fixtures built here ---

GREET_C = "const char *greet(void) { return \"hello from libgreet\"; }\n"
MAIN_C = "#include <stdio.h>\nconst char *greet(void);\nint main(void) { puts(greet()); return 0; }\n"


@pytest.fixture(scope="session")
def zig():
    result = run([ROOT / "scripts/bootstrap-tools"], timeout=900)
    assert result.returncode == 0, result.stderr
    return os.path.join(result.stdout.strip().splitlines()[-1], "zig")


def zig_cc(zig, zig_target, *args):
    result = run([zig, "cc", "-target", zig_target, *map(str, args)], timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def greeting_program(zig, tmp_path_factory):
    """An arm64 program needing lib/libgreet.so, and that library built for arm64 and for x86_64."""
    out = tmp_path_factory.mktemp("greet")
    (out / "greet.c").write_text(GREET_C)
    (out / "main.c").write_text(MAIN_C)
    for arch in ("aarch64", "x86_64"):
        (out / arch).mkdir()
        zig_cc(zig, f"{arch}-linux-gnu.2.17", "-shared", "-fPIC", "-o", out / arch / "libgreet.so", out / "greet.c")
    zig_cc(zig, "aarch64-linux-gnu.2.17", "-o", out / "bootstrap", out / "main.c", "-L", out / "aarch64", "-lgreet",
           "-Wl,-rpath,$ORIGIN/lib")
    return out


def put_greeting(program, tree, library_arch):
    task = clear_task(tree)
    shutil.copy2(program / "bootstrap", task)
    os.makedirs(os.path.join(task, "lib"))
    shutil.copy2(program / library_arch / "libgreet.so", os.path.join(task, "lib"))


def test_the_arm64_loader_under_qemu_loads_an_arm64_library_and_passes_over_an_x86_64_one(arm64_tree, greeting_program):
    tree = arm64_tree("bullseye")
    put_greeting(greeting_program, tree, "aarch64")
    result = run(emulated(tree, "/var/task/bootstrap", {}), timeout=120)
    assert result.returncode == 0 and result.stdout == "hello from libgreet\n", result.stderr
    # The same package with an x86_64 libgreet.so: the loader skips a file of
    # another machine and, finding no other, cannot start the program.
    put_greeting(greeting_program, tree, "x86_64")
    result = run(emulated(tree, "/var/task/bootstrap", {}), timeout=120)
    assert result.returncode == 127, result
    assert "libgreet.so: cannot open shared object file" in result.stderr, result.stderr


def test_an_x86_64_bootstrap_does_not_run_in_the_arm64_tree(arm64_tree):
    tree = arm64_tree("bullseye")
    path = TARGET / "lambda-provided.al2" / "lambda.zip"
    assert path.is_file(), "run scripts/build-lambda-zip --runtime provided.al2 first"
    unzip(path, clear_task(tree))
    result = run(emulated(tree, "/var/task/bootstrap", {}), timeout=120)
    assert result.returncode != 0 and "Invalid ELF image for this architecture" in result.stderr, result


CPU_CRATE = {
    "Cargo.toml": '[package]\nname = "cpu-probe"\nversion = "0.1.0"\nedition = "2021"\n\n'
                  '[[bin]]\nname = "bootstrap"\npath = "src/main.rs"\n\n[build-dependencies]\ncc = "=1.11.3"\n',
    "build.rs": 'fn main() { cc::Build::new().file("probe.c").compile("probe"); }\n',
    # __ARM_FEATURE_ATOMICS: the Armv8.1 LSE atomics, which Neoverse N1 has and the aarch64 baseline (Armv8.0) lacks.
    "probe.c": "int c_has_lse(void) {\n#ifdef __ARM_FEATURE_ATOMICS\n  return 1;\n#else\n  return 0;\n#endif\n}\n",
    "src/main.rs": 'extern "C" { fn c_has_lse() -> i32; }\n'
                   'fn main() { println!("rust lse {} c lse {}", cfg!(target_feature = "lse"), unsafe { c_has_lse() }); }\n',
}


def write_crate(directory, files):
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory / "Cargo.toml"


def test_a_crate_built_for_arm64_has_rust_and_c_compiled_for_neoverse_n1(arm64_tree, tmp_path):
    """--manifest-path of a crate outside this repository, with C from a
    build script (cc-rs, as openssl-sys and ring build theirs): both halves
    are compiled for Graviton2's CPU, not the aarch64 baseline and not this
    machine's."""
    manifest = write_crate(tmp_path / "cpu-probe", CPU_CRATE)
    result = run([ROOT / "scripts/build-lambda-zip", "--runtime", "provided.al2023", "--arch", "arm64",
                  "--manifest-path", manifest], timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "cpu-probe" / "target" / "lambda-provided.al2023-arm64"
    assert f"{out}/lambda.zip: bootstrap at its root, runtime provided.al2023, architecture arm64" in result.stderr
    tree = arm64_tree("bookworm")
    unzip(out / "lambda.zip", clear_task(tree))
    answer = run(emulated(tree, "/var/task/bootstrap", {}), timeout=120)
    assert answer.returncode == 0 and answer.stdout == "rust lse true c lse 1\n", answer


# --- refusals: one line, exit 2, before anything is built ---

def one_line_refusal(result):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def build(*args, env=None, cwd=None):
    return run([ROOT / "scripts/build-lambda-zip", *map(str, args)], env={**os.environ, **(env or {})}, cwd=cwd,
               timeout=600)


def test_python36_is_refused_on_arm64():
    line = one_line_refusal(build("--runtime", "python3.6", "--arch", "arm64"))
    assert "Lambda never offered python3.6 on arm64" in line, line


def test_an_unknown_architecture_is_refused():
    line = one_line_refusal(build("--runtime", "provided.al2023", "--arch", "mips"))
    assert "no architecture 'mips'" in line and "x86_64, arm64" in line, line


NATIVE_ENVIRONMENTS = [
    ("RUSTFLAGS", "-C target-cpu=native"),
    ("CARGO_ENCODED_RUSTFLAGS", "-Copt-level=3\x1f-Ctarget-cpu=native"),
    ("CARGO_BUILD_RUSTFLAGS", "-Ctarget-cpu=native"),
    ("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS", "-C target-cpu=native"),
    ("CFLAGS", "-O2 -mcpu=native"),
    ("CFLAGS_aarch64_unknown_linux_gnu", "-march=native"),
    ("CFLAGS_aarch64-unknown-linux-gnu", "-mcpu=native"),
    ("TARGET_CFLAGS", "-march=native"),
]


@pytest.mark.parametrize("name, value", NATIVE_ENVIRONMENTS, ids=[n for n, _ in NATIVE_ENVIRONMENTS])
def test_a_request_for_this_machines_cpu_in_the_environment_is_refused(name, value):
    line = one_line_refusal(build("--runtime", "provided.al2023", "--arch", "arm64", env={name: value}))
    assert line.startswith(f"error: {name} asks for ") and "native" in line and "SIGILL" in line, line
    assert "neoverse-n1" in line, line


def test_the_pipeline_itself_refuses_it_too(tmp_path):
    """The flake runs scripts/pipeline directly: the rule is there, not only in
    the front door (which says "==> pipeline build" first: the error is its one other line)."""
    manifest = write_crate(tmp_path / "crate", PLAIN_PROGRAM)
    # Every tool the pipeline needs on PATH (it looks for them first), so the
    # environment's CFLAGS is what it refuses.
    tools = build_tools_path()
    result = run([ROOT / "scripts/pipeline", "build"], timeout=600,
                 env={**os.environ, "PATH": f"{tools}:{os.environ['PATH']}",
                      "LAMBDA_RUNTIME": "provided.al2", "LAMBDA_ARCH": "arm64",
                      "LAMBDA_MANIFEST_PATH": str(manifest), "CFLAGS": "-mcpu=native"})
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and lines[0] == "==> pipeline build" and len(lines) == 2, result.stderr
    assert lines[1].startswith("error: CFLAGS asks for -mcpu=native"), lines
    assert not (tmp_path / "crate" / "target").exists()


@pytest.mark.parametrize("arch, name, value", [("arm64", "CFLAGS", "-mcpu=native"), ("x86_64", "TARGET_CFLAGS", "-march=native")])
def test_scripts_build_openssl_refuses_it_before_configure_reads_it(arch, name, value):
    """OpenSSL's Configure takes CFLAGS from the environment, and the libraries
    it makes are cached for every later build: refused before anything is built."""
    result = run([ROOT / "scripts/build-openssl", "--runtime", "provided.al2023", "--arch", arch, "--print-env"],
                 env={**os.environ, name: value}, timeout=600)
    line = one_line_refusal(result)
    assert line.startswith(f"error: {name} asks for {value}") and result.stdout == "", line


def test_the_x86_64_build_refuses_it_as_well():
    line = one_line_refusal(build("--runtime", "provided.al2023", env={"RUSTFLAGS": "-C target-cpu=native"}))
    assert "RUSTFLAGS asks for -C target-cpu=native" in line and "x86_64-unknown-linux-gnu's default" in line, line


# A program crate without dependencies: nothing to fetch before the refusal.
PLAIN_PROGRAM = {
    "Cargo.toml": '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n\n[[bin]]\nname = "bootstrap"\npath = "main.rs"\n',
    "main.rs": "fn main() {}\n",
    "Cargo.lock": 'version = 4\n\n[[package]]\nname = "probe"\nversion = "0.1.0"\n',
}

CONFIGS = {
    "build": '[build]\nrustflags = ["-C", "target-cpu=native"]\n',
    "target": '[target.aarch64-unknown-linux-gnu]\nrustflags = "-Ctarget-cpu=native"\n',
    "cfg-target": "[target.'cfg(target_arch = \"aarch64\")']\nrustflags = [\"-Ctarget-cpu=native\"]\n",
    "env": '[env]\nCFLAGS = "-mcpu=native"\n',
}


@pytest.mark.parametrize("table", list(CONFIGS))
def test_a_request_for_this_machines_cpu_in_a_cargo_config_is_refused(tmp_path, table):
    """cargo-lambda issue 934's case: the .cargo/config.toml of the crate or a directory above it."""
    manifest = write_crate(tmp_path / "above" / "crate", PLAIN_PROGRAM)
    # In the parent directory, as in the issue.
    write_crate(tmp_path / "above", {".cargo/config.toml": CONFIGS[table]})
    line = one_line_refusal(build("--runtime", "provided.al2023", "--arch", "arm64", "--manifest-path", manifest))
    assert line.startswith(f"error: {tmp_path}/above/.cargo/config.toml ") and "native" in line, line
    assert not (tmp_path / "above" / "crate" / "target").exists()


def test_invoke_lambda_runs_the_arm64_zips_under_qemu():
    for runtime, name in (("provided.al2", "Debian 11 arm64"), ("provided.al2023", "Debian 12 arm64")):
        result = run(["bash", ROOT / "scripts/invoke-lambda", zip_for(runtime), "--runtime", runtime],
                     input='{"name": "Ada"}', timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        assert_greets(json.loads(result.stdout), "Ada", "request-1", runtime)
        assert f"invoking in {name}" in result.stderr and "under qemu-user" in result.stderr, result.stderr
        result = run(["bash", ROOT / "scripts/invoke-lambda", zip_for(runtime), "--runtime", runtime],
                     input='{"name": "   "}', timeout=900)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.returncode == 1 and len(errors) == 1 and "the event's name is empty" in errors[0], result.stderr


def x86_64_out(runtime):
    out = TARGET / f"lambda-{runtime}"
    assert (out / "lambda.zip").is_file(), f"run scripts/build-lambda-zip --runtime {runtime} first"
    return out


def test_the_audit_refuses_an_x86_64_program_for_arm64(audit):
    result = audit("check", "--arch", "arm64", "--profile", "provided.al2", x86_64_out("provided.al2") / "lambda.zip")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "x86_64" in result.stdout, result.stdout


def test_pipeline_verify_refuses_an_x86_64_program_recorded_as_arm64(audit_bin, tmp_path):
    """verify's own readelf rule, before the audit's: the machine must be the recorded architecture's."""
    out = tmp_path / "out"
    shutil.copytree(x86_64_out("provided.al2"), out)
    (out / "arch").write_text("arm64\n")
    result = run(["bash", ROOT / "scripts/pipeline", "verify", out], env={**os.environ, "LAMBDA_AUDIT": str(audit_bin)})
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {out}/package/bootstrap is for the machine Advanced Micro Devices X86-64, not AArch64 (arm64)"), result.stderr


def test_a_workspaces_programs_build_for_arm64_and_answer_under_qemu(tmp_path):
    """A workspace of two lambda_runtime programs (tests/test_workspace.py's),
    one command with --arch arm64: each into target/lambda-arm64/FUNCTION/,
    verified, and answering through scripts/invoke-lambda under qemu."""
    from test_workspace import FUNCTIONS, build as build_workspace, write_workspace

    path = tmp_path / "ws"
    write_workspace(path, {name: FUNCTIONS[name] for name in ("hello", "shout")})
    result = build_workspace(path / "Cargo.toml", "--arch", "arm64")
    assert result.returncode == 0, result.stderr[-4000:]
    for function, answer in (("hello", {"message": "Hello, Ada!"}), ("shout", {"shout": "ADA!"})):
        archive = path / "target" / "lambda-arm64" / function / "lambda.zip"
        assert f"==> {archive}: bootstrap at its root, runtime provided.al2023, architecture arm64" in result.stderr
        invoked = run(["bash", ROOT / "scripts/invoke-lambda", archive], input='{"name": "Ada"}', timeout=900)
        assert invoked.returncode == 0 and json.loads(invoked.stdout) == answer, invoked.stderr[-3000:]
        assert "under qemu-user" in invoked.stderr, invoked.stderr


def test_a_workspace_with_a_python36_module_is_refused_for_arm64(tmp_path):
    from test_workspace import FUNCTIONS, build as build_workspace, write_workspace

    path = tmp_path / "ws"
    write_workspace(path, {name: FUNCTIONS[name] for name in ("greeter", "hello")}, lock=False)
    line = one_line_refusal(build_workspace(path / "Cargo.toml", "--arch", "arm64"))
    assert "Lambda never offered python3.6 on arm64" in line, line
