"""CONTRACT 7 served for real (issue 12): slow sync calls off the event loop, timeouts, per-socket
caps, `leave` without a session, values that are not JSON. uvicorn + python-socketio clients.

Timing assertions compare with a baseline measured in the same test, with margins wide enough
for a loaded 2-core machine; what they tell apart is 0.1 s from the 0.8-3 s a blocked loop costs.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
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
    run_async,
    tracebacks,
)

STRESS = RUNTIME_SPECS / "stress"
SOCKET = "backend/open_webui/socket"


def build_stress_app(dest: Path, config: str = "") -> Path:
    """The example app with the board and stress specs, their modules in place before generate
    (it checks that access callables exist)."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build"))
    for module in ("stress_access.py", "stress_handlers.py"):
        shutil.copy2(STRESS / module, dest / SOCKET / module)
    shutil.copy2(RUNTIME_SPECS / "board_handlers.py", dest / SOCKET / "board_handlers.py")
    for spec in (RUNTIME_SPECS / "board.yaml", STRESS / "stress.yaml"):
        shutil.copy2(spec, dest / "events" / spec.name)
    if config:
        (dest / "eventgen.toml").write_text(config)
    run = eventgen(dest, "generate")
    assert run.exit == 0, run.output
    return dest


@pytest.fixture(scope="module")
def stress_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_stress_app(tmp_path_factory.mktemp("stress") / "app")


