"""What the Python templates are given: frozen records of text, computed here so the templates stay free of logic."""

from __future__ import annotations

from dataclasses import dataclass

from ..render import py_str, py_value
from ..spec.models import EventSpec, FieldSpec, RoomSpec, pascal
from ..spec.rooms import pattern_parts

# Room params a spec leaves unbounded (CONTRACT 6.1): a client cannot make the server hold a huge name.
ROOM_PARAM_BOUNDS = {"min_length": 1, "max_length": 128}


@dataclass(frozen=True)
class RoomView:
    """A room-name function of the models module."""

    func: str
    pattern: str
    signature: str
    expr: str


@dataclass(frozen=True)
class ModelView:
    """A payload model of the models module."""

    name: str
    base: str
    doc: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Renames:
    """Old names (CONTRACT 10): served by the same handler, emitted beside the new name until the sunset."""

    aliases: tuple[str, ...] = ()
    aliases_tuple: str = "()"
    sunset: str = ""


class _Renamed:
    """The template reads an event's renames as the handler's or helper's own attributes."""

    renames: Renames

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.renames.aliases

    @property
    def aliases_tuple(self) -> str:
        return self.renames.aliases_tuple

    @property
    def sunset(self) -> str:
        return self.renames.sunset


@dataclass(frozen=True)
class HandlerView(_Renamed):
    """One generated `@sio.on` handler (socket_region.py.j2)."""

    name: str
    template: str
    func: str
    doc: str
    model: str
    action: str
    room_func: str
    room_args: str
    room_params: str
    timeout: str
    payload_var: str
    sequenced: bool
    presence: str  # presence room: the join's track() arguments, "leave" for its leave; "" otherwise
    idempotent: bool
    wait_s: str
    max_bytes: int
    rate_limit: str
    renames: Renames
    access: str = ""  # "", "self" or "callable"
    access_call: str = ""
    self_param: str = ""
    handler_call: str = ""


@dataclass(frozen=True)
class EmitterView(_Renamed):
    """One generated emit helper (socket_region.py.j2)."""

    helper: str
    name: str
    template: str
    signature: str
    model: str
    call_args: str
    room_func: str
    room_args: str
    doc: str
    sequenced: bool
    history: str
    renames: Renames


@dataclass(frozen=True)
class Limits:
    """The models module's per-socket bounds and session shape (CONTRACT 7)."""

    timeout_s: str
    max_rooms: int
    max_inflight: int
    session_value: str


@dataclass(frozen=True)
class RateDisconnect:
    """Config rate_limit_disconnect_after: a socket refused this often within the window is disconnected."""

    after: int
    window_s: str


def room_expr(pattern: str) -> str:
    """Python expression building the room name from its params (no f-string: no escaping traps).
    Each value is escaped (CONTRACT 6.1) inline, with builtins only: a param may have any name."""
    return " + ".join(
        f'str({text}).replace("%", "%25").replace(":", "%3A")' if param else py_str(text)
        for text, param in pattern_parts(pattern)
    )


def model_name(event: EventSpec) -> str:
    return pascal(event.name) + "Payload"


def field_decl(name: str, field: FieldSpec, *, room_param: bool = False) -> str:
    """`name: annotation = Field(...)` for a payload model."""
    t = field.type_ref
    if room_param and t.kind == "str":
        field = field.model_copy(update={k: v for k, v in ROOM_PARAM_BOUNDS.items() if getattr(field, k) is None})
    annotation = t.python()
    if field.enum is not None:
        annotation = "Literal[" + ", ".join(py_value(v) for v in field.enum) + "]"
        if t.nullable:
            annotation += " | None"
    kwargs = []
    for key in ("min_length", "max_length", "ge", "le"):
        value = getattr(field, key)
        if value is not None:
            if key in ("ge", "le") and float(value).is_integer() and t.kind == "int":
                value = int(value)
            kwargs.append(f"{key}={value!r}")
    if field.description:
        kwargs.append(f"description={py_str(field.description)}")
    default = _default(field)
    if kwargs:
        args = ([default] if default is not None else []) + kwargs
        return f"{name}: {annotation} = Field({', '.join(args)})"
    if default is not None:
        return f"{name}: {annotation} = {default}"
    return f"{name}: {annotation}"


def _default(field: FieldSpec) -> str | None:
    if "default" in field.model_fields_set:
        return py_value(field.default)
    return None if field.is_required else "None"


def builtin_annotation(field: FieldSpec) -> str:
    """Signature annotations use builtins only: the socket module may lack typing imports."""
    return field.type_ref.python().replace("Any", "object")


def seconds(value: float) -> str:
    """A timeout as a Python literal: 10.0, 0.25."""
    return repr(float(value))


def renames(event: EventSpec) -> Renames:
    aliases = tuple(event.renamed_from)
    return Renames(
        aliases=aliases,
        aliases_tuple="(" + ", ".join(py_str(a) for a in aliases) + ("," if len(aliases) == 1 else "") + ")",
        sunset=event.sunset.isoformat() if event.sunset else "",
    )


def handler_doc(event: EventSpec, room: RoomSpec | None, path: str) -> str:
    pattern = room.pattern if room else ""
    verb = {
        "join": f"Join the caller to room {pattern}",
        "leave": f"Remove the caller from room {pattern}",
        "relay": f"Relay the payload to the other members of room {pattern}",
        "handle": f"Pass the payload to {event.handler}",
    }[event.action or "handle"]
    extra = f" {event.description}" if event.description else ""
    return f"`{event.name}`: {verb} ({path}).{extra}"


def import_as(dotted: str, alias: str) -> str:
    package, _, name = dotted.rpartition(".")
    return f"from {package} import {name} as {alias}" if package else f"import {name} as {alias}"
