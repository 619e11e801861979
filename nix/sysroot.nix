# The runtime match: OpenSSL 1.0.2u from the upstream tarball, compiled by zig
# for glibc 2.17 (x86_64-linux-gnu.2.17) as static libraries, OPENSSLDIR
# /etc/pki/tls (Amazon Linux's CA bundle). Never nixpkgs' own OpenSSL: its
# static build is musl, and its glibc build needs GLIBC_2.38 symbols.
# Exposes the variables openssl-sys reads and the Python 3.6 ABI (passthru).
{
  pkgs,
  lib,
  ...
}:
let
  # zig for every compile, archive and dependency step (single-quoted: the
  # values have spaces, which stdenv's makeFlags would split).
  zigCc = "zig cc -target ${lib.zigTarget}";
  makeArgs = "CC='${zigCc}' MAKEDEPPROG='${zigCc}' AR='zig ar r' RANLIB='zig ranlib'";
in
pkgs.stdenv.mkDerivation (finalAttrs: {
  pname = "lambda-sysroot-openssl";
  version = lib.openssl.version;
  src = pkgs.fetchurl { inherit (lib.openssl) url sha256; };
  nativeBuildInputs = [
    pkgs.zig
    pkgs.perl
  ];
  # OpenSSL 1.0.2's makefiles are not safe to run in parallel.
  enableParallelBuilding = false;
  configurePhase = ''
    runHook preConfigure
    ${lib.exportLines (lib.zigCacheEnv "$TMPDIR")}
    mkdir -p "$HOME"
    patchShebangs .
    ./Configure linux-x86_64 ${builtins.concatStringsSep " " lib.openssl.configureFlags} \
      --prefix=$out --openssldir=${lib.openssl.openssldir}
    make ${makeArgs} depend
    runHook postConfigure
  '';
  buildPhase = ''
    runHook preBuild
    make ${makeArgs} build_libs
    runHook postBuild
  '';
  # Only the static libraries and the headers are the sysroot.
  installPhase = ''
    runHook preInstall
    mkdir -p $out/lib $out/include/openssl
    cp libcrypto.a libssl.a $out/lib/
    cp -L include/openssl/*.h $out/include/openssl/
    runHook postInstall
  '';
  passthru = {
    inherit makeArgs;
    sysrootEnv = lib.sysrootEnv "${finalAttrs.finalPackage}";
    inherit (lib) python36Abi;
  };
})
