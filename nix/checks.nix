# `nix flake check`: the audit of the built module (the seed's ldd rule and the
# symbol-version rules), the workspace tests, clippy, rustfmt and nixfmt.
{
  pkgs,
  lib,
  craneLib,
  src,
  sysroot,
  lambda-audit,
  lambda-zip,
  ...
}:
let
  auditArgs = lambda-audit.passthru.args;
  auditDeps = craneLib.buildDepsOnly auditArgs;
  testTools = [
    pkgs.gcc
    pkgs.binutils
    pkgs.zig
    pkgs.python3
    pkgs.patchelf
  ];
in
{
  lambda-zip-audit =
    pkgs.runCommand "lambda-zip-audit"
      {
        nativeBuildInputs = [
          lambda-audit
          pkgs.binutils
          pkgs.unzip
        ];
      }
      ''
        module=${lambda-zip}/package/${lib.target.artifact}
        # The seed's ldd assertion, made statically: no dynamic libssl/libcrypto.
        if readelf -d "$module" | grep -qiE 'NEEDED.*lib(ssl|crypto)'; then
          readelf -d "$module" >&2
          echo "ERROR: ${lib.target.artifact} is linked to libssl and/or libcrypto." >&2
          exit 1
        fi
        # Every NEEDED, version node and symbol against the runtime's profile.
        lambda-audit check --profile ${lib.auditProfile} "$module"
        unzip -l ${lambda-zip}/${lib.target.zipName} | grep -q ' ${lib.target.artifact}$'
        touch $out
      '';

  nextest = craneLib.cargoNextest (
    auditArgs
    // {
      cargoArtifacts = auditDeps;
      cargoNextestExtraArgs = "-p lambda-audit";
      nativeBuildInputs = testTools;
      buildInputs = [ pkgs.zlib ];
      preCheck = lib.exportLines (lib.zigCacheEnv "$TMPDIR") + ''
        mkdir -p "$HOME"
        export LAMBDA_AUDIT_SYSTEM_LIB_DIRS="${pkgs.stdenv.cc.libc}/lib:${pkgs.zlib}/lib"
        export LAMBDA_AUDIT_HOST_PYTHON="${pkgs.python3}/bin/python3"
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

  nixfmt = pkgs.runCommand "nixfmt-check" { nativeBuildInputs = [ pkgs.nixfmt ]; } ''
    nixfmt --check ${../flake.nix} ${../nix}/*.nix ${../tests/nix}/*.nix
    touch $out
  '';
}
