"""The body of scripts/profile-runtime-data (see there)."""
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.request

ROOT, AUDIT, CACHE, WORK = sys.argv[1:]
PROFILES = os.path.join(ROOT, "lambda-audit", "profiles")
PINS = json.load(open(os.path.join(PROFILES, "distribution-packages.json")))["packages"]
MULTIARCH = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"]

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
                ("amazonlinux-2023", "libz.so.1"): "ZLIB_1.2.11"}
GCC_RUNTIME = {"libstdc++.so.6": "bookworm-libstdc++6", "libgcc_s.so.1": "bookworm-libgcc-s1",
               "libz.so.1": "bookworm-zlib1g"}
# The Python runtimes: the OS they run on (docs/runtime-facts.md §2, §3, §5).
PYTHONS = {"3.6": "amazonlinux-2017.03-python3.6", "3.8": "amazonlinux-2", "3.9": "amazonlinux-2",
           "3.10": "amazonlinux-2", "3.11": "amazonlinux-2", "3.12": "amazonlinux-2023",
           "3.13": "amazonlinux-2023"}


def unpacked(key, *more):
    """The pinned packages, each downloaded once (cache) and checked, unpacked into one tree under WORK."""
    tree = os.path.join(WORK, "+".join((key,) + more))
    if not os.path.isdir(tree):
        for one in (key,) + more:
            subprocess.run(["dpkg-deb", "-x", fetched(one), tree], check=True)
    return tree


def fetched(key):
    pin = PINS[key]
    os.makedirs(CACHE, exist_ok=True)
    deb = os.path.join(CACHE, pin["sha256"] + ".deb")
    if not os.path.exists(deb):
        urllib.request.urlretrieve(pin["url"], deb + ".part")
        os.replace(deb + ".part", deb)
    digest = hashlib.sha256(open(deb, "rb").read()).hexdigest()
    if digest != pin["sha256"]:
        os.remove(deb)
        sys.exit(f"{pin['url']}: sha256 {digest}, pinned {pin['sha256']}")
    return deb


