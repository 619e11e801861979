# cargo-auditable: the very crate toolchain/target.json pins (crateTools, by
# version and the .crate file's sha256) that `scripts/bootstrap-tools --crate
# cargo-auditable` builds with `cargo install --locked`, here fetched by
# crane's downloadCargoPackage and built by crane with the flake's Rust, its
# dependencies vendored from the committed copy of the crate's own Cargo.lock
# (crateTools' `lock`; scripts/bootstrap-tools checks it is the same file), so
# evaluation reads no fetched file. Every zip's build runs through it
# (scripts/pipeline: `cargo auditable zigbuild`, and maturin given its
# wrapper), so each artifact carries its crates in a .dep-v0 section; the same
# version on both front doors embeds the same bytes. (nixpkgs' cargo-auditable
# follows the channel's version, not this pin.)
{
  lib,
  craneLib,
  ...
}:
let
  pin = lib.target.crateTools.cargo-auditable;
in
craneLib.buildPackage {
  pname = "cargo-auditable";
  inherit (pin) version;
  src = craneLib.downloadCargoPackage {
    name = "cargo-auditable";
    inherit (pin) version;
    checksum = pin.sha256;
    source = "registry+https://github.com/rust-lang/crates.io-index";
  };
  cargoVendorDir = craneLib.vendorCargoDeps { cargoLock = ../. + "/${pin.lock}"; };
  # One build: crane's dependency-only build would read the fetched
  # source's manifests at evaluation.
  cargoArtifacts = null;
  strictDeps = true;
  # Its tests build other crates (and need targets the toolchain lacks).
  doCheck = false;
}
