"""Your own function: a crowbar crate outside this workspace (the template,
templates/default, with its own Cargo.toml and Cargo.lock and a different
handler) built by the non-Nix entry point with --manifest-path, audited,
zipped, and invoked from its zip in the bullseye root as the python3.6
runtime's bootstrap does. And the one-line messages for the mistakes a new
adopter makes."""

import ast
import os
import zipfile

import pytest

from conftest import LAMBDA_LD_LIBRARY_PATH, ROOT, build_tools_path, run

TEMPLATE = ROOT / "templates" / "default"


@pytest.fixture(scope="module")
def own_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("own") / "out"
    env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
    # The user's own target directory and RUSTFLAGS reach their crate's build,
    # not the toolchain's lambda-audit (built by scripts/test before this:
    # rebuilding it from scratch took 595 s of a 680 s build).
    env["CARGO_TARGET_DIR"] = str(out.parent / "target")
    env["RUSTFLAGS"] = "-C debuginfo=0"
    env["LAMBDA_TODAY"] = "2026-12-07"
    result = run(["bash", ROOT / "scripts/build-lambda-zip", "--manifest-path", TEMPLATE / "Cargo.toml", "--out", out],
                 env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "handler liblambda.handler" in result.stderr
    # The build says plainly that AWS takes no python3.6 function any more.
    assert result.stderr.strip().splitlines()[-1] == (
        "lambda-audit: warning: python3.6: new functions blocked since 2022-07-18, updates blocked since "
        "2022-08-29: use python3.14"), result.stderr[-1000:]
    assert "Compiling lambda-audit" not in result.stderr, "the user's RUSTFLAGS rebuilt lambda-audit"
    return out / "lambda.zip"


def test_an_outside_crate_is_built_audited_and_answers_in_the_bullseye_root(own_zip, rootfs, audit):
    rootfs.clear_task()
    with zipfile.ZipFile(own_zip) as archive:
        assert archive.namelist() == ["liblambda.so"]
        archive.extractall(rootfs.task)
    assert audit("check", rootfs.task / "liblambda.so").returncode == 0
    rootfs.put(ROOT / "scripts/lib/invoke_python.py", "/var/runtime/invoke.py")
    events = [{"name": "Ada"}, {"name": 7}, {}, {"name": "Grace"}]
    result = run(
        ["chroot", rootfs.path, "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", f"LD_LIBRARY_PATH={LAMBDA_LD_LIBRARY_PATH}",
         "/usr/bin/python3", "/var/runtime/invoke.py", "/var/task", "liblambda.handler"],
        input=repr(events), timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers = ast.literal_eval(result.stdout)
    assert answers[0] == {"ok": {"greeting": "Hello, Ada!", "characters": 3}}
    for bad in answers[1:3]:
        assert bad.get("error") == "RuntimeError" and "the event needs a name (a string)" in bad["message"], bad
    assert answers[3] == {"ok": {"greeting": "Hello, Grace!", "characters": 5}}, "it keeps serving after errors"


def adopter_crate(tmp_path, cargo_toml):
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(cargo_toml)
    (crate / "src" / "lib.rs").write_text("")
    return run(["bash", ROOT / "scripts/pipeline", "build"],
               env={**os.environ, "LAMBDA_MANIFEST_PATH": str(crate / "Cargo.toml")})


HEAD = '[package]\nname = "mine"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n'


@pytest.mark.parametrize("cargo_toml, says", [
    (HEAD + '[dependencies]\ncrowbar = "0.2"\n', 'builds no shared library: add `[lib] crate-type = ["cdylib"]`'),
    (HEAD + '[lib]\ncrate-type = ["cdylib"]\n', 'does not depend on crowbar: add `crowbar = "0.2"`'),
])
def test_an_adopters_mistakes_get_one_line_with_the_fix(tmp_path, cargo_toml, says):
    result = adopter_crate(tmp_path, cargo_toml)
    assert result.returncode == 2
    # One line, after the step's name.
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("==> ")]
    assert len(lines) == 1 and says in lines[0], result.stderr


def test_an_openssl_sys_that_refuses_openssl_102_is_named_before_the_build(tmp_path):
    """The Nix sysroot links OpenSSL 1.0.2u; openssl-sys 0.9.112 and later
    refuse it deep in their build script. The pipeline says so first."""
    include = tmp_path / "openssl" / "include"
    (include / "openssl").mkdir(parents=True)
    (include / "openssl" / "opensslv.h").write_text('# define OPENSSL_VERSION_TEXT    "OpenSSL 1.0.2u  20 Dec 2019"\n')
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(HEAD + '[lib]\ncrate-type = ["cdylib"]\n[dependencies]\ncrowbar = "0.2"\n')
    (crate / "src" / "lib.rs").write_text("")
    (crate / "Cargo.lock").write_text('version = 3\n[[package]]\nname = "openssl-sys"\nversion = "0.9.112"\n')
    env = {**os.environ, "LAMBDA_MANIFEST_PATH": str(crate / "Cargo.toml"), "OPENSSL_STATIC": "1",
           "OPENSSL_LIB_DIR": str(tmp_path / "openssl" / "lib"), "OPENSSL_INCLUDE_DIR": str(include)}
    env["PATH"] = f"{build_tools_path()}:{env['PATH']}"
    result = run(["bash", ROOT / "scripts/pipeline", "build"], env=env)
    assert result.returncode == 2, result.stderr
    assert "openssl-sys 0.9.112 refuses OpenSSL 1.0.2" in result.stderr
    assert "cargo update -p openssl-sys --precise 0.9.111" in result.stderr


def test_a_cdylib_not_named_lambda_gets_the_module_and_handler_it_implies(tmp_path):
    """crowbar's lambda! exports PyInit_liblambda unless told otherwise: a
    cdylib named `kappa` is told, in one line, its module, its handler and the
    macro form that names them (before cargo runs; here a stand-in
    cargo-zigbuild stops the build right after)."""
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(HEAD.replace('name = "mine"', 'name = "kappa-fn"')
                                      + '[lib]\nname = "kappa"\ncrate-type = ["cdylib"]\n[dependencies]\ncrowbar = "0.2"\n')
    (crate / "src" / "lib.rs").write_text("")
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "cargo-zigbuild").write_text("#!/bin/sh\nexit 101\n")
    (stub / "cargo-zigbuild").chmod(0o755)
    env = {**os.environ, "LAMBDA_MANIFEST_PATH": str(crate / "Cargo.toml"), "OPENSSL_STATIC": "1",
           "OPENSSL_LIB_DIR": str(tmp_path), "OPENSSL_INCLUDE_DIR": str(tmp_path),
           "PATH": f"{stub}:{build_tools_path()}:{os.environ['PATH']}"}
    result = run(["bash", ROOT / "scripts/pipeline", "build"], env=env)
    assert result.returncode != 0
    # (The crate has no Cargo.lock: that note comes too.)
    notes = [line for line in result.stderr.splitlines() if "note:" in line and "Cargo.lock" not in line]
    assert len(notes) == 1, result.stderr
    assert "the module is libkappa.so and the handler libkappa.handler" in notes[0]
    assert "PyInit_libkappa" in notes[0]


