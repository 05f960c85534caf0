"""The generated presence store's Lua scripts against a real redis-server (CONTRACT 9): random joins, leaves
and reaps of two processes (hypothesis), checked after every step against a plain model of who is in
each room; versions only grow; a process that beat recently is never reaped, a silent one always is."""

from __future__ import annotations

import asyncio
import contextvars
import importlib.util
import inspect
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = ["support.runtime"]

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.presence import build_presence_app
from support.runtime import RedisProcess, free_port

pytestmark = pytest.mark.redis

ROOMS = ["board:a", "board:b"]
USERS = ["u0", "u1", "u2"]
SIDS = ["s0", "s1", "s2", "s3"]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The generated eventgen_presence module, imported from a generated app (it imports nothing of the app)."""
    app = build_presence_app(tmp_path_factory.mktemp("store") / "app", users=0)
    spec = importlib.util.spec_from_file_location(
        "eventgen_presence_under_test", app / "backend/open_webui/socket/eventgen_presence.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


op = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 1), st.sampled_from(ROOMS), st.sampled_from(SIDS), st.sampled_from(USERS)),
    st.tuples(st.just("remove"), st.integers(0, 1), st.sampled_from(ROOMS), st.sampled_from(SIDS), st.just("")),
)


def _listed(members: list[dict[str, Any]]) -> dict[str, int]:
    return {m["id"]: m["connections"] for m in members}


def _truth(model: dict[tuple[int, str, str], str], room: str, gone: int | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for (process, r, _), user in model.items():
        if r == room and process != gone:
            counts[user] = counts.get(user, 0) + 1
    return counts


async def _scenario(runtime: ModuleType, url: str, ops: list[tuple[str, int, str, str, str]]) -> None:
    stores = [runtime.RedisStore(url, {}), runtime.RedisStore(url, {})]
    model: dict[tuple[int, str, str], str] = {}  # (process, room, sid) -> user
    versions: dict[str, int] = {}
    for kind, p, room, sid, user in ops:
        store = stores[p]
        if kind == "add":
            version, changed, members, _ = await store.add(
                room, sid, user, {"id": user, "name": user.upper()}, {"e": "x", "p": {}, "t": 60000}
            )
            fresh = (p, room, sid) not in model
            model.setdefault((p, room, sid), user)
            assert (changed is not None) == fresh
            assert _listed(members) == _truth(model, room)
        else:
            version, member = await store.remove(room, sid)
            user = model.pop((p, room, sid), "")
            assert (member is None) == (user == "")
            if member is not None:
                assert member["connections"] == _truth(model, room).get(user, 0)
        if version:
            assert version >= versions.get(room, 0)
            versions[room] = version
    # Process 1 falls silent: never reaped while its beat is fresh; reaped once it is older than the ttl.
    client = redis.asyncio.Redis.from_url(url)
    await stores[1].beat()
    assert [await stores[0].reap(stores[1].process, room) for room in ROOMS] == [None, None]
    await client.zadd(runtime.KEY_PREFIX + "beats", {stores[1].process: 0})
    for room in ROOMS:
        reaped = await stores[0].reap(stores[1].process, room)
        before, after = _truth(model, room), _truth(model, room, gone=1)
        if any(p == 1 and r == room for (p, r, _) in model):
            assert reaped is not None
            version, meta, changed = reaped
            assert meta == {"e": "x", "p": {}, "t": 60000} and version > versions.get(room, 0)
            assert {m["id"]: m["connections"] for m in changed} == {
                u: after.get(u, 0) for u in before if before[u] != after.get(u, 0)
            }
        else:
            assert reaped is None
        _, _, members, _ = await stores[0].add(
            room, "probe", "probe", {"id": "probe", "name": None}, {"e": "x", "p": {}, "t": 60000}
        )
        assert _listed(members) == {**after, "probe": 1}
    assert await stores[0].rooms_of(stores[1].process) == []
    await client.aclose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, max_size=30))
def test_scripts_follow_the_model(
    runtime: ModuleType, redis_server: RedisProcess, ops: list[tuple[str, int, str, str, str]]
) -> None:
    redis.Redis.from_url(redis_server.url).flushall()
    asyncio.run(_scenario(runtime, redis_server.url, ops))


META = {"e": "x", "p": {}, "t": 60000}


async def _remove(store: Any, room: str, sid: str, last: bool) -> tuple[int, Any]:
    """store.remove; main's took a third argument, True when the process thought it its last socket in the room."""
    if "last" in inspect.signature(store.remove).parameters:
        return await store.remove(room, sid, last)  # type: ignore[no-any-return]  # the store before the fix, to see the test fail
    return await store.remove(room, sid)  # type: ignore[no-any-return]


