"""What cfn-lint cannot know about deploy/sam/ha-relay.yaml: that it deploys the relay right.

Run by scripts/check-deploy.sh (CI) with the deploy tools' Python. Checks:
- the role may only write to the function's own log group (the relay calls no AWS service);
- the function: provided.al2023 on arm64 from cargo lambda's ha-relay bootstrap, a timeout
  within Alexa's 8 s and above the relay's 6 s budget, the variables the Rust code reads
  (BASE_URL, ALEXA_SKILL_ID, NOT_VERIFY_SSL, DEBUG; names checked in the source), no RUST_LOG
  (it would override DEBUG), no LONG_LIVED_ACCESS_TOKEN, no ALEXA_SKIP_SKILL_ID_CHECK, the Alexa
  trigger restricted to the SkillId parameter;
- no table; the log group has a retention.
Exits 1 with one line per problem.
"""

import json
import pathlib
import sys

from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy/sam/ha-relay.yaml"
SOURCES = ROOT / "ha-relay/src"
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


def as_list(value):
    return value if isinstance(value, list) else [value]


template, matches = decode(str(TEMPLATE))
if matches or template is None:
    sys.exit(f"{TEMPLATE}: cannot be read: {matches}")
resources = template["Resources"]
parameters = template.get("Parameters", {})

check(not any(r["Type"] == "AWS::DynamoDB::Table" for r in resources.values()), "no table: the relay stores nothing")

# ------------------------------------------------------------------ role
role = resources["FunctionRole"]["Properties"]
check("ManagedPolicyArns" not in role, "role: no managed policies")
statements = [s for p in role.get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])]
check(len(statements) == 1, f"role: exactly one statement (logs), not {len(statements)}")
for s in statements:
    check(s.get("Effect") == "Allow" and "NotAction" not in s and "NotResource" not in s,
          f"role: statement {s.get('Sid')} is not a plain Allow")
    check(set(as_list(s.get("Action", []))) == {"logs:CreateLogStream", "logs:PutLogEvents"},
          f"role: actions {s.get('Action')} are not exactly the two log actions")
    check(as_list(s.get("Resource")) == [{"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}],
          "role: logs only into FunctionLogGroup")
check("*" not in json.dumps(statements), "role: a wildcard in an action or resource")

# ------------------------------------------------------------------ function
p = resources["RelayFunction"]["Properties"]
check(p.get("Runtime") == "provided.al2023", "function: runtime must be provided.al2023")
check(p.get("Architectures") == ["arm64"], "function: architecture must be arm64")
check(p.get("Handler") == "bootstrap", "function: handler must be bootstrap")
check(p.get("CodeUri") == "../../target/lambda/ha-relay/",
      "function: CodeUri must be cargo lambda's output, ../../target/lambda/ha-relay/")
check(isinstance(p.get("Timeout"), int) and 7 <= p["Timeout"] < 8,
      "function: timeout must exceed the relay's 6 s budget and fit Alexa's 8 s (7 s)")
check(p.get("Role") == {"Fn::GetAtt": ["FunctionRole", "Arn"]}, "function: must use FunctionRole")
check(p.get("LoggingConfig", {}).get("LogGroup") == {"Ref": "FunctionLogGroup"},
      "function: must log to FunctionLogGroup")
env = p.get("Environment", {}).get("Variables", {})
wanted = {"BASE_URL": "BaseUrl", "ALEXA_SKILL_ID": "SkillId", "NOT_VERIFY_SSL": "NotVerifySsl", "DEBUG": "Debug"}
check(set(env) == set(wanted), f"function: variables {sorted(env)} != {sorted(wanted)}")
source = "".join(p.read_text() for p in sorted(SOURCES.glob("*.rs")))
for name, parameter in wanted.items():
    check(env.get(name) == {"Ref": parameter}, f"function: {name} must be the {parameter} parameter")
    check(parameter in parameters, f"parameter {parameter}")
    check(f'"{name}"' in source, f"{SOURCES.relative_to(ROOT)} no longer reads {name}")
check("RUST_LOG" not in env, "function: RUST_LOG would override DEBUG")
check("LONG_LIVED_ACCESS_TOKEN" not in env, "function: no long-lived token in the stack")
check("ALEXA_SKIP_SKILL_ID_CHECK" not in env, "function: the skill-ID check is never skipped when deployed")
check(set(parameters.get("NotVerifySsl", {}).get("AllowedValues", [])) == {"true", "false"},
      "parameter NotVerifySsl: true or false")
events = p.get("Events", {})
alexa = [e for e in events.values() if e.get("Type") == "AlexaSkill"]
check(len(events) == 1 and len(alexa) == 1, "function: exactly one event, the AlexaSkill trigger")
check(all(e.get("Properties", {}).get("SkillId") == {"Ref": "SkillId"} for e in alexa),
      "function: the Alexa trigger must be restricted to the SkillId parameter")
check("RetentionInDays" in resources["FunctionLogGroup"]["Properties"], "log group: retention")

if problems:
    for problem in problems:
        print(f"check_ha_relay_template.py: {TEMPLATE.relative_to(ROOT)}: {problem}", file=sys.stderr)
    sys.exit(1)
print(f"check_ha_relay_template.py: {TEMPLATE.relative_to(ROOT)}: role, function and log group as intended",
      file=sys.stderr)
