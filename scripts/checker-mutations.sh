#!/usr/bin/env bash
# Proves that the history checker (tests/tests/checker.rs) finds bugs 1-3 of issue 19: puts each
# back at its mechanism (tests/checker/mutations/*.patch), runs the checker's CI form on each
# backend the mutation affects with a few fixed seeds until it fails naming the expected anomaly,
# takes the patch back out, and prints a table. Also runs the unmutated checker on the same seeds
# first (the baseline: what the checker finds without any mutation).
#
#   flock /tmp/cargo.lock scripts/checker-mutations.sh            # every backend (starts LocalStack)
#   CHECKER_BACKENDS="memory sqlite files" flock /tmp/cargo.lock scripts/checker-mutations.sh
#   CHECKER_MUTATION_SEEDS="1 2 3 4 5" ...                         # seeds to try (default 101 202 303)
#
# DynamoDB and S3 need LocalStack: without AWS_ENDPOINT_URL the script runs itself again under
# scripts/test.sh (which starts and stops it). The working tree must be clean in the files the
# patches touch; every patch is taken out again on exit, also on failure or Ctrl-C. Exit status:
# 0 when every mutation was found on every backend tried, 1 otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backends=${CHECKER_BACKENDS:-"memory sqlite files dynamodb s3"}
seeds=${CHECKER_MUTATION_SEEDS:-"101 202 303"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

if [[ -z ${AWS_ENDPOINT_URL:-} && " $backends " == *" dynamodb "* || -z ${AWS_ENDPOINT_URL:-} && " $backends " == *" s3 "* ]]; then
  export CHECKER_BACKENDS="$backends" CHECKER_MUTATION_SEEDS="$seeds"
  ALEXA_TEST_CMD="scripts/checker-mutations.sh; echo \$? > ${TMPDIR:-/tmp}/checker-mutations.rc" \
    scripts/test.sh
  rc=$(cat "${TMPDIR:-/tmp}/checker-mutations.rc" 2>/dev/null || echo 1)
  exit "$rc"
fi

# name ; patch ; expected anomaly (extended regex on the checker's output) ; backends it affects
# Bug 3 has three forms: the core's token memory (in-process backends: they recognise a write
# by the item's recent tokens alone; DynamoDB and S3 then answer OutcomeUnknown, not Conflict,
# so nothing is applied twice there), and each cloud adapter's own recognition of a lost answer.
all="memory sqlite files dynamodb s3"
dup='ANOMALY .*(duplicate id|failed write landed: [^ ]+ \([^)]*Conflict\))'
mutations=(
  "1 equal changes merge;tests/checker/mutations/1-equal-changes-merge.patch;ANOMALY .*counter mismatch;$all"
  "2 blind delete after loading nothing;tests/checker/mutations/2-blind-delete-after-loading-nothing.patch;ANOMALY .*acked append lost: u[0-9];$all"
  "3 only the current token (core);tests/checker/mutations/3-only-the-current-token.patch;$dup;memory sqlite files"
  "3 only the current token (DynamoDB adapter);tests/checker/mutations/3-dynamodb-only-the-current-token.patch;$dup;dynamodb"
  "3 only the current token (S3 adapter);tests/checker/mutations/3-s3-only-the-current-token.patch;$dup;s3"
)

applied=""
restore() {
  if [[ -n $applied ]]; then
    git apply -R "$applied" || echo "checker-mutations: WARNING: could not take $applied out again" >&2
    applied=""
  fi
}
trap restore EXIT
trap 'exit 130' INT TERM

log=$(mktemp "${TMPDIR:-/tmp}/checker-mutations.XXXXXX")
rows=()
all_found=1

# One checker run on $1 with seed $2; output in $log; returns cargo's status.
run_checker() {
  CHECKER_SEED=$2 RUST_BACKTRACE=0 cargo test -q -p persistence-integration-tests --test checker \
    -- --exact "checker_$1" --nocapture >"$log" 2>&1
}

build() {
  cargo test -q -p persistence-integration-tests --test checker --no-run >"$log" 2>&1 || {
    cat "$log" >&2
    echo "checker-mutations: build failed" >&2
    exit 1
  }
}

echo "checker-mutations: baseline (no mutation)" >&2
build
for b in $backends; do
  failing=""
  for s in $seeds; do
    run_checker "$b" "$s" || failing+="$s "
  done
  if [[ -n $failing ]]; then
    rows+=("baseline (no mutation)|$b|$seeds|anomalies with seeds ${failing% }|-")
  else
    rows+=("baseline (no mutation)|$b|$seeds|none found|-")
  fi
done

for m in "${mutations[@]}"; do
  IFS=';' read -r name patch expect targets <<<"$m"
  targets=$(for b in $targets; do if [[ " $backends " == *" $b "* ]]; then echo "$b"; fi; done)
  if [[ -z $targets ]]; then continue; fi
  echo "checker-mutations: mutation $name" >&2
  git apply "$patch"
  applied=$patch
  build
  for b in $targets; do
    start=$(date +%s.%N)
    tried=0
    found=no
    for s in $seeds; do
      tried=$((tried + 1))
      if ! run_checker "$b" "$s" && grep -Eq "$expect" "$log"; then
        found=yes
        what=$(grep -Eo "$expect" "$log" | head -1 | sed 's/^ANOMALY //')
        break
      fi
    done
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [[ $found == yes ]]; then
      rows+=("$name|$b|$tried (seed $s)|yes: ${what:0:60}|${secs}s")
    else
      all_found=0
      rows+=("$name|$b|$tried|NO|${secs}s")
    fi
  done
  restore
done
rm -f "$log"

printf '\n| %s | %s | %s | %s | %s |\n' "mutation" "backend" "seeds tried" "found" "time to find"
printf '|---|---|---|---|---|\n'
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d e <<<"$r"
  printf '| %s | %s | %s | %s | %s |\n' "$a" "$b" "$c" "$d" "$e"
done
[[ $all_found == 1 ]]
