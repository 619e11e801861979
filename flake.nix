{
  description = "Rust Lambda functions for python3.6 on Amazon Linux 2017.03, proven to load";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    crane.url = "github:ipetkov/crane/v0.23.4";
    fenix = {
      url = "github:nix-community/fenix";
      inputs.nixpkgs.follows = "nixpkgs";
      inputs.rust-analyzer-src.follows = "";
    };
  };

  # Thin wiring only: each output is one file in nix/, called with the same
  # scope (every file takes the names it needs), and every real step is a
  # script the non-Nix pipeline runs in CI too (scripts/pipeline).
  outputs =
    {
      self,
      nixpkgs,
      crane,
      fenix,
    }:
    let
      lib = import ./nix/lib.nix;
      forSystems = nixpkgs.lib.genAttrs lib.devSystems;
      perSystem =
        system:
        let
          call = file: import file scope;
          scope = {
            inherit lib crane fenix;
            pkgs = nixpkgs.legacyPackages.${system};
            inherit (scope.toolchain) craneLib rust;
            toolchain = call ./nix/toolchain.nix;
            src = call ./nix/source.nix;
            sysroot = call ./nix/sysroot.nix;
            lambda-audit = call ./nix/lambda-audit.nix;
            lambda-zip = call ./nix/lambda-zip.nix;
            docker-image = call ./nix/docker-image.nix;
            devShell = call ./nix/devshell.nix;
            checks = call ./nix/checks.nix;
          };
        in
        scope;
      lambda = perSystem lib.lambdaSystem;
    in
    {
      packages.${lib.lambdaSystem} = {
        default = lambda.lambda-zip;
        inherit (lambda)
          lambda-zip
          lambda-audit
          sysroot
          docker-image
          ;
      };
      devShells = forSystems (system: {
        default = (perSystem system).devShell;
      });
      checks = forSystems (system: (perSystem system).checks);
      formatter = forSystems (system: nixpkgs.legacyPackages.${system}.nixfmt);
    };
}
