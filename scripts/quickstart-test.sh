#!/usr/bin/env bash
# Follows docs/quickstart/README.md verbatim (issue 23): a fresh crate made with `cargo new` in a
# temporary directory outside the repository, the quick start's Cargo.toml and src/main.rs, then
# the documented commands: `cargo test` (a conversation through skill-testkit), one turn with
# `alexa-request launch | cargo run`, and the local Lambda loop (`cargo lambda watch` on
# loopback, `cargo lambda invoke` with the request files `alexa-request` wrote), checking the
# answers. With AWS_ENDPOINT_URL set to an emulator on loopback (scripts/test.sh sets it), also
# the DynamoDB variant: the skill creates its table (DYNAMODB_PERSISTENCE_CREATE_TABLE=1) and the
# item is read back.
#
#   scripts/quickstart-test.sh
#
# Verbatim: every command run here as the quick start's is first looked up as a whole line of
# docs/quickstart/README.md (the test fails when the page no longer says it). Differences, all
# about where things come from, none about what runs:
#   - our crates are not on crates.io: a `[patch.crates-io]` section appended to Cargo.toml
#     points skill-builder and skill-testkit at this repository, the repository's Cargo.lock
#     is copied in (the versions it tests), and `cargo install skill-testkit` is
#     `cargo install --path <repo>/skill-testkit --debug`;
#   - cargo-lambda comes from scripts/deploy-tools.sh (pinned, like the README's `pip install`);
#   - PORT is a free loopback port instead of 9000, TABLE a fresh table name;
#   - .cargo/config.toml in the crate sets the repository's dev profile (no debug info for
#     dependencies) so that compiled dependencies are shared with the repository's builds
#     through the same target directory (CARGO_TARGET_DIR, default <repo>/target).
#
# Fails (never skips) under CI when a tool is missing; outside CI, a missing cargo-lambda is a
# loud skip of the Lambda part. Everything listens on 127.0.0.1 only; watch is stopped on exit,
# failure, Ctrl-C or SIGTERM; the DynamoDB table is deleted.
# The documented lines are kept in single quotes on purpose: they run as the page writes them.
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD
readonly DOC=$ROOT/docs/quickstart/README.md
readonly OTHER_SKILL=amzn1.ask.skill.11111111-2222-3333-4444-555555555555

