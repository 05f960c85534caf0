"""Presence (CONTRACT 9) while Redis is slow: a real redis-server paused with `CLIENT PAUSE ... WRITE` (what a
failover or a saturated Redis looks like to a client), a real uvicorn server, python-socketio tabs.

The app has `timeout_s = 1`: every ack comes within it, an error ack of a join means the socket
is not in the room, and once Redis answers again the members are the truth (no ghost, nobody missing)
within a few beats (presence_ttl_s 2: a beat every 0.5 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = ["support.runtime"]

import redis
from support.presence import EVENT, TTL_S, Tab, build_presence_app, converge
from support.runtime import RedisProcess, ServerProcess, free_port, mint_tokens, run_async

pytestmark = pytest.mark.redis

TIMEOUT_S = 1  # the join's and the leave's timeout_s in this test's spec
PAUSE_MS = 1800
USERS = ("user00", "user01", "user02", "user03")


@pytest.fixture(scope="module")
def fault_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The presence app, generated again with timeout_s = 1 (its joins' and leaves' bound)."""
    from support.cli import eventgen

    app = build_presence_app(tmp_path_factory.mktemp("faults") / "app", users=len(USERS))
    (app / "eventgen.toml").write_text(f"timeout_s = {TIMEOUT_S}\n")
    assert eventgen(app, "generate").exit == 0
    return app


@pytest.fixture(scope="module")
def fault_tokens(fault_app: Path) -> dict[str, str]:
    return mint_tokens(fault_app, USERS)


@pytest.fixture
def server(fault_app: Path, redis_server: RedisProcess, tmp_path: Path) -> Iterator[ServerProcess]:
    redis.Redis.from_url(redis_server.url).flushall()
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    proc = ServerProcess(fault_app, tmp_path / "server.log", env=env).start()
    try:
        yield proc
    finally:
        proc.stop()


async def _timed(tab: Tab, event: str, board: str) -> tuple[dict[str, Any], float]:
    start = time.monotonic()
    ack = await tab.client.call(event, {"board_id": board}, timeout=PAUSE_MS / 1000 + 3)
    return ack, time.monotonic() - start


def _listed(redis_url: str) -> list[str]:
    """Who Redis lists in board b1 (user keys, one per socket)."""
    return sorted(
        v.decode() for v in redis.Redis.from_url(redis_url).hgetall("eventgen:presence:{board:b1}:conns").values()
    )


