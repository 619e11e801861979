"""What the build scripts leave behind when a step fails or the script is
stopped: nothing of their own (issue 28, defects 5 and 6, and debian-rootfs
stopped during debootstrap); and apt-get waiting for another's lock (a
decision of the same issue). Small fixtures: a one-file crate whose "built"
program is a file written here, an auditor that refuses, the process-group
helper build-lambda-zip runs each function's build with, stand-ins for
apt-get and debootstrap; no Lambda build and no download."""

import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT, run


def program_crate(tmp_path, name):
    """A one-file crate whose program NAME is "built" (a file written here,
    where cargo would put it): the crate's directory and the target directory."""
    crate = tmp_path / "crate"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "main.rs").write_text("fn main() {}\n")
    target = tmp_path / "target"
    program = target / "x86_64-unknown-linux-gnu" / "release" / name
    program.parent.mkdir(parents=True)
    program.write_bytes(b"the program as cargo would have built it\n")
    return crate, target


def test_a_program_that_fails_its_audit_leaves_no_staged_copy(tmp_path):
    """scripts/pipeline package stages a program not named bootstrap in a
    directory of its own (mktemp -d); an audit that fails ended the script
    through errexit, and the copy stayed in TMPDIR."""
    crate, target = program_crate(tmp_path, "answers")
    audit = tmp_path / "refusing-audit"
    audit.write_text("#!/bin/sh\necho 'bootstrap: WILL NOT LOAD' >&2\nexit 1\n")
    audit.chmod(0o755)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "LAMBDA_RUNTIME": "provided.al2023", "LAMBDA_MANIFEST_PATH": str(crate / "Cargo.toml"),
           "CARGO_TARGET_DIR": str(target), "LAMBDA_AUDIT": str(audit), "TMPDIR": str(tmp)}
    env.pop("LAMBDA_ARCH", None)
    result = run(["bash", ROOT / "scripts/pipeline", "package", tmp_path / "out"], env=env)
    assert result.returncode == 1, result.stderr
    assert "WILL NOT LOAD" in result.stderr
    assert sorted(tmp.iterdir()) == [], "left in TMPDIR"


def test_a_zip_whose_sbom_cannot_be_written_is_removed_with_it(tmp_path):
    """scripts/pipeline package writes OUT/sbom.cdx.json beside the zip: a
    `lambda-audit sbom` that fails (exit 2) leaves neither the new zip nor
    the SBOM of an earlier one, and the run fails with its status."""
    crate, target = program_crate(tmp_path, "bootstrap")
    # An auditor whose check, bundle and zip succeed and whose sbom refuses.
    audit = tmp_path / "audit-without-sbom"
    audit.write_text("""#!/bin/sh
command=$1; out=
while [ $# -gt 0 ]; do case $1 in --out) out=$2; shift 2 ;; *) shift ;; esac; done
case $command in
  bundle) mkdir -p "$out" ;;
  zip) echo zipped > "$out" ;;
  sbom) echo 'lambda-audit: sbom: cannot read the zip' >&2; exit 2 ;;
esac
""")
    audit.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sbom.cdx.json").write_text("the SBOM of an earlier zip\n")
    env = {**os.environ, "LAMBDA_RUNTIME": "provided.al2023", "LAMBDA_MANIFEST_PATH": str(crate / "Cargo.toml"),
           "CARGO_TARGET_DIR": str(target), "LAMBDA_AUDIT": str(audit)}
    env.pop("LAMBDA_ARCH", None)
    result = run(["bash", ROOT / "scripts/pipeline", "package", out], env=env)
    assert result.returncode == 2, result.stderr
    assert "sbom: cannot read the zip" in result.stderr
    assert "the zip is removed" in result.stderr
    assert not (out / "lambda.zip").exists() and not (out / "sbom.cdx.json").exists()


# What build_workspace does for each function, with a build that makes its
# directory at once and writes into it later, as the pipeline does.
BUILDING = r'''
source "$1/scripts/lib/common.sh"
building=$2
trap 'rm -rf "${building:-}"' EXIT
trap_signals_with_stop_group
build() { mkdir -p "$1"; sleep 2; touch "$1/late"; touch "$2"; }
in_own_group build "$building" "$3" || exit $?
'''


