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


# eventgen:begin chat sha=07db1d016f93 -- generated from events/chat.yaml; edit the spec, then run eventgen generate
@sio.on("chat:echo")
@eventgen_models.per_socket
async def on_chat_echo(sid, data=None, *extra):
    """`chat:echo`: Pass the payload to open_webui.socket.handlers:echo (events/chat.yaml)."""
    try:
        user = eventgen_models.session_user(SESSION_POOL.get(sid))
        if not user:
            return eventgen_models.unauthenticated()
        eventgen_models.within_bytes(data, 65536)
        if extra:
            return eventgen_models.extra_arguments(len(extra))
        try:
            payload = eventgen_models.ChatEchoPayload.model_validate(data)
        except eventgen_models.ValidationError as exc:
            return eventgen_models.invalid_payload(exc)
        result = await eventgen_models.call(eventgen_models.handler("open_webui.socket.handlers:echo"), user, payload, sid, 10.0)
        return eventgen_models.ok(data=result)
    except eventgen_models.Refused as refusal:
        return refusal.ack()
    except Exception:
        eventgen_models.log.exception("eventgen: handler of %s failed", "chat:echo")
        return eventgen_models.internal()
# eventgen:end chat


def get_session_user(sid):
    return SESSION_POOL.get(sid)
