#!/usr/bin/env bash
# What evaluation alone cannot show of the flake's build steps, run for real:
#  1. every shell string the flake hands to stdenv and crane (hooks, phases,
#     crane's cargo commands, runCommand scripts), taken from the outputs as
#     tests/nix/flake-test.nix evaluates them, parses as bash;
#  2. the hooks that only set up (postPatch, preBuild, preCheck, shellHook)
#     run under stdenv's `set -eu -o pipefail` with stand-in variables;
#  3. the path-remap hook names every vendored registry and crate, and the
#     pipeline keeps the remaps it is given (so dependencies compile once);
#  4. no step needs the network: with the pinned zig and cargo-zigbuild on
#     PATH (as the flake puts them there), scripts/bootstrap-tools installs
#     nothing and offers them.
# Prints "ok: ..." / "FAILED: ..." lines and a closing count; exit 1 on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

hooks=$scratch/hooks.json
if ! nix-instantiate --eval --strict --json tests/nix/flake-test.nix -A hooks >"$hooks" 2>"$scratch/err"; then
  fail "tests/nix/flake-test.nix does not evaluate: $(head -3 "$scratch/err")"
  echo "nix hooks: $passed passed, $failed failed"
  exit 1
fi
count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$hooks")
[ "$count" -ge 20 ] && ok "$count hook strings collected from both systems' outputs" || fail "only $count hook strings collected"

# One file per hook: NAME (system, derivation, attribute) -> its script.
mkdir -p "$scratch/h"
python3 - "$hooks" "$scratch/h" <<'PY'
import json, os, sys
for i, (name, script) in enumerate(sorted(json.load(open(sys.argv[1])).items())):
    with open(os.path.join(sys.argv[2], f"{i:03d}"), "w") as f:
        f.write(f"# {name}\n{script}\n")
PY