@pytest.mark.parametrize("attempt", range(6))
def test_a_build_stopped_by_the_scripts_pid_alone_ends_its_child_and_leaves_nothing(tmp_path, attempt):
    """`kill PID` of build-lambda-zip during a workspace build: the script
    died, its pipeline child finished and wrote WS/target/lambda/p1.tmp.PID/,
    which nothing removed. The build now runs in a group of its own that the
    script's trap ends and waits for before removing the directory."""
    building = tmp_path / "p1.tmp"
    finished = tmp_path / "the-build-finished"
    number = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP][attempt % 3]
    script = subprocess.Popen(["bash", "-c", BUILDING, "building", ROOT, building, finished],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    while not building.exists() and time.monotonic() - started < 20:
        time.sleep(0.01)
    assert building.exists(), "the build never started"
    time.sleep(0.1 * attempt)
    script.send_signal(number)  # the script's process alone, as `kill PID`
    _, stderr = script.communicate(timeout=20)
    time.sleep(2.5)  # longer than the build would have run on
    assert not finished.exists(), "the build went on after the script was stopped"
    assert not building.exists(), sorted(building.iterdir())
    assert script.returncode == 128 + number, stderr


def test_apt_get_waits_for_the_dpkg_lock_and_says_so(tmp_path):
    """A fresh CI machine's unattended upgrades hold the dpkg lock: apt-get
    failed at once. Both its calls now wait for it (DPkg::Lock::Timeout),
    and the script says so. apt-get here records its arguments."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    (bin_dir / "apt-get").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "APT_LOCK_TIMEOUT": "7"}
    result = run(["bash", "-c", 'source "$1/scripts/lib/common.sh"; apt_install make', "apt", ROOT], env=env)
    assert result.returncode == 0, result.stderr
    assert "waits up to 7 s for the lock" in result.stderr
    lines = calls.read_text().splitlines()
    assert [line.split()[:3] for line in lines] == [["-o", "DPkg::Lock::Timeout=7", "update"],
                                                    ["-o", "DPkg::Lock::Timeout=7", "install"]], lines


def test_a_directory_put_in_place_leaves_a_neighbours_old_directory_alone(tmp_path):
    """atomic_dir TMP DEST moved DEST aside to DEST.old, a fixed name, and
    removed it: a user's own OUT/p1.old/ was deleted by a build of p1."""
    dest = tmp_path / "p1"
    (dest / "package").mkdir(parents=True)
    (dest / "runtime").write_text("provided.al2023\n")
    (tmp_path / "p1.old").mkdir()
    (tmp_path / "p1.old" / "mine.txt").write_text("mine\n")
    new = tmp_path / "p1.tmp"
    new.mkdir()
    (new / "lambda.zip").write_text("new\n")
    result = run(["bash", "-c", 'source "$1/scripts/lib/common.sh"; atomic_dir "$2" "$3"', "atomic", ROOT, new, dest])
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p1", "p1.old"]
    assert sorted(p.name for p in dest.iterdir()) == ["lambda.zip"]
    assert (tmp_path / "p1.old" / "mine.txt").read_text() == "mine\n"


def test_debian_rootfs_arch_without_a_value_is_its_own_line():
    result = run(["bash", ROOT / "scripts/debian-rootfs", "--arch"])
    assert result.returncode == 2, result.stderr
    assert result.stderr == ("error: --arch needs a value, arm64 (usage: scripts/debian-rootfs [--arch arm64] "
                             "[bullseye|trixie|bionic|jammy|noble|bookworm])\n")


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_debootstrap_leaves_no_half_made_tree(tmp_path, number):
    """SIGTERM to debian-rootfs during debootstrap left rootfs-*.tmp.PID in
    the cache for good. debootstrap here is a stand-in that makes its
    target, then writes into it later, as the real one does (the script
    runs it as root only, as the tests' chroots need anyway)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    late = tmp_path / "debootstrap-went-on"
    (bin_dir / "debootstrap").write_text(
        '#!/bin/sh\nfor a; do case $a in *.tmp.*) target=$a ;; esac; done\n'
        f'mkdir -p "$target/usr/bin"\nsleep 2\ntouch "$target/usr/bin/python3" {late}\n')
    (bin_dir / "debootstrap").chmod(0o755)
    cache = tmp_path / "cache"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "LAMBDA_TOOLCHAIN_CACHE": str(cache)}
    script = subprocess.Popen(["bash", ROOT / "scripts/debian-rootfs", "bullseye"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    while not list(cache.glob("rootfs-bullseye.tmp.*/usr")) and time.monotonic() - started < 20:
        time.sleep(0.01)
    assert list(cache.glob("rootfs-bullseye.tmp.*")), "debootstrap never started"
    script.send_signal(number)  # the script's process alone
    _, stderr = script.communicate(timeout=20)
    time.sleep(2.5)  # longer than debootstrap would have run on
    assert not late.exists(), "debootstrap went on after the script was stopped"
    assert sorted(p.name for p in cache.iterdir() if "rootfs" in p.name) == [], stderr
    assert script.returncode == 128 + number, stderr
