# Sourced by every script in scripts/: paths, caches and the target
# definition (toolchain/target.json, which nix/lib.nix reads too).
set -euo pipefail
# $(...) fails when a command in it fails, as the rest of the script does.
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Downloads and slow builds are cached outside the checkout, under a stable
# path, so CI and later sessions reuse them; deleting it only costs time.
CACHE=${LAMBDA_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-toolchain}
TOOLS=$ROOT/.tools

target() { # target KEY: one value from toolchain/target.json
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(" ".join(v) if isinstance(v,list) else v)' \
    "$ROOT/toolchain/target.json" "$1"
}

# The one build timestamp (1980-01-01, Nix stdenv's SOURCE_DATE_EPOCH too).
# Not 0: OpenSSL's mkbuildinf.pl reads `$ENV{SOURCE_DATE_EPOCH} || time()`,
# and Perl takes 0 as false, so 0 would record the build's own date.
FIXED_EPOCH=315532800

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# ensure_free_space DIR GIB WHAT: stops, in one line, when the file system
# holding DIR has less than GIB GiB free (a full disk otherwise fails deep
# inside a build or a test, as many unrelated errors).
ensure_free_space() {
  local dir=$1 need=$2 what=$3 free
  mkdir -p "$dir"
  free=$(df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1048576) }')
  [ "$free" -ge "$need" ] \
    || die "$dir has $free GiB free and $what needs about $need GiB: free some space there, or point TMPDIR (the tests' trees) or LAMBDA_TOOLCHAIN_CACHE (downloads) elsewhere"
}

# Writes files into place only when complete: DEST appears whole or not at all.
# The DEST it replaces is moved aside into a new directory of a random name
# and removed, never a fixed name (DEST.old) that may be someone's own.
atomic_dir() { # atomic_dir TMPDIR DEST
  local aside=
  if [ -e "$2" ]; then
    aside=$(mktemp -d "$2.old-XXXXXX")
    mv "$2" "$aside/"
  fi
  mv "$1" "$2"
  [ -z "$aside" ] || rm -rf "$aside"
}

# in_own_group COMMAND...: runs COMMAND (a function too) in a process group
# of its own and waits for it, returning its status. bash runs a trap only
# once its foreground command has ended: `kill PID` of the script alone
# would run the EXIT trap and leave COMMAND running, writing what the trap
# had just removed. A script that uses it traps INT, TERM and HUP with
# stop_group (`trap_signals_with_stop_group`).
group=
in_own_group() {
  local status=0
  set -m
  "$@" &
  group=$!
  set +m
  wait "$group" || status=$?
  group=
  return "$status"
}
# stop_group STATUS: ends the group in_own_group runs (all of it: the
# pipeline, cargo, lambda-audit), waits until none of it is left, and exits
# with STATUS, so the EXIT trap removes what it made with nothing writing.
stop_group() {
  if [ -n "${group:-}" ]; then
    kill -TERM -- "-$group" 2>/dev/null || true
    wait "$group" 2>/dev/null || true
    while kill -0 -- "-$group" 2>/dev/null; do sleep 0.1; done
  fi
  exit "$1"
}
trap_signals_with_stop_group() {
  trap 'stop_group 130' INT
  trap 'stop_group 143' TERM
  trap 'stop_group 129' HUP
}

# timed NAME COMMAND...: says NAME, runs it, then says how long it took, so a
# long run shows where the minutes go. (Not `"$@" || ...`: that would switch
# off errexit inside a function it runs; a failure exits as it would untimed.)
timed() {
  local name=$1 started=$SECONDS
  shift
  say "$name"
  "$@"
  say "$name: done in $((SECONDS - started)) s"
}

# ensure_debs "PACKAGE:PROBE:WHY"...: installs each Debian package whose PROBE
# (a command, or a file when it starts with /) is missing, with apt-get when
# run as root, one line per package saying why; otherwise stops with one line
# naming them all.
ensure_debs() {
  local spec package probe why missing=() reasons=()
  for spec in "$@"; do
    IFS=: read -r package probe why <<<"$spec"
    if [[ $probe == /* ]]; then [ -e "$probe" ] && continue; else command -v "$probe" >/dev/null && continue; fi
    missing+=("$package")
    reasons+=("$package ($why)")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing: $(IFS=,; echo "${reasons[*]}"); on Debian/Ubuntu: sudo apt-get install ${missing[*]}"
  fi
  local reason
  for reason in "${reasons[@]}"; do say "installing $reason"; done
  timed "apt-get install ${missing[*]}" apt_install "${missing[@]}"
}
# Another apt-get or dpkg may hold the lock (a fresh CI machine runs its
# unattended upgrades at boot): apt-get waits for it, up to this many
# seconds, rather than fail at once.
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
apt_install() {
  local wait=(-o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT")
  say "apt-get waits up to $APT_LOCK_TIMEOUT s for the lock if another apt-get or dpkg (unattended upgrades) holds it"
  { apt-get "${wait[@]}" update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq --no-install-recommends "$@"; } >/dev/null \
    || die "apt-get install $* failed"
}

# What building the zip needs beyond Rust: cargo itself comes from rustup.
build_debs=(
  "ca-certificates:/etc/ssl/certs/ca-certificates.crt:cargo, pip and the downloads check HTTPS servers against it"
  "patchelf:patchelf:lambda-audit bundle rewrites sonames and DT_RPATH"
  "gcc:cc:cargo links build scripts with the host C compiler"
  # gcc only recommends it, and apt-get here installs no recommendations.
  "libc6-dev:/usr/include/stdio.h:the host C compiler links against glibc's crt files and headers"
  "make:make:OpenSSL's build"
  # /usr/bin/perl alone is perl-base (in every Debian), which lacks modules
  # OpenSSL 3's Configure loads (IPC::Cmd): cpan comes with the full perl.
  "perl:/usr/bin/cpan:OpenSSL's Configure"
  "binutils:readelf:the verify step reads the module with readelf"
  "unzip:unzip:the verify step lists the zip"
  "python3-pip:pip3:installs the pinned zig and cargo-zigbuild wheels"
)
# cargo_metadata MANIFEST: `cargo metadata --no-deps` of it, or cargo's own
# reason in one line when it cannot read the manifest (not TOML, not a
# package); the facts come only from what it printed.
cargo_metadata() {
  local errors metadata reason
  errors=$(mktemp)
  if ! metadata=$(cargo metadata --no-deps --format-version 1 --manifest-path "$1" 2>"$errors"); then
    reason=$(grep -m1 -v '^[[:space:]]*$' "$errors" | sed 's/^error: //')
    rm -f "$errors"
    die "$1: cargo cannot read it: ${reason:-cargo metadata failed}"
  fi
  rm -f "$errors"
  printf '%s\n' "$metadata"
}
# ensure_rust_target TRIPLE: the toolchain has TRIPLE's standard library (an
# arm64 build needs aarch64's); rustup adds it when it is missing (saying so),
# a toolchain without rustup gets one line saying what to install.
ensure_rust_target() {
  local libdir
  libdir=$(rustc --print target-libdir --target "$1" 2>/dev/null) || die "rustc does not know the target $1"
  compgen -G "$libdir/libstd-*.rlib" >/dev/null && return 0
  command -v rustup >/dev/null \
    || die "the Rust toolchain has no standard library for $1: add it (rustup target add $1, or your toolchain's rust-std for $1)"
  timed "rustup target add $1 (the standard library an artifact for it links)" rustup target add "$1" >&2
}
ensure_cargo() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs), then run again"
}
