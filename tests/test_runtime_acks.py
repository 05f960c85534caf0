"""Issue 5, item 2: the generated handlers and emit helpers, served by uvicorn, driven by real clients.

Each test connects python-socketio clients (websocket transport) to one uvicorn process
serving a generated copy of the example app (tests/support/runtime.py). "Receives nothing"
is proven without sleeping: after the emit, the client makes a round trip through the
server (`Peer.barrier`); one socket's packets arrive in order, so anything emitted to it
earlier would have arrived first.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from support.runtime import (
    ACK_TIMEOUT,
    VALID_PAYLOADS,
    LogWatch,
    Peers,
    ServerProcess,
    put_feature,
    run_async,
)

pytest_plugins = ["support.runtime"]
pytestmark = pytest.mark.usefixtures("clean_log")

LISTEN = ("feature:updated", "board:say", "inbox:notice")
# A client can always leave (CONTRACT 7.4): leave events need no session.
LEAVES = frozenset({"feature:unsubscribe", "board:leave"})


def error_code(reply: dict[str, Any]) -> str | None:
    return None if reply["ok"] else reply["error"]["code"]


# ---------------------------------------------------------------- sessions


@pytest.mark.parametrize(
    "token", [None, "alice.0000", "mallory.not-a-signature", 42], ids=["none", "bad-mac", "garbage", "not-str"]
)
@run_async()
async def test_a_socket_without_a_session_is_unauthenticated_on_every_event(
    server: ServerProcess, tokens: dict[str, str], token: Any
) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        stranger = await peers.add(token, "stranger")
        for event, payload in VALID_PAYLOADS.items():
            reply = await stranger.ack(event, payload)
            assert error_code(reply) == (None if event in LEAVES else "unauthenticated"), (event, reply)
        # The refused subscribe must not have put it in the room.
        response = await put_feature(server.url, tokens["alice"], "f1", {"data": {"probe": "unauthenticated"}})
        assert response.status_code == 200, response.text
        await stranger.barrier()
        assert stranger.received("feature:updated") == []


# ---------------------------------------------------------------- payload validation

OVERSIZED = "x" * 129  # feature_id has max_length 128


@pytest.mark.parametrize(
    ("event", "args", "loc", "kind"),
    [
        ("feature:subscribe", ("f1",), [], "model_type"),
        ("feature:subscribe", (None,), [], "model_type"),
        ("feature:subscribe", (), [], "model_type"),
        ("feature:subscribe", (["f1"],), [], "model_type"),
        ("feature:subscribe", (42,), [], "model_type"),
        ("feature:subscribe", ({"feature_id": OVERSIZED},), ["feature_id"], "string_too_long"),
        ("feature:subscribe", ({"feature_id": ""},), ["feature_id"], "string_too_short"),
        ("feature:subscribe", ({},), ["feature_id"], "missing"),
        ("feature:subscribe", ({"feature_id": 7},), ["feature_id"], "string_type"),
        ("feature:subscribe", ({"feature_id": "f1", "admin": True},), ["admin"], "extra_forbidden"),
        ("feature:unsubscribe", ("f1",), [], "model_type"),
        ("feature:unsubscribe", ({"feature_id": OVERSIZED},), ["feature_id"], "string_too_long"),
        ("board:say", ([],), [], "model_type"),
        ("board:say", ({"feature_id": "f1", "text": "y" * 2001},), ["text"], "string_too_long"),
        ("board:say", ({"feature_id": "f1", "text": "hi", "meta": [1]},), ["meta"], "dict_type"),
        ("board:compute", ({"x": 10**7},), ["x"], "less_than_equal"),
        ("board:compute", ({"x": 2, "mode": "cube"},), ["mode"], "literal_error"),
        ("mailbox:watch", ({"user_id": "a" * 65},), ["user_id"], "string_too_long"),
    ],
    ids=lambda v: json.dumps(v)[:40] if not isinstance(v, str) else v,
)
@run_async()
async def test_malformed_payloads_are_invalid_payload_with_details(
    server: ServerProcess, tokens: dict[str, str], event: str, args: tuple[Any, ...], loc: list[str], kind: str
) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice = await peers.user("alice")
        reply = await alice.ack(event, *args)
        assert error_code(reply) == "invalid_payload", reply
        details = reply["error"]["details"]
        assert {"loc": loc, "type": kind} in [{"loc": d["loc"], "type": d["type"]} for d in details], details
        assert all(isinstance(d["msg"], str) and d["msg"] for d in details), details
        assert all("input" not in d for d in details), "the ack must not echo the input back"
        # The socket is still usable, and a refused join did not join.
        assert (await alice.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True


@run_async()
async def test_a_huge_invalid_payload_is_answered_briefly(server: ServerProcess, tokens: dict[str, str]) -> None:
    """900 kB of feature_id (under engine.io's 1 MB frame limit, over the default max_bytes of 64 KiB):
    refused for its size before validation; 60 kB (under the cap): invalid. Neither is echoed back."""
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice = await peers.user("alice")
        reply = await alice.ack("feature:subscribe", {"feature_id": "z" * 900_000})
        assert error_code(reply) == "payload_too_large"
        assert reply["error"]["details"]["max_bytes"] == 65536
        assert len(json.dumps(reply)) < 1_000
        reply = await alice.ack("feature:subscribe", {"feature_id": "z" * 60_000})
        assert error_code(reply) == "invalid_payload"
        assert reply["error"]["details"][0]["type"] == "string_too_long"
        assert len(json.dumps(reply)) < 1_000


@run_async()
async def test_a_frame_over_the_transport_limit_closes_that_socket_only(
    server: ServerProcess, tokens: dict[str, str]
) -> None:
    """Over engine.io's max_http_buffer_size (1 MB) no handler runs: the server drops the socket, and keeps serving.

    No ack can answer this (the frame is never parsed), so the client learns it from the disconnect.
    """
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice = await peers.user("alice")
        gone = asyncio.Event()
        alice.client.on("disconnect", lambda *reason: gone.set())
        await alice.client.emit("feature:subscribe", {"feature_id": "z" * 1_100_000})
        await asyncio.wait_for(gone.wait(), ACK_TIMEOUT)
        bob = await peers.user("bob")
        assert (await bob.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True


# ---------------------------------------------------------------- access


@run_async()
async def test_access_refused_is_forbidden_and_joins_nothing(server: ServerProcess, tokens: dict[str, str]) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        bob = await peers.user("bob")  # reads f1 only; f2 belongs to carol
        for event, payload in [
            ("feature:subscribe", {"feature_id": "f2"}),
            ("feature:subscribe", {"feature_id": "no-such-feature"}),
            ("board:join", {"feature_id": "f2"}),
            ("mailbox:watch", {"user_id": "carol"}),  # a self room is its own user's only
        ]:
            reply = await bob.ack(event, payload)
            assert error_code(reply) == "forbidden", (event, reply)
        response = await put_feature(server.url, tokens["carol"], "f2", {"data": {"probe": "forbidden"}})
        assert response.status_code == 200, response.text
        await bob.barrier()
        assert bob.received("feature:updated") == []
        assert bob.received("inbox:notice") == [], "carol's owner notice reached bob"


@run_async()
async def test_join_answers_ok_with_the_room(server: ServerProcess, tokens: dict[str, str]) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice, carol = await peers.user("alice"), await peers.user("carol")
        assert await alice.ack("feature:subscribe", {"feature_id": "f1"}) == {"ok": True, "room": "feature:f1"}
        assert await alice.ack("board:join", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
        assert await alice.ack("mailbox:watch", {"user_id": "alice"}) == {"ok": True, "room": "mailbox:alice"}
        assert await alice.ack("lobby:join", {"lobby_id": "l-1"}) == {"ok": True, "room": "lobby:l-1"}
        # An admin passes the access callable for a feature she does not own.
        assert await carol.ack("feature:subscribe", {"feature_id": "f1"}) == {"ok": True, "room": "feature:f1"}


# ---------------------------------------------------------------- the router endpoint


@run_async()
async def test_the_router_endpoint_reaches_every_member_with_the_typed_payload_and_no_one_else(
    server: ServerProcess, tokens: dict[str, str]
) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice, bob = await peers.user("alice"), await peers.user("bob")
        alice_2 = await peers.user("alice", "alice (second tab)")
        carol = await peers.user("carol")  # may read f1, but subscribes to f2 only
        anonymous = await peers.user(None)
        for member in (alice, bob, alice_2):
            assert (await member.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True
        assert (await carol.ack("feature:subscribe", {"feature_id": "f2"}))["ok"] is True

        marker = uuid.uuid4().hex
        response = await put_feature(server.url, tokens["alice"], "f1", {"data": {"marker": marker}})
        assert response.status_code == 200, response.text
        feature = response.json()

        for member in (alice, bob, alice_2):
            [update] = await member.inbox.wait("feature:updated")
            # Exactly the FeatureUpdatedPayload, dumped as JSON: the feature as the endpoint returned it.
            assert update == {"feature_id": "f1", "data": feature}, member.name
            assert update["data"]["data"]["marker"] == marker
        # The owner's user room (joined at connect) gets the inbox notice, on both tabs; bob does not.
        for tab in (alice, alice_2):
            [notice] = await tab.inbox.wait("inbox:notice")
            assert notice == {"user_id": "alice", "feature_id": "f1", "editor": "alice"}
        for other in (bob, carol, anonymous):
            await other.barrier()
        assert carol.received("feature:updated") == [] and anonymous.received("feature:updated") == []
        assert bob.received("inbox:notice") == [] and carol.received("inbox:notice") == []
        await alice.barrier()
        assert len(alice.received("feature:updated")) == 1, "delivered more than once"


@run_async()
async def test_an_endpoint_that_refuses_emits_nothing(server: ServerProcess, tokens: dict[str, str]) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice = await peers.user("alice")
        assert (await alice.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True
        response = await put_feature(server.url, tokens["bob"], "f1", {"data": {"by": "bob"}})  # bob only reads f1
        assert response.status_code == 403
        await alice.barrier()
        assert alice.received("feature:updated") == [] and alice.received("inbox:notice") == []


# ---------------------------------------------------------------- relay


@run_async()
async def test_relay_reaches_the_other_members_with_the_sender_and_skips_the_sender(
    server: ServerProcess, tokens: dict[str, str]
) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice, bob, carol = await peers.user("alice"), await peers.user("bob"), await peers.user("carol")
        outsider = await peers.user("bob", "bob (not on the board)")
        for member in (alice, bob, carol):
            assert (await member.ack("board:join", {"feature_id": "f1"}))["ok"] is True

        said = {"feature_id": "f1", "text": "ship it", "meta": {"thread": [1, {"deep": None}]}}
        assert await alice.ack("board:say", said) == {"ok": True}
        for member in (bob, carol):
            [message] = await member.inbox.wait("board:say")
            assert message == {**said, "user": {"id": "alice", "name": "Alice"}}
        # The relay was emitted before the ack was sent, so the ack is the sender's barrier.
        assert alice.received("board:say") == []
        await outsider.barrier()
        assert outsider.received("board:say") == []

        # Optional fields arrive as null: the model is dumped whole.
        assert (await bob.ack("board:say", {"feature_id": "f1", "text": "no meta"}))["ok"] is True
        [_, message] = await carol.inbox.wait("board:say", 2)
        assert message == {"feature_id": "f1", "text": "no meta", "meta": None, "user": {"id": "bob", "name": "Bob"}}


@run_async()
async def test_a_sender_outside_the_room_is_forbidden_and_nothing_is_relayed(
    server: ServerProcess, tokens: dict[str, str]
) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice, bob = await peers.user("alice"), await peers.user("bob")
        assert (await alice.ack("board:join", {"feature_id": "f1"}))["ok"] is True
        # bob may read f1 but has not joined its board.
        reply = await bob.ack("board:say", {"feature_id": "f1", "text": "let me in"})
        assert error_code(reply) == "forbidden", reply
        await alice.barrier()
        assert alice.received("board:say") == []


# ---------------------------------------------------------------- leave


@run_async()
async def test_leave_stops_delivery(server: ServerProcess, tokens: dict[str, str]) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice, bob = await peers.user("alice"), await peers.user("bob")
        for member in (alice, bob):
            assert (await member.ack("feature:subscribe", {"feature_id": "f1"}))["ok"] is True
            assert (await member.ack("board:join", {"feature_id": "f1"}))["ok"] is True

        response = await put_feature(server.url, tokens["alice"], "f1", {"data": {"round": 1}})
        assert response.status_code == 200
        await bob.inbox.wait("feature:updated", 1)

        assert await bob.ack("feature:unsubscribe", {"feature_id": "f1"}) == {"ok": True, "room": "feature:f1"}
        assert await bob.ack("board:leave", {"feature_id": "f1"}) == {"ok": True, "room": "board:f1"}
        response = await put_feature(server.url, tokens["alice"], "f1", {"data": {"round": 2}})
        assert response.status_code == 200
        assert (await alice.ack("board:say", {"feature_id": "f1", "text": "still there?"}))["ok"] is True
        await alice.inbox.wait("feature:updated", 2)  # the emit happened
        await bob.barrier()
        assert len(bob.received("feature:updated")) == 1
        assert bob.received("board:say") == []
        # Having left, bob may no longer relay to the board.
        reply = await bob.ack("board:say", {"feature_id": "f1", "text": "hello?"})
        assert error_code(reply) == "forbidden"


# ---------------------------------------------------------------- handle


@run_async()
async def test_an_exception_in_a_handle_function_is_internal_and_the_server_keeps_serving(
    server: ServerProcess, tokens: dict[str, str], clean_log: LogWatch
) -> None:
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice = await peers.user("alice")
        assert await alice.ack("board:compute", {"x": 12}) == {"ok": True, "data": {"square": 144, "by": "alice"}}

        reply = await alice.ack("board:compute", {"x": 12, "mode": "explode"})
        assert reply == {"ok": False, "error": {"code": "internal", "message": "internal error"}}
        clean_log.expect_explosions(1)  # logged with its traceback, once, and nothing else

        # The same socket, a new socket and HTTP all still work.
        assert await alice.ack("board:compute", {"x": -5}) == {"ok": True, "data": {"square": 25, "by": "alice"}}
        bob = await peers.user("bob")
        assert await bob.ack("board:compute", {"x": 0}) == {"ok": True, "data": {"square": 0, "by": "bob"}}
        assert (await put_feature(server.url, tokens["alice"], "f1", {"data": {}})).status_code == 200


@run_async()
async def test_a_handle_result_is_made_json_or_answered_internal_never_left_unacked(
    server: ServerProcess, tokens: dict[str, str], clean_log: LogWatch
) -> None:
    clean_log.tolerate("PydanticSerializationError")
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice = await peers.user("alice")
        reply = await alice.ack("board:compute", {"x": 3, "mode": "rich"})
        assert reply == {
            "ok": True,
            "data": {"echo": {"x": 3, "mode": "rich"}, "at": "2026-01-02T03:04:05", "tags": ["x"]},
        }
        reply = await alice.ack("board:compute", {"x": 3, "mode": "opaque"})
        assert reply == {"ok": False, "error": {"code": "internal", "message": "internal error"}}
        assert await alice.ack("board:compute", {"x": 2}) == {"ok": True, "data": {"square": 4, "by": "alice"}}


# ---------------------------------------------------------------- acks under load


@run_async(timeout=90)
async def test_no_ack_times_out_when_many_requests_of_every_kind_are_in_flight(
    server: ServerProcess, tokens: dict[str, str], clean_log: LogWatch
) -> None:
    """400 concurrent requests from 16 sockets (25 each, under max_inflight_per_socket), valid and invalid, every event: each gets its ack in time."""
    malformed: list[Any] = ["f1", None, ["f1"], 3.5, {"feature_id": OVERSIZED}, {}]
    async with Peers(server.url, tokens, LISTEN) as peers:
        crowd = [await peers.user(user, f"{user}-{i}") for i, user in enumerate(["alice", "bob", "carol", None] * 4)]
        jobs: list[tuple[str, Any, bool]] = []
        for i in range(400):
            event = list(VALID_PAYLOADS)[i % len(VALID_PAYLOADS)]
            payload = VALID_PAYLOADS[event] if i % 3 else malformed[i % len(malformed)]
            explode = event == "board:compute" and i % 40 == 5
            if explode:
                payload = {"x": 1, "mode": "explode"}
            jobs.append((event, payload, explode))
        replies = await asyncio.gather(*(crowd[i % len(crowd)].ack(e, p) for i, (e, p, _) in enumerate(jobs)))

    explosions = 0
    for i, ((event, payload, explode), reply) in enumerate(zip(jobs, replies)):
        anonymous = crowd[i % len(crowd)].name.startswith("None")
        if anonymous and event in LEAVES:
            assert error_code(reply) in (None, "invalid_payload"), (event, payload, reply)
        elif anonymous:
            assert error_code(reply) == "unauthenticated", (event, payload, reply)
        elif explode:
            assert error_code(reply) == "internal", reply
            explosions += 1
        else:
            assert error_code(reply) in (None, "invalid_payload", "forbidden"), (event, payload, reply)
    assert explosions > 0
    clean_log.expect_explosions(explosions)


@run_async()
async def test_extra_arguments_get_an_ack(server: ServerProcess, tokens: dict[str, str]) -> None:
    """socket.io lets a client send several arguments; the handler answers instead of raising TypeError."""
    async with Peers(server.url, tokens, LISTEN) as peers:
        alice, anonymous = await peers.user("alice"), await peers.user(None)
        for event, payload in VALID_PAYLOADS.items():
            reply = await alice.ack(event, payload, "unexpected", {"more": 1})
            assert error_code(reply) == "invalid_payload", (event, reply)
            assert [d["type"] for d in reply["error"]["details"]] == ["extra_arguments"], reply
            expected = "invalid_payload" if event in LEAVES else "unauthenticated"
            assert error_code(await anonymous.ack(event, payload, "unexpected")) == expected
        # The refused subscribe joined nothing.
        assert (await put_feature(server.url, tokens["alice"], "f1", {"data": {"probe": "extra"}})).status_code == 200
        await alice.barrier()
        assert alice.received("feature:updated") == []
