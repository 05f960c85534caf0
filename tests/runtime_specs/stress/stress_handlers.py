"""Handlers of tests/runtime_specs/stress/stress.yaml."""

import asyncio
import threading
import time
from typing import Any


def sync_sleep(user: dict[str, Any], payload: Any, sid: str) -> Any:
    time.sleep(payload.sleep)
    return {"slept": payload.sleep, "thread": threading.current_thread().name, "by": user["id"]}


async def async_sleep(user: dict[str, Any], payload: Any, sid: str) -> Any:
    await asyncio.sleep(payload.sleep)
    return {"slept": payload.sleep, "by": user["id"]}
