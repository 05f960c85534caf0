"""Presence (CONTRACT 9) in the spec and the generated code, without processes: the room keys' errors
(path:line:col, through the real command line), their bounds (hypothesis), what is generated and what is
not, and the exports (JSON Schema, AsyncAPI)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import eventgen
from test_asyncapi import schema_errors, semantic_problems

from generator.spec.models import PRESENCE_TTL_MAX_S, PRESENCE_TTL_MIN_S

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "openwebui-mini"

# Line 7 is the room's last key; events start at line 8.
SPEC = """\
name: desk
rooms:
  desk:
    pattern: "desk:{desk_id}"
    access: authenticated
    presence: true
    presence_ttl_s: 10
events:
  - name: desk:join
    direction: client_to_server
    action: join
    room: desk
    payload: {desk_id: str}
  - name: desk:leave
    direction: client_to_server
    action: leave
    room: desk
    payload: {desk_id: str}
"""


def _validate(tmp_path: Path, files: dict[str, str]) -> tuple[int, list[str]]:
    (tmp_path / "events").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / "events" / name).write_text(text)
    run = eventgen(tmp_path, "validate")
    return run.exit, [line for line in run.output.splitlines() if line.startswith("events/")]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("    presence_ttl_s: 10\n", "    presence_ttl_s: 1\n"),
            "events/desk.yaml:7:21: rooms.desk.presence_ttl_s: must be 2 or more, got 1",
        ),
        (
            ("    presence_ttl_s: 10\n", "    presence_ttl_s: 3601\n"),
            "events/desk.yaml:7:21: rooms.desk.presence_ttl_s: must be less than or equal to 3600",
        ),
        (
            ("    presence_ttl_s: 10\n", "    presence_ttl_s: soon\n"),
            "events/desk.yaml:7:21: rooms.desk.presence_ttl_s:",
        ),
        (("    presence: true\n", "    presence: yes please\n"), "events/desk.yaml:6:15: rooms.desk.presence:"),
        (
            ("    presence: true\n", ""),
            "events/desk.yaml:6:5: rooms.desk.presence_ttl_s: 'presence_ttl_s' is for rooms with 'presence: true'",
        ),
        (
            ("    access: authenticated\n", "    owner: app\n"),
            "events/desk.yaml:6:5: rooms.desk.presence: presence is recorded by generated joins; an 'owner: app' room has none",
        ),
        (
            ("    action: join\n", "    action: leave\n"),
            "events/desk.yaml:6:5: rooms.desk.presence: room 'desk' has presence but no join event: presence is recorded by its join",
        ),
        (
            ('"desk:{desk_id}"', '"desk:{version}"'),
            "events/desk.yaml:4:14: rooms.desk.pattern: room parameter {version} is reserved in a presence room",
        ),
        (
            ("  - name: desk:leave\n", "  - name: desk:desk:presence\n"),
            "events/desk.yaml:6:5: rooms.desk.presence: event 'desk:desk:presence' is this room's presence event; rename the declared one",
        ),
    ],
    ids=[
        "ttl-low",
        "ttl-high",
        "ttl-text",
        "presence-not-bool",
        "ttl-without-presence",
        "owner-app",
        "no-join",
        "reserved-param",
        "event-clash",
    ],
)
def test_bad_values_are_reported_at_their_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    text = SPEC.replace(*change)
    assert text != SPEC
    if "desk:{version}" in text:
        text = text.replace("desk_id: str", "version: str")
    code, lines = _validate(tmp_path, {"desk.yaml": text})
    assert code == 2
    assert any(line.startswith(expected) for line in lines), lines


def test_the_presence_event_is_a_name_no_other_spec_may_take(tmp_path: Path) -> None:
    other = """\
name: other
events:
  - name: desk:desk:presence
    direction: server_to_client
    broadcast: true
    payload: {x: int}
