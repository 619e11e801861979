# zig and cargo-zigbuild: the very PyPI wheels toolchain/target.json pins (by
# sha256, per build system) that scripts/bootstrap-tools installs with pip
# --require-hashes, so a Nix build and a non-Nix build run the same binaries.
# Both are static executables; a wheel is a zip, so unpacking it is all the
# install there is (zig finds its lib/ beside the real path of the binary).
{
  pkgs,
  lib,
  ...
}:
let
  system = pkgs.stdenv.hostPlatform.system;
  wheels = lib.toolWheelsFor system;
in
pkgs.stdenv.mkDerivation {
  pname = "lambda-zig-tools";
  version = "${lib.target.zigVersion}-${lib.target.cargoZigbuildVersion}";
  srcs = map (wheel: pkgs.fetchurl { inherit (wheel) url sha256; }) wheels;
  nativeBuildInputs = [ pkgs.unzip ];
  dontUnpack = true;
  dontConfigure = true;
  dontBuild = true;
  installPhase = ''
    runHook preInstall
    # unzip -d creates only the last directory of its path, and $out does not exist yet.
    mkdir -p "$out/site"
    for wheel in $srcs; do
      unzip -q "$wheel" -d "$out/site"
    done
    mkdir -p "$out/bin"
    chmod +x "$out/site/ziglang/zig" "$out/site/cargo_zigbuild-${lib.target.cargoZigbuildVersion}.data/scripts/cargo-zigbuild"
    ln -s ../site/ziglang/zig "$out/bin/zig"
    ln -s "../site/cargo_zigbuild-${lib.target.cargoZigbuildVersion}.data/scripts/cargo-zigbuild" "$out/bin/cargo-zigbuild"
    runHook postInstall
  '';
  # The wheels' bytes, unchanged: no stripping or patching of the binaries.
  dontFixup = true;
}
