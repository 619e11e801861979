#!/usr/bin/env python3
"""Seeds for the check_layers fuzz target: real function packages and
layers written in the target's input format (see check_layers.rs: a header
byte, a byte saying which are directories, then for the function and each
layer a member count and its members, names and contents verbatim).

    seed_check_layers.py OUT_DIR [NODE_MODULES_DIR]

OUT_DIR gets one file per seed. Addons and libraries are built here with
gcc (an N-API addon needing a layer's library, a NODE_MODULE_VERSION 115
addon, a bootstrap program). NODE_MODULES_DIR, if given, is a real npm
install (e.g. bufferutil 4.1.0 with node-gyp-build 4.8.4: package.json,
prebuilds for several platforms) whose files become a function's and a
layer's nodejs/node_modules/; a file over 65,535 bytes (the format's
content length) is left out.
"""

import os
import struct
import subprocess
import sys
import tempfile

PROFILES = ["nodejs20.x", "nodejs22.x", "nodejs18.x", "provided.al2023"]
FILE, EXECUTABLE, DIR, SYMLINK = 0, 1, 2, 3
VERBATIM_NAME = 4


def gcc(source, out, *flags):
    with tempfile.NamedTemporaryFile("w", suffix=".c") as c:
        c.write(source)
        c.flush()
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-s", "-o", out, c.name, *flags], check=True)
    with open(out, "rb") as f:
        return f.read()


def member(kind, name, content=b""):
    name = name.encode()
    assert len(name) < 256 and len(content) < 65536
    return bytes([kind | VERBATIM_NAME, len(name)]) + name + struct.pack("<H", len(content)) + content


def archive(members):
    return bytes([len(members)]) + b"".join(members)


def seed(profile, layers, as_dirs=0):
    """The input for a function and its layers (lists of members)."""
    header = PROFILES.index(profile) | (len(layers) - 1) << 2
    return bytes([header, as_dirs]) + b"".join(archive(m) for m in layers)


def tree(root, under):
    """Members for the files of `root`, named under `under`."""
    out = []
    for top, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            data = open(path, "rb").read()
            if len(data) < 65536:
                out.append(member(FILE, under + os.path.relpath(path, root), data))
    return out


def main(out_dir, node_modules=None):
    os.makedirs(out_dir, exist_ok=True)
    seeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        lib = gcc("int helper(void) { return 1; }\n", f"{tmp}/libhelper.so", "-Wl,-soname,libhelper.so")
        napi = gcc(
            "typedef struct napi_env__ *napi_env; typedef struct napi_value__ *napi_value;\n"
            "extern int napi_create_string_utf8(napi_env, const char *, unsigned long, napi_value *);\n"
            "extern int helper(void);\n"
            "napi_value napi_register_module_v1(napi_env env, napi_value exports) {\n"
            "  napi_value s; napi_create_string_utf8(env, \"k\", helper(), &s); return exports; }\n",
            f"{tmp}/addon.node",
            f"-L{tmp}", "-lhelper",
        )
        v8 = gcc("void node_register_module_v115(void *e, void *m, void *c) {}\n", f"{tmp}/v8.node")
        subprocess.run(
            ["gcc", "-O1", "-s", "-x", "c", "-o", f"{tmp}/bootstrap", "-"],
            input=b"int main(void) { return 0; }\n", check=True,
        )
        program = open(f"{tmp}/bootstrap", "rb").read()
    package_json = b'{"name":"addon-pkg","version":"1.0.0","main":"index.js","gypfile":true}'
    function = [
        member(FILE, "index.js", b"module.exports = require('./build/Release/addon.node');\n"),
        member(FILE, "package.json", package_json),
        member(FILE, "build/Release/addon.node", napi),
    ]
    layer_lib = [member(FILE, "lib/libhelper.so", lib)]
    # An N-API addon whose library a layer provides at /opt/lib.
    seeds["napi-with-lib-layer"] = seed("nodejs20.x", [function, layer_lib])
    seeds["napi-with-lib-layer-dirs"] = seed("nodejs22.x", [function, layer_lib], as_dirs=0b11)
    # The addon itself in a layer's nodejs/node_modules, the library in another.
    in_layer = [
        member(FILE, "nodejs/node_modules/addon-pkg/package.json", package_json),
        member(FILE, "nodejs/node_modules/addon-pkg/build/Release/addon.node", napi),
    ]
    seeds["addon-in-layer"] = seed("nodejs20.x", [[member(FILE, "index.js", b"")], in_layer, layer_lib])
    # A later layer's link to an earlier layer's file; a function's link into /opt.
    seeds["links-across-layers"] = seed(
        "nodejs20.x",
        [
            function + [member(SYMLINK, "lib/libhelper.so", b"/opt/lib/libhelper.so")],
            layer_lib,
            [member(SYMLINK, "lib/libalias.so", b"libhelper.so")],
        ],
    )
    # node 20's ABI, judged on 18 and 22 too.
    seeds["v8-addon"] = seed("nodejs18.x", [[member(FILE, "package.json", b'{"name":"v8"}'),
                                             member(FILE, "v8.node", v8)], layer_lib])
    # An OS-only runtime whose bootstrap is in a layer.
    seeds["bootstrap-in-layer"] = seed(
        "provided.al2023", [[member(FILE, "data.txt", b"x")], [member(EXECUTABLE, "bootstrap", program)]]
    )
    # Per-platform package, os/cpu/libc excluding the runtime.
    seeds["napi-rs-variant"] = seed(
        "nodejs20.x",
        [[member(FILE, "node_modules/pkg/package.json",
                 b'{"name":"pkg","optionalDependencies":{"pkg-linux-x64-gnu":"1.0.0","pkg-darwin-x64":"1.0.0"}}'),
          member(FILE, "node_modules/pkg-darwin-x64/package.json",
                 b'{"name":"pkg-darwin-x64","os":["darwin"],"cpu":["x64"]}'),
          member(FILE, "node_modules/pkg-darwin-x64/pkg.darwin-x64.node", napi)],
         layer_lib],
    )
    if node_modules:
        real = tree(node_modules, "node_modules/")
        seeds["npm-function"] = seed("nodejs20.x", [real, layer_lib])
        seeds["npm-layer"] = seed(
            "nodejs22.x", [[member(FILE, "index.js", b"")], tree(node_modules, "nodejs/node_modules/")],
            as_dirs=0b10,
        )
    for name, data in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out_dir}")


if __name__ == "__main__":
    main(*sys.argv[1:])
