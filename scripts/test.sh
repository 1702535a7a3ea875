#!/usr/bin/env bash
# The project's test command: `cargo test --workspace --all-features --no-fail-fast "$@"` against real
# DynamoDB and S3 APIs, served by LocalStack on loopback (no Docker needed), then
# scripts/lambda-e2e.sh (the cafe skill through the real Lambda front under `cargo lambda watch`,
# on DynamoDB) and, on a full run, scripts/quickstart-test.sh (docs/quickstart followed verbatim
# in a fresh crate, on memory and DynamoDB) while LocalStack is still up.
#
#   scripts/test.sh                 # all tests
#   scripts/test.sh -p persistence-s3 -- --nocapture
#
# The Lambda end-to-end test runs on a full run and when the arguments name skill-examples; it
# cannot be a Rust test (cargo inside `cargo test` deadlocks on the build directory lock). The
# exit status is cargo's, or the end-to-end test's when cargo passed.
#
# - If AWS_ENDPOINT_URL is already set, that endpoint is used and nothing is started.
# - Otherwise LocalStack is installed (cached outside the repo, see
#   scripts/emulator/localstack.sh), started on a free loopback port with a
#   per-run state dir, and stopped again on exit, failure, Ctrl-C or SIGTERM.
#
# The tests see: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_REGION, ALEXA_PERSISTENCE_EMULATOR (e.g. "localstack") and
# ALEXA_PERSISTENCE_EMULATOR_VERSION (e.g. "LocalStack 2026.3.0 (DynamoDB Local 3.3.0)"), and
# ASK_SDK_PYTHON, ASK_SDK_NODE_MODULES, ASK_SDK_NODE (the official SDKs, scripts/official-sdks.sh).
#
# ALEXA_TEST_CMD (for testing this script only): a shell command run instead of
# cargo; it gets this script's arguments as "$@". Example:
#   ALEXA_TEST_CMD='curl -s "$AWS_ENDPOINT_URL/_localstack/health"' scripts/test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly EMU=scripts/emulator/localstack.sh

started=""        # set once we own a LocalStack instance that must be stopped
own_state_dir=""  # per-run state dir we created (removed after a clean run)
child=""          # pid (= process group) of the command currently running

say() { printf 'test.sh: %s\n' "$*" >&2; }

# Run a command in its own process group and wait for it. Waiting on a
# background job (instead of running it in the foreground) lets the INT/TERM
# traps fire at once; cleanup() then signals the whole group.
run() {
  setsid "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $child ]]; then
    kill -TERM -- "-$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [[ -n $started ]]; then
    "$EMU" stop || say "WARNING: stopping LocalStack failed (state dir $LOCALSTACK_STATE_DIR)"
  fi
  if [[ -n $own_state_dir ]]; then
    if [[ $rc -ne 0 && -s $own_state_dir/localstack.log ]]; then
      say "LocalStack log kept: $own_state_dir/localstack.log"
    else
      rm -rf "$own_state_dir"
    fi
  fi
  [[ -n ${ALEXA_PERSISTENCE_EMULATOR:-} ]] && say "emulator: $(describe_emulator) served this run (exit $rc)"
  exit "$rc"
}
on_signal() { say "caught SIG$1, stopping"; exit "$2"; }
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

describe_emulator() {
  local v=${ALEXA_PERSISTENCE_EMULATOR_VERSION:-unknown}
  [[ $v == unknown ]] && v="$ALEXA_PERSISTENCE_EMULATOR (version unknown)"
  echo "$v at $AWS_ENDPOINT_URL"
}

if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
  # Someone else runs the emulator; only fill in what is missing.
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export ALEXA_PERSISTENCE_EMULATOR=${ALEXA_PERSISTENCE_EMULATOR:-external}
  export ALEXA_PERSISTENCE_EMULATOR_VERSION=${ALEXA_PERSISTENCE_EMULATOR_VERSION:-unknown}
else
  if [[ -z ${LOCALSTACK_STATE_DIR:-} ]]; then
    own_state_dir=$(mktemp -d "${TMPDIR:-/tmp}/alexa-persistence-localstack-$UID.XXXXXX")
    export LOCALSTACK_STATE_DIR=$own_state_dir
  fi
  run "$EMU" install
  started=1   # set before start: an interrupted start must be cleaned up too
  run "$EMU" start >/dev/null
  eval "$("$EMU" env)"
  # Nothing may reach real AWS: drop settings that would override the endpoint or credentials.
  unset AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN AWS_PROFILE AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
fi
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
export ALEXA_PERSISTENCE_EMULATOR ALEXA_PERSISTENCE_EMULATOR_VERSION

say "emulator: $(describe_emulator)"
if [[ -n ${ALEXA_TEST_CMD:-} ]]; then
  run bash -c "$ALEXA_TEST_CMD" test.sh "$@"
  exit 0
fi

# The official ASK SDKs for the differential tests (cached; tests/tests/differential.rs). Without
# them those tests fail under CI and are skipped elsewhere.
if run scripts/official-sdks.sh install; then
  eval "$(scripts/official-sdks.sh env)"
else
  [[ -n ${CI:-} ]] && { say "installing the official SDKs failed"; exit 1; }
  say "WARNING: installing the official SDKs failed; the differential tests will be skipped"
fi

cargo_rc=0
run cargo test --workspace --all-features --no-fail-fast "$@" || cargo_rc=$?

# The cargo arguments (before a `--`) select the build the end-to-end test takes its binary from.
cargo_args=()
for arg in "$@"; do
  [[ $arg == -- ]] && break
  cargo_args+=("$arg")
done
if [[ $# -eq 0 || " $* " == *skill-examples* ]]; then
  e2e_rc=0
  say "running scripts/lambda-e2e.sh (the Lambda front end to end)"
  run scripts/lambda-e2e.sh "${cargo_args[@]}" || e2e_rc=$?
  if [[ $# -eq 0 ]]; then
    # The quick start followed verbatim in a fresh crate, with the DynamoDB variant while the
    # emulator is still up.
    say "running scripts/quickstart-test.sh (docs/quickstart, verbatim)"
    run scripts/quickstart-test.sh || { qs_rc=$?; [[ $e2e_rc -eq 0 ]] && e2e_rc=$qs_rc; }
  fi
  if [[ $cargo_rc -ne 0 ]]; then
    say "cargo test failed (exit $cargo_rc); lambda-e2e exit $e2e_rc"
    exit "$cargo_rc"
  fi
  exit "$e2e_rc"
fi
say "not running scripts/lambda-e2e.sh for this narrowed run (no skill-examples in the arguments)"
exit "$cargo_rc"
# The EXIT trap stops LocalStack and reports.
