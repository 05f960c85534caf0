import logging
import time
from typing import Any

import socketio

from open_webui.env import (
    CORS_ALLOW_ORIGINS,
    WEBSOCKET_MANAGER,
    WEBSOCKET_REDIS_URL,
)
from open_webui.models.users import Users
from open_webui.utils.auth import decode_token

# eventgen:begin imports sha=d15247f159e9 -- generated from events/*.yaml; edit the spec, then run eventgen generate
# isort: off
from open_webui.socket import event_models as eventgen_models
from open_webui.socket.access import can_read_feature
# isort: on
# eventgen:end imports

log = logging.getLogger(__name__)


def get_user_room(user_id: str) -> str:
    return f"user:{user_id}"


if WEBSOCKET_MANAGER == "redis":
    mgr = socketio.AsyncRedisManager(WEBSOCKET_REDIS_URL)
    sio = socketio.AsyncServer(
        cors_allowed_origins=CORS_ALLOW_ORIGINS,
        async_mode="asgi",
        transports=["websocket", "polling"],
        allow_upgrades=True,
        always_connect=True,
        client_manager=mgr,
    )
else:
    sio = socketio.AsyncServer(
        cors_allowed_origins=CORS_ALLOW_ORIGINS,
        async_mode="asgi",
        transports=["websocket", "polling"],
        allow_upgrades=True,
        always_connect=True,
    )


# Mounted at "/ws" by open_webui.main; Starlette keeps the full request path,
# so the Engine.IO endpoint must include the mount prefix.
app = socketio.ASGIApp(sio, socketio_path="/ws/socket.io")

# sid -> user dict (id, name, email, role); only authenticated sockets get one.
SESSION_POOL = {}


@sio.event
async def connect(sid, environ, auth):
    user = None
    if isinstance(auth, dict) and "token" in auth:
        data = decode_token(auth["token"])
        if data is not None and "id" in data:
            user = Users.get_user_by_id(data["id"])

    if user:
        SESSION_POOL[sid] = user.model_dump()
        await sio.enter_room(sid, get_user_room(user.id))
        log.info("user %s connected with sid %s", user.id, sid)
    # always_connect=True: a socket without a valid token stays connected but
    # has no session, so every handler must check SESSION_POOL itself.


@sio.event
async def disconnect(sid):
    SESSION_POOL.pop(sid, None)


@sio.on("user-list")  # legacy dashed name, still used by the sidebar
async def user_list(sid, data=None):
    if sid not in SESSION_POOL:
        return {
            "ok": False,
            "error": {"code": "unauthenticated", "message": "No session"},
        }
    return {"ok": True, "user_ids": get_active_user_ids()}


@sio.on("usage:ping")  # heartbeat from the chat view
async def usage_ping(sid, data=None):
    user_id = get_user_id_from_session_pool(sid)
    if user_id is None:
        return {
            "ok": False,
            "error": {"code": "unauthenticated", "message": "No session"},
        }
    return {"ok": True, "user_id": user_id, "ts": int(time.time())}


# eventgen:begin feature sha=345c07337652 -- generated from events/feature.yaml; edit the spec, then run eventgen generate
@sio.on("feature:subscribe")
@eventgen_models.per_socket
async def on_feature_subscribe(sid, data=None, *extra):
    """`feature:subscribe`: Join the caller to room feature:{feature_id} (events/feature.yaml). Subscribe to a feature's live updates."""
    try:
        user = eventgen_models.session_user(SESSION_POOL.get(sid))
        if not user:
            return eventgen_models.unauthenticated()
        eventgen_models.within_bytes(data, 65536)
        if extra:
            return eventgen_models.extra_arguments(len(extra))
        try:
            payload = eventgen_models.FeatureSubscribePayload.model_validate(data)
        except eventgen_models.ValidationError as exc:
            return eventgen_models.invalid_payload(exc)
        room = eventgen_models.feature_room(feature_id=payload.feature_id)
        if not await eventgen_models.allowed(can_read_feature, user, {"feature_id": payload.feature_id}, 10.0):
            return eventgen_models.forbidden()
        await eventgen_models.enter(sio, sid, room)
        return eventgen_models.ok(room=room)
    except eventgen_models.Refused as refusal:
        return refusal.ack()
    except Exception:
        eventgen_models.log.exception("eventgen: handler of %s failed", "feature:subscribe")
        return eventgen_models.internal()


@sio.on("feature:unsubscribe")
@eventgen_models.per_socket
async def on_feature_unsubscribe(sid, data=None, *extra):
    """`feature:unsubscribe`: Remove the caller from room feature:{feature_id} (events/feature.yaml). Stop receiving a feature's updates."""
    try:
        eventgen_models.within_bytes(data, 65536)
        if extra:
            return eventgen_models.extra_arguments(len(extra))
        try:
            payload = eventgen_models.FeatureUnsubscribePayload.model_validate(data)
        except eventgen_models.ValidationError as exc:
            return eventgen_models.invalid_payload(exc)
        room = eventgen_models.feature_room(feature_id=payload.feature_id)
        await eventgen_models.leave(sio, sid, room)
        return eventgen_models.ok(room=room)
    except eventgen_models.Refused as refusal:
        return refusal.ack()
    except Exception:
        eventgen_models.log.exception("eventgen: handler of %s failed", "feature:unsubscribe")
        return eventgen_models.internal()


async def notify_feature_update(*, feature_id: str, data: dict[str, object]) -> None:
    """Emit `feature:updated` to room feature:{feature_id} (events/feature.yaml). A feature was changed."""
    payload = eventgen_models.FeatureUpdatedPayload(feature_id=feature_id, data=data)
    room = eventgen_models.feature_room(feature_id=payload.feature_id)
    await sio.emit("feature:updated", payload.model_dump(mode="json"), room=room)
# eventgen:end feature


def get_user_id_from_session_pool(sid: str) -> str | None:
    user = SESSION_POOL.get(sid)
    return user["id"] if user else None


def get_active_user_ids() -> list[str]:
    return sorted({user["id"] for user in SESSION_POOL.values()})


def get_session_user(sid: str) -> dict[str, Any] | None:
    return SESSION_POOL.get(sid)
