"""The `handle` function behind board:compute, copied into the app under test as
open_webui/socket/board_handlers.py before eventgen runs, so no stub is written.

It raises on purpose when asked to: the runtime tests prove that an exception in a
user's handler becomes an `internal` acknowledgement and the server keeps serving.
"""

import datetime
from typing import Any


class Exploded(RuntimeError):
    """Raised on request; the server log must show it once per request."""


class Opaque:
    """Nothing can encode this as JSON."""


async def compute(user: dict[str, Any], payload: Any, sid: str) -> Any:
    if payload.mode == "explode":
        raise Exploded(f"board:compute asked to explode by {user['id']}")
    if payload.mode == "rich":
        # What handlers really return: models, datetimes, sets. The ack must still be JSON.
        return {"echo": payload, "at": datetime.datetime(2026, 1, 2, 3, 4, 5), "tags": {"x"}}
    if payload.mode == "opaque":
        return Opaque()
    return {"square": payload.x * payload.x, "by": user["id"]}
