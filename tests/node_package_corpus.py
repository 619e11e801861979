"""Writes tests/node-package-corpus.json, the packages of test_node_packages.py:
for each SPEC given as CPU:SPEC (x64 or arm64, an npm package@version-range),
the function npm 11 makes of `npm install SPEC` on linux, that CPU and glibc
(`--package-lock-only --os linux --cpu CPU --libc glibc`): every package of its
node_modules/ at its path, with the version and registry integrity of its
tarball. Packages npm would not install there (their os, cpu or libc fields)
and those bundled in another's tarball are left out. Run by hand, with npm on
PATH, when the corpus changes: python3 tests/node_package_corpus.py CPU:SPEC…"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).with_name("node-package-corpus.json")
ABOUT = __doc__.split("\n\n")[0].replace("\n", " ")


def allows(field, value):
    """npm-install-checks' checkList for one os/cpu/libc field."""
    if field is None:
        return True
    names = [field] if isinstance(field, str) else field
    if names == ["any"]:
        return True
    if "!" + value in names:
        return False
    return value in names or all(n.startswith("!") for n in names)


def installed(spec, cpu):
    with tempfile.TemporaryDirectory() as d:
        Path(d, "package.json").write_text(json.dumps({"name": "function", "version": "1.0.0"}))
        command = ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
                   "--os", "linux", "--cpu", cpu, "--libc", "glibc", spec]
        result = subprocess.run(command, cwd=d, capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"{spec}: {result.stderr}")
        packages = json.loads(Path(d, "package-lock.json").read_text())["packages"]
    function = {}
    for path, meta in sorted(packages.items()):
        if not path or meta.get("link") or meta.get("inBundle"):
            continue
        if not all(allows(meta.get(f), v) for f, v in (("os", "linux"), ("cpu", cpu), ("libc", "glibc"))):
            continue
        function[path] = [path.split("node_modules/")[-1], meta["version"], meta["integrity"]]
    return function


def main(args):
    functions = json.loads(CORPUS.read_text())["functions"] if CORPUS.exists() else {}
    for arg in args:
        cpu, spec = arg.split(":", 1)
        functions[f"{spec} {cpu}"] = installed(spec, cpu)
    CORPUS.write_text(json.dumps({"about": ABOUT, "functions": functions}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
