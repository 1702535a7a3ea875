#!/usr/bin/env bash
# Install the deploy tools (cargo-lambda with Zig, cfn-lint, boto3; pinned in
# deploy-tools-requirements.txt) into a cached virtualenv, and print its bin directory:
#
#   PATH="$(scripts/deploy-tools.sh):$PATH" cargo lambda --version
#
# Idempotent: reinstalls only when the requirements or the Python change. Cached in
# ${ALEXA_PERSISTENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alexa-persistence}/deploy-tools
# (about 660 MB, mostly Zig; about 20-30 s to install from PyPI). DEPLOY_TOOLS_PYTHON picks the
# Python (>= 3.9; default python3). Messages go to stderr; stdout is only the bin directory.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly REQUIREMENTS=$SCRIPT_DIR/deploy-tools-requirements.txt
CACHE=${ALEXA_PERSISTENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alexa-persistence}/deploy-tools
readonly CACHE
readonly VENV=$CACHE/venv
readonly STAMP=$CACHE/installed

log() { printf 'deploy-tools.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

python=${DEPLOY_TOOLS_PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || die "no $python on PATH (set DEPLOY_TOOLS_PYTHON to a Python >= 3.9)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null \
  || die "$python is older than 3.9 (set DEPLOY_TOOLS_PYTHON to a newer one)"

want=$( { cat "$REQUIREMENTS"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)

mkdir -p "$CACHE"
# Serialise concurrent installs (two test runs at once).
exec 9>"$CACHE/install.lock"
flock 9 || die "cannot lock $CACHE/install.lock"

if [[ -f $STAMP && $(cat "$STAMP") == "$want" && -x $VENV/bin/cargo-lambda && -x $VENV/bin/cfn-lint ]]; then
  printf '%s\n' "$VENV/bin"
  exit 0
fi

log "installing cargo-lambda, cfn-lint and boto3 into $VENV (pinned by $(basename "$REQUIREMENTS"))"
rm -rf "$VENV" "$STAMP"
"$python" -m venv "$VENV" || die "creating the virtualenv with $python failed"
pip_log=$CACHE/pip-install.log
t0=$SECONDS
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
    --require-virtualenv -r "$REQUIREMENTS" >"$pip_log" 2>&1; then
  tail -n 20 "$pip_log" >&2
  rm -rf "$VENV"
  die "pip install failed (full log: $pip_log)"
fi
"$VENV/bin/cargo-lambda" lambda --version >/dev/null 2>&1 || die "cargo-lambda does not run"
"$VENV/bin/cfn-lint" --version >/dev/null 2>&1 || die "cfn-lint does not run"
printf '%s\n' "$want" >"$STAMP"
log "installed in $((SECONDS - t0)) s: $("$VENV/bin/cargo-lambda" lambda --version 2>&1 | head -n 1), cfn-lint $("$VENV/bin/cfn-lint" --version 2>&1 | awk '{print $2}')"
printf '%s\n' "$VENV/bin"
