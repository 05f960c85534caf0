"""Svelte listener components: one per `listener:` name, grouping that spec's events of one room."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ...config import Config
from ...errors import Diagnostic
from ...render import js_str, render
from ...spec.loaded import LoadedSpec
from ...spec.models import EventSpec, FieldSpec, RoomSpec, camel, pascal, presence_event
from . import names
from .version import Syntax

DELIVERY_TS = "eventgen-delivery"  # the runtime module beside events.ts (frontend.delivery_ts_file)
PRESENCE_TS = "eventgen-presence"  # the presence runtime beside events.ts (frontend.presence_ts_file)

TEMPLATES: dict[Syntax, str] = {5: "svelte/listener_runes.svelte.j2", 4: "svelte/listener_legacy.svelte.j2"}

# Names the templates declare in the component's top-level scope (both syntaxes). A prop may not take
# one of them; type names are PascalCase and props camelCase, so those never meet.
SCOPE_NAMES = frozenset(
    {
        "socket",
        "createEventDispatcher",
        "onDestroy",
        "onMount",
        "retainMembership",
        "releaseMembership",
        "current",
        "listen",
        "dispatch",
        "mounted",
        "active",
        "sync",
        "children",
        "onerror",
        "SequencedRoom",
        "sequenced",
        "onResync",
    }
)
# Keys of the state object beside the per-event payloads.
_STATE_KEYS = frozenset({"joined", "error", "status"})
# What a listener of a presence room declares besides (CONTRACT 9), and its state key.
PRESENCE_SCOPE = frozenset({"PresenceState", "presence", "handlePresence", "members", "membersStore", "writable"})


@dataclass(frozen=True)
class Prop:
    name: str  # camelCase
    field: str  # the payload field it fills
    type: str
    doc: str


@dataclass(frozen=True)
class Request:
    """A join or leave the component sends."""

    name: str
    event: str  # TS string literal
    ack: str
    payload: str  # object literal built from `params`
    func: str  # the emit function of events.ts that sends it (never hangs)


@dataclass(frozen=True)
class Received:
    name: str
    event: str  # TS string literal
    key: str  # state key, slot prop and (lowercased) dispatched event
    callback: str
    dispatched: str
    handler: str
    type: str
    callback_doc: str
    state_doc: str
    foreign: str  # condition true for a payload of another room; "" when there is no room parameter
    sequenced: bool = False  # a server event of a sequenced room: the runtime orders it (CONTRACT 8)


@dataclass
class ListenerView:
    component: str
    source: str
    summary: str
    store_import: str
    events_import: str
    type_imports: list[str]
    value_imports: list[str]
    received: list[Received]
    props: list[Prop] = field(default_factory=list)
    params: str = ""  # object literal of the props, keyed by payload field
    room_call: str = ""
    join: Request | None = None
    leave: Request | None = None
    request_events: str = ""  # union of the join and leave names, for onerror
    sequenced: bool = False  # the room is `delivery: sequenced` and the component joins it
    delivery_import: str = ""  # the runtime beside events.ts, as the component imports it
    presence: str = ""  # the room has presence and the component joins it: its presence event (TS literal)
    presence_type: str = ""  # that event's payload type
    presence_foreign: str = ""  # condition true for a presence event of another room of the pattern
    presence_import: str = ""  # the presence runtime beside events.ts, as the component imports it

    @property
    def sequenced_received(self) -> list[Received]:
        return [r for r in self.received if r.sequenced]

    @property
    def accepts(self) -> str:
        """Whether a message belongs to this component's room (the runtime orders per room)."""
        foreign = next((r.foreign for r in self.sequenced_received if r.foreign), "")
        return f"!({foreign})" if foreign else "true"

    @property
    def prop_names(self) -> list[str]:
        """Every prop but the slot/snippet: room parameters, then callbacks."""
        callbacks = [r.callback for r in self.received] + (["onerror"] if self.join else [])
        return [p.name for p in self.props] + callbacks + (["onResync"] if self.sequenced else [])

    @property
    def initial_state(self) -> str:
        entries = [f"{r.key}: null" for r in self.received]
        if self.join:
            entries += ["joined: false", "error: null"]
        if self.sequenced:
            entries.append('status: "offline"')
        if self.presence:
            entries.append("members: []")
        return "{ " + ", ".join(entries) + " }"


@dataclass(frozen=True)
class Group:
    item: LoadedSpec
    name: str
    indexes: list[int]


def listener_groups(specs: list[LoadedSpec]) -> list[Group]:
    groups: list[Group] = []
    for item in specs:
        by_name: dict[str, list[int]] = {}
        for i, event in enumerate(item.spec.events):
            if event.listener:
                by_name.setdefault(event.listener, []).append(i)
        groups.extend(Group(item, name, indexes) for name, indexes in by_name.items())
    return groups


