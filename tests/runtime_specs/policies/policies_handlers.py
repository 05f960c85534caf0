"""Handlers of tests/runtime_specs/policies/policies.yaml: `store` counts its calls, `calls` reports the count,
so a test sees whether a refused call ever reached the handler."""

from typing import Any

_stored: list[int] = []


async def store(user: dict[str, Any], payload: Any, sid: str) -> Any:
    _stored.append(len(payload.text))
    return {"stored": len(payload.text)}


async def calls(user: dict[str, Any], payload: Any, sid: str) -> Any:
    return {"calls": len(_stored), "sizes": list(_stored)}
