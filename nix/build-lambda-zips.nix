# `lib.<system>.buildLambdaZips { src, … }`: every Lambda function of a
# workspace in one output, $out/<function>/lambda.zip (and package/), as
# scripts/build-lambda-zip leaves them under target/lambda/<function>/. Each
# function is its own buildLambdaZip (built, audited and verified for its
# runtime; cached, and built in parallel, one by one), linked under its name.
#   src        the workspace's source (its Cargo.toml and Cargo.lock at the root)
#   functions  { <function> = { cargoPackage; runtime ? …; cargoBin ? …; openssl ? …; }; },
#              or null (default): every Lambda member, found as the non-Nix
#              path finds them (nix/lib.nix workspaceFunctions: crowbar
#              cdylibs for python3.6, bins for `runtime`)
#   runtime    the runtime of the programs found (default provided.al2023)
#   pname, version  the derivation's name
{
  pkgs,
  lib,
  buildLambdaZip,
  ...
}:
{
  src,
  functions ? null,
  runtime ? "provided.al2023",
  pname ? "lambda-functions",
  version ? "0.1.0",
}:
let
  chosen = if functions == null then lib.workspaceFunctions src runtime else functions;
  zips = builtins.mapAttrs (
    name: function:
    buildLambdaZip (
      {
        inherit src version;
        pname = "lambda-${name}";
      }
      // function
    )
  ) chosen;
in
if chosen == { } then
  throw "buildLambdaZips: no Lambda function in ${toString src} (a cdylib depending on crowbar, or a package with a bin)"
else
  pkgs.linkFarm "${pname}-${version}" zips
  // {
    # Each function's own derivation (its zip, sysroot, build environment).
    inherit zips;
  }
