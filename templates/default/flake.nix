{
  description = "A Rust function for AWS Lambda's python3.6 runtime, proven to load";

  # The toolchain this template came from: set it to the flake reference you
  # gave `nix flake init -t` (a GitHub repository, a path, a registry name).
  inputs.lambda-toolchain.url = "github:your-org/lambda-rust-toolchain";

  outputs =
    { self, lambda-toolchain }:
    let
      # The systems the toolchain offers (each builds the x86_64 Lambda artifact).
      forSystems = f: builtins.mapAttrs (system: toolchain: f toolchain) lambda-toolchain.lib;
    in
    {
      # nix build: result/lambda.zip (handler liblambda.handler, runtime python3.6)
      packages = forSystems (toolchain: {
        default = toolchain.buildLambdaZip {
          src = ./.;
          pname = "hello-lambda";
        };
      });
      # nix flake check: the audit of the zip (loads in the runtime, no
      # dynamic OpenSSL, the zip holds exactly the audited package)
      checks = builtins.mapAttrs (system: toolchain: {
        audit = toolchain.verifyLambdaZip self.packages.${system}.default;
      }) lambda-toolchain.lib;
      # nix develop: the pinned Rust, zig, cargo-zigbuild and lambda-audit
      devShells = builtins.mapAttrs (system: shells: {
        inherit (shells) default;
      }) lambda-toolchain.devShells;
    };
}
