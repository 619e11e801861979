{
  description = "A Rust function for AWS Lambda's python3.12 runtime (PyO3), proven to load";

  # The toolchain this template came from: set it to the flake reference you
  # gave `nix flake init -t` (a GitHub repository, a path, a registry name).
  inputs.lambda-toolchain.url = "github:your-org/lambda-rust-toolchain";

  outputs =
    { self, lambda-toolchain }:
    let
      # The systems the toolchain offers (each builds the Lambda artifacts).
      forSystems = f: builtins.mapAttrs (system: toolchain: f toolchain) lambda-toolchain.lib;
    in
    {
      # nix build: result/lambda.zip (runtime python3.12, handler hello_pyo3.handler);
      # nix build .#arm64: the same for Lambda's arm64 machines.
      packages = forSystems (toolchain: {
        default = toolchain.buildLambdaZip {
          src = ./.;
          runtime = "python3.12";
          pname = "hello-pyo3";
        };
        arm64 = toolchain.buildLambdaZip {
          src = ./.;
          runtime = "python3.12";
          arch = "arm64";
          pname = "hello-pyo3-arm64";
        };
      });
      # nix flake check: the audit of each zip (loads in the runtime, no
      # glibc newer than its own, no dynamic OpenSSL, the zip holds exactly
      # the audited package)
      checks = builtins.mapAttrs (system: toolchain: {
        audit = toolchain.verifyLambdaZip self.packages.${system}.default;
        audit-arm64 = toolchain.verifyLambdaZip self.packages.${system}.arm64;
      }) lambda-toolchain.lib;
      # nix develop: the pinned Rust, zig, cargo-zigbuild and lambda-audit
      devShells = builtins.mapAttrs (system: shells: {
        inherit (shells) default;
      }) lambda-toolchain.devShells;
    };
}
