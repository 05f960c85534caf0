"""`eventgen export asyncapi`: valid against the official AsyncAPI 3.0.0 JSON Schema, and
right where that schema cannot tell (parameters, operation messages, references), and
true to the code eventgen generates (payloads and acks checked against it)."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import jsonschema_specifications
import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012
from support.cli import eventgen, run_cli
from support.project import make_project
from support.specs import CHAT_SPEC, FEATURE_SPEC

HERE = Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "asyncapi" / "asyncapi-3.0.0.schema.json"
DRAFT7_ID = "http://json-schema.org/draft-07/schema"


# -- the official schema, resolved offline --------------------------------------------


def asyncapi_validator() -> Draft7Validator:
    """The vendored AsyncAPI 3.0.0 schema. Its definitions carry their own `$id`s and it refers
    to the draft-07 meta schema by URL: both are registered locally, so nothing is fetched
    (a Registry without a retriever raises on any unknown URL instead of going online)."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"].rstrip("#") == DRAFT7_ID
    meta = jsonschema_specifications.REGISTRY.contents(DRAFT7_ID + "#")
    registry = (
        Registry()
        .with_resources(
            [
                (DRAFT7_ID, Resource.from_contents(meta, default_specification=DRAFT7)),
                (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7)),
            ]
        )
        .crawl()
    )
    return Draft7Validator(schema, registry=registry)


VALIDATOR = asyncapi_validator()


def schema_errors(doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(doc)]


# -- what the schema cannot check ------------------------------------------------------


