# The runtime match: OpenSSL 1.0.2u from the upstream tarball, compiled by zig
# for glibc 2.17 (x86_64-linux-gnu.2.17) as static libraries, OPENSSLDIR
# /etc/pki/tls (Amazon Linux's CA bundle). Never nixpkgs' own OpenSSL: its
# static build is musl, and its glibc build needs GLIBC_2.38 symbols.
# Exposes the variables openssl-sys reads and the Python 3.6 ABI (passthru).
{ pkgs, lib }:
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
  makeFlags = [
    "CC=zig cc -target ${lib.zigTarget}"
    "MAKEDEPPROG=zig cc -target ${lib.zigTarget}"
    "AR=zig ar r"
    "RANLIB=zig ranlib"
  ];
  configurePhase = ''
    runHook preConfigure
    ${lib.exportLines (lib.zigCacheEnv "$TMPDIR")}
    mkdir -p "$HOME"
    patchShebangs .
    ./Configure linux-x86_64 ${builtins.concatStringsSep " " lib.openssl.configureFlags} \
      --prefix=$out --openssldir=${lib.openssl.openssldir}
    make depend "''${makeFlagsArray[@]}" $makeFlags
    runHook postConfigure
  '';
  buildFlags = [ "build_libs" ];
  installTargets = [ "install_sw" ];
  # Only the libraries and headers are the sysroot.
  postInstall = ''
    rm -rf $out/bin $out/ssl $out/lib/pkgconfig $out/lib/engines
  '';
  passthru = {
    env = lib.sysrootEnv "${finalAttrs.finalPackage}";
    inherit (lib) python36Abi;
  };
})
