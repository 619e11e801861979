# The Rust toolchain: fenix's `stable` channel (Rust 1.95.0 at the locked rev,
# committed data in fenix, nothing fetched at evaluation), with the Lambda
# target's standard library, and crane on top of it.
{
  pkgs,
  fenix,
  crane,
  lib,
  ...
}:
let
  system = pkgs.stdenv.hostPlatform.system;
  channels = fenix.packages.${system};
  lambdaStd = channels.targets.${lib.rustTarget}.stable.rust-std;
  rust = channels.combine (
    [
      (channels.stable.withComponents [
        "cargo"
        "rustc"
        "rust-std"
        "rust-src"
        "clippy"
        "rustfmt"
      ])
    ]
    # On other build machines, add the x86_64 std the Lambda artifact needs.
    ++ pkgs.lib.optional (system != lib.lambdaSystem) lambdaStd
  );
in
{
  inherit rust;
  craneLib = (crane.mkLib pkgs).overrideToolchain (p: rust);
}