"""
    code, lines = _validate(tmp_path, {"desk.yaml": SPEC, "other.yaml": other})
    assert code == 2
    assert any(
        line.startswith("events/other.yaml:3:11: ")
        and "event name 'desk:desk:presence' is already used at events/desk.yaml:6" in line
        for line in lines
    ), lines


@settings(max_examples=40, deadline=None)
@given(ttl=st.integers(-10, 5000))
def test_ttl_bounds(tmp_path_factory: pytest.TempPathFactory, ttl: int) -> None:
    from generator.spec.load import load_spec_file

    root = tmp_path_factory.mktemp("ttl")
    (root / "desk.yaml").write_text(SPEC.replace("presence_ttl_s: 10", f"presence_ttl_s: {ttl}"))
    loaded, problems = load_spec_file(root / "desk.yaml", root)
    if PRESENCE_TTL_MIN_S <= ttl <= PRESENCE_TTL_MAX_S:
        assert problems == [] and loaded is not None and loaded.spec.rooms["desk"].ttl_s == ttl
    else:
        assert [(p.line, p.col) for p in problems] == [(7, 21)], problems


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("gen") / "app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    (root / "events/desk.yaml").write_text(SPEC)
    assert eventgen(root, "generate").exit == 0
    return root


def test_generated_server_code_is_clean_and_imports_the_runtime_once(generated: Path) -> None:
    socket = generated / "backend/open_webui/socket"
    runtime = socket / "eventgen_presence.py"
    text = runtime.read_text()
    assert "MIN_TTL_S = 10" in text and "HEARTBEAT_S = MIN_TTL_S / 4" in text
    main_py = (socket / "main.py").read_text()
    assert main_py.count("from open_webui.socket import eventgen_presence") == 1
    assert (
        'eventgen_presence.track(sio, sid, room, user, "desk:desk:presence", {"desk_id": payload.desk_id}, 10)'
        in main_py
    )
    assert "await eventgen_models.untracked(eventgen_presence.untrack(sio, sid, room), 10.0)" in main_py
    assert "eventgen_presence" not in (socket / "event_models.py").read_text()
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "E,F,W",
            "--ignore",
            "E501",
            str(runtime),
            str(socket / "main.py"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout  # F401: nothing imported unused
    assert eventgen(generated, "generate").exit == 0  # a second run changes nothing
    assert runtime.read_text() == text


def test_removing_presence_removes_the_runtime(generated: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "app"
    shutil.copytree(generated, root)
    spec = root / "events/desk.yaml"
    spec.write_text(spec.read_text().replace("    presence: true\n    presence_ttl_s: 10\n", ""))
    assert eventgen(root, "generate").exit == 0
    assert not (root / "backend/open_webui/socket/eventgen_presence.py").exists()
    assert not (root / "src/lib/socket/eventgen-presence.ts").exists()
    assert "eventgen_presence" not in (root / "backend/open_webui/socket/main.py").read_text()
    assert "PresenceMember" not in (root / "src/lib/socket/events.ts").read_text()


def test_json_schema_export_documents_the_keys() -> None:
    schema = json.loads((REPO / "schemas/event-spec.schema.json").read_text())
    room = schema["$defs"]["RoomSpec"]["properties"]
    assert room["presence"]["type"] == "boolean"
    ttl = next(s for s in room["presence_ttl_s"]["anyOf"] if s.get("type") == "integer")
    assert (ttl["minimum"], ttl["maximum"]) == (PRESENCE_TTL_MIN_S, PRESENCE_TTL_MAX_S)
    reference = (REPO / "docs/spec-reference.md").read_text()
    assert "presence_ttl_s" in reference


def test_asyncapi_shows_the_presence_event_and_the_members_ack(generated: Path) -> None:
    run = eventgen(generated, "export", "asyncapi", "--format", "json")
    assert run.exit == 0, run.output
    doc = json.loads(run.stdout)
    assert schema_errors(doc) == [] and semantic_problems(doc) == []
    assert doc["channels"]["desk.desk"]["x-eventgen-presence"] == {"ttl_s": 10}
    payload = doc["components"]["schemas"]["DeskDeskPresencePayload"]
    assert payload["required"] == ["desk_id", "joins", "leaves", "version"]
    ack = doc["components"]["schemas"]["DeskJoinAck"]["oneOf"][0]
    assert {"members", "members_version"} <= set(ack["required"])
    assert "sendDeskDeskPresence" in doc["operations"]


def test_spec_yaml_in_the_docs_is_valid(tmp_path: Path) -> None:
    """The presence example of docs/presence.md validates."""
    text = (REPO / "docs/presence.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    code, lines = _validate(tmp_path, {"desk.yaml": "name: desk\n" + textwrap.dedent(block)})
    assert code == 0, lines
