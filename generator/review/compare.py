"""Compare the specs of two sides event by event and classify every change.

The comparison walks the models generically: for every key of a room, an event
or a payload field (the model's own fields, plus the version 2 keys listed in
`FUTURE_KEYS`, read with getattr so they work the day they land) it calls the
rule named `_<level>_<key>`; a key without a rule is reported as a compatible
change, and tests/test_review_rules.py fails until someone writes the rule.

Directions decide who a change breaks. A client→server event is read by the
server: narrowing what it accepts breaks clients already deployed. A
server→client event is read by clients: widening what they may receive breaks
them. A relay is both (the server accepts it, then other clients receive it).
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..spec.loaded import LoadedSpec
from ..spec.types import TypeRef, parse_type
from .findings import Category, Finding, Where
from .lattice import (
    Delta,
    access_delta,
    access_kind,
    enum_delta,
    lower_bound_delta,
    rate_delta,
    size_delta,
    type_delta,
    upper_bound_delta,
)

# Keys of the version 2 contract (CONTRACT.md sections 6-10) that the models may not have yet.
FUTURE_KEYS: dict[str, tuple[str, ...]] = {
    "room": ("owner", "delivery", "history", "presence", "presence_ttl_s"),
    "event": ("rate_limit", "max_bytes", "timeout_s", "timeout_ms", "idempotent", "renamed_from", "sunset"),
    "field": (),
    "spec": (),
}

# Keys the walk compares structurally (matching, payloads, rooms), not through a `_<level>_<key>` rule.
STRUCTURAL: dict[str, frozenset[str]] = {
    "spec": frozenset({"name", "rooms", "events"}),
    "room": frozenset(),
    "event": frozenset({"name", "payload", "room", "broadcast", "direction", "action", "renamed_from", "sunset"}),
    # A payload field's keys are all read together by `_Compare.field`: what one means depends on the others.
    "field": frozenset({"type", "required", "default", "description", "min_length", "max_length", "ge", "le", "enum"}),
}

DEFAULT_MAX_BYTES = 65536  # CONTRACT.md section 10, when the config says nothing

# Every kind of finding, its class, and one sentence on why it matters. docs/review.md lists them
# (tests/test_review.py keeps the page equal to this table).
KINDS: dict[str, tuple[Category, str]] = {
    # -- breaking for deployed clients
    "event-removed": (
        "breaking",
        "Deployed clients still send or listen for it: their calls go unanswered or their listeners never fire.",
    ),
    "event-renamed": (
        "breaking",
        "Deployed clients use the old name; keep it served with `renamed_from` until they have reloaded.",
    ),
    "alias-removed": ("breaking", "Deployed clients may still use the old name, and its sunset has not passed."),
    "sunset-reached": (
        "breaking",
        "Past the sunset, server events are no longer sent under the old name; clients still on it receive nothing.",
    ),
    "direction-changed": ("breaking", "Deployed clients send or listen for the event the other way round."),
    "action-changed": ("breaking", "Deployed clients expect the old behaviour and acknowledgement of this event."),
    "event-room-changed": (
        "breaking",
        "Deployed clients are members of the old room, so they stop receiving the event or are refused.",
    ),
    "broadcast-disabled": ("breaking", "Clients that never joined a room received the event before and now do not."),
    "room-pattern-changed": (
        "breaking",
        "Deployed clients and servers build the room's name differently: members end up in a room nothing is sent to.",
    ),
    "field-removed": (
        "breaking",
        "Deployed clients still send this key (the server refuses unknown keys) or read it from what they receive.",
    ),
    "field-added-required": (
        "breaking",
        "Deployed clients do not send the new field, so the server refuses their calls (invalid_payload).",
    ),
    "field-required": ("breaking", "Deployed clients that omit the field are refused (invalid_payload)."),
    "field-type-changed": (
        "breaking",
        "Values deployed clients send are refused, or values they receive are not of the type they were built for.",
    ),
    "field-constraint-narrowed": (
        "breaking",
        "Values deployed clients send within the old limits are now refused (invalid_payload).",
    ),
    "field-enum-widened": ("breaking", "Deployed clients may receive a value they do not know."),
    "max-bytes-lowered": (
        "breaking",
        "Payloads deployed clients send within the old size are refused (payload_too_large).",
    ),
    "delivery-unsequenced": (
        "breaking",
        "Deployed clients rely on seq/epoch and recovery on reconnect; messages lose them.",
    ),
    "presence-disabled": ("breaking", "Deployed listeners expect the member list on join and presence events."),
    "idempotent-dropped": (
        "breaking",
        "Deployed clients retry with the same message id; the handler may now run twice.",
    ),
    # -- security-relevant
    "access-weakened": ("security", "More users can join the room and receive everything sent to it."),
    "access-replaced": ("security", "A different function now decides who may join; read it before trusting the room."),
    "owner-app-dropped": (
        "security",
        "eventgen now generates join and leave for a room the app managed by hand: whoever passes `access` can enter it.",
    ),
    "room-param-bound-widened": (
        "security",
        "Room names are built from this field: looser bounds let clients name rooms the old rules refused.",
    ),
    "membership-check-removed": (
        "security",
        "Callers no longer need to be members of the room: any user with a session can call the handler.",
    ),
    "relay-added": ("security", "Members of the room can now send messages to every other member."),
    "handle-added": ("security", "Members of the room can now run the server handler."),
    "broadcast-enabled": (
        "security",
        "Every connected client receives the payload, including users who could not join any room of it.",
    ),
    "rate-limit-loosened": ("security", "A client can call the event more often before it is refused."),
    "max-bytes-raised": ("security", "The server accepts larger payloads from clients before validating them."),
    "presence-enabled": ("security", "Members of the room can now see who else is in it."),
    # -- compatible
    "spec-added": ("compatible", "New events; deployed clients do not use them."),
    "spec-removed": ("compatible", "The spec file is gone; its events are listed one by one."),
    "event-added": ("compatible", "Deployed clients do not use it yet."),
    "event-moved": ("compatible", "Same event on the wire; only the spec file that declares it changed."),
    "event-renamed-aliased": ("compatible", "The old name stays served through `renamed_from` until its sunset."),
    "alias-added": ("compatible", "An old name is served as well."),
    "alias-removed-after-sunset": ("compatible", "The announced sunset has passed; clients were given until then."),
    "room-added": ("compatible", "A new room; nobody is in it yet."),
    "room-removed": ("compatible", "No event of the specs uses it any more."),
    "room-renamed": (
        "compatible",
        "Same room name on the wire; only the key in the spec (and generated helper names) changed.",
    ),
    "access-tightened": ("compatible", "Fewer users can join; clients that no longer pass get `forbidden` acks."),
    "owner-app-added": (
        "compatible",
        "The app decides who is in the room; eventgen generates no join or leave for it.",
    ),
    "field-added": (
        "compatible",
        "Deployed clients ignore a field they do not read, and need not send an optional one.",
    ),
    "field-optional": ("compatible", "The server accepts calls with or without the field."),
    "field-type-compatible": (
        "compatible",
        "Every value deployed clients send is still accepted, or every value they receive is one they know.",
    ),
    "field-constraint-compatible": ("compatible", "Deployed clients' values stay valid."),
    "field-default-changed": ("compatible", "Calls that omit the field get the new default."),
    "rate-limit-tightened": (
        "compatible",
        "Clients that call faster than the new limit get `rate_limited` acks and retry later.",
    ),
    "max-bytes-unchanged": ("compatible", "The effective limit is the same."),
    "delivery-sequenced": (
        "compatible",
        "Messages gain `seq` and `epoch` keys; clients that ignore them are unaffected.",
    ),
    "idempotent-added": ("compatible", "Retries with the same message id now run the handler once."),
    "history-changed": (
        "compatible",
        "How far back a reconnecting client can recover; past it, clients reload as they must anyway.",
    ),
    "presence-ttl-changed": ("compatible", "How soon a dead server's members disappear."),
    "timeout-changed": ("compatible", "How long a call may take before its ack is `timeout`."),
    "sunset-changed": ("compatible", "When the old names stop being served."),
    "handler-changed": ("compatible", "Server-side code; review it in the pull request's code diff."),
    "emit-changed": ("compatible", "Server-side only: which helper routers call and where."),
    "listener-changed": ("compatible", "A generated Svelte component; deployed clients keep the one they loaded."),
    "description-changed": ("compatible", "Documentation only."),
    "changed": ("compatible", "No rule classifies this key; check it by hand."),
}


@dataclass
class EventRef:
    item: LoadedSpec
    index: int
    event: Any

    @property
    def loc(self) -> tuple[Any, ...]:
        return ("events", self.index)

    @property
    def name(self) -> str:
        return str(self.event.name)

    @property
    def room(self) -> RoomRef | None:
        key = self.event.room
        if key is None or key not in self.item.spec.rooms:
            return None
        return RoomRef(self.item, key, self.item.spec.rooms[key])


@dataclass(frozen=True)
class RoomRef:
    item: LoadedSpec
    key: str
    room: Any

    @property
    def id(self) -> tuple[str, str]:
        return (self.item.spec.name, self.key)

    @property
    def loc(self) -> tuple[Any, ...]:
        return ("rooms", self.key)

    @property
    def subject(self) -> str:
        return f"room '{self.key}' ({self.room.pattern})"


@dataclass
class Snapshot:
    """Every spec of one side (the ref, or the working tree)."""

    specs: list[LoadedSpec]
    label: str = ""

    def __post_init__(self) -> None:
        self.by_name = {s.spec.name: s for s in self.specs}
        self.events = {e.name: EventRef(s, i, e) for s in self.specs for i, e in enumerate(s.spec.events)}
        self.rooms = {(s.spec.name, k): RoomRef(s, k, r) for s in self.specs for k, r in s.spec.rooms.items()}


def compare(
    old: Snapshot, new: Snapshot, *, today: datetime.date | None = None, max_bytes: int | None = None
) -> list[Finding]:
    """Every classified change from `old` to `new`."""
    return _Compare(old, new, today or datetime.date.today(), max_bytes or DEFAULT_MAX_BYTES).run()


def keys_of(level: str, model: type) -> list[str]:
    """The keys the walk visits at a level: the model's fields and the version 2 keys it does not have yet."""
    names = [name for name in getattr(model, "model_fields", {})]
    return names + [k for k in FUTURE_KEYS[level] if k not in names]


