"""The benchmark's five-turn session on the official ASK SDK for Python, for persistence-bench.

Run by bench/src/session/python.rs with the interpreter of the venv scripts/official-sdks.sh
installs (ask-sdk-core, ask-sdk-dynamodb-persistence-adapter, boto3). A skill built with
CustomSkillBuilder and the official DynamoDbAdapter plays the same session as the Rust rows,
turn by turn through CustomSkill.invoke, as a Lambda would:

    LaunchRequest       persistent_attributes, visits+1, save_persistent_attributes()
    OrderIntent         persistent_attributes, orders+1 and lastOrder, save
    AMAZON.HelpIntent   persistent_attributes (read only), no save
    OrderIntent         as above
    SessionEndedRequest nothing

The SDK reads the attributes on a turn's first access (AttributesManager), so every turn that
uses them reads. Each user is first seeded (unmeasured) with the map given as JSON on stdin.

    python ask_session.py --endpoint URL --table T --sessions N --warmup W --prefix P [--keep-alive]

Prints one JSON object: {"sdk": "...", "sessions": [{"turns_ms": [5 floats], "storage_ms": f,
"reads": n, "writes": n}, ...]} for the N measured sessions (the W warm-up sessions first are
not reported). Credentials and region come from the environment.
"""

import argparse
import decimal
import json
import os
import sys
import time

os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from ask_sdk_core.__version__ import __version__ as CORE_VERSION  # noqa: E402
from ask_sdk_core.serialize import DefaultSerializer  # noqa: E402
from ask_sdk_core.skill_builder import CustomSkillBuilder  # noqa: E402
from ask_sdk_core.utils import is_intent_name, is_request_type  # noqa: E402
from ask_sdk_dynamodb.__version__ import __version__ as DYNAMODB_VERSION  # noqa: E402
from ask_sdk_dynamodb.adapter import DynamoDbAdapter  # noqa: E402
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter  # noqa: E402
from ask_sdk_model import RequestEnvelope  # noqa: E402


class Metered(AbstractPersistenceAdapter):
    """Counts and times the official adapter's calls: the session's storage wait."""

    def __init__(self, inner):
        self.inner = inner
        self.take()

    def take(self):
        out = (self.reads, self.writes, self.busy) if hasattr(self, "busy") else None
        self.reads, self.writes, self.busy = 0, 0, 0.0
        return out

    def get_attributes(self, request_envelope):
        self.reads += 1
        t = time.perf_counter()
        try:
            return self.inner.get_attributes(request_envelope)
        finally:
            self.busy += time.perf_counter() - t

    def save_attributes(self, request_envelope, attributes):
        self.writes += 1
        t = time.perf_counter()
        try:
            return self.inner.save_attributes(request_envelope, attributes)
        finally:
            self.busy += time.perf_counter() - t

    def delete_attributes(self, request_envelope):
        self.writes += 1
        return self.inner.delete_attributes(request_envelope)


def build_skill(adapter):
    sb = CustomSkillBuilder(persistence_adapter=adapter)

    def speak(handler_input, text):
        return handler_input.response_builder.speak(text).ask(text).response

    @sb.request_handler(can_handle_func=is_request_type("LaunchRequest"))
    def launch(handler_input):
        am = handler_input.attributes_manager
        attrs = am.persistent_attributes
        attrs["visits"] = int(attrs.get("visits", 0)) + 1
        am.save_persistent_attributes()
        return speak(handler_input, "Welcome back! Visit %d. What would you like?" % attrs["visits"])

    @sb.request_handler(can_handle_func=is_intent_name("OrderIntent"))
    def order(handler_input):
        am = handler_input.attributes_manager
        attrs = am.persistent_attributes
        attrs["lastOrder"] = "flat white"
        attrs["orders"] = int(attrs.get("orders", 0)) + 1
        am.save_persistent_attributes()
        return speak(handler_input, "A flat white: order %d. Anything else?" % attrs["orders"])

    @sb.request_handler(can_handle_func=is_intent_name("AMAZON.HelpIntent"))
    def help_(handler_input):
        attrs = handler_input.attributes_manager.persistent_attributes
        return speak(handler_input, "You have ordered %d times." % int(attrs.get("orders", 0)))

    @sb.request_handler(can_handle_func=is_request_type("SessionEndedRequest"))
    def ended(handler_input):
        return handler_input.response_builder.response

    return sb.create()


