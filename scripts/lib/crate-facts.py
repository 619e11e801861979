"""What the pipeline needs to know about the crate it builds, from
`cargo metadata --no-deps` on standard input. A crate that cannot be what is
asked gets one line saying what to change (exit 2).

  crate-facts.py KIND [--package P] [--bin B] [--example E]
    One KEY=VALUE line each for package, lib (the cdylib's name) or bin (the
    program's) or example, workspace_root and target_directory. KIND is the
    runtime's artifact: `python-module` (a crowbar cdylib), `pyo3-module` (a
    PyO3 cdylib, built by maturin; also module, its Python name) or `program`
    (a binary, or an example, run as `bootstrap`).
  crate-facts.py functions [--package P]...
    Every Lambda function of the workspace (or of the packages named), one
    line each: FUNCTION KIND PACKAGE BIN (BIN is - for a module). A cdylib
    depending on crowbar is a python-module named after its package, one
    depending on pyo3 (or pyo3-ffi) a pyo3-module named after its package; a
    package's bin named `bootstrap` is its one program, named after the
    package; otherwise each bin is a program named after the bin (as
    cargo-lambda names them)."""

import argparse
import json
import sys

def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def cdylib_targets(package):
    return [t for t in package["targets"] if "cdylib" in t["crate_types"]]


def shown(name):
    """A name as a message shows it: quoted, a newline or any control
    character escaped, so no name makes a line of its own."""
    return repr(name)


def buildable(name):
    """Whether rustc takes `name` as a crate name once cargo has made its
    `-` a `_` (letters, digits and `_`): cargo metadata lists any bin name,
    and only the build refuses one with a newline or `$(`."""
    return name != "" and all(c.isalnum() or c in "-_" for c in name)


def targets_of_kind(package, kind):
    names = [t["name"] for t in package["targets"] if kind in t["kind"]]
    for name in names:
        if not buildable(name):
            fail(f"{package['name']}'s {kind} {shown(name)} is no name cargo can build (letters, digits, - and _): "
                 f"rename it in {package['manifest_path']}")
    return names


def depends_on_crowbar(package):
    return any(d["name"] == "crowbar" for d in package["dependencies"])


def depends_on_pyo3(package):
    return any(d["name"] in ("pyo3", "pyo3-ffi") and d.get("kind") in (None, "normal")
               for d in package["dependencies"])


def maturin_module_name(package, lib):
    """The module's Python name: pyproject.toml's [tool.maturin] module-name
    beside the manifest (maturin's rule), else the cdylib's name."""
    import os
    import tomllib
    pyproject = os.path.join(os.path.dirname(package["manifest_path"]), "pyproject.toml")
    try:
        with open(pyproject, "rb") as f:
            name = tomllib.load(f).get("tool", {}).get("maturin", {}).get("module-name")
    except FileNotFoundError:
        name = None
    except (OSError, tomllib.TOMLDecodeError) as e:
        fail(f"{pyproject}: cannot read it: {e}")
    if name is not None and (not isinstance(name, str) or not all(p.isidentifier() for p in name.split("."))):
        fail(f"{pyproject}: [tool.maturin] module-name must be a dotted Python name, not {name!r}")
    return name or lib


def named(members, name, workspace_root):
    matches = [p for p in members if p["name"] == name]
    if not matches:
        fail(f"no package named {name} in {workspace_root} (it has: {', '.join(p['name'] for p in members)})")
    return matches[0]


def functions_of(package):
    """(function, kind, bin) for each Lambda function the package builds (a
    cdylib without crowbar is a library others link, not a function)."""
    found = []
    if cdylib_targets(package) and depends_on_crowbar(package):
        found.append((package["name"], "python-module", "-"))
    elif cdylib_targets(package) and depends_on_pyo3(package):
        found.append((package["name"], "pyo3-module", "-"))
    bins = targets_of_kind(package, "bin")
    if "bootstrap" in bins:
        found.append((package["name"], "program", "bootstrap"))
    else:
        found += [(name, "program", name) for name in bins]
    return found


