# `lib.<system>.buildLambdaZip { src, … }`: a crowbar crate (python3.6) or a
# program (provided.al2023, provided.al2), built with the pinned toolchain and
# sysroot for the runtime's glibc, then audited, bundled and zipped by the
# pipeline script that CI runs without Nix (scripts/pipeline, from this
# flake): $out/lambda.zip and the unzipped $out/package, byte for byte the
# zip's content. The project's own `lambda-zip` is this function on crate/,
# `lambda-zip-al2023` and `lambda-zip-al2` on bootstrap/.
#   src           the crate's source (its Cargo.toml and Cargo.lock at the root)
#   cargoPackage  the package to build, when the workspace has several
#   cargoBin      the program's bin, when its package has several (default: bootstrap, or its only one)
#   runtime       python3.6 (default), provided.al2023 or provided.al2 (toolchain/target.json)
#   arch          x86_64 (default) or arm64, one of the runtime's architectures: the artifact is
#                 built for it, its CPU baseline and its profile (an arm64 sysroot too)
#   openssl       the OpenSSL linked statically (nix/lib.nix opensslSources: 1.0.2u, 1.1.1w, 3.5.5);
#                 default: the runtime's (1.0.2u for python3.6, 3.5.5 for provided.*)
#   pname, version  the derivation's name
{
  pkgs,
  lib,
  craneLib,
  sysrootFor,
  tools,
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
  runtimeFacts =
    let
      facts = lib.runtimeOn runtime arch;
    in
    if facts.artifact == "pyo3-module" then
      throw "lambda toolchain: ${runtime} is built as a PyO3 module by scripts/build-lambda-zip --runtime ${runtime}; buildLambdaZip does not build PyO3 modules yet"
    else
      facts;
  target = runtimeFacts.zigbuildTarget;
  sysroot = sysrootFor { inherit openssl arch; };
  isModule = runtimeFacts.artifact == "python-module";
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
  steps = lib.pipeline pipelineSrc;
  manifestEnv = "LAMBDA_MANIFEST_PATH=$PWD/Cargo.toml";
in
craneLib.buildPackage (
  args
  // {
    # The same command line as the pipeline's build, the Python 3.6 ABI
    # (this flake's .cargo/config.toml) included for a module, so no
    # dependency is compiled twice.
    cargoArtifacts = craneLib.buildDepsOnly (
      args
      // {
        buildPhaseCargoCommand =
          "cargo zigbuild --locked --release${package} --target ${target}"
          + (if isModule then " --config ${pipelineSrc}/.cargo/config.toml" else "");
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
