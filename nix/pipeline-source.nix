# What the pipeline script needs of this flake, as its own store path: the
# scripts, the target definition, the Python 3.6 ABI and the runtime profiles
# (each runtime's glibc is its profile's). A crate built by
# buildLambdaZip (this flake's or a user's) is run against it.
{ pkgs, ... }:
let
  fs = pkgs.lib.fileset;
in
fs.toSource {
  root = ../.;
  fileset = fs.unions [
    ../scripts
    ../toolchain
    ../.cargo/config.toml
    ../lambda-audit/profiles
  ];
}
