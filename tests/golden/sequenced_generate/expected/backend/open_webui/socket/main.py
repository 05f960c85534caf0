import logging

import socketio

from open_webui.env import WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL
from open_webui.utils.auth import decode_token

# eventgen:begin imports sha=cb7102bd324a -- generated from events/*.yaml; edit the spec, then run eventgen generate
# isort: off
from open_webui.socket import event_models as eventgen_models
from open_webui.socket import eventgen_delivery
from open_webui.socket.access import can_read_feature
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


# eventgen:begin feature sha=58468d00af2e -- generated from events/feature.yaml; edit the spec, then run eventgen generate
@sio.on("feature:subscribe")
@eventgen_models.per_socket
async def on_feature_subscribe(sid, data=None, *extra):
    """`feature:subscribe`: Join the caller to room feature:{feature_id} (events/feature.yaml)."""
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
        # In the room first, then the history: an event is either live or in what is read here.
        # An error ack (Redis down, or slower than the timeout) takes the socket out of the room again.
        position = await eventgen_models.joined_with(sio, sid, room, eventgen_delivery.recover(sio, room, payload.since), 10.0, "history (Redis)")
        return eventgen_models.ok(room=room, **position)
    except eventgen_models.Refused as refusal:
        return refusal.ack()
    except Exception:
        eventgen_models.log.exception("eventgen: handler of %s failed", "feature:subscribe")
        return eventgen_models.internal()


@sio.on("feature:unsubscribe")
@eventgen_models.per_socket
async def on_feature_unsubscribe(sid, data=None, *extra):
    """`feature:unsubscribe`: Remove the caller from room feature:{feature_id} (events/feature.yaml)."""
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
    """Emit `feature:updated` to room feature:{feature_id} (events/feature.yaml). Sequenced: the message also carries `seq` and `epoch`."""
    payload = eventgen_models.FeatureUpdatedPayload(feature_id=feature_id, data=data)
    room = eventgen_models.feature_room(feature_id=payload.feature_id)
    await eventgen_delivery.emit(sio, "feature:updated", payload.model_dump(mode="json"), room, size=200, ttl_s=300)
# eventgen:end feature


def get_session_user(sid):
    return SESSION_POOL.get(sid)
