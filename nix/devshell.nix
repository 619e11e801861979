# `nix develop`: the same toolchain, zig, cargo-zigbuild, lambda-audit and the
# sysroot's variables, so `scripts/pipeline all target/lambda` runs what
# `nix build .#lambda-zip` runs (and `cargo zigbuild --release -p lambda
# --target x86_64-unknown-linux-gnu.2.17` is its bare build step).
{
  pkgs,
  lib,
  craneLib,
  lambda-zip,
  ...
}:
craneLib.devShell {
  # cargo-zigbuild, zig, python3, patchelf and lambda-audit, as the build has them.
  inputsFrom = [ lambda-zip ];
  packages = [
    pkgs.cargo-nextest
    pkgs.binutils
    pkgs.nixfmt
  ];
  env = lambda-zip.buildEnv;
  shellHook = ''
    echo "Lambda target: ${lib.zigbuildTarget}, profile ${lib.auditProfile}, handler ${lib.handler}"
  '';
}
