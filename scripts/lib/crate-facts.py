"""What the pipeline needs to know about the crate it builds, from
`cargo metadata --no-deps` on standard input: one KEY=VALUE line each for
package, lib (the cdylib's name), workspace_root and target_directory. A crate
that cannot be a crowbar module gets one line saying what to change (exit 2).
Usage: cargo metadata --no-deps --format-version 1 --manifest-path M | python3 crate-facts.py [PACKAGE]"""

import json
import sys


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


metadata = json.load(sys.stdin)
wanted = sys.argv[1] if len(sys.argv) > 1 else ""
members = [p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]]
if wanted:
    matches = [p for p in members if p["name"] == wanted]
    if not matches:
        fail(f"no package named {wanted} in {metadata['workspace_root']} (it has: {', '.join(p['name'] for p in members)})")
    package = matches[0]
elif len(members) == 1:
    package = members[0]
else:
    with_cdylib = [p for p in members if any("cdylib" in t["crate_types"] for t in p["targets"])]
    if len(with_cdylib) != 1:
        names = ", ".join(p["name"] for p in (with_cdylib or members))
        fail(f"name the package to build with --package (candidates: {names})")
    package = with_cdylib[0]

cdylibs = [t for t in package["targets"] if "cdylib" in t["crate_types"]]
if not cdylibs:
    fail(f'{package["name"]} builds no shared library: add `[lib] crate-type = ["cdylib"]` to '
         f'{package["manifest_path"]} (the python3.6 runtime imports a .so)')
if not any(d["name"] == "crowbar" for d in package["dependencies"]):
    fail(f'{package["name"]} does not depend on crowbar: add `crowbar = "0.2"` and '
         f'`cpython = {{ version = "0.1", default-features = false, features = ["python3-sys"] }}` '
         f'(crowbar exports the handler Lambda calls)')
lib = cdylibs[0]["name"].replace("-", "_")
print(f"package={package['name']}")
print(f"lib={lib}")
print(f"workspace_root={metadata['workspace_root']}")
print(f"target_directory={metadata['target_directory']}")
