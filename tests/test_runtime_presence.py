"""Presence (CONTRACT 9, issue 15) with real processes: redis-server, uvicorn servers of a generated app,
python-socketio tabs and the generated TypeScript runtime in Node.

Every tab keeps the member list its join ack gave it and applies the presence diffs it receives (the
rules of the generated TypeScript runtime, mirrored in presence_support.View); the tests compare every
live tab's list with the truth: the users with a live tab in the room, once each, with their tab count.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = ["support.runtime"]

import redis
from support.presence import (
    TTL_S,
    NodeTab,
    Tab,
    build_presence_app,
    compile_node_client,
    converge,
    mismatches,
    user_ids,
)
from support.runtime import RedisProcess, ServerProcess, mint_tokens, run_async, tracebacks

BOARDS = ["b1", "b2"]


@pytest.fixture(scope="module")
def presence_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_presence_app(tmp_path_factory.mktemp("presence") / "app")


@pytest.fixture(scope="module")
def presence_tokens(presence_app: Path) -> dict[str, str]:
    return mint_tokens(presence_app, (*user_ids(20), "alice"))


@pytest.fixture(scope="module")
def node_client(presence_app: Path) -> Path:
    return compile_node_client(presence_app)


@pytest.fixture
def two_servers(presence_app: Path, redis_server: RedisProcess, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    redis.Redis.from_url(redis_server.url).flushall()
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    servers = [ServerProcess(presence_app, tmp_path / f"server{i}.log", env=dict(env)).start() for i in range(2)]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _clean(server: ServerProcess) -> None:
    log = server.log()
    assert "eventgen: handler of" not in log and "presence update failed" not in log, log[-4000:]
    assert not tracebacks(log), log[-4000:]


async def _step(tab: Tab, rng: random.Random, url: str, token: str) -> None:
    if not tab.alive:
        return
    roll = rng.random()
    if roll < 0.12:
        await tab.close()
    elif roll < 0.4 and tab.views:
        await tab.leave(rng.choice(sorted(tab.views)))
    else:
        board = rng.choice(BOARDS)
        if board not in tab.views:
            await tab.join(board)


@pytest.mark.redis
@pytest.mark.node
@run_async(timeout=120)
async def test_forty_tabs_over_two_processes_then_one_is_killed(
    two_servers: list[ServerProcess], presence_tokens: dict[str, str], redis_server: RedisProcess, node_client: Path
) -> None:
    """20 users, 40 tabs over both processes joining, leaving and disconnecting at random and at once,
    and a Node tab running the generated runtime: every tab's list equals the truth. Then one process is
    SIGKILLed: within presence_ttl_s + 2 s every surviving tab's list has lost that process's tabs (and
    only those), and two tabs of a user count once."""
    rng = random.Random(15)
    urls = [s.url for s in two_servers]
    tabs = [Tab(user, server=(i + n) % 2) for i, user in enumerate(user_ids(20)) for n in range(2)]
    await asyncio.gather(*(t.connect(urls[t.server], presence_tokens[t.user]) for t in tabs))
    redis_server.wait_subscribers(2)  # a server subscribes to the manager's channel after its first connect
    node = NodeTab(node_client, "alice", urls[0], presence_tokens["alice"], BOARDS)
    await node.start()
    try:
        for _ in range(12):  # rounds of concurrent joins, leaves and disconnects
            batch = rng.sample(tabs, 16)
            await asyncio.gather(*(_step(t, rng, urls[t.server], presence_tokens[t.user]) for t in batch))
            for tab in [t for t in tabs if not t.alive and rng.random() < 0.5]:  # a closed tab comes back as a new one
                tabs[tabs.index(tab)] = fresh = Tab(tab.user, server=rng.randrange(2))
                await fresh.connect(urls[fresh.server], presence_tokens[fresh.user])
        # Both processes have members in both boards, and someone has two tabs in one board.
        for i, tab in enumerate(tabs[:8]):
            if tab.alive and BOARDS[i % 2] not in tab.views:
                await tab.join(BOARDS[i % 2])
        assert await converge(tabs, BOARDS, within=2.0, node=node) == []
        doubles = [u for u in user_ids(20) if sum(1 for t in tabs if t.user == u and t.alive and "b1" in t.views) == 2]
        assert doubles, "the run should leave a user with two tabs in a board"
        for tab in (t for t in tabs if t.alive and "b1" in t.views):
            assert tab.views["b1"].members[doubles[0]]["connections"] == 2  # two tabs, one member

        victim = two_servers[1]
        victim_users = {t.user for t in tabs if t.alive and t.server == 1 and t.views}
        assert victim_users, "the killed process should have members"
        victim.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        victim.proc.wait()  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        for tab in tabs:
            if tab.server == 1:
                tab.alive, tab.views = False, {}
        assert any(t.alive and t.views for t in tabs), "survivors should be in boards"
        assert await converge(tabs, BOARDS, within=TTL_S + 2.0, node=node) == []
        gone_after = loop.time() - killed_at
        print(f"ghosts of the killed process gone after {gone_after:.2f} s (presence_ttl_s {TTL_S})")
        # Nobody comes back: the lists stay equal to the truth.
        await asyncio.sleep(0.5)
        await node.refresh()
        assert mismatches([*tabs, node.tab], BOARDS) == []
    finally:
        await node.stop()
        await asyncio.gather(*(t.close() for t in tabs if t.server == 0))
    _clean(two_servers[0])


@pytest.mark.redis
@run_async(timeout=60)
async def test_a_fresh_process_reaps_a_dead_one_before_its_first_ack(
    presence_app: Path, redis_server: RedisProcess, presence_tokens: dict[str, str], tmp_path: Path
) -> None:
    """The only process with members dies and nobody is left to reap: the first join on a new process,
    later than presence_ttl_s, lists no ghost."""
    redis.Redis.from_url(redis_server.url).flushall()
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    first = ServerProcess(presence_app, tmp_path / "first.log", env=dict(env)).start()
    tab = Tab("user00", server=0)
    await tab.connect(first.url, presence_tokens["user00"])
    await tab.join("b1")
    first.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    first.proc.wait()  # type: ignore[union-attr]
    await asyncio.sleep(TTL_S + 0.2)
    second = ServerProcess(presence_app, tmp_path / "second.log", env=dict(env)).start()
    try:
        other = Tab("user01", server=0)
        await other.connect(second.url, presence_tokens["user01"])
        ack = await other.join("b1")
        assert [m["id"] for m in ack["members"]] == ["user01"]
        await other.close()
    finally:
        second.stop()
    _clean(second)


@run_async(timeout=60)
async def test_memory_mode_in_one_process(presence_app: Path, presence_tokens: dict[str, str], tmp_path: Path) -> None:
    """Without Redis: the ack lists the room, a second tab is one member with two connections, the user
    leaves with the last tab, and a disconnect (no leave event) is a leave."""
    server = ServerProcess(presence_app, tmp_path / "memory.log").start()
    try:
        a1, a2, b = Tab("user00", 0), Tab("user00", 0), Tab("user01", 0)
        for tab in (a1, a2, b):
            await tab.connect(server.url, presence_tokens[tab.user])
        await b.join("b1")
        ack = await a1.join("b1")
        assert sorted(m["id"] for m in ack["members"]) == ["user00", "user01"]
        await a2.join("b1")
        assert await converge([a1, a2, b], ["b1"], within=2.0) == []
        assert b.views["b1"].members["user00"]["connections"] == 2
        await a1.leave("b1")
        assert await converge([a1, a2, b], ["b1"], within=2.0) == []
        assert b.views["b1"].members["user00"]["connections"] == 1
        await a2.close()  # a disconnect, not a leave
        assert await converge([a1, a2, b], ["b1"], within=2.0) == []
        assert "user00" not in b.views["b1"].members
        ack = await a1.join("b2")  # another room of the pattern: its own members
        assert [m["id"] for m in ack["members"]] == ["user00"]
        for tab in (a1, b):
            await tab.close()
    finally:
        server.stop()
    _clean(server)


@pytest.mark.redis
@run_async(timeout=60)
async def test_a_flushed_redis_is_listed_again(
    two_servers: list[ServerProcess], presence_tokens: dict[str, str], redis_server: RedisProcess
) -> None:
    """Redis loses everything (FLUSHALL) while the tabs stay connected: every process lists its sockets again
    at its next beat, with versions above the lost ones, so every list (a new tab's too) is the truth again."""
    urls = [s.url for s in two_servers]
    tabs = [Tab("user00", 0), Tab("user01", 1), Tab("user01", 0)]
    for tab in tabs:
        await tab.connect(urls[tab.server], presence_tokens[tab.user])
        await tab.join("b1")
    assert await converge(tabs, ["b1"], within=2.0) == []
    redis.Redis.from_url(redis_server.url).flushall()
    late = Tab("user02", 1)
    await late.connect(urls[1], presence_tokens["user02"])
    await late.join("b1")
    tabs.append(late)
    assert await converge(tabs, ["b1"], within=TTL_S + 2.0) == []
    assert late.views["b1"].members["user01"]["connections"] == 2
    await asyncio.gather(*(t.close() for t in tabs))
    for server in two_servers:
        _clean(server)
