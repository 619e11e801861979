"""What the pipeline needs to know about the crate it builds, from
`cargo metadata --no-deps` on standard input: one KEY=VALUE line each for
package, lib (the cdylib's name) or bin (the program's), workspace_root and
target_directory. KIND is the runtime's artifact: `python-module` (a crowbar
cdylib) or `program` (a binary, run as `bootstrap`). A crate that cannot be
that gets one line saying what to change (exit 2).
Usage: cargo metadata --no-deps --format-version 1 --manifest-path M | python3 crate-facts.py KIND [PACKAGE]"""

import json
import sys


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


metadata = json.load(sys.stdin)
kind = sys.argv[1]
wanted = sys.argv[2] if len(sys.argv) > 2 else ""
program = kind == "program"
members = [p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]]
if wanted:
    matches = [p for p in members if p["name"] == wanted]
    if not matches:
        fail(f"no package named {wanted} in {metadata['workspace_root']} (it has: {', '.join(p['name'] for p in members)})")
    package = matches[0]
elif len(members) == 1:
    package = members[0]
else:
    crate_type = "bin" if program else "cdylib"
    fitting = [p for p in members if any(crate_type in t["crate_types"] for t in p["targets"])]
    if len(fitting) != 1:
        names = ", ".join(p["name"] for p in (fitting or members))
        fail(f"name the package to build with --package (candidates: {names})")
    package = fitting[0]

print(f"package={package['name']}")
print(f"workspace_root={metadata['workspace_root']}")
print(f"target_directory={metadata['target_directory']}")
if program:
    bins = [t["name"] for t in package["targets"] if "bin" in t["kind"]]
    if "bootstrap" in bins:
        print("bin=bootstrap")
    elif len(bins) == 1:
        print(f"bin={bins[0]}")
    elif not bins:
        fail(f'{package["name"]} builds no program: add a `[[bin]] name = "bootstrap"` to '
             f'{package["manifest_path"]} (an OS-only runtime runs the package\'s bootstrap)')
    else:
        fail(f'{package["name"]} builds several programs ({", ".join(bins)}): name the one Lambda runs `bootstrap`')
    sys.exit(0)

cdylibs = [t for t in package["targets"] if "cdylib" in t["crate_types"]]
if not cdylibs:
    fail(f'{package["name"]} builds no shared library: add `[lib] crate-type = ["cdylib"]` to '
         f'{package["manifest_path"]} (the python3.6 runtime imports a .so)')
if not any(d["name"] == "crowbar" for d in package["dependencies"]):
    fail(f'{package["name"]} does not depend on crowbar: add `crowbar = "0.2"` and '
         f'`cpython = {{ version = "0.1", default-features = false, features = ["python3-sys"] }}` '
         f'(crowbar exports the handler Lambda calls)')
lib = cdylibs[0]["name"].replace("-", "_")
print(f"lib={lib}")
