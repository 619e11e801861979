# The runtime match: OpenSSL 1.0.2u from openssl.org, compiled by the pinned
# zig for glibc 2.17 (x86_64-linux-gnu.2.17) as static libraries, OPENSSLDIR
# /etc/pki/tls (Amazon Linux's CA bundle), by scripts/openssl-recipe: the same
# recipe scripts/build-openssl runs on 1.1.1w without Nix. Never nixpkgs' own
# OpenSSL: its static build is musl, and its glibc build needs GLIBC_2.38.
# Exposes the variables openssl-sys reads and the Python 3.6 ABI (passthru).
{
  pkgs,
  lib,
  tools,
  ...
}:
pkgs.stdenv.mkDerivation (finalAttrs: {
  pname = "lambda-sysroot-openssl";
  version = lib.openssl.version;
  src = pkgs.fetchurl { inherit (lib.openssl) urls sha256; };
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
    bash ${lib.opensslRecipe} "$PWD" "$NIX_BUILD_TOP/sysroot" ${lib.zigTarget} ${lib.openssl.openssldir} ${builtins.concatStringsSep " " lib.openssl.configureFlags}
    runHook postBuild
  '';
  # Only the static libraries and the headers are the sysroot.
  installPhase = ''
    runHook preInstall
    cp -R "$NIX_BUILD_TOP/sysroot" "$out"
    runHook postInstall
  '';
  passthru = {
    sysrootEnv = lib.sysrootEnv "${finalAttrs.finalPackage}";
    inherit (lib) python36Abi;
  };
})
