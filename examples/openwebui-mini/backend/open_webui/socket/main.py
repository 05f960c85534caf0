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


def get_user_id_from_session_pool(sid: str) -> str | None:
    user = SESSION_POOL.get(sid)
    return user["id"] if user else None


def get_active_user_ids() -> list[str]:
    return sorted({user["id"] for user in SESSION_POOL.values()})


def get_session_user(sid: str) -> dict[str, Any] | None:
    return SESSION_POOL.get(sid)
