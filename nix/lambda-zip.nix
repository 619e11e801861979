# The Lambda zip: crane builds the dependencies, then the pipeline script that
# CI runs without Nix (scripts/pipeline) builds, audits, bundles and zips:
# $out/lambda.zip and the unzipped $out/package.
{
  pkgs,
  lib,
  craneLib,
  src,
  sysroot,
  lambda-audit,
  ...
}:
let
  target = lib.zigbuildTarget;
  buildEnv = sysroot.sysrootEnv // {
    LAMBDA_AUDIT = "${lambda-audit}/bin/lambda-audit";
  };
  args = {
    inherit src;
    pname = "lambda";
    version = "0.1.0";
    strictDeps = true;
    nativeBuildInputs = [
      pkgs.cargo-zigbuild
      pkgs.zig
      pkgs.python3
      pkgs.patchelf
      lambda-audit
    ];
    env = buildEnv;
    # The dev shell takes its tools (inputsFrom) and these variables from here.
    passthru = { inherit buildEnv; };
    preBuild = ''
      ${lib.exportLines (lib.zigCacheEnv "$TMPDIR")}
      mkdir -p "$HOME"
    '';
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
    buildPhaseCargoCommand = lib.pipeline.build;
    installPhaseCommand = lib.pipeline.package "$out";
  }
)
