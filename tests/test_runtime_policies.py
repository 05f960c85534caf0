"""CONTRACT 10, server side (issue 16), served for real: `max_bytes` and `rate_limit`.

The app is the example plus tests/runtime_specs/policies/ (a handle event capped at 1024 bytes,
a relay limited to 10 a second per user after a burst of 5). The rate limit runs twice: one
uvicorn process with the in-memory client manager (the limit in process memory), and two
processes behind a real redis-server with AsyncRedisManager (one GCRA Lua script in that Redis).

A flood is checked against the GCRA bound from both sides with client clocks: the server saw
every accepted call between the first send and the last ack (so accepted <= burst + rate x that
span + 1) and kept receiving calls from the first ack until the last send (accepted >= burst +
rate x that span - 1). Both hold however slow a loaded machine answers.
"""

from __future__ import annotations

import asyncio
import math
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
    connect,
    mint_tokens,
    run_async,
)

pytest_plugins = ["support.runtime"]

POLICIES = RUNTIME_SPECS / "policies"
RATE, PER_S, BURST = 10, 1.0, 5  # policies.yaml: policy:say
INTERVAL_MS = 1000 * PER_S / RATE
CAP = 1024  # policies.yaml: policy:store
FLOOD_S = 2.0


def build_policies_app(dest: Path) -> Path:
    shutil.copytree(
        EXAMPLE,
        dest,
        ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build", ".pytest_cache"),
    )
    shutil.copy2(POLICIES / "policies_handlers.py", dest / "backend/open_webui/socket/policies_handlers.py")
    shutil.copy2(POLICIES / "policies.yaml", dest / "events/policies.yaml")
    run = eventgen(dest, "generate")
    assert run.exit == 0, run.output
    return dest


@pytest.fixture(scope="module")
def policies_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_policies_app(tmp_path_factory.mktemp("policies") / "app")


@pytest.fixture(scope="module")
def policies_tokens(policies_app: Path) -> dict[str, str]:
    return mint_tokens(policies_app)


