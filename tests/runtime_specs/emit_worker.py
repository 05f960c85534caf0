"""A background job that emits a generated event with no Socket.IO server of its own.

Run with the app's backend on PYTHONPATH (tests/test_runtime_redis.py does):

    python emit_worker.py REDIS_URL '{"feature_id": "f1", "data": {...}}' ...

Each argument is one `feature:updated` payload. It is validated by the generated
`FeatureUpdatedPayload` first; a payload that fails is reported and never published.
A valid one goes out through `socketio.AsyncRedisManager(write_only=True)` to the
room the generated `feature_room` names, and every server process subscribed to the
channel delivers it to its members. Prints one JSON line per payload: {"sent": room}
or {"refused": [error types]}. This is the pattern docs/background-jobs.md describes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import socketio
from open_webui.socket import event_models

EVENT = "feature:updated"  # the spec's event name; the generated helper uses the same literal


async def emit_all(redis_url: str, raw_payloads: list[Any]) -> list[dict[str, Any]]:
    manager = socketio.AsyncRedisManager(redis_url, write_only=True)
    results: list[dict[str, Any]] = []
    try:
        for raw in raw_payloads:
            try:
                payload = event_models.FeatureUpdatedPayload.model_validate(raw)
            except event_models.ValidationError as exc:
                results.append({"refused": [err["type"] for err in exc.errors()]})
                continue
            room = event_models.feature_room(feature_id=payload.feature_id)
            await manager.emit(EVENT, payload.model_dump(mode="json"), room=room, namespace="/")
            results.append({"sent": room})
    finally:
        if manager.redis is not None:
            await manager.redis.aclose()
    return results


def main(argv: list[str]) -> int:
    redis_url, *payloads = argv
    for result in asyncio.run(emit_all(redis_url, [json.loads(p) for p in payloads])):
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