for file in "$scratch"/h/*; do
  name=$(head -1 "$file" | cut -c3-)
  if out=$(bash -n "$file" 2>&1); then ok "parses: $name"; else fail "does not parse: $name: $out"; fi
  case "$name" in
    *" postPatch" | *" preBuild" | *" preCheck" | *" shellHook") ;;
    *) continue ;;
  esac
  # As stdenv runs it: errexit, nounset, pipefail; stdenv's functions stand in.
  work=$scratch/run; rm -rf "$work"; mkdir -p "$work/tmp" "$work/source/scripts" "$work/source/tests/fixtures"
  if out=$(cd "$work/source" && TMPDIR=$work/tmp NIX_BUILD_TOP=$work bash -c '
      set -eu -o pipefail
      patchShebangs() { [ "$1" = --build ] || { echo "patchShebangs without --build"; return 1; }; shift; for d; do [ -e "$d" ] || { echo "no $d"; return 1; }; done; }
      runHook() { :; }
      source "$1"
      if [ -n "${CARGO_ENCODED_RUSTFLAGS+set}" ]; then
        case "$CARGO_ENCODED_RUSTFLAGS" in *--remap-path-prefix=$PWD=/build*) ;; *) echo "no remap of the source root"; exit 1 ;; esac
      fi' _ "$file" 2>&1); then
    ok "runs under set -eu -o pipefail: $name"
  else
    fail "fails under set -eu -o pipefail: $name: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
  fi
done

# 3. The remap hook over a vendored tree shaped as crane's vendorCargoDeps makes it.
v=$scratch/vendor
mkdir -p "$v/deps" "$v/registry" "$v/crate-src/serde-1.0.0"
ln -s "$v/registry" "$v/deps/c19b7c6f"
ln -s "$v/crate-src/serde-1.0.0" "$v/registry/serde-1.0.0"
printf '[source.crates-io]\nreplace-with = "nix-sources-c19b7c6f"\n[source.nix-sources-c19b7c6f]\n  directory = "%s"\n' "$v/deps/c19b7c6f" >"$v/deps/config.toml"
hook=$(nix-instantiate --eval --strict --json -E "(import $root/nix/lib.nix).remapPathsHook \"$v/deps\" null" | python3 -c 'import json,sys; print(json.load(sys.stdin))')
flags=$(mkdir -p "$scratch/source with space" && cd "$scratch/source with space" && bash -c "set -eu -o pipefail; $hook"$'\n''printf "%s" "$CARGO_ENCODED_RUSTFLAGS"' | tr '\037' '\n')
# The toolchain's rust-src, as rustc would name it (std's own /rustc/<commit>).
rust_src="--remap-path-prefix=$(rustc --print sysroot)/lib/rustlib/src/rust=/rustc/$(rustc -vV | sed -n 's/^commit-hash: //p')"
expected="--remap-path-prefix=$scratch/source with space=/build
--remap-path-prefix=$v/deps=/cargo/vendor
--remap-path-prefix=$v/deps/c19b7c6f=/cargo/registry
--remap-path-prefix=$v/crate-src/serde-1.0.0=/cargo/registry/serde-1.0.0
--remap-path-prefix=$scratch/source with space/target=/target
$rust_src"
[ "$flags" = "$expected" ] && ok "remap hook: source root (with a space), vendor dir, registry, each crate's store path, target dir, rust-src" \
  || fail "remap hook gave:"$'\n'"$flags"

# One rule: a crate's file has the same name whether crane vendored it (the
# hook's flags) or cargo unpacked it into its home (the pipeline's flags).
remapped() { # remapped PATH FLAGS: PATH as rustc names it (the last matching prefix wins)
  python3 -c '
import sys
path, flags = sys.argv[1], sys.argv[2].split("\n")
for flag in reversed([f[len("--remap-path-prefix="):] for f in flags if f.startswith("--remap-path-prefix=")]):
    old, new = flag.rsplit("=", 1)
    if path == old or path.startswith(old.rstrip("/") + "/"):
        print(new + path[len(old):]); break
else:
    print(path)' "$1" "$2"
}
home_flags=$(source "$root/scripts/lib/remap-paths.sh"; mkdir -p "$scratch/home/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.0"
  remap_path_flags "$scratch/ws" "$scratch/ws/target" "$scratch/home" "")
nix_name=$(remapped "$v/deps/c19b7c6f/serde-1.0.0/src/lib.rs" "$flags")
home_name=$(remapped "$scratch/home/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.0/src/lib.rs" "$home_flags")
[ "$nix_name" = /cargo/registry/serde-1.0.0/src/lib.rs ] && [ "$home_name" = "$nix_name" ] \
  && [ "$(remapped "$scratch/source with space/target/release/build/x/out/a.rs" "$flags")" = /target/release/build/x/out/a.rs ] \
  && [ "$(remapped "$scratch/ws/target/release/build/x/out/a.rs" "$home_flags")" = /target/release/build/x/out/a.rs ] \
  && ok "one remap rule: a vendored crate and one in cargo's home are both $nix_name; build-script output is /target on both" \
  || fail "the two remaps disagree: crane's vendored crate is $nix_name, cargo's home crate $home_name"

# The pipeline keeps remaps it is given, and encodes its own so that a path
# with a space survives. A stand-in cargo-zigbuild records what cargo gives it
# (and the wrapper it would run rustc through: the stand-in cargo-auditable,
# which never runs here).
stub=$scratch/stub-bin
mkdir -p "$stub"
cat >"$stub/cargo-zigbuild" <<'SH'
#!/usr/bin/env bash
printf '%s' "${CARGO_ENCODED_RUSTFLAGS:-}" >"$RECORD"
printf '%s\n%s\n' "${RUSTC_WORKSPACE_WRAPPER:-}" "${CARGO_AUDITABLE_ORIG_ARGS:-}" >"$RECORD.wrapper"
mkdir -p "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release" && : >"$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/liblambda.so"
SH
chmod +x "$stub/cargo-zigbuild"
printf '#!/bin/sh\nexit 1\n' >"$stub/cargo-auditable"
chmod +x "$stub/cargo-auditable"
# (cargo's real home: build fetches the lock file's crates before naming
# their registry directories.)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
pipeline_flags() { # pipeline_flags ENV...: the flags cargo received from scripts/pipeline build
  env PATH="$stub:$PATH" OPENSSL_STATIC=1 OPENSSL_LIB_DIR=/x OPENSSL_INCLUDE_DIR=/x RECORD="$scratch/record" \
    CARGO_TARGET_DIR="$scratch/target dir" CARGO_HOME="$cargo_home" "$@" \
    bash scripts/pipeline build >/dev/null 2>"$scratch/pipeline.err" || { cat "$scratch/pipeline.err"; return 1; }
  tr '\037' '\n' <"$scratch/record"
}
given=$'--remap-path-prefix=/build/source=/build\x1f--remap-path-prefix=/nix/store/v=/cargo/vendor'
got=$(pipeline_flags CARGO_ENCODED_RUSTFLAGS="$given")
[ "$got" = "$(printf '%s' "$given" | tr '\037' '\n')" ] && ok "pipeline build keeps the remaps the flake gives both builds" \
  || fail "pipeline build changed the given remaps: $got"
got=$(pipeline_flags RUSTFLAGS="-C target-cpu=x86-64")
registries=$(for r in "$cargo_home"/registry/src/*/; do echo "--remap-path-prefix=${r%/}=/cargo/registry"; done)
expected="--remap-path-prefix=$root=/build
--remap-path-prefix=$cargo_home=/cargo
$registries
--remap-path-prefix=$scratch/target dir=/target
$rust_src
-C
target-cpu=x86-64"
[ -n "$registries" ] && [ "$got" = "$expected" ] && ok "pipeline build: the one remap rule (registry sources by name, rust-src) as encoded flags (paths with spaces intact), the caller's RUSTFLAGS kept" \
  || fail "pipeline build flags:"$'\n'"$got"