@pytest.fixture(scope="module")
def memory_server(policies_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(policies_app, tmp_path_factory.mktemp("logs") / "memory.log").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def redis_pair(
    policies_app: Path, redis_server: RedisProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    logs = tmp_path_factory.mktemp("policies-redis-logs")
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    a = ServerProcess(policies_app, logs / "a.log", env=env).start()
    b = ServerProcess(policies_app, logs / "b.log", env=env).start()
    try:

        async def first_connects() -> None:
            for server in (a, b):
                peer = await connect(server.url, None, name="warm-up")
                await peer.close()

        asyncio.run(first_connects())
        redis_server.wait_subscribers(2)
        yield a, b
    finally:
        a.stop()
        b.stop()


def code(reply: dict[str, Any]) -> str | None:
    return None if reply["ok"] else reply["error"]["code"]


# ---------------------------------------------------------------- max_bytes


@run_async()
async def test_a_payload_one_byte_over_the_cap_is_refused_before_the_handler(
    memory_server: ServerProcess, policies_tokens: dict[str, str]
) -> None:
    watch = LogWatch([memory_server])
    async with Peers(memory_server.url, policies_tokens, ()) as peers:
        alice = await peers.user("alice")
        before = (await alice.ack("policy:calls", {}))["data"]["calls"]
        at_cap = "x" * (CAP - len('{"text":""}'))  # the compact JSON encoding is exactly CAP bytes
        assert await alice.ack("policy:store", {"text": at_cap}) == {"ok": True, "data": {"stored": len(at_cap)}}
        over = await alice.ack("policy:store", {"text": at_cap + "x"})
        assert code(over) == "payload_too_large", over
        assert over["error"]["details"] == {"max_bytes": CAP, "bytes": CAP + 1}
        # Text counts in UTF-8 bytes: 338 characters of 3 bytes make 1014 + 11 = 1025.
        euros = await alice.ack("policy:store", {"text": "€" * 338})
        assert code(euros) == "payload_too_large" and euros["error"]["details"]["bytes"] == CAP + 1, euros
        # Before validation: an over-cap payload that is also invalid is refused for its size.
        assert code(await alice.ack("policy:store", {"text": at_cap + "x", "extra_key": 1})) == "payload_too_large"
        after = await alice.ack("policy:calls", {})
        assert after["data"]["calls"] == before + 1 and after["data"]["sizes"][-1] == len(at_cap), after
        assert alice.client.connected
    watch.check()


@run_async()
async def test_the_config_default_cap_applies_to_events_without_max_bytes(
    memory_server: ServerProcess, policies_tokens: dict[str, str]
) -> None:
    """feature:subscribe has no max_bytes: the default 65536 applies, before its max_length check."""
    async with Peers(memory_server.url, policies_tokens, ()) as peers:
        alice = await peers.user("alice")
        over = await alice.ack("feature:subscribe", {"feature_id": "f" * 65536})
        assert code(over) == "payload_too_large" and over["error"]["details"]["max_bytes"] == 65536, over
        under = await alice.ack("feature:subscribe", {"feature_id": "f" * 60000})
        assert code(under) == "invalid_payload", under  # within the cap: validation's max_length speaks


# ---------------------------------------------------------------- rate_limit


async def _flood(
    sender: Peer, topic: str, label: str, until: float
) -> tuple[list[str], list[dict[str, Any]], float, float, float]:
    """Send policy:say back to back until `until`; the accepted texts, the refusals, and the times of
    the first send, the first ack and the last send."""
    accepted: list[str] = []
    refused: list[dict[str, Any]] = []
    first_send = time.monotonic()
    first_ack = last_send = 0.0
    i = 0
    while time.monotonic() < until:
        text = f"{label}-{i}"
        i += 1
        last_send = time.monotonic()
        reply = await sender.ack("policy:say", {"topic_id": topic, "text": text})
        first_ack = first_ack or time.monotonic()
        if reply["ok"]:
            accepted.append(text)
        else:
            refused.append(reply)
    return accepted, refused, first_send, first_ack, last_send


async def _flood_two_sockets(senders: tuple[Peer, Peer], listener: Peer, sentinel: Peer, topic: str) -> None:
    until = time.monotonic() + FLOOD_S
    results = await asyncio.gather(*(_flood(s, topic, s.name, until) for s in senders))
    end = time.monotonic()
    accepted = [text for r in results for text in r[0]]
    refused = [reply for r in results for reply in r[1]]
    outer = end - min(r[2] for r in results)  # every accepted call reached the server within this span
    inner = max(r[4] for r in results) - max(r[3] for r in results)  # the server saw calls through at least this span
    assert refused, "a flood of two sockets must be refused at times"
    assert len(accepted) <= BURST + RATE * outer / PER_S + 1, (len(accepted), outer)
    assert len(accepted) >= BURST + RATE * inner / PER_S - 1, (len(accepted), inner)
    for reply in refused:
        assert code(reply) == "rate_limited", reply
        retry = reply["error"]["details"]["retry_after_ms"]
        # Refused while flooding: the next slot is at most one emission interval away.
        assert isinstance(retry, int) and 1 <= retry <= math.ceil(INTERVAL_MS), reply
    assert all(s.client.connected for s in senders)
    # The sentinel (another user, its own limit) is relayed after every accepted call was: once the
    # listener has it, it has every relay it will ever get.
    assert (await sentinel.ack("policy:say", {"topic_id": topic, "text": "sentinel"}))["ok"]
    received = await listener.inbox.wait("policy:say", len(accepted) + 1)
    assert received[-1]["text"] == "sentinel" or "sentinel" in [m["text"] for m in received]
    await asyncio.sleep(0.2)
    texts = sorted(m["text"] for m in listener.received("policy:say") if m["text"] != "sentinel")
    assert texts == sorted(accepted)
    assert {m["user"]["id"] for m in listener.received("policy:say") if m["text"] != "sentinel"} <= {"alice"}
    # After the advertised wait the limit lets the user through again, on the same socket.
    await asyncio.sleep(max(r["error"]["details"]["retry_after_ms"] for r in refused[-2:]) / 1000 + 0.05)
    assert (await senders[0].ack("policy:say", {"topic_id": topic, "text": "after"}))["ok"]


@run_async(timeout=90)
async def test_rate_limit_in_memory_across_two_sockets_of_one_user(
    memory_server: ServerProcess, policies_tokens: dict[str, str]
) -> None:
    watch = LogWatch([memory_server])
    topic = uuid.uuid4().hex[:12]
    async with Peers(memory_server.url, policies_tokens, ("policy:say",)) as peers:
        one, two = await peers.user("alice", "alice-1"), await peers.user("alice", "alice-2")
        bob, carol = await peers.user("bob"), await peers.user("carol")
        for peer in (one, two, bob, carol):
            assert (await peer.ack("policy:join", {"topic_id": topic}))["ok"]
        await _flood_two_sockets((one, two), bob, carol, topic)
    watch.check()


@pytest.mark.redis
@run_async(timeout=90)
async def test_rate_limit_through_redis_across_two_processes(
    redis_pair: tuple[ServerProcess, ServerProcess], policies_tokens: dict[str, str]
) -> None:
    a, b = redis_pair
    watch = LogWatch([a, b])
    topic = uuid.uuid4().hex[:12]
    async with (
        Peers(a.url, policies_tokens, ("policy:say",)) as on_a,
        Peers(b.url, policies_tokens, ("policy:say",)) as on_b,
    ):
        one, two = await on_a.user("alice", "alice-a"), await on_b.user("alice", "alice-b")
        bob, carol = await on_b.user("bob"), await on_a.user("carol")
        for peer in (one, two, bob, carol):
            assert (await peer.ack("policy:join", {"topic_id": topic}))["ok"]
        await _flood_two_sockets((one, two), bob, carol, topic)
    watch.check()


# ---------------------------------------------------------------- a stalled Redis


@pytest.mark.redis
def test_a_rate_limit_on_a_stalled_redis_acks_timeout_within_timeout_s(
    redis_server: RedisProcess, tmp_path_factory: pytest.TempPathFactory, policies_tokens: dict[str, str]
) -> None:
    """Redis stops answering (CLIENT PAUSE: a failover, a slow disk): the rate-limit check is bounded
    by timeout_s like any other wait, so the call acks `timeout` instead of hanging until Redis is back."""
    import redis

    app = build_policies_app(tmp_path_factory.mktemp("stalled") / "app")
    (app / "eventgen.toml").write_text("timeout_s = 1\n")
    assert eventgen(app, "generate").exit == 0
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    server = ServerProcess(app, tmp_path_factory.mktemp("stalled-logs") / "server.log", env=env).start()

    async def scenario() -> None:
        async with Peers(server.url, policies_tokens, ("policy:say",)) as peers:
            alice = await peers.user("alice")
            topic = uuid.uuid4().hex[:12]
            assert (await alice.ack("policy:join", {"topic_id": topic}))["ok"]
            with redis.Redis(port=redis_server.port, host="127.0.0.1", socket_timeout=2) as admin:
                admin.execute_command("CLIENT", "PAUSE", "4000", "ALL")
            started = time.monotonic()
            reply = await alice.ack("policy:say", {"topic_id": topic, "text": "hello"}, timeout=10)
            elapsed = time.monotonic() - started
            assert code(reply) == "timeout", reply
            assert reply["error"]["details"] == {"timeout_s": 1.0}
            assert elapsed < 3.5, elapsed  # the pause lasts 4 s: the ack did not wait for Redis

    try:
        asyncio.run(scenario())
    finally:
        with redis.Redis(port=redis_server.port, host="127.0.0.1", socket_timeout=2) as admin:
            admin.execute_command("CLIENT", "UNPAUSE")
        server.stop()
