"""Issue 5, item 4: scale-out on a real engine. Two uvicorn processes share rooms through Redis.

Both servers run the generated app with WEBSOCKET_MANAGER=redis, so `sio` uses
socketio.AsyncRedisManager on a private redis-server (tests/support/runtime.py). A server
subscribes to the manager's channel only after its first client connects, so the fixture
connects once to each and waits until PUBSUB NUMSUB reports both before any test emits.

"Receives nothing" across servers uses ordering that holds through Redis: one process
publishes on one connection, Redis delivers a channel's messages in order, and a server
handles them one by one. So once a later emit from the same publisher has arrived, an
earlier one that was meant for the socket would have arrived first.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.runtime import (
    RUNTIME_SPECS,
    LogWatch,
    Peers,
    RedisProcess,
    ServerProcess,
    app_env,
    connect,
    put_feature,
    run_async,
)

pytest_plugins = ["support.runtime"]
pytestmark = pytest.mark.redis

LISTEN = ("feature:updated", "board:say", "inbox:notice")


class Pair:
    def __init__(self, a: ServerProcess, b: ServerProcess, redis: RedisProcess) -> None:
        self.a, self.b, self.redis = a, b, redis


@pytest.fixture(scope="module")
def pair(runtime_app: Path, redis_server: RedisProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    logs = tmp_path_factory.mktemp("redis-logs")
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    a = ServerProcess(runtime_app, logs / "a.log", env=env).start()
    b = ServerProcess(runtime_app, logs / "b.log", env=env).start()
    try:

        async def first_connects() -> None:
            for server in (a, b):
                peer = await connect(server.url, None, name="warm-up")
                await peer.close()

        asyncio.run(first_connects())
        redis_server.wait_subscribers(2)
        yield Pair(a, b, redis_server)
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def pair_log(pair: Pair) -> Iterator[LogWatch]:
    watch = LogWatch([pair.a, pair.b])
    yield watch
    watch.check()


@run_async()
async def test_the_router_on_server_b_reaches_members_on_both_servers_and_no_one_else(
    pair: Pair, tokens: dict[str, str], pair_log: LogWatch
) -> None:
    async with Peers(pair.a.url, tokens, LISTEN) as on_a, Peers(pair.b.url, tokens, LISTEN) as on_b:
        alice = await on_a.user("alice", "alice@A")
        bob = await on_b.user("bob", "bob@B")
        carol = await on_a.user("carol", "carol@A")  # on f2's room only
        for member in (alice, bob):
            assert await member.ack("feature:subscribe", {"feature_id": "f1"}) == {"ok": True, "room": "feature:f1"}
        assert (await carol.ack("feature:subscribe", {"feature_id": "f2"}))["ok"] is True

        marker = uuid.uuid4().hex
        response = await put_feature(pair.b.url, tokens["alice"], "f1", {"data": {"marker": marker}})
        assert response.status_code == 200, response.text
        for member in (alice, bob):
            [update] = await member.inbox.wait("feature:updated")
            assert update == {"feature_id": "f1", "data": response.json()}, member.name
        # The owner's user room spans servers too.
        [notice] = await alice.inbox.wait("inbox:notice")
        assert notice == {"user_id": "alice", "feature_id": "f1", "editor": "alice"}

        # Barrier for carol: later emits published by the same server B; the owner notice is the endpoint's last.
        response = await put_feature(pair.b.url, tokens["carol"], "f2", {"data": {"marker": marker}})
        assert response.status_code == 200
        [notice] = await carol.inbox.wait("inbox:notice")
        assert notice == {"user_id": "carol", "feature_id": "f2", "editor": "carol"}
        assert [update["feature_id"] for update in carol.received("feature:updated")] == ["f2"]


@run_async()
async def test_relay_crosses_servers_and_skips_the_sender(
    pair: Pair, tokens: dict[str, str], pair_log: LogWatch
) -> None:
    async with Peers(pair.a.url, tokens, LISTEN) as on_a, Peers(pair.b.url, tokens, LISTEN) as on_b:
        alice = await on_a.user("alice", "alice@A")
        bob = await on_b.user("bob", "bob@B")
        for member in (alice, bob):
            assert (await member.ack("board:join", {"feature_id": "f1"}))["ok"] is True
            assert (await member.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True

        assert await bob.ack("board:say", {"feature_id": "f1", "text": "from B"}) == {"ok": True}
        [message] = await alice.inbox.wait("board:say")
        assert message == {"feature_id": "f1", "text": "from B", "meta": None, "user": {"id": "bob", "name": "Bob"}}

        # Barrier for bob: an emit published by server B after the relay.
        response = await put_feature(pair.b.url, tokens["alice"], "f1", {"data": {"after": "relay"}})
        assert response.status_code == 200
        await bob.inbox.wait("feature:updated")
        assert bob.received("board:say") == []


@run_async()
async def test_leave_on_one_server_stops_delivery_from_the_other(
    pair: Pair, tokens: dict[str, str], pair_log: LogWatch
) -> None:
    async with Peers(pair.a.url, tokens, LISTEN) as on_a, Peers(pair.b.url, tokens, LISTEN) as on_b:
        bob = await on_a.user("bob", "bob@A")
        alice = await on_b.user("alice", "alice@B")
        for member in (bob, alice):
            assert (await member.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True
            assert (await member.ack("board:join", {"feature_id": "f1"}))["ok"] is True
        assert await bob.ack("feature:unsubscribe", {"feature_id": "f1"}) == {"ok": True, "room": "feature:f1"}

        response = await put_feature(pair.b.url, tokens["alice"], "f1", {"data": {"after": "leave"}})
        assert response.status_code == 200
        await alice.inbox.wait("feature:updated")
        # Barrier for bob: a relay published by server B after the update.
        assert (await alice.ack("board:say", {"feature_id": "f1", "text": "barrier"}))["ok"] is True
        await bob.inbox.wait("board:say")
        assert bob.received("feature:updated") == []


def run_worker(app: Path, redis_url: str, *payloads: dict[str, Any]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(RUNTIME_SPECS / "emit_worker.py"), redis_url, *(json.dumps(p) for p in payloads)],
        cwd=app / "backend",
        env=app_env(app),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@run_async()
async def test_a_worker_process_emits_through_a_write_only_manager_with_the_generated_model(
    pair: Pair, tokens: dict[str, str], runtime_app: Path, pair_log: LogWatch
) -> None:
    async with Peers(pair.a.url, tokens, LISTEN) as on_a, Peers(pair.b.url, tokens, LISTEN) as on_b:
        alice = await on_a.user("alice", "alice@A")
        bob = await on_b.user("bob", "bob@B")
        carol = await on_b.user("carol", "carol@B")
        for member in (alice, bob):
            assert (await member.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True
        assert (await carol.ack("feature:subscribe", {"feature_id": "f2"}))["ok"] is True

        marker = uuid.uuid4().hex
        results = await asyncio.to_thread(
            run_worker,
            runtime_app,
            pair.redis.url,
            {"feature_id": "f1", "data": "not a dict"},  # refused by the model: never published
            {"feature_id": "f1", "data": {"job": marker}, "extra": 1},  # refused: unknown key
            {"feature_id": "f1", "data": {"job": marker}},
            {"feature_id": "f2", "data": {"job": marker}},
        )
        assert results == [
            {"refused": ["dict_type"]},
            {"refused": ["extra_forbidden"]},
            {"sent": "feature:f1"},
            {"sent": "feature:f2"},
        ]
        for member in (alice, bob):
            # Only the valid payload arrived, though the refused ones came first in the same job.
            [update] = await member.inbox.wait("feature:updated")
            assert update == {"feature_id": "f1", "data": {"job": marker}}, member.name
        [other] = await carol.inbox.wait("feature:updated")
        assert other == {"feature_id": "f2", "data": {"job": marker}}
        # carol's f2 update was published after the f1 one, on the same connection.
        assert carol.received("feature:updated") == [other]
