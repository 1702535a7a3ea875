#!/usr/bin/env bash
# Fuzz the envelope parser and key generators, and the JSON <-> DynamoDB value conversion, for a
# bounded time each (libFuzzer through cargo-fuzz, with AddressSanitizer).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     default 20
#   FUZZ_KEEP=1 scripts/fuzz.sh 600           also add new interesting inputs to fuzz/corpus/
#
# The oracles are in fuzz/src/lib.rs; `cargo test` replays fuzz/corpus/ and fuzz/regressions/
# through them on every run. A crash found here is copied to fuzz/regressions/<target>/ (commit
# it with the fix) and the script fails.
#
# cargo-fuzz needs nightly compiler flags; this machine has one stable toolchain, so the build
# runs with RUSTC_BOOTSTRAP=1. cargo-fuzz itself is installed from crates.io when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-20}
targets=(envelope dynamodb_roundtrip dynamodb_numbers)
readonly CARGO_FUZZ_VERSION=0.13.2

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "fuzz.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked --quiet "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

export RUSTC_BOOTSTRAP=1
cargo fuzz build --fuzz-dir fuzz/cargo-fuzz

status=0
for t in "${targets[@]}"; do
  if [[ ${FUZZ_KEEP:-0} == 1 ]]; then
    out=fuzz/corpus/$t
    seeds=()
  else
    out=$(mktemp -d)
    seeds=("fuzz/corpus/$t")
  fi
  artifacts=$(mktemp -d)
  echo "fuzz.sh: $t for ${seconds}s"
  if ! cargo fuzz run --fuzz-dir fuzz/cargo-fuzz "$t" "$out" "${seeds[@]}" -- \
       -max_total_time="$seconds" -artifact_prefix="$artifacts/" -print_final_stats=1 \
       2>&1 | grep -E "^(Done|stat::number_of_executed_units|.*panicked|SUMMARY|==[0-9]+==ERROR)" ; then
    :
  fi
  if compgen -G "$artifacts/*" >/dev/null; then
    mkdir -p "fuzz/regressions/$t"
    cp "$artifacts"/* "fuzz/regressions/$t/"
    echo "fuzz.sh: $t FOUND A CRASH; the input is in fuzz/regressions/$t/" >&2
    status=1
  fi
  rm -rf "$artifacts"
  [[ ${FUZZ_KEEP:-0} == 1 ]] || rm -rf "$out"
done
if [[ $status -eq 0 ]]; then
  echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each: no crash"
fi
exit $status
