# The one rule for the build-machine paths rustc could record in an artifact
# (panic locations, file!(), std's macros): each becomes a fixed name, the
# same through both front doors, so that the same source gives the same zip.
# Sourced by scripts/pipeline (build) and inlined in the flake's two builds of
# a zip (nix/lib.nix remapPathsHook), before cargo. No `set -e` assumptions,
# no output but the function's.
#
# remap_path_flags ROOT TARGET_DIR CARGO_HOME VENDOR_DIR  (empty: none)
# prints one --remap-path-prefix flag per line. rustc uses the LAST prefix
# that matches, so the general ones come first:
#   ROOT          the workspace root                     -> /build
#   CARGO_HOME    cargo's home (git checkouts ...)       -> /cargo
#   VENDOR_DIR    crane's vendored sources               -> /cargo/vendor
#   each registry source directory: cargo's
#                 CARGO_HOME/registry/src/<index>/, or a `directory = ...`
#                 source of VENDOR_DIR/config.toml       -> /cargo/registry
#   each crate a registry directory links to (crane: a store path per
#                 crate)                                 -> /cargo/registry/<name>-<version>
#   TARGET_DIR    OUT_DIR of build scripts               -> /target
#   the toolchain's rust-src copy: when the toolchain has the rust-src
#                 component, rustc maps std's /rustc/<commit>/ paths back to
#                 it (so std's macros expanded in a crate, thread_local! for
#                 one, would record SYSROOT/lib/rustlib/src/rust/...)
#                                                        -> /rustc/<commit>, std's own name
# So a crate's file is /cargo/registry/<name>-<version>/src/... whichever way
# it was fetched.
remap_path_flags() {
  local root=$1 target_dir=$2 cargo_home=$3 vendor_dir=$4 registry crate sysroot commit
  local registries=()
  printf -- '--remap-path-prefix=%s=/build\n' "$root"
  if [ -n "$cargo_home" ]; then
    printf -- '--remap-path-prefix=%s=/cargo\n' "$cargo_home"
    for registry in "$cargo_home"/registry/src/*/; do
      [ -d "$registry" ] && registries+=("${registry%/}")
    done
  fi
  if [ -n "$vendor_dir" ]; then
    printf -- '--remap-path-prefix=%s=/cargo/vendor\n' "$vendor_dir"
    if [ -f "$vendor_dir/config.toml" ]; then
      while IFS= read -r registry; do
        registries+=("$registry")
      done < <(sed -n 's/^[[:space:]]*directory = "\(.*\)"$/\1/p' "$vendor_dir/config.toml")
    fi
  fi
  for registry in ${registries[@]+"${registries[@]}"}; do
    printf -- '--remap-path-prefix=%s=/cargo/registry\n' "$registry"
    for crate in "$registry"/*; do
      if [ -L "$crate" ]; then
        printf -- '--remap-path-prefix=%s=/cargo/registry/%s\n' "$(readlink -f "$crate")" "${crate##*/}"
      fi
    done
  done
  printf -- '--remap-path-prefix=%s=/target\n' "$target_dir"
  if sysroot=$(rustc --print sysroot 2>/dev/null) && commit=$(rustc -vV 2>/dev/null | sed -n 's/^commit-hash: //p') && [ -n "$commit" ]; then
    printf -- '--remap-path-prefix=%s/lib/rustlib/src/rust=/rustc/%s\n' "$sysroot" "$commit"
  fi
}

# The flags as CARGO_ENCODED_RUSTFLAGS wants them (0x1f between flags: a path
# may hold a space, and cargo splits RUSTFLAGS on spaces).
encode_rustflags() { # encode_rustflags < one flag per line
  local flags=() flag
  while IFS= read -r flag; do flags+=("$flag"); done
  (IFS=$'\x1f'; printf '%s' "${flags[*]}")
}