# Through cargo-auditable, named (not its path, which cargo would hash into
# the members' -C metadata), with the options crane's dependency build gets.
got=$(cat "$scratch/record.wrapper")
nix_env=$(nix-instantiate --eval --json -E '(import ./nix/lib.nix).auditableEnv [ ]' | python3 -c 'import json,sys; print(json.load(sys.stdin))')
expected="RUSTC_WORKSPACE_WRAPPER=${got%%$'\n'*} CARGO_AUDITABLE_ORIG_ARGS='${got#*$'\n'}'"
[ "${got%%$'\n'*}" = cargo-auditable ] && [ "$expected" = "$nix_env" ] \
  && ok "pipeline build runs cargo through cargo-auditable by name, in the environment nix/lib.nix auditableEnv gives crane's build" \
  || fail "pipeline build's wrapper environment: $got (nix: $nix_env)"

# 3b. The tools' install phase, run for real as stdenv runs it: the pinned
# wheel files (fetched by sha256, as fetchurl would) in $srcs, and an $out
# that does not exist yet. The binaries it links must be the pinned versions.
wheels=${LAMBDA_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-toolchain}/tool-wheels
srcs=$(python3 - "$root/toolchain/target.json" "$(uname -m)-linux" "$wheels" <<'PY'
import json, os, sys
target, system, cache = sys.argv[1:]
sys.path.insert(0, os.path.join(os.path.dirname(target), "..", "scripts", "lib"))
from pinned import NotThePinnedFile, pinned_file
for wheel in json.load(open(target))["toolWheels"][system]:
    try:
        print(pinned_file(wheel["url"], wheel["sha256"], cache, wheel["sha256"] + "-" + wheel["url"].rsplit("/", 1)[1]))
    except NotThePinnedFile as e:
        sys.exit(str(e))
PY
) || fail "the pinned tool wheels could not be fetched"
install=$(grep -l "drv-lambda-zig-tools installPhase" "$scratch"/h/* | while read -r f; do grep -q "^# $(uname -m)-linux " "$f" && echo "$f"; done)
out=$scratch/tools-out/out
mkdir -p "$scratch/tools-out/build"
if [ -n "$install" ] && log=$(cd "$scratch/tools-out/build" && PATH="$PATH" out=$out srcs=$(echo $srcs) bash -c '
    set -eu -o pipefail
    runHook() { :; }
    source "$1"' _ "$install" 2>&1) \
  && [ "$("$out/bin/zig" version)" = "$(python3 -c 'import json; print(json.load(open("toolchain/target.json"))["zigVersion"])')" ] \
  && "$out/bin/cargo-zigbuild" --version | grep -qxF "cargo-zigbuild $(python3 -c 'import json; print(json.load(open("toolchain/target.json"))["cargoZigbuildVersion"])')"; then
  ok "lambda-zig-tools' installPhase unpacks the pinned wheels into a new \$out: zig and cargo-zigbuild run"
else
  fail "lambda-zig-tools' installPhase (${install:-not found}): $log"
fi

# 3c. lambda-zip's install step with exactly its derivation's environment
# (`env`, $out, the crate's source as crane unpacks it: a copy of
# nix/source.nix's fileset; the pipeline from a copy of
# nix/pipeline-source.nix's), on the module the non-Nix build made
# (scripts/test builds it before this runs): package, then verify. (rustup's
# homes are passed on: there, cargo is the toolchain's own binary.)
artifact=$root/target/x86_64-unknown-linux-gnu/release/liblambda.so
if [ -f "$artifact" ] && [ -x "$root/target/release/lambda-audit" ]; then
  drv=$scratch/drv
  python3 tests/nix/fileset.py nix/source.nix "$drv/source"
  python3 tests/nix/fileset.py nix/pipeline-source.nix "$drv/pipeline"
  mkdir -p "$drv/source/target/x86_64-unknown-linux-gnu/release" "$drv/home"
  cp "$artifact" "$drv/source/target/x86_64-unknown-linux-gnu/release/"
  command=$(grep -l "x86_64-linux package-lambda installPhaseCommand" "$scratch"/h/* | head -1)
  mapfile -t variables < <(nix-instantiate --eval --strict --json tests/nix/flake-test.nix -A zipEnv 2>/dev/null | python3 -c '
import json, sys
for name, value in sorted(json.load(sys.stdin).items()):
    print(f"{name}={value}")' | sed "s|^LAMBDA_AUDIT=.*|LAMBDA_AUDIT=$root/target/release/lambda-audit|")
  if [ -n "$command" ] && log=$(cd "$drv/source" && sed "s|/nix/store/source|$drv/pipeline|g" "$command" >"$drv/command" \
      && env -i PATH="$PATH" HOME="$drv/home" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" out="$drv/out" SOURCE_DATE_EPOCH=1700000000 "${variables[@]}" bash -c 'set -eu -o pipefail; source "$1"' _ "$drv/command" 2>&1) \
    && unzip -Z1 "$drv/out/lambda.zip" | grep -qx liblambda.so \
    && cmp -s "$drv/out/lambda.zip" "$root/target/lambda/lambda.zip"; then
    # (SOURCE_DATE_EPOCH as stdenv exports it: the zip is still the non-Nix one.)
    ok "lambda-zip's installPhaseCommand with its derivation's env: package and verify of the crate's own Cargo.toml, the non-Nix zip byte for byte"
  else
    fail "lambda-zip's installPhaseCommand with its derivation's env: $(echo "$log" | tail -5)"
  fi
else
  fail "no $artifact or target/release/lambda-audit: run scripts/build-lambda-zip first (scripts/test does)"
fi

# 4. No network in the sandbox: the pinned tools on PATH are used as they are.
if tools=$(bash scripts/bootstrap-tools 2>"$scratch/bootstrap.err"); then
  copy=$scratch/checkout
  mkdir -p "$copy"
  cp -R scripts toolchain "$copy/"
  offered=$(env PATH="$tools:$PATH" PIP_NO_INDEX=1 PIP_INDEX_URL=http://127.0.0.1:9/ bash "$copy/scripts/bootstrap-tools" 2>&1)
  if [ "$offered" = "$tools" ] && [ ! -e "$copy/.tools" ]; then
    ok "bootstrap-tools offers the pinned zig and cargo-zigbuild on PATH and installs nothing"
  else
    fail "bootstrap-tools with the pinned tools on PATH: '$offered' (installed: $(ls "$copy" | tr '\n' ' '))"
  fi
  mkdir -p "$scratch/old-zig"
  printf '#!/bin/sh\necho 0.9.0\n' >"$scratch/old-zig/zig"; chmod +x "$scratch/old-zig/zig"
  ln -s "$tools/cargo-zigbuild" "$scratch/old-zig/cargo-zigbuild"
  out=$(env PATH="$scratch/old-zig:$PATH" PIP_NO_INDEX=1 bash "$copy/scripts/bootstrap-tools" 2>&1)
  [ "$out" != "$scratch/old-zig" ] && ok "bootstrap-tools does not take another zig version from PATH" \
    || fail "bootstrap-tools took zig 0.9.0 from PATH"
else
  fail "scripts/bootstrap-tools: $(tail -3 "$scratch/bootstrap.err")"
fi

echo "nix hooks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
