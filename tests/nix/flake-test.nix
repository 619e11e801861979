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
    getBin = pkg: pkg.bin or pkg;
    mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (builtins.attrNames attrs);
    fileset = {
      unions = sets: { inherit sets; };
      toSource = args: "/nix/store/source";
      fileFilter = predicate: path: { inherit predicate path; };
    };
  };

  pkgsFor =
    system:
    rec {
      lib = stubLib;
      built = builtOn system;
      stdenv = {
        hostPlatform.system = system;
        cc = {
          outPath = "/nix/store/cc";
          libc = {
            outPath = "/nix/store/glibc";
            bin = "/nix/store/glibc-bin";
          };
        };
        # Like stdenv: passthru attributes are attributes of the result.
        mkDerivation =
          f:
          let
            args = if builtins.isFunction f then f { finalPackage = "/nix/store/sysroot"; } else f;
          in
          built "drv" (args // args.passthru or { });
      };
      fetchurl = args: args;
      unzip = "/nix/store/unzip";
      runCommand =
        name: env: script:
        built "run" { inherit name env script; };
      linkFarm = name: entries: built "link-farm" { inherit name entries; };
      dockerTools = {
        buildLayeredImage = built "image";
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
          "util-linux"
          "zlib"
        ]
    );

  # A stand-in derivation: its arguments, what built it, for which system,
  # and a store path that names both.
  builtOn =
    system: kind: args:
    args
    // args.passthru or { }
    // {
      inherit kind system;
      outPath = "/nix/store/${system}-${kind}-${args.pname or "x"}";
    };

  craneLibFor = pkgs: toolchain: {
    inherit toolchain;
    buildPackage = pkgs.built "package";
    buildDepsOnly = pkgs.built "deps";
    cargoNextest = pkgs.built "nextest";
    cargoClippy = pkgs.built "clippy";
    cargoFmt = pkgs.built "fmt";
    devShell = pkgs.built "shell";
    vendorCargoDeps = args: pkgs.built "vendor" (args // { pname = "cargo-deps"; });
    downloadCargoPackage = args: pkgs.built "crate" (args // { pname = "cargo-package-${args.name}"; });
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
    self = outputs;
    nixpkgs = {
      lib = stubLib;
      legacyPackages = stubLib.genAttrs lib.systems pkgsFor;
    };
    crane.mkLib = pkgs: {
      overrideToolchain = f: craneLibFor pkgs (f pkgs);
    };
    fenix.packages = stubLib.genAttrs lib.systems (system: {
      combine = parts: { combined = parts; };
      stable.withComponents = components: { inherit components; };
      targets = stubLib.genAttrs [ "x86_64-unknown-linux-gnu" "aarch64-unknown-linux-gnu" ] (triple: {
        stable.rust-std = "rust-std-${triple}";
      });
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
  # The template's flake, with this flake (its stand-in evaluation) as input.
  template = (import ../../templates/default/flake.nix).outputs {
    self = template;
    lambda-toolchain = outputs;
  };
  pyo3Template = (import ../../templates/pyo3/flake.nix).outputs {
    self = pyo3Template;
    lambda-toolchain = outputs;
  };
  templateX86 = {
    packages = template.packages.x86_64-linux;
    checks = template.checks.x86_64-linux;
    devShells = template.devShells.x86_64-linux;
  };
  arm = outputs.packages.aarch64-linux;
  zip = x86.lambda-zip;
  deps = zip.cargoArtifacts;
  image = x86.docker-image;
  shell = outputs.devShells.aarch64-linux.default;
  checks = outputs.checks.x86_64-linux;
  names = set: builtins.attrNames set;
  tools = builtins.head zip.nativeBuildInputs;
  # Every derivation a system's outputs are made of, as far as the stand-ins show.
  derivationsOf =
    system:
    let
      packages = outputs.packages.${system};
      checks = outputs.checks.${system};
    in
    builtins.attrValues packages
    ++ builtins.attrValues checks
    ++ [
      outputs.devShells.${system}.default
      packages.lambda-zip.cargoArtifacts
      (builtins.head packages.lambda-zip.nativeBuildInputs)
    ];

  # The shell strings each derivation hands to stdenv and crane, by name;
  # tests/nix/hooks-test.sh runs them under bash (syntax, and set -eu).
  hookAttrs = [
    "postPatch"
    "configurePhase"
    "preBuild"
    "buildPhase"
    "buildPhaseCargoCommand"
    "preCheck"
    "installPhase"
    "installPhaseCommand"
    "shellHook"
    "script"
    "extraCommands"
    "fakeRootCommands"
  ];
  hooks = builtins.listToAttrs (
    builtins.concatMap (
      system:
      builtins.concatMap (
        drv:
        builtins.concatMap (
          attr:
          if builtins.isString (drv.${attr} or null) then
            [
              {
                name = "${system} ${drv.kind}-${drv.pname or drv.name or "x"} ${attr}";
                value = drv.${attr};
              }
            ]
          else
            [ ]
        ) hookAttrs
      ) (derivationsOf system)
    ) lib.systems
  );

  tests = {
    inputsAreThePinnedOnes =
      flake.inputs.nixpkgs.url == "github:NixOS/nixpkgs/nixos-26.05"
      && flake.inputs.crane.url == "github:ipetkov/crane/v0.23.4"
      && flake.inputs.fenix.inputs.rust-analyzer-src.follows == ""
      && flake.inputs.fenix.inputs.nixpkgs.follows == "nixpkgs";
    # Every system offers the same outputs, each built by that system.
    systemsAreTheOnesWithPinnedTools =
      lib.systems == [
        "aarch64-linux"
        "x86_64-linux"
      ];
    packagesAreAllThereOnEverySystem = builtins.all (
      system:
      names outputs.packages.${system} == [
        "default"
        "docker-image"
        "lambda-audit"
        "lambda-functions"
        "lambda-zip"
        "lambda-zip-al2"
        "lambda-zip-al2-arm64"
        "lambda-zip-al2023"
        "lambda-zip-al2023-arm64"
        "lambda-zip-openssl-1_1_1w"
        "lambda-zip-python3.12"
        "lambda-zip-python3.12-arm64"
        "sysroot"
      ]
    ) lib.systems;
    # Every zip is built through cargo-auditable: the crate toolchain/target.json
    # pins (the .crate file by its sha256, as scripts/bootstrap-tools checks
    # it), built by crane, among each zip's tools and in the dev shell.
    everyZipIsBuiltThroughThePinnedCargoAuditable =
      let
        pin = lib.target.crateTools.cargo-auditable;
        isAuditable = p: (p.pname or "") == "cargo-auditable";
        auditable = builtins.head (builtins.filter isAuditable x86.lambda-zip.nativeBuildInputs);
      in
      auditable.kind == "package"
      && auditable.version == pin.version
      && auditable.src.name == "cargo-auditable"
      && auditable.src.version == pin.version
      && auditable.src.checksum == pin.sha256
      && auditable.cargoVendorDir.cargoLock == ../../toolchain/cargo-auditable.Cargo.lock
      && auditable.cargoArtifacts == null
      && builtins.all (zip: builtins.elem auditable x86.${zip}.nativeBuildInputs) [
        "lambda-zip"
        "lambda-zip-al2023"
        "lambda-zip-al2-arm64"
        "lambda-zip-python3.12"
      ];
    # The PyO3 function (pyfunction/, its own workspace) for python3.12 on
    # each architecture: maturin among the tools, the runtime and the
    # architecture named to the pipeline, arm64's CPU baseline, the same
    # install step (package, then verify), an audit check each.
    python312ZipsBuildPyfunction =
      let
        zip = x86."lambda-zip-python3.12";
        arm = x86."lambda-zip-python3.12-arm64";
        maturin = builtins.elemAt zip.nativeBuildInputs 1;
      in
      zip.src == ../../pyfunction
      && zip.env.LAMBDA_RUNTIME == "python3.12"
      && !(zip.env ? LAMBDA_ARCH)
      && !(zip.env ? LAMBDA_PACKAGE)
      && arm.env.LAMBDA_ARCH == "arm64"
      && zip.cargoArtifacts == null
      && maturin.pname == "lambda-maturin"
      && maturin.src.url == lib.target.maturinWheels.x86_64-linux.url
      && maturin.src.sha256 == lib.target.maturinWheels.x86_64-linux.sha256
      && builtins.elemAt arm.nativeBuildInputs 1 == maturin
      &&
        (builtins.elemAt outputs.packages.aarch64-linux."lambda-zip-python3.12".nativeBuildInputs 1).src.url
        == lib.target.maturinWheels.aarch64-linux.url
      && builtins.elem maturin zip.passthru.buildTools
      && !(builtins.any (p: (p.pname or "") == "lambda-maturin") x86.lambda-zip.nativeBuildInputs)
      && builtins.match ".*-Ctarget-cpu=neoverse-n1\n.*" arm.preBuild != null
      && zip.installPhaseCommand == x86.lambda-zip.installPhaseCommand
      &&
        builtins.match ".*${(lib.pipeline "/nix/store/source").verify "${zip}"}\n.*"
          checks."lambda-zip-python3.12-audit".script != null
      &&
        builtins.match ".*${(lib.pipeline "/nix/store/source").verify "${arm}"}\n.*"
          checks."lambda-zip-python3.12-arm64-audit".script != null;
    # The arm64 programs: the aarch64 target at the runtime's arm64 glibc,
    # its CPU baseline in both builds' flags, an arm64 sysroot (aarch64 zig
    # target, linux-aarch64), the architecture named to the pipeline, and an
    # audit check each.
    nextestBuildsTheArm64FixturesWithThePinnedZig =
      builtins.match ".*export LAMBDA_AUDIT_AARCH64_CC=\"zig cc -target aarch64-linux-gnu[.]2[.]34\"\n.*" checks.nextest.preCheck
      != null;
    arm64ZipsAreBuiltForArm64 =
      let
        zip = x86.lambda-zip-al2023-arm64;
        sysroot = zip.passthru.sysroot;
      in
      zip.env.LAMBDA_ARCH == "arm64"
      && !(x86.lambda-zip-al2023.env ? LAMBDA_ARCH)
      &&
        zip.cargoArtifacts.buildPhaseCargoCommand
        == "${lib.auditableEnv [ ]} cargo zigbuild --locked --release -p bootstrap --target aarch64-unknown-linux-gnu.2.34"
      &&
        x86.lambda-zip-al2-arm64.cargoArtifacts.buildPhaseCargoCommand
        == "${lib.auditableEnv [ ]} cargo zigbuild --locked --release -p bootstrap --target aarch64-unknown-linux-gnu.2.26"
      && builtins.match ".*-Ctarget-cpu=neoverse-n1\n.*" zip.preBuild != null
      && builtins.match ".*-Ctarget-cpu=neoverse-n1\n.*" zip.cargoArtifacts.preBuild != null
      && builtins.match ".*target-cpu.*" x86.lambda-zip-al2023.preBuild == null
      &&
        builtins.match ".*CONFIGURE_TARGET=linux-aarch64 TARGET_CPU=neoverse-n1 bash [^ ]* \"[$]PWD\" \"[$]NIX_BUILD_TOP/sysroot\" aarch64-linux-gnu[.]2[.]17 .*" sysroot.buildPhase
        != null
      && sysroot.version == "3.5.5"
      && outputs.checks.x86_64-linux ? lambda-zip-al2023-arm64-audit
      && outputs.checks.x86_64-linux ? lambda-zip-al2-arm64-audit;
    # The workspace's two functions in one output: the very derivations of
    # lambda-zip and lambda-zip-al2023 (nothing is built twice), by name.
    lambdaFunctionsLinksTheTwoZips =
      x86.lambda-functions.entries == {
        lambda = x86.lambda-zip;
        bootstrap = x86.lambda-zip-al2023;
      };
    outputSetsCoverTheSameSystems = builtins.all (set: names set == lib.systems) [
      outputs.packages
      outputs.checks
      outputs.devShells
      outputs.formatter
    ];
    eachSystemBuildsItsOwnOutputs = builtins.all (
      system: builtins.all (drv: drv.system == system) (derivationsOf system)
    ) lib.systems;
    aarch64AuditsItsOwnZip =
      builtins.match ".*${arm.lambda-zip}.*" outputs.checks.aarch64-linux.lambda-zip-audit.script != null;
    defaultIsTheZip = x86.default == x86.lambda-zip;
    # The project's zip is buildLambdaZip on crate/, run by the pipeline script
    # from the flake's own pipeline source.
    # Every step with the crate's manifest (defect: package without it looked
    # for the pipeline source's own Cargo.toml), and verify at the end.
    lambdaZipRunsThePipeline =
      let
        steps = lib.pipeline "/nix/store/source";
        manifest = "LAMBDA_MANIFEST_PATH=$PWD/Cargo.toml";
      in
      zip.buildPhaseCargoCommand == "${manifest} ${steps.build}"
      &&
        zip.installPhaseCommand
        == "${manifest} ${steps.package "$out"} && ${manifest} ${steps.verify "$out"}"
      && zip.env.LAMBDA_PACKAGE == "lambda";
    # Build-breaker 1: crane's post-build hook wants a cargo build log.
    lambdaZipSkipsCranesBuildLogInstall = zip.doNotPostBuildInstallCargoBinaries or false;
    # Nothing may change package/ after the zip was written from it.
    lambdaZipIsNotRewrittenAfterZipping = builtins.all (attr: zip.${attr} or false) [
      "dontFixup"
      "doNotRemoveReferencesToVendorDir"
      "doNotRemoveReferencesToRustToolchain"
    ];
    # Dependencies compile once: both builds get the same flags and vendored crates.
    dependencyAndFinalBuildShareRemaps =
      deps.preBuild == zip.preBuild
      && deps.cargoVendorDir == zip.cargoVendorDir
      &&
        builtins.match ".*remap_path_flags \"[$]PWD\" \"[$]PWD/target\" \"\" \"${zip.cargoVendorDir}\".*" zip.preBuild
        != null;
    dependenciesAreBuiltByZigbuild =
      deps.buildPhaseCargoCommand == "${
        lib.auditableEnv [ "/nix/store/source/.cargo/config.toml" ]
      } cargo zigbuild --locked --release -p lambda --target x86_64-unknown-linux-gnu.2.17 --config /nix/store/source/.cargo/config.toml";
    # The sandbox has no /usr/bin/env: scripts the builds run are patched first.
    # (The zip's pipeline is called through bash from the flake's own source.)
    scriptsArePatchedWhereTheyRun =
      builtins.match "LAMBDA_MANIFEST_PATH=[$]PWD/Cargo.toml bash /nix/store/source/scripts/pipeline.*" zip.installPhaseCommand
      != null
      && checks.nextest.postPatch or "" == "patchShebangs --build scripts tests/fixtures"
      && builtins.match ".*patchShebangs --build \..*" x86.sysroot.buildPhase != null;
    # One zig and cargo-zigbuild: the pinned wheels, in every build that compiles.
    theBuildsUseThePinnedWheels =
      map (f: f.url) tools.srcs == map (w: w.url) lib.target.toolWheels.x86_64-linux
      && map (f: f.sha256) tools.srcs == map (w: w.sha256) lib.target.toolWheels.x86_64-linux
      && builtins.elem tools x86.sysroot.nativeBuildInputs
      && builtins.elem tools checks.nextest.nativeBuildInputs
      && !(builtins.any (p: p == "/nix/store/zig" || p == "/nix/store/cargo-zigbuild") (
        zip.nativeBuildInputs ++ checks.nextest.nativeBuildInputs ++ image.contents
      ));
    aarch64BuildsUseTheAarch64Wheels =
      map (f: f.url) (builtins.head arm.lambda-zip.nativeBuildInputs).srcs
      == map (w: w.url) lib.target.toolWheels.aarch64-linux;
    sysrootRunsTheSharedRecipe =
      builtins.match ".*\nCONFIGURE_TARGET=linux-x86_64 TARGET_CPU= bash /nix/store/[a-z0-9]{32}-openssl-recipe \"\\$PWD\" [^\n]* x86_64-linux-gnu\.2\.17 /etc/pki/tls no-shared.*" x86.sysroot.buildPhase
      != null
      && x86.sysroot.version == "1.0.2u";
    lambdaAuditIsItsOwnPackage =
      x86.lambda-audit.pname == "lambda-audit"
      && x86.lambda-audit.cargoExtraArgs == "--locked -p lambda-audit";
    # `nix develop` gets the build's tools without crane's build hooks.
    devShellHasTheBuildToolsButNoHooks =
      !(shell ? inputsFrom)
      && builtins.all (p: builtins.elem p shell.packages) arm.lambda-zip.buildTools or [ null ]
      && shell.env.OPENSSL_STATIC == "1"
      && !(shell.env ? LAMBDA_PACKAGE)
      && !(shell.env ? LAMBDA_RUNTIME)
      && !(builtins.any (e: builtins.match "LAMBDA_(PACKAGE|RUNTIME)=.*" e != null) image.config.Env)
      && builtins.match ".*/bin/lambda-audit" shell.env.LAMBDA_AUDIT != null;
    # Each build machine adds the other Lambda architecture's std (its own is
    # the channel's rust-std component).
    eachToolchainAddsTheOtherArchitecturesStd =
      builtins.elem "rust-std-x86_64-unknown-linux-gnu" (toolchainOn "aarch64-linux")
      && !(builtins.elem "rust-std-aarch64-unknown-linux-gnu" (toolchainOn "aarch64-linux"))
      && builtins.elem "rust-std-aarch64-unknown-linux-gnu" (toolchainOn "x86_64-linux")
      && !(builtins.elem "rust-std-x86_64-unknown-linux-gnu" (toolchainOn "x86_64-linux"));
    toolchainIsFenixStableWithClippyAndRustfmt =
      let
        components = (builtins.head (toolchainOn "x86_64-linux")).components;
      in
      builtins.elem "clippy" components && builtins.elem "rustfmt" components;
    checksAreAllThere =
      names checks == [
        "clippy"
        "fmt"
        "lambda-zip-al2-arm64-audit"
        "lambda-zip-al2-audit"
        "lambda-zip-al2023-arm64-audit"
        "lambda-zip-al2023-audit"
        "lambda-zip-audit"
        "lambda-zip-python3.12-arm64-audit"
        "lambda-zip-python3.12-audit"
        "nextest"
        "nixfmt"
      ];
    auditCheckRunsThePipelineVerifyOnTheZip =
      let
        script = checks.lambda-zip-audit.script;
      in
      builtins.match ".*${(lib.pipeline "/nix/store/source").verify "${x86.lambda-zip}"}\n.*" script
      != null
      && builtins.elem x86.lambda-audit checks.lambda-zip-audit.env.nativeBuildInputs;
    # For other flakes: the library, the overlay, the template.
    libOffersTheBuildOnEverySystem = builtins.all (
      system:
      names outputs.lib.${system} == [
        "buildLambdaZip"
        "buildLambdaZips"
        "verifyLambdaZip"
      ]
    ) lib.systems;
    overlayProvidesLambdaAudit =
      (outputs.overlays.default { } { stdenv.hostPlatform.system = "x86_64-linux"; }).lambda-audit
      == x86.lambda-audit;
    templateBuildsItsOwnCrateWithTheLibrary =
      templateX86.packages.default.src == ../../templates/default
      && templateX86.packages.default.buildPhaseCargoCommand == zip.buildPhaseCargoCommand
      && !(templateX86.packages.default.env ? LAMBDA_PACKAGE)
      &&
        builtins.match ".*scripts/pipeline verify ${templateX86.packages.default}\n.*" templateX86.checks.audit.script
        != null
      && templateX86.devShells.default == outputs.devShells.x86_64-linux.default
      && outputs.templates.default.path == ../../templates/default;
    # The PyO3 template: its own crate for python3.12 on both architectures,
    # the same pipeline, an audit of each.
    pyo3TemplateBuildsItsCrateForBothArchitectures =
      let
        packages = pyo3Template.packages.x86_64-linux;
        checks = pyo3Template.checks.x86_64-linux;
      in
      packages.default.src == ../../templates/pyo3
      && packages.default.env.LAMBDA_RUNTIME == "python3.12"
      && !(packages.default.env ? LAMBDA_ARCH)
      && packages.arm64.env.LAMBDA_ARCH == "arm64"
      && packages.default.buildPhaseCargoCommand == zip.buildPhaseCargoCommand
      && builtins.match ".*scripts/pipeline verify ${packages.default}\n.*" checks.audit.script != null
      &&
        builtins.match ".*scripts/pipeline verify ${packages.arm64}\n.*" checks.audit-arm64.script != null
      && pyo3Template.devShells.x86_64-linux.default == outputs.devShells.x86_64-linux.default
      && outputs.templates.pyo3.path == ../../templates/pyo3
      && builtins.match ".*python3[.]12.*" outputs.templates.pyo3.welcomeText != null;
    clippyDeniesWarnings =
      builtins.match ".*--deny warnings.*" checks.clippy.cargoClippyExtraArgs != null;
    # crane runs `cargo nextest run <cargoExtraArgs> <cargoNextestExtraArgs>`: the package once.
    nextestRunsTheAuditTests =
      checks.nextest.cargoExtraArgs == "--locked -p lambda-audit"
      && (checks.nextest.cargoNextestExtraArgs or "") == "";
    # ldconfig is the oracle of a test (glibc's bin output), run through unshare.
    nextestHasTheTestsTools = builtins.all (p: builtins.elem p checks.nextest.nativeBuildInputs) [
      "/nix/store/glibc-bin"
      "/nix/store/util-linux"
    ];
    imageRunsAsNonRoot =
      image.config.User == "circleci" && image.config.WorkingDir == "/home/circleci/project";
    imageHasTheBuildVariables =
      builtins.elem "OPENSSL_STATIC=1" image.config.Env
      && builtins.elem "LAMBDA_AUDIT=${x86.lambda-audit}/bin/lambda-audit" image.config.Env;
    imageHasTheTools = builtins.all (p: builtins.elem p image.contents) (
      [
        "/nix/store/bashInteractive"
        "/nix/store/coreutils"
        "/nix/store/git"
        "/nix/store/openssh"
        "/nix/store/gnutar"
        "/nix/store/gzip"
        "ca-certificates"
      ]
      ++ zip.buildTools
      # Every tool of the dev shell (the rig's unpacked image lacked cargo-nextest and nixfmt).
      ++ outputs.devShells.x86_64-linux.default.packages
    );
    hooksAreCollected = builtins.length (builtins.attrNames hooks) > 10;
  };
  failed = builtins.filter (name: !tests.${name}) (builtins.attrNames tests);
in
{
  inherit failed hooks;
  # The environment lambda-zip's derivation gives its build steps (hooks-test runs them with it).
  zipEnv = zip.env;
  count = builtins.length (builtins.attrNames tests);
}