def events_import(config: Config, frontend_folder: str, kit: bool = True) -> str:
    """How a component imports the types file: through SvelteKit's `$lib` when it lives in
    src/lib of a SvelteKit app, else by a relative path."""
    types = PurePosixPath(config.types)
    module = types.with_suffix("") if types.suffix == ".ts" else types
    lib = PurePosixPath(posixpath.normpath(str(PurePosixPath(frontend_folder or ".", "src", "lib"))))
    if kit:
        try:
            return "$lib/" + module.relative_to(lib).as_posix()
        except ValueError:
            pass
    return _relative(module.as_posix(), config.components)


def store_import(config: Config, frontend_folder: str, kit: bool) -> str:
    """The store module as a component imports it. Outside SvelteKit there is no `$lib` alias:
    `$lib/x` (the default, `$lib/stores`) is the frontend's src/lib/x, reached by a relative path."""
    spec = config.store_import
    if kit or not (spec == "$lib" or spec.startswith("$lib/")):
        return spec
    lib = posixpath.normpath(posixpath.join(frontend_folder or ".", "src", "lib"))
    return _relative(
        posixpath.normpath(posixpath.join(lib, spec[len("$lib/") :])) if spec != "$lib" else lib, config.components
    )


def _relative(target: str, components: str) -> str:
    rel = posixpath.relpath(target, components)
    return rel if rel.startswith("../") else "./" + rel


def listener_view(
    group: Group, config: Config, frontend_folder: str, problems: list[Diagnostic], kit: bool = True
) -> ListenerView:
    item = group.item
    spec = item.spec
    events = [spec.events[i] for i in group.indexes]
    first = events[0]
    room_key = first.room
    room: RoomSpec | None = spec.rooms.get(room_key) if room_key else None
    join_i = _request_index(spec.events, room_key, "join") if room else None
    leave_i = _request_index(spec.events, room_key, "leave") if join_i is not None else None
    joins = join_i is not None

    presence = bool(room and room.presence and joins)
    keys = _keys(events, joins, item, group, problems, presence)
    room_params = names.room_params(room.pattern) if room and joins else []
    of_room = " of this room" if room_params else ""
    received = [
        Received(
            name=e.name,
            event=js_str(e.name),
            key=key,
            callback="on" + key.lower(),
            dispatched=key.lower(),
            handler="handle" + pascal(key),
            type=names.received_type(e),
            callback_doc=f"Called with every `{e.name}`{of_room}. {e.description or ''}".strip(),
            state_doc=f"The latest `{e.name}`{of_room}, null until one arrives.",
            foreign=" || ".join(f"String(payload.{p}) !== String(params.{p})" for p in room_params),
            sequenced=bool(room and room.sequenced and joins and e.direction == "server_to_client"),
        )
        for e, key in zip(events, keys)
    ]
    type_imports = {"ClientToServerEvents", "ServerToClientEvents"} | {r.type for r in received}
    target = f"in room `{room.pattern}`" if room else "broadcast to every connected client"
    view = ListenerView(
        component=group.name,
        source=item.path,
        summary=f"{group.name}: receives {', '.join(f'`{e.name}`' for e in events)} {target}.",
        store_import=js_str(store_import(config, frontend_folder, kit)),
        events_import=js_str(events_import(config, frontend_folder, kit)),
        type_imports=[],
        value_imports=[],
        received=received,
    )
    if room is not None and room_key is not None and join_i is not None:
        type_imports |= _join_parts(view, group, room_key, room, (join_i, leave_i), problems, presence)
        events_module = events_import(config, frontend_folder, kit)
        if room.sequenced:
            view.sequenced = True
            type_imports.discard(view.join.ack if view.join else "")  # the runtime reads the join's acknowledgement
            view.delivery_import = js_str(events_module.rpartition("/")[0] + "/" + DELIVERY_TS)
        if presence:
            name = presence_event(spec.name, room_key)
            view.presence, view.presence_type = js_str(name), pascal(name) + "Payload"
            view.presence_foreign = " || ".join(f"String(payload.{p}) !== String(params.{p})" for p in room_params)
            view.presence_import = js_str(events_module.rpartition("/")[0] + "/" + PRESENCE_TS)
            type_imports |= {"PresenceMember", view.presence_type}
    view.type_imports = sorted(type_imports)
    return view


