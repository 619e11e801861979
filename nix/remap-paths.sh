# Sourced before cargo in both builds of the zip (dependencies only, then the
# function): every build-machine path rustc could record becomes a fixed name,
# and the flags are the same in both builds, because cargo fingerprints them
# and would otherwise compile every dependency a second time.
#  - the source root: crane unpacks the dummy and the real source under the
#    same name, so $PWD is the same directory in both;
#  - the vendored crates ($vendor_dir, crane's vendorCargoDeps, set by the
#    line before this file): each registry directory its source replacement
#    names, and the store path each crate in it links to.
remaps=("--remap-path-prefix=$PWD=/build" "--remap-path-prefix=$vendor_dir=/cargo/vendor")
if [ -f "$vendor_dir/config.toml" ]; then
  while IFS= read -r registry; do
    remaps+=("--remap-path-prefix=$registry=/cargo/registry")
    for crate in "$registry"/*; do
      if [ -L "$crate" ]; then
        remaps+=("--remap-path-prefix=$(readlink -f "$crate")=/cargo/registry/${crate##*/}")
      fi
    done
  done < <(sed -n 's/^[[:space:]]*directory = "\(.*\)"$/\1/p' "$vendor_dir/config.toml")
fi
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; printf '%s' "${remaps[*]}")
export CARGO_ENCODED_RUSTFLAGS
unset remaps registry crate vendor_dir
