#!/usr/bin/env bash
# What can be tested of the Nix layer without nixpkgs (run by scripts/test):
# every .nix file parses, the flake and its committed lock resolve offline,
# nix/lib.nix and the wiring pass their unit tests, and the flake runs the same
# pipeline definition (build, package, verify) and sysroot variables as the
# non-Nix pipeline.
set -uo pipefail
cd "$(dirname "$0")/../.."
nix=(nix --extra-experimental-features "nix-command flakes")
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }

for f in $(git ls-files '*.nix'); do
  if out=$(nix-instantiate --parse "$f" 2>&1 >/dev/null); then ok "$f parses"; else fail "$f does not parse: $out"; fi
done

if out=$("${nix[@]}" flake metadata --offline --no-update-lock-file --json . 2>/tmp/flake-metadata.$$); then
  locked=$(python3 -c 'import json,sys; d=json.load(sys.stdin)["locks"]["nodes"]; print(" ".join(sorted(k for k in d if k != "root")))' <<<"$out")
  [ "$locked" = "crane fenix nixpkgs" ] && ok "flake metadata --offline resolves crane, fenix, nixpkgs" || fail "flake inputs: $locked"
else
  fail "nix flake metadata --offline: $(cat /tmp/flake-metadata.$$)"
fi
rm -f /tmp/flake-metadata.$$
locked_revs=$(python3 -c 'import json; n=json.load(open("flake.lock"))["nodes"]; print(n["crane"]["locked"]["rev"][:8], n["fenix"]["locked"]["rev"][:8])')
[ "$locked_revs" = "10e6e3cb 2eff81fc" ] && ok "flake.lock pins crane v0.23.4 (10e6e3cb) and fenix 2eff81fc, the revisions read" \
  || fail "flake.lock pins crane/fenix $locked_revs, not the revisions the flake was checked against"

# Builtins-only test files evaluate to { count; failed = [ names ]; }.
# The JSON is stdout alone: Nix writes warnings to stderr (on a machine where
# Debian's nix-bin was just installed: "the group 'nixbld' specified in
# 'build-users-group' does not exist"), and they are no test result.
nix_unit() { # nix_unit FILE WHAT
  local result count failures errors
  errors=$(mktemp)
  result=$(nix-instantiate --eval --strict --json "$1" 2>"$errors")
  count=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["count"])' "$result" 2>/dev/null || echo 0)
  failures=$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["failed"]))' "$result" 2>/dev/null || echo "$result $(cat "$errors")")
  rm -f "$errors"
  if [ "$count" -gt 0 ] && [ -z "$failures" ]; then ok "$1: $count $2"; else fail "$1: $failures"; fi
}
nix_unit tests/nix/lib-test.nix "unit tests of nix/lib.nix and the sysroot and lambda-zip wiring"
nix_unit tests/nix/flake-test.nix "tests of every flake output's wiring, with stand-ins for nixpkgs, crane, fenix"
# The same, with Nix warning on stderr (a build-users-group that does not
# exist, as on a fresh Debian machine): still the same results.
NIX_CONFIG="build-users-group = lambda-no-such-group" nix_unit tests/nix/lib-test.nix "unit tests, with a Nix warning on stderr"

# The flake's sysroot variables are exactly the ones the non-Nix pipeline sets.
nix_vars=$(nix-instantiate --eval --strict --json -E '(import ./nix/lib.nix).sysrootVariables' | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')
script_vars=$(scripts/build-openssl --print-env | cut -d= -f1 | sort | tr '\n' ' ' | sed 's/ $//')
[ "$nix_vars" = "$script_vars" ] && ok "sysroot variables: $nix_vars" || fail "nix sets [$nix_vars], scripts/build-openssl sets [$script_vars]"

# The flake's build, package and verify steps are the pipeline script's, and
# the non-Nix entry point runs that same script, all three steps.
steps=$(nix-instantiate --eval --strict --json -E 'let p = (import ./nix/lib.nix).pipeline "ROOT"; in [ p.build (p.package "OUT") (p.verify "OUT") ]')
[ "$steps" = '["bash ROOT/scripts/pipeline build","bash ROOT/scripts/pipeline package OUT","bash ROOT/scripts/pipeline verify OUT"]' ] \
  && ok "flake steps: $steps" || fail "flake steps: $steps"
grep -q '"$ROOT/scripts/pipeline" all' scripts/build-lambda-zip && ok "scripts/build-lambda-zip runs scripts/pipeline all" \
  || fail "scripts/build-lambda-zip does not run scripts/pipeline all"
grep -qx '  all) timed "pipeline build" build; timed "pipeline package" package "${2:-}"; timed "pipeline verify" verify "${2:-}" ;;' scripts/pipeline && ok "pipeline all = build, package, verify" \
  || fail "scripts/pipeline all is not build, package, verify"

# CircleCI builds in the image its publish job pushes (under one parameter).
image_param=$(sed -n 's/^ *- image: << pipeline.parameters.\(.*\) >>$/\1/p' .circleci/config.yml)
pushes=$(grep -c 'docker push "<< pipeline.parameters.'"$image_param"' >>"' .circleci/config.yml)
[ "$image_param" = toolchain-image ] && [ "$pushes" = 1 ] && grep -q 'nix build .#docker-image' .circleci/config.yml \
  && ok "CircleCI builds in the image its publish job builds (.#docker-image) and pushes" \
  || fail "CircleCI: the build image ($image_param) is not the one the publish job pushes"

# The flake's shell strings and the scripts it relies on, run for real.
if out=$(bash tests/nix/hooks-test.sh 2>&1); then
  ok "tests/nix/hooks-test.sh: $(echo "$out" | tail -1)"
else
  echo "$out" | grep -v '^ok: '
  fail "tests/nix/hooks-test.sh"
fi

# checks.nextest and checks.clippy as the build sandbox runs them: from a copy
# of nix/source.nix's fileset, no network, a minimal /etc, an unwritable HOME,
# the checks' tools only.
if out=$(bash tests/nix/sandbox-test.sh 2>&1); then
  ok "tests/nix/sandbox-test.sh: lambda-audit's clippy and tests from nix/source.nix's fileset in a sandbox-like namespace ($(echo "$out" | grep -c '^test result: ok') test binaries)"
else
  echo "$out" | tail -40
  fail "tests/nix/sandbox-test.sh"
fi

echo "nix: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
