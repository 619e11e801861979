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

  # Thin wiring only: each output is one file in nix/, and every real step is
  # a script the non-Nix pipeline runs in CI too (scripts/pipeline).
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
          pkgs = nixpkgs.legacyPackages.${system};
          toolchain = import ./nix/toolchain.nix {
            inherit
              pkgs
              fenix
              crane
              lib
              ;
          };
          inherit (toolchain) craneLib rust;
          src = import ./nix/source.nix { inherit pkgs craneLib; };
          sysroot = import ./nix/sysroot.nix { inherit pkgs lib; };
          lambda-audit = import ./nix/lambda-audit.nix { inherit craneLib src; };
          lambda-zip = import ./nix/lambda-zip.nix {
            inherit
              pkgs
              lib
              craneLib
              src
              sysroot
              lambda-audit
              ;
          };
        in
        {
          inherit
            pkgs
            craneLib
            rust
            src
            sysroot
            lambda-audit
            lambda-zip
            ;
        };
      lambdaSystem = perSystem lib.lambdaSystem;
    in
    {
      packages.${lib.lambdaSystem} = with lambdaSystem; {
        default = lambda-zip;
        inherit lambda-zip lambda-audit sysroot;
        docker-image = import ./nix/docker-image.nix {
          inherit
            pkgs
            lib
            rust
            sysroot
            lambda-audit
            ;
        };
      };

      devShells = forSystems (
        system: with perSystem system; {
          default = import ./nix/devshell.nix {
            inherit
              pkgs
              lib
              craneLib
              sysroot
              lambda-audit
              ;
          };
        }
      );

      checks = forSystems (
        system:
        with perSystem system;
        import ./nix/checks.nix {
          inherit
            pkgs
            lib
            craneLib
            src
            sysroot
            lambda-audit
            lambda-zip
            ;
        }
      );

      formatter = forSystems (system: nixpkgs.legacyPackages.${system}.nixfmt);
    };
}
