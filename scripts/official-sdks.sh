#!/usr/bin/env bash
# The official ASK SDKs' persistence adapters (Python and Node), pinned, for the differential
# tests (tests/tests/differential.rs), installed in a cache outside the repo.
#
#   official-sdks.sh install   idempotent; quick when already installed (a hash check)
#   official-sdks.sh env       print `export ...` lines the tests read:
#                                ASK_SDK_PYTHON        the venv's python (ask-sdk-* + boto3)
#                                ASK_SDK_NODE_MODULES  node_modules with ask-sdk-* + aws-sdk v2
#                                ASK_SDK_NODE          the node to run the driver with
#
# What is installed is pinned in the repo:
#   tests/differential/python/requirements.txt       exact versions, dependencies included
#   tests/differential/node/package.json + package-lock.json   (npm ci)
#
# Environment:
#   ALEXA_PERSISTENCE_CACHE   cache dir; default ${XDG_CACHE_HOME:-$HOME/.cache}/alexa-persistence
#                             (the SDKs go to its official-sdks/ subdir)
#   ASK_SDK_PYTHON_BASE       the Python (>= 3.8) to build the venv with (default: python3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly REQUIREMENTS=$ROOT/tests/differential/python/requirements.txt
readonly PACKAGE_DIR=$ROOT/tests/differential/node
CACHE=${ALEXA_PERSISTENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alexa-persistence}/official-sdks
readonly CACHE
readonly VENV=$CACHE/python-venv
readonly NODE_DIR=$CACHE/node
readonly STAMPS=$CACHE/stamps

log() { printf 'official-sdks.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ -f $STAMPS/$1 && $(cat "$STAMPS/$1") == "$2" ]]; }
stamp_write() { mkdir -p "$STAMPS" && printf '%s\n' "$2" >"$STAMPS/$1"; }

install_python() {
  local base=${ASK_SDK_PYTHON_BASE:-python3} version want
  version=$("$base" -c 'import sys; assert sys.version_info >= (3, 8); print(sys.version)' 2>/dev/null) \
    || die "no usable Python: '$base' does not run or is older than 3.8 (set ASK_SDK_PYTHON_BASE)"
  want=$(printf '%s\n%s\n' "$(hash_of "$REQUIREMENTS")" "$version" | sha256sum | cut -d' ' -f1)
  if stamp_ok python "$want" && [[ -x $VENV/bin/python ]]; then
    log "Python SDK up to date ($VENV)"
    return 0
  fi
  log "installing the Python SDK into $VENV (about 10-40 s)"
  rm -rf "$VENV" "$STAMPS/python"
  "$base" -m venv "$VENV" || die "creating the venv with $base failed"
  local pip_log=$CACHE/pip-install.log
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
      --no-deps -r "$REQUIREMENTS" >"$pip_log" 2>&1; then
    tail -n 30 "$pip_log" >&2
    die "pip install -r $REQUIREMENTS failed (full log: $pip_log)"
  fi
  AWS_DEFAULT_REGION=us-east-1 "$VENV/bin/python" -c \
    'import ask_sdk_core, ask_sdk_dynamodb.adapter, ask_sdk_s3.adapter, boto3' \
    || die "the installed Python SDK does not import"
  stamp_write python "$want"
}

install_node() {
  command -v node >/dev/null 2>&1 || die "node not found (the Node SDK's driver needs Node.js >= 14)"
  command -v npm >/dev/null 2>&1 || die "npm not found"
  local want
  want=$(printf '%s\n%s\n' "$(hash_of "$PACKAGE_DIR/package.json" "$PACKAGE_DIR/package-lock.json")" \
    "$(node --version)" | sha256sum | cut -d' ' -f1)
  if stamp_ok node "$want" && [[ -d $NODE_DIR/node_modules/ask-sdk-core ]]; then
    log "Node SDK up to date ($NODE_DIR/node_modules)"
    return 0
  fi
  log "installing the Node SDK into $NODE_DIR (about 10-20 s)"
  rm -rf "$NODE_DIR" "$STAMPS/node"
  mkdir -p "$NODE_DIR"
  cp "$PACKAGE_DIR/package.json" "$PACKAGE_DIR/package-lock.json" "$NODE_DIR/"
  local npm_log=$CACHE/npm-install.log
  # --ignore-scripts: aws-sdk's only install script prints a notice.
  if ! (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund) >"$npm_log" 2>&1; then
    tail -n 30 "$npm_log" >&2
    die "npm ci failed (full log: $npm_log)"
  fi
  NODE_PATH=$NODE_DIR/node_modules AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1 node -e \
    "require('ask-sdk-core'); require('ask-sdk-dynamodb-persistence-adapter'); require('ask-sdk-s3-persistence-adapter'); require('aws-sdk')" \
    || die "the installed Node SDK does not load"
  stamp_write node "$want"
}

cmd_install() {
  mkdir -p "$CACHE" || die "cannot create $CACHE"
  # Serialise concurrent installs (two test runs at once).
  exec 9>"$CACHE/install.lock"
  flock 9 || die "cannot lock $CACHE/install.lock"
  install_python
  install_node
}

cmd_env() {
  [[ -x $VENV/bin/python && -f $STAMPS/python ]] || die "the Python SDK is not installed; run: $0 install"
  [[ -d $NODE_DIR/node_modules/ask-sdk-core && -f $STAMPS/node ]] || die "the Node SDK is not installed; run: $0 install"
  printf 'export ASK_SDK_PYTHON=%q\n' "$VENV/bin/python"
  printf 'export ASK_SDK_NODE_MODULES=%q\n' "$NODE_DIR/node_modules"
  printf 'export ASK_SDK_NODE=%q\n' "$(command -v node)"
}

case ${1:-} in
  install) cmd_install ;;
  env) cmd_env ;;
  *) die "usage: $0 install | env" ;;
esac
