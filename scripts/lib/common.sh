# Sourced by every script in scripts/: paths, caches and the target
# definition (toolchain/target.json, which nix/lib.nix reads too).
set -euo pipefail

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

# Writes files into place only when complete: DEST appears whole or not at all.
atomic_dir() { # atomic_dir TMPDIR DEST
  rm -rf "$2.old"; [ ! -e "$2" ] || mv "$2" "$2.old"; mv "$1" "$2"; rm -rf "$2.old"
}
