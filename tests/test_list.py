"""`eventgen list --format text|json`: the catalog of a project's real-time API."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support.cli import run_cli
from support.project import make_project
from support.specs import CHAT_SPEC, FEATURE_SPEC
from support.tree import write

REPO = Path(__file__).resolve().parent.parent


def _line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    hits = [n for n, line in enumerate(lines, 1) if needle in line]
    assert len(hits) == 1, (rel, needle, hits)
    return hits[0]


def _catalog(capsys: pytest.CaptureFixture[str], root: Path) -> dict:
    run = run_cli("-C", str(root), "list", "--format", "json")
    assert run.exit == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC, "chat": CHAT_SPEC})


# Every hand-written event use in support.review's project: (name, direction, kind, file, text on that line).
EXPECTED_UNMANAGED = [
    ("chat-events", "server_to_client", "emit", "backend/open_webui/routers/chats.py", 'sio.emit("chat-events"'),
    ("chat-events", "server_to_client", "listener", "src/lib/components/chat/Chat.svelte", "$socket?.on('chat-events'"),
    (
        "feature:deleted",
        "server_to_client",
        "emit",
        "backend/open_webui/routers/features.py",
        'socket_server.emit("feature:deleted"',
    ),
    ("heartbeat", "client_to_server", "handler", "backend/open_webui/socket/main.py", "async def heartbeat"),
    ("legacy:call", "client_to_server", "handler", "backend/open_webui/socket/main.py", 'sio.on("legacy:call"'),
    ("models:changed", "server_to_client", "emit", "backend/open_webui/socket/main.py", 'event="models:changed"'),
    ("notes:archived", "server_to_client", "listener", "src/lib/apis/notes.ts", "notes:archived"),
    ("notes:changed", "server_to_client", "listener", "src/routes/+layout.svelte", 'socket?.on("notes:changed"'),
    ("usage", "server_to_client", "emit", "backend/open_webui/socket/main.py", 'sio.emit("usage"'),
    ("usage", "server_to_client", "listener", "src/lib/components/chat/Chat.svelte", '$socket?.on("usage"'),
    ("usage:ping", "client_to_server", "handler", "backend/open_webui/socket/main.py", "@sio.on('usage:ping')"),
    ("user-list", "client_to_server", "handler", "backend/open_webui/socket/main.py", '@sio.on("user-list")'),
]


def _unmanaged(doc: dict) -> list[tuple[str, str, str, str, int]]:
    return sorted(
        (e["name"], e["direction"], f["kind"], f["path"], f["line"])
        for e in doc["events"]
        if not e["managed"]
        for f in e["found"]
    )


def _expected(root: Path) -> list[tuple[str, str, str, str, int]]:
    return sorted((n, d, k, f, _line_of(root, f, text)) for n, d, k, f, text in EXPECTED_UNMANAGED)


def test_spec_events_with_their_facts_and_source_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _catalog(capsys, project)
    assert doc["version"] == 1 and doc["warnings"] == []
    managed = [e for e in doc["events"] if e["managed"]]
    assert [e["name"] for e in managed] == [
        "chat:join",
        "chat:typing",
        "chat:ask",
        "chat:announce",
        "feature:subscribe",
        "feature:unsubscribe",
        "feature:updated",
    ]
    for e in managed:
        spec_file = f"events/{e['spec']}.yaml"
        assert e["source"] == {"path": spec_file, "line": _line_of(project, spec_file, f"- name: {e['name']}")}
    by_name = {e["name"]: e for e in managed}
    assert by_name["feature:subscribe"] | {"found": []} == {
        "name": "feature:subscribe",
        "managed": True,
        "direction": "client_to_server",
        "spec": "feature",
        "source": by_name["feature:subscribe"]["source"],
        "room": "feature:{feature_id}",
        "broadcast": False,
        "action": "join",
        "helper": None,
        "listener": None,
        "listener_file": None,
        "found": [],
        "renamed_to": None,
        "sunset": None,
    }
    updated = by_name["feature:updated"]
    assert (updated["helper"], updated["listener"], updated["listener_file"]) == (
        "notify_feature_update",
        "FeatureUpdates",
        "src/lib/components/realtime/FeatureUpdates.svelte",
    )
    assert (
        by_name["chat:announce"]["broadcast"],
        by_name["chat:announce"]["room"],
        by_name["chat:announce"]["helper"],
    ) == (True, None, "emit_chat_announce")
    assert (by_name["chat:typing"]["action"], by_name["chat:typing"]["listener"]) == ("relay", "ChatTyping")
    assert (by_name["chat:ask"]["action"], by_name["chat:ask"]["room"]) == ("handle", None)


def test_unmanaged_events_found_in_python_and_frontend(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _catalog(capsys, project)
    assert _unmanaged(doc) == _expected(project)
    names = {e["name"] for e in doc["events"]}
    # Not events of this project: Socket.IO's reserved names, a non-literal name, vendored code.
    assert not names & {"connect", "disconnect", "dynamic", "vendored:event", "vendored:too"}
    # The hand-written listener of a spec's event is a use of a managed event, shown on it.
    updated = next(e for e in doc["events"] if e["name"] == "feature:updated")
    assert updated["found"] == [{"kind": "listener", "path": "src/lib/apis/notes.ts", "line": 5, "col": 2}]


def test_generated_code_is_managed_not_unmanaged(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("-C", str(project), "generate").exit == 0
    main = (project / "backend/open_webui/socket/main.py").read_text()
    assert '@sio.on("feature:subscribe")' in main and 'sio.emit("chat:typing"' in main
    generated_frontend = [
        p for p in (project / "src").rglob("*") if p.is_file() and "eventgen:file" in p.read_text().split("\n", 1)[0]
    ]
    doc = _catalog(capsys, project)
    assert _unmanaged(doc) == _expected(project)  # line numbers moved; the set did not grow
    assert {e["name"]: e["found"] for e in doc["events"] if e["managed"] and e["found"]} == {
        "feature:updated": [{"kind": "listener", "path": "src/lib/apis/notes.ts", "line": 5, "col": 2}]
    }
    # Whole generated frontend files (when the frontend generator writes any) are skipped entirely.
    for path in generated_frontend:
        rel = path.relative_to(project).as_posix()
        assert all(f["path"] != rel for e in doc["events"] for f in e["found"])


def test_text_lists_both_sections(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli("-C", str(project), "list")
    assert run.exit == 0 and run.stderr == ""
    lines = run.stdout.splitlines()
    assert lines[0] == "from specs (7):"
    assert lines[1].split() == ["EVENT", "DIRECTION", "ROOM", "ACTION", "HELPER", "LISTENER", "SPEC"]
    row = next(line for line in lines if line.split()[:1] == ["feature:updated"])
    assert row.split() == [
        "feature:updated",
        "server_to_client",
        "feature:{feature_id}",
        "-",
        "notify_feature_update",
        "FeatureUpdates",
        f"events/feature.yaml:{_line_of(project, 'events/feature.yaml', '- name: feature:updated')}",
    ]
    assert next(line for line in lines if line.split()[:1] == ["chat:announce"]).split()[2] == "(broadcast)"
    assert "  note: feature:updated is also used by hand: src/lib/apis/notes.ts:5 (listener)" in lines
    start = lines.index("unmanaged, found in code (10):")
    assert lines[start + 1].split() == ["EVENT", "DIRECTION", "FOUND"]
    usage = next(line for line in lines[start:] if line.split()[:1] == ["usage"])
    main_line = _line_of(project, "backend/open_webui/socket/main.py", 'sio.emit("usage"')
    assert (
        usage.split(None, 2)[2]
        == f"backend/open_webui/socket/main.py:{main_line} (emit), src/lib/components/chat/Chat.svelte:7 (listener)"
    )
    assert lines[-1] == "eventgen: 7 event(s) from 2 spec(s), 10 unmanaged event(s) found in code"


def test_imports_of_the_server_under_other_names(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        project,
        "backend/open_webui/routers/relative.py",
        'from ..socket.main import sio as s\n\n\nasync def f():\n    await s.emit("rel:event", {})\n',
    )
    write(
        project,
        "backend/open_webui/routers/modular.py",
        'import open_webui.socket.main as sm\n\n\nasync def f():\n    await sm.sio.call("mod:event", {}, to="x")\n',
    )
    write(
        project,
        "backend/open_webui/routers/unrelated.py",
        'class Sio:\n    def emit(self, *a):\n        pass\n\n\nsio = Sio()\nsio.emit("not:ours")\n',
    )
    write(
        project,
        "backend/open_webui/utils/session.py",
        'from open_webui.socket.main import sio\n\n\ndef hook():\n    sio.on("utils:event", print)\n',
    )
    found = {
        (e["name"], f["path"], f["line"])
        for e in _catalog(capsys, project)["events"]
        if not e["managed"]
        for f in e["found"]
    }
    assert ("rel:event", "backend/open_webui/routers/relative.py", 5) in found
    assert ("mod:event", "backend/open_webui/routers/modular.py", 5) in found
    assert ("utils:event", "backend/open_webui/utils/session.py", 5) in found
    assert not any(name == "not:ours" for name, _, _ in found)


def test_commented_listeners_and_generated_files_are_skipped(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, "src/lib/a.ts", "// socket.on('commented:out', f)\nconst url = 'x'; socket.on('kept', f)\n")
    write(
        project,
        "src/lib/socket/stale.ts",
        "// eventgen:file sha=0123456789ab -- generated\nsocket.on('from:generated', f)\n",
    )
    names = {e["name"] for e in _catalog(capsys, project)["events"]}
    assert "kept" in names and "commented:out" not in names and "from:generated" not in names


def test_unreadable_code_is_a_warning_not_a_failure(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        project, "backend/open_webui/routers/broken.py", "from open_webui.socket.main import sio\n\ndef f(:\n    pass\n"
    )
    run = run_cli("-C", str(project), "list", "--format", "json")
    assert run.exit == 0
    assert run.stderr.startswith("warning: backend/open_webui/routers/broken.py:3:")
    doc = json.loads(run.stdout)
    assert [w["path"] for w in doc["warnings"]] == ["backend/open_webui/routers/broken.py"]
    assert _unmanaged(doc) == _expected(project)


def test_without_specs_and_with_invalid_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = make_project(tmp_path / "bare", specs={})
    # No specs folder at all is invalid input (a typo in `specs` must not read as "no events")...
    assert run_cli("-C", str(bare), "list").exit == 2
    # ...an empty one lists what the code handles by hand.
    (bare / "events").mkdir()
    run = run_cli("-C", str(bare), "list")
    assert run.exit == 0
    # Without specs, the listener of feature:updated is one more unmanaged event.
    assert (
        "from specs (" not in run.stdout
        and run.stdout.splitlines()[-1] == "eventgen: 0 event(s) from 0 spec(s), 11 unmanaged event(s) found in code"
    )
    broken = make_project(tmp_path / "broken", specs={"feature": FEATURE_SPEC.replace("action: join", "action: jump")})
    run = run_cli("-C", str(broken), "list")
    assert run.exit == 2 and run.stdout == "" and re.match(r"events/feature\.yaml:\d+:\d+: ", run.stderr)


def test_example_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The bundled example: every spec event listed as managed; its legacy handlers as unmanaged."""
    example = REPO / "examples/openwebui-mini"
    root = tmp_path / "example"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns("node_modules", ".svelte-kit"))
    doc = _catalog(capsys, root)
    spec_names = set()
    for spec in (root / "events").glob("*.yaml"):
        spec_names |= set(re.findall(r"^\s*- name: (\S+)", spec.read_text(), flags=re.MULTILINE))
    assert spec_names and {e["name"] for e in doc["events"] if e["managed"]} == spec_names
    socket_main = (root / "backend/open_webui/socket/main.py").read_text()
    hand_handlers = set(re.findall(r'^@sio\.on\("([^"]+)"\)', socket_main, flags=re.MULTILINE)) - spec_names
    unmanaged = {e["name"] for e in doc["events"] if not e["managed"]}
    assert hand_handlers and hand_handlers <= unmanaged
