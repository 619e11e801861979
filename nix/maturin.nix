# maturin: the very PyPI wheel toolchain/target.json pins (maturinWheels, by
# sha256, per build system) that `scripts/bootstrap-tools --maturin` installs
# with pip --require-hashes, so a Nix build and a non-Nix build of a PyO3
# module run the same binary. The wheel ships maturin as one static
# executable (maturin-VERSION.data/scripts/maturin); unpacking it is all the
# install there is. A derivation of its own, so that the zig tools (and every
# zip built with them) stay as they were.
{
  pkgs,
  lib,
  ...
}:
let
  system = pkgs.stdenv.hostPlatform.system;
  wheel = lib.maturinWheelFor system;
  version = lib.target.maturinVersion;
in
pkgs.stdenv.mkDerivation {
  pname = "lambda-maturin";
  inherit version;
  src = pkgs.fetchurl { inherit (wheel) url sha256; };
  nativeBuildInputs = [ pkgs.unzip ];
  dontUnpack = true;
  dontConfigure = true;
  dontBuild = true;
  installPhase = ''
    runHook preInstall
    mkdir -p "$out/site" "$out/bin"
    unzip -q "$src" -d "$out/site"
    chmod +x "$out/site/maturin-${version}.data/scripts/maturin"
    ln -s "../site/maturin-${version}.data/scripts/maturin" "$out/bin/maturin"
    runHook postInstall
  '';
  # The wheel's bytes, unchanged.
  dontFixup = true;
}
