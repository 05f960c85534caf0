"""The typed event map for socket.io-client: `events.ts`, one file for every spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...render import js_str, render
from ...spec.loaded import LoadedSpec
from ...spec.models import (
    IDEMPOTENCY_KEY,
    EventSpec,
    FieldSpec,
    RoomSpec,
    Spec,
    camel,
    event_snake,
    pascal,
    presence_event,
)
from ...spec.rooms import pattern_parts
from . import names

# What a successful acknowledgement carries, by action (templates/python/socket_region.py.j2).
_OK_FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "join": [("room", "string", "The room the socket is now in.")],
    "leave": [("room", "string", "The room the socket left.")],
    "relay": [],
    "handle": [("data", "unknown", "What the handler returned.")],
}


@dataclass(frozen=True)
class FieldView:
    name: str
    type: str
    optional: bool
    doc: str

    @property
    def key(self) -> str:
        return self.name + "?" if self.optional else self.name


@dataclass(frozen=True)
class InterfaceView:
    name: str
    doc: str
    fields: list[FieldView]


@dataclass(frozen=True)
class AckView:
    ok: InterfaceView
    name: str
    event: str


@dataclass(frozen=True)
class RoomView:
    func: str
    pattern: str
    params: str  # "featureId: string"
    expr: str  # "\"feature:\" + String(featureId)"


@dataclass(frozen=True)
class EntryView:
    key: str  # the event name as a TS string literal
    signature: str
    deprecated: str = ""  # for an old name: why, and what to use instead


@dataclass(frozen=True)
class CallView:
    """The typed emit function of a client_to_server event."""

    func: str  # emitBoardCompute
    event: str  # TS string literal
    name: str  # the event name, for docs
    payload: str
    ack: str
    timeout_ms: int
    idempotent: bool


@dataclass(frozen=True)
class AliasView:
    """An old name of a renamed event, kept typed and marked @deprecated."""

    deprecation: str  # the sentence after @deprecated
    constant: tuple[str, str]  # (OLD_NAME, "old:name")
    types: list[tuple[str, str]]  # (OldNamePayload, NewNamePayload), ...
    func: tuple[str, str] | None  # (emitOldName, emitNewName) for a client_to_server event


@dataclass
class EventsView:
    sources: str
    descriptions: list[str] = field(default_factory=list)
    rooms: list[RoomView] = field(default_factory=list)
    constants: list[tuple[str, str]] = field(default_factory=list)
    payloads: list[InterfaceView] = field(default_factory=list)
    messages: list[InterfaceView] = field(default_factory=list)
    acks: list[AckView] = field(default_factory=list)
    server_to_client: list[EntryView] = field(default_factory=list)
    client_to_server: list[EntryView] = field(default_factory=list)
    calls: list[CallView] = field(default_factory=list)
    aliases: list[AliasView] = field(default_factory=list)
    presence: bool = False  # some room has presence: events.ts declares PresenceMember

    @property
    def idempotent(self) -> bool:
        return any(c.idempotent for c in self.calls)


def events_module(specs: list[LoadedSpec]) -> str:
    """The text of events.ts (without the marker line)."""
    return render("ts/events.ts.j2", view=events_view(specs))


def events_view(specs: list[LoadedSpec]) -> EventsView:
    view = EventsView(sources=", ".join(s.path for s in specs))
    for item in specs:
        spec = item.spec
        if spec.description:
            view.descriptions.append(f"{spec.name}: {spec.description}")
        for key, room in spec.rooms.items():
            view.rooms.append(_room(spec, key, room.pattern))
            if room.presence:
                _presence(view, spec, key, room, item.path)
        for event in spec.events:
            event_room = spec.rooms.get(event.room) if event.room else None
            sequenced = event_room is not None and event_room.sequenced
            view.constants.append((names.constant(event), js_str(event.name)))
            view.payloads.append(
                _sequenced_payload(_payload(event, item.path), event) if sequenced else _payload(event, item.path)
            )
            deprecated = _deprecation(event)
            if event.direction == "client_to_server":
                ack = _sequenced_ack(_ack(event)) if sequenced and event.action == "join" else _ack(event)
                view.acks.append(
                    _presence_ack(ack)
                    if event_room is not None and event_room.presence and event.action == "join"
                    else ack
                )
                signature = (
                    f"(payload: {names.payload_type(event)}, ack: (response: {names.ack_type(event)}) => void) => void"
                )
                view.client_to_server.append(EntryView(js_str(event.name), signature))
                view.client_to_server.extend(EntryView(js_str(a), signature, deprecated(a)) for a in event.renamed_from)
                view.calls.append(
                    CallView(
                        func=names.emit_function(event.name),
                        event=js_str(event.name),
                        name=event.name,
                        payload=names.payload_type(event),
                        ack=names.ack_type(event),
                        timeout_ms=event.effective_timeout_ms,
                        idempotent=event.idempotent,
                    )
                )
            if event.action == "relay":
                view.messages.append(_message(event, item.path))
            if event.direction == "server_to_client" or event.action == "relay":
                param = "message" if event.action == "relay" else "payload"
                signature = f"({param}: {names.received_type(event)}) => void"
                view.server_to_client.append(EntryView(js_str(event.name), signature))
                view.server_to_client.extend(EntryView(js_str(a), signature, deprecated(a)) for a in event.renamed_from)
            spelt = {pascal(event.name)}
            for alias in event.renamed_from:
                old = pascal(alias)
                if old in spelt:
                    continue  # chat-events -> chat:events: the old name's TS names are the new ones
                spelt.add(old)
                types = [(old + "Payload", names.payload_type(event))]
                if event.direction == "client_to_server":
                    types += [(old + "Ok", names.ok_type(event)), (old + "Ack", names.ack_type(event))]
                if event.action == "relay":
                    types.append((old + "Message", names.message_type(event)))
                func = (
                    (names.emit_function(alias), names.emit_function(event.name))
                    if event.direction == "client_to_server"
                    else None
                )
                view.aliases.append(
                    AliasView(deprecated(alias), (event_snake(alias).upper(), js_str(alias)), types, func)
                )
    return view


def _deprecation(event: EventSpec) -> Callable[[str], str]:
    sunset = event.sunset.isoformat() if event.sunset else ""

    def sentence(alias: str) -> str:
        until = f"; the old name goes away on {sunset}" if sunset else ""
        return f"`{alias}` was renamed to `{event.name}`{until}. Use `{event.name}`."

    return sentence


def _room(spec: Spec, key: str, pattern: str) -> RoomView:
    params = names.room_params(pattern)
    local = _ts_param_names(params)
    # The same escaping as the Python room functions (CONTRACT 6.1), inline: a param may have any name.
    parts = [
        f'String({local[text]}).replace(/%/g, "%25").replace(/:/g, "%3A")' if param else js_str(text)
        for text, param in pattern_parts(pattern)
    ]
    return RoomView(
        func=names.room_function(spec, key),
        pattern=pattern,
        params=", ".join(f"{local[p]}: {names.room_param_type(spec, key, p)}" for p in params),
        expr=" + ".join(parts) if parts else '""',
    )


def _ts_param_names(params: list[str]) -> dict[str, str]:
    """camelCase parameter names, made distinct and never a reserved word (`new`, or feature_id
    beside featureId)."""
    out: dict[str, str] = {}
    for i, param in enumerate(params):
        name = camel(param)
        if name in names.JS_RESERVED or name in out.values():
            name = f"{name}{i + 1}"
            while name in out.values() or name in params:
                name += "_"
        out[param] = name
    return out


def _fields(payload: dict[str, FieldSpec], *, received: bool) -> list[FieldView]:
    """Received payloads come from `model_dump()`: every key is present, null when unset."""
    return [
        FieldView(name, names.field_type(f), optional=not received and not f.is_required, doc=f.description or "")
        for name, f in payload.items()
    ]


def _direction(event: EventSpec) -> str:
    return "client to server" if event.direction == "client_to_server" else "server to client"


def _payload(event: EventSpec, path: str) -> InterfaceView:
    doc = f"Payload of `{event.name}` ({_direction(event)}, {path}). {event.description or ''}".strip()
    received = event.direction == "server_to_client"
    fields = _fields(event.payload, received=received)
    if event.idempotent:
        fields.append(
            FieldView(
                IDEMPOTENCY_KEY,
                "string",
                optional=True,
                doc="Retries of one call carry the same key; the emit function adds one.",
            )
        )
    return InterfaceView(names.payload_type(event), doc, fields)


def _message(event: EventSpec, path: str) -> InterfaceView:
    doc = f"`{event.name}` as the other members of the room receive it: the payload and its sender ({path})."
    fields = _fields(event.payload, received=True)
    fields.append(FieldView("user", "EventSender", optional=False, doc="Who sent it, added by the server."))
    return InterfaceView(names.message_type(event), doc, fields)


# CONTRACT 8: what a sequenced room adds to its messages, its join payload and its join ack.
_POSITION = "{ epoch: string; seq: number }"


def _sequenced_payload(iface: InterfaceView, event: EventSpec) -> InterfaceView:
    if event.direction == "server_to_client":
        extra = [
            FieldView(
                "seq", "number", optional=False, doc="Position in the room: 1, 2, 3, ... without gaps within an epoch."
            ),
            FieldView(
                "epoch", "string", optional=False, doc="Changes whenever the room's counter or history was lost."
            ),
        ]
    elif event.action == "join":
        extra = [FieldView("since", _POSITION, optional=True, doc="Recover every event after this position.")]
    else:
        return iface
    return InterfaceView(iface.name, iface.doc, iface.fields + extra)


def _sequenced_ack(ack: AckView) -> AckView:
    fields = ack.ok.fields + [
        FieldView("position", _POSITION, optional=False, doc="The room's top once the socket is in the room."),
        # The name carries the `?`: the template writes acknowledgement fields by name.
        FieldView(
            "recovered?",
            "boolean",
            optional=False,
            doc="With `since`: true when `missed` holds every event after it; false: reload.",
        ),
        FieldView(
            "missed?",
            "Array<{ event: string; data: unknown }>",
            optional=False,
            doc="With `since` and `recovered: true`: every event after it, in order.",
        ),
    ]
    return AckView(ok=InterfaceView(ack.ok.name, ack.ok.doc, fields), name=ack.name, event=ack.event)


def _presence(view: EventsView, spec: Spec, key: str, room: RoomSpec, path: str) -> None:
    """CONTRACT 9: a presence room's event, its constant and its payload."""
    name = presence_event(spec.name, key)
    payload = pascal(name) + "Payload"
    view.presence = True
    view.constants.append((event_snake(name).upper(), js_str(name)))
    fields = [FieldView(p, names.room_param_type(spec, key, p), optional=False, doc="") for p in room.params]
    fields += [
        FieldView(
            "joins",
            "PresenceMember[]",
            optional=False,
            doc="Users who arrived, or whose number of connections changed.",
        ),
        FieldView(
            "leaves", "PresenceMember[]", optional=False, doc="Users whose last socket left the room (connections 0)."
        ),
        FieldView(
            "version",
            "number",
            optional=False,
            doc="Per room, increasing: apply a change to a member only when newer than the last one applied.",
        ),
    ]
    doc = f"Payload of `{name}` (server to client, {path}): who joined or left room `{room.pattern}`."
    view.payloads.append(InterfaceView(payload, doc, fields))
    view.server_to_client.append(EntryView(js_str(name), f"(payload: {payload}) => void"))


def _presence_ack(ack: AckView) -> AckView:
    fields = ack.ok.fields + [
        FieldView(
            "members",
            "PresenceMember[]",
            optional=False,
            doc="Every user in the room, across server processes, one entry per user.",
        ),
        FieldView(
            "members_version",
            "number",
            optional=False,
            doc="The room's presence version the list is at; later changes carry higher ones.",
        ),
    ]
    return AckView(ok=InterfaceView(ack.ok.name, ack.ok.doc, fields), name=ack.name, event=ack.event)


def _ack(event: EventSpec) -> AckView:
    ok_fields = [FieldView(n, t, optional=False, doc=d) for n, t, d in _OK_FIELDS[event.action or "handle"]]
    ok = InterfaceView(names.ok_type(event), f"The server accepted `{event.name}`.", ok_fields)
    return AckView(ok=ok, name=names.ack_type(event), event=event.name)