def _pointer(doc: Any, ref: str) -> Any:
    if not ref.startswith("#/"):
        raise KeyError(f"not a local reference: {ref}")
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _refs(node: Any, at: str = "#") -> list[tuple[str, str]]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out.append((at, value))
            else:
                out.extend(_refs(value, f"{at}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_refs(value, f"{at}/{i}"))
    return out


def _deref(doc: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and set(node) == {"$ref"} and seen < 20:
        node = _pointer(doc, node["$ref"])
        seen += 1
    return node


def semantic_problems(doc: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    # 1. Every $ref resolves inside the document.
    for at, ref in _refs(doc):
        try:
            _pointer(doc, ref)
        except (KeyError, IndexError, ValueError):
            problems.append(f"{at}: $ref {ref} does not resolve")
    for cid, channel in doc.get("channels", {}).items():
        channel = _deref(doc, channel)
        # 2. Address parameters <-> parameters entries, and where each value is read from.
        in_address = set(re.findall(r"\{([^{}]+)\}", channel.get("address") or ""))
        declared = set(channel.get("parameters", {}))
        for name in sorted(in_address - declared):
            problems.append(f"channel {cid}: address parameter {{{name}}} has no parameters entry")
        for name in sorted(declared - in_address):
            problems.append(f"channel {cid}: parameter {name} is not in the address")
        for name, param in channel.get("parameters", {}).items():
            param = _deref(doc, param)
            if "schema" in param:
                problems.append(f"channel {cid}: parameter {name} has a schema (AsyncAPI 3 parameters take none)")
            location = param.get("location", "")
            field = location.removeprefix("$message.payload#/")
            for mid, message in channel.get("messages", {}).items():
                try:
                    payload = _deref(doc, _deref(doc, message).get("payload", {}))
                except (KeyError, IndexError):
                    continue  # reported as an unresolved $ref
                if field not in payload.get("properties", {}) or field not in payload.get("required", []):
                    problems.append(
                        f"channel {cid}: message {mid} has no required payload field {field} for parameter {name}"
                    )
    # 3. Operation messages (and reply messages) are messages of the operation's channel.
    for oid, op in doc.get("operations", {}).items():
        op = _deref(doc, op)
        for part, holder in (("messages", op), ("reply.messages", op.get("reply") or {})):
            channel_ref = (holder.get("channel") or op.get("channel") or {}).get("$ref", "")
            for message in holder.get("messages", []):
                ref = message.get("$ref", "")
                if not ref.startswith(channel_ref + "/messages/"):
                    problems.append(f"operation {oid}: {part} entry {ref} is not a message of {channel_ref}")
    return problems


# -- fixtures ------------------------------------------------------------------------------


def export(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> str:
    run = run_cli("-C", str(root), "export", "asyncapi", *args)
    assert run.exit == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("asyncapi") / "app", specs={"feature": FEATURE_SPEC, "chat": CHAT_SPEC})

    assert eventgen(root, "generate").exit == 0
    return root


@pytest.fixture
def doc(project: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return json.loads(export(capsys, project, "--format", "json"))


# -- validity ------------------------------------------------------------------------------


def test_valid_against_the_official_schema_and_the_extra_checks(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert schema_errors(doc) == []
    assert semantic_problems(doc) == []


def test_yaml_is_the_default_and_says_the_same(
    project: Path, capsys: pytest.CaptureFixture[str], doc: dict[str, Any]
) -> None:
    text = export(capsys, project)
    assert text.startswith("# AsyncAPI 3.0.0")
    assert yaml.safe_load(text) == doc
    assert export(capsys, project, "--format", "yaml") == text


def test_a_broken_document_the_schema_passes_but_the_checks_catch(doc: dict[str, Any]) -> None:
    broken = copy.deepcopy(doc)
    room = broken["channels"]["feature.feature"]
    room["address"] = "feature:{feature_id}:{lang}"  # a parameter without an entry
    broken["operations"]["sendFeatureUpdated"]["messages"] = [
        {"$ref": "#/channels/namespace/messages/featureSubscribe"}
    ]  # wrong channel
    broken["operations"]["receiveChatAsk"]["reply"]["messages"] = [
        {"$ref": "#/channels/namespace/messages/chatAsk.ack.typo"}
    ]
    broken["components"]["messages"]["chatAnnounce"]["payload"] = {"$ref": "#/components/schemas/Missing"}
    assert schema_errors(broken) == []  # the official schema alone lets every one of these through
    assert semantic_problems(broken) == [
        "#/operations/receiveChatAsk/reply/messages/0: $ref #/channels/namespace/messages/chatAsk.ack.typo does not resolve",
        "#/components/messages/chatAnnounce/payload: $ref #/components/schemas/Missing does not resolve",
        "channel feature.feature: address parameter {lang} has no parameters entry",
        "operation sendFeatureUpdated: messages entry #/channels/namespace/messages/featureSubscribe is not a message of #/channels/feature.feature",
    ]
    # And the other way round: what the schema does catch, it catches.
    with_schema = copy.deepcopy(doc)
    with_schema["channels"]["feature.feature"]["parameters"]["feature_id"]["schema"] = {"type": "string"}
    with_schema["operations"]["sendFeatureUpdated"]["action"] = "publish"
    assert len(schema_errors(with_schema)) == 2
    assert (
        "channel feature.feature: parameter feature_id has a schema (AsyncAPI 3 parameters take none)"
        in semantic_problems(with_schema)
    )


def test_every_reference_resolves_and_is_local(doc: dict[str, Any]) -> None:
    refs = _refs(doc)
    assert len(refs) > 40
    for _at, ref in refs:
        assert ref.startswith("#/")
        _pointer(doc, ref)
    assert "bindings" not in json.dumps(doc)


# -- the mapping -------------------------------------------------------------------------


def test_channels_namespace_and_rooms(doc: dict[str, Any]) -> None:
    channels = doc["channels"]
    assert set(channels) == {"namespace", "feature.feature", "chat.chat"}
    ns = channels["namespace"]
    assert ns["address"] == "/" and ns["x-socketio-namespace"] == "/"
    client_events = ["chat:join", "chat:typing", "chat:ask", "feature:subscribe", "feature:unsubscribe"]
    names = {mid: doc["components"]["messages"][mid] for mid in ns["messages"]}
    assert sorted(m["name"] for m in names.values() if "name" in m) == sorted(
        client_events + ["chat:announce"]
    )  # broadcast lives here
    assert sorted(m["x-socketio-ack-of"] for m in names.values() if "x-socketio-ack-of" in m) == sorted(client_events)
    room = channels["feature.feature"]
    assert room["address"] == "feature:{feature_id}"
    assert room["parameters"] == {
        "feature_id": {
            "description": "Taken from the payload field `feature_id`.",
            "location": "$message.payload#/feature_id",
        }
    }
    assert list(room["messages"]) == ["featureUpdated"]
    assert room["x-eventgen-access"] == "open_webui.socket.access:can_read_feature"
    assert list(channels["chat.chat"]["messages"]) == ["chatTyping.relayed"]


def test_operations_receive_with_reply_and_send(doc: dict[str, Any]) -> None:
    ops = doc["operations"]
    assert sorted(ops) == sorted(
        [
            "receiveChatJoin",
            "receiveChatTyping",
            "sendChatTyping",
            "receiveChatAsk",
            "sendChatAnnounce",
            "receiveFeatureSubscribe",
            "receiveFeatureUnsubscribe",
            "sendFeatureUpdated",
        ]
    )
    sub = ops["receiveFeatureSubscribe"]
    assert sub["action"] == "receive" and sub["channel"] == {"$ref": "#/channels/namespace"}
    assert sub["messages"] == [{"$ref": "#/channels/namespace/messages/featureSubscribe"}]
    assert sub["reply"]["messages"] == [{"$ref": "#/channels/namespace/messages/featureSubscribe.ack"}]
    assert (sub["x-eventgen-action"], sub["x-eventgen-access"]) == ("join", "open_webui.socket.access:can_read_feature")
    updated = ops["sendFeatureUpdated"]
    assert updated["action"] == "send" and updated["channel"] == {"$ref": "#/channels/feature.feature"}
    assert (updated["x-eventgen-helper"], updated["x-eventgen-listener"]) == ("notify_feature_update", "FeatureUpdates")
    assert "reply" not in updated
    announce = ops["sendChatAnnounce"]
    assert announce["channel"] == {"$ref": "#/channels/namespace"}
    assert _pointer(doc, announce["messages"][0]["$ref"]) == {"$ref": "#/components/messages/chatAnnounce"}
    assert doc["components"]["messages"]["chatAnnounce"]["x-socketio-broadcast"] is True
    assert ops["receiveChatAsk"]["x-eventgen-handler"] == "open_webui.socket.chat_handlers:answer"
    relay = ops["sendChatTyping"]
    assert relay["channel"] == {"$ref": "#/channels/chat.chat"}
    assert doc["components"]["messages"]["chatTyping.relayed"]["x-socketio-skip-sender"] is True


def test_payload_schemas_carry_types_and_constraints(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["FeatureSubscribePayload"] == {
        "type": "object",
        "properties": {"feature_id": {"type": "string", "minLength": 1, "maxLength": 128}},
        "required": ["feature_id"],
        "additionalProperties": False,
        "description": "Subscribe to a feature's live updates.",
    }
    ask = schemas["ChatAskPayload"]["properties"]
    assert ask["question"] == {"type": "string", "maxLength": 2000, "description": "What the user asks."}
    assert ask["tone"] == {"type": "string", "enum": ["plain", "formal"], "default": "plain"}
    assert schemas["ChatAskPayload"]["required"] == ["question"]
    level = schemas["ChatAnnouncePayload"]["properties"]["level"]
    assert level == {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 5}, {"type": "null"}]}
    assert schemas["ChatTypingRelayed"]["properties"]["user"] == {"$ref": "#/components/schemas/RelaySender"}
    assert "user" in schemas["ChatTypingRelayed"]["required"]


# -- true to the generated code ------------------------------------------------------------


def _generated_models(project: Path) -> Any:
    path = project / "backend/open_webui/socket/event_models.py"
    spec = importlib.util.spec_from_file_location(f"eventgen_models_{abs(hash(path))}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _schema_validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:doc", Resource.from_contents(doc, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{name}"}, registry=registry)


SAMPLES: dict[str, list[Any]] = {
    "FeatureSubscribePayload": [
        {"feature_id": "f1"},
        {"feature_id": ""},
        {"feature_id": "x" * 128},
        {"feature_id": "x" * 129},
        {},
        {"feature_id": "f", "extra": 1},
        {"feature_id": None},
        {"feature_id": ["f"]},
        "f1",
        None,
        [],
    ],
    "ChatAskPayload": [
        {"question": "why?"},
        {"question": "q", "tone": "formal"},
        {"question": "q", "tone": "rude"},
        {"question": "q" * 2001},
        {"tone": "plain"},
        {"question": "q", "tone": None},
    ],
    "ChatAnnouncePayload": [
        {"text": "hi"},
        {"text": "hi", "level": 5},
        {"text": "hi", "level": 6},
        {"text": "hi", "level": -1},
        {"text": "hi", "level": None},
        {"text": "hi", "level": 2.5},
    ],
    "ChatTypingPayload": [
        {"chat_id": "c", "typing": True},
        {"chat_id": "c"},
        {"chat_id": "c", "typing": True, "user": {}},
    ],
    "FeatureUpdatedPayload": [
        {"feature_id": "f", "data": {"a": [1]}},
        {"feature_id": "f"},
        {"feature_id": "f", "data": []},
    ],
}


def test_schemas_accept_only_what_the_generated_models_accept(project: Path, doc: dict[str, Any]) -> None:
    """A message valid by the AsyncAPI schema is accepted by the server's pydantic model, and every
    sample the model refuses, the schema refuses too (the schema is never looser than the server)."""
    models = _generated_models(project)
    for schema_name, samples in SAMPLES.items():
        model = getattr(models, schema_name)
        validator = _schema_validator(doc, schema_name)
        outcomes = []
        for sample in samples:
            try:
                model.model_validate(sample)
                accepted = True
            except models.ValidationError:
                accepted = False
            outcomes.append((accepted, validator.is_valid(sample)))
            assert accepted == validator.is_valid(sample), (schema_name, sample)
        assert {o for o in outcomes} == {(True, True), (False, False)}, schema_name  # samples of both kinds


def test_ack_schemas_match_the_generated_acks(project: Path, doc: dict[str, Any]) -> None:
    models = _generated_models(project)
    subscribe = _schema_validator(doc, "FeatureSubscribeAck")
    assert subscribe.is_valid(models.ok(room=models.feature_room(feature_id="f1")))
    assert not subscribe.is_valid(models.ok())  # a join ack names its room
    for ack in (
        models.unauthenticated(),
        models.forbidden(),
        models.internal(),
        models.forbidden("join the room first"),
    ):
        assert subscribe.is_valid(ack) and _schema_validator(doc, "AckError").is_valid(ack)
    try:
        models.FeatureSubscribePayload.model_validate({"feature_id": ""})
    except models.ValidationError as exc:
        invalid = models.invalid_payload(exc)
    assert invalid["error"]["details"] and subscribe.is_valid(invalid)
    assert _schema_validator(doc, "ChatTypingAck").is_valid(models.ok())
    assert _schema_validator(doc, "ChatAskAck").is_valid(models.ok(data={"answer": 42}))
    assert not _schema_validator(doc, "ChatAskAck").is_valid(models.ok())
    assert not subscribe.is_valid({"ok": False, "error": {"code": "teapot", "message": "x"}})
    relayed = _schema_validator(doc, "ChatTypingRelayed")
    assert relayed.is_valid(
        {"chat_id": "c", "typing": True, "user": models.sender({"id": "u1", "name": "U", "email": "e"})}
    )
    assert not relayed.is_valid({"chat_id": "c", "typing": True})


# -- the command -----------------------------------------------------------------------------


def test_example_app_and_empty_and_invalid_projects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = tmp_path / "example"
    shutil.copytree(
        HERE.parent / "examples/openwebui-mini", example, ignore=shutil.ignore_patterns("node_modules", ".svelte-kit")
    )
    doc = yaml.safe_load(export(capsys, example))
    assert schema_errors(doc) == [] and semantic_problems(doc) == []
    package = json.loads((example / "package.json").read_text())
    assert (doc["info"]["title"], doc["info"]["version"]) == (f"{package['name']} real-time API", package["version"])
    bare = make_project(tmp_path / "bare", specs={})
    assert run_cli("-C", str(bare), "export", "asyncapi").exit == 2  # no specs folder: not a project yet
    (bare / "events").mkdir()
    empty = json.loads(export(capsys, bare, "--format", "json"))
    assert schema_errors(empty) == [] and empty["operations"] == {} and list(empty["channels"]) == ["namespace"]
    broken = make_project(
        tmp_path / "broken",
        specs={"feature": FEATURE_SPEC.replace('pattern: "feature:{feature_id}"', 'pattern: "feature:{feature-id}"')},
    )
    run = run_cli("-C", str(broken), "export", "asyncapi")
    assert run.exit == 2 and run.stdout == "" and run.stderr.startswith("events/feature.yaml:")


def test_sequenced_rooms_show_seq_epoch_since_and_the_recovery_ack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = FEATURE_SPEC.replace(
        "    access: open_webui.socket.access:can_read_feature\n",
        "    access: open_webui.socket.access:can_read_feature\n    delivery: sequenced\n    history: {size: 50, ttl_s: 120}\n",
    )
    assert "delivery: sequenced" in spec
    root = make_project(tmp_path / "app", specs={"feature": spec})
    doc = json.loads(export(capsys, root, "--format", "json"))
    assert schema_errors(doc) == []
    schemas = doc["components"]["schemas"]
    updated = schemas["FeatureUpdatedPayload"]
    assert updated["properties"]["seq"]["type"] == "integer" and updated["properties"]["epoch"]["type"] == "string"
    assert {"seq", "epoch"} <= set(updated["required"])
    join = schemas["FeatureSubscribePayload"]
    assert "since" in join["properties"] and "since" not in join.get("required", [])
    ok = schemas["FeatureSubscribeAck"]["oneOf"][0]
    assert {"position", "recovered", "missed"} <= set(ok["properties"]) and "position" in ok["required"]
    room = next(c for c in doc["channels"].values() if c.get("address") == "feature:{feature_id}")
    assert room["x-eventgen-delivery"] == "sequenced" and room["x-eventgen-history"] == {"size": 50, "ttl_s": 120}
