"""`eventgen new` for every action (issue 18): flags for relay, handle, emit.from and listeners,
and the same spec asked for question by question in a terminal (driven through a pseudo-terminal)."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest
import yaml
from support.cli import run_cli
from support.project import make_project
from support.terminal import Terminal
from support.tree import snapshot, write

REPO = Path(__file__).resolve().parent.parent

POLLS_ROUTER = """\
from fastapi import APIRouter, HTTPException

from open_webui.models.polls import Polls

router = APIRouter()


@router.post("/{poll_id}/vote")
async def vote(poll_id: str, form_data: dict, user=None):
    poll = Polls.vote(poll_id, user["id"], form_data["option"])
    if not poll:
        raise HTTPException(status_code=404)
    return poll
"""

POLL_FLAGS = [
    "--room",
    "poll:{poll_id}",
    "--access",
    "authenticated",
    "--join",
    "poll:join",
    "--leave",
    "poll:leave",
    "--relay",
    "poll:typing",
    "--handle",
    "poll:vote",
    "--handler",
    "open_webui.handlers.poll:vote",
    "--emit",
    "poll:updated",
    "--field",
    "poll:typing=typing:bool",
    "--field",
    "poll:vote=poll_id:str",
    "--field",
    "poll:vote=option:str",
    "--field",
    "poll:updated=votes:dict",
    "--helper",
    "notify_poll_updated",
    "--emit-from",
    "backend/open_webui/routers/polls.py:vote:return",
    "--arg",
    "votes=poll",
    "--listener",
    "PollUpdates",
]

POLL_SPEC = {
    "name": "poll",
    "rooms": {"poll": {"pattern": "poll:{poll_id}", "access": "authenticated"}},
    "events": [
        {
            "name": "poll:join",
            "direction": "client_to_server",
            "action": "join",
            "room": "poll",
            "payload": {"poll_id": "str"},
        },
        {
            "name": "poll:leave",
            "direction": "client_to_server",
            "action": "leave",
            "room": "poll",
            "payload": {"poll_id": "str"},
        },
        {
            "name": "poll:typing",
            "direction": "client_to_server",
            "action": "relay",
            "room": "poll",
            "payload": {"poll_id": "str", "typing": "bool"},
            "listener": "PollUpdates",
        },
        {
            "name": "poll:vote",
            "direction": "client_to_server",
            "action": "handle",
            "payload": {"poll_id": "str", "option": "str"},
            "handler": "open_webui.handlers.poll:vote",
        },
        {
            "name": "poll:updated",
            "direction": "server_to_client",
            "room": "poll",
            "payload": {"poll_id": "str", "votes": "dict"},
            "emit": {
                "helper": "notify_poll_updated",
                "from": [
                    {
                        "file": "backend/open_webui/routers/polls.py",
                        "function": "vote",
                        "before": "return",
                        "args": {"votes": "poll"},
                    }
                ],
            },
            "listener": "PollUpdates",
        },
    ],
}


def _app(root: Path) -> Path:
    make_project(root, specs={})
    (root / "events").mkdir()
    write(root, "backend/open_webui/routers/polls.py", POLLS_ROUTER)
    write(
        root,
        "backend/open_webui/models/polls.py",
        "class Polls:\n    @staticmethod\n    def vote(poll_id, user_id, option):\n        return {}\n",
    )
    write(root, "package.json", '{"devDependencies": {"@sveltejs/kit": "^2.0.0", "svelte": "^5.0.0"}}\n')
    return root


def _assert_generated(root: Path) -> None:
    router = (root / "backend/open_webui/routers/polls.py").read_text()
    fn = next(n for n in ast.parse(router).body if isinstance(n, ast.AsyncFunctionDef) and n.name == "vote")
    assert (
        ast.unparse(fn.body[-2]) == "await notify_poll_updated(poll_id=poll_id, votes=poll)"
    )  # before the final return
    assert isinstance(fn.body[-1], ast.Return) and isinstance(fn.body[-3], ast.If)  # after the 404 check
    stub = ast.parse((root / "backend/open_webui/handlers/poll.py").read_text())
    assert [n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] == ["vote"]
    socket = (root / "backend/open_webui/socket/main.py").read_text()
    for event in ("poll:join", "poll:leave", "poll:typing", "poll:vote"):
        assert f'@sio.on("{event}")' in socket
    listener = (root / "src/lib/components/realtime/PollUpdates.svelte").read_text()
    assert '"poll:typing"' in listener and '"poll:updated"' in listener


# -- flags ------------------------------------------------------------------------------------


def test_new_with_flags_for_every_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _app(tmp_path / "app")
    run = run_cli("-C", str(root), "new", "poll", *POLL_FLAGS)
    assert run.exit == 0, run.stderr + run.stdout
    assert yaml.safe_load((root / "events/poll.yaml").read_text()) == POLL_SPEC
    _assert_generated(root)
    assert run_cli("-C", str(root), "check").exit == 0


def test_emit_from_with_an_anchor_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _app(tmp_path / "app")
    run = run_cli(
        "-C",
        str(root),
        "new",
        "poll",
        "--room",
        "poll:{poll_id}",
        "--access",
        "authenticated",
        "--join",
        "poll:join",
        "--emit",
        "poll:updated",
        "--field",
        "votes:dict",
        "--emit-from",
        "backend/open_webui/routers/polls.py:vote:Polls.vote",
        "--arg",
        "votes=poll",
    )
    assert run.exit == 0, run.stderr + run.stdout
    site = yaml.safe_load((root / "events/poll.yaml").read_text())["events"][1]["emit"]
    assert site == {
        "helper": "emit_poll_updated",
        "from": [
            {
                "file": "backend/open_webui/routers/polls.py",
                "function": "vote",
                "after": "Polls.vote",
                "args": {"votes": "poll"},
            }
        ],
    }
    assert (
        '    poll = Polls.vote(poll_id, user["id"], form_data["option"])\n    # eventgen:begin poll/poll:updated@vote'
        in (root / "backend/open_webui/routers/polls.py").read_text()
    )


def test_a_relay_with_its_listener_and_nothing_else(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _app(tmp_path / "app")
    run = run_cli(
        "-C",
        str(root),
        "new",
        "chat",
        "--room",
        "chat:{chat_id}",
        "--access",
        "authenticated",
        "--join",
        "chat:join",
        "--relay",
        "chat:typing",
        "--field",
        "typing:bool",
        "--listener",
        "ChatTyping",
    )
    assert run.exit == 0, run.stderr + run.stdout
    events = yaml.safe_load((root / "events/chat.yaml").read_text())["events"]
    assert events[1] == {
        "name": "chat:typing",
        "direction": "client_to_server",
        "action": "relay",
        "room": "chat",
        "payload": {"chat_id": "str", "typing": "bool"},
        "listener": "ChatTyping",
    }
    assert (root / "src/lib/components/realtime/ChatTyping.svelte").is_file()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ["--handle", "poll:vote"],
            [
                "eventgen new: --handle needs --handler pkg.module:func, the function that handles it (eventgen writes a stub for it once)"
            ],
        ),
        (
            ["--emit", "poll:updated", "--broadcast", "--handler", "a.b:c"],
            ["eventgen new: --handler names the function of the --handle event: add --handle EVENT"],
        ),
        (["--relay", "poll:typing"], ["eventgen new: --relay needs the room it acts on: add --room PATTERN"]),
        (
            ["--handle", "poll:vote", "--handler", "a.b:c", "--emit-from", "x.py:f:g"],
            ["eventgen new: --emit-from describes the --emit event: add --emit EVENT"],
        ),
        (
            ["--emit", "poll:updated", "--broadcast", "--emit-from", "x.py:f"],
            [
                "eventgen new: --emit-from 'x.py:f': write FILE:FUNCTION:AFTER, e.g. backend/open_webui/routers/features.py:update_feature:Features.update_feature "
                "(AFTER `return`: before the final return)"
            ],
        ),
        (
            ["--emit", "poll:updated", "--broadcast", "--arg", "a=b"],
            ["eventgen new: --arg describes the --emit-from calls: add --emit-from FILE:FUNCTION:AFTER"],
        ),
        (
            ["--emit", "poll:updated", "--broadcast", "--emit-from", "x.py:f:g", "--arg", "ab"],
            ["eventgen new: --arg 'ab': write FIELD=EXPRESSION, e.g. --arg data=feature.model_dump()"],
        ),
        (
            ["--emit", "poll:updated", "--broadcast", "--field", "poll:update=n:int"],
            [
                "eventgen new: --field 'poll:update=n:int' names the event 'poll:update', which this spec does not have (did you mean 'poll:updated'?)"
            ],
        ),
        (
            ["--handle", "poll:vote", "--handler", "a.b:c", "--listener", "Votes"],
            ["eventgen new: --listener receives the --emit or --relay event: add one of them"],
        ),
    ],
    ids=[
        "handle-without-handler",
        "handler-without-handle",
        "relay-without-room",
        "emit-from-without-emit",
        "emit-from-format",
        "arg-without-emit-from",
        "arg-format",
        "field-of-unknown-event",
        "listener-without-receiver",
    ],
)
def test_bad_action_flags_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], expected: list[str]
) -> None:
    root = _app(tmp_path / "app")
    before = snapshot(root)
    run = run_cli("-C", str(root), "new", "poll", *flags)
    assert (run.exit, run.stdout, run.stderr.splitlines()) == (2, "", expected)
    assert snapshot(root) == before


def test_a_typo_in_emit_from_is_refused_with_the_near_file_and_the_spec_taken_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _app(tmp_path / "app")
    before = snapshot(root)
    run = run_cli(
        "-C",
        str(root),
        "new",
        "poll",
        "--emit",
        "poll:updated",
        "--broadcast",
        "--field",
        "poll_id:str",
        "--emit-from",
        "backend/open_webui/routers/pols.py:vote:Polls.vote",
    )
    assert run.exit == 2
    assert run.stderr.splitlines() == [
        "eventgen new: events/poll.yaml not written: generation failed (--no-generate writes the spec alone)",
        "events/poll.yaml: file not found: backend/open_webui/routers/pols.py (emit.from.file) (did you mean 'backend/open_webui/routers/polls.py'?)",
    ]
    assert snapshot(root) == before


# -- in a terminal -----------------------------------------------------------------------------


def _terminal(root: Path, *args: str) -> Terminal:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "EVENTGEN_"))}
    env.update(TERM="dumb", NO_COLOR="1", PYTHONPATH=str(REPO))
    return Terminal([sys.executable, "-m", "generator.cli", "new", *args], cwd=root / "backend", env=env)


POLL_ANSWERS = [
    ("Spec name (snake_case, one feature): ", "poll"),
    ("Description: ", ""),
    ("Room pattern (empty: no room, broadcast only) [poll:{poll_id}]: ", ""),
    ("Who may join (authenticated, self or pkg.module:func) [authenticated]: ", ""),
    ("Join event (client joins the room) [poll:join]: ", ""),
    ("Leave event [poll:leave]: ", ""),
    ("Relay event (client messages relayed to the room, e.g. typing): ", "poll:typing"),
    ("Handle event (client request your function answers): ", "poll:vote"),
    ("Handler (pkg.module:func) [open_webui.handlers.poll:poll_vote]: ", "open_webui.handlers.poll:vote"),
    ("Emit event (server tells clients) [poll:updated]: ", ""),
    (
        "Payload fields of poll:typing (relayed) besides the room's poll_id: NAME:TYPE, one per line, empty to finish.\n  field: ",
        "typing:bool",
    ),
    ("  field: ", ""),
    (
        "Payload fields of poll:vote (handled) besides the room's poll_id: NAME:TYPE, one per line, empty to finish.\n  field: ",
        "poll_id:str",
    ),
    ("  field: ", "option:str"),
    ("  field: ", ""),
    (
        "Payload fields of poll:updated (emitted) besides the room's poll_id: NAME:TYPE, one per line, empty to finish.\n  field: ",
        "votes:dict",
    ),
    ("  field: ", ""),
    ("Emit helper (the async function routers await) [emit_poll_updated]: ", "notify_poll_updated"),
    ("Call it from a router endpoint? [y/N]: ", "y"),
    ("  Router file: ", "backend/open_webui/routers/polls.py"),
    ("  Endpoint (async function): ", "vote"),
    ("  After the statement calling (dotted callee, or `return` for just before the final return): ", "return"),
    ("Call it from another endpoint? [y/N]: ", ""),
    (
        "The value of each payload field in those calls: a Python expression evaluated in the endpoint.\n  poll_id [poll_id]: ",
        "",
    ),
    ("  votes [votes]: ", "poll"),
    ("Listener component (Svelte, PascalCase; empty: none) [PollUpdates]: ", ""),
]


def test_interactive_new_writes_the_same_spec_as_the_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    by_flags = _app(tmp_path / "flags" / "app")
    assert run_cli("-C", str(by_flags), "new", "poll", *POLL_FLAGS).exit == 0
    asked = _app(tmp_path / "asked" / "app")
    term = _terminal(asked)  # from a subfolder: the project is found
    for prompt, line in POLL_ANSWERS:
        term.answer(prompt, line)
    shown = term.expect("Write events/poll.yaml and generate its code? [Y/n]: ")
    assert yaml.safe_load(shown.split("\n", 1)[1]) == POLL_SPEC  # the spec, shown before it is written
    os.write(term.fd, b"\r")
    assert term.finish() == 0, term.seen
    assert "events/poll.yaml: created" in term.seen
    assert (asked / "events/poll.yaml").read_bytes() == (by_flags / "events/poll.yaml").read_bytes()
    assert snapshot(asked) == snapshot(by_flags)
    _assert_generated(asked)


def test_interactive_new_asks_again_after_a_wrong_answer(tmp_path: Path) -> None:
    root = _app(tmp_path / "app")
    term = _terminal(root, "status")
    term.answer("Description: ", "Server status")
    term.answer("Room pattern (empty: no room, broadcast only) [status:{status_id}]: ", "-")
    term.answer("Handle event (client request your function answers): ", "not an event")
    term.expect("is not a valid event name")
    term.answer("Handle event (client request your function answers): ", "")
    term.answer("Emit event (server tells clients) [status:updated]: ", "status:changed")
    term.answer("  field: ", "up:boolean")
    term.expect("unknown type 'boolean'")
    term.answer("  field: ", "up:bool")
    term.answer("  field: ", "")
    term.answer("Emit helper (the async function routers await) [emit_status_changed]: ", "")
    term.answer("Call it from a router endpoint? [y/N]: ", "y")
    term.answer("  Router file: ", "backend/open_webui/routers/feature.py")
    term.expect("file not found (did you mean 'backend/open_webui/routers/features.py'?)")
    term.answer("  Router file: ", "backend/open_webui/routers/features.py")
    term.answer("  Endpoint (async function): ", "update_feature")
    term.answer(
        "  After the statement calling (dotted callee, or `return` for just before the final return): ",
        "Features.update_feature",
    )
    term.answer("Call it from another endpoint? [y/N]: ", "n")
    term.answer("  up [up]: ", "bool(feature)")
    term.answer("Listener component (Svelte, PascalCase; empty: none): ", "")
    term.answer("Write events/status.yaml and generate its code? [Y/n]: ", "y")
    assert term.finish() == 0, term.seen
    spec = yaml.safe_load((root / "events/status.yaml").read_text())
    assert spec == {
        "name": "status",
        "description": "Server status",
        "events": [
            {
                "name": "status:changed",
                "direction": "server_to_client",
                "broadcast": True,
                "payload": {"up": "bool"},
                "emit": {
                    "helper": "emit_status_changed",
                    "from": [
                        {
                            "file": "backend/open_webui/routers/features.py",
                            "function": "update_feature",
                            "after": "Features.update_feature",
                            "args": {"up": "bool(feature)"},
                        }
                    ],
                },
            }
        ],
    }
    assert (
        "await emit_status_changed(up=bool(feature))" in (root / "backend/open_webui/routers/features.py").read_text()
    )


def test_declining_at_the_end_writes_nothing(tmp_path: Path) -> None:
    root = _app(tmp_path / "app")
    before = snapshot(root)
    term = _terminal(root, "status")
    term.answer("Description: ", "")
    term.answer("Room pattern (empty: no room, broadcast only) [status:{status_id}]: ", "-")
    term.answer("Handle event (client request your function answers): ", "")
    term.answer("Emit event (server tells clients) [status:updated]: ", "")
    term.answer("  field: ", "")
    term.answer("Emit helper (the async function routers await) [emit_status_updated]: ", "")
    term.answer("Call it from a router endpoint? [y/N]: ", "")
    term.answer("Listener component (Svelte, PascalCase; empty: none): ", "")
    term.answer("Write events/status.yaml and generate its code? [Y/n]: ", "n")
    assert term.finish() == 0
    assert "eventgen new: nothing written" in term.seen
    assert snapshot(root) == before


def test_without_a_terminal_and_without_flags_nothing_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _app(tmp_path / "app")
    run = run_cli("-C", str(root), "new", "poll")
    assert (run.exit, run.stderr) == (
        2,
        "eventgen new: nothing to write: give at least one of --join, --leave, --relay, --handle or --emit\n",
    )
    run = run_cli("-C", str(root), "new")
    assert run.exit == 2 and "Missing argument 'NAME'" in run.stderr


def test_interactive_new_refuses_a_taken_or_bad_name_before_asking(tmp_path: Path) -> None:
    root = _app(tmp_path / "app")
    write(root, "events/poll.yaml", "# mine\n")
    term = _terminal(root, "poll")
    assert term.finish() == 2
    assert "events/poll.yaml: already exists; `eventgen new` never overwrites a spec" in term.seen
    assert "Description" not in term.seen
    term = _terminal(root)
    term.answer("Spec name (snake_case, one feature): ", "poll")
    term.expect("Error: already exists")
    term.answer("Spec name (snake_case, one feature): ", "Poll")
    term.expect("must be snake_case")
    term.answer("Spec name (snake_case, one feature): ", "vote")
    term.expect("Description: ")
    term.interrupt()  # Ctrl-C: nothing written
    assert term.finish() == 130
    assert (root / "events/poll.yaml").read_text() == "# mine\n" and not (root / "events/vote.yaml").exists()
