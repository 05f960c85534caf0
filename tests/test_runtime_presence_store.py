"""The generated presence store's Lua scripts against a real redis-server (CONTRACT 9): random joins, leaves
and reaps of two processes (hypothesis), checked after every step against a plain model of who is in
each room; versions only grow; a process that beat recently is never reaped, a silent one always is."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest_plugins = ["runtime_support"]

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from presence_support import build_presence_app
from runtime_support import RedisProcess

pytestmark = pytest.mark.redis

ROOMS = ["board:a", "board:b"]
USERS = ["u0", "u1", "u2"]
SIDS = ["s0", "s1", "s2", "s3"]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The generated eventgen_presence module, imported from a generated app (it imports nothing of the app)."""
    app = build_presence_app(tmp_path_factory.mktemp("store") / "app", users=0)
    spec = importlib.util.spec_from_file_location("eventgen_presence_under_test", app / "backend/open_webui/socket/eventgen_presence.py")
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
            version, changed, members, _ = await store.add(room, sid, user, {"id": user, "name": user.upper()}, {"e": "x", "p": {}, "t": 60000})
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
            assert {m["id"]: m["connections"] for m in changed} == {u: after.get(u, 0) for u in before if before[u] != after.get(u, 0)}
        else:
            assert reaped is None
        _, _, members, _ = await stores[0].add(room, "probe", "probe", {"id": "probe", "name": None}, {"e": "x", "p": {}, "t": 60000})
        assert _listed(members) == {**after, "probe": 1}
    assert await stores[0].rooms_of(stores[1].process) == []
    await client.aclose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, max_size=30))
def test_scripts_follow_the_model(runtime: ModuleType, redis_server: RedisProcess, ops: list[tuple[str, int, str, str, str]]) -> None:
    redis.Redis.from_url(redis_server.url).flushall()
    asyncio.run(_scenario(runtime, redis_server.url, ops))
