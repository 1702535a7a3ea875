"""What cfn-lint cannot know about deploy/sam/template.yaml: that it deploys this project right.

Run by scripts/check-deploy.sh (CI) with the deploy tools' Python (cfn-lint's YAML decoder reads
the CloudFormation tags). Checks:
- the role allows exactly the DynamoDB actions the README's IAM section lists, on the table only,
  plus writing logs to the function's own log group, and nothing else (no managed policies,
  no wildcards);
- the function: provided.al2023 on arm64 from cargo lambda's bootstrap, a timeout within Alexa's
  8 s, the variables the Rust code reads (SKILL_PERSISTENCE, DYNAMODB_PERSISTENCE_TABLE_NAME,
  ALEXA_SKILL_ID, names checked in the sources), the Alexa trigger restricted to the SkillId
  parameter;
- the table: `id` string hash key, on-demand, TTL on `ttl`; the log group has a retention.
Exits 1 with one line per problem.
"""

import json
import pathlib
import re
import sys

from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy/sam/template.yaml"
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


def as_list(value):
    return value if isinstance(value, list) else [value]


def readme_actions():
    """The actions of the README's `SkillAttributes` IAM statement."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Least-privilege IAM", 1)[-1]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    if not block:
        problems.append("README: no JSON policy under '## Least-privilege IAM'")
        return set()
    policy = json.loads(block.group(1))
    for statement in policy["Statement"]:
        if statement.get("Sid") == "SkillAttributes":
            return set(as_list(statement["Action"]))
    problems.append("README: no 'SkillAttributes' statement in the IAM policy")
    return set()


template, matches = decode(str(TEMPLATE))
if matches or template is None:
    sys.exit(f"{TEMPLATE}: cannot be read: {matches}")
resources = template["Resources"]

# ------------------------------------------------------------------ role
role = resources["FunctionRole"]["Properties"]
check("ManagedPolicyArns" not in role, "role: no managed policies (they grant more than the skill needs)")
statements = [
    s for p in role.get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])
]
table_arn = {"Fn::GetAtt": ["AttributesTable", "Arn"]}
log_arn = {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}
wanted = {
    "dynamodb": (readme_actions(), table_arn),
    "logs": ({"logs:CreateLogStream", "logs:PutLogEvents"}, log_arn),
}
seen = set()
for s in statements:
    actions = set(as_list(s.get("Action", [])))
    services = {a.split(":", 1)[0] for a in actions}
    check(s.get("Effect") == "Allow" and "NotAction" not in s and "NotResource" not in s,
          f"role: statement {s.get('Sid')} is not a plain Allow")
    check(len(services) == 1 and services <= set(wanted),
          f"role: statement {s.get('Sid')} mixes or grants unexpected services: {sorted(actions)}")
    for service in services & set(wanted):
        want_actions, want_resource = wanted[service]
        check(actions == want_actions,
              f"role: {service} actions {sorted(actions)} != README/expected {sorted(want_actions)}")
        check(as_list(s.get("Resource")) == [want_resource],
              f"role: {service} actions apply to {s.get('Resource')}, not only {want_resource}")
        seen.add(service)
check(seen == set(wanted), f"role: missing statements for {sorted(set(wanted) - seen)}")
check("*" not in json.dumps(statements), "role: a wildcard in an action or resource")

# ------------------------------------------------------------------ function
fn = resources["SkillFunction"]
check(fn["Type"] == "AWS::Serverless::Function", "function: not a SAM function")
p = fn["Properties"]
check(p.get("Runtime") == "provided.al2023", "function: runtime must be provided.al2023")
check(p.get("Architectures") == ["arm64"], "function: architecture must be arm64")
check(p.get("Handler") == "bootstrap", "function: handler must be bootstrap")
check(p.get("CodeUri") == "../../target/lambda/cafe/",
      "function: CodeUri must be cargo lambda's output, ../../target/lambda/cafe/")
check(isinstance(p.get("Timeout"), int) and 3 <= p["Timeout"] < 8,
      "function: timeout must fit Alexa's 8 s answer budget (3-7 s)")
check(isinstance(p.get("MemorySize"), int) and p["MemorySize"] >= 128, "function: memory size")
check(p.get("Role") == {"Fn::GetAtt": ["FunctionRole", "Arn"]}, "function: must use FunctionRole")
check(p.get("LoggingConfig", {}).get("LogGroup") == {"Ref": "FunctionLogGroup"},
      "function: must log to FunctionLogGroup")
env = p.get("Environment", {}).get("Variables", {})
check(env.get("SKILL_PERSISTENCE") == "dynamodb", "function: SKILL_PERSISTENCE=dynamodb")
check(env.get("DYNAMODB_PERSISTENCE_TABLE_NAME") == {"Ref": "AttributesTable"},
      "function: DYNAMODB_PERSISTENCE_TABLE_NAME must name the table")
check(env.get("ALEXA_SKILL_ID") == {"Ref": "SkillId"}, "function: ALEXA_SKILL_ID must be the SkillId parameter")
sources = {
    "SKILL_PERSISTENCE": ROOT / "skill-builder/src/storage.rs",
    "DYNAMODB_PERSISTENCE_TABLE_NAME": ROOT / "skill-builder/src/storage.rs",
    "ALEXA_SKILL_ID": ROOT / "skill-builder/src/skill/builder.rs",
}
for name, path in sources.items():
    # The constant the code reads the variable by (`pub const ..: &str = "NAME";`).
    check(f'= "{name}";' in path.read_text(), f"{path.relative_to(ROOT)} no longer reads {name}")
events = p.get("Events", {})
alexa = [e for e in events.values() if e.get("Type") == "AlexaSkill"]
check(len(events) == 1 and len(alexa) == 1, "function: exactly one event, the AlexaSkill trigger")
check(all(e.get("Properties", {}).get("SkillId") == {"Ref": "SkillId"} for e in alexa),
      "function: the Alexa trigger must be restricted to the SkillId parameter")
check("SkillId" in template.get("Parameters", {}), "parameter SkillId")

# ------------------------------------------------------------------ table and logs
t = resources["AttributesTable"]["Properties"]
check(t.get("KeySchema") == [{"AttributeName": "id", "KeyType": "HASH"}], "table: key must be `id` (HASH)")
check(t.get("AttributeDefinitions") == [{"AttributeName": "id", "AttributeType": "S"}], "table: `id` is a string")
check(t.get("BillingMode") == "PAY_PER_REQUEST", "table: on-demand")
check(t.get("TimeToLiveSpecification") == {"AttributeName": "ttl", "Enabled": True}, "table: TTL on `ttl`")
check(resources["AttributesTable"].get("DeletionPolicy") == "Retain", "table: retained (user data)")
check("RetentionInDays" in resources["FunctionLogGroup"]["Properties"], "log group: retention")

if problems:
    for problem in problems:
        print(f"check_template.py: {TEMPLATE.relative_to(ROOT)}: {problem}", file=sys.stderr)
    sys.exit(1)
print(f"check_template.py: {TEMPLATE.relative_to(ROOT)}: role, function, table and log group as intended", file=sys.stderr)
