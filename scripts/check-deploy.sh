#!/usr/bin/env bash
# CI: the deployment files are valid. Offline, nothing is deployed.
#   - deploy/sam/template.yaml passes cfn-lint (CloudFormation and SAM schemas, the AlexaSkill
#     event included);
#   - deploy/sam/check_template.py: the role has exactly the README's IAM actions on the table
#     only, the function, table and log group are as the guide's "Deploying" chapter (docs/guide/chapters/deploying.md) says;
#   - deploy/sam/ha-relay.yaml (the Home Assistant relay) passes cfn-lint, and
#     deploy/sam/check_ha_relay_template.py: logs-only role, the variables the relay reads;
#   - deploy/ask/*/ask-resources.json point at an existing skill package.
# The tools come from scripts/deploy-tools.sh (cached virtualenv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'check-deploy.sh: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

bin=$(scripts/deploy-tools.sh) || die "installing the deploy tools failed"

t0=$SECONDS
"$bin/cfn-lint" deploy/sam/template.yaml || die "cfn-lint found problems in deploy/sam/template.yaml"
say "cfn-lint $("$bin/cfn-lint" --version | awk '{print $2}'): deploy/sam/template.yaml is valid"
"$bin/python" deploy/sam/check_template.py || die "deploy/sam/template.yaml does not deploy the skill as intended"
"$bin/cfn-lint" deploy/sam/ha-relay.yaml || die "cfn-lint found problems in deploy/sam/ha-relay.yaml"
"$bin/python" deploy/sam/check_ha_relay_template.py || die "deploy/sam/ha-relay.yaml does not deploy the relay as intended"

for resources in deploy/ask/*/ask-resources.json; do
  "$bin/python" - "$resources" <<'PY' || die "$resources"
import json, os, sys
path = sys.argv[1]
project = os.path.dirname(path)
config = json.load(open(path))
src = config["profiles"]["default"]["skillMetadata"]["src"]
package = os.path.normpath(os.path.join(project, src))
for required in ("skill.json", "interactionModels/custom/en-US.json"):
    if not os.path.isfile(os.path.join(package, required)):
        sys.exit(f"check-deploy.sh: {path}: skillMetadata.src {src} has no {required}")
if set(config["profiles"]["default"]) != {"skillMetadata"}:
    sys.exit(f"check-deploy.sh: {path}: only skillMetadata is deployed by ask (code and infrastructure come from SAM)")
print(f"check-deploy.sh: {path} -> {package}", file=sys.stderr)
PY
done
say "OK in $((SECONDS - t0)) s"