def _walk(level: str, old: Any, new: Any) -> list[str]:
    """keys_of, plus keys a model kept as extra values (a key from a newer format reaches the `changed` rule)."""
    keys = keys_of(level, type(new))
    for side in (old, new):
        keys += [k for k in (getattr(side, "model_extra", None) or {}) if k not in keys]
    return keys


def has_rule(level: str, key: str) -> bool:
    return key in STRUCTURAL[level] or hasattr(_Compare, f"_{level}_{key}")


# -- helpers ----------------------------------------------------------------------


def _alias(model: Any, name: str) -> str:
    info = getattr(type(model), "model_fields", {}).get(name)
    return (info.alias or name) if info is not None else name


def _value(model: Any, name: str) -> Any:
    value = getattr(model, name, None)
    if value is None:
        extra = getattr(model, "model_extra", None) or {}
        value = extra.get(name)
    return value


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(by_alias=True, exclude_unset=True) if callable(dump) else value


def _difference(a: Any, b: Any) -> tuple[Any, ...]:
    """Where two dumped values first differ, as a path below them (() when they differ as a whole)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(b) + [k for k in a if k not in b]:
            if a.get(k) != b.get(k):
                return (k,) + _difference(a.get(k), b.get(k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return (i,) + _difference(x, y)
    return ()


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)) or hasattr(value, "model_dump"):
        return json.dumps(_dump(value), sort_keys=True, default=str)
    return str(value)


def _aliases(event: Any) -> list[str]:
    value = _value(event, "renamed_from")
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _sunset(event: Any) -> datetime.date | None:
    value = _value(event, "sunset")
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _directions(event: Any) -> tuple[bool, bool]:
    """(the server accepts it from clients, clients receive it)."""
    if event.direction == "client_to_server":
        return True, event.action == "relay"
    return False, True


@dataclass
class _Pair:
    old: EventRef
    new: EventRef


@dataclass
class _Compare:
    old: Snapshot
    new: Snapshot
    today: datetime.date
    max_bytes: int
    findings: list[Finding] = field(default_factory=list)
    room_pairs: dict[tuple[str, str], RoomRef] = field(default_factory=dict)  # old room id -> new room

    # -- output ---------------------------------------------------------------

    def add(
        self, kind: str, subject: str, change: str, where: Where, *, why: str | None = None, **context: Any
    ) -> None:
        category, default_why = KINDS[kind]
        self.findings.append(Finding(category, kind, subject, change, why or default_why, where, **context))

    def at_new(self, item: LoadedSpec, loc: tuple[Any, ...], *, key: bool = False) -> Where:
        line, col = item.positions.locate(loc, prefer_key=key)
        return Where(item.path, line, col, "new")

    def at_old(
        self,
        item: LoadedSpec,
        loc: tuple[Any, ...],
        *,
        key: bool = False,
        anchor: tuple[LoadedSpec, tuple[Any, ...]] | None = None,
    ) -> Where:
        line, col = item.positions.locate(loc, prefer_key=key)
        near = None
        if anchor is not None:
            near = (anchor[0].path, anchor[0].positions.locate(anchor[1], prefer_key=True)[0])
        return Where(item.path, line, col, "old", near)

    def at_key(self, item: LoadedSpec, loc: tuple[Any, ...]) -> Where:
        """A change to something that still exists: its line on the new side.

        A key that is gone (a bound, `room:` on a handle, an emit argument) is shown at
        the deepest part of the path that is still there; the old side is kept for
        things that are gone as a whole (a spec, room, event or field), see `at_old`.
        """
        return self.at_new(item, loc, key=True)

    # -- the walk -------------------------------------------------------------

    def run(self) -> list[Finding]:
        self.specs()
        self.rooms()
        self.events()
        return self.findings

    def specs(self) -> None:
        for name, item in self.new.by_name.items():
            old = self.old.by_name.get(name)
            if old is None:
                events = ", ".join(e.name for e in item.spec.events)
                self.add(
                    "spec-added",
                    f"spec '{name}'",
                    f"added with {len(item.spec.events)} event(s): {events}",
                    self.at_new(item, ("name",)),
                    spec=name,
                )
                continue
            for key in _walk("spec", old.spec, item.spec):
                if key in STRUCTURAL["spec"]:
                    continue
                a, b = _value(old.spec, key), _value(item.spec, key)
                if _dump(a) != _dump(b):
                    self.key_rule("spec", key, a, b, f"spec '{name}'", self.at_key(item, (key,)), spec=name)
        for name, old in self.old.by_name.items():
            if name not in self.new.by_name:
                self.add(
                    "spec-removed",
                    f"spec '{name}'",
                    f"removed with its {len(old.spec.events)} event(s)",
                    self.at_old(old, ("name",)),
                    spec=name,
                )

    def key_rule(self, level: str, key: str, a: Any, b: Any, subject: str, where: Where, **context: Any) -> None:
        rule = getattr(self, f"_{level}_{key}", None)
        if rule is None:
            self.add("changed", subject, f"'{key}' changed from {_shown(a)} to {_shown(b)}", where, **context)
        else:
            rule(a, b, subject, where, context)

    # -- rooms ----------------------------------------------------------------

    def rooms(self) -> None:
        old_left = dict(self.old.rooms)
        new_left = dict(self.new.rooms)
        for rid in list(old_left):
            if rid in new_left:
                self.room_pairs[rid] = new_left.pop(rid)
                del old_left[rid]
        # A room whose key changed (or that moved to another spec) keeps its pattern.
        by_pattern: dict[str, list[tuple[str, str]]] = {}
        for rid, ref in new_left.items():
            by_pattern.setdefault(ref.room.pattern, []).append(rid)
        for rid, ref in list(old_left.items()):
            candidates = by_pattern.get(ref.room.pattern, [])
            if len(candidates) == 1 and candidates[0] in new_left:
                new_ref = new_left.pop(candidates[0])
                del old_left[rid]
                self.room_pairs[rid] = new_ref
                self.add(
                    "room-renamed",
                    new_ref.subject,
                    f"was room '{ref.key}' of spec '{ref.item.spec.name}'",
                    self.at_new(new_ref.item, new_ref.loc, key=True),
                    spec=new_ref.item.spec.name,
                    room=new_ref.key,
                )
        for rid, new_ref in self.room_pairs.items():
            self.room_pair(self.old.rooms[rid], new_ref)
        for ref in old_left.values():
            if ref.item.spec.name in self.new.by_name:
                anchor = (self.new.by_name[ref.item.spec.name], ("rooms",))
                self.add(
                    "room-removed",
                    ref.subject,
                    "removed",
                    self.at_old(ref.item, ref.loc, key=True, anchor=anchor),
                    spec=ref.item.spec.name,
                    room=ref.key,
                )
        for ref in new_left.values():
            if ref.item.spec.name in self.old.by_name:
                self.add(
                    "room-added",
                    ref.subject,
                    "added",
                    self.at_new(ref.item, ref.loc, key=True),
                    spec=ref.item.spec.name,
                    room=ref.key,
                )

    def room_pair(self, old: RoomRef, new: RoomRef) -> None:
        context = {"spec": new.item.spec.name, "room": new.key}
        for key in _walk("room", old.room, new.room):
            if key in STRUCTURAL["room"]:
                continue
            a, b = _value(old.room, key), _value(new.room, key)
            if key == "access":
                a, b = old.room.effective_access, new.room.effective_access
            if _dump(a) == _dump(b):
                continue
            below = _difference(_dump(a), _dump(b))
            where = self.at_key(new.item, new.loc + (_alias(new.room, key),) + below)
            self.key_rule("room", key, a, b, new.subject, where, **context)

    def _room_pattern(self, a: str, b: str, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("room-pattern-changed", subject, f"pattern changed from {a} to {b}", where, **context)

    def _room_access(self, a: str, b: str, subject: str, where: Where, context: dict[str, Any]) -> None:
        delta = access_delta(a, b)
        change = f"access changed from {a} to {b}"
        if access_kind(a) == access_kind(b) == "callable":
            self.add("access-replaced", subject, change, where, **context)
        elif delta.widened:
            why = None
            if b == "authenticated":
                why = "Any user with a session can now join the room and receive everything sent to it."
            elif a == "self":
                why = "The room was private to its user; now others can join it and receive what is sent to that user."
            self.add("access-weakened", subject, change, where, why=why, **context)
        else:
            self.add("access-tightened", subject, change, where, **context)

    def _room_owner(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        if a == "app":
            self.add("owner-app-dropped", subject, f"'owner: app' removed (owner is now {_shown(b)})", where, **context)
        elif b == "app":
            self.add("owner-app-added", subject, "declared 'owner: app'", where, **context)
        else:
            self.add("changed", subject, f"owner changed from {_shown(a)} to {_shown(b)}", where, **context)

    def _room_delivery(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        a, b = a or "best_effort", b or "best_effort"
        if a == b:
            return
        if a == "sequenced":
            self.add("delivery-unsequenced", subject, f"delivery changed from {a} to {b}", where, **context)
        elif b == "sequenced":
            self.add("delivery-sequenced", subject, f"delivery changed from {a} to {b}", where, **context)
        else:
            self.add("changed", subject, f"delivery changed from {a} to {b}", where, **context)

    def _room_history(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("history-changed", subject, f"history changed from {_shown(a)} to {_shown(b)}", where, **context)

    def _room_presence(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        if bool(a) == bool(b):
            return
        if b:
            self.add("presence-enabled", subject, "presence enabled", where, **context)
        else:
            self.add("presence-disabled", subject, "presence disabled", where, **context)

    def _room_presence_ttl_s(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add(
            "presence-ttl-changed", subject, f"presence_ttl_s changed from {_shown(a)} to {_shown(b)}", where, **context
        )

    # -- events ---------------------------------------------------------------

    def events(self) -> None:
        old_left = dict(self.old.events)
        new_left = dict(self.new.events)
        pairs: list[tuple[_Pair, str]] = []
        for name in list(old_left):
            if name in new_left:
                pairs.append((_Pair(old_left.pop(name), new_left.pop(name)), "same"))
        # Renamed with an alias: the new event serves the old name.
        for name, ref in list(new_left.items()):
            for alias in _aliases(ref.event):
                if alias in old_left and name in new_left:
                    pairs.append((_Pair(old_left.pop(alias), new_left.pop(name)), "aliased"))
        # Renamed without one: the only removed and the only added event of the same shape.
        shapes_old = Counter(self.shape(r) for r in old_left.values())
        shapes_new = Counter(self.shape(r) for r in new_left.values())
        for name, ref in list(old_left.items()):
            shape = self.shape(ref)
            if shapes_old[shape] == 1 and shapes_new[shape] == 1:
                match = next(n for n, r in new_left.items() if self.shape(r) == shape)
                pairs.append((_Pair(old_left.pop(name), new_left.pop(match)), "renamed"))
        for pair, how in pairs:
            self.event_pair(pair, how)
        for ref in old_left.values():
            self.event_removed(ref)
        for ref in new_left.values():
            self.event_added(ref)
        for ref in self.new.events.values():
            self.sunset_reached(ref)

    @staticmethod
    def shape(ref: EventRef) -> tuple[Any, ...]:
        """What identifies an event apart from its name: a lone removed and added pair of one shape is a rename."""
        room = ref.room
        return (
            ref.event.direction,
            ref.event.action,
            room.room.pattern if room else None,
            ref.event.broadcast,
            tuple(sorted(ref.event.payload)),
        )

    def context(self, ref: EventRef) -> dict[str, Any]:
        return {"spec": ref.item.spec.name, "event": ref.name, "room": ref.event.room}

    def event_removed(self, ref: EventRef) -> None:
        survivor = self.new.by_name.get(ref.item.spec.name)
        anchor = (survivor, ("events",)) if survivor is not None else None
        if ref.event.direction == "server_to_client":
            change, why = (
                "removed (it was sent to clients)",
                "Deployed clients listen for it and never receive it again.",
            )
        else:
            change = "removed (it was sent by clients)"
            why = "Deployed clients still send it and get no acknowledgement: a call awaiting its ack waits until it times out."
        self.add(
            "event-removed",
            f"event '{ref.name}'",
            change,
            self.at_old(ref.item, ref.loc + ("name",), anchor=anchor),
            why=why,
            **self.context(ref),
        )

    def event_added(self, ref: EventRef) -> None:
        event = ref.event
        context = self.context(ref)
        subject = f"event '{ref.name}'"
        if ref.item.spec.name in self.old.by_name:
            self.add("event-added", subject, "added", self.at_new(ref.item, ref.loc + ("name",)), **context)
        room = ref.room
        if room is not None and event.action in ("relay", "handle") and self.old_room_of(room) is not None:
            self.add(
                f"{event.action}-added",
                subject,
                f"new {event.action} event in existing {room.subject}",
                self.at_new(ref.item, ref.loc + ("action",)),
                **context,
            )
        if event.broadcast:
            self.add(
                "broadcast-enabled",
                subject,
                "new event sent to every connected client (broadcast: true)",
                self.at_new(ref.item, ref.loc + ("broadcast",)),
                **context,
            )

    def old_room_of(self, new_room: RoomRef) -> RoomRef | None:
        for rid, ref in self.room_pairs.items():
            if ref.id == new_room.id:
                return self.old.rooms[rid]
        return None

    def event_pair(self, pair: _Pair, how: str) -> None:
        old, new = pair.old, pair.new
        context = self.context(new)
        subject = f"event '{new.name}'"
        if how == "aliased":
            self.add(
                "event-renamed-aliased",
                subject,
                f"renamed from '{old.name}', which stays served (renamed_from)",
                self.at_new(new.item, new.loc + ("name",)),
                **context,
            )
        elif how == "renamed":
            self.add(
                "event-renamed",
                subject,
                f"renamed from '{old.name}' without renamed_from",
                self.at_new(new.item, new.loc + ("name",)),
                **context,
            )
        elif old.item.spec.name != new.item.spec.name:
            self.add(
                "event-moved",
                subject,
                f"moved from spec '{old.item.spec.name}' to spec '{new.item.spec.name}'",
                self.at_new(new.item, new.loc + ("name",)),
                **context,
            )
        self.aliases(old, new, subject, context)
        if old.event.direction != new.event.direction:
            self.add(
                "direction-changed",
                subject,
                f"direction changed from {old.event.direction} to {new.event.direction}",
                self.at_new(new.item, new.loc + ("direction",)),
                **context,
            )
            return  # another event in all but name: its payload is compared by nobody
        if old.event.action != new.event.action:
            self.add(
                "action-changed",
                subject,
                f"action changed from {old.event.action} to {new.event.action}",
                self.at_new(new.item, new.loc + ("action",)),
                **context,
            )
            room = new.room
            if new.event.action in ("relay", "handle") and room is not None and self.old_room_of(room) is not None:
                self.add(
                    f"{new.event.action}-added",
                    subject,
                    f"now a {new.event.action} event in existing {room.subject}",
                    self.at_new(new.item, new.loc + ("action",)),
                    **context,
                )
        self.event_room(old, new, subject, context)
        for key in _walk("event", old.event, new.event):
            if key in STRUCTURAL["event"]:
                continue
            a, b = _value(old.event, key), _value(new.event, key)
            if _dump(a) == _dump(b):
                continue
            below = _difference(_dump(a), _dump(b))
            where = self.at_key(new.item, new.loc + (_alias(new.event, key),) + below)
            self.key_rule("event", key, a, b, subject, where, **context)
        self.payload(old, new, context)

    def event_room(self, old: EventRef, new: EventRef, subject: str, context: dict[str, Any]) -> None:
        a, b = old.room, new.room
        where = self.at_key(new.item, new.loc + ("room",))
        if old.event.broadcast != new.event.broadcast:
            # At the key that now routes the event: `broadcast: true`, or the `room:` that replaced it.
            key = "broadcast" if new.event.broadcast else "room"
            where = self.at_key(new.item, new.loc + (key,))
            if new.event.broadcast:
                self.add(
                    "broadcast-enabled",
                    subject,
                    f"now sent to every connected client instead of {a.subject if a else 'a room'}",
                    where,
                    **context,
                )
            else:
                self.add(
                    "broadcast-disabled",
                    subject,
                    f"now sent only to {b.subject if b else 'a room'} instead of every connected client",
                    where,
                    **context,
                )
            return
        if a is None and b is None:
            return
        if a is not None and b is not None:
            paired = self.room_pairs.get(a.id)
            if paired is not None and paired.id == b.id:
                return  # the same room: its own changes are reported once, at the room
            self.add("event-room-changed", subject, f"moved from {a.subject} to {b.subject}", where, **context)
        elif a is None and b is not None:
            self.add("event-room-changed", subject, f"now needs membership of {b.subject}", where, **context)
        elif a is not None:
            self.add("membership-check-removed", subject, f"no longer tied to {a.subject}", where, **context)

    def aliases(self, old: EventRef, new: EventRef, subject: str, context: dict[str, Any]) -> None:
        before, after = _aliases(old.event), _aliases(new.event)
        sunset = _sunset(old.event)
        for alias in before:
            if alias in after or alias == new.name:
                continue
            where = self.at_key(new.item, new.loc + ("renamed_from",))
            if sunset is not None and sunset <= self.today:
                self.add(
                    "alias-removed-after-sunset",
                    subject,
                    f"old name '{alias}' removed (sunset {sunset.isoformat()})",
                    where,
                    **context,
                )
            else:
                until = f" (sunset {sunset.isoformat()} not reached)" if sunset else ""
                self.add("alias-removed", subject, f"old name '{alias}' no longer served{until}", where, **context)
        for alias in after:
            if alias not in before and alias != old.name:
                self.add(
                    "alias-added",
                    subject,
                    f"also served as '{alias}'",
                    self.at_new(new.item, new.loc + ("renamed_from",)),
                    **context,
                )
        a, b = _sunset(old.event), _sunset(new.event)
        if a != b and b is not None and before and after:  # a sunset that comes with a new alias is part of alias-added
            self.add(
                "sunset-changed",
                subject,
                f"sunset changed from {a.isoformat() if a else 'none'} to {b.isoformat()}",
                self.at_new(new.item, new.loc + ("sunset",)),
                **context,
            )

    def sunset_reached(self, ref: EventRef) -> None:
        aliases, sunset = _aliases(ref.event), _sunset(ref.event)
        if aliases and sunset is not None and sunset <= self.today:
            names = ", ".join(f"'{a}'" for a in aliases)
            self.add(
                "sunset-reached",
                f"event '{ref.name}'",
                f"sunset {sunset.isoformat()} reached while old name(s) {names} remain in renamed_from; remove them",
                self.at_new(ref.item, ref.loc + ("sunset",)),
                **self.context(ref),
            )

    def _event_description(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("description-changed", subject, "description changed", where, **context)

    def _event_handler(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("handler-changed", subject, f"handler changed from {_shown(a)} to {_shown(b)}", where, **context)

    def _event_emit(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("emit-changed", subject, "emit (helper or router calls) changed", where, **context)

    def _event_listener(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("listener-changed", subject, f"listener changed from {_shown(a)} to {_shown(b)}", where, **context)

    def _event_rate_limit(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        delta = rate_delta(a, b)
        change = "rate limit removed" if b is None else f"rate_limit changed from {_shown(a)} to {_shown(b)}"
        if delta.widened:
            self.add("rate-limit-loosened", subject, change, where, **context)
        elif delta.narrowed:
            self.add(
                "rate-limit-tightened",
                subject,
                change if a is not None else f"rate limit added: {_shown(b)}",
                where,
                **context,
            )

    def _event_max_bytes(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        before, after = a if a is not None else self.max_bytes, b if b is not None else self.max_bytes
        shown = f"max_bytes changed from {before} to {after}" + (
            " (the project default)" if a is None or b is None else ""
        )
        delta = size_delta(before, after)
        if delta.widened:
            self.add("max-bytes-raised", subject, shown, where, **context)
        elif delta.narrowed:
            self.add("max-bytes-lowered", subject, shown, where, **context)
        else:
            self.add(
                "max-bytes-unchanged",
                subject,
                f"max_bytes {_shown(a)} -> {_shown(b)}, {after} in effect either way",
                where,
                **context,
            )

    def _event_timeout_s(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("timeout-changed", subject, f"timeout_s changed from {_shown(a)} to {_shown(b)}", where, **context)

    def _event_timeout_ms(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("timeout-changed", subject, f"timeout_ms changed from {_shown(a)} to {_shown(b)}", where, **context)

    def _event_idempotent(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        if bool(a) == bool(b):
            return
        if a:
            self.add("idempotent-dropped", subject, "no longer idempotent", where, **context)
        else:
            self.add("idempotent-added", subject, "now idempotent", where, **context)

    # -- payloads -------------------------------------------------------------

    def payload(self, old: EventRef, new: EventRef, context: dict[str, Any]) -> None:
        accepts, receives = _directions(new.event)
        room = new.room
        params = set(room.room.params) if room is not None and accepts else set()
        before, after = old.event.payload, new.event.payload
        for name, spec in after.items():
            loc = new.loc + ("payload", name)
            subject = f"field '{name}' of event '{new.name}'"
            if name not in before:
                if accepts and spec.is_required:
                    self.add(
                        "field-added-required",
                        subject,
                        f"added as required ({spec.type})",
                        self.at_new(new.item, loc, key=True),
                        **context,
                    )
                else:
                    self.add(
                        "field-added",
                        subject,
                        f"added ({spec.type}{'' if spec.is_required else ', optional'})",
                        self.at_new(new.item, loc, key=True),
                        **context,
                    )
                continue
            sent = (
                self.field(before[name], spec, "accepts", name in params, subject, new, name, context)
                if accepts
                else []
            )
            seen = self.field(before[name], spec, "receives", False, subject, new, name, context) if receives else []
            # A relay is read twice (by the server, then by the other members): one change, the graver reading.
            for finding in seen:
                twin = next((f for f in sent if f.change == finding.change), None)
                if twin is None:
                    sent.append(finding)
                elif _rank(finding) < _rank(twin):
                    sent[sent.index(twin)] = finding
            self.findings.extend(sent)
        for name in before:
            if name not in after:
                loc = old.loc + ("payload", name)
                subject = f"field '{name}' of event '{new.name}'"
                anchor = (new.item, new.loc + ("payload",)) if new.event.payload else (new.item, new.loc)
                why = (
                    "Deployed clients still send this key, and the server refuses unknown keys (invalid_payload)."
                    if accepts
                    else "Deployed clients read this key from what they receive, and it is no longer sent."
                )
                self.add(
                    "field-removed",
                    subject,
                    "removed",
                    self.at_old(old.item, loc, key=True, anchor=anchor),
                    why=why,
                    **context,
                )

    def field(
        self, a: Any, b: Any, mode: str, is_param: bool, subject: str, new: EventRef, name: str, context: dict[str, Any]
    ) -> list[Finding]:
        """One field's changes as the server accepts it (`accepts`) or as clients receive it (`receives`)."""
        out: list[Finding] = []
        new_loc = new.loc + ("payload", name)

        def where(key: str | None) -> Where:
            if key is None:
                return self.at_new(new.item, new_loc)
            return self.at_key(new.item, new_loc + (key,))

        def add(kind: str, change: str, key: str | None, why: str | None = None) -> None:
            category, default_why = KINDS[kind]
            out.append(Finding(category, kind, subject, change, why or default_why, where(key), **context))

        for key in _walk("field", a, b):
            x, y = _value(a, key), _value(b, key)
            if key in ("type", "required", "default") or _dump(x) == _dump(y):
                continue  # type, required and default are read together below
            if key in ("min_length", "ge"):
                self.constraint(add, mode, is_param, key, lower_bound_delta(x, y), x, y)
            elif key in ("max_length", "le"):
                self.constraint(add, mode, is_param, key, upper_bound_delta(x, y), x, y)
            elif key == "enum":
                self.constraint(add, mode, is_param, key, enum_delta(x, y), x, y)
            elif key == "description":
                add("description-changed", "description changed", key)
            else:
                add("changed", f"'{key}' changed from {_shown(x)} to {_shown(y)}", key)
        old_type, new_type = self.seen_type(a, mode), self.seen_type(b, mode)
        delta = type_delta(old_type, new_type)
        change = (
            f"type changed from {a.type} to {b.type}"
            if a.type != b.type
            else f"may now be null ({b.type}, optional without a default)"
        )
        if mode == "accepts" and delta.narrowed or mode == "receives" and delta.widened:
            add("field-type-changed", change, "type" if a.type != b.type else None)
        elif delta:
            add("field-type-compatible", change, "type" if a.type != b.type else None)
        if mode == "accepts" and a.is_required != b.is_required:
            if b.is_required:
                add("field-required", "now required", "required")
            else:
                add("field-optional", "now optional", "required" if "required" in b.model_fields_set else "default")
        if _value(a, "default") != _value(b, "default") and (
            "default" in a.model_fields_set or "default" in b.model_fields_set
        ):
            add(
                "field-default-changed",
                f"default changed from {_shown(_value(a, 'default'))} to {_shown(_value(b, 'default'))}",
                "default",
            )
        return out

    @staticmethod
    def seen_type(spec: Any, mode: str) -> TypeRef:
        """The server checks the declared type (requiredness has its own rule); clients see null for an absent optional field."""
        return parse_type(spec.type) if mode == "accepts" else spec.type_ref

    @staticmethod
    def constraint(add: Any, mode: str, is_param: bool, key: str, delta: Delta, x: Any, y: Any) -> None:
        if not delta:
            return
        if y is None:
            change = f"{key} {_shown(x)} removed"
        elif x is None:
            change = f"{key} {_shown(y)} added"
        else:
            change = f"{key} changed from {_shown(x)} to {_shown(y)}"
        if mode == "accepts":
            if delta.narrowed:
                add("field-constraint-narrowed", change, key)
            if delta.widened:
                if is_param:
                    why = None
                    if y is None:
                        why = "Room names are built from this field: without the bound it falls back to the default, and clients can name rooms the old rules refused."
                    add("room-param-bound-widened", change, key, why)
                elif not delta.narrowed:
                    add("field-constraint-compatible", change, key)
        elif key == "enum" and delta.widened:
            add("field-enum-widened", change, key)
        else:
            add("field-constraint-compatible", change, key)

    def _spec_description(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("description-changed", subject, "description changed", where, **context)

    def _spec_version(self, a: Any, b: Any, subject: str, where: Where, context: dict[str, Any]) -> None:
        self.add("changed", subject, f"version changed from {a} to {b}", where, **context)


_RANK = {"breaking": 0, "security": 1, "compatible": 2}


def _rank(finding: Finding) -> int:
    return _RANK[finding.category]
