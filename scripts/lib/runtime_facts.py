"""A Lambda runtime's facts, from toolchain/target.json and the runtime's
lambda-audit profile: the one reader of them, for scripts/pipeline,
scripts/build-openssl and scripts/invoke-lambda (nix/lib.nix reads the same
files the same way, in Nix).

As a program: `runtime_facts.py NAME [ARCH]` prints one line,
`PROFILE ARTIFACT GLIBC OPENSSL CRATE ARCH RUST_TARGET ZIG_ARCH
OPENSSL_CONFIGURE_TARGET TARGET_CPU ELF_MACHINE` (e.g. `provided.al2023
program 2.34 3.5.5 openssl-src@=300.5.5+3.5.5 arm64 aarch64-unknown-linux-gnu
aarch64 linux-aarch64 neoverse-n1 AArch64`; TARGET_CPU `-` when the Rust
target's default is kept; ELF_MACHINE, readelf's name, may hold spaces and so
comes last), or a one-line reason and exits 2. ARCH: Lambda's name of the
instruction set (x86_64, arm64), default toolchain/target.json's
defaultArchitecture."""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UnknownRuntime(Exception):
    pass


def load_target(root=ROOT):
    with open(os.path.join(root, "toolchain/target.json")) as f:
        return json.load(f)


def runtime_names(target):
    return [name for name, runtime in target["runtimes"].items() if isinstance(runtime, dict)]


def profile_file(root, name, arch):
    """A built-in profile's file: NAME.json, or NAME-arm64.json for arm64
    (lambda-audit's rule for --arch: the same name on the other CPU)."""
    suffix = "" if arch in (None, "x86_64") or name.endswith(f"-{arch}") else f"-{arch}"
    return os.path.join(root, "lambda-audit/profiles", f"{name}{suffix}.json")


def profile_glibc(root, profile_name, arch=None):
    """The newest GLIBC_2.x node of the libc in the profile, or in the OS
    profile it extends (one level, as profiles are written), on `arch`."""
    profile = {"extends": profile_name}
    for _ in range(2):
        if "extends" in profile:
            with open(profile_file(root, profile["extends"], arch)) as f:
                profile = json.load(f)
    libc = [lib for lib in profile.get("libraries", []) if lib.get("soname") == "libc.so.6"]
    nodes = [int(m.group(1)) for v in (libc[0]["versions"] if libc else [])
             for m in [re.fullmatch(r"GLIBC_2\.(\d+)", v)] if m]
    if not nodes:
        raise UnknownRuntime(f"profile {profile_name} defines no GLIBC_2.x node in libc.so.6")
    return (2, max(nodes))


def architecture_names(target):
    return [name for name, arch in target["architectures"].items() if isinstance(arch, dict)]


def runtime_facts(name, root=ROOT, arch=None):
    """profile, artifact (python-module or program), glibc (a tuple), openssl
    (the version it links by default), openssl_crate (its openssl-src crate),
    and the architecture's facts (arch, rust_target, zig_arch,
    openssl_configure_target, target_cpu: None for the Rust target's default,
    elf_machine)."""
    target = load_target(root)
    runtime = target["runtimes"].get(name)
    if not isinstance(runtime, dict):
        raise UnknownRuntime(f"no runtime {name!r}: this toolchain builds for {', '.join(runtime_names(target))}")
    arch = arch or target["defaultArchitecture"]
    architecture = target["architectures"].get(arch)
    if not isinstance(architecture, dict):
        raise UnknownRuntime(f"no architecture {arch!r}: Lambda's are {', '.join(architecture_names(target))}")
    if arch not in runtime["architectures"]:
        raise UnknownRuntime(f"Lambda never offered {name} on {arch} (it runs on {', '.join(runtime['architectures'])} only)")
    openssl = runtime["openssl"]
    return {
        "arch": arch,
        "rust_target": architecture["rustTarget"],
        "zig_arch": architecture["zigArch"],
        "openssl_configure_target": architecture["opensslConfigureTarget"],
        "target_cpu": architecture["targetCpu"],
        "elf_machine": architecture["elfMachine"],
        "profile": runtime["profile"],
        "artifact": runtime["artifact"],
        "glibc": profile_glibc(root, runtime["profile"], arch),
        "openssl": openssl,
        "openssl_crate": target["opensslSrcCrates"][openssl]["crate"],
    }


def main(argv):
    if len(argv) not in (2, 3):
        print("usage: runtime_facts.py RUNTIME [ARCH]", file=sys.stderr)
        return 2
    try:
        facts = runtime_facts(argv[1], arch=argv[2] if len(argv) == 3 else None)
    except UnknownRuntime as e:
        print(f"error: {e} (--runtime / --arch)", file=sys.stderr)
        return 2
    glibc = ".".join(map(str, facts["glibc"]))
    print(facts["profile"], facts["artifact"], glibc, facts["openssl"], facts["openssl_crate"], facts["arch"],
          facts["rust_target"], facts["zig_arch"], facts["openssl_configure_target"], facts["target_cpu"] or "-",
          facts["elf_machine"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
