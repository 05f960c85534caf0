import logging

import socketio

from open_webui.env import WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL
from open_webui.utils.auth import decode_token

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


def get_session_user(sid):
    return SESSION_POOL.get(sid)
