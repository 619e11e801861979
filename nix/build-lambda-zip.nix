# `lib.<system>.buildLambdaZip { src, … }`: any crowbar crate, built with the
# pinned toolchain and sysroot, then audited, bundled and zipped by the
# pipeline script that CI runs without Nix (scripts/pipeline, from this
# flake): $out/lambda.zip and the unzipped $out/package, byte for byte the
# zip's content. The project's own `lambda-zip` is this function on crate/.
#   src           the crate's source (its Cargo.toml and Cargo.lock at the root)
#   cargoPackage  the package to build, when the workspace has several
#   pname, version  the derivation's name
{
  pkgs,
  lib,
  craneLib,
  sysroot,
  tools,
  lambda-audit,
  pipelineSrc,
  ...
}:
{
  src,
  cargoPackage ? null,
  pname ? "lambda",
  version ? "0.1.0",
}:
let
  target = lib.zigbuildTarget;
  buildEnv =
    sysroot.sysrootEnv
    // {
      LAMBDA_AUDIT = "${lambda-audit}/bin/lambda-audit";
    }
    // (if cargoPackage == null then { } else { LAMBDA_PACKAGE = cargoPackage; });
  # What the build runs; the dev shell and the image offer the same.
  buildTools = [
    tools
    pkgs.python3
    pkgs.patchelf
    pkgs.unzip
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
    env = buildEnv;
    preBuild =
      lib.exportLines (lib.zigCacheEnv "$TMPDIR")
      + ''
        mkdir -p "$HOME"
      ''
      + lib.remapPathsHook cargoVendorDir;
    doCheck = false;
  };
  package = if cargoPackage == null then "" else " -p ${cargoPackage}";
in
craneLib.buildPackage (
  args
  // {
    # The same command line as the pipeline's build, the Python 3.6 ABI
    # (this flake's .cargo/config.toml) included, so no dependency is
    # compiled twice.
    cargoArtifacts = craneLib.buildDepsOnly (
      args
      // {
        buildPhaseCargoCommand = "cargo zigbuild --locked --release${package} --target ${target} --config ${pipelineSrc}/.cargo/config.toml";
      }
    );
    buildPhaseCargoCommand = "LAMBDA_MANIFEST_PATH=$PWD/Cargo.toml ${(lib.pipeline pipelineSrc).build}";
    installPhaseCommand = (lib.pipeline pipelineSrc).package "$out";
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
    passthru = { inherit buildEnv buildTools; };
  }
)
