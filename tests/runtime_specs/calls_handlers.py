"""Handlers behind tests/runtime_specs/calls.yaml, copied into the app under test as
open_webui/socket/calls_handlers.py before eventgen runs (so no stub is written).

calls:charge counts its runs per (user, idempotency key): in this process, and in the Redis of
the app's AsyncRedisManager when WEBSOCKET_MANAGER=redis, so a test sees every run on every server.
"""

import asyncio
import os
import uuid
from collections import Counter
from typing import Any

RUNS: Counter[str] = Counter()
_redis: Any = None


def _shared() -> Any:
    global _redis
    if os.environ.get("WEBSOCKET_MANAGER") == "redis" and _redis is None:
        from redis import asyncio as aioredis

        _redis = aioredis.Redis.from_url(os.environ["WEBSOCKET_REDIS_URL"], decode_responses=True)
    return _redis


async def hang(user: dict[str, Any], payload: Any, sid: str) -> Any:
    await asyncio.sleep(3600)


async def slow(user: dict[str, Any], payload: Any, sid: str) -> Any:
    await asyncio.sleep(payload.ms / 1000)
    return {"slept_ms": payload.ms}


async def charge(user: dict[str, Any], payload: Any, sid: str) -> Any:
    key = f"{user['id']}:{payload.idempotency_key}"
    RUNS[key] += 1
    shared = _shared()
    if shared is not None:
        await shared.hincrby("calls:runs", key, 1)
    await asyncio.sleep(payload.ms / 1000)
    # A fresh id per run: a caller that got another run's result would show it.
    return {
        "run": uuid.uuid4().hex,
        "amount": payload.amount,
        "pid": os.getpid(),
        "fields": sorted(payload.model_dump()),
    }


async def runs(user: dict[str, Any], payload: Any, sid: str) -> Any:
    shared = _shared()
    if shared is not None:
        return {k: int(v) for k, v in (await shared.hgetall("calls:runs")).items()}
    return dict(RUNS)


async def echo(user: dict[str, Any], payload: Any, sid: str) -> Any:
    return {"text": payload.text, "by": user["id"]}


async def note(user: dict[str, Any], payload: Any, sid: str) -> Any:
    from open_webui.socket.main import notify_desk_note

    await notify_desk_note(desk_id=payload.desk_id, text=payload.text)
    return None