def test_a_crate_without_a_lock_file_gets_one_and_builds(tmp_path, audit_bin):
    """What `cargo new` gives has no Cargo.lock; the build is --locked. The
    pipeline creates the lock, says so in one line, and builds: here a
    provided.al2023 program (no dependencies, nothing to download)."""
    crate = tmp_path / "hello"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "hello"\nversion = "0.1.0"\nedition = "2021"\n\n'
                                      '[[bin]]\nname = "bootstrap"\npath = "src/main.rs"\n')
    (crate / "src" / "main.rs").write_text('fn main() { println!("hello"); }\n')
    env = {**os.environ, "PATH": f"{build_tools_path()}:{os.environ['PATH']}", "LAMBDA_AUDIT": str(audit_bin),
           "LAMBDA_RUNTIME": "provided.al2023", "LAMBDA_MANIFEST_PATH": str(crate / "Cargo.toml"),
           "CARGO_TARGET_DIR": str(tmp_path / "target")}
    result = run(["bash", ROOT / "scripts/pipeline", "all", tmp_path / "out"], env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (crate / "Cargo.lock").is_file()
    notes = [line for line in result.stderr.splitlines() if "Cargo.lock did not exist" in line]
    assert len(notes) == 1 and "commit it" in notes[0], result.stderr
    assert "--locked was passed" not in result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "lambda.zip") as archive:
        assert archive.namelist() == ["bootstrap"]


@pytest.mark.parametrize("profile,ships", [
    ("provided.al2023", "Amazon Linux 2023 ships OpenSSL 3.0 (libssl.so.3, libcrypto.so.3)"),
    ("provided.al2", "Amazon Linux 2 ships OpenSSL 1.0.2k (libssl.so.10, libcrypto.so.10)"),
    ("python3.6", "the runtime's OpenSSL is 1.0.1k"),
])
def test_a_dynamic_openssl_is_explained_for_the_runtime_with_a_fix_any_rust_user_can_apply(fixtures, check_json, profile, ships):
    """A module linking libssl dynamically: the reason says what THIS runtime
    ships, and the fix is one a user of any build tool can apply (the openssl
    crate's `vendored` feature, or rustls), beside this toolchain's."""
    code, report = check_json(profile, fixtures / "mod_ssl.so")
    assert code == 1
    rules = [f for f in report["findings"] if f["kind"] == "forbidden-library"]
    assert rules, report["findings"]
    assert ships in rules[0]["reason"], rules[0]["reason"]
    assert 'features = ["vendored"]' in rules[0]["fix"] and "rustls" in rules[0]["fix"], rules[0]["fix"]


def test_a_manifest_cargo_cannot_read_is_one_line_not_a_traceback(tmp_path):
    """A Cargo.toml that is not TOML: cargo's own reason, in one line."""
    result = adopter_crate(tmp_path, "this is [not toml\n")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("==> ")]
    assert len(lines) == 1 and "cargo cannot read it" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