def envelope(user, session_id, new, attributes, request, n):
    request = dict(request)
    request.update({
        "requestId": "amzn1.echo-api.request.bench-%d" % n,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "locale": "en-US",
    })
    app = {"applicationId": "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"}
    return {
        "version": "1.0",
        "session": {"new": new, "sessionId": session_id, "application": app,
                    "attributes": attributes, "user": {"userId": user}},
        "context": {"System": {"application": app, "user": {"userId": user},
                               "device": {"deviceId": "amzn1.ask.device.BENCH",
                                          "supportedInterfaces": {}},
                               "apiEndpoint": "https://api.amazonalexa.com"}},
        "request": request,
    }


TURNS = [
    {"type": "LaunchRequest"},
    {"type": "IntentRequest", "dialogState": "COMPLETED",
     "intent": {"name": "OrderIntent", "confirmationStatus": "NONE"}},
    {"type": "IntentRequest", "dialogState": "COMPLETED",
     "intent": {"name": "AMAZON.HelpIntent", "confirmationStatus": "NONE"}},
    {"type": "IntentRequest", "dialogState": "COMPLETED",
     "intent": {"name": "OrderIntent", "confirmationStatus": "NONE"}},
    {"type": "SessionEndedRequest", "reason": "USER_INITIATED"},
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--sessions", type=int, required=True)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--prefix", required=True)
    p.add_argument("--keep-alive", action="store_true")
    args = p.parse_args()

    seed = json.loads(sys.stdin.read(), parse_float=decimal.Decimal)
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                    read_timeout=30)
    resource = boto3.resource("dynamodb", endpoint_url=args.endpoint, config=config)
    if args.keep_alive:
        # As the Rust clients do on an emulator: LocalStack closes the connection after each
        # answer unless the request asks for keep-alive (AWS keeps them open anyway).
        def keep_alive(request, **_):
            request.headers["Connection"] = "keep-alive"
        resource.meta.client.meta.events.register("before-send.dynamodb.*", keep_alive)
    official = DynamoDbAdapter(table_name=args.table, partition_key_name="id",
                               attribute_name="attributes", dynamodb_resource=resource)
    metered = Metered(official)
    skill = build_skill(metered)
    serializer = DefaultSerializer()

    users = ["%s-%d" % (args.prefix, i) for i in range(args.warmup + args.sessions)]
    for user in users:
        official.save_attributes(
            serializer.deserialize(json.dumps(envelope(user, "s", True, {}, TURNS[0], 0)),
                                   RequestEnvelope),
            dict(seed))

    out = []
    n = 0
    for i, user in enumerate(users):
        metered.take()
        session_id = "amzn1.echo-api.session.bench-%d" % i
        attributes = {}
        turns_ms = []
        for t, request in enumerate(TURNS):
            n += 1
            env = serializer.deserialize(
                json.dumps(envelope(user, session_id, t == 0, attributes, request, n)),
                RequestEnvelope)
            started = time.perf_counter()
            response = skill.invoke(request_envelope=env, context=None)
            turns_ms.append((time.perf_counter() - started) * 1e3)
            attributes = response.session_attributes or {}
        reads, writes, busy = metered.take()
        if i >= args.warmup:
            out.append({"turns_ms": turns_ms, "storage_ms": busy * 1e3,
                        "reads": reads, "writes": writes})
    print(json.dumps({
        "sdk": "ask-sdk-python core %s, dynamodb adapter %s, boto3 %s"
               % (CORE_VERSION, DYNAMODB_VERSION, boto3.__version__),
        "sessions": out,
    }))


if __name__ == "__main__":
    main()
