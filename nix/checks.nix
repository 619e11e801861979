# `nix flake check`: the audit of the built module (the seed's ldd rule and the
# symbol-version rules), the workspace tests, clippy, rustfmt and nixfmt.
{
  pkgs,
  lib,
  craneLib,
  src,
  sysroot,
  tools,
  lambda-audit,
  lambda-zip,
  lambda-zip-al2023,
  lambda-zip-al2,
  lambda-zip-al2023-arm64,
  lambda-zip-al2-arm64,
  lambda-zip-python312,
  lambda-zip-python312-arm64,
  verifyLambdaZip,
  ...
}:
let
  auditArgs = lambda-audit.passthru.args;
  auditDeps = craneLib.buildDepsOnly auditArgs;
  # What the tests run besides cargo: the fixture compilers, readelf, the
  # pinned zig, python3 (the interpreter oracle), patchelf, and ldconfig (the
  # oracle of the ld.so.conf test: glibc's bin output, run through unshare).
  testTools = [
    pkgs.gcc
    pkgs.binutils
    tools
    pkgs.python3
    pkgs.patchelf
    (pkgs.lib.getBin pkgs.stdenv.cc.libc)
    # unshare: the ldconfig oracle chroots in a user namespace of its own.
    pkgs.util-linux
  ];

in
{
  # The seed's ldd rule and the symbol-version rules, on the built zip: the
  # same `scripts/pipeline verify` that ends every non-Nix build, as a user's
  # flake checks its own zip (lib.verifyLambdaZip).
  lambda-zip-audit = verifyLambdaZip lambda-zip;
  # The bootstrap zips: no glibc newer than the runtime's (readelf), the
  # audit of the program and of the zip as Lambda unpacks it.
  lambda-zip-al2023-audit = verifyLambdaZip lambda-zip-al2023;
  lambda-zip-al2-audit = verifyLambdaZip lambda-zip-al2;
  # The arm64 programs: readelf's machine AArch64, no glibc newer than the
  # runtime's, the audit against the arm64 profile (verify reads OUT/arch).
  lambda-zip-al2023-arm64-audit = verifyLambdaZip lambda-zip-al2023-arm64;
  lambda-zip-al2-arm64-audit = verifyLambdaZip lambda-zip-al2-arm64;
  # The PyO3 module for python3.12: its name as the importer opens it, no
  # dynamic libssl/libcrypto, the machine, no glibc newer than the runtime's
  # (readelf), the audit of the zip as Lambda unpacks it (verify reads
  # OUT/runtime, OUT/arch and OUT/handler).
  "lambda-zip-python3.12-audit" = verifyLambdaZip lambda-zip-python312;
  "lambda-zip-python3.12-arm64-audit" = verifyLambdaZip lambda-zip-python312-arm64;

  nextest = craneLib.cargoNextest (
    auditArgs
    // {
      # auditArgs' cargoExtraArgs (--locked -p lambda-audit) select the package.
      cargoArtifacts = auditDeps;
      nativeBuildInputs = testTools;
      buildInputs = [ pkgs.zlib ];
      # The fixture script calls scripts/bootstrap-tools, which finds the
      # pinned zig on PATH (tools) and installs nothing.
      postPatch = "patchShebangs --build scripts tests/fixtures";
      preCheck = lib.exportLines (lib.zigCacheEnv "$TMPDIR") + ''
        mkdir -p "$HOME"
        export LAMBDA_AUDIT_SYSTEM_LIB_DIRS="${pkgs.stdenv.cc.libc}/lib:${pkgs.zlib}/lib"
        export LAMBDA_AUDIT_HOST_PYTHON="${pkgs.python3}/bin/python3"
        # The arm64 tests' fixture compiler: the pinned zig (tools), for
        # aarch64 and glibc 2.34, not a cross gcc of nixpkgs' own.
        export LAMBDA_AUDIT_AARCH64_CC="zig cc -target aarch64-linux-gnu.2.34"
      '';
    }
  );

  clippy = craneLib.cargoClippy (
    auditArgs
    // {
      cargoArtifacts = auditDeps;
      env = sysroot.sysrootEnv;
      cargoExtraArgs = "--locked --workspace";
      cargoClippyExtraArgs = "--all-targets -- --deny warnings";
    }
  );

  fmt = craneLib.cargoFmt { inherit src; };

  # The files and the command scripts/test runs with the pinned nixfmt_rs
  # (toolchain/target.json: nixFiles), here with nixpkgs' nixfmt: the judge.
  nixfmt =
    let
      fs = pkgs.lib.fileset;
      nixSources = fs.toSource {
        root = ../.;
        fileset = fs.fileFilter (file: file.hasExt "nix") ../.;
      };
    in
    pkgs.runCommand "nixfmt-check" { nativeBuildInputs = [ pkgs.nixfmt ]; } ''
      cd ${nixSources}
      nixfmt --check ${builtins.concatStringsSep " " lib.target.nixFiles}
      touch $out
    '';
}
