# The source the builds see: cargo's files plus what the pipeline and the
# tests read (profiles, scripts, the target definition, fixture sources).
{
  pkgs,
  craneLib,
  ...
}:
let
  fs = pkgs.lib.fileset;
in
fs.toSource {
  root = ../.;
  fileset = fs.unions [
    (craneLib.fileset.commonCargoSources ../.)
    ../.cargo/config.toml
    ../lambda-audit/profiles
    ../scripts
    ../toolchain
    ../tests/fixtures
    # include_str! of the lambda-audit tests (the facts the profiles cite).
    ../docs/runtime-facts.md
  ];
}
