# `lib.<system>.buildLambdaZip { src, … }`: a crowbar crate (python3.6), a
# PyO3 crate (python3.9 to python3.14, built by maturin) or a program
# (provided.al2023, provided.al2), built with the pinned toolchain and
# sysroot for the runtime's glibc, then audited, bundled and zipped by the
# pipeline script that CI runs without Nix (scripts/pipeline, from this
# flake): $out/lambda.zip, the unzipped $out/package, byte for byte the
# zip's content, and the zip's CycloneDX SBOM $out/sbom.cdx.json. The project's own `lambda-zip` is this function on crate/,
# `lambda-zip-al2023` and `lambda-zip-al2` on bootstrap/,
# `lambda-zip-python3.12` on pyfunction/.
#   src           the crate's source (its Cargo.toml and Cargo.lock at the root;
#                 a PyO3 crate's pyproject.toml beside them)
#   cargoPackage  the package to build, when the workspace has several
#   cargoBin      the program's bin, when its package has several (default: bootstrap, or its only one)
#   runtime       python3.6 (default), python3.9 to python3.14, provided.al2023 or
#                 provided.al2 (toolchain/target.json)
#   arch          x86_64 (default) or arm64, one of the runtime's architectures: the artifact is
#                 built for it, its CPU baseline and its profile (an arm64 sysroot too)
#   openssl       the OpenSSL linked statically (nix/lib.nix opensslSources: 1.0.2u, 1.1.1w, 3.5.5);
#                 default: the runtime's (1.0.2u for python3.6, 3.5.5 for the others)
#   pname, version  the derivation's name
# A PyO3 crate with Python dependencies (requirements.txt, or pyproject.toml's
# [project] dependencies) is refused: pip cannot reach an index in the sandbox.
{
  pkgs,
  lib,
  craneLib,
  sysrootFor,
  tools,
  maturin,
  cargo-auditable,
  lambda-audit,
  pipelineSrc,
  ...
}:
{
  src,
  cargoPackage ? null,
  cargoBin ? null,
  runtime ? "python3.6",
  arch ? lib.target.defaultArchitecture,
  openssl ? lib.runtimeOpenssl runtime,
  pname ? "lambda",
  version ? "0.1.0",
}:
let
  runtimeFacts = lib.runtimeOn runtime arch;
  target = runtimeFacts.zigbuildTarget;
  sysroot = sysrootFor { inherit openssl arch; };
  isModule = runtimeFacts.artifact == "python-module";
  isPyo3 = runtimeFacts.artifact == "pyo3-module";
  # Read in the crate's directory (its package's, in a workspace of several).
  pythonRefusal =
    if isPyo3 then lib.pythonDependencyRefusal (lib.packageDir src cargoPackage) runtime else null;
  buildEnv =
    sysroot.sysrootEnv
    // {
      LAMBDA_AUDIT = "${lambda-audit}/bin/lambda-audit";
      LAMBDA_RUNTIME = runtime;
    }
    # Only another architecture is named (an x86_64 zip's derivation stays as it was).
    // (if arch == lib.target.defaultArchitecture then { } else { LAMBDA_ARCH = arch; })
    // (if cargoPackage == null then { } else { LAMBDA_PACKAGE = cargoPackage; })
    // (if cargoBin == null then { } else { LAMBDA_BIN = cargoBin; });
  # What the build runs; the dev shell and the image offer the same.
  buildTools = [
    tools
  ]
  # maturin only where it builds: the other zips' derivations stay as they were.
  ++ (if isPyo3 then [ maturin ] else [ ])
  ++ [
    # Every artifact is built through it (its crates in a .dep-v0 section).
    cargo-auditable
    pkgs.python3
    pkgs.patchelf
    pkgs.unzip
    pkgs.binutils
    lambda-audit
  ];
  # One vendored crate set for both builds, so the remapped paths agree.
  cargoVendorDir = craneLib.vendorCargoDeps { inherit src; };
  args = {
    inherit
      src
      cargoVendorDir
      pname
      version
      ;
    strictDeps = true;
    nativeBuildInputs = buildTools;
    # crane's own default target directory, named so that the pipeline uses
    # it too (it would otherwise give a program runtime a directory of its own).
    env = buildEnv // {
      CARGO_TARGET_DIR = "target";
    };
    preBuild =
      lib.exportLines (lib.zigCacheEnv "$TMPDIR")
      + ''
        mkdir -p "$HOME"
      ''
      + lib.remapPathsHook cargoVendorDir runtimeFacts.targetCpu;
    doCheck = false;
  };
  package = if cargoPackage == null then "" else " -p ${cargoPackage}";
  # The Python 3.6 ABI (this flake's .cargo/config.toml), given to a module's cargo.
  moduleConfig = if isModule then [ "${pipelineSrc}/.cargo/config.toml" ] else [ ];
  steps = lib.pipeline pipelineSrc;
  manifestEnv = "LAMBDA_MANIFEST_PATH=$PWD/Cargo.toml";
in
if pythonRefusal != null then
  throw pythonRefusal
else
  craneLib.buildPackage (
    args
    // {
      # The same command line as the pipeline's build (through cargo-auditable), the Python 3.6 ABI
      # (this flake's .cargo/config.toml) included for a module, so no
      # dependency is compiled twice. A PyO3 module has none: maturin runs
      # cargo with its own environment (the PyO3 configuration, zig as the
      # linker), which a dependency-only build on crane's dummy source would
      # not share, so its dependencies are compiled in the one build.
      cargoArtifacts =
        if isPyo3 then
          null
        else
          craneLib.buildDepsOnly (
            args
            // {
              buildPhaseCargoCommand =
                "${lib.auditableEnv moduleConfig} cargo zigbuild --locked --release${package} --target ${target}"
                + builtins.concatStringsSep "" (map (file: " --config ${file}") moduleConfig);
            }
          );
      # Each pipeline step with the same environment: the crate is the source
      # crane unpacked, not the pipeline's own workspace. The build ends as a
      # non-Nix build does, with verify (no build-machine path, the ldd and
      # glibc rules); `checks.*-audit` runs verify again on the output.
      buildPhaseCargoCommand = "${manifestEnv} ${steps.build}";
      installPhaseCommand = "${manifestEnv} ${steps.package "$out"} && ${manifestEnv} ${steps.verify "$out"}";
      # The pipeline installs the package itself: crane's install-from-build-log
      # hook would stop the build, as no cargo build log is written.
      doNotPostBuildInstallCargoBinaries = true;
      # The zip is written before any post-install step could run, so nothing may
      # change package/ afterwards (strip, patchelf --shrink-rpath, crane's
      # reference rewriting): `scripts/pipeline verify` proves there is no store
      # path to rewrite and that package/ is exactly the zip.
      doNotRemoveReferencesToVendorDir = true;
      doNotRemoveReferencesToRustToolchain = true;
      dontFixup = true;
      # The dev shell and the image take their tools and variables from here.
      # (toolEnv: the build's variables without the runtime and package chosen
      # for this zip, so `scripts/pipeline` picks them per LAMBDA_RUNTIME there.)
      passthru = {
        # sysroot: the OpenSSL it links (its version, source and libraries).
        inherit buildEnv buildTools sysroot;
        toolEnv = builtins.removeAttrs buildEnv [
          "LAMBDA_RUNTIME"
          "LAMBDA_PACKAGE"
          "LAMBDA_BIN"
          "LAMBDA_ARCH"
        ];
      };
    }
  )
