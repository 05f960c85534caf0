"""Test-only ASGI entry point: open_webui.main:app with a share of some events' acknowledgements lost.

Copied into the app under test as open_webui/drop_acks.py and served as `open_webui.drop_acks:app`
(never part of generated code). The handler runs to the end; then, for a fraction
EVENTGEN_TEST_DROP_RATE of the calls to the events in EVENTGEN_TEST_DROP_EVENTS (comma-separated),
it answers python-socketio's `not_handled`, so no ACK packet leaves the server: the client sees a
lost acknowledgement. Each drop is logged as `DROPPED ACK <event>`.
"""

import logging
import os
import random
from typing import Any

from open_webui.main import app
from open_webui.socket.main import sio

__all__ = ["app"]

log = logging.getLogger("drop_acks")
RATE = float(os.environ.get("EVENTGEN_TEST_DROP_RATE", "0"))
EVENTS = [e for e in os.environ.get("EVENTGEN_TEST_DROP_EVENTS", "").split(",") if e]
_rng = random.Random(int(os.environ.get("EVENTGEN_TEST_DROP_SEED", "17")))


def _dropping(event: str, handler: Any) -> Any:
    async def dropping(sid: str, *args: Any) -> Any:
        ack = await handler(sid, *args)
        if _rng.random() < RATE:
            log.warning("DROPPED ACK %s", event)
            return sio.not_handled
        return ack

    return dropping


for _event in EVENTS:
    sio.handlers["/"][_event] = _dropping(_event, sio.handlers["/"][_event])
