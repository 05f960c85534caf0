"""Frames built by hand on the wire (issue 12, item 6): JSON nested deeper than the server's JSON
decoder can go. python-socketio's own client cannot send them (its encoder recurses too), so the
Engine.IO/Socket.IO text frames are written by hand over an aiohttp websocket.

What the README states, shown here: between 64 levels and the decoder's limit the ack is
`invalid_payload`; beyond the limit python-socketio fails to decode the frame before any handler
runs, so no ack comes, python-engineio logs "message async handler error" with the
RecursionError, and the socket stays connected and served.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from support.runtime import SOCKET_PATH, Peers, ServerProcess, error_lines, run_async, tracebacks

pytest_plugins = ["support.runtime"]

RECURSION = "RecursionError: maximum recursion depth exceeded while decoding a JSON array from a unicode string"


def _say(ack_id: int, depth: int) -> str:
    """A Socket.IO EVENT (Engine.IO message 4, Socket.IO event 2) with an ack id, nested `depth` levels."""
    deep = "[" * depth + '"x"' + "]" * depth
    return f'42{ack_id}["board:say",{{"feature_id":"f1","text":"hi","meta":{{"deep":{deep}}}}}]'


class RawSocket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def recv(self, timeout: float = 5.0) -> str:
        while True:
            text = await asyncio.wait_for(self.ws.receive_str(), timeout)
            if text == "2":  # an Engine.IO ping: answer it and keep reading
                await self.ws.send_str("3")
                continue
            return text

    async def call(self, ack_id: int, frame: str) -> list[Any]:
        """Send a frame with this ack id, then a ping; return the acks that arrive up to the ping's."""
        await self.ws.send_str(frame)
        await self.ws.send_str(f'42{ack_id + 1000}["usage:ping"]')
        acks: list[Any] = []
        while True:
            text = await self.recv()
            assert text.startswith("43"), text
            number, _, body = text[2:].partition("[")
            if int(number) == ack_id + 1000:
                assert json.loads("[" + body)[0]["ok"] is True  # the ping: the socket is still served
                return acks
            assert int(number) == ack_id, text
            acks.append(json.loads("[" + body)[0])


@run_async()
async def test_a_frame_deeper_than_the_decoder_never_reaches_a_handler(
    server: ServerProcess, tokens: dict[str, str]
) -> None:
    mark = server.mark()
    url = server.url.replace("http://", "ws://") + f"/{SOCKET_PATH}/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        raw = RawSocket(ws)
        assert (await raw.recv()).startswith("0{")  # Engine.IO open
        await ws.send_str("40" + json.dumps({"token": tokens["alice"]}))  # Socket.IO connect with auth
        assert (await raw.recv()).startswith('40{"sid":')
        await ws.send_str('421["board:join",{"feature_id":"f1"}]')
        assert await raw.recv() == '431[{"ok":true,"room":"board:f1"}]'

        # Hand-built frames decode like the client's: shallow is ok, 65 to 900 levels invalid_payload.
        assert await raw.call(2, _say(2, 3)) == [{"ok": True}]
        for ack_id, depth in ((3, 65), (4, 900)):
            (reply,) = await raw.call(ack_id, _say(ack_id, depth))
            assert (
                reply["error"]["code"] == "invalid_payload"
                and "nested deeper than 64" in reply["error"]["details"][0]["msg"]
            ), reply
        # Past the decoder's limit: no ack at all, the socket still served (the ping after each is acked).
        for ack_id, depth in ((5, 1_000), (6, 100_000)):
            assert await raw.call(ack_id, _say(ack_id, depth)) == []
        # The same socket is still in its room and still relays; other clients are served.
        async with Peers(server.url, tokens, ("board:say",)) as peers:
            bob = await peers.user("bob")
            assert (await bob.ack("board:join", {"feature_id": "f1"}))["ok"] is True
            assert await raw.call(7, '427["board:say",{"feature_id":"f1","text":"after"}]') == [{"ok": True}]
            said = await bob.inbox.wait("board:say")
            assert [m["text"] for m in said] == ["after"]
    log = server.log_since(mark)
    # Each dropped frame is one logged error with its traceback, from python-engineio, not from generated code.
    assert error_lines(log) == ["ERROR engineio.server: message async handler error"] * 2, log
    assert {tb.splitlines()[-1] for tb in tracebacks(log)} == {RECURSION}, log  # (each traceback is a chain of two)
