"""The Python side of a PyO3 function's package, for scripts/pipeline: the
module's wheel laid out as Lambda's importer finds it, and the function's
Python dependencies installed beside it for the runtime's Python and
platform. A one-line reason and exit 2 for anything that cannot be done.

  python_package.py install-wheel WHEEL DEST
    The wheel maturin built, unpacked into DEST as an installer lays out
    purelib/platlib (its `.data/purelib` and `.data/platlib` at the root too).
    Left out: its own `.dist-info` (the build's metadata: maturin's SBOM in
    it holds a random serial number, the build's time and the build
    machine's paths) and `.data/scripts|headers|data` (nothing Lambda runs).
  python_package.py requirements CRATE_DIR OUT
    The function's dependencies: CRATE_DIR/requirements.txt (its hashes
    honoured), else pyproject.toml's [project] dependencies, written to OUT;
    prints where they came from, or nothing (and writes nothing) if none.
  python_package.py install-deps REQUIREMENTS DEST PYTHON GLIBC ARCH
    pip installs them into DEST: wheels only, for CPython PYTHON (3.12), and
    every manylinux tag of ARCH (x86_64, aarch64) from 2_5 up to GLIBC (2.34):
    pip takes the newest wheel among those, never one that needs a newer
    glibc. When none fits, asks pip again without the glibc bound into a
    private directory and prints that directory (exit 3), for lambda-audit to
    name the file and the version that do not load; an sdist-only dependency
    gets one line.
  python_package.py foreign-files PACKAGE
    The files of PACKAGE that its dependencies brought (listed by a
    `*.dist-info/RECORD`, and the dist-info folders): their publishers' bytes.
  python_package.py elf-files PACKAGE
    One line per ELF file of PACKAGE: `own PATH` (the function's: no RECORD
    lists it) or `dep PATH` (a dependency's), PATH relative to PACKAGE.
"""

import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile


def fail(message, status=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def member_path(dest, name):
    """DEST/name for a wheel member, refusing one that would leave DEST."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", ".."):
        fail(f"the wheel has a member named {name!r}, which would be written outside the package: rebuild it")
    return os.path.join(dest, *parts)


def install_wheel(wheel, dest):
    os.makedirs(dest, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        dist_info = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        skipped = set()
        for info in z.infolist():
            top, _, rest = info.filename.partition("/")
            if info.is_dir() or top in dist_info:
                continue
            if top.endswith(".data"):
                kind, _, inner = rest.partition("/")
                if kind not in ("purelib", "platlib"):
                    skipped.add(kind)
                    continue
                target = member_path(dest, inner)
            else:
                target = member_path(dest, info.filename)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            # Keep the executable bit the wheel gives (a module is 0755).
            if (info.external_attr >> 16) & 0o111:
                os.chmod(target, 0o755)
    for kind in sorted(skipped):
        print(f"==> note: the wheel's .data/{kind}/ is left out: Lambda imports modules, it runs no installed {kind}",
              file=sys.stderr)


def requirements(crate_dir, out):
    path = os.path.join(crate_dir, "requirements.txt")
    if os.path.isfile(path):
        shutil.copyfile(path, out)
        print(path)
        return
    pyproject = os.path.join(crate_dir, "pyproject.toml")
    if not os.path.isfile(pyproject):
        return
    try:
        with open(pyproject, "rb") as f:
            project = tomllib.load(f).get("project", {})
    except (OSError, tomllib.TOMLDecodeError) as e:
        fail(f"{pyproject}: cannot read it: {e}")
    deps = project.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        fail(f"{pyproject}: [project] dependencies must be a list of requirement strings")
    if deps:
        with open(out, "w") as f:
            f.write("".join(d + "\n" for d in deps))
        print(f"{pyproject} [project] dependencies")


def platforms(glibc_minor, arch, newest=None):
    """pip's --platform tags: every manylinux tag of ARCH up to the glibc
    (pip does not widen one tag to the older ones), the legacy aliases too."""
    top = glibc_minor if newest is None else newest
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(top, 4, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    tags += [f"{name}_{arch}" for name, minor in legacy.items()
             if minor <= top and (arch == "x86_64" or name == "manylinux2014")]
    return tags


def pip(requirements_file, dest, python, tags, extra=()):
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
               "--target", dest, "--no-compile", "--only-binary=:all:", "--implementation", "cp",
               "--python-version", python, "-r", requirements_file, *extra]
    for tag in tags:
        command += ["--platform", tag]
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def pip_reason(output):
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    for line in lines:
        if line.startswith("ERROR:"):
            return line[len("ERROR:"):].strip()
    return lines[-1] if lines else "pip failed"


def install_deps(requirements_file, dest, python, glibc, arch):
    glibc_minor = int(glibc.split(".")[1])
    run = pip(requirements_file, dest, python, platforms(glibc_minor, arch))
    if run.returncode == 0:
        return
    reason = pip_reason(run.stdout)
    if "does not match" in reason or "hash" in reason.lower():
        fail(f"the dependencies ({requirements_file}) cannot be installed: {reason}")
    # Is there a wheel at all, for a newer glibc? Then the audit names it.
    wider = os.path.join(tempfile.mkdtemp(prefix="lambda-wheels."), "wheels-for-newer-glibc")
    again = pip(requirements_file, wider, python, platforms(glibc_minor, arch, newest=40))
    if again.returncode == 0:
        print(f"==> no wheel for glibc {glibc} or older satisfies the dependencies ({reason}): "
              f"the wheels for a newer glibc are audited for the runtime instead, to name what does not load",
              file=sys.stderr)
        print(wider)
        sys.exit(3)
    shutil.rmtree(os.path.dirname(wider), ignore_errors=True)
    match = re.search(r"the requirement (\S+)", reason)
    name = match.group(1) if match else "a dependency"
    fail(f"{name} has no wheel for CPython {python} on Linux {arch} (only a source distribution, or none), "
         f"and the build installs wheels only: pick a version that publishes manylinux wheels, or vendor it ({reason})")


def foreign(package):
    found = set()
    for entry in sorted(os.listdir(package)):
        dist_info = os.path.join(package, entry)
        if not (entry.endswith(".dist-info") and os.path.isdir(dist_info)):
            continue
        for dirpath, _, filenames in os.walk(dist_info):
            found.update(os.path.relpath(os.path.join(dirpath, n), package) for n in filenames)
        record = os.path.join(dist_info, "RECORD")
        if os.path.isfile(record):
            with open(record, newline="", encoding="utf-8") as f:
                for row in csv.reader(f):
                    if row:
                        found.add(os.path.normpath(row[0]))
    return found


def foreign_files(package):
    for name in sorted(foreign(package)):
        print(name)


def elf_files(package):
    theirs = foreign(package)
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
            relative = os.path.relpath(path, package)
            print("dep" if relative in theirs else "own", relative)


def main(argv):
    commands = {"install-wheel": (install_wheel, 2), "requirements": (requirements, 2),
                "install-deps": (install_deps, 5), "foreign-files": (foreign_files, 1),
                "elf-files": (elf_files, 1)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        fail("usage: python_package.py install-wheel WHEEL DEST | requirements CRATE_DIR OUT | "
             "install-deps REQUIREMENTS DEST PYTHON GLIBC ARCH | foreign-files PACKAGE | elf-files PACKAGE")
    function, _ = commands[argv[1]]
    try:
        function(*argv[2:])
    except (OSError, zipfile.BadZipFile) as e:
        fail(f"{argv[1]}: {e}")


if __name__ == "__main__":
    main(sys.argv)
