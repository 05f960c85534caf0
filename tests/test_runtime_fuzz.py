"""Random payloads sent to the served handlers (issue 8's request, owned by issue 5).

Whatever a client sends as the one argument of an event (any JSON value, deep
nesting, huge strings, near-valid objects) the generated handler answers with one
ack dict in time, and the server logs no error and no traceback, except the
`internal` case the runtime spec's handler raises on purpose (mode "explode").
Hypothesis runs derandomized, so every run sends the same examples.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.runtime import (
    ACK_TIMEOUT,
    VALID_PAYLOADS,
    LogWatch,
    LoopThread,
    Peer,
    ServerProcess,
    connect,
)

pytest_plugins = ["support.runtime"]
pytestmark = pytest.mark.usefixtures("clean_log")

FRAME_BUDGET = 900_000  # engine.io drops a socket whose frame exceeds max_http_buffer_size (1,000,000)
MAX_BYTES = 65536  # the config default max_bytes (CONTRACT 10): the runtime spec sets no cap of its own
# python-socketio's client cannot encode about 500 levels; deeper than the generated models'
# MAX_DEPTH (64) the server answers invalid_payload, which the invariant accepts.
MAX_DEPTH = 200

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
huge_strings = st.builds(lambda unit, times: unit * times, st.text(min_size=1, max_size=3), st.integers(1_000, 150_000))


def nest(value: Any, shape: list[bool]) -> Any:
    for as_list in shape:
        value = [value] if as_list else {"n": value}
    return value


deep_values = st.builds(nest, json_values, st.lists(st.booleans(), min_size=50, max_size=MAX_DEPTH - 5))


def valid_or_random(value: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(value), st.just(value), st.just(value), json_values, huge_strings, deep_values)


OPTIONAL_FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "board:say": {"meta": st.one_of(st.none(), json_values, deep_values)},
    "board:compute": {"mode": st.sampled_from(["square", "explode", "cube"])},
}


def near_valid(event: str) -> st.SearchStrategy[dict[str, Any]]:
    """The event's own fields, each valid or random; its optional fields sometimes present."""
    fields = {key: valid_or_random(value) for key, value in VALID_PAYLOADS[event].items()}
    return st.fixed_dictionaries(fields, optional=OPTIONAL_FIELDS.get(event, {}))


def with_stranger(event: str) -> st.SearchStrategy[dict[str, Any]]:
    """A near-valid object plus a key the event does not have."""
    return st.builds(
        lambda known, key, value: {**known, "x_" + key: value}, near_valid(event), st.text(max_size=8), json_values
    )


EVENTS = sorted(VALID_PAYLOADS)
payloads = st.sampled_from(EVENTS).flatmap(
    lambda event: st.tuples(
        st.just(event),
        st.one_of(
            near_valid(event),
            near_valid(event),
            near_valid(event),
            with_stranger(event),
            json_values,
            huge_strings,
            deep_values,
        ),
    )
)


def frame_size(payload: Any) -> int:
    """Roughly the bytes python-socketio puts on the wire (its encoder escapes non-ASCII)."""
    return len(json.dumps(payload, separators=(",", ":")))