def test_a_remove_keeps_the_room_while_the_process_has_sockets_in_it(
    runtime: ModuleType, redis_server: RedisProcess
) -> None:
    """Finding 1 (the race, and a clean stop): a remove never forgets the room of a process that still has
    a socket in it (a concurrent add's), so the reaper finds that socket once the process falls silent;
    the beat's sync forgets the room once the process has none there."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()

    async def scenario() -> None:
        mine, reaper = runtime.RedisStore(redis_server.url, {}), runtime.RedisStore(redis_server.url, {})
        await mine.add("board:a", "s1", "u1", {"id": "u1", "name": None}, META)
        await mine.add("board:a", "s2", "u2", {"id": "u2", "name": None}, META)
        await _remove(mine, "board:a", "s1", True)  # the process thought s1 was its last socket here: s2 raced in
        assert await mine.rooms_of(mine.process) == ["board:a"]
        client.zadd(runtime.KEY_PREFIX + "beats", {mine.process: 0})  # silent since long ago
        reaped = await reaper.reap(mine.process, "board:a")
        assert reaped is not None and [m["id"] for m in reaped[2]] == ["u2"]
        assert client.hlen(runtime.KEY_PREFIX + "{board:a}:conns") == 0

    asyncio.run(scenario())


def test_the_sync_makes_redis_list_exactly_the_process_sockets(runtime: ModuleType, redis_server: RedisProcess) -> None:
    """Finding 1: a remove that failed (s1 still in Redis) and a socket Redis lost (s3): the sync removes
    the one, reports the other, and forgets a room the process has left."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()

    async def scenario() -> None:
        store = runtime.RedisStore(redis_server.url, {})
        for sid, user in (("s1", "u1"), ("s2", "u2")):
            await store.add("board:a", sid, user, {"id": user, "name": None}, META)
        version, meta, lacking, changed = await store.sync("board:a", ["s2", "s3"])
        assert version > 0 and meta == META and lacking == ["s3"]
        assert changed == [{"id": "u1", "name": None, "connections": 0}]
        assert (await store.sync("board:a", ["s2"]))[0] == 0  # nothing to change: no version
        assert (await store.sync("board:a", []))[3] == [{"id": "u2", "name": None, "connections": 0}]
        assert await store.rooms_of(store.process) == []

    asyncio.run(scenario())


def test_an_emptied_room_keeps_no_key(runtime: ModuleType, redis_server: RedisProcess) -> None:
    """Finding 5: a room whose last member left (or was reaped) leaves nothing in Redis, not even its
    version counter; a room used again still gets versions above the ones it gave before."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()

    async def scenario() -> None:
        store = runtime.RedisStore(redis_server.url, {})
        before = 0
        for _ in range(3):
            version, _, _, _ = await store.add("board:z", "s1", "u1", {"id": "u1", "name": None}, META)
            assert version > before
            before, _ = await _remove(store, "board:z", "s1", True)
            assert [k for k in client.keys(runtime.KEY_PREFIX + "{*") if b"{board:z}" in k] == []
        if hasattr(store, "sync"):
            await store.sync("board:z", [])  # the beat's: forgets the room the process left
        assert client.keys(runtime.KEY_PREFIX + "process:*") == []

    asyncio.run(scenario())


def test_sentinel_urls_and_unsupported_schemes(runtime: ModuleType, redis_server: RedisProcess, tmp_path: Path) -> None:
    """Finding 4: a redis+sentinel:// URL (what Open WebUI deploys) reaches the master the Sentinel names;
    a scheme socketio.AsyncRedisManager does not know fails when the store is made, not at a join."""
    port = free_port()
    (tmp_path / "sentinel.conf").write_text(
        f"port {port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 {redis_server.port} 1\n"
    )
    sentinel = subprocess.Popen(
        ["redis-server", str(tmp_path / "sentinel.conf"), "--sentinel"], stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=port, socket_timeout=1).sentinel_get_master_addr_by_name("mymaster"):
                    break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the sentinel did not start"
            time.sleep(0.05)

        async def scenario() -> None:
            store = runtime.RedisStore(f"redis+sentinel://127.0.0.1:{port}/0/mymaster", {})
            _, changed, members, _ = await store.add("board:s", "s1", "u1", {"id": "u1", "name": "U"}, META)
            assert changed is not None and [m["id"] for m in members] == ["u1"]

        asyncio.run(scenario())
        assert redis.Redis.from_url(redis_server.url).hlen(runtime.KEY_PREFIX + "{board:s}:conns") == 1
    finally:
        sentinel.kill()
        sentinel.wait()
    with pytest.raises(ValueError, match="unsupported Redis URL scheme"):
        runtime.RedisStore("memcached://127.0.0.1:11211", {})


def test_the_heartbeat_does_not_run_in_the_first_joiners_context(
    runtime: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 6: the heartbeat task starts inside the first join's handler, yet runs in a context of its
    own (not the joiner's OpenTelemetry trace, nor eventgen's caller sid)."""
    seen: list[str | None] = []
    joiner: contextvars.ContextVar[str | None] = contextvars.ContextVar("joiner", default=None)
    monkeypatch.setattr(runtime, "HEARTBEAT_S", 0.01)

    async def beat(self: Any, *args: Any) -> tuple[Any, ...]:
        seen.append(joiner.get())
        return (False, args[0], []) if args else ([], [])  # main's beat took the room count

    monkeypatch.setattr(runtime.MemoryStore, "beat", beat)

    async def emit(*args: Any, **kwargs: Any) -> None:
        return None

    async def disconnect(*args: Any, **kwargs: Any) -> None:
        return None

    manager = SimpleNamespace(
        disconnect=disconnect, is_connected=lambda sid, ns: True, rooms={"/": {"board:a": {"s1": "s1"}}}
    )
    server = SimpleNamespace(manager=manager, emit=emit)

    async def scenario() -> None:
        joiner.set("the joiner's trace")
        presence = runtime.Presence(server)
        await presence.track("s1", "board:a", {"id": "u1"}, "x", {}, 60)
        await asyncio.sleep(0.1)
        assert presence.loop_task is not None
        presence.loop_task.cancel()

    asyncio.run(scenario())
    assert seen[0] == "the joiner's trace"  # the first beat runs in the join itself
    assert len(seen) > 2 and set(seen[1:]) == {None}
