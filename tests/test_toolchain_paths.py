"""No toolchain path in an artifact, with or without the rust-src component.

When a toolchain has rust-src (rust-analyzer users add it; the flake's fenix
toolchain has it), rustc maps std's `/rustc/<commit>/library/...` paths back
to SYSROOT/lib/rustlib/src/rust/library/..., so std's macros expanded in a
crate (thread_local!, for one) record the toolchain's path in the artifact.
The pipeline's one remap rule (scripts/lib/remap-paths.sh) names it
/rustc/<commit> again, and `pipeline verify` refuses any toolchain path.

The toolchain with rust-src is this machine's own, linked file by file into
a directory of the test's (hard links: nothing of the original is changed)
with the rust-src component of the same release added: the tarball that
release's channel manifest names, checked by the manifest's sha256."""

import os
import re
import shutil
import subprocess
import tomllib
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, TARGET, build_tools_path, run
from pinned import pinned_file

CACHE = Path(os.environ.get("LAMBDA_TOOLCHAIN_CACHE") or Path.home() / ".cache" / "lambda-toolchain")


def rustc_facts(env=None):
    out = run(["rustc", "-vV"], env=env).stdout
    facts = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    sysroot = run(["rustc", "--print", "sysroot"], env=env).stdout.strip()
    return facts["release"], facts["commit-hash"], Path(sysroot)


def rust_src_tarball(release):
    """The rust-src component of this release, as its channel manifest names it."""
    manifest_url = f"https://static.rust-lang.org/dist/channel-rust-{release}.toml"
    with urllib.request.urlopen(manifest_url, timeout=120) as answer:
        manifest = tomllib.loads(answer.read().decode())
    package = manifest["pkg"]["rust-src"]["target"]["*"]
    # (The name the cache has used for it, the release and the hash's start.)
    name = f"rust-src-{release}-{package['xz_hash'][:12]}.tar.xz"
    return Path(pinned_file(package["xz_url"], package["xz_hash"], CACHE, name))


@pytest.fixture(scope="module")
def toolchain_with_rust_src(tmp_path_factory):
    release, commit, sysroot = rustc_facts()
    toolchain = tmp_path_factory.mktemp("toolchain") / "rust"
    result = run(["cp", "-al", sysroot, toolchain])
    if result.returncode != 0:  # another file system: a copy
        shutil.rmtree(toolchain, ignore_errors=True)
        shutil.copytree(sysroot, toolchain, symlinks=True)
    src = toolchain / "lib/rustlib/src/rust"
    if not (src / "library/core/src/lib.rs").exists():
        unpacked = tmp_path_factory.mktemp("rust-src")
        result = run(["tar", "-xf", rust_src_tarball(release), "-C", unpacked])
        assert result.returncode == 0, result.stderr
        (toolchain / "lib/rustlib/src").mkdir(parents=True, exist_ok=True)
        shutil.move(next(unpacked.glob("rust-src-*/rust-src/lib/rustlib/src/rust")), src)
    env = {**os.environ, "RUSTUP_TOOLCHAIN": str(toolchain)}
    assert rustc_facts(env)[2] == toolchain
    return env, toolchain, commit


def test_the_toolchain_with_rust_src_records_its_path_without_the_remap(toolchain_with_rust_src, tmp_path):
    """The control: with this toolchain, rustc records the toolchain's path for
    std's thread_local! (and names std /rustc/<commit> once remapped)."""
    env, toolchain, commit = toolchain_with_rust_src
    (tmp_path / "lib.rs").write_text(
        "thread_local! { static C: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::new()); }\n"
        "#[unsafe(no_mangle)] pub extern \"C\" fn at(i: usize) -> u8 { C.with(|c| c.borrow()[i]) }\n")
    for flags, expected in (([], str(toolchain).encode()),
                            ([f"--remap-path-prefix={toolchain}/lib/rustlib/src/rust=/rustc/{commit}"],
                             f"/rustc/{commit}/library/std/".encode())):
        out = tmp_path / "libt.so"
        result = run(["rustc", "--edition", "2021", "--crate-type", "cdylib", "-O", "-o", out, tmp_path / "lib.rs", *flags],
                     env=env)
        assert result.returncode == 0, result.stderr
        data = out.read_bytes()
        assert expected in data, flags
        assert (str(toolchain).encode() in data) == (not flags), flags


