# Unit tests of nix/lib.nix and of the flake's wiring, in builtins-only Nix.
# The nix/*.nix files are called with stand-ins for nixpkgs and crane (plain
# functions returning their arguments), so what they would hand to crane and
# stdenv can be checked here, where nixpkgs cannot be downloaded.
# Run: nix-instantiate --eval --strict --json tests/nix/lib-test.nix
# It evaluates to the list of failed tests' names (empty: all passed) and the count run.
let
  lib = import ../../nix/lib.nix;
  target = builtins.fromJSON (builtins.readFile ../../toolchain/target.json);
  sort = builtins.sort builtins.lessThan;

  # Stand-ins: packages are their names; crane and stdenv return their arguments.
  pkgs = {
    python3 = "python3";
    patchelf = "patchelf";
    perl = "perl";
    unzip = "unzip";
    binutils = "binutils";
    fetchurl = args: args;
    linkFarm = name: entries: {
      inherit name entries;
      type = "derivation";
    };
    stdenv.mkDerivation = f: f { finalPackage = "/nix/store/sysroot"; };
  };
  craneLib = {
    buildPackage = args: args;
    buildDepsOnly = args: args // { depsOnly = true; };
    vendorCargoDeps = args: "/nix/store/vendor";
  };
  tools = "/nix/store/tools";
  maturin = "/nix/store/maturin";
  cargo-auditable = "/nix/store/cargo-auditable";
  sysrootFor =
    choice:
    let
      drv = import ../../nix/sysroot.nix { inherit pkgs lib tools; } choice;
    in
    drv // drv.passthru;
  sysroot = sysrootFor { };
  buildLambdaZip = import ../../nix/build-lambda-zip.nix {
    inherit
      pkgs
      lib
      craneLib
      tools
      maturin
      cargo-auditable
      ;
    inherit sysrootFor;
    lambda-audit = "/nix/store/lambda-audit";
    pipelineSrc = "/nix/store/pipeline";
  };
  buildLambdaZips = import ../../nix/build-lambda-zips.nix { inherit pkgs lib buildLambdaZip; };
  lambdaZip = buildLambdaZip {
    src = "/src";
    cargoPackage = "lambda";
  };
  usersZip = buildLambdaZip { src = "/users-crate"; };
  # A PyO3 crate (this repository's pyfunction/) for python3.12.
  pyo3Zip =
    arch:
    buildLambdaZip {
      src = ../../pyfunction;
      runtime = "python3.12";
      inherit arch;
    };
  al2023Zip = buildLambdaZip {
    src = "/src";
    cargoPackage = "bootstrap";
    runtime = "provided.al2023";
  };

  tests = {
    sysrootVariablesAreTheTargetDefinition = lib.sysrootVariables == sort target.sysrootVariables;
    sysrootEnvPointsAtThePrefix =
      lib.sysrootEnv "/p" == {
        OPENSSL_STATIC = "1";
        OPENSSL_LIB_DIR = "/p/lib";
        OPENSSL_INCLUDE_DIR = "/p/include";
      };
    sysrootExposesItsVariables = sysroot.passthru.sysrootEnv == lib.sysrootEnv "/nix/store/sysroot";
    sysrootExposesThePython36Abi = sysroot.passthru.python36Abi == lib.python36Abi;
    # The non-Nix path's OpenSSL as a choice: the openssl-src crate's tree,
    # by the checksum crates.io publishes, unpacked where the crate keeps it.
    sysrootCanBeTheOpensslSrcCrate =
      let
        crate = sysrootFor { openssl = "1.1.1w"; };
      in
      crate.version == "1.1.1w"
      && crate.src.sha256 == target.opensslSrcCrates."1.1.1w".sha256
      && crate.sourceRoot == "openssl-src-111.28.2+1.1.1w/openssl"
      &&
        builtins.head crate.src.urls
        == "https://static.crates.io/crates/openssl-src/openssl-src-111.28.2%2B1.1.1w.crate"
      && builtins.match ".*[.]tar[.]gz" crate.src.name != null
      &&
        (buildLambdaZip {
          src = "/src";
          openssl = "1.1.1w";
        }).env.OPENSSL_LIB_DIR == "/nix/store/sysroot/lib";
    # Each runtime's zip links its OpenSSL: the python3.6 module 1.0.2u (the
    # release tarball), the provided.* programs 3.5.5 (a supported release:
    # toolchain/target.json's), from the crate the non-Nix path builds.
    eachRuntimeLinksItsOpenssl =
      let
        al2Zip = buildLambdaZip {
          src = "/src";
          runtime = "provided.al2";
        };
        crate = al2023Zip.passthru.sysroot;
      in
      lambdaZip.passthru.sysroot.version == "1.0.2u"
      && crate.version == "3.5.5"
      && target.runtimes."provided.al2023".openssl == "3.5.5"
      && al2Zip.passthru.sysroot.version == "3.5.5"
      && crate.src.sha256 == target.opensslSrcCrates."3.5.5".sha256
      && crate.sourceRoot == "openssl-src-300.5.5+3.5.5/openssl"
      &&
        builtins.head crate.src.urls
        == "https://static.crates.io/crates/openssl-src/openssl-src-300.5.5%2B3.5.5.crate"
      # A choice overrides the runtime's.
      &&
        (buildLambdaZip {
          src = "/src";
          runtime = "provided.al2023";
          openssl = "1.1.1w";
        }).passthru.sysroot.version == "1.1.1w";
    # An architecture's facts, as scripts/lib/runtime_facts.py gives them:
    # the arm64 profile's glibc, the aarch64 targets and the CPU baseline;
    # python3.6 is x86_64 only, as on Lambda.
    runtimeOnArm64 =
      let
        al2 = lib.runtimeOn "provided.al2" "arm64";
      in
      al2.glibc == "2.26"
      && al2.zigbuildTarget == "aarch64-unknown-linux-gnu.2.26"
      && al2.zigTarget == "aarch64-linux-gnu.2.17"
      && al2.opensslConfigureTarget == "linux-aarch64"
      && al2.targetCpu == target.architectures.arm64.targetCpu
      && (lib.runtimeOn "provided.al2023" "arm64").glibc == "2.34"
      && lib.runtimes."provided.al2" == lib.runtimeOn "provided.al2" "x86_64"
      && !(builtins.tryEval (lib.runtimeOn "python3.6" "arm64")).success
      && !(builtins.tryEval (lib.runtimeOn "provided.al2" "riscv64")).success;
    # A workspace's functions, by the rule of scripts/lib/crate-facts.py
    # (tests/test_workspace.py holds the two readers to the same answer on
    # this fixture): the crowbar cdylib, the PyO3 cdylib (python3.12 unless
    # the runtime given is a Python one), the package whose bin is bootstrap,
    # each bin of a package with several; not a cdylib without crowbar or pyo3.
    workspaceFunctionsFollowTheRule =
      lib.workspaceFunctions ./workspace "provided.al2" == {
        greeter = {
          cargoPackage = "greeter";
          runtime = "python3.6";
          cargoBin = null;
        };
        pricing = {
          cargoPackage = "pricing";
          runtime = "python3.12";
          cargoBin = null;
        };
        orders = {
          cargoPackage = "orders";
          runtime = "provided.al2";
          cargoBin = "bootstrap";
        };
        tools = {
          cargoPackage = "tools";
          runtime = "provided.al2";
          cargoBin = "tools";
        };
        report = {
          cargoPackage = "tools";
          runtime = "provided.al2";
          cargoBin = "report";
        };
      };
    # One output, each function's own zip under its name, built for its
    # runtime with its package and bin.
    buildLambdaZipsLinksEachFunction =
      let
        all = buildLambdaZips { src = ./workspace; };
        env = name: all.zips.${name}.env;
      in
      builtins.attrNames all.entries == [
        "greeter"
        "orders"
        "pricing"
        "report"
        "tools"
      ]
      && all.entries.report == all.zips.report
      && (env "greeter").LAMBDA_RUNTIME == "python3.6"
      && !((env "greeter") ? LAMBDA_BIN)
      && (env "report").LAMBDA_PACKAGE == "tools"
      && (env "report").LAMBDA_BIN == "report"
      && (env "orders").LAMBDA_RUNTIME == "provided.al2023"
      && all.zips.orders.passthru.sysroot.version == "3.5.5"
      && (env "pricing").LAMBDA_RUNTIME == "python3.12"
      && (env "pricing").LAMBDA_PACKAGE == "pricing"
      && builtins.elem maturin all.zips.pricing.nativeBuildInputs
      && all.zips.greeter.passthru.sysroot.version == "1.0.2u";
    # A Python runtime given: the PyO3 members are built for it, the
    # programs for provided.al2023 (scripts/build-lambda-zip's rule).
    workspaceFunctionsTakeAPythonRuntime =
      let
        found = lib.workspaceFunctions ./workspace "python3.13";
      in
      found.pricing.runtime == "python3.13"
      && found.orders.runtime == "provided.al2023"
      && found.greeter.runtime == "python3.6";
    buildLambdaZipsRefusesAnEmptyChoice =
      !(builtins.tryEval
        (buildLambdaZips {
          src = ./workspace;
          functions = { };
        }).name
      ).success;
    # The archives as the recipe wrote them (stdenv's fixup would strip them).
    sysrootIsNotStripped = sysroot.dontFixup && sysroot.sourceRoot == "openssl-1.0.2u";
    python36AbiIsTheCargoOverride =
      lib.python36Abi.python_flags == "FLAG_WITH_THREAD=1"
      && builtins.elem "Py_3_6" lib.python36Abi.rustc-cfg
      && builtins.elem "py_sys_config=\"WITH_THREAD\"" lib.python36Abi.rustc-cfg;
    opensslIsThePinnedTarball =
      sysroot.src.sha256 == "ecd0c6ffb493dd06707d38b14bb4d8c2288bb7033735606569d8f90f89669d16"
      && sysroot.version == "1.0.2u";
    # openssl.org moves superseded releases to source/old/<series>/.
    opensslHasTheOldReleasesLocationAndAMirror =
      builtins.elem "https://www.openssl.org/source/old/1.0.2/openssl-1.0.2u.tar.gz" sysroot.src.urls
      && builtins.length sysroot.src.urls >= 3;
    opensslIsCompiledByThePinnedZigForGlibc217 =
      builtins.match ".* x86_64-linux-gnu\\.2\\.17 .*" sysroot.buildPhase != null
      && builtins.elem tools sysroot.nativeBuildInputs;
    opensslDirIsAmazonLinuxs = builtins.match ".* /etc/pki/tls no-shared .*" sysroot.buildPhase != null;
    zigCachesAreUnderTmp =
      builtins.attrNames (lib.zigCacheEnv "/t") == [
        "CARGO_ZIGBUILD_CACHE_DIR"
        "HOME"
        "XDG_CACHE_HOME"
        "ZIG_GLOBAL_CACHE_DIR"
        "ZIG_LOCAL_CACHE_DIR"
      ];
    exportLinesExpandAtBuildTime = lib.exportLines { A = "$TMPDIR/a"; } == "export A=\"$TMPDIR/a\"\n";
    # Whatever is appended to the exports starts a line of its own (build-breaker 3).
    exportLinesEndEveryLine =
      lib.exportLines {
        A = "a";
        B = "b";
      } == "export A=\"a\"\nexport B=\"b\"\n";
    toolWheelsAreThePinnedVersions = builtins.all (
      system:
      map (w: w.name) (lib.toolWheelsFor system) == [
        "ziglang"
        "cargo-zigbuild"
      ]
      && builtins.all (
        w:
        builtins.match ".*-(${target.zigVersion}|${target.cargoZigbuildVersion})-py3-none-.*\\.whl" w.url
        != null
      ) (lib.toolWheelsFor system)
    ) lib.systems;
    toolWheelsFailClearlyElsewhere = !(builtins.tryEval (lib.toolWheelsFor "x86_64-darwin")).success;
    targetsAreGlibc217 =
      lib.zigbuildTarget == "x86_64-unknown-linux-gnu.2.17" && lib.zigTarget == "x86_64-linux-gnu.2.17";
    lambdaZipBuildsWithThePipelineScript =
      lambdaZip.buildPhaseCargoCommand
      == "LAMBDA_MANIFEST_PATH=$PWD/Cargo.toml bash /nix/store/pipeline/scripts/pipeline build";
    # package (then verify) of the crate crane unpacked, not of the pipeline's own workspace.
    lambdaZipPackagesWithThePipelineScript =
      lambdaZip.installPhaseCommand
      == "LAMBDA_MANIFEST_PATH=$PWD/Cargo.toml bash /nix/store/pipeline/scripts/pipeline package $out && LAMBDA_MANIFEST_PATH=$PWD/Cargo.toml bash /nix/store/pipeline/scripts/pipeline verify $out";
    checksVerifyWithThePipelineScript =
      (lib.pipeline "/p").verify "OUT" == "bash /p/scripts/pipeline verify OUT";
    # The dependency build's command line is the pipeline's (the Python 3.6
    # ABI given with --config), so the final build reuses every dependency.
    lambdaZipDependenciesAreBuiltByZigbuild =
      let
        deps = lambdaZip.cargoArtifacts;
        target = "x86_64-unknown-linux-gnu.2.17";
        command = "${
          lib.auditableEnv [ "/nix/store/pipeline/.cargo/config.toml" ]
        } cargo zigbuild --locked --release -p lambda --target ${target} --config /nix/store/pipeline/.cargo/config.toml";
      in
      deps.depsOnly && deps.buildPhaseCargoCommand == command && lambdaZip.env.LAMBDA_PACKAGE == "lambda";
    # A user's crate: its own source, the one cdylib package, the same pipeline.
    aUsersCrateBuildsTheSameWay =
      usersZip.src == "/users-crate"
      && !(usersZip.env ? LAMBDA_PACKAGE)
      && usersZip.buildPhaseCargoCommand == lambdaZip.buildPhaseCargoCommand
      &&
        usersZip.cargoArtifacts.buildPhaseCargoCommand == "${
          lib.auditableEnv [ "/nix/store/pipeline/.cargo/config.toml" ]
        } cargo zigbuild --locked --release --target x86_64-unknown-linux-gnu.2.17 --config /nix/store/pipeline/.cargo/config.toml";
    lambdaZipSeesTheSysroot =
      lambdaZip.env.OPENSSL_LIB_DIR == "/nix/store/sysroot/lib"
      && lambdaZip.env.LAMBDA_AUDIT == "/nix/store/lambda-audit/bin/lambda-audit";
    lambdaZipRemapsTheVendoredCrates =
      builtins.match ".*\nremap_path_flags[(][)] [{].*\nCARGO_ENCODED_RUSTFLAGS=[$][(]remap_path_flags \"[$]PWD\" \"[$]PWD/target\" \"\" \"/nix/store/vendor\" [|] encode_rustflags[)]\nexport CARGO_ENCODED_RUSTFLAGS\n.*" lambdaZip.preBuild
      != null
      && lambdaZip.cargoArtifacts.preBuild == lambdaZip.preBuild;
    lambdaZipHasWritableZigCaches =
      let
        pattern = ".*export ZIG_GLOBAL_CACHE_DIR=\"\\$TMPDIR/zig-global-cache\".*";
      in
      builtins.match pattern lambdaZip.preBuild != null;
    # The environment of a build through cargo-auditable: the wrapper by
    # name (its store path would enter the members' -C metadata), the cargo
    # options as JSON, as scripts/pipeline auditable_env writes them.
    auditableEnvNamesTheWrapperAndTheOptions =
      lib.auditableEnv [ "/c/config.toml" ]
      == "RUSTC_WORKSPACE_WRAPPER=cargo-auditable CARGO_AUDITABLE_ORIG_ARGS='{\"config\":[\"/c/config.toml\"],\"frozen\":false,\"locked\":true,\"offline\":false}'";
    auditProfileIsTheTarget = lib.auditProfile == "amazonlinux-2017.03-python3.6";
    # Each runtime links against the newest glibc its profile's libc defines.
    runtimesLinkAgainstTheirProfilesGlibc =
      builtins.mapAttrs (name: runtime: runtime.zigbuildTarget) lib.runtimes == {
        "python3.6" = "x86_64-unknown-linux-gnu.2.17";
        "provided.al2" = "x86_64-unknown-linux-gnu.2.26";
        "provided.al2023" = "x86_64-unknown-linux-gnu.2.34";
        "python3.9" = "x86_64-unknown-linux-gnu.2.26";
        "python3.10" = "x86_64-unknown-linux-gnu.2.26";
        "python3.11" = "x86_64-unknown-linux-gnu.2.26";
        "python3.12" = "x86_64-unknown-linux-gnu.2.34";
        "python3.13" = "x86_64-unknown-linux-gnu.2.34";
        "python3.14" = "x86_64-unknown-linux-gnu.2.34";
      }
      && lib.runtimes."python3.6".glibc == target.glibc
      && lib.runtimes."python3.6".profile == lib.auditProfile;
    # The program: its runtime told to the pipeline, its glibc, no Python ABI,
    # and the target directory crane's dependency build used.
    al2023ZipBuildsTheProgramForGlibc234 =
      al2023Zip.env.LAMBDA_RUNTIME == "provided.al2023"
      && al2023Zip.env.CARGO_TARGET_DIR == "target"
      && al2023Zip.cargoArtifacts.env.CARGO_TARGET_DIR == "target"
      &&
        al2023Zip.cargoArtifacts.buildPhaseCargoCommand
        == "${lib.auditableEnv [ ]} cargo zigbuild --locked --release -p bootstrap --target x86_64-unknown-linux-gnu.2.34"
      && al2023Zip.buildPhaseCargoCommand == lambdaZip.buildPhaseCargoCommand;
    # A PyO3 crate: maturin (the pinned wheel) among the build's tools and
    # no other zip's, the pipeline's three steps, the runtime and its
    # architecture named, the runtime's OpenSSL (3.5.5), and no
    # dependency-only build (maturin's cargo environment is its own).
    pyo3ZipBuildsWithMaturinAndThePipeline =
      let
        zip = pyo3Zip "x86_64";
        arm = pyo3Zip "arm64";
      in
      builtins.elem maturin zip.nativeBuildInputs
      && !(builtins.elem maturin lambdaZip.nativeBuildInputs)
      && !(builtins.elem maturin al2023Zip.nativeBuildInputs)
      && zip.cargoArtifacts == null
      && zip.buildPhaseCargoCommand == lambdaZip.buildPhaseCargoCommand
      && zip.installPhaseCommand == lambdaZip.installPhaseCommand
      && zip.env.LAMBDA_RUNTIME == "python3.12"
      && !(zip.env ? LAMBDA_ARCH)
      && arm.env.LAMBDA_ARCH == "arm64"
      && zip.passthru.sysroot.version == "3.5.5"
      && builtins.match ".*CONFIGURE_TARGET=linux-aarch64 .*" arm.passthru.sysroot.buildPhase != null
      && builtins.match ".*-Ctarget-cpu=neoverse-n1\n.*" arm.preBuild != null
      && builtins.match ".*target-cpu.*" zip.preBuild == null
      && builtins.match ".*export ZIG_GLOBAL_CACHE_DIR=.*" zip.preBuild != null;
    # Python dependencies cannot be fetched in the sandbox: one line, naming
    # where they are declared; a crate without them (pyfunction/: an empty
    # [project] dependencies) is not refused.
    pyo3DependenciesAreRefusedInOneLine =
      let
        refused =
          dir:
          builtins.tryEval
            (buildLambdaZip {
              src = dir;
              runtime = "python3.13";
            }).env;
      in
      !(refused ./pyo3-requirements).success
      && !(refused ./pyo3-pyproject).success
      && (refused ../../pyfunction).success
      &&
        lib.pythonDependencyRefusal ./pyo3-requirements "python3.13"
        == "buildLambdaZip: the crate has Python dependencies (requirements.txt), which pip cannot fetch inside the Nix build sandbox: build it with scripts/build-lambda-zip --runtime python3.13, or drop them"
      &&
        lib.pythonDependencyRefusal ./pyo3-pyproject "python3.12"
        == "buildLambdaZip: the crate has Python dependencies (pyproject.toml's [project] dependencies (orjson>=3, attrs)), which pip cannot fetch inside the Nix build sandbox: build it with scripts/build-lambda-zip --runtime python3.12, or drop them"
      && lib.pythonDependencyRefusal ../../pyfunction "python3.12" == null
      # Only a PyO3 runtime reads them: a program's crate is not refused.
      && (builtins.tryEval
        (buildLambdaZip {
          src = ./pyo3-requirements;
          runtime = "provided.al2023";
        }).env
      ).success;
    # In a workspace, the package's own directory is read.
    packageDirFindsTheMember =
      lib.packageDir ./workspace "pricing" == ./workspace/functions/pricing
      && lib.packageDir ../../pyfunction null == ../../pyfunction
      && !(builtins.tryEval (lib.packageDir ./workspace "nothing")).success;
    maturinWheelsAreThePinnedVersion = builtins.all (
      system:
      let
        wheel = lib.maturinWheelFor system;
      in
      builtins.match ".*/maturin-${target.maturinVersion}-py3-none-.*[.]whl" wheel.url != null
      && builtins.stringLength wheel.sha256 == 64
    ) lib.systems;
    anUnknownRuntimeFailsClearly =
      !(builtins.tryEval
        (buildLambdaZip {
          src = "/src";
          runtime = "python2.7";
        }).cargoArtifacts.buildPhaseCargoCommand
      ).success;
  };
  failed = builtins.filter (name: !tests.${name}) (builtins.attrNames tests);
in
{
  inherit failed;
  count = builtins.length (builtins.attrNames tests);
}
