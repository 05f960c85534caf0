"""The committed JSON Schema of the spec format: in sync with the models, and right about real specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from support.cli import eventgen, run_cli

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "schemas" / "event-spec.schema.json"
EXAMPLE_SPECS = sorted((REPO / "examples").glob("*/events/*.yaml"))
INIT_EXAMPLE = REPO / "templates" / "init" / "example_spec.yaml.j2"  # static text: no template syntax


def _schema() -> dict[str, Any]:
    import json

    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema())


def test_export_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """Fails when the models change and schemas/event-spec.schema.json was not regenerated:
    python -m generator.cli export json-schema > schemas/event-spec.schema.json"""
    run = run_cli("export", "json-schema")
    assert (run.exit, run.stderr) == (0, "")
    assert run.stdout == COMMITTED.read_text(encoding="utf-8")


def test_the_committed_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_property_is_described() -> None:
    """Editors show these descriptions on hover; the models must give every key one."""
    schema = _schema()
    undescribed = [
        f"{name}.{prop}"
        for name, definition in [("Spec", schema), *schema["$defs"].items()]
        for prop, body in definition.get("properties", {}).items()
        if not body.get("description")
    ]
    assert undescribed == []


def test_the_example_app_has_specs_to_check() -> None:
    assert [p.relative_to(REPO).as_posix() for p in EXAMPLE_SPECS] == ["examples/openwebui-mini/events/feature.yaml"]


@pytest.mark.parametrize("path", [*EXAMPLE_SPECS, INIT_EXAMPLE], ids=lambda p: p.relative_to(REPO).as_posix())
def test_the_schema_accepts_the_example_specs(path: Path) -> None:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in _validator().iter_errors(spec)]
    assert errors == []


GOOD: dict[str, Any] = {
    "name": "feature",
    "rooms": {"feature": {"pattern": "feature:{feature_id}", "access": "authenticated"}},
    "events": [
        {
            "name": "feature:subscribe",
            "direction": "client_to_server",
            "action": "join",
            "room": "feature",
            "payload": {"feature_id": {"type": "str", "min_length": 1}},
        },
        {
            "name": "feature:updated",
            "direction": "server_to_client",
            "room": "feature",
            "payload": {
                "feature_id": "str",
                "data": "dict",
                "kind": {"type": "str", "enum": ["a", "b"], "default": "a"},
            },
            "emit": {
                "helper": "notify",
                "from": [{"file": "r.py", "function": "f", "after": "A.b", "args": {"data": "x"}}],
            },
            "listener": "FeatureUpdates",
        },
    ],
}


def _bad(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """GOOD with the value at `path` replaced (or removed, for value ...)."""
    import copy

    doc = copy.deepcopy(GOOD)
    target = doc
    for part in path[:-1]:
        target = target[part]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def test_the_reference_document_is_valid() -> None:
    assert list(_validator().iter_errors(GOOD)) == []


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        (_bad(("colour",), "red"), []),
        (_bad(("events",), ...), []),
        (_bad(("events",), []), ["events"]),
        (_bad(("name",), "Feature"), ["name"]),
        (_bad(("version",), 2), ["version"]),
        (_bad(("events", 0, "direction"), "up"), ["events", 0, "direction"]),
        (_bad(("events", 0, "action"), "subscribe"), ["events", 0, "action"]),
        (_bad(("events", 0, "colour"), "red"), ["events", 0]),
        (_bad(("events", 0, "name"), "feature subscribe"), ["events", 0, "name"]),
        (_bad(("events", 0, "payload", "feature_id", "maxlen"), 3), ["events", 0, "payload", "feature_id"]),
        (_bad(("events", 0, "payload", "feature_id", "min_length"), -1), ["events", 0, "payload", "feature_id"]),
        (_bad(("events", 0, "payload", "count"), 5), ["events", 0, "payload", "count"]),
        (_bad(("events", 1, "broadcast"), "yes"), ["events", 1, "broadcast"]),
        (_bad(("events", 1, "emit", "helper"), "2notify"), ["events", 1, "emit", "helper"]),
        (_bad(("events", 1, "emit", "from", 0, "function"), ...), ["events", 1, "emit", "from", 0]),
        (_bad(("events", 1, "listener"), "featureUpdates"), ["events", 1, "listener"]),
        (_bad(("events", 1, "payload", "kind", "enum"), [["a"]]), ["events", 1, "payload", "kind", "enum", 0]),
        (_bad(("rooms", "feature", "pattern"), ""), ["rooms", "feature", "pattern"]),
        (_bad(("rooms", "feature", "colour"), "red"), ["rooms", "feature"]),
    ],
    ids=[
        "unknown-top-level-key",
        "missing-events",
        "no-events",
        "spec-name",
        "version",
        "direction",
        "action",
        "unknown-event-key",
        "event-name",
        "unknown-field-key",
        "negative-min-length",
        "field-is-a-number",
        "string-for-boolean",
        "helper-identifier",
        "call-site-without-function",
        "listener-name",
        "enum-of-lists",
        "empty-pattern",
        "unknown-room-key",
    ],
)
def test_the_schema_rejects_a_bad_spec(doc: dict[str, Any], where: list[Any]) -> None:
    errors = list(_validator().iter_errors(doc))
    assert errors, "the schema accepted a spec eventgen refuses"
    # The best match points where the problem is (anyOf branches report their parent).
    best = jsonschema.exceptions.best_match(errors)
    assert best is not None
    assert list(best.absolute_path)[: len(where)] == where


def test_init_writes_the_same_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert eventgen(tmp_path, "init").exit == 0
    assert (tmp_path / "events" / "event-spec.schema.json").read_bytes() == COMMITTED.read_bytes()