class RestartableRedis:
    """A redis-server on a fixed port that can go away and come back with its data (an RDB it saves first)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, save: bool = False) -> None:
        if save:
            redis.Redis.from_url(self.url).save()
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


@run_async(timeout=60)
async def test_a_leave_and_a_disconnect_while_redis_is_down_leave_no_ghost(
    fault_app: Path, fault_tokens: dict[str, str], tmp_path: Path
) -> None:
    """Finding 1: a leave and a disconnect whose Redis remove fails (Redis is down; it comes back with its
    data): once Redis answers again, neither user is listed, for anyone, nor in Redis."""
    store = RestartableRedis(tmp_path)
    store.start()
    server = ServerProcess(
        fault_app, tmp_path / "server.log", env={"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": store.url}
    ).start()
    try:
        tabs = [Tab(u, 0) for u in USERS[:3]]
        for tab in tabs:
            await tab.connect(server.url, fault_tokens[tab.user])
            await tab.join("b1")
        leaver, gone, stays = tabs
        store.stop(save=True)
        with contextlib.suppress(Exception):  # no ack (the manager cannot publish), or an error ack
            await asyncio.gather(
                leaver.client.call("lobby:leave", {"board_id": "b1"}, timeout=TIMEOUT_S + 1), gone.close()
            )
        leaver.views.pop("b1")
        store.start()
        assert await converge(tabs, ["b1"], within=TTL_S + 2.0) == []
        assert _listed(store.url) == ["user02"]
        late = Tab(USERS[3], 0)
        await late.connect(server.url, fault_tokens[late.user])
        joined = await late.join("b1")
        assert sorted(m["id"] for m in joined["members"]) == ["user02", "user03"]
        for tab in (leaver, stays, late):
            await tab.close()
    finally:
        server.stop()
        store.stop()


@run_async(timeout=60)
async def test_a_leave_while_redis_is_paused_acks_within_the_timeout(
    server: ServerProcess, redis_server: RedisProcess, fault_tokens: dict[str, str]
) -> None:
    """Finding 3 for a leave: it acks within timeout_s while Redis is paused; once Redis is back, the user
    who left and the one who disconnected meanwhile are not listed."""
    tabs = [Tab(u, 0) for u in USERS[:3]]
    for tab in tabs:
        await tab.connect(server.url, fault_tokens[tab.user])
        await tab.join("b1")
    leaver, gone, stays = tabs
    redis.Redis.from_url(redis_server.url).execute_command("CLIENT", "PAUSE", str(PAUSE_MS), "WRITE")
    paused_at = time.monotonic()
    (ack, took), _ = await asyncio.gather(_timed(leaver, "lobby:leave", "b1"), gone.close())
    assert took < TIMEOUT_S + 0.5, f"the leave acked after {took:.1f} s"
    leaver.views.pop("b1")
    await asyncio.sleep(max(0.0, PAUSE_MS / 1000 - (time.monotonic() - paused_at)))
    assert await converge(tabs, ["b1"], within=TTL_S + 1.0) == []
    assert _listed(redis_server.url) == ["user02"]
    for tab in (leaver, stays):
        await tab.close()


def _refuse_writes(redis_url: str, refuse: bool) -> None:
    """Redis refuses writes (maxmemory 1 byte, noeviction: OOM errors) or takes them again."""
    client = redis.Redis.from_url(redis_url)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", "1" if refuse else "0")


@run_async(timeout=60)
async def test_a_join_while_redis_is_paused_acks_timeout_and_is_not_in_the_room(
    server: ServerProcess, redis_server: RedisProcess, fault_tokens: dict[str, str]
) -> None:
    """Findings 2 and 3: a join whose Redis add fails acks `internal`, a join during a Redis pause acks
    `timeout` within timeout_s; either way the socket is then not in the room (it receives nothing sent
    to it) nor listed, even after Redis is back."""
    first, failed, later = (Tab(u, 0) for u in USERS[:3])
    for tab in (first, failed, later):
        await tab.connect(server.url, fault_tokens[tab.user])
    await first.join("b1")
    heard: list[dict[str, Any]] = []
    failed.client.on(EVENT, heard.append)
    _refuse_writes(redis_server.url, True)
    try:
        ack = await failed.client.call("lobby:join", {"board_id": "b1"}, timeout=TIMEOUT_S + 1)
    finally:
        _refuse_writes(redis_server.url, False)
    assert ack["ok"] is False and ack["error"]["code"] == "internal", ack
    await later.join("b1")  # sent to the room: not to the socket whose join failed
    await asyncio.sleep(0.3)
    assert heard == [], "a socket whose join failed should not be in the room"
    await later.leave("b1")
    redis.Redis.from_url(redis_server.url).execute_command("CLIENT", "PAUSE", str(PAUSE_MS), "WRITE")
    ack, took = await _timed(failed, "lobby:join", "b1")
    assert took < TIMEOUT_S + 0.5, f"the join acked after {took:.1f} s"
    assert ack["ok"] is False and ack["error"]["code"] == "timeout", ack
    await asyncio.sleep(PAUSE_MS / 1000 + 3 * TTL_S / 4)  # Redis back, then a few beats
    joined = await later.join("b1")
    assert sorted(m["id"] for m in joined["members"]) == ["user00", "user02"]
    assert _listed(redis_server.url) == ["user00", "user02"]
    await asyncio.sleep(0.3)
    assert heard == [], "a socket whose join failed should not be in the room"
    assert await converge([first, later], ["b1"], within=1.0) == []
    for tab in (first, failed, later):
        await tab.close()
