# `lib.<system>.verifyLambdaZip zip`: the checks a finished zip must pass, as
# a derivation for `nix flake check` (the seed's ldd rule by readelf, the
# audit of the packaged module, the zip holding exactly the package and no
# store path): the `scripts/pipeline verify` that ends every non-Nix build.
{
  pkgs,
  lib,
  lambda-audit,
  pipelineSrc,
  ...
}:
zip:
pkgs.runCommand "${zip.name or "lambda"}-verified"
  {
    nativeBuildInputs = [
      lambda-audit
      pkgs.binutils
      pkgs.unzip
      pkgs.python3
    ];
  }
  ''
    ${(lib.pipeline pipelineSrc).verify "${zip}"}
    touch $out
  ''
