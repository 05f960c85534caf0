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


# eventgen:begin people sha=41f4e163993a -- generated from events/people.yaml; edit the spec, then run eventgen generate
async def emit_renamed(*, user_id: str, name: str) -> None:
    """Emit `people:renamed` to room user:{user_id} (events/people.yaml)."""
    payload = eventgen_models.PeopleRenamedPayload(user_id=user_id, name=name)
    room = eventgen_models.people_me_room(user_id=payload.user_id)
    await sio.emit("people:renamed", payload.model_dump(mode="json"), room=room)
# eventgen:end people


def get_session_user(sid):
    return SESSION_POOL.get(sid)


async def rename_user(sid, name):
    user = SESSION_POOL[sid]
    user.update(name=name)
    # eventgen:begin people/people:renamed@rename_user sha=650f007718b7 -- generated from events/people.yaml; edit the spec, then run eventgen generate
    await emit_renamed(user_id=user['id'], name=name)
    # eventgen:end people/people:renamed@rename_user
    return user
