# The development environment as an image for CI systems (a CircleCI primary
# container, as the seed's image was): built by dockerTools without KVM, run
# as the non-root user circleci (uid 1000).
{
  pkgs,
  lib,
  rust,
  lambda-zip,
  devTools,
  ...
}:
let
  user = "circleci";
  home = "/home/${user}";
in
pkgs.dockerTools.buildLayeredImage {
  name = "lambda-rust-toolchain";
  tag = "latest";
  contents = [
    pkgs.bashInteractive
    pkgs.coreutils
    pkgs.findutils
    pkgs.gnugrep
    pkgs.gnused
    pkgs.git
    pkgs.openssh
    pkgs.gnutar
    pkgs.gzip
    pkgs.binutils
    pkgs.stdenv.cc
    rust
    pkgs.dockerTools.caCertificates
    pkgs.dockerTools.usrBinEnv
    pkgs.dockerTools.binSh
    (pkgs.dockerTools.fakeNss.override {
      extraPasswdLines = [ "${user}:x:1000:1000:CI user:${home}:/bin/bash" ];
      extraGroupLines = [ "${user}:x:1000:" ];
    })
  ]
  # zig, cargo-zigbuild, python3, patchelf, unzip and lambda-audit, as the
  # build has them, and the dev shell's other tools: the image is the shell.
  ++ lambda-zip.buildTools
  ++ devTools;
  extraCommands = ''
    mkdir -p tmp ${builtins.substring 1 (-1) home}/project
    chmod 1777 tmp
  '';
  fakeRootCommands = ''
    chown -R 1000:1000 ${builtins.substring 1 (-1) home}
  '';
  config = {
    User = "${user}";
    WorkingDir = "${home}/project";
    Env = [
      "HOME=${home}"
      "PATH=/bin:/usr/bin"
      "SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt"
    ]
    # The build's variables: the sysroot's OPENSSL_* and LAMBDA_AUDIT (as in
    # the dev shell: no runtime or package fixed).
    ++ pkgs.lib.mapAttrsToList (name: value: "${name}=${value}") lambda-zip.toolEnv;
    Cmd = [ "/bin/bash" ];
  };
}
