# The pure parts of the flake, in builtins-only Nix (no nixpkgs), so they can
# be evaluated and unit-tested anywhere: `nix-instantiate --eval --strict`.
# Everything comes from files the non-Nix pipeline reads too:
#   toolchain/target.json  - target triples, profile, OpenSSL settings
#   .cargo/config.toml     - the Python 3.6 ABI given to python3-sys
let
  target = builtins.fromJSON (builtins.readFile ../toolchain/target.json);
  cargoConfig = builtins.fromTOML (builtins.readFile ../.cargo/config.toml);
in
rec {
  inherit target;

  # The triple rustc builds for, and the one cargo-zigbuild is given
  # (glibc version suffix: zig links against glibc 2.17's symbol lists).
  rustTarget = target.rustTarget;
  zigbuildTarget = target.zigbuildTarget;
  zigTarget = target.zigTarget;
  auditProfile = target.auditProfile;
  handler = target.handler;

  # The runtimes the pipeline builds for (toolchain/target.json), each with
  # the glibc its artifact links against: the newest GLIBC_2.x node of the
  # libc in its lambda-audit profile (or in the OS profile it extends), as
  # scripts/pipeline reads it too. The cargo-zigbuild target follows. These
  # are the default architecture's (x86_64); runtimeOn gives any other.
  runtimes = builtins.mapAttrs (name: runtime: runtimeOn name target.defaultArchitecture) (
    builtins.removeAttrs target.runtimes [ "comment" ]
  );

  # The instruction sets Lambda offers (toolchain/target.json architectures:
  # Rust target, zig's name, OpenSSL's Configure target, CPU baseline).
  architectures = builtins.removeAttrs target.architectures [ "comment" ];

  # An architecture's facts for a build: rustTarget, zigTarget (the OpenSSL
  # build's: zigTarget's OS, ABI and glibc 2.17 for the architecture's zig
  # name), opensslConfigureTarget, targetCpu (null: the Rust target's default).
  architectureOn =
    arch:
    let
      architecture =
        architectures.${arch}
          or (throw "lambda toolchain: no architecture ${arch} (Lambda's are ${builtins.concatStringsSep ", " (builtins.attrNames architectures)})");
      osAbiGlibc = builtins.tail (
        builtins.filter builtins.isString (builtins.split "-" target.zigTarget)
      );
    in
    {
      inherit arch;
      inherit (architecture) rustTarget opensslConfigureTarget targetCpu;
      zigTarget = builtins.concatStringsSep "-" ([ architecture.zigArch ] ++ osAbiGlibc);
    };

  # A runtime on an architecture: its facts, the architecture's, the glibc of
  # its profile on that architecture (NAME-arm64.json for arm64,
  # lambda-audit's --arch rule), and the cargo-zigbuild target that follows.
  runtimeOn =
    name: arch:
    let
      runtime =
        target.runtimes.${name}
          or (throw "lambda toolchain: no runtime ${name} (toolchain/target.json has ${
            builtins.concatStringsSep ", " (
              builtins.attrNames (builtins.removeAttrs target.runtimes [ "comment" ])
            )
          })");
      architecture = architectureOn arch;
      profile =
        if arch == target.defaultArchitecture then runtime.profile else "${runtime.profile}-${arch}";
      glibc = profileGlibc profile;
    in
    if !(builtins.elem arch runtime.architectures) then
      throw "lambda toolchain: Lambda never offered ${name} on ${arch} (it runs on ${builtins.concatStringsSep ", " runtime.architectures} only)"
    else
      runtime
      // architecture
      // {
        inherit glibc;
        zigbuildTarget = "${architecture.rustTarget}.${glibc}";
      };

  profileGlibc =
    name:
    let
      profile = builtins.fromJSON (builtins.readFile (../lambda-audit/profiles + "/${name}.json"));
      libc = builtins.filter (l: (l.soname or null) == "libc.so.6") (profile.libraries or [ ]);
      nodes = builtins.filter (v: builtins.match "GLIBC_2\\.[0-9]+" v != null) (
        if libc == [ ] then [ ] else (builtins.head libc).versions
      );
      minor = v: builtins.fromJSON (builtins.elemAt (builtins.match "GLIBC_2\\.([0-9]+)" v) 0);
      newest = builtins.foldl' (a: v: if a == null || minor v > minor a then v else a) null nodes;
    in
    if profile ? extends then
      profileGlibc profile.extends
    else if newest == null then
      throw "lambda toolchain: profile ${name} defines no GLIBC_2.x node in libc.so.6"
    else
      builtins.substring 6 (builtins.stringLength newest) newest;

  # The build systems the flake offers, each with every output: each Lambda
  # artifact is built for its architecture and runtime's glibc on either
  # (zig cross-links), and each system's packages are built by that system. Darwin is not
  # offered: zig's wheel for it exists, but crane's Linux sandbox steps and the
  # tests' gcc/ELF fixtures do not run there (use a Linux builder).
  lambdaSystem = "x86_64-linux";
  systems = builtins.attrNames target.toolWheels;

  # The pinned zig and cargo-zigbuild wheels for one build system.
  toolWheelsFor =
    system:
    target.toolWheels.${system}
      or (throw "lambda toolchain: no zig/cargo-zigbuild wheels pinned for ${system} (toolchain/target.json offers ${builtins.concatStringsSep ", " systems})");

  # The pinned maturin wheel for one build system (the PyO3 modules' builder).
  maturinWheelFor =
    system:
    target.maturinWheels.${system}
      or (throw "lambda toolchain: no maturin wheel pinned for ${system} (toolchain/target.json offers ${builtins.concatStringsSep ", " systems})");

  # A PyO3 crate's Python dependencies, as scripts/lib/python_package.py
  # `requirements` finds them: a requirements.txt beside its Cargo.toml, or a
  # non-empty `[project] dependencies` in its pyproject.toml. pip cannot
  # reach an index inside the build sandbox, so buildLambdaZip refuses such a
  # crate in one line (null: none, the crate builds).
  pythonDependencyRefusal =
    dir: runtime:
    let
      pyproject = dir + "/pyproject.toml";
      declared =
        if builtins.pathExists pyproject then
          (builtins.fromTOML (builtins.readFile pyproject)).project.dependencies or [ ]
        else
          [ ];
      why =
        if builtins.pathExists (dir + "/requirements.txt") then
          "requirements.txt"
        else if declared != [ ] then
          "pyproject.toml's [project] dependencies (${builtins.concatStringsSep ", " declared})"
        else
          null;
    in
    if why == null then
      null
    else
      "buildLambdaZip: the crate has Python dependencies (${why}), which pip cannot fetch inside the Nix build sandbox: build it with scripts/build-lambda-zip --runtime ${runtime}, or drop them";

  # What openssl-sys reads: the same three variables scripts/build-openssl
  # prints, pointing at a static OpenSSL installed under `prefix`.
  sysrootEnv = prefix: {
    OPENSSL_STATIC = "1";
    OPENSSL_LIB_DIR = "${prefix}/lib";
    OPENSSL_INCLUDE_DIR = "${prefix}/include";
  };

  # The one OpenSSL recipe (both paths run it), as a store file of its own so
  # that no other script change rebuilds the sysroot.
  opensslRecipe = ../scripts/openssl-recipe;

  # The names, checked against toolchain/target.json by tests/nix/lib-test.nix.
  sysrootVariables = builtins.attrNames (sysrootEnv "/prefix");

  # The OpenSSL sources the sysroot can be built from (buildLambdaZip's
  # `openssl`), each unpacked by stdenv and built by the one recipe:
  #  - 1.0.2u: the last 1.0.x release, closest to the python3.6 runtime's
  #    1.0.1k; the release tarball from openssl.org, where it keeps
  #    superseded releases, or the project's own release assets (fetchurl
  #    tries them in order, one hash);
  #  - every tree of toolchain/target.json's opensslSrcCrates (1.1.1w, 3.5.5):
  #    the openssl-src crate's (crates.io), exactly what the non-Nix path
  #    builds, so the two front doors can be compared byte for byte.
  opensslSources = {
    "1.0.2u" = {
      version = "1.0.2u";
      name = "openssl-1.0.2u.tar.gz";
      urls = [
        "https://www.openssl.org/source/openssl-1.0.2u.tar.gz"
        "https://www.openssl.org/source/old/1.0.2/openssl-1.0.2u.tar.gz"
        "https://github.com/openssl/openssl/releases/download/OpenSSL_1_0_2u/openssl-1.0.2u.tar.gz"
      ];
      sha256 = "ecd0c6ffb493dd06707d38b14bb4d8c2288bb7033735606569d8f90f89669d16";
      sourceRoot = "openssl-1.0.2u";
    };
  }
  // builtins.mapAttrs opensslCrateSource (
    builtins.removeAttrs target.opensslSrcCrates [ "comment" ]
  );

  # One openssl-src crate as a source: a .crate is a gzipped tarball, and the
  # name tells stdenv how to unpack it.
  opensslCrateSource =
    version: entry:
    let
      crateVersion = builtins.elemAt (builtins.match "openssl-src@=(.*)" entry.crate) 0;
    in
    {
      inherit version;
      name = "openssl-src-${builtins.replaceStrings [ "+" ] [ "-" ] crateVersion}.tar.gz";
      # crates.io's download location (its index's `dl`, which crane uses
      # too), then its API's redirect to it.
      urls = [
        "https://static.crates.io/crates/openssl-src/openssl-src-${
          builtins.replaceStrings [ "+" ] [ "%2B" ] crateVersion
        }.crate"
        "https://crates.io/api/v1/crates/openssl-src/${crateVersion}/download"
      ];
      inherit (entry) sha256;
      sourceRoot = "openssl-src-${crateVersion}/openssl";
    };

  # The OpenSSL a runtime's zip links unless buildLambdaZip is told otherwise:
  # toolchain/target.json's (3.5.5 for provided.*), except for python3.6,
  # whose module the flake links with 1.0.2u, the release tarball (no
  # registry has its source, so the non-Nix path builds the crate's 1.1.1w).
  runtimeOpenssl = runtime: if runtime == "python3.6" then "1.0.2u" else runtimes.${runtime}.openssl;
  # The `sysroot` package's.
  defaultOpenssl = runtimeOpenssl "python3.6";
  opensslSettings = {
    openssldir = target.opensslDir;
    configureFlags = target.opensslConfigureFlags;
  };
  # The default source with its settings (the `sysroot` package).
  openssl = opensslSources.${defaultOpenssl} // opensslSettings;

  manifestAt = dir: builtins.fromTOML (builtins.readFile (dir + "/Cargo.toml"));
  # The package directories of a crate or workspace at `root`: the
  # workspace's `members` (a trailing `/*` is expanded), and the root package.
  workspaceMembers =
    root:
    let
      top = manifestAt root;
      expand =
        member:
        let
          glob = builtins.match "(.*)/[*]" member;
          parent = root + "/${builtins.head glob}";
          entries = builtins.readDir parent;
        in
        if glob == null then
          [ (root + "/${member}") ]
        else
          map (name: parent + "/${name}") (
            builtins.filter (
              name: entries.${name} == "directory" && builtins.pathExists (parent + "/${name}/Cargo.toml")
            ) (builtins.attrNames entries)
          );
    in
    (if top ? package then [ root ] else [ ])
    ++ builtins.concatMap expand (top.workspace.members or [ ]);
  # The directory of package `name` in the crate or workspace at `root`
  # (null: the crate at the root, or the one member there is).
  packageDir =
    root: name:
    let
      dirs = workspaceMembers root;
      named = builtins.filter (dir: (manifestAt dir).package.name or null == name) dirs;
    in
    if name == null then
      (if builtins.length dirs == 1 then builtins.head dirs else root)
    else if named == [ ] then
      throw "lambda toolchain: no package named ${name} in ${toString root}"
    else
      builtins.head named;

  # The Lambda functions of a crate or workspace at `root` (a path), by the
  # rule scripts/lib/crate-facts.py applies to `cargo metadata` (cargo does
  # not run at evaluation, so the manifests are read instead): a cdylib
  # depending on crowbar is a python3.6 module named after its package; a
  # cdylib depending on pyo3 (or pyo3-ffi) is a PyO3 module named after its
  # package, for `runtime` if that is a PyO3 module's runtime, else
  # python3.12; a package's bin named bootstrap is its one program, named
  # after the package; otherwise each bin is a program named after the bin,
  # for `runtime` if that runs programs, else provided.al2023 (the runtimes
  # scripts/build-lambda-zip gives a workspace's functions for --runtime).
  # Members: workspaceMembers; bins: the declared [[bin]] ones, and unless
  # `autobins = false` src/main.rs (the package's name) and src/bin/*.rs. Gives { <function> = { cargoPackage; runtime; cargoBin; }; }.
  workspaceFunctions =
    root: runtime:
    let
      artifactOf =
        name: (target.runtimes.${name} or (runtimeOn name target.defaultArchitecture)).artifact;
      programRuntime = if artifactOf runtime == "program" then runtime else "provided.al2023";
      pyo3Runtime = if artifactOf runtime == "pyo3-module" then runtime else "python3.12";
      memberDirs = workspaceMembers root;
      functionsOf =
        dir:
        let
          manifest = manifestAt dir;
          package = manifest.package.name;
          declared = manifest.bin or [ ];
          declaredPaths = map (bin: bin.path or "") declared;
          binDir = dir + "/src/bin";
          autoBins =
            (
              if builtins.pathExists (dir + "/src/main.rs") && !(builtins.elem "src/main.rs" declaredPaths) then
                [ package ]
              else
                [ ]
            )
            ++ (
              if builtins.pathExists binDir then
                map (file: builtins.substring 0 (builtins.stringLength file - 3) file) (
                  builtins.filter (
                    file: builtins.match ".*[.]rs" file != null && !(builtins.elem "src/bin/${file}" declaredPaths)
                  ) (builtins.attrNames (builtins.readDir binDir))
                )
              else
                [ ]
            );
          bins =
            map (bin: bin.name) declared ++ (if manifest.package.autobins or true then autoBins else [ ]);
          isCdylib = builtins.elem "cdylib" (manifest.lib.crate-type or [ ]);
          dependencies = manifest.dependencies or { };
          isModule = isCdylib && dependencies ? crowbar;
          isPyo3 = isCdylib && !isModule && (dependencies ? pyo3 || dependencies ? pyo3-ffi);
          program = bin: {
            cargoPackage = package;
            runtime = programRuntime;
            cargoBin = bin;
          };
        in
        (
          if isModule then
            [
              {
                name = package;
                value = {
                  cargoPackage = package;
                  runtime = "python3.6";
                  cargoBin = null;
                };
              }
            ]
          else if isPyo3 then
            [
              {
                name = package;
                value = {
                  cargoPackage = package;
                  runtime = pyo3Runtime;
                  cargoBin = null;
                };
              }
            ]
          else
            [ ]
        )
        ++ (
          if builtins.elem "bootstrap" bins then
            [
              {
                name = package;
                value = program "bootstrap";
              }
            ]
          else
            map (bin: {
              name = bin;
              value = program bin;
            }) bins
        );
      found = builtins.concatMap functionsOf memberDirs;
      names = map (f: f.name) found;
      repeated = builtins.filter (n: builtins.length (builtins.filter (m: m == n) names) > 1) names;
    in
    if repeated != [ ] then
      throw "buildLambdaZips: two functions would be named ${builtins.head repeated}: rename one, or give `functions`"
    else
      builtins.listToAttrs found;

  # The Python 3.6 ABI that .cargo/config.toml gives python3-sys through the
  # `links = "python3"` build-script override (no libpython is linked).
  python36Abi = cargoConfig.target.${rustTarget}.python3;

  # zig writes caches; inside the Nix sandbox they must be under $TMPDIR.
  zigCacheEnv = tmp: {
    HOME = "${tmp}/home";
    XDG_CACHE_HOME = "${tmp}/cache";
    ZIG_GLOBAL_CACHE_DIR = "${tmp}/zig-global-cache";
    ZIG_LOCAL_CACHE_DIR = "${tmp}/zig-local-cache";
    CARGO_ZIGBUILD_CACHE_DIR = "${tmp}/cargo-zigbuild-cache";
  };

  # Shell lines exporting an attribute set; values are double-quoted so that
  # $TMPDIR and the like expand when the build runs. Every line ends with a
  # newline, so whatever is appended starts a line of its own.
  exportLines =
    env:
    builtins.concatStringsSep "" (
      map (name: "export ${name}=\"${builtins.getAttr name env}\"\n") (builtins.attrNames env)
    );

  # The hook both the dependency-only and the final build of the zip run
  # before cargo: the same --remap-path-prefix flags in both (cargo
  # fingerprints them), so the final build reuses every dependency. The rule
  # is the non-Nix pipeline's (scripts/lib/remap-paths.sh, inlined: the hook
  # needs no store file, and no other script change rebuilds the
  # dependencies): the source root ($PWD: crane unpacks the dummy and the
  # real source under the same name), the vendored crates (crane's
  # vendorCargoDeps), the target directory (CARGO_TARGET_DIR=target) and the
  # toolchain's rust-src. With a CPU baseline (arm64's neoverse-n1), its
  # -Ctarget-cpu last.
  remapPathsHook =
    vendorDir: targetCpu:
    builtins.readFile ../scripts/lib/remap-paths.sh
    + ''
      CARGO_ENCODED_RUSTFLAGS=$(remap_path_flags "$PWD" "$PWD/target" "" "${vendorDir}" | encode_rustflags)
    ''
    # The architecture's CPU baseline last, as scripts/pipeline pins it (and
    # then leaves the flags as they are): the same flags in both builds.
    + (if targetCpu == null then "" else "CARGO_ENCODED_RUSTFLAGS+=$'\\x1f'-Ctarget-cpu=${targetCpu}\n")
    + ''
      export CARGO_ENCODED_RUSTFLAGS
    '';

  # The environment of a build through cargo-auditable, as scripts/pipeline
  # auditable_env gives it (its comment says why the wrapper is named, not
  # given by its store path): shell words before a cargo command line.
  auditableEnv =
    config:
    "RUSTC_WORKSPACE_WRAPPER=cargo-auditable CARGO_AUDITABLE_ORIG_ARGS='${
      builtins.toJSON {
        inherit config;
        frozen = false;
        locked = true;
        offline = false;
      }
    }'";

  # The pipeline steps the flake runs: the same script CI runs
  # (scripts/pipeline), from `root`, this flake's pipeline source
  # (nix/pipeline-source.nix), whichever crate is built. Called through bash:
  # the sandbox has no /usr/bin/env for the shebang.
  pipeline = root: {
    build = "bash ${root}/scripts/pipeline build";
    package = out: "bash ${root}/scripts/pipeline package ${out}";
    verify = out: "bash ${root}/scripts/pipeline verify ${out}";
  };

}
