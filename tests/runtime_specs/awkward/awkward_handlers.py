"""The handle function of awkward:ask: echoes its payload, emits, or refuses on purpose."""

from typing import Any

from open_webui.socket.event_models import Refused


async def ask(user: dict[str, Any], payload: Any, sid: str) -> Any:
    if payload.result == "refuse":
        raise Refused("not_today", "come back tomorrow", details={"check": payload.check})
    if payload.result == "bad-details":
        raise Refused("not_today", "details nothing can encode", details=object())
    if payload.result == "emit":
        from open_webui.socket.main import notify_grid  # emit helpers live in the socket module

        await notify_grid(user=payload.user, check=payload.check, payload=payload.data, room=payload.room)
        return {"emitted": True}
    return payload.model_dump()