say() { printf 'quickstart-test.sh: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
missing() {
  if [[ -n ${CI:-} ]]; then die "$* (CI is set: this must not be skipped)"; fi
  say "SKIPPED (CI unset): $*"
}
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%03d s' $((ms / 1000)) $((ms % 1000)); }

work=""
watch_pid=""
table=""
PY=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_watch
  if [[ -n $table && -n $PY ]]; then
    ddb delete "$table" >/dev/null 2>&1 || say "WARNING: could not delete table $table"
  fi
  if [[ -n $work ]]; then
    if [[ $rc -ne 0 ]]; then
      for log in "$work"/*.log; do
        [[ -s $log ]] || continue
        say "last lines of $log:"
        tail -n 20 "$log" >&2
      done
      say "the crate and logs are kept in $work"
    else
      rm -rf "$work"
    fi
  fi
  exit "$rc"
}
stop_watch() {
  [[ -n $watch_pid ]] || return 0
  if kill -0 "$watch_pid" 2>/dev/null; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$watch_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
  fi
  wait "$watch_pid" 2>/dev/null || true
  watch_pid=""
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# `in_doc LINE`: LINE must be a whole line of the quick start.
in_doc() { grep -Fxq -- "$1" "$DOC" || die "docs/quickstart/README.md no longer says: $1"; }
# `doc LINE [OUT [ERR]]`: runs LINE of the quick start here, as written (in this shell: `cd`
# and `export` hold for what follows), its output into OUT and ERR when given.
doc() {
  local line=$1 out=${2:-} err=${3:-}
  in_doc "$line"
  say "\$ $line"
  # (Not >/dev/stdout: reopening a log file that stdout is would truncate it.)
  if [[ -z $out ]]; then
    eval "$line"
  elif [[ $err == "$out" ]]; then
    eval "$line" >"$out" 2>&1
  else
    eval "$line" >"$out" 2>"$err"
  fi
}

command -v python3 >/dev/null 2>&1 || die "python3 not found"
command -v cargo >/dev/null 2>&1 || die "cargo not found"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
t_start=$(now_ms)
work=$(mktemp -d "${TMPDIR:-/tmp}/alexa-quickstart.XXXXXX")
# Outside the repository, so that no workspace or config of ours applies by accident.
case $work in "$ROOT"/*) die "the temporary directory $work is inside the repository" ;; esac

# `speech FILE`: what the response envelope in FILE says (text or SSML without <speak>).
speech() {
  python3 - "$1" <<'EOF'
import json, re, sys
out = json.load(open(sys.argv[1]))
said = out.get("response", {}).get("outputSpeech", {})
print(said.get("text") or re.sub(r"^<speak>|</speak>$", "", said.get("ssml", "")))
EOF
}
expect_speech() {
  local file=$1 want=$2 got
  got=$(speech "$file") || die "$file is not a response envelope: $(head -c 500 "$file")"
  [[ $got == "$want" ]] || die "Alexa would say \"$got\", expected \"$want\" (full answer: $file)"
  say "  Alexa says: $got"
}

# ---------------------------------------------------------------- 1. the crate
cd "$work"
t=$(now_ms)
doc 'cargo new habit-tracker'
doc 'cd habit-tracker'
cp "$ROOT/docs/quickstart/Cargo.toml" Cargo.toml
cp "$ROOT/docs/quickstart/src/main.rs" src/main.rs
cat >>Cargo.toml <<EOF

# quickstart-test.sh: our crates from the repository (not on crates.io yet).
[patch.crates-io]
skill-builder = { path = "$ROOT/skill-builder" }
skill-testkit = { path = "$ROOT/skill-testkit" }
EOF
cp "$ROOT/Cargo.lock" Cargo.lock
mkdir -p .cargo
cat >.cargo/config.toml <<'EOF'
# quickstart-test.sh: the repository's dev profile, to share compiled dependencies.
[profile.dev]
debug = "line-tables-only"
[profile.dev.package."*"]
debug = false
EOF

# ---------------------------------------------------------------- 2. a conversation in a test
doc 'cargo test' "$work/cargo-test.log" "$work/cargo-test.log" || die "cargo test failed (log: $work/cargo-test.log)"
grep -E '^test |^test result' "$work/cargo-test.log" >&2
grep -q '^test result: ok. [1-9]' "$work/cargo-test.log" || die "cargo test ran no test"
say "the crate built and its conversation test passed in $(since "$t") ($(grep -c '^ *Compiling' "$work/cargo-test.log" || true) crates compiled)"

# ---------------------------------------------------------------- 3. one turn
t=$(now_ms)
# `cargo install skill-testkit`, from the repository (the only line of the page not run as is).
in_doc 'cargo install skill-testkit'
say "\$ cargo install skill-testkit   # here: --path $ROOT/skill-testkit --debug --locked"
cargo install --quiet --path "$ROOT/skill-testkit" --debug --locked --root "$work/tools" \
  >"$work/cargo-install.log" 2>&1 || die "cargo install skill-testkit failed (log: $work/cargo-install.log)"
export PATH="$work/tools/bin:$PATH"
doc 'export ALEXA_SKILL_ID=amzn1.ask.skill.00000000-0000-0000-0000-000000000000'
doc 'alexa-request launch | cargo run' "$work/run.json" "$work/cargo-run.log" \
  || die "alexa-request launch | cargo run failed (log: $work/cargo-run.log)"
expect_speech "$work/run.json" "Welcome to Habit Tracker! Say: I did it, when you have done your habit today."
say "one turn with cargo run in $(since "$t")"

# ---------------------------------------------------------------- 4. the local Lambda loop
if ! tools_bin=$("$ROOT/scripts/deploy-tools.sh"); then
  missing "cannot install cargo-lambda (scripts/deploy-tools.sh failed): the Lambda loop was not tried"
  exit 0
fi
export PATH="$tools_bin:$PATH"
PY=$tools_bin/python
say "cargo-lambda: $(cargo lambda --version 2>&1 | head -n 1)"
doc 'alexa-request launch > launch.json'
doc 'alexa-request intent HabitDoneIntent > done.json'
alexa-request --skill-id "$OTHER_SKILL" launch >other-skill.json

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_for_port() {
  local deadline=$(($(now_ms) + 60000))
  until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$PORT" 2>/dev/null; do
    kill -0 "$watch_pid" 2>/dev/null || die "cargo lambda watch exited before listening on 127.0.0.1:$PORT"
    (($(now_ms) < deadline)) || die "cargo lambda watch did not listen on 127.0.0.1:$PORT within 60 s"
    sleep 0.1
  done
}
# `watch LINE LOG`: the documented watch command, in the background in its own process group.
watch() {
  in_doc "$1"
  say "\$ $1   # PORT=$PORT${TABLE:+, TABLE=$TABLE}, in the background"
  setsid bash -c "$1" >"$2" 2>&1 </dev/null &
  watch_pid=$!
  wait_for_port
}
# `invoke LINE OUT`: a documented invoke command; its answer into OUT. Bounded: the first
# invocation may wait for watch to build the function.
invoke() {
  in_doc "$1"
  say "\$ $1"
  timeout 600 bash -c "$1" >"$2" 2>"$2.err" || { cat "$2.err" >&2; die "the invocation failed: $1"; }
}
readonly INVOKE_LAUNCH='cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port $PORT --data-file launch.json habit-tracker'
readonly INVOKE_DONE='cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port $PORT --data-file done.json habit-tracker'

# What watch will build: built first, so that its time is measured apart and the first
# invocation does not wait for a compilation.
t=$(now_ms)
cargo build >"$work/cargo-build.log" 2>&1 || die "cargo build failed (log: $work/cargo-build.log)"
say "cargo build (what watch runs) in $(since "$t")"

t=$(now_ms)
in_doc 'PORT=9000'
PORT=$(free_port)
export PORT
watch 'cargo lambda watch --invoke-address 127.0.0.1 --invoke-port $PORT --env-var ALEXA_SKILL_ID=$ALEXA_SKILL_ID --env-var SKILL_PERSISTENCE=memory' "$work/watch-memory.log"
invoke "$INVOKE_LAUNCH" "$work/1-launch.json"
expect_speech "$work/1-launch.json" "Welcome to Habit Tracker! Say: I did it, when you have done your habit today."
invoke "$INVOKE_DONE" "$work/2-done.json"
expect_speech "$work/2-done.json" "Well done! That makes 1 day."
invoke "$INVOKE_DONE" "$work/3-done-again.json"
expect_speech "$work/3-done-again.json" "You already told me today. See you tomorrow!"
if cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$PORT" --data-file other-skill.json \
    habit-tracker >"$work/4-other.json" 2>"$work/4-other.err"; then
  die "a request for another skill was answered: $(cat "$work/4-other.json")"
fi
grep -q SkillIdMismatch "$work/4-other.err" || { cat "$work/4-other.err" >&2; die "the refusal is not SkillIdMismatch"; }
say "  a request for another skill: refused (SkillIdMismatch)"
stop_watch
say "the Lambda loop on memory in $(since "$t")"

# ---------------------------------------------------------------- DynamoDB, when an emulator runs
ddb() {
  "$PY" - "$@" <<'EOF'
import json, os, sys
import boto3
op, table = sys.argv[1], sys.argv[2]
client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                      region_name=os.environ["AWS_REGION"])
if op == "get":
    item = client.get_item(TableName=table, Key={"id": {"S": sys.argv[3]}}, ConsistentRead=True).get("Item")
    print(json.dumps(item, sort_keys=True))
elif op == "exists":
    names = client.list_tables()["TableNames"]
    sys.exit(0 if table in names else 1)
elif op == "delete":
    client.delete_table(TableName=table)
EOF
}
case ${AWS_ENDPOINT_URL:-} in
  http://127.0.0.1:* | http://localhost:* | http://\[::1\]:*)
    t=$(now_ms)
    export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
    export AWS_REGION=${AWS_REGION:-us-east-1}
    in_doc 'TABLE=habits'
    TABLE="quickstart-$(date +%s)-$$"
    export TABLE
    ! ddb exists "$TABLE" || die "table $TABLE exists already"
    table=$TABLE
    PORT=$(free_port)
    watch 'cargo lambda watch --invoke-address 127.0.0.1 --invoke-port $PORT --env-var ALEXA_SKILL_ID=$ALEXA_SKILL_ID --env-var DYNAMODB_PERSISTENCE_TABLE_NAME=$TABLE --env-var DYNAMODB_PERSISTENCE_CREATE_TABLE=1' "$work/watch-dynamodb.log"
    invoke "$INVOKE_LAUNCH" "$work/5-launch.json"
    expect_speech "$work/5-launch.json" "Welcome to Habit Tracker! Say: I did it, when you have done your habit today."
    invoke "$INVOKE_DONE" "$work/6-done.json"
    expect_speech "$work/6-done.json" "Well done! That makes 1 day."
    stop_watch
    ddb exists "$TABLE" || die "the skill did not create table $TABLE"
    user=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["context"]["System"]["user"]["userId"])' done.json)
    item=$(ddb get "$TABLE" "$user") || die "reading the item back failed"
    python3 - "$item" <<'EOF' || die "the item in DynamoDB is not the habit"
import json, sys
item = json.loads(sys.argv[1])
print(f"quickstart-test.sh:   the item in DynamoDB: {json.dumps(item, sort_keys=True)}", file=sys.stderr)
sys.exit(0 if item and item["attributes"]["M"]["days"] == {"N": "1"} else 1)
EOF
    say "the Lambda loop on DynamoDB (table created by the skill) in $(since "$t")"
    ;;
  "") say "AWS_ENDPOINT_URL unset: the DynamoDB variant was not tried (scripts/test.sh runs it on LocalStack)" ;;
  *) say "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL is not on loopback: the DynamoDB variant was not tried" ;;
esac

say "PASSED in $(since "$t_start")"
