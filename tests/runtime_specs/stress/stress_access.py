"""Access callables of tests/runtime_specs/stress/stress.yaml: they sleep as long as the room id says."""

import asyncio
import time
from typing import Any


def _seconds(room_id: str) -> float:
    return float(room_id.split("-", 1)[1]) if room_id.startswith("sleep-") else 0.0


def sync_check(user: dict[str, Any], room_id: str) -> bool:
    # A synchronous database call, as Open WebUI's models make: it blocks its thread.
    time.sleep(_seconds(room_id))
    return True


async def async_check(user: dict[str, Any], room_id: str) -> bool:
    await asyncio.sleep(_seconds(room_id))
    return True
