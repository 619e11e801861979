# The pure parts of the flake, in builtins-only Nix (no nixpkgs), so they can
# be evaluated and unit-tested anywhere: `nix-instantiate --eval --strict`.
# Everything comes from files the non-Nix pipeline reads too:
#   toolchain/target.json  - target triples, profile, OpenSSL settings
#   .cargo/config.toml     - the Python 3.6 ABI given to python3-sys
let
  target = builtins.fromJSON (builtins.readFile ../toolchain/target.json);
  cargoConfig = builtins.fromTOML (builtins.readFile ../.cargo/config.toml);
in
rec {
  inherit target;

  # The triple rustc builds for, and the one cargo-zigbuild is given
  # (glibc version suffix: zig links against glibc 2.17's symbol lists).
  rustTarget = target.rustTarget;
  zigbuildTarget = target.zigbuildTarget;
  zigTarget = target.zigTarget;
  auditProfile = target.auditProfile;
  handler = target.handler;

  # Systems the flake evaluates on; the Lambda artifact itself is x86_64.
  lambdaSystem = "x86_64-linux";
  devSystems = [
    "x86_64-linux"
    "aarch64-linux"
  ];

  # What openssl-sys reads: the same three variables scripts/build-openssl
  # prints, pointing at a static OpenSSL installed under `prefix`.
  sysrootEnv = prefix: {
    OPENSSL_STATIC = "1";
    OPENSSL_LIB_DIR = "${prefix}/lib";
    OPENSSL_INCLUDE_DIR = "${prefix}/include";
  };

  # The names, checked against toolchain/target.json by tests/nix/lib-test.nix.
  sysrootVariables = builtins.attrNames (sysrootEnv "/prefix");

  # OpenSSL for the runtime: the flake builds 1.0.2u from the upstream tarball.
  openssl = {
    version = "1.0.2u";
    url = "https://www.openssl.org/source/openssl-1.0.2u.tar.gz";
    sha256 = "ecd0c6ffb493dd06707d38b14bb4d8c2288bb7033735606569d8f90f89669d16";
    openssldir = target.opensslDir;
    configureFlags = target.opensslConfigureFlags;
  };

  # The Python 3.6 ABI that .cargo/config.toml gives python3-sys through the
  # `links = "python3"` build-script override (no libpython is linked).
  python36Abi = cargoConfig.target.${rustTarget}.python3;

  # zig writes caches; inside the Nix sandbox they must be under $TMPDIR.
  zigCacheEnv = tmp: {
    HOME = "${tmp}/home";
    XDG_CACHE_HOME = "${tmp}/cache";
    ZIG_GLOBAL_CACHE_DIR = "${tmp}/zig-global-cache";
    ZIG_LOCAL_CACHE_DIR = "${tmp}/zig-local-cache";
    CARGO_ZIGBUILD_CACHE_DIR = "${tmp}/cargo-zigbuild-cache";
  };

  # Shell lines exporting an attribute set; values are double-quoted so that
  # $TMPDIR and the like expand when the build runs.
  exportLines =
    env:
    builtins.concatStringsSep "\n" (
      map (name: "export ${name}=\"${builtins.getAttr name env}\"") (builtins.attrNames env)
    );

  # The pipeline steps the flake runs: the same script CI runs (scripts/pipeline).
  # (Called through bash: the sandbox has no /usr/bin/env for the shebang.)
  pipeline = {
    build = "bash scripts/pipeline build";
    package = out: "bash scripts/pipeline package ${out}";
    verify = out: "bash scripts/pipeline verify ${out}";
  };
}
