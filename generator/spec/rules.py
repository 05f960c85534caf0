"""Rules that span events, rooms and spec files (the models check one value at a time)."""

from __future__ import annotations

from collections import defaultdict

from ..errors import Diagnostic
from .loaded import LoadedSpec
from .messages import Loc
from .models import RoomSpec, event_snake, pascal, presence_event, room_func
from .rooms import overlap

_ROOM_PARAM_KINDS = ("str", "int")


def check_specs(specs: list[LoadedSpec]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for item in specs:
        problems.extend(_check_one(item))
    problems.extend(_check_unique(specs))
    problems.extend(_check_overlaps(specs))
    return problems


def _check_one(item: LoadedSpec) -> list[Diagnostic]:
    spec = item.spec
    problems: list[Diagnostic] = []
    joins: dict[str, int] = {}
    for i, event in enumerate(spec.events):
        if event.action == "join" and event.room:
            joins.setdefault(event.room, i)
    for i, event in enumerate(spec.events):
        problems += _event_room(item, i)
        at = ("events", i)
        if event.listener and event.room and event.room in spec.rooms:
            room = spec.rooms[event.room]
            if not room.is_user_room and not room.app_owned and event.room not in joins:
                message = f"listener '{event.listener}' needs a join event for room '{event.room}' in this spec, to subscribe with"
                problems.append(item.at(at + ("listener",), message))
        for j, site in enumerate(event.emit.from_ if event.emit else []):
            for arg in site.args:
                if arg not in event.payload:
                    from ..suggest import did_you_mean

                    message = f"event '{event.name}': argument '{arg}' is not a payload field{did_you_mean(arg, event.payload)}"
                    problems.append(item.at(at + ("emit", "from", j, "args", arg), message, key=True))
    return problems + _listener_rooms(item)


def _event_room(item: LoadedSpec, i: int) -> list[Diagnostic]:
    """The event's room exists, may be joined or left by eventgen, and its payload carries the room's params."""
    event, at = item.spec.events[i], ("events", i)
    if event.room is None:
        return []
    room = item.spec.rooms.get(event.room)
    if room is None:
        known = ", ".join(sorted(item.spec.rooms)) or "none defined"
        return [item.at(at + ("room",), f"event '{event.name}': unknown room '{event.room}' (rooms: {known})")]
    problems: list[Diagnostic] = []
    if room.app_owned and event.action in ("join", "leave"):
        message = f"event '{event.name}': room '{event.room}' is owner: app, so the app decides who is in it; eventgen generates no {event.action} for it"
        problems.append(item.at(at + ("action",), message))
    for param in room.params:
        field = event.payload.get(param)
        if field is None:
            message = (
                f"event '{event.name}' uses room '{event.room}' ({room.pattern}) but its payload has no field '{param}'"
            )
            problems.append(item.at(at + ("payload",) if event.payload else at + ("room",), message, key=True))
        elif field.type_ref.kind not in _ROOM_PARAM_KINDS or field.type_ref.nullable:
            message = (
                f"event '{event.name}': room parameter '{param}' must be a required str or int field, not {field.type}"
            )
            problems.append(item.at(at + ("payload", param), message))
    return problems


def _listener_rooms(item: LoadedSpec) -> list[Diagnostic]:
    """Events that share a listener component must agree on the room it joins."""
    spec = item.spec
    by_listener: dict[str, list[int]] = defaultdict(list)
    for i, event in enumerate(spec.events):
        if event.listener:
            by_listener[event.listener].append(i)
    problems: list[Diagnostic] = []
    for name, indexes in by_listener.items():
        rooms = {(spec.events[i].room, spec.events[i].broadcast) for i in indexes}
        if len(rooms) > 1:
            message = f"listener '{name}' groups events of different rooms; one component listens to one room"
            problems.append(item.at(("events", indexes[1], "listener"), message))
    return problems


def _check_unique(specs: list[LoadedSpec]) -> list[Diagnostic]:
    """Names that must be unique across all specs: they become code identifiers or wire names."""
    problems: list[Diagnostic] = []
    kinds = {
        "spec": "spec name",
        "event": "event name",
        "model": "payload model name",
        "snake": "generated function name",
        "helper": "emit helper",
        "listener": "listener component",
        "room": "room function",
    }
    first: dict[tuple[str, str], tuple[LoadedSpec, Loc]] = {}

    def claim(kind: str, value: str, item: LoadedSpec, loc: Loc) -> None:
        key = (kind, value)
        if key in first:
            other, other_loc = first[key]
            line, _ = other.positions.locate(other_loc)
            if kind == "listener" and other is item:
                return  # events of one spec may share a component
            where = f"{other.path}:{line}"
            problems.append(item.at(loc, f"{kinds[kind]} '{value}' is already used at {where}"))
        else:
            first[key] = (item, loc)

    for item in specs:
        claim("spec", item.spec.name, item, ("name",))
        for key in item.spec.rooms:
            # spec `c` room `b` and spec `c_b` room `c_b` both make c_b_room(): one would silently replace the other.
            claim("room", room_func(item.spec.name, key), item, ("rooms", key))
            if item.spec.rooms[key].presence:
                # The room's presence event (CONTRACT 9) is a wire name and a TS payload and constant like any declared event.
                name = presence_event(item.spec.name, key)
                for kind, value in (("event", name), ("model", pascal(name)), ("snake", event_snake(name))):
                    claim(kind, value, item, ("rooms", key, "presence"))
        for i, event in enumerate(item.spec.events):
            loc: Loc = ("events", i, "name")
            before = len(problems)
            claim("event", event.name, item, loc)
            if len(problems) == before:
                # Distinct names that collide once made into identifiers (a:b vs a-b).
                claim("model", pascal(event.name), item, loc)
                if len(problems) == before:
                    claim("snake", event_snake(event.name), item, loc)
            # A default helper name derives from the event name: a clash of those is already reported.
            if event.emit or (event.helper and len(problems) == before):
                claim("helper", event.helper or "", item, ("events", i, "emit", "helper") if event.emit else loc)
            if event.listener:
                claim("listener", event.listener, item, ("events", i, "listener"))
        for i, event in enumerate(item.spec.events):
            # An old name is still a wire name, and events.ts still types it (constant, payload and ack types).
            # An old name spelt like the new one (chat-events -> chat:events) shares its generated names.
            own = {("model", pascal(event.name)), ("snake", event_snake(event.name))}
            for j, alias in enumerate(event.renamed_from):
                loc = ("events", i, "renamed_from", j)
                before = len(problems)
                claim("event", alias, item, loc)
                for kind, value in (("model", pascal(alias)), ("snake", event_snake(alias))):
                    if len(problems) == before and (kind, value) not in own:
                        claim(kind, value, item, loc)
                        own.add((kind, value))
    return problems


def _check_overlaps(specs: list[LoadedSpec]) -> list[Diagnostic]:
    """Two rooms that can build the same name would share members and events while each
    guards its door differently (CONTRACT 6.2). Rooms the app owns have no generated door."""
    by_key: dict[tuple[int, str | None], list[tuple[LoadedSpec, str, RoomSpec]]] = defaultdict(list)
    problems: list[Diagnostic] = []
    for item in specs:
        for key, room in item.spec.rooms.items():
            shape = room.shape
            for other_item, other_key, other in by_key[shape.key]:
                if (room.app_owned and other.app_owned) or not overlap(shape, other.shape):
                    continue
                line, _ = other_item.positions.locate(("rooms", other_key, "pattern"))
                problems.append(
                    item.at(
                        ("rooms", key, "pattern"),
                        f"room '{key}' ({room.pattern}) can build the same names as room '{other_key}' ({other.pattern}) at {other_item.path}:{line}: "
                        "a socket let into one would receive the other's events",
                    )
                )
            by_key[shape.key].append((item, key, room))
    return problems