def scan(tree, *extra):
    out = os.path.join(WORK, "scan.json")
    subprocess.run([AUDIT, "profile", "scan", tree, "--name", "scan", "--default-path", ":".join(MULTIARCH),
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


def os_profiles():
    for name, facts in OS.items():
        path = os.path.join(PROFILES, name + ".json")
        profile = json.load(open(path))
        libraries = {lib["soname"]: lib for lib in profile["libraries"]}
        template = libraries["libc.so.6"]["paths"]
        glibc = node_key(facts["glibc"])
        older = lambda node: node.startswith("GLIBC_2.") and node_key(node) <= glibc
        debian = {lib["soname"]: lib for lib in scan(unpacked(facts["debian_glibc"]))["libraries"]}
        wanted = list(GLIBC_FAMILY)
        if facts["libcrypt"]:
            debian.update({lib["soname"]: lib for lib in scan(unpacked("bullseye-libcrypt1"))["libraries"]})
            wanted.append("libcrypt.so.1")
        for soname in wanted:
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
            lib["note"] = f"versions and exports: Debian's glibc ({PINS[facts['debian_glibc']]['url'].rsplit('/', 1)[1]}) cut to the nodes of glibc {facts['glibc']} (docs/runtime-facts.md §5)"
        if glibc >= (2, 34):
            # zig's stubs are made for linking: a function glibc 2.34 moved
            # into libc (pthread_create, dlopen) is there only at its new
            # GLIBC_2.34 version, while the real libc also keeps the old
            # version that every binary linked before 2.34 asks for.
            for soname in ("libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2"):
                lib = libraries[soname]
                real = cut(debian[soname]["exports"], older)
                # A node the facts file does not name (ld.so's GLIBC_2.34
                # placeholder) is taken from the real library.
                lib["versions"] += sorted(set(ordered_nodes(real)) - set(lib["versions"]), key=node_key)
                lib["exports"] = sorted(set(lib["exports"]) | set(real))
                add_note(lib, f"exports: zig's glibc {facts['glibc']} stubs and the real library of {PINS[facts['debian_glibc']]['url'].rsplit('/', 1)[1]} cut to glibc {facts['glibc']}'s nodes (docs/runtime-facts.md §5)")
        for soname, key in GCC_RUNTIME.items():
            lib = libraries[soname]
            real = {l["soname"]: l for l in scan(unpacked(key))["libraries"]}[soname]
            if lib.get("versions") is None:
                cap = VERSION_CAPS[(name, soname)]
                nodes = [n for n in real["versions"][1:] if family_of(n) == family_of(cap) and node_key(n) <= node_key(cap)]
                lib["versions"] = [soname] + sorted(nodes, key=node_key)
            nodes = set(lib["versions"])
            lib["exports"] = cut(real["exports"], lambda n: n in nodes)
            note = f"exports: Debian's {PINS[key]['url'].rsplit('/', 1)[1]} cut to these version nodes (docs/runtime-facts.md §5)"
            add_note(lib, note)
        cite(profile, "docs/runtime-facts.md §5 (glibc's other libraries, libstdc++, libgcc_s and libz exports: Debian builds cut to this runtime's version nodes by scripts/profile-runtime-data)")
        write(path, profile)
        print(f"{name}: glibc family and gcc runtime exports written", file=sys.stderr)


def python_host(version):
    # With a libc beside it: a tree the scan takes for a root filesystem.
    tree = unpacked("python" + version, "bookworm-libc6")
    exe = f"/usr/bin/python{version}"
    scanned = scan(tree, "--host-exe", exe, "--module-init-prefix", "PyInit_")["host"]
    # The C API: Py*/_Py* names. The distribution's other exports (its
    # built-in modules' PyInit_*, a static expat) are its build choices.
    exports = sorted(e for e in scanned["exports"] if e.startswith(("Py", "_Py")) and not e.startswith("PyInit_"))
    package = PINS["python" + version]["url"].rsplit("/", 1)[1]
    return {
        "executable": f"/var/lang/bin/python{version}",
        "module_init_prefix": "PyInit_",
        "exports": exports,
        "extension_suffixes": scanned["extension_suffixes"],
    }, package


def python_profiles():
    for version, base in PYTHONS.items():
        host, package = python_host(version)
        source = f"docs/runtime-facts.md §5 (interpreter exports and module suffixes: {package}'s python{version}, read by lambda-audit profile scan --host-exe)"
        if base == "amazonlinux-2017.03-python3.6":
            path = os.path.join(PROFILES, base + ".json")
            profile = json.load(open(path))
            profile["host"].pop("export_prefixes", None)
            profile["host"].update(host)
            profile["host"]["executable"] = "/var/lang/bin/python3.6"
            cite(profile, source)
            write(path, profile)
        host.setdefault("needed", [])
        os_name = "Amazon Linux 2" if base == "amazonlinux-2" else "Amazon Linux 2023" if base == "amazonlinux-2023" else "Amazon Linux 2017.03"
        section = {"amazonlinux-2": "§2", "amazonlinux-2023": "§3"}.get(base, "§1.2")
        profile = {
            "schema": 1,
            "name": f"python{version}",
            "description": f"AWS Lambda's python{version} runtime on {os_name} ({base}): {host['executable']} imports the function's extension modules; the interpreter's exports and accepted module suffixes are those of Python {version}.",
            "extends": base,
            "sources": [
                f"docs/runtime-facts.md {section} (the OS, LD_LIBRARY_PATH) and §6 (runtime identifiers)",
                source,
            ],
        }
        if base != "amazonlinux-2017.03-python3.6":
            host["needed"] = ["libm.so.6", "libc.so.6"] if base == "amazonlinux-2023" else [
                "libpthread.so.0", "libdl.so.2", "libutil.so.1", "libm.so.6", "libc.so.6"]
            profile["host"] = {k: host[k] for k in ("executable", "module_init_prefix", "needed", "exports", "extension_suffixes")}
        write(os.path.join(PROFILES, f"python{version}.json"), profile)
        print(f"python{version}: {len(host['exports'])} exports, suffixes {host['extension_suffixes']}", file=sys.stderr)


os_profiles()
python_profiles()
