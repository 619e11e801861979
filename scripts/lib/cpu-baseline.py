"""Refuses a build asked to compile for the build machine's own CPU.

`-C target-cpu=native` (Rust) and `-mcpu=native` / `-march=native` (C) mean
"every instruction this machine has": an artifact built so runs here and dies
with SIGILL on a Lambda machine that lacks one of them (cargo-lambda issue
934: `target-cpu=native` in a .cargo/config.toml reached cargo-zigbuild's C
compiler as `-mcpu=native`, and an arm64 function crashed on some hosts only).
The pipeline pins the architecture's CPU baseline itself
(toolchain/target.json `architectures`), so any of these is a mistake.

Usage: cpu-baseline.py build DIR RUST_TARGET BASELINE
       cpu-baseline.py c RUST_TARGET BASELINE
  build: a cargo build run in DIR (the environment, and the .cargo/config.toml
  files read from DIR up, then $CARGO_HOME's); c: a C build alone (the C flag
  variables, which OpenSSL's Configure reads too). BASELINE: what the build
  pins instead, for the message.
Prints nothing and exits 0, or one line naming the first place that asks for
`native` and exits 2."""

import os
import re
import sys
import tomllib

RUST_NATIVE = re.compile(r"target-cpu\s*=\s*native\b")
C_NATIVE = re.compile(r"-m(cpu|arch)=native\b")


def flags_text(value):
    """A rustflags/CFLAGS value as one string: cargo takes a string or a list."""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):  # [env] NAME = { value = "..." }
        return str(value.get("value", ""))
    return str(value)


def config_files(directory, cargo_home):
    """The configuration files cargo reads for a build run in `directory`, in its order."""
    found = []
    here = os.path.abspath(directory)
    while True:
        for name in ("config.toml", "config"):
            path = os.path.join(here, ".cargo", name)
            if os.path.isfile(path):
                found.append(path)
                break
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    for name in ("config.toml", "config"):
        path = os.path.join(cargo_home, name)
        if os.path.isfile(path) and path not in found:
            found.append(path)
            break
    return found


def c_variables(rust_target):
    """The variables cc-rs (every C build script's compiler driver) reads flags from."""
    names = []
    for flags in ("CFLAGS", "CXXFLAGS"):
        names += [f"{flags}_{rust_target}", f"{flags}_{rust_target.replace('-', '_')}", f"TARGET_{flags}", flags]
    return names


def rust_variables(rust_target):
    return ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS",
            f"CARGO_TARGET_{rust_target.upper().replace('-', '_')}_RUSTFLAGS"]


def native_c_request(rust_target, environ):
    """(where, what) of the first C flag variable asking for the build machine's CPU, or None."""
    for name in c_variables(rust_target):
        match = C_NATIVE.search(environ.get(name, ""))
        if match:
            return name, match.group(0)
    return None


def native_request(directory, rust_target, environ):
    """(where, what) of the first request for the build machine's CPU, or None."""
    for name in rust_variables(rust_target):
        if RUST_NATIVE.search(environ.get(name, "").replace("\x1f", " ")):
            return name, "-C target-cpu=native"
    found = native_c_request(rust_target, environ)
    if found:
        return found
    cargo_home = environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo")
    for path in config_files(directory, cargo_home):
        try:
            with open(path, "rb") as f:
                config = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError):
            continue  # cargo itself reports a file it cannot read
        tables = [("[build] rustflags", config.get("build", {}))]
        tables += [(f"[target.{name}] rustflags", table) for name, table in config.get("target", {}).items()
                   if isinstance(table, dict)]
        for where, table in tables:
            if RUST_NATIVE.search(flags_text(table.get("rustflags", ""))):
                return f"{path} {where}", "-C target-cpu=native"
        # [env] reaches build scripts, and so cc-rs.
        env = config.get("env", {})
        for name in c_variables(rust_target):
            match = C_NATIVE.search(flags_text(env.get(name, "")))
            if match:
                return f"{path} [env] {name}", match.group(0)
    return None


def main(argv):
    if argv[1:2] == ["build"] and len(argv) == 5:
        directory, rust_target, baseline = argv[2:]
        found = native_request(directory, rust_target, os.environ)
    elif argv[1:2] == ["c"] and len(argv) == 4:
        rust_target, baseline = argv[2:]
        found = native_c_request(rust_target, os.environ)
    else:
        print("usage: cpu-baseline.py build DIR RUST_TARGET BASELINE | c RUST_TARGET BASELINE", file=sys.stderr)
        return 2
    if not found:
        return 0
    where, what = found
    print(f"error: {where} asks for {what}, this build machine's CPU: a Lambda machine without its "
          f"instructions kills the function (SIGILL); remove it (the build pins the runtime's CPU baseline, "
          f"{baseline})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