@pytest.fixture(scope="module")
def stress_server(stress_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(stress_app, tmp_path_factory.mktemp("logs") / "stress.log").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def stress_tokens(stress_app: Path) -> dict[str, str]:
    return mint_tokens(stress_app)


@pytest.fixture
def quiet_log(stress_server: ServerProcess) -> Iterator[None]:
    """No error and no traceback logged during the test (timeouts are warnings)."""
    mark = stress_server.mark()
    yield
    log = stress_server.log_since(mark)
    assert not tracebacks(log) and not error_lines(log), log


pytestmark = pytest.mark.usefixtures("quiet_log")


def code(reply: dict[str, Any]) -> str | None:
    return None if reply["ok"] else reply["error"]["code"]


async def _pings(peer: Peer, until: asyncio.Future[Any] | None = None, count: int = 0) -> list[float]:
    """Round-trip times of `usage:ping` (an app handler, no thread involved), until `until` is done or `count` pings."""
    times: list[float] = []
    while (until is not None and not until.done()) or len(times) < count:
        start = time.perf_counter()
        await peer.ack("usage:ping")
        times.append(time.perf_counter() - start)
        await asyncio.sleep(0.01)
    return times


# ---------------------------------------------------------------- 7.1 sync calls off the loop


@run_async()
async def test_a_slow_sync_access_check_does_not_delay_another_clients_ack(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice, bob = await peers.user("alice"), await peers.user("bob")
        baseline = await _pings(bob, count=20)
        slow = asyncio.ensure_future(alice.ack("slow:join", {"room_id": "sleep-0.8"}))
        during = await _pings(bob, until=slow)
        assert (await slow) == {"ok": True, "room": "slow:sleep-0.8"}
        # On the loop, the check would hold every ping for up to 0.8 s.
        assert len(during) >= 5, during
        assert statistics.median(during) < statistics.median(baseline) + 0.1, (baseline, during)
        assert max(during) < max(baseline) + 0.4, (baseline, during)


@run_async()
async def test_ten_slow_sync_checks_run_side_by_side(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        clients = [await peers.user("alice", f"alice{i}") for i in range(10)]
        start = time.perf_counter()
        replies = await asyncio.gather(*(c.ack("slow:join", {"room_id": "sleep-0.5"}) for c in clients))
        elapsed = time.perf_counter() - start
        assert all(r["ok"] for r in replies), replies
        assert elapsed < 2.5, f"ten 0.5 s checks took {elapsed:.2f} s: they ran one after the other"


@run_async()
async def test_a_sync_handler_runs_in_a_worker_thread(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        reply = await alice.ack("stress:sync", {"sleep": 0})
        assert reply["ok"] and reply["data"]["thread"].startswith("eventgen"), reply


# ---------------------------------------------------------------- 7.2 timeouts


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("stress:sync", {"sleep": 20}),
        ("stress:async", {"sleep": 20}),
        ("slow:join", {"room_id": "sleep-20"}),
        ("aslow:join", {"room_id": "sleep-20"}),
    ],
)
@run_async()
async def test_a_call_past_its_timeout_is_acked_timeout_in_time(
    stress_server: ServerProcess, stress_tokens: dict[str, str], event: str, payload: dict[str, Any]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        start = time.perf_counter()
        reply = await alice.ack(event, payload, timeout=10)
        elapsed = time.perf_counter() - start
        assert reply == {
            "ok": False,
            "error": {"code": "timeout", "message": "no answer within 1 s", "details": {"timeout_s": 1.0}},
        }
        assert 0.9 < elapsed < 1.5, elapsed  # timeout_s: 1, + 0.5 s
        # The socket keeps being served.
        assert (await alice.ack("stress:async", {"sleep": 0}))["ok"] is True


@pytest.mark.parametrize(("join", "say"), [("slow:join", "slow:say"), ("aslow:join", "aslow:say")])
@run_async()
async def test_a_join_whose_check_timed_out_never_enters_the_room(
    stress_server: ServerProcess, stress_tokens: dict[str, str], join: str, say: str
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        assert code(await alice.ack(join, {"room_id": "sleep-1.5"})) == "timeout"
        await asyncio.sleep(1.0)  # the check would have answered True by now
        # The relay is membership-checked: refused, so the socket is not in the room.
        assert code(await alice.ack(say, {"room_id": "sleep-1.5", "text": "in?"})) == "forbidden"
        # Control: a join that answers in time does enter, and the relay then works.
        assert (await alice.ack(join, {"room_id": "sleep-0.1"}))["ok"] is True
        assert (await alice.ack(say, {"room_id": "sleep-0.1", "text": "in"}))["ok"] is True


# ---------------------------------------------------------------- 7.3 per-socket caps


@run_async()
async def test_the_101st_room_is_limit_exceeded(stress_server: ServerProcess, stress_tokens: dict[str, str]) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        for i in range(100):
            assert (await alice.ack("lobby:join", {"lobby_id": f"l{i}"}))["ok"] is True, i
        assert await alice.ack("lobby:join", {"lobby_id": "l100"}) == {
            "ok": False,
            "error": {
                "code": "limit_exceeded",
                "message": "max_rooms_per_socket is 100",
                "details": {"limit": 100, "name": "max_rooms_per_socket"},
            },
        }
        assert code(await alice.ack("board:join", {"feature_id": "f1"})) == "limit_exceeded"
        assert code(await alice.ack("aslow:join", {"room_id": "x"})) == "limit_exceeded"
        # A room it is in already is not a new one; leaving a room it is not in frees nothing.
        assert (await alice.ack("lobby:join", {"lobby_id": "l7"}))["ok"] is True
        assert (await alice.ack("board:leave", {"feature_id": "nowhere"}))["ok"] is True
        assert code(await alice.ack("lobby:join", {"lobby_id": "l100"})) == "limit_exceeded"
        # Another socket of the same user has its own count.
        other = await peers.user("alice", "alice-2")
        assert (await other.ack("lobby:join", {"lobby_id": "l100"}))["ok"] is True
        # A new socket after a disconnect starts from zero.
        await alice.close()
        again = await peers.user("alice", "alice-3")
        for i in range(100):
            assert (await again.ack("lobby:join", {"lobby_id": f"m{i}"}))["ok"] is True, i


@run_async()
async def test_leaving_makes_space_for_another_room(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        bob = await peers.user("bob")
        for i in range(100):
            assert (await bob.ack("aslow:join", {"room_id": f"r{i}"}))["ok"] is True, i
        assert code(await bob.ack("aslow:join", {"room_id": "r100"})) == "limit_exceeded"
        assert (await bob.ack("aslow:leave", {"room_id": "r3"}))["ok"] is True
        assert (await bob.ack("aslow:join", {"room_id": "r100"}))["ok"] is True
        assert code(await bob.ack("aslow:join", {"room_id": "r101"})) == "limit_exceeded"


@run_async()
async def test_the_33rd_call_in_flight_is_limit_exceeded_and_all_48_are_acked(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        replies = await asyncio.gather(*(alice.ack("stress:async", {"sleep": 0.5}) for _ in range(48)))
        codes = [code(r) for r in replies]
        assert codes.count(None) == 32 and codes.count("limit_exceeded") == 16, codes
        # python-socketio starts one task per event in arrival order: the first 32 run, the rest are refused.
        assert codes[:32] == [None] * 32, codes
        refused = replies[32]
        assert refused["error"]["details"] == {"limit": 32, "name": "max_inflight_per_socket"}
        # Once they are done, the socket's count is back to zero.
        again = await asyncio.gather(*(alice.ack("stress:async", {"sleep": 0.1}) for _ in range(32)))
        assert all(r["ok"] for r in again)


@run_async()
async def test_a_sync_call_keeps_its_slot_until_its_thread_returns(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    """A timed-out sync handler is acked at once, but its thread runs on: it still counts for the socket."""
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        replies = await asyncio.gather(*(alice.ack("stress:sync", {"sleep": 2.0}) for _ in range(32)))
        assert [code(r) for r in replies] == ["timeout"] * 32
        assert code(await alice.ack("stress:async", {"sleep": 0})) == "limit_exceeded"
        await asyncio.sleep(1.8)  # the threads return
        assert (await alice.ack("stress:async", {"sleep": 0}))["ok"] is True


# ---------------------------------------------------------------- 7.4 leave without a session


@run_async()
async def test_a_socket_without_a_session_can_leave(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        stranger = await peers.user(None)
        assert await stranger.ack("board:leave", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
        assert await stranger.ack("aslow:leave", {"room_id": "r1"}) == {"ok": True, "room": "aslow:r1"}
        assert code(await stranger.ack("aslow:join", {"room_id": "r1"})) == "unauthenticated"
        assert code(await stranger.ack("board:leave", {"feature_id": 7})) == "invalid_payload"


# ---------------------------------------------------------------- 7.5 values that are not JSON


@pytest.mark.parametrize(
    ("event", "payload", "message"),
    [
        ("board:say", {"feature_id": "f1", "text": "hi", "meta": {"blob": b"\x00\xff\xfe"}}, "binary data"),
        ("board:say", {"feature_id": "f1", "text": "hi", "meta": {"x": [float("nan")]}}, "NaN and Infinity"),
        ("board:say", {"feature_id": "f1", "text": "hi", "meta": {"x": float("inf")}}, "NaN and Infinity"),
        ("board:say", {"feature_id": "f1", "text": "\ud800"}, "lone surrogate"),
        ("board:say", {"feature_id": "f1", "text": "hi", "meta": {"\udfff": 1}}, "lone surrogate"),
        ("stress:sync", {"sleep": float("nan")}, "NaN and Infinity"),
        ("board:join", {"feature_id": b"f1"}, "binary data"),
    ],
    ids=["bytes", "nan", "inf", "surrogate", "surrogate-key", "nan-float-field", "bytes-room-param"],
)
@run_async()
async def test_values_that_are_not_json_are_invalid_payload(
    stress_server: ServerProcess, stress_tokens: dict[str, str], event: str, payload: dict[str, Any], message: str
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        assert (await alice.ack("board:join", {"feature_id": "f1"}))["ok"] is True
        reply = await alice.ack(event, payload)
        assert code(reply) == "invalid_payload", reply
        assert any(message in d["msg"] for d in reply["error"]["details"]), reply


@run_async()
async def test_nesting_between_64_levels_and_the_decoders_limit_is_invalid_payload(
    stress_server: ServerProcess, stress_tokens: dict[str, str]
) -> None:
    async with Peers(stress_server.url, stress_tokens, ()) as peers:
        alice = await peers.user("alice")
        deep: Any = "bottom"
        for _ in range(200):  # python-socketio's client recurses twice per level while encoding
            deep = [deep]
        reply = await alice.ack("board:say", {"feature_id": "f1", "text": "hi", "meta": {"deep": deep}})
        assert code(reply) == "invalid_payload" and "nested deeper than 64" in reply["error"]["details"][0]["msg"], (
            reply
        )
