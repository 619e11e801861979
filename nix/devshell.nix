# `nix develop`: the same toolchain, zig, cargo-zigbuild, lambda-audit and the
# sysroot's variables, so `scripts/pipeline all target/lambda` runs what
# `nix build .#lambda-zip` runs (and `cargo zigbuild --release -p lambda
# --target x86_64-unknown-linux-gnu.2.17` is its bare build step).
# The build's tools are listed, not inherited with inputsFrom: that would also
# bring crane's setup hooks into the shell (a traced `cargo` function, and a
# temporary directory made in the checkout on entry).
{
  pkgs,
  lib,
  craneLib,
  lambda-zip,
  devTools,
  ...
}:
craneLib.devShell {
  packages = lambda-zip.buildTools ++ devTools;
  # The build's variables but not this zip's runtime and package: in the
  # shell, `scripts/pipeline` picks the package for whichever LAMBDA_RUNTIME
  # the user sets (lambda for python3.6, bootstrap for provided.*).
  env = lambda-zip.toolEnv;
  shellHook = ''
    echo "Lambda target: ${lib.zigbuildTarget}, profile ${lib.auditProfile}, handler ${lib.handler}"
  '';
}
