#!/usr/bin/env bash
# Releasability (CI): the library crates package as crates.io would take them, and every other
# workspace member is `publish = false`.
#
#   scripts/check-package.sh
#
# How: `cargo package --no-verify` of the library crates (and the tool) in ONE invocation. They depend on
# each other by path and version, and none is on crates.io yet; packaging them together makes
# cargo resolve each packaged manifest's workspace dependencies through a temporary local
# registry of the other packages (a single `cargo package -p skill-builder` or `cargo publish
# --dry-run` would look for persistence-core 0.1.0 on crates.io and fail). --no-verify: verifying
# would compile every crate again from its tarball, with per-crate feature resolution in
# target/package, i.e. the AWS SDK and the whole dependency tree a second time (minutes), to
# prove what `cargo test` and clippy already prove on the same sources. What verification would
# catch that they do not, a source file outside the package (include_str!, include_bytes!,
# #[path]), is checked below on the .crate files directly.
#
# Also checked in each .crate: the manifest fields crates.io needs (from cargo metadata), the
# license texts, and no file from outside the package. Needs python3 (>= 3.9).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly LIBRARIES=(persistence-core persistence-aws persistence-cache persistence-memory persistence-dynamodb persistence-s3 persistence-sqlite persistence-file alexa-skill-model alexa-request-verifier skill-builder skill-testkit persistence-cli)
# Crates whose directories belong to another change in flight: they get their LICENSE-MIT and
# LICENSE-APACHE links (like skill-builder's) from it. Listed here so that this check says so
# instead of failing, and fails once they have them (then remove them from the list).
readonly AWAITING_LICENSE_LINKS=()

say() { printf 'check-package.sh: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found"
metadata=$(mktemp)
trap 'rm -f "$metadata"' EXIT
cargo metadata --no-deps --format-version 1 >"$metadata" || die "cargo metadata failed"

python3 - "$metadata" "${LIBRARIES[@]}" <<'EOF' || die "package metadata"
import json, sys
meta = json.load(open(sys.argv[1]))
libraries = set(sys.argv[2:])
problems = []
members = {p["name"]: p for p in meta["packages"]}
missing = libraries - members.keys()
if missing:
    problems.append(f"not workspace members: {sorted(missing)}")
for name, p in sorted(members.items()):
    publishable = p["publish"] is None or p["publish"] != []
    if name in libraries:
        if not publishable:
            problems.append(f"{name}: a library crate, but publish = false")
        for field in ("description", "license", "repository"):
            if not p.get(field):
                problems.append(f"{name}: no `{field}`")
        if p.get("license") != "MIT OR Apache-2.0":
            problems.append(f"{name}: license {p.get('license')!r}, expected 'MIT OR Apache-2.0'")
        for dep in p["dependencies"]:
            if dep.get("path") and dep["kind"] != "dev" and not dep.get("req", "*").strip("*"):
                problems.append(f"{name}: path dependency {dep['name']} without a version")
    elif publishable:
        problems.append(f"{name}: not a library crate to publish, but has no `publish = false`")
for problem in problems:
    print(f"check-package.sh: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
say "manifests: ${LIBRARIES[*]} publishable with license, description, repository; all other members publish = false"

# A name someone else already published cannot be ours: ask the crates.io index (cargo's own
# client; `cargo info` reads the index, no API token). Offline, say so and go on.
for crate in "${LIBRARIES[@]}"; do
  if out=$(cargo info --registry crates-io "$crate" 2>&1); then
    die "$crate: the name is taken on crates.io ($(grep -m1 '^version' <<<"$out")); rename the crate"
  elif grep -q "could not find" <<<"$out"; then
    :
  else
    say "note: could not ask crates.io about $crate (offline?): $(head -n1 <<<"$out")"
  fi
done
say "names: ${LIBRARIES[*]} are free on crates.io"

package_args=()
for crate in "${LIBRARIES[@]}"; do package_args+=(-p "$crate"); done
t0=$SECONDS
# --allow-dirty: CI checks out a clean tree; locally this runs on work in progress.
cargo package --no-verify --allow-dirty "${package_args[@]}" || die "cargo package failed"
say "cargo package --no-verify of ${#LIBRARIES[@]} crates: $((SECONDS - t0)) s"

version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["packages"][0]["version"])' "$metadata")
python3 - "$version" "${LIBRARIES[*]}" "${AWAITING_LICENSE_LINKS[*]}" <<'EOF' || die "package contents"
import os, posixpath, re, sys, tarfile
version, libraries, awaiting = sys.argv[1], sys.argv[2].split(), set(sys.argv[3].split())
problems, notes = [], []
include = re.compile(r'(?:include_str|include_bytes)!\s*\(\s*"([^"]+)"|#\[path\s*=\s*"([^"]+)"\]')
for name in libraries:
    path = f"target/package/{name}-{version}.crate"
    root = f"{name}-{version}/"
    with tarfile.open(path) as crate:
        files = {m.name[len(root):]: m for m in crate.getmembers() if m.isfile()}
        if "src/lib.rs" not in files:
            problems.append(f"{name}: no src/lib.rs in {path}")
        licenses = [f for f in ("LICENSE-MIT", "LICENSE-APACHE") if f in files]
        if name in awaiting:
            if licenses:
                problems.append(f"{name}: has license texts now; remove it from AWAITING_LICENSE_LINKS")
            else:
                notes.append(f"{name}: no license texts in the package yet (awaiting its LICENSE-* links)")
        elif len(licenses) != 2:
            problems.append(f"{name}: the package lacks LICENSE-MIT and/or LICENSE-APACHE")
        for file, member in files.items():
            if not file.endswith(".rs"):
                continue
            text = crate.extractfile(member).read().decode("utf-8", "replace")
            for m in include.finditer(text):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(file), m.group(1) or m.group(2)))
                if target not in files:
                    problems.append(f"{name}: {file} includes {target}, which is not in the package")
for note in notes:
    print(f"check-package.sh: note: {note}", file=sys.stderr)
for problem in problems:
    print(f"check-package.sh: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
say "package contents: sources complete (include_str!/include_bytes!/#[path] targets packaged), license texts"
say "OK: ${LIBRARIES[*]} are ready for cargo publish (in dependency order)"
