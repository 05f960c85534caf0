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


@sio.event
async def disconnect(sid):
    SESSION_POOL.pop(sid, None)


@sio.on("user-list")  # legacy dashed name, still used by the sidebar
async def user_list(sid, data=None):
    return {"ok": True, "user_ids": sorted(u["id"] for u in SESSION_POOL.values())}


# eventgen:begin inbox sha=11e94f0704c7 -- generated from events/inbox.yaml; edit the spec, then run eventgen generate
@sio.on("inbox:watch")
@eventgen_models.per_socket
async def on_inbox_watch(sid, data=None, *extra):
    """`inbox:watch`: Join the caller to room user:{user_id} (events/inbox.yaml)."""
    try:
        user = eventgen_models.session_user(SESSION_POOL.get(sid))
        if not user:
            return eventgen_models.unauthenticated()
        eventgen_models.within_bytes(data, 65536)
        if extra:
            return eventgen_models.extra_arguments(len(extra))
        try:
            payload = eventgen_models.InboxWatchPayload.model_validate(data)
        except eventgen_models.ValidationError as exc:
            return eventgen_models.invalid_payload(exc)
        room = eventgen_models.inbox_room(user_id=payload.user_id)
        if not eventgen_models.is_self(user, payload.user_id):
            return eventgen_models.forbidden()
        await eventgen_models.enter(sio, sid, room)
        return eventgen_models.ok(room=room)
    except eventgen_models.Refused as refusal:
        return refusal.ack()
    except Exception:
        eventgen_models.log.exception("eventgen: handler of %s failed", "inbox:watch")
        return eventgen_models.internal()


async def emit_inbox_message(*, user_id: str, text: str) -> None:
    """Emit `inbox:message` to room user:{user_id} (events/inbox.yaml)."""
    payload = eventgen_models.InboxMessagePayload(user_id=user_id, text=text)
    room = eventgen_models.inbox_room(user_id=payload.user_id)
    await sio.emit("inbox:message", payload.model_dump(mode="json"), room=room)
# eventgen:end inbox


def get_session_user(sid):
    return SESSION_POOL.get(sid)
