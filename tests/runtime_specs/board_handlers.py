"""The `handle` function behind board:compute, copied into the app under test as
open_webui/socket/board_handlers.py before eventgen runs, so no stub is written.

It raises on purpose when asked to: the runtime tests prove that an exception in a
user's handler becomes an `internal` acknowledgement and the server keeps serving.
"""

from typing import Any


class Exploded(RuntimeError):
    """Raised on request; the server log must show it once per request."""


async def compute(user: dict[str, Any], payload: Any, sid: str) -> dict[str, Any]:
    if payload.mode == "explode":
        raise Exploded(f"board:compute asked to explode by {user['id']}")
    return {"square": payload.x * payload.x, "by": user["id"]}