def test_a_build_with_rust_src_holds_no_toolchain_path(toolchain_with_rust_src, audit_bin, tmp_path):
    """bootstrap/ for provided.al2023 (std's thread_local! through tokio),
    built by the pipeline with that toolchain in a target directory of its
    own: verify passes (it refuses any toolchain path), and the zip names
    std only as /rustc/<commit>."""
    env, toolchain, commit = toolchain_with_rust_src
    tools = build_tools_path()
    openssl = run(["bash", ROOT / "scripts/build-openssl", "--print-env"])
    assert openssl.returncode == 0, openssl.stderr
    env = {**env, **dict(line.split("=", 1) for line in openssl.stdout.split()),
           "PATH": f"{tools}:{env['PATH']}", "LAMBDA_AUDIT": str(audit_bin), "LAMBDA_RUNTIME": "provided.al2023",
           "CARGO_TARGET_DIR": str(TARGET / "rust-src-toolchain")}
    out = tmp_path / "out"
    result = run(["bash", ROOT / "scripts/pipeline", "all", out], env=env, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    data = (out / "package/bootstrap").read_bytes()
    assert f"/rustc/{commit}/library/".encode() in data
    for needle in (str(toolchain), "/lib/rustlib/", str(Path.home() / ".rustup")):
        assert needle.encode() not in data, needle


def test_pipeline_verify_refuses_a_toolchain_path(toolchain_with_rust_src, audit_bin, tmp_path):
    """verify's own rule: a module holding a toolchain's rust-src path fails."""
    env, toolchain, commit = toolchain_with_rust_src
    built = TARGET / "rust-src-toolchain/x86_64-unknown-linux-gnu/release/bootstrap"
    assert built.exists(), "test_a_build_with_rust_src_holds_no_toolchain_path builds it first"
    out = tmp_path / "out"
    (out / "package").mkdir(parents=True)
    std = f"/rustc/{commit}/library/".encode()
    # The same length, so the ELF file stays as it was but for that string.
    data = built.read_bytes().replace(std, b"/lib/rustlib/src/rust/library/".rjust(len(std), b"x"), 1)
    (out / "package/bootstrap").write_bytes(data)
    (out / "package/bootstrap").chmod(0o755)
    (out / "runtime").write_text("provided.al2023\n")
    result = run([audit_bin, "zip", "--profile", "provided.al2023", "--out", out / "lambda.zip", out / "package"])
    assert result.returncode == 0, result.stderr
    result = run(["bash", ROOT / "scripts/pipeline", "verify", out], env={**env, "LAMBDA_AUDIT": str(audit_bin)})
    assert result.returncode == 1, result.stderr
    assert "contains the build-machine path" in result.stderr


def test_a_target_the_toolchain_lacks_is_added_by_rustup_or_named_in_one_line(tmp_path):
    """The pipeline's ensure_rust_target (an arm64 build on a machine whose
    toolchain has only x86_64's std: a fresh one): the build machine's own
    target passes; a missing one, with no rustup to add it, is one line that
    names the command to run, and exit 2."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # rustc alone (rustup's proxy works without `rustup` on PATH), and the basics.
    (bin_dir / "rustc").symlink_to(shutil.which("rustc"))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": os.environ["HOME"],
           "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup"))}
    assert shutil.which("rustup", path=env["PATH"]) is None

    def ensure(triple):
        return run(["bash", "-c", f'source "{ROOT}/scripts/lib/common.sh"; ensure_rust_target {triple}'], env=env)

    assert ensure("x86_64-unknown-linux-gnu").returncode == 0
    missing = ensure("riscv64gc-unknown-linux-gnu")
    assert missing.returncode == 2, missing.stderr
    assert missing.stderr.count("\n") == 1 and "rustup target add riscv64gc-unknown-linux-gnu" in missing.stderr, missing.stderr


def test_too_little_disk_space_is_one_line_before_anything_runs(tmp_path):
    """scripts/test's first step (CI once ran out of disk in the middle of
    the Nix layer's tests and printed pages of unrelated tracebacks): a file
    system with less free space than asked for stops in one line, exit 2,
    naming how much is free; one with enough passes."""
    def ensure(gib):
        return run(["bash", "-c", f'source "{ROOT}/scripts/lib/common.sh"; ensure_free_space "$1" {gib} "the test"',
                    "bash", tmp_path / "sub"])

    free_gib = shutil.disk_usage(tmp_path).free // 2**30
    assert ensure(0).returncode == 0
    refused = ensure(free_gib + 1000)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.count("\n") == 1, refused.stderr
    said = re.search(r"has (\d+) GiB free and the test needs about (\d+) GiB", refused.stderr)
    # (Other writers on the same disk may move the free space by a GiB meanwhile.)
    assert said and abs(int(said.group(1)) - free_gib) <= 1 and int(said.group(2)) == free_gib + 1000, refused.stderr
