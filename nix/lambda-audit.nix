# lambda-audit, the auditor, as a crane package (tests run in checks.nextest).
{
  craneLib,
  src,
  ...
}:
let
  crate = craneLib.crateNameFromCargoToml { cargoToml = ../lambda-audit/Cargo.toml; };
  args = {
    inherit src;
    inherit (crate) pname version;
    strictDeps = true;
    cargoExtraArgs = "--locked -p lambda-audit";
  };
in
craneLib.buildPackage (
  args
  // {
    cargoArtifacts = craneLib.buildDepsOnly args;
    doCheck = false;
    passthru = { inherit args; };
  }
)
