#!/usr/bin/env bash
# `checks.nextest` and `checks.clippy` as Nix's build sandbox would run them,
# without Nix: the lambda-audit tests built and run from a copy of exactly
# nix/source.nix's fileset (a file the fileset leaves out is missing here
# too), its crates vendored as crane vendors them, as an unprivileged user
# (nobody) in namespaces of their own: no network, an /etc holding only
# passwd, group and hosts (as the sandbox's), HOME=/homeless-shelter (absent,
# not creatable), and a PATH of exactly the tools nix/checks.nix gives the
# tests (stdenv's own, the compilers, binutils, the pinned zig, python3,
# patchelf, ldconfig) and the Rust toolchain. The preCheck's variables are
# set as there. Needs root (namespaces, bind mounts); prints the test output
# and exits with cargo's status.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
[ "$(id -u)" = 0 ] || { echo "sandbox-test: needs root (unshare, mount)" >&2; exit 2; }
scratch=$(mktemp -d /tmp/lambda-sandbox.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
chmod 755 "$scratch"

# The source as the flake's derivation has it, and its crates vendored.
python3 tests/nix/fileset.py nix/source.nix "$scratch/source"
mkdir -p "$scratch/cargo-home" "$scratch/tmp" "$scratch/rust" "$scratch/tools" "$scratch/etc" "$scratch/bin"
(cd "$scratch/source" && cargo vendor --locked --versioned-dirs "$scratch/vendor" >"$scratch/cargo-home/config.toml" 2>"$scratch/vendor.log") \
  || { cat "$scratch/vendor.log" >&2; exit 1; }
# Readable by all, as files in the Nix store are (0444): cargo vendor keeps a
# .crate's modes, and some crates ship files readable by their owner's group
# only (fnv 1.0.7: LICENSE-APACHE 0640), which nobody could not read.
chmod -R a+rX "$scratch/vendor"

# The sandbox's /etc.
printf 'root:x:0:0:Nix build user:/build:/noshell\nnixbld:x:65534:65534:Nix build user:/build:/noshell\n' >"$scratch/etc/passwd"
printf 'root:x:0:\nnixbld:!:65534:\n' >"$scratch/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$scratch/etc/hosts"

# PATH: stdenv's tools and checks.nix's testTools, as links to the real
# files (resolved now: /etc/alternatives is not there inside).
link_all() { # link_all DEBIAN-PACKAGE...: every program the package installs
  local package file
  for package; do
    dpkg -L "$package" | grep -E '^(/usr)?/s?bin/[^/]+$' | while read -r file; do
      [ -e "$file" ] && ln -sf "$(readlink -f "$file")" "$scratch/bin/${file##*/}"
    done
  done
}
link_all coreutils findutils diffutils sed grep gawk tar gzip bzip2 xz-utils make patch bash file \
  gcc g++ cpp binutils patchelf util-linux
for name in cc c++ python3; do ln -sf "$(readlink -f "$(type -P "$name")")" "$scratch/bin/$name"; done
ln -sf "$(readlink -f /usr/bin/python3)" "$scratch/bin/python3"
ln -sf "$(readlink -f "$(type -P ldconfig || echo /sbin/ldconfig)")" "$scratch/bin/ldconfig"
ln -sf "$(readlink -f /bin/sh)" "$scratch/bin/sh"
# zig and cargo-zigbuild, from the checkout's .tools/ bind-mounted like the
# toolchain: the checkout may be where nobody can read it (under /root).
tools=$(bash scripts/bootstrap-tools)
dot_tools=$PWD/.tools
for name in zig cargo-zigbuild; do
  real=$(readlink -f "$tools/$name")
  ln -sf "$scratch/tools/${real#"$dot_tools/"}" "$scratch/bin/$name"
done
# The toolchain, bind-mounted where nobody can read it (rustc finds its
# sysroot from its own path, so it is linked from there).
sysroot=$(rustc --print sysroot)
for name in cargo rustc rustdoc cargo-clippy clippy-driver; do ln -sf "$scratch/rust/bin/$name" "$scratch/bin/$name"; done

chown -R 65534:65534 "$scratch/source" "$scratch/cargo-home" "$scratch/tmp"
tmp=$scratch/tmp
inner=(env -i "PATH=$scratch/bin" HOME=/homeless-shelter "TMPDIR=$tmp" "CARGO_HOME=$scratch/cargo-home"
  "XDG_CACHE_HOME=$tmp/cache" "ZIG_GLOBAL_CACHE_DIR=$tmp/zig-global-cache" "ZIG_LOCAL_CACHE_DIR=$tmp/zig-local-cache"
  "CARGO_ZIGBUILD_CACHE_DIR=$tmp/cargo-zigbuild-cache"
  "LAMBDA_AUDIT_SYSTEM_LIB_DIRS=$(dirname "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)"):$(dirname "$(readlink -f /lib/x86_64-linux-gnu/libz.so.1)")"
  "LAMBDA_AUDIT_HOST_PYTHON=$scratch/bin/python3"
  # checks.nix's: the arm64 fixtures built by the pinned zig, not a cross gcc.
  "LAMBDA_AUDIT_AARCH64_CC=zig cc -target aarch64-linux-gnu.2.34")
cd "$scratch/source"
unshare --mount --net --fork bash -c '
  set -e
  mount --bind "$1/etc" /etc
  mount --bind "$2" "$1/rust"
  mount --bind "$3" "$1/tools"
  shift 3
  exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' _ "$scratch" "$sysroot" "$dot_tools" \
  "${inner[@]}" bash -c 'cargo clippy --offline --locked -p lambda-audit --all-targets -- --deny warnings && cargo test --offline --locked --no-fail-fast -p lambda-audit'
