"""Golden cases: a project tree and a command line in, the tree and the output expected after.

Each folder under tests/golden/ holds (see tests/golden/README.md):

    input/, input_removed the project before: tests/golden/_base/ with this overlay
                          copied over it, less the base files input_removed lists
    cmd                   the steps: eventgen command lines, and `$ ...` file operations
    expected/             the tree after the last step
    expected_output.txt   what every step printed (stdout then stderr), normalized
    expected_exit         the exit code of the last step

`EVENTGEN_UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden.py` rewrites the
expectations from what the code does now; review the diff before committing it.

Beside the byte-for-byte comparison, every case is held to rules that hold
for any input: a step that fails writes nothing, and a `generate` that
succeeds leaves the project in sync.
"""

from __future__ import annotations

import os
import shlex
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import eventgen
from support.golden import GOLDEN, materialise_input, run_probe
from support.tree import Tree, files_of, snapshot, stamp_free, stamp_free_text, tree_diff

UPDATE = os.environ.get("EVENTGEN_UPDATE_GOLDEN", "") not in ("", "0")
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and (p / "cmd").is_file())

# Commands that write the project: when they fail, the tree must be as it was.
_WRITERS = {"generate", "remove", "new"}


@dataclass
class Outcome:
    output: str
    exit: int
    tree: Tree


def _file_op(project: Path, args: list[str]) -> str:
    """`$ rm PATH` and `$ replace PATH OLD NEW` (OLD must occur exactly once): a person's edits between runs."""
    op, *rest = args
    if op == "rm" and len(rest) == 1:
        (project / rest[0]).unlink()
    elif op == "replace" and len(rest) == 3:
        path = project / rest[0]
        old, new = (s.encode().decode("unicode_escape") for s in rest[1:])
        text = path.read_bytes().decode("utf-8")
        assert text.count(old) == 1, f"$ replace: {old!r} occurs {text.count(old)} times in {rest[0]}"
        path.write_bytes(text.replace(old, new).encode("utf-8"))
    else:
        raise AssertionError(f"unknown file operation: $ {shlex.join(args)}")
    return f"$ {shlex.join(args)}\n"


def run_case(case: Path, project: Path) -> Outcome:
    materialise_input(case, project)
    output: list[str] = []
    code = 0
    for raw in (case / "cmd").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("$ "):
            output.append(_file_op(project, shlex.split(line[2:])))
            continue
        before = snapshot(project)
        run = eventgen(project, *shlex.split(line))
        code = run.exit
        text = run.output.replace(str(project.resolve()), "<project>").replace(str(project), "<project>")
        output.append(f"$ eventgen {line}\n{text}[exit {code}]\n")
        command = shlex.split(line)[0]
        if code != 0 and command in _WRITERS and "--dry-run" not in line:
            assert snapshot(project) == before, f"`eventgen {line}` failed with exit {code} but changed files"
        if "--dry-run" in line or command in ("check", "diff", "validate", "list"):
            assert snapshot(project) == before, f"`eventgen {line}` must not write"
    return Outcome("".join(output), code, snapshot(project))


def _write_expectations(case: Path, got: Outcome) -> None:
    expected = case / "expected"
    if expected.exists():
        shutil.rmtree(expected)
    for rel, data in files_of(got.tree).items():
        path = expected / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (case / "expected_output.txt").write_text(got.output)
    (case / "expected_exit").write_text(f"{got.exit}\n")


@pytest.mark.parametrize("name", CASES)
def test_golden(tmp_path: Path, name: str) -> None:
    case = GOLDEN / name
    got = run_case(case, tmp_path / "project")
    if UPDATE:
        _write_expectations(case, got)
    expected_tree = snapshot(case / "expected")  # git keeps no folders: the trees compare by their files
    assert stamp_free_text(got.output) == stamp_free_text((case / "expected_output.txt").read_text())
    assert got.exit == int((case / "expected_exit").read_text().strip())
    difference = tree_diff(stamp_free(files_of(expected_tree)), stamp_free(files_of(got.tree)))
    assert not difference, difference

    # A successful generate leaves the project in sync: check agrees, a second run writes nothing.
    steps = [s for s in (case / "cmd").read_text().splitlines() if s.strip() and not s.startswith(("#", "$ "))]
    last = shlex.split(steps[-1])
    if got.exit == 0 and last in (["generate"], ["generate", "--force"]):
        project = tmp_path / "project"
        check = eventgen(project, "check")
        assert check.exit == 0, check.output
        again = eventgen(project, "generate")
        assert again.exit == 0 and snapshot(project) == got.tree, again.output


def _removes(name: str) -> str | None:
    """The spec a case's last step removes, when that step succeeds and nothing a person
    wrote is left to keep (no edits between runs, or edits overwritten with --force)."""
    case = GOLDEN / name
    lines = [s for s in (case / "cmd").read_text().splitlines() if s.strip() and not s.startswith("#")]
    steps = [s for s in lines if not s.startswith("$ ")]
    words = shlex.split(steps[-1])
    ok = (case / "expected_exit").is_file() and (case / "expected_exit").read_text().strip() == "0"
    kept_edits = len(lines) != len(steps) and "--force" not in words
    return words[1] if words[0] == "remove" and ok and not kept_edits else None