def test_any_payload_gets_one_ack_and_no_server_error(
    server: ServerProcess, tokens: dict[str, str], clean_log: LogWatch
) -> None:
    tally: dict[str, int] = {}
    with LoopThread() as loop:
        members = {
            "alice": loop.run(connect(server.url, tokens["alice"], name="alice")),
            "carol": loop.run(connect(server.url, tokens["carol"], name="carol")),
            "anonymous": loop.run(connect(server.url, None, name="anonymous")),
        }
        # Seat alice and carol on the f1 board so relays travel and are delivered.
        for name in ("alice", "carol"):
            assert loop.run(members[name].ack("board:join", {"feature_id": "f1"}))["ok"] is True

        @settings(
            max_examples=400,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        )
        @given(case=payloads, who=st.sampled_from(sorted(members)))
        def one(case: tuple[str, Any], who: str) -> None:
            event, payload = case
            if frame_size(payload) > FRAME_BUDGET:
                return  # the transport's limit, tested in test_runtime_acks
            peer: Peer = members[who]
            # Peer.ack fails the example when no ack comes within ACK_TIMEOUT, and checks its shape.
            reply = loop.run(peer.ack(event, payload), timeout=ACK_TIMEOUT + 5)
            code = None if reply["ok"] else reply["error"]["code"]
            tally[code or "ok"] = tally.get(code or "ok", 0) + 1
            too_large = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_BYTES
            if code == "payload_too_large":
                # CONTRACT 10: measured as compact UTF-8 JSON before validation, for members and strangers alike.
                assert too_large and reply["error"]["details"]["max_bytes"] == MAX_BYTES, (event, reply)
            elif who == "anonymous" and event in ("feature:unsubscribe", "board:leave"):
                assert code in (None, "invalid_payload"), (event, reply)  # a client can always leave (CONTRACT 7.4)
            elif who == "anonymous":
                assert code == "unauthenticated", (event, reply)
            elif code == "internal":
                assert event == "board:compute" and isinstance(payload, dict) and payload.get("mode") == "explode", (
                    f"internal error for {event} with {json.dumps(payload)[:500]}"
                )
                clean_log.expect_explosions(1)
            else:
                assert code in (None, "invalid_payload", "forbidden"), (event, reply)
                assert not too_large or code == "unauthenticated", "an oversized payload passed the byte cap"
            if code == "invalid_payload":
                assert len(json.dumps(reply)) < 20_000, "the ack must not echo the input back"

        try:
            one()
        finally:
            for peer in members.values():
                loop.run(peer.close())
    # The run must have reached past validation, not only bounced off it.
    assert tally.get("ok", 0) >= 15 and tally.get("invalid_payload", 0) >= 50, tally
    assert tally.get("unauthenticated", 0) >= 20, tally


def test_a_payload_too_deep_to_relay_is_refused_as_invalid(
    server: ServerProcess, tokens: dict[str, str], clean_log: LogWatch
) -> None:
    """Generated client payload models refuse JSON nested deeper than MAX_DEPTH (64) before any handler runs."""
    with LoopThread() as loop:
        alice = loop.run(connect(server.url, tokens["alice"], name="alice"))
        try:
            assert loop.run(alice.ack("board:join", {"feature_id": "f1"}))["ok"] is True
            deep = nest(1, [False] * 300)
            reply = loop.run(alice.ack("board:say", {"feature_id": "f1", "text": "deep", "meta": deep}))
        finally:
            loop.run(alice.close())
    assert reply["ok"] is False and reply["error"]["code"] == "invalid_payload", reply
    assert "nested deeper than 64 levels" in reply["error"]["details"][0]["msg"], reply


def test_a_frame_too_deep_to_decode_leaves_the_server_serving(
    server: ServerProcess, tokens: dict[str, str], clean_log: LogWatch
) -> None:
    """5,000 nested arrays: python-socketio's packet decoder (json.loads) hits the recursion limit.

    That happens before any generated code runs, so no ack can answer it; python-socketio logs the
    RecursionError. What the app must guarantee is that the socket and the server keep working.
    """
    clean_log.tolerate("RecursionError: maximum recursion depth exceeded while decoding a JSON array")
    with LoopThread() as loop:
        alice = loop.run(connect(server.url, tokens["alice"], name="alice"))
        try:
            depth = 5_000
            # A raw socket.io EVENT packet ("2", ack id 7) that no Python JSON encoder would produce.
            frame = '27["board:say",{"feature_id":"f1","text":"x","meta":{"m":' + "[" * depth + "]" * depth + "}}]"
            loop.run(alice.client.eio.send(frame))
            assert loop.run(alice.ack("board:compute", {"x": 4})) == {"ok": True, "data": {"square": 16, "by": "alice"}}
        finally:
            loop.run(alice.close())
    assert "RecursionError" in clean_log.servers[0].log_since(clean_log.marks[0])
