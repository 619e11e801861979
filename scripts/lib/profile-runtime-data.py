"""The body of scripts/profile-runtime-data (see there)."""
import base64
import json
import os
import re
import subprocess
import sys

from pinned import NotThePinnedFile, pinned_file

ROOT, AUDIT, CACHE, WORK, STAGE = sys.argv[1:]
PROFILES = os.path.join(ROOT, "lambda-audit", "profiles")
PINS = json.load(open(os.path.join(PROFILES, "distribution-packages.json")))["packages"]
# Lambda's architectures (docs/runtime-facts.md §4): the suffix of their
# profile files and pinned packages, Debian's multiarch directory, the loader.
ARCHES = {
    "x86_64": {"suffix": "", "multiarch": "x86_64-linux-gnu", "loader": "ld-linux-x86-64.so.2"},
    "arm64": {"suffix": "-arm64", "multiarch": "aarch64-linux-gnu", "loader": "ld-linux-aarch64.so.1"},
}
# The OS profiles Lambda has on arm64 (python3.6's Amazon Linux 2017.03 is x86_64 only).
ARM64_OS = ["amazonlinux-2", "amazonlinux-2023"]

# The OS profiles: glibc release, and the Debian glibc whose libraries are cut
# down to it (the newest one it predates: moves between libraries stay out).
OS = {
    "amazonlinux-2017.03-python3.6": {"glibc": "2.17", "debian_glibc": "bullseye-libc6", "libcrypt": True},
    "amazonlinux-2": {"glibc": "2.26", "debian_glibc": "bullseye-libc6", "libcrypt": True},
    # AL2023's glibc is built without libcrypt (libxcrypt provides it, as an
    # optional package): not assumed present (docs/runtime-facts.md §7).
    "amazonlinux-2023": {"glibc": "2.34", "debian_glibc": "bookworm-libc6", "libcrypt": False},
}
# glibc's libraries besides those zig's stubs cover (scripts/profile-glibc-exports).
GLIBC_FAMILY = ["libresolv.so.2", "libnsl.so.1", "libanl.so.1", "libBrokenLocale.so.1",
                "libnss_files.so.2", "libnss_dns.so.2", "libnss_compat.so.2", "libthread_db.so.1",
                "libmvec.so.1", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1"]
# The newest node of a library an OS profile lists without versions (from the
# facts file: gcc 11 and zlib 1.2.11 on AL2023).
VERSION_CAPS = {("amazonlinux-2023", "libgcc_s.so.1"): "GCC_11.99",
                ("amazonlinux-2023", "libz.so.1"): "ZLIB_1.2.11",
                ("amazonlinux-2023", "liblzma.so.5"): "XZ_5.2"}
GCC_RUNTIME = {"libstdc++.so.6": "bookworm-libstdc++6", "libgcc_s.so.1": "bookworm-libgcc-s1",
               "libz.so.1": "bookworm-zlib1g"}
# Libraries only some OS profiles list, filled like the gcc runtime: AL2023's
# liblzma (xz-libs 5.2.5, which its rpm library needs: docs/runtime-facts.md §3),
# its exports from Debian's build of the same xz release.
OS_LIBRARIES = {"amazonlinux-2023": {"liblzma.so.5": "bullseye-liblzma5"}}
# AWS's runtime table (docs/runtime-facts.md §6b): each runtime identifier
# with a built-in profile, its OS profile and its deprecation date (None:
# none given). All but python3.6 are on x86_64 and arm64 (§4).
RUNTIMES = {
    "python3.6": ("amazonlinux-2017.03-python3.6", "2022-07-18"),
    "python3.8": ("amazonlinux-2", "2024-10-14"),
    "python3.9": ("amazonlinux-2", "2025-12-15"),
    "python3.10": ("amazonlinux-2", "2026-10-31"),
    "python3.11": ("amazonlinux-2", "2027-06-30"),
    "python3.12": ("amazonlinux-2023", "2028-10-31"),
    "python3.13": ("amazonlinux-2023", "2029-06-30"),
    "python3.14": ("amazonlinux-2023", "2029-06-30"),
    "provided.al2": ("amazonlinux-2", "2026-07-31"),
    "provided.al2023": ("amazonlinux-2023", "2029-06-30"),
    "java8.al2": ("amazonlinux-2", "2027-06-30"),
    "java11": ("amazonlinux-2", "2027-06-30"),
    "java17": ("amazonlinux-2", "2027-06-30"),
    "java21": ("amazonlinux-2023", "2029-06-30"),
    "java25": ("amazonlinux-2023", "2029-06-30"),
    "java8.al2023": ("amazonlinux-2023", "2029-06-30"),
    "java11.al2023": ("amazonlinux-2023", "2029-06-30"),
    "java17.al2023": ("amazonlinux-2023", "2029-06-30"),
    "ruby3.2": ("amazonlinux-2", "2026-03-31"),
    "ruby3.3": ("amazonlinux-2023", "2027-03-31"),
    "ruby3.4": ("amazonlinux-2023", "2028-03-31"),
    "ruby4.0": ("amazonlinux-2023", "2029-03-31"),
    "dotnet8": ("amazonlinux-2023", "2026-11-10"),
    "dotnet10": ("amazonlinux-2023", "2028-11-14"),
    "nodejs18.x": ("amazonlinux-2", "2025-09-01"),
    "nodejs20.x": ("amazonlinux-2023", "2026-04-30"),
    "nodejs22.x": ("amazonlinux-2023", "2027-04-30"),
    "nodejs24.x": ("amazonlinux-2023", "2028-04-30"),
}
# The dates from which AWS blocks creating functions with the runtime, then
# updating them (docs/runtime-facts.md §6b: cfn-lint 1.58.0's copy of AWS's
# table, LmbdRuntimeLifecycle.json); a runtime absent has none announced.
BLOCKS = {
    "python3.6": ("2022-07-18", "2022-08-29"),
    "python3.8": ("2027-02-01", "2027-03-03"),
    "python3.9": ("2027-02-01", "2027-03-03"),
    "python3.10": ("2027-02-01", "2027-03-03"),
    "python3.11": ("2027-07-31", "2027-08-31"),
    "python3.12": ("2028-11-30", "2029-01-10"),
    "python3.13": ("2029-07-31", "2029-08-31"),
    "python3.14": ("2029-07-31", "2029-08-31"),
    "provided.al2": ("2027-02-01", "2027-03-03"),
    "provided.al2023": ("2029-07-31", "2029-08-31"),
    "java8.al2": ("2027-07-31", "2027-08-31"),
    "java11": ("2027-07-31", "2027-08-31"),
    "java17": ("2027-07-31", "2027-08-31"),
    "java21": ("2029-07-31", "2029-08-31"),
    "java25": ("2029-07-31", "2029-08-31"),
    "ruby3.2": ("2027-02-01", "2027-03-03"),
    "ruby3.3": ("2027-04-30", "2027-05-31"),
    "ruby3.4": ("2028-04-30", "2028-05-31"),
    "ruby4.0": ("2029-04-30", "2029-05-31"),
    "dotnet8": ("2027-02-01", "2027-03-03"),
    "dotnet10": ("2028-12-14", "2029-01-15"),
    "nodejs18.x": ("2027-02-01", "2027-03-03"),
    "nodejs20.x": ("2027-02-01", "2027-03-03"),
    "nodejs22.x": ("2027-06-01", "2027-07-01"),
    "nodejs24.x": ("2028-06-01", "2028-07-01"),
}
# The runtime a deprecation warning names, by language: the newest of it
# with a built-in profile (the project's choice: the table names none).
NEWEST = {"python": "python3.14", "provided": "provided.al2023", "java": "java25",
          "ruby": "ruby4.0", "dotnet": "dotnet10", "nodejs": "nodejs24.x"}
# The Python runtimes: the OS they run on (docs/runtime-facts.md §2, §3, §5).
PYTHONS = {name[len("python"):]: RUNTIMES[name][0] for name in RUNTIMES if name.startswith("python")}
# The runtimes whose host is not Python's (docs/runtime-facts.md §6c): the
# program that loads a function's native library, what loads it, the host's
# own exports, which no pinned package gives (AWS's builds are none), and the
# sonames of its own libraries known to be in its process before the
# function's (the JVM's; Ruby's and .NET's are not known).
OTHER_HOSTS = {
    "java": {"executable": "/var/lang/bin/java", "loads": "the JVM loads the function's JNI libraries (System.loadLibrary)",
             "own": "the JVM's own exports (libjvm's JNI invocation functions such as JNI_CreateJavaVM, libjava's, libjawt's)",
             "build": "AWS's JVM, Amazon Corretto,", "loaded": ["libjvm.so", "libjava.so"]},
    "ruby": {"executable": "/var/lang/bin/ruby", "loads": "Ruby loads the function's native gem extensions (require)",
             "own": "libruby's exports (the C API an extension calls: rb_*, ruby_*)",
             "build": "AWS's Ruby build", "library": "libruby.so", "loaded": []},
    "dotnet": {"executable": "/var/lang/bin/dotnet", "loads": "the .NET host loads the function's native libraries (P/Invoke, NativeLibrary.Load)",
               "own": "the .NET host's exports (libhostfxr's, libhostpolicy's, libcoreclr's)",
               "build": "AWS's .NET build", "library": "libcoreclr.so", "loaded": []},
}
OS_NAMES = {"amazonlinux-2": "Amazon Linux 2", "amazonlinux-2023": "Amazon Linux 2023",
            "amazonlinux-2017.03-python3.6": "Amazon Linux 2017.03"}
# The sections of docs/runtime-facts.md on each OS (its LD_LIBRARY_PATH).
OS_SECTIONS = {"amazonlinux-2": "§2", "amazonlinux-2023": "§3", "amazonlinux-2017.03-python3.6": "§1.2"}


def unpacked(key, *more):
    """The pinned packages, each downloaded once (cache) and checked, unpacked into one tree under WORK."""
    tree = os.path.join(WORK, "+".join((key,) + more))
    if not os.path.isdir(tree):
        for one in (key,) + more:
            subprocess.run(["dpkg-deb", "-x", fetched(one), tree], check=True)
    return tree


def fetched(key):
    pin = PINS[key]
    try:
        return pinned_file(pin["url"], pin["sha256"], CACHE, pin["sha256"] + ".deb")
    except NotThePinnedFile as e:
        sys.exit(str(e))


def pin(key, arch):
    """The pinned package `key` of Lambda architecture `arch`."""
    return key + ARCHES[arch]["suffix"]


def scan(tree, arch, *extra):
    out = os.path.join(WORK, "scan.json")
    multiarch = ARCHES[arch]["multiarch"]
    subprocess.run([AUDIT, "profile", "scan", tree, "--name", "scan",
                    "--default-path", f"/lib/{multiarch}:/usr/lib/{multiarch}",
                    "--out", out, *extra], check=True, stdout=subprocess.DEVNULL)
    return json.load(open(out))


def node_key(node):
    """GLIBC_2.2.5 -> (2, 2, 5): version nodes in release order."""
    return tuple(int(n) for n in re.findall(r"\d+", node))


def family_of(node):
    return re.sub(r"_?[\d.]+$", "", node)


def cut(exports, keep):
    """Exports whose version node `keep` accepts, and the unversioned ones
    (zlib's original API has no node: its map file names only later additions)."""
    return sorted(e for e in exports if "@" not in e or keep(e.split("@")[-1]))


def ordered_nodes(exports):
    return sorted({e.split("@")[-1] for e in exports if "@" in e}, key=lambda n: (family_of(n), node_key(n)))


def arch_nodes(release, real):
    """The version nodes of a gcc runtime library (libgcc_s, libstdc++, libz)
    on another architecture, from the release's nodes on x86_64 (`release`)
    and this architecture's build of the pinned package (`real`, in its
    order): every node of that build that is no newer than the release's
    newest of its family. A node x86_64 has and this architecture lacks is
    dropped (libgcc_s on aarch64 starts later: no GCC_4.8.0), and one only
    this architecture has is kept (aarch64's GCC_4.5.0, its 128-bit float
    helpers such as __unordtf2); a family the release does not have on
    x86_64 (aarch64 libgcc_s's GLIBC_2.0) or a newer node (GCC_11.0) is not
    the release's to claim."""
    newest = {}
    for n in release:
        newest[family_of(n)] = max(newest.get(family_of(n), node_key(n)), node_key(n))
    return [n for n in real if n in release or family_of(n) in newest and node_key(n) <= newest[family_of(n)]]


def add_note(lib, note):
    """Keeps a library's own notes and replaces an earlier run's `exports:` note."""
    kept = [part for part in (lib.get("note") or "").split("; ") if part and not part.startswith("exports:")]
    lib["note"] = "; ".join(kept + [note])


def write(path, profile):
    with open(path + ".tmp", "w") as f:
        json.dump(profile, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(path + ".tmp", path)


def cite(profile, text):
    if text not in profile["sources"]:
        profile["sources"].append(text)


def deb_name(key):
    return PINS[key]["url"].rsplit("/", 1)[1]


def arm64_base(name, facts):
    """The arm64 OS profile's own facts, before any export is filled in: the
    x86_64 profile's (the same release: LD_LIBRARY_PATH, policy, OpenSSL and
    gcc runtime facts) with aarch64's loader, and glibc's version nodes as the
    real aarch64 build defines them, cut to the runtime's glibc (aarch64's
    oldest node is GLIBC_2.17: docs/runtime-facts.md §4)."""
    x86 = json.load(open(os.path.join(PROFILES, name + ".json")))
    glibc = node_key(facts["glibc"])
    debian_key = pin(facts["debian_glibc"], "arm64")
    debian = {lib["soname"]: lib for lib in scan(unpacked(debian_key), "arm64")["libraries"]}
    x86_loader, loader = ARCHES["x86_64"]["loader"], ARCHES["arm64"]["loader"]
    libraries = []
    for lib in x86["libraries"]:
        soname = loader if lib["soname"] == x86_loader else lib["soname"]
        paths = [p.replace(x86_loader, loader) for p in lib["paths"]]
        if soname == loader:
            # The path aarch64 programs name in PT_INTERP is /lib's.
            paths = [f"/lib/{loader}", f"/usr/lib/{loader}"] + paths
        new = {"soname": soname, "paths": paths, "versions": lib["versions"]}
        if lib.get("needed"):
            new["needed"] = [loader if n == x86_loader else n for n in lib["needed"]]
        if soname in debian and soname.split(".so")[0] in ("ld-linux-aarch64", "libc", "libm", "libpthread", "libdl", "librt", "libutil"):
            real = debian[soname]["versions"][1:]
            new["versions"] = [soname] + [n for n in real if n == "GLIBC_PRIVATE" and "GLIBC_PRIVATE" in lib["versions"]
                                          or n.startswith("GLIBC_2.") and node_key(n) <= glibc]
            new["note"] = f"versions: {deb_name(debian_key)}'s, cut to the nodes of glibc {facts['glibc']} (docs/runtime-facts.md §4)"
        elif soname.startswith(("libgcc_s", "libstdc++", "libz", "liblzma", "libssl", "libcrypto")):
            new["versions"] = lib["versions"]  # the release's nodes; checked against the real aarch64 build below
        else:
            continue  # glibc's other libraries: scripts/profile-runtime-data adds them
        libraries.append(new)
    profile = {
        "schema": 1,
        "name": name,
        "description": x86["description"].replace("AWS Lambda ", "AWS Lambda (arm64) ", 1).replace(x86_loader, loader),
        "sources": [f"docs/runtime-facts.md §4 (arm64: the release of {name} on x86_64, §{x86['sources'][0].split('§', 1)[1].split(' ', 1)[0]}, with aarch64's loader and glibc version nodes)"]
                   + [s for s in x86["sources"] if "scripts/" not in s],
        "arch": "aarch64",
        **{k: x86[k] for k in ("task_root", "ld_library_path", "default_dirs", "complete", "policy")},
        "libraries": libraries,
    }
    write(os.path.join(PROFILES, name + "-arm64.json"), profile)
    print(f"{name}-arm64: base written", file=sys.stderr)


def os_profiles(arch):
    for name, facts in OS.items():
        if arch == "arm64" and name not in ARM64_OS:
            continue
        path = os.path.join(PROFILES, name + ARCHES[arch]["suffix"] + ".json")
        profile = json.load(open(path))
        libraries = {lib["soname"]: lib for lib in profile["libraries"]}
        template = libraries["libc.so.6"]["paths"]
        glibc = node_key(facts["glibc"])
        older = lambda node: node.startswith("GLIBC_2.") and node_key(node) <= glibc
        debian_key = pin(facts["debian_glibc"], arch)
        debian = {lib["soname"]: lib for lib in scan(unpacked(debian_key), arch)["libraries"]}
        wanted = list(GLIBC_FAMILY)
        if facts["libcrypt"]:
            debian.update({lib["soname"]: lib for lib in scan(unpacked(pin("bullseye-libcrypt1", arch)), arch)["libraries"]})
            wanted.append("libcrypt.so.1")
        for soname in wanted:
            if soname not in debian:
                continue  # not built for this architecture (libmvec: x86_64 only before glibc 2.39)
            # The NSS modules export only GLIBC_PRIVATE names (for libc's own use).
            nss = soname.startswith("libnss_")
            exports = cut(debian[soname]["exports"], lambda n: older(n) or nss and n == "GLIBC_PRIVATE")
            if not exports and not nss:
                continue  # not in this glibc yet (libmvec before 2.22)
            lib = libraries.get(soname)
            if lib is None:
                lib = {"soname": soname, "paths": [p.replace("libc.so.6", soname) for p in template]}
                profile["libraries"].append(lib)
                libraries[soname] = lib
            if lib.get("exports") and soname not in ("libresolv.so.2",):
                continue  # zig's stubs (glibc's own ABI lists) already gave them
            # (From glibc 2.34 on, libnss_files and libnss_dns are empty: their code is in libc.)
            lib["versions"] = [soname] + ordered_nodes(exports)
            lib["exports"] = exports
            lib["needed"] = [n for n in debian[soname].get("needed", []) if n in libraries or n == "libc.so.6"]
            lib["note"] = f"versions and exports: Debian's glibc ({deb_name(debian_key)}) cut to the nodes of glibc {facts['glibc']} (docs/runtime-facts.md §5)"
        if glibc >= (2, 34):
            # zig's stubs are made for linking: a function glibc 2.34 moved
            # into libc (pthread_create, dlopen) is there only at its new
            # GLIBC_2.34 version, while the real libc also keeps the old
            # version that every binary linked before 2.34 asks for.
            for soname in ("libc.so.6", "libm.so.6", ARCHES[arch]["loader"]):
                lib = libraries[soname]
                real = cut(debian[soname]["exports"], older)
                # A node the facts file does not name (ld.so's GLIBC_2.34
                # placeholder) is taken from the real library.
                lib["versions"] += sorted(set(ordered_nodes(real)) - set(lib["versions"]), key=node_key)
                lib["exports"] = sorted(set(lib["exports"]) | set(real))
                add_note(lib, f"exports: zig's glibc {facts['glibc']} stubs and the real library of {deb_name(debian_key)} cut to glibc {facts['glibc']}'s nodes (docs/runtime-facts.md §5)")
        for soname, key in {**GCC_RUNTIME, **OS_LIBRARIES.get(name, {})}.items():
            lib = libraries[soname]
            key = pin(key, arch)
            real = {l["soname"]: l for l in scan(unpacked(key), arch)["libraries"]}[soname]
            if lib.get("versions") is None:
                cap = VERSION_CAPS[(name, soname)]
                nodes = [n for n in real["versions"][1:] if family_of(n) == family_of(cap) and node_key(n) <= node_key(cap)]
                lib["versions"] = [soname] + sorted(nodes, key=node_key)
            elif arch != "x86_64":
                release = json.load(open(os.path.join(PROFILES, name + ".json")))
                release = {l["soname"]: l for l in release["libraries"]}[soname]["versions"][1:]
                lib["versions"] = [soname] + arch_nodes(release, real["versions"][1:])
            nodes = set(lib["versions"])
            lib["exports"] = cut(real["exports"], lambda n: n in nodes)
            note = f"exports: Debian's {deb_name(key)} cut to these version nodes (docs/runtime-facts.md §5)"
            add_note(lib, note)
        cite(profile, "docs/runtime-facts.md §5 (glibc's other libraries, libstdc++, libgcc_s and libz exports: Debian builds cut to this runtime's version nodes by scripts/profile-runtime-data)")
        write(path, profile)
        print(f"{name}{ARCHES[arch]['suffix']}: glibc family and gcc runtime exports written", file=sys.stderr)


def scanned_host(version, arch):
    """The interpreter's C API (its Py*/_Py* exports) and module suffixes,
    read from the pinned build of Python `version` for `arch`."""
    key = pin("python" + version, arch)
    # With a libc beside it: a tree the scan takes for a root filesystem.
    tree = unpacked(key, pin("bookworm-libc6", arch))
    scanned = scan(tree, arch, "--host-exe", f"/usr/bin/python{version}", "--module-init-prefix", "PyInit_")["host"]
    # The C API: Py*/_Py* names. The distribution's other exports (its
    # built-in modules' PyInit_*, a static expat) are its build choices.
    exports = sorted(e for e in scanned["exports"] if e.startswith(("Py", "_Py")) and not e.startswith("PyInit_"))
    return exports, scanned["extension_suffixes"], f"{deb_name(key)}'s python{version}, read by lambda-audit profile scan --host-exe"


def same_release(key, other):
    """Whether two pinned packages are one release's builds (their .deb names
    differ only in the architecture): only such a pair shows which names an
    architecture alone exports, as each point release changes private ones."""
    strip = lambda k: deb_name(k).rsplit("_", 1)[0]
    return PINS[key]["url"].split("/pool/")[0] == PINS[other]["url"].split("/pool/")[0] and strip(key) == strip(other)


# Names the x86_64 interpreter exports and the arm64 one does not, learned
# from each version pinned for both (the x87 control word functions of
# Python/pymath.c, built only for x86), and those only the arm64 one exports.
X86_ONLY, ARM64_ONLY = set(), set()


def python_host(version, arch):
    """The host part of a Python runtime profile, and the words citing it.
    An arm64 interpreter whose distribution build is not pinned (Ubuntu's
    arm64 builds are on ports.ubuntu.com) is the x86_64 build's C API less
    the x86-only names the pinned pairs show, with aarch64's platform
    triplet in its suffixes (docs/runtime-facts.md §4: the rest of the C
    API is the source release's, which each pinned pair confirms)."""
    if pin("python" + version, arch) in PINS:
        exports, suffixes, words = scanned_host(version, arch)
        if arch != "x86_64" and same_release(pin("python" + version, "x86_64"), pin("python" + version, arch)):
            x86_exports, _, _ = scanned_host(version, "x86_64")
            X86_ONLY.update(set(x86_exports) - set(exports))
            ARM64_ONLY.update(set(exports) - set(x86_exports))
            print(f"python{version}: x86_64 only {sorted(set(x86_exports) - set(exports))}, "
                  f"{arch} only {sorted(set(exports) - set(x86_exports))}", file=sys.stderr)
    else:
        exports, x86_suffixes, x86_words = scanned_host(version, "x86_64")
        exports = [e for e in exports if e not in X86_ONLY]
        triplet = ARCHES[arch]["multiarch"]
        suffixes = [s.replace(ARCHES["x86_64"]["multiarch"], triplet) for s in x86_suffixes]
        words = (f"{x86_words}, without the names only x86_64 builds export ({', '.join(sorted(X86_ONLY))}) "
                 f"and with the {triplet} suffix, as docs/runtime-facts.md §4 says (no {arch} build pinned)")
    return {
        "executable": f"/var/lang/bin/python{version}",
        "module_init_prefix": "PyInit_",
        "exports": exports,
        "extension_suffixes": suffixes,
    }, words


def language(name):
    """python3.12 -> python, provided.al2 -> provided."""
    return re.match(r"[a-z]+", name).group()


def runtime_facts(name):
    """Runtime `name`'s row of AWS's table, as a profile's `runtime`."""
    base, deprecated = RUNTIMES[name]
    facts = {
        "os": base.replace("-python3.6", ""),
        "architectures": list(ARCHES) if base in ARM64_OS else ["x86_64"],
        "deprecated": deprecated,
    }
    if name in BLOCKS:
        facts["blocks_create"], facts["blocks_update"] = BLOCKS[name]
    if NEWEST[language(name)] != name:
        facts["replacement"] = NEWEST[language(name)]
    return facts


def runtime_profile(name, arch, description, *own_sources):
    """Runtime `name`'s profile for `arch` before what it adds to its OS:
    the OS it extends, its row of AWS's table, and the sources every
    runtime cites, then `own_sources`."""
    base = RUNTIMES[name][0]
    sources = ["docs/runtime-facts.md §6b (the OS, architectures and deprecation date in AWS's runtime table)",
               f"docs/runtime-facts.md {OS_SECTIONS[base]} (the OS, LD_LIBRARY_PATH) and §6 (runtime identifiers)"]
    if arch != "x86_64":
        sources.append("docs/runtime-facts.md §4 (arm64)")
    return {
        "schema": 1,
        "name": name,
        "description": description,
        "extends": base + ARCHES[arch]["suffix"],
        "runtime": runtime_facts(name),
        "sources": sources + list(own_sources),
    }


def python_profiles(arch):
    # The versions pinned for `arch` first: what they show is used for the others.
    versions = sorted(PYTHONS, key=lambda v: pin("python" + v, arch) not in PINS)
    for version in versions:
        base = PYTHONS[version]
        if arch != "x86_64" and base not in ARM64_OS:
            continue
        host, words = python_host(version, arch)
        source = f"docs/runtime-facts.md §5 (interpreter exports and module suffixes: {words})"
        if base == "amazonlinux-2017.03-python3.6":
            path = os.path.join(PROFILES, base + ".json")
            profile = json.load(open(path))
            profile["host"].pop("export_prefixes", None)
            profile["host"].update(host)
            profile["host"]["executable"] = "/var/lang/bin/python3.6"
            cite(profile, source)
            write(path, profile)
        host.setdefault("needed", [])
        on = "" if arch == "x86_64" else f" for {arch}"
        description = (f"AWS Lambda's python{version} runtime{on} on {OS_NAMES[base]} ({base}): {host['executable']} imports "
                       f"the function's extension modules; the interpreter's exports and accepted module suffixes are those of Python {version}.")
        profile = runtime_profile(f"python{version}", arch, description, source)
        if base != "amazonlinux-2017.03-python3.6":
            host["needed"] = ["libm.so.6", "libc.so.6"] if base == "amazonlinux-2023" else [
                "libpthread.so.0", "libdl.so.2", "libutil.so.1", "libm.so.6", "libc.so.6"]
            profile["host"] = {k: host[k] for k in ("executable", "module_init_prefix", "needed", "exports", "extension_suffixes")}
        write(os.path.join(PROFILES, f"python{version}{ARCHES[arch]['suffix']}.json"), profile)
        print(f"python{version}{ARCHES[arch]['suffix']}: {len(host['exports'])} exports, suffixes {host['extension_suffixes']}", file=sys.stderr)


def provided_profiles(arch):
    """provided.al2 and provided.al2023: their OS and nothing more."""
    for name in ("provided.al2", "provided.al2023"):
        base = RUNTIMES[name][0]
        on = "" if arch == "x86_64" else f" for {arch}"
        description = (f"AWS Lambda's {name} runtime{on} (OS-only, {OS_NAMES[base]}): the function is the executable `bootstrap` "
                       "at the root of its package, run as the program with the runtime's LD_LIBRARY_PATH.")
        write(os.path.join(PROFILES, name + ARCHES[arch]["suffix"] + ".json"), runtime_profile(name, arch, description))


def other_profiles(arch):
    """The java, ruby and dotnet runtimes: their OS, and a host that loads
    the function's native libraries whose own exports are not listed, so a
    symbol only it could define is counted unverified (docs/runtime-facts.md §6c)."""
    for name, (base, _) in RUNTIMES.items():
        host = OTHER_HOSTS.get(language(name))
        if host is None:
            continue
        on = "" if arch == "x86_64" else f" for {arch}"
        description = (f"AWS Lambda's {name} runtime{on} on {OS_NAMES[base]} ({base}): {host['loads']}, judged against the OS's "
                       f"glibc, libstdc++, libgcc_s and libz; {host['own']} are not in this profile (host.note).")
        note = (f"Not in this profile: {host['own']}. {host['build']} is no package a registry reachable where the profiles "
                "are made ships, so they are not guessed: a symbol no library of the OS here defines (one the function's "
                f"library takes from {host['executable']}'s process) is counted as unverified, not judged")
        if host["loaded"]:
            note += (f". Its own {' and '.join(host['loaded'])} are in that process before the function's library, so a "
                     "DT_NEEDED of one is that copy (docs/runtime-facts.md §6c).")
        else:
            note += (f", and a library that names {host['library']} (or another of the runtime's own libraries) in "
                     "DT_NEEDED is reported as not found (docs/runtime-facts.md §6c).")
        profile = runtime_profile(name, arch, description,
                                  "docs/runtime-facts.md §6c (the host, and what the profile does not know of it)")
        profile["host"] = {"executable": host["executable"], "loaded": host["loaded"], "note": note}
        if not host["loaded"]:
            del profile["host"]["loaded"]
        write(os.path.join(PROFILES, name + ARCHES[arch]["suffix"] + ".json"), profile)


# The Node.js runtimes' official builds (docs/runtime-facts.md §5a).
NODE_PINS = json.load(open(os.path.join(PROFILES, "node-packages.json")))["packages"]
# What an addon binds to by name and the profile lists exactly: N-API and
# libuv. node's other exports (V8's and node's C++ API, its OpenSSL, zlib,
# ...) are left out: tens of thousands of names, which only an addon built
# for one NODE_MODULE_VERSION uses, and that version is checked instead.
NODE_EXPORTS_COVER = ["napi_", "node_api_", "uv_"]


def node_tarball(key):
    """The pinned npm tarball of an official Node.js build, downloaded once
    (cache, by its integrity) and checked against the integrity."""
    pin = NODE_PINS[key]
    algorithm, digest = pin["integrity"].split("-", 1)
    digest = base64.b64decode(digest).hex()
    try:
        return pinned_file(pin["url"], digest, CACHE, digest + ".tgz", algorithm)
    except NotThePinnedFile as e:
        sys.exit(str(e))


def node_host(major, arch):
    """node's N-API and libuv exports, its DT_NEEDED and NODE_MODULE_VERSION,
    read from the pinned official build of Node.js `major` for `arch` (placed
    at /var/lang/bin/node in a tree with a libc, which the scan takes for a
    root filesystem)."""
    key = f"node{major}" + ARCHES[arch]["suffix"]
    tree = os.path.join(WORK, key)
    if not os.path.isdir(tree):
        subprocess.run(["dpkg-deb", "-x", fetched(pin("bookworm-libc6", arch)), tree], check=True)
        package = os.path.join(WORK, key + "-package")
        os.makedirs(package)
        subprocess.run(["tar", "-xzf", node_tarball(key), "-C", package, "package/bin/node",
                        "package/include/node/node_version.h", "package/package.json"], check=True)
        os.makedirs(os.path.join(tree, "var/lang/bin"))
        os.replace(os.path.join(package, "package/bin/node"), os.path.join(tree, "var/lang/bin/node"))
        os.replace(os.path.join(package, "package"), os.path.join(tree, "node-package"))
    header = open(os.path.join(tree, "node-package/include/node/node_version.h")).read()
    module_version = int(re.search(r"^#define NODE_MODULE_VERSION (\d+)$", header, re.M).group(1))
    version = json.load(open(os.path.join(tree, "node-package/package.json")))["version"].lstrip("v")
    scanned = scan(tree, arch, "--host-exe", "/var/lang/bin/node")["host"]
    host = {
        "executable": "/var/lang/bin/node",
        "needed": [n for n in scanned["needed"] if not n.startswith("ld-linux")],
        "exports": sorted(e for e in scanned["exports"] if e.startswith(tuple(NODE_EXPORTS_COVER))),
        "exports_cover": NODE_EXPORTS_COVER,
        "node_module_version": module_version,
    }
    words = (f"{NODE_PINS[key]['url'].rsplit('/', 1)[1]}'s bin/node (Node.js {version}), read by lambda-audit profile "
             f"scan --host-exe; NODE_MODULE_VERSION from its include/node/node_version.h")
    return host, version, words


def node_profiles(arch):
    for name in (n for n in RUNTIMES if language(n) == "nodejs"):
        major = re.match(r"nodejs(\d+)", name).group(1)
        host, version, words = node_host(major, arch)
        base = RUNTIMES[name][0]
        on = "" if arch == "x86_64" else f" for {arch}"
        description = (f"AWS Lambda's {name} runtime{on} on {OS_NAMES[base]} ({base}): /var/lang/bin/node loads the "
                       f"function's addons (.node files); N-API, libuv and NODE_MODULE_VERSION "
                       f"{host['node_module_version']} are those of Node.js {version}'s official build, and node's other "
                       f"exports (V8's and its C++ API) are not listed: a symbol an addon takes from them is counted as "
                       f"unverified.")
        profile = runtime_profile(name, arch, description,
                                  f"docs/runtime-facts.md §5a (node's exports and NODE_MODULE_VERSION: {words})")
        profile["host"] = host
        write(os.path.join(PROFILES, name + ARCHES[arch]["suffix"] + ".json"), profile)
        print(f"{name}{ARCHES[arch]['suffix']}: {len(host['exports'])} exports, "
              f"NODE_MODULE_VERSION {host['node_module_version']}", file=sys.stderr)


if STAGE == "arm64-base":
    for name in ARM64_OS:
        arm64_base(name, OS[name])
elif STAGE == "node":
    for arch in ARCHES:
        node_profiles(arch)
elif STAGE == "runtimes":
    # Only the runtimes whose profiles are their OS and the table's row (no download).
    for arch in ARCHES:
        provided_profiles(arch)
        other_profiles(arch)
else:
    for arch in ARCHES:
        os_profiles(arch)
        python_profiles(arch)
        node_profiles(arch)
        provided_profiles(arch)
        other_profiles(arch)
