#!/usr/bin/env bash
# The declared minimum Rust version (`rust-version`, issue 23) is honest: no lower than what the
# locked dependencies declare or what our own code needs, and the workspace builds with it.
#
#   scripts/check-msrv.sh                       # the checks below
#   MSRV_PROBE=1.88.0 scripts/check-msrv.sh     # also: does the code itself build with 1.88.0,
#                                               # declared rust-versions ignored? (finding the
#                                               # true floor of our code; see CODE_NEEDS)
#
# 1. Declarations (cargo metadata, no build): each workspace member's rust-version must be at
#    least the highest rust-version among the packages it builds with (its normal and build
#    dependencies, transitively, in the locked resolve with every feature on, for this host),
#    and at least CODE_NEEDS, the lowest version our own code compiles with.
# 2. The build: `cargo +VERSION check --workspace --all-features --locked` with the declared
#    version (per group of members, should they ever declare different ones), in
#    target/msrv (or $CARGO_TARGET_DIR/msrv). A toolchain that is not installed is installed
#    with `rustup toolchain install VERSION --profile minimal` (about 10 s measured here);
#    MSRV_INSTALL=0 forbids that. When the toolchain cannot be had, the script says so plainly
#    and fails under CI (CI=true), or skips the build otherwise.
#
# First build: about 1.5 minutes on 2 cores (a check build, no code generation).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The lowest Rust our own code compiles with, measured with `MSRV_PROBE` (declared versions
# ignored, every feature): 1.88.0 fails on `File::lock` (stable in 1.89, persistence-file's
# lock), 1.89.0 builds. Raise it when the code starts using something newer (clippy's
# `incompatible_msrv` lint catches newer std APIs against the declared rust-version; the build
# below catches newer language features). Also used: edition 2024 (1.85), let chains (1.88).
readonly CODE_NEEDS=1.89.0

say() { printf 'check-msrv.sh: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 not found"
command -v cargo >/dev/null 2>&1 || die "cargo not found"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}/msrv
mkdir -p "$CARGO_TARGET_DIR"
metadata=$CARGO_TARGET_DIR/metadata.json
host=$(rustc -vV | sed -n 's/^host: //p')
t0=$SECONDS

# ---------------------------------------------------------------- 1. declarations
cargo metadata --format-version 1 --locked --all-features --filter-platform "$host" >"$metadata" \
  || die "cargo metadata failed"
# Prints `VERSION MEMBER...` lines: the toolchain(s) to build with.
groups=$(python3 - "$metadata" "$CODE_NEEDS" <<'EOF'
import json, sys
from collections import defaultdict

meta, code_needs = json.load(open(sys.argv[1])), sys.argv[2]

def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))

def show(v):
    return ".".join(map(str, v))

packages = {p["id"]: p for p in meta["packages"]}
members = meta["workspace_members"]
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}

def closure(root, kinds):
    """Packages built with `root`: dependencies of the given kinds from root, then normal and
    build dependencies of those, transitively."""
    seen, todo = set(), [(root, kinds)]
    while todo:
        pid, allowed = todo.pop()
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] in allowed for k in dep["dep_kinds"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append((dep["pkg"], {None, "build"}))
    return seen

def highest(ids):
    found = [(version(packages[i]["rust_version"]), packages[i]) for i in ids
             if packages[i].get("rust_version") and packages[i]["source"] is not None]
    if not found:
        return (0, 0, 0), []
    top = max(v for v, _ in found)
    return top, sorted(f"{p['name']} {p['version']}" for v, p in found if v == top)

errors, groups = [], defaultdict(list)
edition_needs = {"2015": "1.0.0", "2018": "1.31.0", "2021": "1.56.0", "2024": "1.85.0"}
for mid in members:
    member = packages[mid]
    name = member["name"]
    if not member.get("rust_version"):
        errors.append(f"{name} declares no rust-version")
        continue
    declared = version(member["rust_version"])
    groups[show(declared)].append(name)
    top, which = highest(closure(mid, {None, "build"}))
    if declared < top:
        errors.append(f"{name} declares rust-version {show(declared)}, but builds with "
                      f"{len(which)} package(s) that declare {show(top)}: {', '.join(which[:5])}"
                      + (" ..." if len(which) > 5 else ""))
    floor = max(version(code_needs), version(edition_needs.get(member["edition"], "1.0.0")))
    if declared < floor:
        errors.append(f"{name} declares rust-version {show(declared)}, but our code needs {show(floor)} "
                      f"(CODE_NEEDS in scripts/check-msrv.sh; edition {member['edition']})")

all_built = set().union(*(closure(m, {None, "build"}) for m in members))
top, which = highest(all_built)
print(f"check-msrv.sh: {len(all_built)} packages built (normal and build dependencies, every feature); "
      f"highest rust-version among them: {show(top)} ({len(which)}: {', '.join(which[:6])}"
      + (" ..." if len(which) > 6 else "") + ")", file=sys.stderr)
dev_only = set().union(*(closure(m, {"dev"}) for m in members)) - all_built
dev_top, dev_which = highest(dev_only)
if dev_only:
    print(f"check-msrv.sh: dev-dependencies only (tests, not checked): highest {show(dev_top)} "
          f"({', '.join(dev_which[:4])})", file=sys.stderr)
print(f"check-msrv.sh: our code needs {code_needs}; declared: "
      + "; ".join(f"{v} by {len(n)} member(s)" for v, n in sorted(groups.items())), file=sys.stderr)
for e in errors:
    print(f"check-msrv.sh: {e}", file=sys.stderr)
if errors:
    sys.exit(1)
for v, names in sorted(groups.items()):
    print(v, *names)
EOF
) || die "a declared rust-version is too low (above)"
say "declarations OK ($((SECONDS - t0)) s)"

