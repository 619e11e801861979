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
      forSystems = nixpkgs.lib.genAttrs lib.systems;
      perSystem =
        system:
        let
          call = file: import file scope;
          scope = {
            inherit lib crane fenix;
            pkgs = nixpkgs.legacyPackages.${system};
            inherit (scope.toolchain) craneLib rust;
            toolchain = call ./nix/toolchain.nix;
            tools = call ./nix/tools.nix;
            maturin = call ./nix/maturin.nix;
            cargo-auditable = call ./nix/cargo-auditable.nix;
            src = call ./nix/source.nix;
            sysrootFor = call ./nix/sysroot.nix;
            sysroot = scope.sysrootFor { };
            lambda-audit = call ./nix/lambda-audit.nix;
            pipelineSrc = call ./nix/pipeline-source.nix;
            buildLambdaZip = call ./nix/build-lambda-zip.nix;
            buildLambdaZips = call ./nix/build-lambda-zips.nix;
            verifyLambdaZip = call ./nix/verify-lambda-zip.nix;
            # This project's function, built the way a user's is.
            lambda-zip = scope.buildLambdaZip {
              inherit (scope) src;
              cargoPackage = "lambda";
            };
            # The program for the OS-only runtimes (bootstrap/), per runtime.
            # The same with the non-Nix path's OpenSSL (the openssl-src crate's
            # 1.1.1w): byte for byte the zip scripts/build-lambda-zip makes.
            lambda-zip-openssl-1_1_1w = scope.buildLambdaZip {
              inherit (scope) src;
              cargoPackage = "lambda";
              openssl = "1.1.1w";
              pname = "lambda-openssl-1.1.1w";
            };
            # bootstrap/ for each OS-only runtime and architecture it offers.
            bootstrapZip =
              runtime: arch: suffix:
              scope.buildLambdaZip {
                inherit (scope) src;
                inherit runtime arch;
                cargoPackage = "bootstrap";
                pname = "lambda-${suffix}";
              };
            lambda-zip-al2023 = scope.bootstrapZip "provided.al2023" "x86_64" "al2023";
            lambda-zip-al2 = scope.bootstrapZip "provided.al2" "x86_64" "al2";
            # The same program for Lambda's arm64 (Graviton) machines.
            lambda-zip-al2023-arm64 = scope.bootstrapZip "provided.al2023" "arm64" "al2023-arm64";
            lambda-zip-al2-arm64 = scope.bootstrapZip "provided.al2" "arm64" "al2-arm64";
            # The PyO3 function (pyfunction/, a workspace of its own: its
            # Cargo.toml, Cargo.lock, pyproject.toml and src/) for python3.12,
            # built by maturin, on each architecture: byte for byte the zips of
            # scripts/build-lambda-zip --runtime python3.12 [--arch arm64].
            pyfunctionZip =
              arch: suffix:
              scope.buildLambdaZip {
                src = ./pyfunction;
                runtime = "python3.12";
                inherit arch;
                pname = "lambda-${suffix}";
              };
            lambda-zip-python312 = scope.pyfunctionZip "x86_64" "python3.12";
            lambda-zip-python312-arm64 = scope.pyfunctionZip "arm64" "python3.12-arm64";
            # Both functions of this workspace in one output (the same
            # derivations as lambda-zip and lambda-zip-al2023, linked as
            # lambda/ and bootstrap/).
            lambda-functions = scope.buildLambdaZips {
              inherit (scope) src;
              functions = {
                lambda = {
                  cargoPackage = "lambda";
                  runtime = "python3.6";
                  pname = "lambda";
                };
                bootstrap = {
                  cargoPackage = "bootstrap";
                  runtime = "provided.al2023";
                  pname = "lambda-al2023";
                };
              };
            };
            devTools = call ./nix/dev-tools.nix;
            docker-image = call ./nix/docker-image.nix;
            devShell = call ./nix/devshell.nix;
            checks = call ./nix/checks.nix;
          };
        in
        scope;
      # Every system offers every output, built by that system: a Lambda
      # artifact is the same wherever it is built (zig cross-links).
      scopes = forSystems perSystem;
    in
    {
      packages = forSystems (
        system:
        let
          scope = scopes.${system};
        in
        {
          default = scope.lambda-zip;
          "lambda-zip-python3.12" = scope.lambda-zip-python312;
          "lambda-zip-python3.12-arm64" = scope.lambda-zip-python312-arm64;
          inherit (scope)
            lambda-zip
            lambda-zip-al2023
            lambda-zip-al2
            lambda-zip-al2023-arm64
            lambda-zip-al2-arm64
            lambda-zip-openssl-1_1_1w
            lambda-functions
            lambda-audit
            sysroot
            docker-image
            ;
        }
      );
      devShells = forSystems (system: {
        default = scopes.${system}.devShell;
      });
      checks = forSystems (system: scopes.${system}.checks);
      # For other flakes: build and check any crowbar crate the same way
      # (`nix flake init -t <this flake>` starts one).
      lib = forSystems (system: {
        inherit (scopes.${system}) buildLambdaZip buildLambdaZips verifyLambdaZip;
      });
      overlays.default = final: prev: {
        inherit (self.packages.${prev.stdenv.hostPlatform.system}) lambda-audit;
      };
      templates.pyo3 = {
        path = ./templates/pyo3;
        description = "A Rust function for AWS Lambda's python3.12 runtime (a PyO3 module built by maturin), proven to load";
        welcomeText = builtins.readFile ./templates/pyo3/WELCOME.md;
      };
      templates.default = {
        path = ./templates/default;
        description = "A Rust function for AWS Lambda's python3.6 runtime (crowbar), built and proven to load";
        welcomeText = builtins.readFile ./templates/default/WELCOME.md;
      };
      formatter = forSystems (system: nixpkgs.legacyPackages.${system}.nixfmt);
    };
}
