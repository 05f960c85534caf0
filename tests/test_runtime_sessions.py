"""CONTRACT 7.6 served for real: a socket module shaped like Open WebUI before 0.4 (eras A-C),
whose session pool maps a sid to the user's id string, not to a user dict. uvicorn +
python-socketio clients.

The module mimics the old `socket/main.py`: `sio` created in an if/else on WEBSOCKET_MANAGER,
`@sio.on("user-join")` storing `SESSION_POOL[sid] = user.id` (connect stores nothing), and
`user:{id}` entered by hand. With `session_value = "id"` (what `init` writes for it) a join with a
callable access check, a relay (whose `user` carries the id), `self` access and a handler all
work. With the config left at `dict`, the same calls still work and one warning is logged; the
bundled example (dict sessions) configured `id` still works too.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import eventgen
from support.runtime import (
    EXAMPLE,
    RUNTIME_SPECS,
    Peer,
    Peers,
    ServerProcess,
    error_lines,
    mint_tokens,
    put_feature,
    run_async,
    tracebacks,
)

SOCKET = "backend/open_webui/socket"
WARNING = 'WARNING open_webui.socket.event_models: eventgen: the session pool holds user ids, not dicts: set session_value = "id" in eventgen.toml'

ERA_A_SOCKET = """\
import logging

import socketio

from open_webui.env import CORS_ALLOW_ORIGINS, WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL
from open_webui.models.users import Users
from open_webui.utils.auth import decode_token

log = logging.getLogger(__name__)

if WEBSOCKET_MANAGER == "redis":
    mgr = socketio.AsyncRedisManager(WEBSOCKET_REDIS_URL)
    sio = socketio.AsyncServer(
        cors_allowed_origins=CORS_ALLOW_ORIGINS,
        async_mode="asgi",
        transports=["websocket", "polling"],
        allow_upgrades=True,
        always_connect=True,
        client_manager=mgr,
    )
else:
    sio = socketio.AsyncServer(
        cors_allowed_origins=CORS_ALLOW_ORIGINS,
        async_mode="asgi",
        transports=["websocket", "polling"],
        allow_upgrades=True,
        always_connect=True,
    )

app = socketio.ASGIApp(sio, socketio_path="/ws/socket.io")

# Open WebUI before 0.4: sid -> the user's id; user id -> that user's sids.
SESSION_POOL = {}
USER_POOL = {}


@sio.event
async def connect(sid, environ, auth):
    log.info("connect %s", sid)


@sio.on("user-join")
async def user_join(sid, data):
    auth = data["auth"] if "auth" in data else None
    if not auth or "token" not in auth:
        return
    data = decode_token(auth["token"])
    if data is None or "id" not in data:
        return
    user = Users.get_user_by_id(data["id"])
    if user:
        SESSION_POOL[sid] = user.id
        if user.id in USER_POOL:
            USER_POOL[user.id].append(sid)
        else:
            USER_POOL[user.id] = [sid]
        await sio.enter_room(sid, f"user:{user.id}")
        return {"id": user.id}


@sio.on("usage:ping")
async def usage_ping(sid, data=None):
    return {"ok": True, "user_id": SESSION_POOL.get(sid)}


@sio.event
async def disconnect(sid):
    user_id = SESSION_POOL.pop(sid, None)
    if user_id in USER_POOL:
        USER_POOL[user_id] = [s for s in USER_POOL[user_id] if s != sid]
"""


def _build(dest: Path, socket_module: str | None, config: str = "", init: bool = False) -> Path:
    """The example app with the board spec; its socket module replaced when one is given; the
    config written, or made by `eventgen init` (which must then choose session_value = "id")."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build"))
    if socket_module is not None:
        (dest / SOCKET / "main.py").write_text(socket_module)
    if init:
        run = eventgen(dest, "init")
        assert run.exit == 0, run.output
        assert 'session_value = "id"' in (dest / "eventgen.toml").read_text().splitlines()
    elif config:
        (dest / "eventgen.toml").write_text(config)
    shutil.copy2(RUNTIME_SPECS / "board.yaml", dest / "events" / "board.yaml")
    shutil.copy2(RUNTIME_SPECS / "board_handlers.py", dest / SOCKET / "board_handlers.py")
    run = eventgen(dest, "generate")
    assert run.exit == 0, run.output
    return dest


