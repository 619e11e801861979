# The Rust toolchain: fenix's `stable` channel (Rust 1.95.0 at the locked rev,
# committed data in fenix, nothing fetched at evaluation), with the standard
# library of every Lambda architecture's target (x86_64 and aarch64), and
# crane on top of it.
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
  # Each architecture's std, but the build machine's own (in rust-std below).
  lambdaStds = map (architecture: channels.targets.${architecture.rustTarget}.stable.rust-std) (
    builtins.filter (architecture: architecture.rustTarget != hostTarget) (
      builtins.attrValues lib.architectures
    )
  );
  hostTarget =
    (lib.architectureOn (if system == "aarch64-linux" then "arm64" else "x86_64")).rustTarget;
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
    # The other architecture's std, which an artifact for it needs.
    ++ lambdaStds
  );
in
{
  inherit rust;
  craneLib = (crane.mkLib pkgs).overrideToolchain (p: rust);
}