# ---------------------------------------------------------------- 2. the build

have_toolchain() { rustup run "$1" rustc --version >/dev/null 2>&1; }

get_toolchain() {
  local v=$1 t=$SECONDS
  have_toolchain "$v" && return 0
  command -v rustup >/dev/null 2>&1 || { say "rustup not found: cannot install Rust $v"; return 1; }
  if [[ ${MSRV_INSTALL:-1} == 0 ]]; then
    say "Rust $v is not installed (MSRV_INSTALL=0: not installing it)"
    return 1
  fi
  say "installing Rust $v (rustup toolchain install $v --profile minimal)"
  if ! rustup toolchain install "$v" --profile minimal >"$CARGO_TARGET_DIR/rustup-$v.log" 2>&1; then
    tail -n 5 "$CARGO_TARGET_DIR/rustup-$v.log" >&2
    say "rustup could not install Rust $v"
    return 1
  fi
  say "installed Rust $v in $((SECONDS - t)) s"
}

if [[ -n ${MSRV_PROBE:-} ]]; then
  get_toolchain "$MSRV_PROBE" || die "no toolchain $MSRV_PROBE to probe with"
  say "probe: cargo +$MSRV_PROBE check --workspace --all-features --ignore-rust-version"
  t=$SECONDS
  if cargo "+$MSRV_PROBE" check --workspace --all-features --locked --ignore-rust-version --keep-going \
      >"$CARGO_TARGET_DIR/probe-$MSRV_PROBE.log" 2>&1; then
    say "probe: the code builds with $MSRV_PROBE ($((SECONDS - t)) s); CODE_NEEDS is $CODE_NEEDS"
  else
    grep -E '^error' "$CARGO_TARGET_DIR/probe-$MSRV_PROBE.log" | sort | uniq -c >&2 || true
    say "probe: the code does not build with $MSRV_PROBE ($((SECONDS - t)) s; log: $CARGO_TARGET_DIR/probe-$MSRV_PROBE.log)"
  fi
fi

while read -r v members; do
  [[ -n $v ]] || continue
  read -ra names <<<"$members"
  if ! get_toolchain "$v"; then
    if [[ -n ${CI:-} ]]; then
      die "could not build with the declared rust-version $v: the toolchain is not installed and could not be installed"
    fi
    say "SKIPPED (CI unset): could not build with the declared rust-version $v: the toolchain is not installed and could not be installed"
    continue
  fi
  packages=()
  for n in "${names[@]}"; do packages+=(-p "$n"); done
  say "cargo +$v check --all-features --locked (${#names[@]} members: ${names[*]})"
  t=$SECONDS
  cargo "+$v" check "${packages[@]}" --all-features --locked || die "the workspace does not build with its declared rust-version $v"
  say "builds with Rust $v ($((SECONDS - t)) s)"
done <<<"$groups"
say "done in $((SECONDS - t0)) s"
