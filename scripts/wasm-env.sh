# Sourced by the wasm builds (the npm package and the Worker): the same flags for both, so they
# share one build cache. simd128 selects sha2's wasm SIMD backend. The remaps keep this machine's
# paths out of the published .wasm (panic locations name source files).
_flags=(-C target-feature=+simd128)
for _d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  _flags+=("--remap-path-prefix=$_d=")
done
_flags+=("--remap-path-prefix=$ROOT/=")
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; printf '%s' "${_flags[*]}")
export CARGO_ENCODED_RUSTFLAGS
unset RUSTFLAGS _flags _d
