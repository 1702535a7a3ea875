"""Drives the official ASK SDK for Python persistence adapters for the differential tests.

A long-lived process: one JSON request per line on stdin, one JSON answer per line on stdout, in
order. Started by tests/src/differential/driver.rs with the interpreter of the venv that
scripts/official-sdks.sh installs (ask-sdk-core 1.19.0, ask-sdk-dynamodb-persistence-adapter
1.19.0, ask-sdk-s3-persistence-adapter 1.0.0, boto3). Reads AWS_ENDPOINT_URL, AWS_REGION and the
credentials from the environment.

Requests (every one names the store and the user; the adapters key by the request envelope's
user ID, through their default key generators):

    {"op": "save",   "store": STORE, "user_id": "...", "attributes": {...}}
    {"op": "get",    "store": STORE, "user_id": "..."}
    {"op": "delete", "store": STORE, "user_id": "..."}
    {"op": "update", "store": STORE, "user_id": "...", "name": "...", "value": V}
        get_attributes, set one top-level attribute, save_attributes (what a skill's turn does)
    {"op": "hello"}

    STORE = {"kind": "dynamodb", "table": "...", "partition_key_name": "id",
             "attributes_name": "attributes"}
          | {"kind": "s3", "bucket": "...", "path_prefix": "skills/cafe" or null}

Answers: {"ok": true, "attributes": {...}} (get: what the adapter returned; update: what it
read before the change), {"ok": true} (save, delete), {"ok": false, "error": "..."}.

Values cross the pipe in a tagged JSON encoding that keeps the Python types the adapters really
hand to a skill and take from it:

    {"$decimal": "0.6666666666666666666666666667"}   decimal.Decimal (str() of it on the way out)
    {"$ss": ["a", "b"]}                               a set of str (sorted on the way out)
    {"$ns": ["1", "2.5"]}                             a set of numbers (Decimal; sorted by value)
    {"$bytes": "<base64>"}, {"$bs": [...]}            bytes / boto3 Binary, a set of them
    {"$float": "nan"}                                 a float JSON cannot spell (out only)

Everything else is plain JSON: int (any size), float, str, bool, None, list, dict. A one-key
object whose key is one of the tags above is a tag; attribute names never start with "$".
"""

import base64
import decimal
import json
import math
import os
import sys

# boto3.resource("dynamodb") runs at import time of ask_sdk_dynamodb.adapter (a default
# argument) and needs a region: AWS_REGION alone is not enough for it.
os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from boto3.dynamodb.types import Binary  # noqa: E402
from ask_sdk_core.__version__ import __version__ as CORE_VERSION  # noqa: E402
from ask_sdk_dynamodb.__version__ import __version__ as DYNAMODB_VERSION  # noqa: E402
from ask_sdk_dynamodb.adapter import DynamoDbAdapter  # noqa: E402
from ask_sdk_s3.__version__ import __version__ as S3_VERSION  # noqa: E402
from ask_sdk_s3.adapter import S3Adapter  # noqa: E402
from ask_sdk_model import Context, RequestEnvelope, User  # noqa: E402
from ask_sdk_model.interfaces.system import SystemState  # noqa: E402

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL")
CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
    s3={"addressing_style": "path"},
)
_dynamodb = boto3.resource("dynamodb", endpoint_url=ENDPOINT, config=CONFIG)
_s3 = boto3.client("s3", endpoint_url=ENDPOINT, config=CONFIG)
_adapters = {}


def adapter(store):
    """The official adapter for a store description, built once per description."""
    key = json.dumps(store, sort_keys=True)
    if key not in _adapters:
        if store["kind"] == "dynamodb":
            _adapters[key] = DynamoDbAdapter(
                table_name=store["table"],
                partition_key_name=store.get("partition_key_name", "id"),
                attribute_name=store.get("attributes_name", "attributes"),
                dynamodb_resource=_dynamodb,
            )
        elif store["kind"] == "s3":
            _adapters[key] = S3Adapter(
                bucket_name=store["bucket"],
                path_prefix=store.get("path_prefix"),
                s3_client=_s3,
            )
        else:
            raise ValueError("unknown store kind %r" % store["kind"])
    return _adapters[key]


def envelope(user_id):
    """A request envelope whose user ID is the key (what the default key generators read)."""
    return RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user_id))))


def decode(v):
    """Tagged JSON -> the Python value a skill would hold."""
    if isinstance(v, dict):
        if len(v) == 1:
            (tag, inner), = v.items()
            if tag == "$decimal":
                return decimal.Decimal(inner)
            if tag == "$ss":
                return set(inner)
            if tag == "$ns":
                return set(decimal.Decimal(x) for x in inner)
            if tag == "$bytes":
                return base64.b64decode(inner)
            if tag == "$bs":
                return set(base64.b64decode(x) for x in inner)
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def encode(v):
    """What the adapter handed back -> tagged JSON (keeping set vs list, Decimal vs int/float)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, decimal.Decimal):
        return {"$decimal": str(v)}
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$float": repr(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, Binary):
        return {"$bytes": base64.b64encode(v.value).decode()}
    if isinstance(v, (set, frozenset)):
        items = list(v)
        if all(isinstance(x, str) for x in items):
            return {"$ss": sorted(items)}
        if all(isinstance(x, (bytes, bytearray, Binary)) for x in items):
            return {"$bs": sorted(encode(x)["$bytes"] for x in items)}
        return {"$ns": [str(x) for x in sorted(items, key=lambda x: (decimal.Decimal(x), str(x)))]}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    raise TypeError("cannot encode %s" % type(v).__name__)


def handle(req):
    op = req["op"]
    if op == "hello":
        return {"ok": True, "sdk": "ask-sdk-python core %s, dynamodb adapter %s, s3 adapter %s, boto3 %s"
                % (CORE_VERSION, DYNAMODB_VERSION, S3_VERSION, boto3.__version__)}
    a = adapter(req["store"])
    env = envelope(req["user_id"])
    if op == "save":
        a.save_attributes(env, decode(req["attributes"]))
        return {"ok": True}
    if op == "get":
        return {"ok": True, "attributes": encode(a.get_attributes(env))}
    if op == "delete":
        a.delete_attributes(env)
        return {"ok": True}
    if op == "update":
        attrs = a.get_attributes(env)
        read = encode(attrs)
        attrs[req["name"]] = decode(req["value"])
        a.save_attributes(env, attrs)
        return {"ok": True, "attributes": read}
    raise ValueError("unknown op %r" % op)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = handle(json.loads(line))
        except Exception as e:  # the test reports it with the case
            answer = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
