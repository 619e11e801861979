# Evaluates flake.nix's `outputs` with stand-ins for nixpkgs, crane and fenix
# (attribute sets and functions that return their arguments), so that every
# output's wiring is exercised where nixpkgs cannot be downloaded: each nix/
# file gets the arguments it asks for, each output exists on each system, and
# what would reach crane, stdenv and dockerTools is what the project means.
# Run: nix-instantiate --eval --strict --json tests/nix/flake-test.nix
let
  flake = import ../../flake.nix;
  sort = builtins.sort builtins.lessThan;
  lib = import ../../nix/lib.nix;

  stubLib = {
    genAttrs =
      names: f:
      builtins.listToAttrs (
        map (name: {
          inherit name;
          value = f name;
        }) names
      );
    optional = condition: x: if condition then [ x ] else [ ];
    mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (builtins.attrNames attrs);
    fileset = {
      unions = sets: { inherit sets; };
      toSource = args: "/nix/store/source";
    };
  };

  pkgsFor = system: {
    lib = stubLib;
    stdenv = {
      hostPlatform.system = system;
      cc = {
        outPath = "/nix/store/cc";
        libc = "/nix/store/glibc";
      };
      # Like stdenv: passthru attributes are attributes of the result.
      mkDerivation =
        f:
        let
          args = f { finalPackage = "/nix/store/sysroot"; };
        in
        built "sysroot" (args // args.passthru or { });
    };
    fetchurl = args: args;
    runCommand =
      name: env: script:
      built "run" { inherit name env script; };
    dockerTools = {
      buildLayeredImage = args: args;
      caCertificates = "ca-certificates";
      usrBinEnv = "usr-bin-env";
      binSh = "bin-sh";
      fakeNss.override = args: { fakeNss = args; };
    };
  }
  // builtins.listToAttrs (
    map
      (name: {
        inherit name;
        value = "/nix/store/${name}";
      })
      [
        "bashInteractive"
        "binutils"
        "cargo-nextest"
        "cargo-zigbuild"
        "coreutils"
        "findutils"
        "gcc"
        "git"
        "gnugrep"
        "gnused"
        "gnutar"
        "gzip"
        "nixfmt"
        "openssh"
        "patchelf"
        "perl"
        "python3"
        "unzip"
        "zig"
        "zlib"
      ]
  );

  # A stand-in derivation: its arguments, what built it, and a store path.
  built =
    kind: args:
    args
    // args.passthru or { }
    // {
      inherit kind;
      outPath = "/nix/store/${kind}-${args.pname or "x"}";
    };

  craneLibFor = pkgs: toolchain: {
    inherit toolchain;
    buildPackage = built "package";
    buildDepsOnly = built "deps";
    cargoNextest = built "nextest";
    cargoClippy = built "clippy";
    cargoFmt = built "fmt";
    devShell = built "shell";
    crateNameFromCargoToml =
      { cargoToml }:
      let
        package = (builtins.fromTOML (builtins.readFile cargoToml)).package;
      in
      {
        pname = package.name;
        inherit (package) version;
      };
    fileset.commonCargoSources = path: { common = path; };
  };

  inputs = {
    self = { };
    nixpkgs = {
      lib = stubLib;
      legacyPackages = stubLib.genAttrs lib.devSystems pkgsFor;
    };
    crane.mkLib = pkgs: {
      overrideToolchain = f: craneLibFor pkgs (f pkgs);
    };
    fenix.packages = stubLib.genAttrs lib.devSystems (system: {
      combine = parts: { combined = parts; };
      stable.withComponents = components: { inherit components; };
      targets.${lib.rustTarget}.stable.rust-std = "rust-std-${lib.rustTarget}";
    });
  };

  outputs = flake.outputs inputs;
  toolchainOn =
    system:
    (import ../../nix/toolchain.nix {
      pkgs = pkgsFor system;
      inherit (inputs) fenix crane;
      inherit lib;
    }).rust.combined;
  x86 = outputs.packages.x86_64-linux;
  image = x86.docker-image;
  shell = outputs.devShells.aarch64-linux.default;
  buildTools = (builtins.head shell.inputsFrom).nativeBuildInputs;
  checks = outputs.checks.x86_64-linux;

  tests = {
    inputsAreThePinnedOnes =
      flake.inputs.nixpkgs.url == "github:NixOS/nixpkgs/nixos-26.05"
      && flake.inputs.crane.url == "github:ipetkov/crane/v0.23.4"
      && flake.inputs.fenix.inputs.rust-analyzer-src.follows == ""
      && flake.inputs.fenix.inputs.nixpkgs.follows == "nixpkgs";
    packagesAreAllThere =
      builtins.attrNames x86 == [
        "default"
        "docker-image"
        "lambda-audit"
        "lambda-zip"
        "sysroot"
      ];
    defaultIsTheZip = x86.default == x86.lambda-zip;
    lambdaZipRunsThePipeline =
      x86.lambda-zip.buildPhaseCargoCommand == lib.pipeline.build
      && x86.lambda-zip.installPhaseCommand == lib.pipeline.package "$out";
    lambdaAuditIsItsOwnPackage =
      x86.lambda-audit.pname == "lambda-audit"
      && x86.lambda-audit.cargoExtraArgs == "--locked -p lambda-audit";
    sysrootIsOpenSSL102u = x86.sysroot.version == "1.0.2u";
    devShellsOnBothSystems = builtins.attrNames outputs.devShells == sort lib.devSystems;
    devShellHasTheSysrootAndAudit =
      shell.env.OPENSSL_STATIC == "1"
      && builtins.elem "/nix/store/cargo-zigbuild" buildTools
      && builtins.match ".*/bin/lambda-audit" shell.env.LAMBDA_AUDIT != null;
    aarch64ToolchainAddsTheLambdaStd =
      builtins.elem "rust-std-x86_64-unknown-linux-gnu" (toolchainOn "aarch64-linux")
      && !(builtins.elem "rust-std-x86_64-unknown-linux-gnu" (toolchainOn "x86_64-linux"));
    toolchainIsFenixStableWithClippyAndRustfmt =
      let
        components = (builtins.head (toolchainOn "x86_64-linux")).components;
      in
      builtins.elem "clippy" components && builtins.elem "rustfmt" components;
    checksAreAllThere =
      builtins.attrNames checks == [
        "clippy"
        "fmt"
        "lambda-zip-audit"
        "nextest"
        "nixfmt"
      ];
    auditCheckRunsThePipelineVerifyOnTheZip =
      let
        script = checks.lambda-zip-audit.script;
      in
      builtins.match ".*\n${lib.pipeline.verify "${x86.lambda-zip}"}\n.*" script != null
      && builtins.match "cd /nix/store/source\n.*" script != null
      && builtins.elem x86.lambda-audit checks.lambda-zip-audit.env.nativeBuildInputs;
    clippyDeniesWarnings =
      builtins.match ".*--deny warnings.*" checks.clippy.cargoClippyExtraArgs != null;
    nextestRunsTheAuditTests = checks.nextest.cargoNextestExtraArgs == "-p lambda-audit";
    imageRunsAsNonRoot =
      image.config.User == "circleci" && image.config.WorkingDir == "/home/circleci/project";
    imageHasTheBuildVariables =
      builtins.elem "OPENSSL_STATIC=1" image.config.Env
      && builtins.elem "LAMBDA_AUDIT=${x86.lambda-audit}/bin/lambda-audit" image.config.Env;
    imageHasTheTools = builtins.all (p: builtins.elem p image.contents) [
      "/nix/store/bashInteractive"
      "/nix/store/coreutils"
      "/nix/store/git"
      "/nix/store/openssh"
      "/nix/store/gnutar"
      "/nix/store/gzip"
      "ca-certificates"
    ];
    formatterOnBothSystems = builtins.attrNames outputs.formatter == sort lib.devSystems;
    checksOnBothSystems = builtins.attrNames outputs.checks == sort lib.devSystems;
    aarch64ChecksBuildTheX86Zip =
      outputs.checks.aarch64-linux.lambda-zip-audit.env.nativeBuildInputs != [ ];
  };
  failed = builtins.filter (name: !tests.${name}) (builtins.attrNames tests);
in
{
  inherit failed;
  count = builtins.length (builtins.attrNames tests);
}
