#!/usr/bin/env bash
# End-to-end test of the Lambda path: the cafe skill (features lambda + dynamodb) served by the
# real Lambda front under `cargo lambda watch`, with its attributes in DynamoDB on the emulator
# scripts/test.sh started, driven with `cargo lambda invoke` and real Alexa request JSON
# (skill-examples/tests/data/cafe-lambda/): two sessions of one user, the second asks for "my
# usual" and must get the order of the first; the item must then be in the table, and a request
# for another skill must be refused.
#
#   scripts/test.sh                      # runs this after `cargo test`, while LocalStack is up
#   scripts/lambda-e2e.sh [CARGO_ARGS]   # on its own: needs AWS_ENDPOINT_URL (loopback)
#
# Why a script and not a Rust test: a cargo process inside `cargo test` waits forever on the
# build directory lock that `cargo test` holds.
#
# The function binary is not compiled again: `cargo test --workspace --all-features` (which
# scripts/test.sh just ran; CARGO_ARGS are added to it, default none) already built the `cafe`
# binary with every feature, lambda and dynamodb included. This script asks cargo for that
# executable (`cargo test ... --no-run --message-format=json`, no compilation when fresh), starts
# `cargo lambda watch --only-lambda-apis` (the runtime API emulator) and runs the binary with the
# variables watch names, as Lambda would: no arguments, so the binary must find out by itself
# that it runs in Lambda. `cargo lambda watch` building the function itself would resolve the
# features of `-p skill-examples --no-default-features --features lambda,dynamodb` alone, which differ from the
# workspace's (dev-dependencies, other members), and recompile 68 crates, the AWS SDK and
# aws-lc-sys included (4 min 19 s measured on 2 shared cores; nothing on later runs, as cargo keeps
# both builds). LAMBDA_E2E_WATCH_BUILDS=1 does that anyway: the same `cargo build` first (timed),
# then watch starts the function itself, as in development.
#
# Fails (never skips) under CI. Outside CI, a missing tool (cargo-lambda cannot be installed)
# is a loud skip. Everything listens on 127.0.0.1 only; watch and the function are stopped on
# exit, failure, Ctrl-C or SIGTERM, and the table is deleted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly REQUESTS=skill-examples/tests/data/cafe-lambda
# The skill ID in the request files; the function is started with it as ALEXA_SKILL_ID.
readonly SKILL_ID=amzn1.ask.skill.7c0ffee0-cafe-4e2e-9a11-0000000cafe1

say() { printf 'lambda-e2e.sh: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
skip_or_die() {
  if [[ -n ${CI:-} ]]; then die "$* (CI is set: this must not be skipped)"; fi
  say "SKIPPED (CI unset): $*"
  exit 0
}
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%03d s' $((ms / 1000)) $((ms % 1000)); }

work=""          # temp dir: logs, the copied binary
watch_pid=""     # process group of cargo lambda watch
fn_pid=""        # process group of the function (reuse mode)
cargo_pid=""     # cargo test --no-run, while it runs
table=""         # DynamoDB table to delete
PY=""            # the deploy tools' Python (boto3)

stop_group() {
  local pid=$1 name=$2 i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop on SIGTERM within 5 s; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $cargo_pid ]]; then
    kill -TERM "$cargo_pid" 2>/dev/null || true
    wait "$cargo_pid" 2>/dev/null || true
  fi
  stop_group "$fn_pid" "the function"
  stop_group "$watch_pid" "cargo lambda watch"
  if [[ -n $table && -n $PY ]]; then
    ddb delete "$table" >/dev/null 2>&1 || say "WARNING: could not delete table $table"
  fi
  if [[ -n $work ]]; then
    if [[ $rc -ne 0 ]]; then
      for log in "$work"/watch.log "$work"/function.log; do
        [[ -s $log ]] || continue
        say "last lines of $log:"
        tail -n 25 "$log" >&2
      done
      say "logs kept in $work"
    else
      rm -rf "$work"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# ---------------------------------------------------------------- preflight

