"""Issue 18's "done when": an app that is not Open WebUI (its own layout, a session pool named
`connected_users`, a plain Vite + Svelte 4 frontend) gets a handle + relay + emit.from feature
through the README's commands only, run from a subfolder, with no hand-edited configuration;
the result is served through a real python-socketio server."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from support.cli import run_cli
from support.golden import run_probe
from support.tree import write

REPO = Path(__file__).resolve().parent.parent

APP = {
    "server/app/__init__.py": "",
    "server/app/realtime.py": """\
        import socketio

        sio = socketio.AsyncServer(async_mode="asgi", always_connect=True)
        asgi = socketio.ASGIApp(sio)

        connected_users = {}


        @sio.event
        async def connect(sid, environ, auth=None):
            token = (auth or {}).get("token")
            if token:
                connected_users[sid] = {"id": token, "name": token.title()}


        @sio.event
        async def disconnect(sid):
            connected_users.pop(sid, None)
        """,
    "server/app/store.py": """\
        class Polls:
            votes: dict[str, dict[str, int]] = {}

            @classmethod
            def vote(cls, poll_id, option):
                if poll_id == "missing":
                    return None
                counts = cls.votes.setdefault(poll_id, {})
                counts[option] = counts.get(option, 0) + 1
                return counts
        """,
    "server/app/routers/__init__.py": "",
    "server/app/routers/polls.py": """\
        from fastapi import APIRouter, HTTPException

        from app.store import Polls

        router = APIRouter()


        @router.post("/polls/{poll_id}/vote")
        async def vote(poll_id: str, option: str):
            counts = Polls.vote(poll_id, option)
            if counts is None:
                raise HTTPException(status_code=404)
            return counts
        """,
    "web/package.json": json.dumps(
        {
            "private": True,
            "devDependencies": {"svelte": "^4.2.0", "vite": "^5.0.0", "@sveltejs/vite-plugin-svelte": "^3.0.0"},
        }
    ),
    "web/svelte.config.js": "import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'\nexport default { preprocess: vitePreprocess() }\n",
    "web/src/lib/socket.ts": "import { writable } from 'svelte/store';\nimport type { Socket } from 'socket.io-client';\nexport const socket = writable<Socket | null>(null);\n",
    "web/src/App.svelte": "<script>\n\texport let name;\n</script>\n\n<h1 on:click={() => (name = name + '!')}>{name}</h1>\n",
}

HANDLER = """\
async def vote(user: dict, payload, sid: str):
    from app.realtime import notify_poll_updated
    from app.store import Polls

    counts = Polls.vote(payload.poll_id, payload.option)
    await notify_poll_updated(poll_id=payload.poll_id, votes=counts)
    return {"votes": counts}
"""


def test_a_newcomer_adds_a_feature_to_an_app_that_is_not_open_webui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "shop"
    for rel, text in APP.items():
        write(root, rel, textwrap.dedent(text))
    monkeypatch.chdir(root)  # the README: init in the project's root folder
    init = run_cli("init")
    assert init.exit == 0, init.stderr
    assert "found the session pool `connected_users` (server/app/realtime.py:13, in connect)" in init.stdout
    assert "found Svelte 4 syntax in the existing components" not in init.stdout  # package.json tells: ^4.2.0
    config = (root / "eventgen.toml").read_text()
    assert 'session_pool = "connected_users"' in config and 'store_import = "../../socket"' in config

    monkeypatch.chdir(root / "server" / "app")  # from anywhere inside, from now on
    new = run_cli(
        "new",
        "poll",
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
        "--field",
        "poll:typing=typing:bool",
        "--handle",
        "poll:vote",
        "--handler",
        "app.handlers.poll:vote",
        "--field",
        "poll:vote=poll_id:str",
        "--field",
        "poll:vote=option:str",
        "--emit",
        "poll:updated",
        "--field",
        "poll:updated=votes:dict[str, int]",
        "--helper",
        "notify_poll_updated",
        "--emit-from",
        "server/app/routers/polls.py:vote:return",
        "--arg",
        "votes=counts",
        "--listener",
        "PollUpdates",
    )
    assert new.exit == 0, new.stderr + new.stdout
    listener = (root / "web/src/lib/components/realtime/PollUpdates.svelte").read_text()
    assert "$lib" not in listener and 'from "../../socket"' in listener and "export let pollId" in listener
    stub = root / "server/app/handlers/poll.py"
    assert "raise NotImplementedError" in stub.read_text()
    stub.write_text(HANDLER)  # the newcomer implements the handler, as docs/handler-patterns.md shows
    assert run_cli("check").exit == 0

    script = """
        import asyncio, sys, types
        import app.realtime
        package = types.ModuleType("open_webui"); package.__path__ = []
        socket_pkg = types.ModuleType("open_webui.socket"); socket_pkg.main = app.realtime
        sys.modules.update({"open_webui": package, "open_webui.socket": socket_pkg, "open_webui.socket.main": app.realtime})
        from support.golden_runtime_probe import Harness
        from app.routers import polls

        async def scenario(h):
            ann, bob = await h.connect("ann"), await h.connect("bob")
            for sid in (ann, bob):
                assert (await h.call(sid, "poll:join", {"poll_id": "p1"}))["ok"] is True
            assert (await h.call(ann, "poll:typing", {"poll_id": "p1", "typing": True}))["ok"] is True
            assert h.received(bob) == [("poll:typing", {"poll_id": "p1", "typing": True, "user": {"id": "ann", "name": "Ann"}})], h.received(bob)
            ack = await h.call(ann, "poll:vote", {"poll_id": "p1", "option": "yes"})
            assert ack == {"ok": True, "data": {"votes": {"yes": 1}}}, ack
            assert ("poll:updated", {"poll_id": "p1", "votes": {"yes": 1}}) in h.received(bob)
            assert await polls.vote("p1", "no") == {"yes": 1, "no": 1}  # the HTTP endpoint emits too
            assert ("poll:updated", {"poll_id": "p1", "votes": {"yes": 1, "no": 1}}) in h.received(bob)
            try:
                await polls.vote("missing", "yes")
            except Exception as exc:
                assert getattr(exc, "status_code", None) == 404, exc  # before: return: the 404 stays a 404
            assert not [e for e in h.received(bob) if e[0] == "poll:updated"]
            unknown = await h.connect(None)
            assert (await h.call(unknown, "poll:vote", {"poll_id": "p1", "option": "x"}))["error"]["code"] == "unauthenticated"

        asyncio.run(Harness.run(scenario))
        print("journey passed")
    """
    proc = run_probe(root / "server", script)
    assert proc.returncode == 0 and "journey passed" in proc.stdout, proc.stdout + proc.stderr