REMOVE_CASES = [n for n in CASES if _removes(n)]


@pytest.mark.parametrize("name", REMOVE_CASES)
def test_remove_equals_never_having_had_the_spec(tmp_path: Path, name: str) -> None:
    """`remove NAME` leaves the tree a fresh `generate` would give without that spec:
    with no other spec, every user file has its bytes from before generation."""
    case = GOLDEN / name
    spec = _removes(name)
    project = tmp_path / "project"
    materialise_input(case, project)
    pristine = snapshot(project)
    (project / "events" / f"{spec}.yaml").unlink()
    if any((project / "events").iterdir()):
        assert eventgen(project, "generate").exit == 0
    else:
        assert files_of(snapshot(case / "expected")) == {
            k: v for k, v in files_of(pristine).items() if k != f"events/{spec}.yaml"
        }
    difference = tree_diff(stamp_free(files_of(snapshot(project))), stamp_free(files_of(snapshot(case / "expected"))))
    assert not difference, difference


# -- the generated code, run -----------------------------------------------------------

# Scenarios run in a fresh interpreter against a case's expected tree. The probe feeds
# Engine.IO messages into a real python-socketio AsyncServer; only the network is absent.
SCENARIOS: dict[str, str] = {
    "fresh_insert": """
        alice = await h.connect("alice-token")
        bob = await h.connect("bob-token")
        anon = await h.connect(None)
        assert (await h.call(anon, "feature:subscribe", {"feature_id": "f1"}))["error"]["code"] == "unauthenticated"
        bad = await h.call(alice, "feature:subscribe", {"feature_id": ""})
        assert bad["ok"] is False and bad["error"]["code"] == "invalid_payload", bad
        assert bad["error"]["details"][0]["loc"] == ["feature_id"], bad
        for junk in (None, "text", [1, 2], 42, {"feature_id": "f1", "extra": 1}, {"feature_id": "x" * 129}):
            ack = await h.call(alice, "feature:subscribe", junk)
            assert ack["error"]["code"] == "invalid_payload", (junk, ack)
        assert (await h.call(alice, "feature:subscribe", {"feature_id": "secret"}))["error"]["code"] == "forbidden"
        assert await h.call(alice, "feature:subscribe", {"feature_id": "f1"}) == {"ok": True, "room": "feature:f1"}
        assert "feature:f1" in h.sio.rooms(alice)
        assert "feature:f1" not in h.sio.rooms(bob)

        # The router endpoint, called as FastAPI would, emits to the room after saving.
        from open_webui.routers.features import update_feature
        result = await update_feature("f1", {"title": "Renamed"}, user={"id": "alice"})
        assert result["title"] == "Renamed"
        got = h.received(alice)
        assert got == [("feature:updated", {"feature_id": "f1", "data": {"id": "f1", "title": "Renamed"}})], got
        assert h.received(bob) == []

        # The helper validates what it sends.
        from open_webui.socket.main import notify_feature_update
        try:
            await notify_feature_update(feature_id=123, data={})
        except Exception as exc:
            assert type(exc).__name__ == "ValidationError"
        else:
            raise AssertionError("the emit helper accepted a bad payload")

        assert await h.call(alice, "feature:unsubscribe", {"feature_id": "f1"}) == {"ok": True, "room": "feature:f1"}
        assert "feature:f1" not in h.sio.rooms(alice)
        # The hand-written handlers still work next to the generated ones.
        assert await h.call(alice, "user-list", None) == {"ok": True, "user_ids": ["alice", "bob"]}
    """,
    "handle_action_stub": """
        alice = await h.connect("alice-token")
        # The stub is not implemented yet: its NotImplementedError becomes `internal`, never a hang.
        ack = await h.call(alice, "chat:echo", {"text": "hi"})
        assert ack == {"ok": False, "error": {"code": "internal", "message": "internal error"}}, ack
        assert (await h.call(alice, "chat:echo", {"text": 5}))["error"]["code"] == "invalid_payload"
    """,
    "handle_action_implemented": """
        alice = await h.connect("alice-token")
        ack = await h.call(alice, "chat:echo", {"text": "hi"})
        assert ack == {"ok": True, "data": {"echo": "hi", "by": "alice"}}, ack
    """,
    "relay_action": """
        alice = await h.connect("alice-token")
        bob = await h.connect("bob-token")
        carol = await h.connect("carol-token")
        # Not in the room yet: relaying is refused.
        assert (await h.call(alice, "doc:cursor", {"doc_id": "d1", "x": 1, "y": 2}))["error"]["code"] == "forbidden"
        for sid in (alice, bob):
            assert (await h.call(sid, "doc:open", {"doc_id": "d1"}))["ok"] is True
        assert await h.call(alice, "doc:cursor", {"doc_id": "d1", "x": 1, "y": 2}) == {"ok": True}
        assert h.received(bob) == [("doc:cursor", {"doc_id": "d1", "x": 1, "y": 2, "user": {"id": "alice", "name": "Alice"}})]
        assert h.received(alice) == []  # the sender is skipped
        assert h.received(carol) == []  # not a member
    """,
    "policies": """
        alice = await h.connect("alice-token")
        bob = await h.connect("bob-token")
        # max_bytes 2048 on doc:open: at the cap validation speaks (a room param is 128 characters at
        # most); one byte over is refused for its size, before validation.
        at_cap = {"doc_id": "d" * (2048 - len('{"doc_id":""}'))}
        assert (await h.call(alice, "doc:open", at_cap))["error"]["code"] == "invalid_payload"
        over = await h.call(alice, "doc:open", {"doc_id": at_cap["doc_id"] + "d"})
        assert over["error"]["code"] == "payload_too_large" and over["error"]["details"] == {"max_bytes": 2048, "bytes": 2049}, over
        for sid in (alice, bob):
            assert (await h.call(sid, "doc:open", {"doc_id": "d1"}))["ok"] is True
        # rate_limit {rate: 2, per_s: 60, burst: 10}: back to back, the burst passes, then refusals with a wait
        # of at most one emission interval (30 s).
        acks = [await h.call(alice, "doc:cursor", {"doc_id": "d1", "x": i, "y": 0}) for i in range(13)]
        passed = [a for a in acks if a["ok"]]
        refused = [a for a in acks if not a["ok"]]
        assert len(passed) == 10 and acks[:10] == passed, acks
        assert all(a["error"]["code"] == "rate_limited" and 29_000 <= a["error"]["details"]["retry_after_ms"] <= 30_000 for a in refused), refused
        assert len(h.received(bob)) == len(passed)
        # Per user: bob has his own limit.
        assert (await h.call(bob, "doc:cursor", {"doc_id": "d1", "x": 0, "y": 0}))["ok"] is True
    """,
    "user_room_self": """
        alice = await h.connect("alice-token")
        bob = await h.connect("bob-token")
        assert await h.call(alice, "inbox:watch", {"user_id": "alice"}) == {"ok": True, "room": "user:alice"}
        assert (await h.call(alice, "inbox:watch", {"user_id": "bob"}))["error"]["code"] == "forbidden"
        from open_webui.socket.main import emit_inbox_message
        await emit_inbox_message(user_id="alice", text="hello")
        assert h.received(alice) == [("inbox:message", {"user_id": "alice", "text": "hello"})]
        assert h.received(bob) == []
    """,
    "broadcast_event": """
        alice = await h.connect("alice-token")
        anon = await h.connect(None)
        from open_webui.socket.main import announce
        await announce(message="maintenance at noon", level="warning")
        expected = [("system:announcement", {"message": "maintenance at noon", "level": "warning"})]
        assert h.received(alice) == expected
        assert h.received(anon) == expected
    """,
    "optional_fields": """
        alice = await h.connect("alice-token")
        ack = await h.call(alice, "task:create", {"title": "Write tests"})
        assert ack["ok"] is True and ack["data"] == {"title": "Write tests", "priority": "normal", "estimate": None, "tags": [], "notes": None}, ack
        bad = await h.call(alice, "task:create", {"title": "x", "priority": "urgent"})
        assert bad["error"]["code"] == "invalid_payload", bad
        too_big = await h.call(alice, "task:create", {"title": "x", "estimate": 101})
        assert too_big["error"]["code"] == "invalid_payload", too_big
        from open_webui.socket.main import emit_task_changed
        await emit_task_changed(task_id=7)
        assert h.received(alice) == [("task:changed", {"task_id": 7, "status": "open", "assignee": None})]
    """,
    "two_specs": """
        alice = await h.connect("alice-token")
        assert (await h.call(alice, "feature:subscribe", {"feature_id": "f1"}))["ok"] is True
        assert (await h.call(alice, "board:join", {"board_id": 3}))["ok"] is True
        assert {"feature:f1", "board:3"} <= set(h.sio.rooms(alice))
    """,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_generated_code_runs(name: str) -> None:
    """The expected tree's generated server code imports and answers through a real AsyncServer."""
    backend = GOLDEN / name / "expected" / "backend"
    assert backend.is_dir(), f"no golden case {name}"
    body = textwrap.indent(textwrap.dedent(SCENARIOS[name]), "    ")
    script = f"import asyncio\nfrom support.golden_runtime_probe import Harness\n\nasync def scenario(h):\n{body}\n\nasyncio.run(Harness.run(scenario))\nprint('scenario passed')\n"
    proc = run_probe(backend, script)
    assert proc.returncode == 0 and "scenario passed" in proc.stdout, proc.stdout + proc.stderr
