"""Drive a golden case's real python-socketio AsyncServer without a network (issue 3).

Imported by the scenarios of tests/test_golden.py, in a fresh interpreter whose
PYTHONPATH is the case's `expected/backend`. Socket.IO packets go in through the
server's own Engine.IO message entry point, so connect, decoding, dispatch to the
`@sio.on` handlers, rooms and acknowledgements all run as they do in production.
Only the last hop is replaced: what the server would write to a socket is
recorded here instead. End-to-end runs over real sockets are issue 5's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from socketio import packet


class Harness:
    def __init__(self) -> None:
        from open_webui.socket import main

        self.main = main
        self.sio = main.sio
        self._out: dict[str, list[str]] = {}  # eio sid -> encoded Socket.IO packets written to it
        self._eio_of: dict[str, str] = {}  # socket.io sid -> eio sid
        self._count = 0
        self._ack_id = 0

        async def send(eio_sid: str, data: str) -> None:
            self._out.setdefault(eio_sid, []).append(data)

        async def send_packet(eio_sid: str, pkt: Any) -> None:
            self._out.setdefault(eio_sid, []).append(pkt.data)

        self.sio.eio.send = send
        self.sio.eio.send_packet = send_packet

    @classmethod
    async def run(cls, scenario: Callable[[Harness], Awaitable[None]]) -> None:
        await scenario(cls())

    async def connect(self, token: str | None) -> str:
        """Open a connection as a client with this token (None: no auth); returns its sid."""
        self._count += 1
        eio_sid = f"eio-{self._count}"
        await self.sio._handle_eio_connect(eio_sid, {"REMOTE_ADDR": "127.0.0.1"})
        auth = "" if token is None else json.dumps({"token": token})
        await self.sio._handle_eio_message(eio_sid, "0" + auth)
        reply = self._take(eio_sid, packet.CONNECT)
        sid = reply.data["sid"]
        self._eio_of[sid] = eio_sid
        return sid

    async def call(self, sid: str, event: str, data: Any, *, timeout: float = 5.0) -> Any:
        """Emit `event` with an ack callback and wait for the acknowledgement."""
        eio_sid = self._eio_of[sid]
        self._ack_id += 1
        args = [event] if data is None else [event, data]
        await self.sio._handle_eio_message(eio_sid, f"2{self._ack_id}" + json.dumps(args))
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for i, raw in enumerate(self._out.get(eio_sid, [])):
                pkt = packet.Packet(encoded_packet=raw)
                if pkt.packet_type == packet.ACK and pkt.id == self._ack_id:
                    del self._out[eio_sid][i]
                    return pkt.data[0] if pkt.data else None
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no acknowledgement for {event!r} within {timeout}s: the client would hang")
            await asyncio.sleep(0.005)

    def received(self, sid: str) -> list[tuple[str, Any]]:
        """Events the server sent to this client since the last look, in order."""
        eio_sid = self._eio_of[sid]
        events, rest = [], []
        for raw in self._out.get(eio_sid, []):
            pkt = packet.Packet(encoded_packet=raw)
            if pkt.packet_type == packet.EVENT:
                events.append((pkt.data[0], pkt.data[1] if len(pkt.data) > 1 else None))
            else:
                rest.append(raw)
        self._out[eio_sid] = rest
        return events

    def _take(self, eio_sid: str, kind: int) -> packet.Packet:
        for i, raw in enumerate(self._out.get(eio_sid, [])):
            pkt = packet.Packet(encoded_packet=raw)
            if pkt.packet_type == kind:
                del self._out[eio_sid][i]
                return pkt
        raise AssertionError(f"the server sent no packet of type {kind} to {eio_sid}: {self._out.get(eio_sid)}")
