"""Sequenced delivery (CONTRACT 8, issue 14) with real processes: redis-server, uvicorn servers of
a generated app, the generated TypeScript runtime in Node and python-socketio clients.

The chaos test runs a scaled size (EVENTGEN_SEQ_EVENTS, default 10000 events); the full size is
benchmarks/bench_sequenced.py --chaos.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = ["support.runtime"]

import redis
from support.runtime import (
    RedisProcess,
    connect,
    mint_tokens,
    run_async,
)
from support.sequenced import (
    Emitter,
    NodeClients,
    build_sequenced_app,
    chaos_run,
    compile_node_client,
    no_handler_failures,
    servers_for,
)

pytestmark = [pytest.mark.redis, pytest.mark.node]

if shutil.which("node") is None:  # pragma: no cover
    pytest.skip("node is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def seq_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sequenced_app(tmp_path_factory.mktemp("sequenced") / "app")


@pytest.fixture(scope="module")
def seq_tokens(seq_app: Path) -> dict[str, str]:
    return mint_tokens(seq_app)


@pytest.fixture(scope="module")
def node_client(seq_app: Path) -> Path:
    return compile_node_client(seq_app)


@pytest.fixture
def seq_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    proc = RedisProcess(tmp_path).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_chaos_two_processes_redis_nothing_lost_duplicated_or_out_of_order(
    seq_app: Path, seq_tokens: dict[str, str], node_client: Path, seq_redis: RedisProcess, tmp_path: Path
) -> None:
    events = int(os.environ.get("EVENTGEN_SEQ_EVENTS", "10000"))
    figures = asyncio.run(
        asyncio.wait_for(
            chaos_run(
                app=seq_app,
                tmp=tmp_path,
                node_client=node_client,
                token=seq_tokens["alice"],
                redis_proc=seq_redis,
                events=events,
                rooms=50,
                clients=40,
                rooms_per_client=4,
                kills=20,
                restart=True,
            ),  # fmt: skip
            180,
        )
    )
    print("chaos figures:", figures)
    assert figures["kills"] == 20 and figures["redis_drops"] == 1 and figures["restarts"] == 1
    assert figures["recoveries"] > 0, "the chaos never made a client recover: it tested nothing"
    assert figures["events"] == events - events % 20


def test_single_process_memory_mode_same_scenario(
    seq_app: Path, seq_tokens: dict[str, str], node_client: Path, tmp_path: Path
) -> None:
    figures = asyncio.run(
        asyncio.wait_for(
            chaos_run(
                app=seq_app,
                tmp=tmp_path,
                node_client=node_client,
                token=seq_tokens["alice"],
                redis_proc=None,
                events=2000,
                rooms=20,
                clients=16,
                rooms_per_client=3,
                kills=15,
                restart=False,
            ),  # fmt: skip
            120,
        )
    )
    print("memory-mode figures:", figures)
    assert figures["lost"] == 0 and figures["kills"] == 15


# ---------------------------------------------------------------- the join protocol, from Python


@run_async(90)
async def _join_protocol(app: Path, tmp: Path, token: str, redis_url: str | None) -> None:
    servers = servers_for(app, tmp, 1, redis_url)
    try:
        url = servers[0].url
        async with Emitter(token) as emitter:
            # Socket.IO's #5538: a client that got no event before it went away still recovers.
            first = await connect(url, token, "note:changed", name="first")
            ack = await first.ack("note:join", {"note_id": "quiet"})
            assert ack["ok"] and ack["position"]["seq"] == 0 and "recovered" not in ack, ack
            since = ack["position"]
            await first.close()
            assert await emitter.bump(url, "note", "quiet", [1, 2, 3, 4, 5])
            again = await connect(url, token, "note:changed", name="again")
            ack = await again.ack("note:join", {"note_id": "quiet", "since": since})
            assert ack["recovered"] is True, ack
            assert [m["data"]["n"] for m in ack["missed"]] == [1, 2, 3, 4, 5]
            assert [m["data"]["seq"] for m in ack["missed"]] == [1, 2, 3, 4, 5]
            assert {m["event"] for m in ack["missed"]} == {"note:changed"}
            assert {m["data"]["epoch"] for m in ack["missed"]} == {since["epoch"]}
            assert ack["position"] == {"epoch": since["epoch"], "seq": 5}
            # Up to date: recovered, nothing missed.
            ack = await again.ack("note:join", {"note_id": "quiet", "since": ack["position"]})
            assert ack["recovered"] is True and ack["missed"] == []
            # Live events carry seq and epoch.
            assert await emitter.bump(url, "note", "quiet", [6])
            live = await again.inbox.wait("note:changed")
            assert live[-1]["seq"] == 6 and live[-1]["epoch"] == since["epoch"] and live[-1]["n"] == 6
            # Another epoch, or a position ahead of the room: recovered false, never a guess.
            ack = await again.ack("note:join", {"note_id": "quiet", "since": {"epoch": "other", "seq": 1}})
            assert ack["recovered"] is False and "missed" not in ack and ack["position"]["seq"] == 6
            ack = await again.ack("note:join", {"note_id": "quiet", "since": {"epoch": since["epoch"], "seq": 99}})
            assert ack["recovered"] is False
            # History trimmed (memo keeps 5): recovered false; within reach: recovered.
            ack = await again.ack("memo:join", {"memo_id": "m"})
            start = ack["position"]
            assert await emitter.bump(url, "memo", "m", list(range(12)))
            ack = await again.ack("memo:join", {"memo_id": "m", "since": start})
            assert ack["recovered"] is False and ack["position"]["seq"] == start["seq"] + 12
            ack = await again.ack("memo:join", {"memo_id": "m", "since": {**start, "seq": start["seq"] + 7}})
            assert ack["recovered"] is True and [m["data"]["n"] for m in ack["missed"]] == [7, 8, 9, 10, 11]
            # A malformed since is invalid_payload, like any bad field.
            ack = await again.ack("note:join", {"note_id": "quiet", "since": {"epoch": "", "seq": -1}})
            assert ack["error"]["code"] == "invalid_payload"
            await again.close()
        no_handler_failures(servers)
    finally:
        for server in servers:
            server.stop()


def test_join_protocol_with_redis(
    seq_app: Path, seq_tokens: dict[str, str], seq_redis: RedisProcess, tmp_path: Path
) -> None:
    _join_protocol(seq_app, tmp_path, seq_tokens["alice"], seq_redis.url)


def test_join_protocol_in_memory(seq_app: Path, seq_tokens: dict[str, str], tmp_path: Path) -> None:
    _join_protocol(seq_app, tmp_path, seq_tokens["alice"], None)


# ---------------------------------------------------------------- onResync, exactly once


async def _until(node: NodeClients, done: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        await node.send(cmd="report")
        subs = (await node.expect("report"))["report"]["subs"]
        if done(subs):
            return subs
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s: {subs}")
        await asyncio.sleep(0.3)


@run_async(120)
async def _resync_once(app: Path, tmp: Path, node_client: Path, token: str, seq_redis: RedisProcess) -> None:
    servers = servers_for(app, tmp, 2, seq_redis.url)
    try:
        urls = [s.url for s in servers]
        notes = [{"kind": "note", "key": f"r{i}"} for i in range(4)]
        memos = [{"kind": "memo", "key": f"m{i}"} for i in range(4)]
        config = {
            "urls": urls,
            "token": token,
            "clients": 8,
            "rooms": notes + memos,
            "roomsPerClient": 1,
            "holdMs": 300,
            "checkMs": 1000,
        }
        async with NodeClients(node_client, config) as node, Emitter(token) as emitter:
            await node.expect("ready", timeout=60)
            seq_redis.wait_subscribers(2)
            for i, room in enumerate(notes):
                assert await emitter.bump(urls[i % 2], "note", room["key"], [0, 1, 2])
            # Clients 4..7 follow the memo rooms (5 kept): away while 12 are emitted, they must reload.
            for client in range(4, 8):
                await node.send(cmd="pause", client=client)
            await asyncio.sleep(0.3)
            for i, room in enumerate(memos):
                assert await emitter.bump(urls[i % 2], "memo", room["key"], list(range(12)))
            for client in range(4, 8):
                await node.send(cmd="resume", client=client)
            await _until(node, lambda subs: all(s["resyncs"] == 1 for s in subs if s["kind"] == "memo"))
            # Redis flushed: every note room loses its counter and history (a new epoch).
            with redis.Redis(host="127.0.0.1", port=seq_redis.port) as r:
                r.flushall()
            for i, room in enumerate(notes):
                assert await emitter.bump(urls[i % 2], "note", room["key"], [3, 4])
            # Every client, note or memo, loses its room's history a(nother) time: one more resync each.
            await _until(node, lambda subs: all(s["resyncs"] == (1 if s["kind"] == "note" else 2) for s in subs))
            # After the reload, live events follow from the new position, in order.
            for i, room in enumerate(notes):
                assert await emitter.bump(urls[i % 2], "note", room["key"], [5])
            for i, room in enumerate(memos):
                assert await emitter.bump(urls[i % 2], "memo", room["key"], [12])
            await _until(node, lambda subs: all(s["ns"][-1:] == ([5] if s["kind"] == "note" else [12]) for s in subs))
            # A few more position checks (every second): a resync is never repeated.
            await asyncio.sleep(2.5)
            await node.send(cmd="report")
            subs = (await node.expect("report"))["report"]["subs"]
            for s in subs:
                assert s["resyncs"] == (1 if s["kind"] == "note" else 2), s
                assert s["status"] == "live", s
                if s["kind"] == "note":
                    # 0-2 live; 3 and 4 (the new epoch) live only if the reload came first (else the reloaded
                    # state has them); then 5.
                    assert (
                        s["ns"][:3] == [0, 1, 2] and s["ns"][3:] in ([5], [4, 5], [3, 4, 5]) and len(s["epochs"]) == 2
                    ), s
                else:
                    assert s["ns"] == [12] and len(s["epochs"]) == 2, s
        no_handler_failures(servers)
    finally:
        for server in servers:
            server.stop()


def test_trimmed_history_or_flushed_redis_calls_on_resync_exactly_once(
    seq_app: Path, seq_tokens: dict[str, str], node_client: Path, seq_redis: RedisProcess, tmp_path: Path
) -> None:
    _resync_once(seq_app, tmp_path, node_client, seq_tokens["alice"], seq_redis)


def test_a_retried_append_is_numbered_once(seq_app: Path, seq_redis: RedisProcess) -> None:
    """A reply lost after the script ran makes the store retry with the same emit id: same number,
    one history entry. Another emit id (or another process) gets the next number."""
    source = (seq_app / "backend/open_webui/socket/eventgen_delivery.py").read_text()
    script = source.split('_APPEND = """', 1)[1].split('"""', 1)[0]
    keys = ["eventgen:seq:{note:retry}:meta", "eventgen:seq:{note:retry}:history"]
    with redis.Redis(host="127.0.0.1", port=seq_redis.port) as r:
        r.delete(*keys)
        run = r.register_script(script)
        first = run(keys=keys, args=['{"n":1}', 100, 60, 600, "ep1", "emit-a", "proc-1"])
        again = run(keys=keys, args=['{"n":1}', 100, 60, 600, "ep1", "emit-a", "proc-1"])
        other = run(keys=keys, args=['{"n":2}', 100, 60, 600, "ep1", "emit-b", "proc-1"])
        elsewhere = run(keys=keys, args=['{"n":3}', 100, 60, 600, "ep1", "emit-a", "proc-2"])
        assert [int(first[0]), int(again[0]), int(other[0]), int(elsewhere[0])] == [1, 1, 2, 3]
        assert r.xlen(keys[1]) == 3


# ---------------------------------------------------------------- a stalled Redis


def test_a_join_whose_history_read_stalls_acks_timeout_and_is_not_in_the_room(
    seq_redis: RedisProcess, seq_tokens: dict[str, str], tmp_path: Path
) -> None:
    """Redis stops answering while a sequenced join reads the room's position: the join acks `timeout`
    within the event's timeout_s (it used to wait for Redis), and, like every error ack of a join, the
    socket is not in the room afterwards."""
    from support.cli import eventgen

    app = build_sequenced_app(tmp_path / "app")
    (app / "eventgen.toml").write_text("timeout_s = 1\n")
    assert eventgen(app, "generate").exit == 0
    servers = servers_for(app, tmp_path, 1, seq_redis.url)
    admin = redis.Redis(port=seq_redis.port, host="127.0.0.1", socket_timeout=2)

    async def scenario() -> None:
        url = servers[0].url
        client = await connect(url, seq_tokens["alice"], "note:changed", name="stalled")
        assert (await client.ack("note:join", {"note_id": "kept"}))["ok"]
        admin.execute_command("CLIENT", "PAUSE", "3000", "ALL")
        started = time.monotonic()
        ack = await client.ack("note:join", {"note_id": "stalled"}, timeout=10)
        assert time.monotonic() - started < 2.5, ack  # the pause lasts 3 s
        assert ack["error"]["code"] == "timeout", ack
        admin.execute_command("CLIENT", "UNPAUSE")
        async with Emitter(seq_tokens["alice"]) as emitter:
            assert await emitter.bump(url, "note", "stalled", [1])
            assert await emitter.bump(url, "note", "kept", [2])
        received = await client.inbox.wait("note:changed")  # kept's event: stalled's went out first, to nobody
        assert [m["n"] for m in received] == [2], received
        await client.close()

    try:
        asyncio.run(scenario())
        no_handler_failures(servers)
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
        for server in servers:
            server.stop()
