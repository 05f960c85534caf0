"""TypeScript names and types shared by events.ts and the listeners that import from it.

Names derive from the event name the way the Python payload models do, so
`feature:updated` is `FeatureUpdatedPayload` on both sides. The cross-spec rules
already make `pascal(event.name)` and `event_snake(event.name)` unique; each
suffix below is not a suffix of another, so derived names cannot collide either.
"""

from __future__ import annotations

import json
import math

from ...render import js_str
from ...spec.models import (
    ROOM_PARAM_RE,
    EventSpec,
    FieldSpec,
    Spec,
    camel,
    event_snake,
    pascal,
    room_func,
)

# Words a parameter or prop cannot be named in strict-mode JavaScript and TypeScript.
JS_RESERVED = frozenset(
    [
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "interface",
        "let",
        "new",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "arguments",
        "eval",
        "undefined",
    ]
)


def payload_type(event: EventSpec) -> str:
    return pascal(event.name) + "Payload"


def message_type(event: EventSpec) -> str:
    """What clients receive from a relay: the payload plus the sender."""
    return pascal(event.name) + "Message"


def ok_type(event: EventSpec) -> str:
    return pascal(event.name) + "Ok"


def ack_type(event: EventSpec) -> str:
    return pascal(event.name) + "Ack"


def received_type(event: EventSpec) -> str:
    return message_type(event) if event.action == "relay" else payload_type(event)


def emit_function(name: str) -> str:
    """`emitBoardCompute`: the typed function of events.ts that sends an event and resolves to its ack."""
    return "emit" + pascal(name)


def constant(event: EventSpec) -> str:
    return event_snake(event.name).upper()


def room_function(spec: Spec, key: str) -> str:
    """`featureRoom`: the camelCase twin of the Python room function."""
    return camel(room_func(spec.name, key))


def ts_literal(value: str | float | bool) -> str:
    if isinstance(value, str):
        return js_str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "number"
    return json.dumps(value)


def field_type(field: FieldSpec) -> str:
    """The TypeScript type of a field's value (without the optional `?`)."""
    t = field.type_ref
    if field.enum is not None:
        literals = " | ".join(dict.fromkeys(ts_literal(v) for v in field.enum))
        return f"{literals} | null" if t.nullable else literals
    return t.typescript()


def room_params(pattern: str) -> list[str]:
    return ROOM_PARAM_RE.findall(pattern)


def room_param_type(spec: Spec, key: str, param: str) -> str:
    """A room parameter's type, from the join event when there is one (the rules allow str or int)."""
    users = [e for e in spec.events if e.room == key and param in e.payload]
    users.sort(key=lambda e: e.action != "join")
    return users[0].payload[param].type_ref.typescript() if users else "string | number"
