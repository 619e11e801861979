# `nix develop`: the same toolchain, zig, cargo-zigbuild, lambda-audit and the
# sysroot's variables, so `cargo zigbuild --release -p lambda --target
# x86_64-unknown-linux-gnu.2.17` (or scripts/pipeline all target/lambda) gives
# the artifact `nix build .#lambda-zip` gives.
{
  pkgs,
  lib,
  craneLib,
  sysroot,
  lambda-audit,
}:
craneLib.devShell {
  packages = [
    pkgs.cargo-zigbuild
    pkgs.zig
    pkgs.cargo-nextest
    pkgs.patchelf
    pkgs.python3
    pkgs.binutils
    pkgs.nixfmt
    lambda-audit
  ];
  env = sysroot.sysrootEnv // {
    LAMBDA_AUDIT = "${lambda-audit}/bin/lambda-audit";
  };
  shellHook = ''
    echo "Lambda target: ${lib.zigbuildTarget}, profile ${lib.auditProfile}, handler ${lib.handler}"
  '';
}