def _join_parts(
    view: ListenerView,
    group: Group,
    room_key: str,
    room: RoomSpec,
    requests: tuple[int, int | None],
    problems: list[Diagnostic],
    presence: bool,
) -> set[str]:
    """The props, room call, join and leave of a listener whose room the spec joins; the types they use."""
    item, spec = group.item, group.item.spec
    join_i, leave_i = requests
    join_event = spec.events[join_i]
    leave_event = spec.events[leave_i] if leave_i is not None else None
    room_params = names.room_params(room.pattern)
    taken = SCOPE_NAMES | (PRESENCE_SCOPE if presence else set()) | {r.callback for r in view.received}
    taken |= {names.room_function(spec, room_key)} | {
        names.emit_function(e.name) for e in (join_event, leave_event) if e
    }
    view.props = _props(item, room_key, room, join_i, leave_i, problems, taken=taken, component=group.name)
    view.params = "{ " + ", ".join(f"{p.field}: {p.name}" for p in view.props) + " }"
    view.room_call = f"{names.room_function(spec, room_key)}({', '.join(f'params.{p}' for p in room_params)})"
    view.join = join = _request(join_event, room_params)
    view.leave = _request(leave_event, room_params) if leave_event else None
    view.request_events = " | ".join(js_str(r.name) for r in (join, view.leave) if r)
    # A sequenced room's runtime sends the join itself (with `since`): the listener calls only the leave.
    calls = {r.func for r in (join, view.leave) if r and not (room.sequenced and r is join)}
    view.value_imports = sorted({names.room_function(spec, room_key), "retainMembership", "releaseMembership", *calls})
    return {"AckError", join.ack} | ({view.leave.ack} if view.leave else set())


def render_listener(view: ListenerView, syntax: Syntax) -> str:
    return render(TEMPLATES[syntax], view=view)


def _request_index(events: list[EventSpec], room: str | None, action: str) -> int | None:
    return next((i for i, e in enumerate(events) if e.room == room and e.action == action), None)


def _request(event: EventSpec, room_params: list[str]) -> Request:
    """The room parameters (even one with a default) and every other required field, from the props."""
    fields = [n for n, f in event.payload.items() if f.is_required or n in room_params]
    return Request(
        name=event.name,
        event=js_str(event.name),
        ack=names.ack_type(event),
        payload="{ " + ", ".join(f"{n}: params.{n}" for n in fields) + " }" if fields else "{}",
        func=names.emit_function(event.name),
    )


def _keys(
    events: list[EventSpec],
    joins: bool,
    item: LoadedSpec,
    group: Group,
    problems: list[Diagnostic],
    presence: bool = False,
) -> list[str]:
    """`feature:updated` -> `updated`; the whole name when the short one is taken or not a name."""
    reserved = (_STATE_KEYS | ({"members"} if presence else set())) if joins else frozenset()
    keys = [camel(re.split(r"[:.]", e.name)[-1]) for e in events]
    for _ in range(2):
        clash = {k for k in keys if keys.count(k) > 1 or k in reserved or not k[:1].isalpha()}
        keys = [camel(e.name) if k in clash else k for e, k in zip(events, keys)]
    for e, k, i in zip(events, keys, group.indexes):
        if keys.count(k) > 1 or k in reserved:
            problems.append(
                item.at(
                    ("events", i, "name"),
                    f"listener '{group.name}': event '{e.name}' has no name of its own in the component ('{k}' is taken); rename it",
                )
            )
    return keys


def _props(
    item: LoadedSpec,
    room_key: str,
    room: RoomSpec,
    join_i: int,
    leave_i: int | None,
    problems: list[Diagnostic],
    *,
    taken: frozenset[str] | set[str],
    component: str,
) -> list[Prop]:
    """The room's parameters, then every other field the join or leave must send."""
    spec = item.spec
    params = names.room_params(room.pattern)
    fields: dict[str, tuple[FieldSpec, tuple[object, ...]]] = {}
    for i in (join_i, leave_i):
        if i is None:
            continue
        for name, f in spec.events[i].payload.items():
            at: tuple[object, ...] = ("events", i, "payload", name)
            if name in fields:
                known, _ = fields[name]
                if names.field_type(known) != names.field_type(f):
                    problems.append(
                        item.at(
                            at,
                            f"listener '{component}': field '{name}' is {names.field_type(known)} in the join event but {names.field_type(f)} here; one prop fills both",
                        )
                    )
            elif name in params or f.is_required:
                fields[name] = (f, at)
    ordered = [p for p in params if p in fields] + [n for n in fields if n not in params]
    props: list[Prop] = []
    seen: dict[str, str] = {}
    for name in ordered:
        f, at = fields[name]
        prop = camel(name)
        clash = None
        if prop in names.JS_RESERVED:
            clash = "is a reserved word in JavaScript"
        elif prop in taken:
            clash = "is a name the component uses itself"
        elif prop in seen:
            clash = f"is also the prop of field '{seen[prop]}'"
        if clash:
            loc = ("rooms", room_key, "pattern") if name in params else at
            problems.append(
                item.at(
                    loc,
                    f"listener '{component}': field '{name}' becomes the prop '{prop}', which {clash}; rename the field",
                )
            )
            continue
        seen[prop] = name
        doc = f"`{name}` of room `{room.pattern}`." if name in params else f"`{name}` sent with the join."
        if f.description:
            doc += " " + f.description
        props.append(Prop(prop, name, names.field_type(f), doc))
    return props