@contextlib.contextmanager
def _served(app: Path, logs: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(app, logs).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def id_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The era A module with the config `init` writes for it."""
    app = _build(tmp_path_factory.mktemp("ids") / "app", ERA_A_SOCKET, init=True)
    assert re.search(r'^SESSION_VALUE = "id"', (app / SOCKET / "event_models.py").read_text(), re.MULTILINE)
    return app


@pytest.fixture(scope="module")
def id_server(id_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with _served(id_app, tmp_path_factory.mktemp("logs") / "ids.log") as proc:
        yield proc


@pytest.fixture(scope="module")
def tokens(id_app: Path) -> dict[str, str]:
    return mint_tokens(id_app)


@pytest.fixture
def quiet_log(id_server: ServerProcess) -> Iterator[None]:
    mark = id_server.mark()
    yield
    log = id_server.log_since(mark)
    assert not tracebacks(log) and not error_lines(log) and "WARNING" not in log, log


async def _joined(peers: Peers, user: str, *listen: str) -> Peer:
    """An era A client: connect, then `user-join` with the token (connect stores no session)."""
    peer = await peers.user(user)
    for event in listen:
        peer.inbox.attach(peer.client, event)
    reply = await peer.client.call("user-join", {"auth": {"token": peers.tokens[user]}}, timeout=5)
    assert reply == {"id": user}
    assert await peer.client.call("usage:ping", timeout=5) == {
        "ok": True,
        "user_id": user,
    }  # the pool holds the id string
    return peer


def code(reply: dict[str, Any]) -> str | None:
    return None if reply["ok"] else reply["error"]["code"]


async def _exercise(url: str, tokens: dict[str, str]) -> None:
    """Join with a callable check, relay, `self` access, a handler, and the hand-entered user room."""
    async with Peers(url, tokens, ()) as peers:
        alice = await _joined(peers, "alice", "board:say", "inbox:notice")
        bob = await _joined(peers, "bob", "board:say")
        carol = await _joined(peers, "carol", "board:say")
        # can_read_feature (sync, in a worker thread) reads user["id"]: f1's readers are alice and bob.
        assert await alice.ack("board:join", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
        assert await bob.ack("board:join", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
        assert code(await bob.ack("board:join", {"feature_id": "f2"})) == "forbidden"
        assert code(await carol.ack("board:join", {"feature_id": "f1"})) == "forbidden"
        # Relay: the user carries the id (no name: the pool has none).
        assert await bob.ack("board:say", {"feature_id": "f1", "text": "hi"}) == {"ok": True}
        said = await alice.inbox.wait("board:say")
        assert said == [{"feature_id": "f1", "text": "hi", "meta": None, "user": {"id": "bob", "name": None}}]
        # self access compares the id.
        assert await alice.ack("mailbox:watch", {"user_id": "alice"}) == {"ok": True, "room": "mailbox:alice"}
        assert code(await alice.ack("mailbox:watch", {"user_id": "bob"})) == "forbidden"
        # A handler gets the user dict too (compute answers with user["id"]).
        assert await carol.ack("board:compute", {"x": 7}) == {"ok": True, "data": {"square": 49, "by": "carol"}}
        # The app's own room user:{id}, entered by hand in user-join, gets the generated helper's emit.
        assert (await put_feature(url, tokens["alice"], "f1", {"name": "renamed"})).status_code == 200
        notice = await alice.inbox.wait("inbox:notice")
        assert notice == [{"user_id": "alice", "feature_id": "f1", "editor": "alice"}]
        # A socket that never sent user-join has no session.
        anonymous = await peers.user("alice", "no-user-join")
        assert code(await anonymous.ack("board:join", {"feature_id": "f1"})) == "unauthenticated"
        assert await bob.ack("board:leave", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}


@pytest.mark.usefixtures("quiet_log")
@run_async()
async def test_id_sessions_join_relay_self_and_handle(id_server: ServerProcess, tokens: dict[str, str]) -> None:
    await _exercise(id_server.url, tokens)


@pytest.mark.usefixtures("quiet_log")
@run_async()
async def test_a_relay_to_a_room_not_joined_is_refused_with_id_sessions(
    id_server: ServerProcess, tokens: dict[str, str]
) -> None:
    async with Peers(id_server.url, tokens, ()) as peers:
        carol = await _joined(peers, "carol")
        assert code(await carol.ack("board:say", {"feature_id": "f1", "text": "hi"})) == "forbidden"


def test_the_wrong_session_value_is_still_safe_and_warns_once(tmp_path: Path) -> None:
    """The era A module with the default config (dict): every call works as above; one warning in all."""
    app = _build(tmp_path / "app", ERA_A_SOCKET, "")
    tokens = mint_tokens(app)
    with _served(app, tmp_path / "server.log") as server:
        run_async()(_exercise)(server.url, tokens)
        run_async()(_exercise)(server.url, tokens)  # a second round: still no second warning
        log = server.log()
    assert not tracebacks(log) and not error_lines(log), log
    assert [line for line in log.splitlines() if line.startswith("WARNING")] == [WARNING], log


def test_dict_sessions_configured_as_ids_still_work(tmp_path: Path) -> None:
    """The bundled example (user.model_dump() per sid) with session_value = "id": the dict is used as it is."""
    app = _build(tmp_path / "app", None, 'session_value = "id"\n')
    assert re.search(r'^SESSION_VALUE = "id"', (app / SOCKET / "event_models.py").read_text(), re.MULTILINE)
    tokens = mint_tokens(app)

    async def exercise(url: str) -> None:
        async with Peers(url, tokens, ("board:say",)) as peers:
            alice, bob, carol = await peers.user("alice"), await peers.user("bob"), await peers.user("carol")
            assert await alice.ack("board:join", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
            assert await bob.ack("board:join", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
            # carol reads f1 only through her admin role, which only the dict carries.
            assert await carol.ack("board:join", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
            assert await bob.ack("board:say", {"feature_id": "f1", "text": "hi"}) == {"ok": True}
            said = await alice.inbox.wait("board:say")
            assert said[0]["user"] == {"id": "bob", "name": "Bob"}
            assert await alice.ack("mailbox:watch", {"user_id": "alice"}) == {"ok": True, "room": "mailbox:alice"}

    with _served(app, tmp_path / "server.log") as server:
        run_async()(exercise)(server.url)
        log = server.log()
    assert not tracebacks(log) and not error_lines(log) and "WARNING" not in log, log
