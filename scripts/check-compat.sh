#!/usr/bin/env bash
# Depending on our crates must not change the user's own JSON (issue 23): Cargo unifies a
# dependency's features across a whole build, so a crate of ours turning on a serde_json
# feature with a global effect (arbitrary_precision, float_roundtrip, preserve_order) would
# change how every crate of the user's program parses JSON.
#
#   scripts/check-compat.sh
#
# compat/user-crate is a user's crate outside the workspace, with its own JSON types (an
# untagged enum and a flattened struct of f64s) and every public library crate of ours as a path
# dependency (feature `ours`). This script builds it three times, in target/compat (or
# $CARGO_TARGET_DIR/compat):
#   1. reference: `--no-default-features`, none of our crates: what the user gets without us;
#   2. default:   our crates with their default features;
#   3. all:       every feature of every one of our crates (read from cargo metadata, so a new
#                 feature is covered without editing anything).
# Each time it runs the crate's tests (tests/user_json.rs: the untagged enum takes 1.5, the
# flattened struct takes floats, a Value of 1.5 is an f64, 1e400 is no Number, keys stay sorted,
# the recursion limit stays) and prints its observations (src/lib.rs: exact results and f64 bits
# of a fixed set of inputs); builds 2 and 3 must print exactly what build 1 prints. It also fails
# when serde_json gets one of the features above, naming who turns it on, and when a public
# library crate of the workspace is not a dependency of compat/user-crate.
#
# The crate resolves with the workspace's Cargo.lock (copied next to its manifest, where it is
# ignored by git; cargo drops what the crate does not use), so it builds the versions we test.
# First run: about 3 minutes on 2 cores (174 s measured: the AWS SDK twice, for two feature
# sets; 1.7 GB in target/compat); then seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD
readonly CRATE=compat/user-crate
# Public crates that are tools, not libraries a user depends on.
readonly TOOLS=(persistence-cli)
# serde_json features that change how every crate in a build parses or prints JSON.
readonly GLOBAL_FEATURES=(arbitrary_precision float_roundtrip preserve_order)

say() { printf 'check-compat.sh: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 not found"
command -v cargo >/dev/null 2>&1 || die "cargo not found"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/compat
out=$CARGO_TARGET_DIR/check-compat
mkdir -p "$out"
t_all=$SECONDS

# ---------------------------------------------------------------- which crates, which features
cargo metadata --no-deps --format-version 1 >"$out/workspace.json" || die "cargo metadata (workspace) failed"
cargo metadata --no-deps --format-version 1 --manifest-path "$CRATE/Cargo.toml" >"$out/crate.json" \
  || die "cargo metadata ($CRATE) failed"
all_features=$(python3 - "$out/workspace.json" "$out/crate.json" "${TOOLS[@]}" <<'EOF'
import json, sys
ws = json.load(open(sys.argv[1]))
crate = json.load(open(sys.argv[2]))["packages"][0]
tools = set(sys.argv[3:])
members = set(ws["workspace_members"])
public = sorted(
    p["name"] for p in ws["packages"]
    if p["id"] in members and p["publish"] != [] and p["name"] not in tools
    and any("lib" in t["kind"] for t in p["targets"])
)
ours = {d["name"] for d in crate["dependencies"] if d.get("path")}
missing = [name for name in public if name not in ours]
if missing:
    sys.exit(f"public library crates that compat/user-crate does not depend on: {', '.join(missing)} "
             "(add them to its Cargo.toml, optional and in feature `ours`)")
features = [f"{p['name']}/{f}" for p in ws["packages"] if p["name"] in public
            for f in sorted(p["features"]) if f != "default"]
print(",".join(features))
print(f"check-compat.sh: {len(public)} public library crates: {' '.join(public)}", file=sys.stderr)
EOF
) || die "the crates compat/user-crate depends on"

cp Cargo.lock "$CRATE/Cargo.lock"
cd "$CRATE"

# ---------------------------------------------------------------- the three builds
# `run NAME CARGO_FEATURE_ARGS...`: serde_json's features, the tests, observations into $out/NAME.txt.
run() {
  local name=$1 t=$SECONDS f features
  shift
  say "== $name: cargo test|run|tree ${*:-(default features)}"
  # First what serde_json gets (no build needed), to name who turns on a global feature.
  cargo tree --quiet -e features -i serde_json --depth 2 "$@" >"$out/$name.serde_json.txt" 2>&1 \
    || { cat "$out/$name.serde_json.txt" >&2; die "$name: cargo tree failed"; }
  features=$(grep -o 'serde_json feature "[a-z_]*"' "$out/$name.serde_json.txt" | sed 's/.*"\(.*\)"/\1/' | sort -u | tr '\n' ' ')
  say "   serde_json features: $features"
  for f in "${GLOBAL_FEATURES[@]}"; do
    if grep -q "serde_json feature \"$f\"" "$out/$name.serde_json.txt"; then
      awk -v f="serde_json feature \"$f\"" 'index($0, f) { on = 1; print; next } on && /serde_json feature/ { exit } on' \
        "$out/$name.serde_json.txt" >&2
      die "$name: serde_json gets feature $f, which changes how every crate of the build parses JSON (turned on by: above)"
    fi
  done
  cargo test "$@" >"$out/$name.test.log" 2>&1 || {
    tail -n 40 "$out/$name.test.log" >&2
    die "$name: the user's JSON tests failed (log: $out/$name.test.log)"
  }
  grep -E '^test result:' "$out/$name.test.log" | grep -v " 0 passed; 0 failed" >&2 || true
  cargo run --quiet "$@" >"$out/$name.txt" 2>"$out/$name.run.log" || {
    cat "$out/$name.run.log" >&2
    die "$name: printing the observations failed"
  }
  say "   ($((SECONDS - t)) s)"
}

run reference --no-default-features
if grep -q 'persistence-core' "$out/reference.serde_json.txt"; then
  die "the reference build depends on our crates"
fi
run default
run all --features "$all_features"

for name in default all; do
  if ! diff -u --label "without our crates" --label "with our crates ($name)" \
      "$out/reference.txt" "$out/$name.txt" >&2; then
    die "with our crates ($name features) the user's JSON parses differently (above)"
  fi
done
say "PASSED: the user's JSON parses the same without our crates, with their default features and with all of them ($(wc -l <"$out/reference.txt") observations, $((SECONDS - t_all)) s)"
