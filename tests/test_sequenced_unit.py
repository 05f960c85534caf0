"""The generated sequenced-delivery module (templates/python/eventgen_delivery.py.j2) in memory
mode, without processes: numbering, recovery answers, trimming, TTL, store choice, emit order."""

from __future__ import annotations

import asyncio
import types
from typing import Any

import pytest

from generator.render import render


def delivery_module(redis_url: str = "") -> types.ModuleType:
    module = types.ModuleType("eventgen_delivery_under_test")
    exec(
        compile(
            render("python/eventgen_delivery.py.j2", rooms="note:{note_id}", redis_url=redis_url),
            "eventgen_delivery.py",
            "exec",
        ),
        module.__dict__,
    )
    return module


class Server:
    """What the module uses of an AsyncServer: `manager` and `emit`."""

    def __init__(self, manager: Any = None) -> None:
        self.manager = manager if manager is not None else object()
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    async def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        await asyncio.sleep(0)
        self.sent.append((event, data, room))


class Since:
    def __init__(self, epoch: str, seq: int) -> None:
        self.epoch, self.seq = epoch, seq


def test_numbering_recovery_and_trimming_in_memory() -> None:
    d = delivery_module()
    server = Server()

    async def scenario() -> None:
        first = await d.recover(server, "note:a", None)
        assert first["position"]["seq"] == 0 and set(first) == {"position"}
        epoch = first["position"]["epoch"]
        for n in range(8):
            await d.emit(server, "note:changed", {"n": n}, "note:a", size=5, ttl_s=60)
        assert [m["seq"] for _, m, _ in server.sent] == list(range(1, 9))
        assert {m["epoch"] for _, m, _ in server.sent} == {epoch}
        # within the history: every event after since, in order
        ack = await d.recover(server, "note:a", Since(epoch, 5))
        assert ack["recovered"] is True and [m["data"]["n"] for m in ack["missed"]] == [5, 6, 7]
        assert ack["missed"][0] == {"event": "note:changed", "data": {"n": 5, "seq": 6, "epoch": epoch}}
        # trimmed (5 kept: seqs 4..8), another epoch, ahead of the room: recovered false
        assert (await d.recover(server, "note:a", Since(epoch, 2)))["recovered"] is False
        assert (await d.recover(server, "note:a", Since("other", 7)))["recovered"] is False
        assert (await d.recover(server, "note:a", Since(epoch, 9)))["recovered"] is False
        up_to_date = await d.recover(server, "note:a", Since(epoch, 8))
        assert up_to_date == {"position": {"epoch": epoch, "seq": 8}, "recovered": True, "missed": []}
        # rooms are numbered apart
        await d.emit(server, "note:changed", {"n": 0}, "note:b", size=5, ttl_s=60)
        assert server.sent[-1][1]["seq"] == 1 and server.sent[-1][2] == "note:b"

    asyncio.run(scenario())


def test_history_older_than_ttl_is_not_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    d = delivery_module()
    server = Server()
    now = [1000.0]
    monkeypatch.setattr(d.time, "monotonic", lambda: now[0])

    async def scenario() -> None:
        epoch = (await d.recover(server, "note:a", None))["position"]["epoch"]
        await d.emit(server, "note:changed", {"n": 1}, "note:a", size=10, ttl_s=60)
        now[0] += 61
        await d.emit(server, "note:changed", {"n": 2}, "note:a", size=10, ttl_s=60)
        assert (await d.recover(server, "note:a", Since(epoch, 0)))["recovered"] is False
        assert (await d.recover(server, "note:a", Since(epoch, 1)))["missed"][0]["data"]["n"] == 2

    asyncio.run(scenario())


def test_concurrent_emits_to_one_room_leave_in_seq_order_and_locks_are_dropped() -> None:
    d = delivery_module()
    server = Server()

    async def scenario() -> None:
        await asyncio.gather(
            *(d.emit(server, "note:changed", {"n": n}, "note:a", size=100, ttl_s=60) for n in range(50))
        )
        assert [m["seq"] for _, m, _ in server.sent] == list(range(1, 51))
        assert d._locks == {}

    asyncio.run(scenario())


class Manager:
    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def test_store_follows_the_client_manager() -> None:
    d = delivery_module()
    redis_manager = Manager(redis_url="redis://127.0.0.1:1/0", redis_options={"socket_timeout": 1})
    store = d.store_for(Server(redis_manager))
    assert (
        isinstance(store, d.RedisStore)
        and store.url == "redis://127.0.0.1:1/0"
        and store.options == {"socket_timeout": 1}
    )
    assert isinstance(d.store_for(Server()), d.MemoryStore)
    # A write-only AsyncRedisManager of a background job stands in for the server.
    job = Manager(redis_url="redis://127.0.0.1:2/0", redis_options=None)
    assert d.store_for(job).url == "redis://127.0.0.1:2/0"
    # config redis_url wins over the manager's
    other = delivery_module("redis://elsewhere:6379/1")
    assert other.store_for(Server(redis_manager)).url == "redis://elsewhere:6379/1"
    assert other.store_for(Server()).url == "redis://elsewhere:6379/1"
