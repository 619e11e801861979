# The Lambda zip: crane builds the dependencies, then the pipeline script that
# CI runs without Nix (scripts/pipeline) builds, audits, bundles and zips:
# $out/lambda.zip and the unzipped $out/package, byte for byte the zip's content.
{
  pkgs,
  lib,
  craneLib,
  src,
  sysroot,
  tools,
  lambda-audit,
  ...
}:
let
  target = lib.zigbuildTarget;
  buildEnv = sysroot.sysrootEnv // {
    LAMBDA_AUDIT = "${lambda-audit}/bin/lambda-audit";
  };
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
    inherit src cargoVendorDir;
    pname = "lambda";
    version = "0.1.0";
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
in
craneLib.buildPackage (
  args
  // {
    cargoArtifacts = craneLib.buildDepsOnly (
      args
      // {
        buildPhaseCargoCommand = "cargo zigbuild --locked --release -p lambda --target ${target}";
      }
    );
    # The pipeline's scripts call each other; the sandbox has no /usr/bin/env.
    postPatch = "patchShebangs --build scripts";
    buildPhaseCargoCommand = lib.pipeline.build;
    installPhaseCommand = lib.pipeline.package "$out";
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