def list_functions(metadata, members, wanted):
    root = metadata["workspace_root"]
    packages = [named(members, name, root) for name in wanted] if wanted else members
    functions = []
    for package in packages:
        found = functions_of(package)
        if wanted and not found:
            fail(f"{package['name']} is not a Lambda function: it has no cdylib depending on crowbar "
                 f"(python3.6) or pyo3 (python3.9 and later) and no bin (provided.*) ({package['manifest_path']})")
        functions += [(function, kind, package["name"], bin) for function, kind, bin in found]
    names = [f[0] for f in functions]
    for name in sorted({n for n in names if names.count(n) > 1}):
        owners = ", ".join(f"{f[2]}'s {'module' if f[1].endswith('-module') else 'bin ' + f[3]}"
                           for f in functions if f[0] == name)
        fail(f"two functions would be named {name} ({owners}): rename one, or build one with --package")
    for function in functions:
        print(*function)


def chosen_package(members, kind, wanted, example, workspace_root):
    if wanted:
        return named(members, wanted, workspace_root)
    if len(members) == 1:
        return members[0]
    if example:
        fitting = [p for p in members if example in targets_of_kind(p, "example")]
    else:
        crate_type = "bin" if kind == "program" else "cdylib"
        fitting = [p for p in members if any(crate_type in t["crate_types"] for t in p["targets"])]
    if len(fitting) != 1:
        names = ", ".join(p["name"] for p in (fitting or members))
        fail(f"name the package to build with --package (candidates: {names})")
    return fitting[0]


def program_facts(package, bin, example):
    if example:
        examples = targets_of_kind(package, "example")
        if example not in examples:
            fail(f"{package['name']} has no example {shown(example)} (it has: {', '.join(examples) or 'none'})")
        return f"example={example}"
    bins = targets_of_kind(package, "bin")
    if bin:
        if bin not in bins:
            fail(f"{package['name']} has no bin {shown(bin)} (it has: {', '.join(bins) or 'none'})")
        return f"bin={bin}"
    if "bootstrap" in bins:
        return "bin=bootstrap"
    if len(bins) == 1:
        return f"bin={bins[0]}"
    if not bins:
        fail(f'{package["name"]} builds no program: add a `[[bin]] name = "bootstrap"` to '
             f'{package["manifest_path"]} (an OS-only runtime runs the package\'s bootstrap)')
    fail(f'{package["name"]} builds several programs ({", ".join(bins)}): name the one Lambda runs `bootstrap`')


def cdylib_name(package, importer, depends, missing):
    """The cdylib's name (as rustc names its file); one line saying what to
    add when the package has none, or lacks the binding crate (`missing`)."""
    cdylibs = cdylib_targets(package)
    if not cdylibs:
        fail(f'{package["name"]} builds no shared library: add `[lib] crate-type = ["cdylib"]` to '
             f'{package["manifest_path"]} ({importer} imports a .so)')
    if not depends(package):
        fail(f'{package["name"]} does not depend on {missing}')
    return cdylibs[0]["name"].replace("-", "_")


def module_facts(package):
    lib = cdylib_name(package, "the python3.6 runtime", depends_on_crowbar,
                      'crowbar: add `crowbar = "0.2"` and `cpython = { version = "0.1", default-features = false, '
                      'features = ["python3-sys"] }` (crowbar exports the handler Lambda calls)')
    return f"lib={lib}"


def pyo3_module_facts(package):
    lib = cdylib_name(package, "a Python runtime", depends_on_pyo3,
                      f'pyo3: add `pyo3 = "0.30"` to {package["manifest_path"]} and export '
                      '`#[pyfunction] fn handler(event, context)` from its `#[pymodule]` (Lambda calls MODULE.handler)')
    return f"lib={lib}\nmodule={maturin_module_name(package, lib)}\nmanifest_path={package['manifest_path']}"


def main():
    parser = argparse.ArgumentParser(prog="crate-facts.py")
    parser.add_argument("kind", choices=["python-module", "pyo3-module", "program", "functions"])
    parser.add_argument("--package", action="append", default=[])
    parser.add_argument("--bin", default="")
    parser.add_argument("--example", default="")
    args = parser.parse_args()
    metadata = json.load(sys.stdin)
    members = [p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]]
    if args.kind == "functions":
        list_functions(metadata, members, args.package)
        return
    wanted = args.package[-1] if args.package else ""
    package = chosen_package(members, args.kind, wanted, args.example, metadata["workspace_root"])
    if args.kind == "program":
        facts = program_facts(package, args.bin, args.example)
    elif args.kind == "pyo3-module":
        facts = pyo3_module_facts(package)
    else:
        facts = module_facts(package)
    print(f"package={package['name']}")
    print(f"workspace_root={metadata['workspace_root']}")
    print(f"target_directory={metadata['target_directory']}")
    print(facts)


if __name__ == "__main__":
    main()
