import logging

import socketio

from open_webui.env import WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL
from open_webui.utils.auth import decode_token

# eventgen:begin imports sha=8be5515ca8bd -- generated from events/*.yaml; edit the spec, then run eventgen generate
# isort: off
from open_webui.socket import event_models as eventgen_models
# isort: on
# eventgen:end imports

log = logging.getLogger(__name__)

if WEBSOCKET_MANAGER == "redis":
    mgr = socketio.AsyncRedisManager(WEBSOCKET_REDIS_URL)
    sio = socketio.AsyncServer(
        cors_allowed_origins=[],
        async_mode="asgi",
        always_connect=True,
        client_manager=mgr,
    )
else:
    sio = socketio.AsyncServer(
        cors_allowed_origins=[],
        async_mode="asgi",
        always_connect=True,
    )

app = socketio.ASGIApp(sio, socketio_path="/ws/socket.io")

# sid -> user dict; only authenticated sockets get one.
SESSION_POOL = {}


@sio.event
async def connect(sid, environ, auth):
    user = decode_token(auth.get("token")) if isinstance(auth, dict) else None
    if user:
        SESSION_POOL[sid] = user
        await sio.enter_room(sid, f"user:{user['id']}")


@sio.event
async def disconnect(sid):
    SESSION_POOL.pop(sid, None)


@sio.on("user-list")  # legacy dashed name, still used by the sidebar
async def user_list(sid, data=None):
    return {"ok": True, "user_ids": sorted(u["id"] for u in SESSION_POOL.values())}


# eventgen:begin doc sha=fb030135d83f -- generated from events/doc.yaml; edit the spec, then run eventgen generate
@sio.on("doc:open")
@eventgen_models.per_socket
async def on_doc_open(sid, data=None, *extra):
    """`doc:open`: Join the caller to room doc:{doc_id} (events/doc.yaml)."""
    try:
        user = eventgen_models.session_user(SESSION_POOL.get(sid))
        if not user:
            return eventgen_models.unauthenticated()
        eventgen_models.within_bytes(data, 2048)
        if extra:
            return eventgen_models.extra_arguments(len(extra))
        try:
            payload = eventgen_models.DocOpenPayload.model_validate(data)
        except eventgen_models.ValidationError as exc:
            return eventgen_models.invalid_payload(exc)
        room = eventgen_models.doc_room(doc_id=payload.doc_id)
        await eventgen_models.enter(sio, sid, room)
        return eventgen_models.ok(room=room)
    except eventgen_models.Refused as refusal:
        return refusal.ack()
    except Exception:
        eventgen_models.log.exception("eventgen: handler of %s failed", "doc:open")
        return eventgen_models.internal()


@sio.on("doc:cursor")
@eventgen_models.per_socket
async def on_doc_cursor(sid, data=None, *extra):
    """`doc:cursor`: Relay the payload to the other members of room doc:{doc_id} (events/doc.yaml)."""
    try:
        user = eventgen_models.session_user(SESSION_POOL.get(sid))
        if not user:
            return eventgen_models.unauthenticated()
        await eventgen_models.within_rate(sio, "doc:cursor", user, rate=2, per_s=60.0, burst=10)
        eventgen_models.within_bytes(data, 65536)
        if extra:
            return eventgen_models.extra_arguments(len(extra))
        try:
            payload = eventgen_models.DocCursorPayload.model_validate(data)
        except eventgen_models.ValidationError as exc:
            return eventgen_models.invalid_payload(exc)
        room = eventgen_models.doc_room(doc_id=payload.doc_id)
        if room not in sio.rooms(sid):
            return eventgen_models.forbidden("join the room first")
        message = {**payload.model_dump(mode="json"), "user": eventgen_models.sender(user)}
        await sio.emit("doc:cursor", message, room=room, skip_sid=sid)
        return eventgen_models.ok()
    except eventgen_models.Refused as refusal:
        return refusal.ack()
    except Exception:
        eventgen_models.log.exception("eventgen: handler of %s failed", "doc:cursor")
        return eventgen_models.internal()
# eventgen:end doc


def get_session_user(sid):
    return SESSION_POOL.get(sid)