[[ -n ${AWS_ENDPOINT_URL:-} ]] \
  || die "AWS_ENDPOINT_URL is not set: run scripts/test.sh (it starts LocalStack and runs this), or point it at a DynamoDB emulator on loopback"
case $AWS_ENDPOINT_URL in
  http://127.0.0.1:* | http://localhost:* | http://\[::1\]:*) ;;
  *) skip_or_die "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL is not an emulator on loopback; this test creates and deletes a table" ;;
esac
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1}
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_DYNAMODB

t_start=$(now_ms)
work=$(mktemp -d "${TMPDIR:-/tmp}/alexa-lambda-e2e.XXXXXX")

t=$(now_ms)
tools_bin=$(scripts/deploy-tools.sh) || skip_or_die "cannot install cargo-lambda (scripts/deploy-tools.sh failed)"
export PATH="$tools_bin:$PATH"
PY=$tools_bin/python
say "tools ready in $(since "$t"): $(cargo lambda --version 2>&1 | head -n 1)"

# `ddb create|get|delete TABLE [KEY]` through boto3 (no AWS CLI needed).
ddb() {
  "$PY" - "$@" <<'EOF'
import json, os, sys, time
import boto3
op, table = sys.argv[1], sys.argv[2]
client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                      region_name=os.environ["AWS_REGION"])
if op == "create":
    # As deploy/sam/template.yaml declares it: `id` string hash key, on-demand, TTL on `ttl`.
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    deadline = time.monotonic() + 30
    while client.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            sys.exit(f"table {table} not ACTIVE after 30 s")
        time.sleep(0.1)
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
elif op == "get":
    item = client.get_item(TableName=table, Key={"id": {"S": sys.argv[3]}}, ConsistentRead=True).get("Item")
    print(json.dumps(item, sort_keys=True))
elif op == "delete":
    client.delete_table(TableName=table)
EOF
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {
  local port=$1 deadline=$(($(now_ms) + 60000))
  until "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$port" 2>/dev/null; do
    kill -0 "$watch_pid" 2>/dev/null || die "cargo lambda watch exited before listening on 127.0.0.1:$port"
    (($(now_ms) < deadline)) || die "cargo lambda watch did not listen on 127.0.0.1:$port within 60 s"
    sleep 0.1
  done
}

# ---------------------------------------------------------------- the table

table="cafe-e2e-$(date +%s)-$$"
t=$(now_ms)
ddb create "$table" || { table=""; die "creating table $table on $AWS_ENDPOINT_URL failed"; }
say "created table $table (TTL on ttl) in $(since "$t")"

# Everything the function gets, in either mode.
fn_env=(
  "SKILL_PERSISTENCE=dynamodb"
  "DYNAMODB_PERSISTENCE_TABLE_NAME=$table"
  "ALEXA_SKILL_ID=$SKILL_ID"
  "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
  "AWS_REGION=$AWS_REGION"
  "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
  "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  "RUST_LOG=${LAMBDA_E2E_RUST_LOG:-info}"
  # What Lambda sets when the function's log format is JSON: logs must be JSON lines then.
  "AWS_LAMBDA_LOG_FORMAT=JSON"
)

port=$(free_port)
invoke_name=""
if [[ -n ${LAMBDA_E2E_WATCH_BUILDS:-} ]]; then
  # ------------------------------------------------ watch compiles and runs the function
  build_args=(-p skill-examples --bin cafe --no-default-features --features lambda,dynamodb)
  # The same build watch runs, done first: its time is measured apart from the conversation,
  # and the first invoke does not wait (or time out) on a cold compile.
  t=$(now_ms)
  cargo build "${build_args[@]}" >"$work/cargo.log" 2>&1 </dev/null &
  cargo_pid=$!
  cargo_rc=0
  wait "$cargo_pid" || cargo_rc=$?
  cargo_pid=""
  [[ $cargo_rc -eq 0 ]] || { tail -n 20 "$work/cargo.log" >&2; die "cargo build ${build_args[*]} failed"; }
  say "cargo build ${build_args[*]}: $(grep -c '^ *Compiling' "$work/cargo.log" || true) crates compiled in $(since "$t")"
  watch_args=(--invoke-address 127.0.0.1 --invoke-port "$port" --ignore-changes "${build_args[@]}")
  for v in "${fn_env[@]}"; do watch_args+=(--env-var "$v"); done
  say "starting cargo lambda watch on 127.0.0.1:$port (it starts the cafe on the first invoke)"
  setsid cargo lambda watch "${watch_args[@]}" >"$work/watch.log" 2>&1 </dev/null &
  watch_pid=$!
  wait_for_port "$port"
  invoke_name=cafe
