# The runtime match: a static OpenSSL compiled by the pinned zig for glibc
# 2.17 (x86_64-linux-gnu.2.17), OPENSSLDIR /etc/pki/tls (Amazon Linux's CA
# bundle), by scripts/openssl-recipe: the same recipe scripts/build-openssl
# runs without Nix. `openssl` chooses the source (nix/lib.nix
# opensslSources): 1.0.2u from openssl.org by default, or one of the
# openssl-src crate's trees (1.1.1w, 3.5.5), the non-Nix path's. Never nixpkgs' own OpenSSL: its
# static build is musl, and its glibc build needs GLIBC_2.38.
# Exposes the variables openssl-sys reads and the Python 3.6 ABI (passthru).
{
  pkgs,
  lib,
  tools,
  ...
}:
{
  openssl ? lib.defaultOpenssl,
  # x86_64 or arm64: the architecture it is compiled for (zig's target, OpenSSL's
  # Configure target, the CPU baseline), as scripts/build-openssl --arch.
  arch ? lib.target.defaultArchitecture,
}:
let
  architecture = lib.architectureOn arch;
  source =
    lib.opensslSources.${openssl}
      or (throw "lambda toolchain: no OpenSSL source ${openssl} (nix/lib.nix offers ${builtins.concatStringsSep ", " (builtins.attrNames lib.opensslSources)})");
in
pkgs.stdenv.mkDerivation (finalAttrs: {
  pname =
    "lambda-sysroot-openssl" + (if arch == lib.target.defaultArchitecture then "" else "-${arch}");
  inherit (source) version sourceRoot;
  src = pkgs.fetchurl { inherit (source) name urls sha256; };
  nativeBuildInputs = [
    tools
    pkgs.perl
  ];
  dontConfigure = true;
  buildPhase = ''
    runHook preBuild
    ${lib.exportLines (lib.zigCacheEnv "$TMPDIR")}
    mkdir -p "$HOME"
    patchShebangs --build .
    CONFIGURE_TARGET=${architecture.opensslConfigureTarget} TARGET_CPU=${
      if architecture.targetCpu == null then "" else architecture.targetCpu
    } bash ${lib.opensslRecipe} "$PWD" "$NIX_BUILD_TOP/sysroot" ${architecture.zigTarget} ${lib.opensslSettings.openssldir} ${builtins.concatStringsSep " " lib.opensslSettings.configureFlags}
    runHook postBuild
  '';
  # Only the static libraries and the headers are the sysroot.
  installPhase = ''
    runHook preInstall
    cp -R "$NIX_BUILD_TOP/sysroot" "$out"
    runHook postInstall
  '';
  # The recipe's bytes, as the non-Nix build has them: stdenv's fixup would
  # strip the archives, and the module linked from them would differ.
  dontFixup = true;
  passthru = {
    sysrootEnv = lib.sysrootEnv "${finalAttrs.finalPackage}";
    inherit (lib) python36Abi;
  };
})
