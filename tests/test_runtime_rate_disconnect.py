"""CONTRACT 10, rate limits (issue 16): config `rate_limit_disconnect_after` / `_window_s`.

The policies app (tests/runtime_specs/policies/: policy:say, 10 a second per user after a burst of 5)
with `rate_limit_disconnect_after = 3` and `rate_limit_disconnect_window_s = 5`, served by uvicorn
and called by real python-socketio clients. A socket acked `rate_limited` a third time within 5 s
gets that ack, then is disconnected; the count is per socket, so the same user's other socket stays.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import eventgen
from support.runtime import (
    EXAMPLE,
    RUNTIME_SPECS,
    LogWatch,
    Peer,
    Peers,
    RedisProcess,
    ServerProcess,
    mint_tokens,
    run_async,
)

pytest_plugins = ["support.runtime"]

POLICIES = RUNTIME_SPECS / "policies"
AFTER, WINDOW_S, BURST = 3, 5.0, 5


@pytest.fixture(scope="module")
def strict_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    app = tmp_path_factory.mktemp("disconnect") / "app"
    shutil.copytree(
        EXAMPLE,
        app,
        ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build", ".pytest_cache"),
    )
    shutil.copy2(POLICIES / "policies_handlers.py", app / "backend/open_webui/socket/policies_handlers.py")
    shutil.copy2(POLICIES / "policies.yaml", app / "events/policies.yaml")
    (app / "eventgen.toml").write_text(
        f"rate_limit_disconnect_after = {AFTER}\nrate_limit_disconnect_window_s = {WINDOW_S}\n"
    )
    run = eventgen(app, "generate")
    assert run.exit == 0, run.output
    return app, mint_tokens(app)


@pytest.fixture(scope="module")
def strict_server(strict_app: tuple[Path, dict[str, str]]) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    app, tokens = strict_app
    proc = ServerProcess(app, app / "server.log").start()
    try:
        yield proc, tokens
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def strict_redis_server(
    strict_app: tuple[Path, dict[str, str]], redis_server: RedisProcess
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """Behind AsyncRedisManager: the limit is counted in Redis, the refusals per socket in the process."""
    app, tokens = strict_app
    proc = ServerProcess(
        app, app / "redis-server.log", env={"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    ).start()
    try:
        yield proc, tokens
    finally:
        proc.stop()


async def _say_until_refused(peer: Peer, topic: str, refusals: int) -> tuple[int, list[dict[str, Any]]]:
    """Send policy:say back to back until `refusals` refusals came back; the accepted count and the refusals."""
    accepted, refused = 0, []
    while len(refused) < refusals:
        reply = await peer.ack("policy:say", {"topic_id": topic, "text": f"{peer.name}-{accepted + len(refused)}"})
        if reply["ok"]:
            accepted += 1
        else:
            refused.append(reply)
    return accepted, refused


async def _gone(peer: Peer, within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while peer.client.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)  # the client's own state: nothing to await but its change
    return not peer.client.connected


def _assert_rate_limited(refused: list[dict[str, Any]]) -> None:
    for reply in refused:
        assert reply["error"]["code"] == "rate_limited", reply
        retry = reply["error"]["details"]["retry_after_ms"]
        assert isinstance(retry, int) and retry >= 1, reply


@run_async()
async def test_a_socket_refused_n_times_in_the_window_is_disconnected_after_its_last_ack(
    strict_server: tuple[ServerProcess, dict[str, str]],
) -> None:
    await _flood_until_disconnected(*strict_server)


@pytest.mark.redis
@run_async()
async def test_the_same_behind_redis(strict_redis_server: tuple[ServerProcess, dict[str, str]]) -> None:
    await _flood_until_disconnected(*strict_redis_server)


async def _flood_until_disconnected(server: ServerProcess, tokens: dict[str, str]) -> None:
    watch = LogWatch([server])
    topic = uuid.uuid4().hex[:12]
    async with Peers(server.url, tokens, ("policy:say",)) as peers:
        flooder, sibling, bob = (
            await peers.user("alice", "alice-1"),
            await peers.user("alice", "alice-2"),
            await peers.user("bob"),
        )
        for peer in (flooder, sibling, bob):
            assert (await peer.ack("policy:join", {"topic_id": topic}))["ok"]
        accepted, refused = await _say_until_refused(flooder, topic, AFTER)
        assert accepted >= BURST and len(refused) == AFTER  # the third refusal's ack arrived
        _assert_rate_limited(refused)
        assert await _gone(flooder), "the socket refused 3 times within 5 s is still connected"
        # Only that socket: the same user's other socket and everyone else stay, and are served.
        await asyncio.sleep(0.2)
        assert sibling.client.connected and bob.client.connected
        assert (await sibling.ack("policy:calls", {}))["ok"]
        assert (await bob.ack("policy:say", {"topic_id": topic, "text": "still here"}))["ok"]
    assert f"after {AFTER} rate_limited refusals within 5 s" in server.log_since(watch.marks[0])
    watch.check()


@run_async()
async def test_fewer_refusals_than_n_keep_the_socket(strict_server: tuple[ServerProcess, dict[str, str]]) -> None:
    server, tokens = strict_server
    watch = LogWatch([server])
    topic = uuid.uuid4().hex[:12]
    async with Peers(server.url, tokens, ()) as peers:
        carol = await peers.user("carol")
        assert (await carol.ack("policy:join", {"topic_id": topic}))["ok"]
        accepted, refused = await _say_until_refused(carol, topic, AFTER - 1)
        assert accepted >= BURST
        _assert_rate_limited(refused)
        await asyncio.sleep(0.3)
        assert carol.client.connected
        # After the advertised wait the same socket is let through again.
        await asyncio.sleep(refused[-1]["error"]["details"]["retry_after_ms"] / 1000 + 0.05)
        assert (await carol.ack("policy:say", {"topic_id": topic, "text": "after"}))["ok"]
        assert carol.client.connected
    watch.check()
