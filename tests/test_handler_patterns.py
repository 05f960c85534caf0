"""docs/handler-patterns.md runs as written: its handler emits through the generated helper
(served by a real AsyncServer), and its anchor advice holds for its router endpoint."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from support.cli import run_cli
from support.golden import run_probe
from support.project import make_project
from support.tree import write

REPO = Path(__file__).resolve().parent.parent
PAGE = (REPO / "docs" / "handler-patterns.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", PAGE, re.DOTALL)


def _block(lang: str, first_line: str) -> str:
    return next(text for kind, text in BLOCKS if kind == lang and text.startswith(first_line))


SPEC = _block("yaml", "# events/poll.yaml")
HANDLER = _block("python", "# backend/open_webui/handlers/poll.py")
ROUTER = _block("python", "# backend/open_webui/routers/polls.py")
ANCHOR = _block("yaml", "    emit:\n")
POLLS_MODEL = "class Polls:\n    result = None\n\n    @staticmethod\n    def vote(poll_id, user_id, option):\n        return Polls.result\n"


def _project(tmp_path: Path, spec: str, capsys) -> Path:
    root = make_project(tmp_path / "app", specs={"poll": spec})
    write(root, "backend/open_webui/handlers/poll.py", HANDLER)
    write(root, "backend/open_webui/routers/polls.py", ROUTER)
    write(root, "backend/open_webui/models/polls.py", POLLS_MODEL)
    run = run_cli("-C", str(root), "generate")
    assert run.exit == 0, run.stderr + run.stdout
    return root


def test_emit_from_a_handler_as_the_page_shows(tmp_path: Path, capsys) -> None:
    root = _project(tmp_path, SPEC, capsys)
    assert (root / "backend/open_webui/handlers/poll.py").read_text() == HANDLER  # the handler exists: no stub appended
    proc = run_probe(
        root / "backend",
        """
        import asyncio
        from support.golden_runtime_probe import Harness

        async def scenario(h):
            voter, watcher = await h.connect("t1"), await h.connect("t2")
            for sid in (voter, watcher):
                assert (await h.call(sid, "poll:join", {"poll_id": "p1"}))["ok"] is True
            ack = await h.call(voter, "poll:vote", {"poll_id": "p1", "option": "yes"})
            assert ack == {"ok": True, "data": {"votes": {"yes": 1}}}, ack
            for sid in (voter, watcher):
                assert h.received(sid) == [("poll:updated", {"poll_id": "p1", "votes": {"yes": 1}})], h.received(sid)

        asyncio.run(Harness.run(scenario))
        print("scenario passed")
    """,
    )
    assert proc.returncode == 0 and "scenario passed" in proc.stdout, proc.stdout + proc.stderr


def test_a_handler_module_may_import_its_emit_helper_at_the_top(tmp_path: Path, capsys) -> None:
    """The socket module imports handlers on their first call, so a top-level import of the socket
    module from a handler module is not circular."""
    root = _project(tmp_path, SPEC, capsys)
    handler = root / "backend/open_webui/handlers/poll.py"
    handler.write_text(
        "from open_webui.socket.main import notify_poll_updated\n\n"
        + HANDLER.replace("    from open_webui.socket.main import notify_poll_updated\n", "")
    )
    proc = run_probe(
        root / "backend", "import open_webui.socket.main\nimport open_webui.handlers.poll\nprint('imported')\n"
    )
    assert proc.returncode == 0 and "imported" in proc.stdout, proc.stderr


def _with_anchor(anchor: str) -> str:
    spec = yaml.safe_load(SPEC)
    event = next(e for e in spec["events"] if e["name"] == "poll:updated")
    event["emit"] = yaml.safe_load(anchor)["emit"]
    return yaml.safe_dump(spec, sort_keys=False)


ENDPOINT = """
    import asyncio
    from fastapi import HTTPException
    from open_webui.models.polls import Polls
    from open_webui.routers import polls

    sent = []

    async def record(**kwargs):
        sent.append(kwargs)

    def call():
        try:
            return asyncio.run(polls.vote_by_http("p1", {"option": "yes"}, {"id": "u1"}))
        except HTTPException as exc:
            return f"HTTP {exc.status_code}"
        except Exception as exc:
            return f"500 {type(exc).__name__}"
"""


def test_before_return_emits_only_after_the_check(tmp_path: Path, capsys) -> None:
    root = _project(tmp_path, _with_anchor(ANCHOR), capsys)
    proc = run_probe(
        root / "backend",
        ENDPOINT
        + """
    polls.notify_poll_updated = record
    Polls.result = None
    assert call() == "HTTP 404" and sent == [], sent  # an unknown poll: a 404, and nothing emitted
    Polls.result = {"yes": 3}
    assert call() == {"yes": 3} and sent == [{"poll_id": "p1", "votes": {"yes": 3}}], sent
    print("endpoint passed")
    """,
    )
    assert proc.returncode == 0 and "endpoint passed" in proc.stdout, proc.stdout + proc.stderr


def test_after_the_store_call_turns_the_404_into_a_500_as_the_page_says(tmp_path: Path, capsys) -> None:
    anchor = ANCHOR.replace("before: return          # after the 404 check", "after: Polls.vote")
    assert "after: Polls.vote" in anchor
    root = _project(tmp_path, _with_anchor(anchor), capsys)
    proc = run_probe(
        root / "backend",
        ENDPOINT
        + """
    Polls.result = None
    outcome = call()
    assert outcome == "500 ValidationError", outcome  # the helper refuses votes=None before the 404 check runs
    print("endpoint passed")
    """,
    )
    assert proc.returncode == 0 and "endpoint passed" in proc.stdout, proc.stdout + proc.stderr


def test_the_page_documents_refused_as_the_contract_words_it() -> None:
    assert "eventgen_models.Refused(code, message, details=None)" in PAGE
    assert (
        '{"ok": false, "error": {"code": "not_found", "message": "no such poll",\n"details": {"poll_id": "..."}}}'
        in PAGE
    )