else
  # ------------------------------------------------ reuse the binary cargo test built
  t=$(now_ms)
  # In the background and waited for, so that a signal to this script is handled at once.
  cargo test --workspace --all-features "$@" --no-run --message-format=json \
    >"$work/cargo.json" 2>"$work/cargo.log" </dev/null &
  cargo_pid=$!
  cargo_rc=0
  wait "$cargo_pid" || cargo_rc=$?
  cargo_pid=""
  [[ $cargo_rc -eq 0 ]] || { tail -n 20 "$work/cargo.log" >&2; die "cargo test --no-run failed"; }
  exe=$("$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    t = m.get("target", {})
    if m.get("reason") == "compiler-artifact" and t.get("name") == "cafe" and "bin" in t.get("kind", []) \
            and not m["profile"]["test"] and {"lambda", "dynamodb"} <= set(m["features"]):
        print(m["executable"])
' "$work/cargo.json") || die "cannot read cargo's messages ($work/cargo.json)"
  [[ -n $exe && -x $exe ]] || die "cargo did not report a cafe binary with features lambda and dynamodb"
  compiled=$(grep -c '^ *Compiling' "$work/cargo.log" || true)
  say "cafe binary from the test build in $(since "$t") ($compiled crates compiled): $exe"
  # A private copy: a later `cargo build` of other features would overwrite target/debug/cafe.
  cp "$exe" "$work/cafe"

  say "starting cargo lambda watch --only-lambda-apis on 127.0.0.1:$port"
  setsid cargo lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$port" \
    >"$work/watch.log" 2>&1 </dev/null &
  watch_pid=$!
  wait_for_port "$port"
  for _ in $(seq 50); do grep -q 'AWS_LAMBDA_RUNTIME_API=' "$work/watch.log" && break; sleep 0.1; done
  # The variables watch says the function must have (AWS_LAMBDA_RUNTIME_API, ..._FUNCTION_NAME, ...).
  mapfile -t lambda_env < <(sed -E 's/\x1b\[[0-9;]*m//g' "$work/watch.log" \
    | sed -nE 's/.*INFO (AWS_LAMBDA_[A-Z_]+=[^ ]+).*/\1/p' | sort -u)
  printf '%s\n' "${lambda_env[@]}" | grep -q '^AWS_LAMBDA_RUNTIME_API=http://127\.0\.0\.1:' \
    || die "cargo lambda watch did not name a loopback AWS_LAMBDA_RUNTIME_API (see $work/watch.log)"
  for v in "${lambda_env[@]}"; do [[ $v == AWS_LAMBDA_FUNCTION_NAME=* ]] && invoke_name=${v#*=}; done
  say "starting the cafe as Lambda starts a bootstrap: no arguments; ${lambda_env[*]}"
  setsid env "${lambda_env[@]}" "${fn_env[@]}" "$work/cafe" >"$work/function.log" 2>&1 </dev/null &
  fn_pid=$!
fi
[[ -n $invoke_name ]] || die "no function name to invoke"

# ---------------------------------------------------------------- the conversation

# `invoke FILE`: the function's JSON answer on stdout; fails when the invocation fails.
invoke() {
  cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" \
    --data-file "$REQUESTS/$1" --output-format json "$invoke_name" 2>"$work/invoke.err"
}

# `expect FILE SPEECH ENDS_SESSION`
expect() {
  local file=$1 speech=$2 ends=$3 out t
  t=$(now_ms)
  if [[ -n $fn_pid ]] && ! kill -0 "$fn_pid" 2>/dev/null; then
    die "the function exited (see $work/function.log)"
  fi
  out=$(invoke "$file") || { cat "$work/invoke.err" >&2; die "$file: the invocation failed"; }
  "$PY" - "$file" "$speech" "$ends" "$out" <<'EOF' || die "$file: unexpected answer"
import json, re, sys
file, speech, ends, out = sys.argv[1], sys.argv[2], sys.argv[3] == "true", json.loads(sys.argv[4])
response = out.get("response", {})
said = response.get("outputSpeech", {})
text = said.get("text") or re.sub(r"^<speak>|</speak>$", "", said.get("ssml", ""))
ok = text == speech and bool(response.get("shouldEndSession", False)) == ends
print(f"lambda-e2e.sh:   {file}: Alexa says {text!r}, session {'ends' if response.get('shouldEndSession') else 'stays open'}",
      file=sys.stderr)
if not ok:
    print(f"lambda-e2e.sh:   expected {speech!r} (session {'ends' if ends else 'stays open'}); full answer:\n"
          + json.dumps(out, indent=2), file=sys.stderr)
    sys.exit(1)
EOF
  say "  ($(since "$t"))"
}

welcome="Welcome! What would you like to drink? I have coffee, tea, green tea, and coke."
t_conv=$(now_ms)
say "session 1: open the cafe, order a large coffee (spoken \"big\", resolved to \"large\")"
expect 1-session1-launch.json "$welcome" false
expect 2-session1-order-large-coffee.json "Alright! Your large coffee will be served soon!" true
say "session 2: open the cafe again, ask for the usual"
expect 3-session2-launch.json "$welcome" false
expect 4-session2-my-usual.json "Got it. I will make your usual large coffee!" true

user=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["context"]["System"]["user"]["userId"])' \
  "$REQUESTS/4-session2-my-usual.json")
item=$(ddb get "$table" "$user") || die "reading the item back failed"
"$PY" - "$item" <<'EOF' || die "the item in DynamoDB is not the usual order"
import json, sys
item = json.loads(sys.argv[1])
ok = (item is not None
      and item["attributes"]["M"] == {"drink": {"S": "coffee"}, "size": {"S": "large"}}
      and "attributesVersion" in item)
print(f"lambda-e2e.sh: the item in DynamoDB: {json.dumps(item, sort_keys=True)}", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF

say "a request for another skill must be refused"
if out=$(invoke 9-other-skill-launch.json); then
  die "a request for another skill was answered: $out"
fi
grep -q SkillIdMismatch "$work/invoke.err" || { cat "$work/invoke.err" >&2; die "the refusal is not SkillIdMismatch"; }
say "  refused: $(grep -m1 -o 'SkillError::SkillIdMismatch' "$work/invoke.err")"

if [[ -z ${LAMBDA_E2E_WATCH_BUILDS:-} ]]; then
  say "the function's logs are JSON lines (AWS_LAMBDA_LOG_FORMAT=JSON)"
  "$PY" - "$work/function.log" <<'EOF' || die "the function's logs are not JSON lines (see $work/function.log)"
import json, re, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines() if l.strip()]
records, text = [], []
for l in lines:
    try:
        records.append(json.loads(l))
    except ValueError:
        # A line of the tracing text format: "2026-... INFO target: message".
        if re.match(r"^\S*\d{4}-\d\d-\d\dT\S+\s+(TRACE|DEBUG|INFO|WARN|ERROR)\b", l):
            text.append(l)
ok = bool(records) and all(isinstance(r, dict) and "level" in r for r in records) and not text
print(f"lambda-e2e.sh:   {len(records)} JSON log lines, {len(text)} text log lines", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
fi

say "PASSED: conversation in $(since "$t_conv"), whole test in $(since "$t_start") ($([[ -n ${LAMBDA_E2E_WATCH_BUILDS:-} ]] && echo "watch built the function" || echo "binary from the test build"))"
