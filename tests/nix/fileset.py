"""Copies exactly the files a `lib.fileset.toSource` of this flake holds.

Usage: python3 tests/nix/fileset.py NIX_FILE DEST

NIX_FILE is nix/source.nix or nix/pipeline-source.nix. Its `fs.unions [...]`
is read as Nix reads it: each `../PATH` entry (a file, or a directory with
everything under it) and `(craneLib.fileset.commonCargoSources ../.)`, which
is crane's Cargo.toml, Cargo.lock, *.rs and *.toml files (crane
lib/fileset/commonCargoSources.nix at the locked revision). A flake's source is
its git tree, so the candidates are the tracked files (`git ls-files`). A
build or a test run from DEST sees what the flake's derivation sees, and no
more: a file the fileset leaves out is missing here too."""

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def entries(nix_file):
    """The paths (relative to the checkout) and whether crane's cargo sources are in."""
    text = open(nix_file).read()
    body = text[text.index("fs.unions [") :]
    body = body[: body.index("\n  ];")]
    body = re.sub(r"#[^\n]*", "", body)
    cargo = "commonCargoSources ../." in body
    body = body.replace("(craneLib.fileset.commonCargoSources ../.)", "")
    paths = re.findall(r"\.\./([^\s)\]]+)", body)
    return paths, cargo


def selected(nix_file):
    paths, cargo = entries(nix_file)
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in tracked.decode().split("\0"):
        if not name or not os.path.lexists(os.path.join(ROOT, name)):
            continue
        base = os.path.basename(name)
        if cargo and (base in ("Cargo.toml", "Cargo.lock") or base.endswith((".rs", ".toml"))):
            yield name
        elif any(name == p or name.startswith(p.rstrip("/") + "/") for p in paths):
            yield name


def main():
    nix_file, dest = sys.argv[1:]
    for name in selected(nix_file):
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), target, follow_symlinks=False)


if __name__ == "__main__":
    main()
