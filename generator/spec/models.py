"""The spec format, version 1 (CONTRACT.md section 2), as pydantic models.

These models are the single source of the spec's rules that concern one
value or one file; `generator.spec.rules` holds the rules that span specs.
Their `description`s feed the JSON Schema and the spec reference.
"""

from __future__ import annotations

import builtins
import datetime
import keyword
import math
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .expressions import argument_problem
from .problems import Problem, Problems, raise_any
from .rooms import PatternError, Shape, parse_pattern
from .types import TypeRef, TypeSyntaxError, parse_type

SPEC_NAME_RE = r"^[a-z][a-z0-9_]{0,62}$"
EVENT_NAME_RE = r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$"
IDENT_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"
COMPONENT_RE = r"^[A-Z][A-Za-z0-9]{0,63}$"
CALLABLE_RE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
ROOM_PARAM_RE = re.compile(r"\{([^{}]*)\}")

# What each pattern means, in the words an error message uses.
PATTERN_RULES = {
    SPEC_NAME_RE: "must be snake_case: a lowercase letter, then lowercase letters, digits or '_' (63 characters at most)",
    EVENT_NAME_RE: "is not a valid event name: start with a letter; use letters, digits, '_', '.', ':' or '-' (64 characters at most)",
    IDENT_RE: "is not a Python identifier (letters, digits and '_', not starting with a digit)",
    COMPONENT_RE: "is not a component name: PascalCase, letters and digits, starting with an uppercase letter",
    CALLABLE_RE: "is not a callable reference: write pkg.module:func",
}

# Names generated code defines for itself: a spec may not take them.
MODELS_ALIAS = "eventgen_models"  # how the socket module imports the payload models
DELIVERY_ALIAS = "eventgen_delivery"  # how it imports the sequenced-delivery runtime (rooms with delivery: sequenced)
PRESENCE_ALIAS = "eventgen_presence"  # how it imports the presence runtime (rooms with presence: true)
RESERVED_MODELS = frozenset({"ClientPayload", "ServerPayload"})  # base classes in the models module
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
# A payload field with a default binds its name in the model's class body, where later
# annotations and Field(...) calls would then find the default instead of the type.
_MODEL_MODULE_NAMES = frozenset(
    {"str", "int", "float", "bool", "dict", "list", "Any", "Literal", "Field", MODELS_ALIAS}
)
# pycodestyle's E741/E743: names easily misread as 1 and 0; generated code must pass ruff's E rules.
_AMBIGUOUS = frozenset({"l", "I", "O"})
_PYDANTIC_ATTRIBUTES = frozenset(name for name in dir(BaseModel) if not name.startswith("_"))

# Client side (CONTRACT 10): how long a generated emit function waits for its ack by default, and the
# payload key that carries an idempotent call's key (a key no spec field can take on an idempotent event).
DEFAULT_TIMEOUT_MS = 10_000
MAX_TIMEOUT_MS = 3_600_000
IDEMPOTENCY_KEY = "idempotency_key"

# `message` is the event Socket.IO's send() uses.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener", "message"}
)
# pydantic reserves these on models; a payload field with such a name would break the model.
_RESERVED_FIELD_PREFIXES = ("model_", "_")


class _Strict(BaseModel):
    # strict: a spec is code; "yes" is not a boolean and "5" is not a number.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class FieldSpec(_Strict):
    """One payload field in long form (the short form is just the type string)."""

    type: str = Field(
        description="Field type: str, int, float, bool, dict, list, any, list[T], dict[str, T] or T | None."
    )
    required: bool = Field(
        True, description="Whether the field must be present. A field with a default is never required."
    )
    default: Any = Field(None, description="Default value used when the field is absent (implies required: false).")
    description: str | None = Field(None, description="Human description, copied into generated docstrings and types.")
    min_length: int | None = Field(None, ge=0, description="Minimum length of a str, list or dict.")
    max_length: int | None = Field(None, ge=0, description="Maximum length of a str, list or dict.")
    ge: float | None = Field(None, description="Inclusive lower bound of an int or float.")
    le: float | None = Field(None, description="Inclusive upper bound of an int or float.")
    # Element types are checked against the field's type by _constraints_fit_type,
    # which words the error better than a union of four types would.
    enum: list[Annotated[Any, WithJsonSchema({"type": ["string", "number"]})]] | None = Field(
        None, min_length=1, description="The only values allowed (str, int or float fields)."
    )

    @property
    def type_ref(self) -> TypeRef:
        t = parse_type(self.type)
        if not self.is_required and "default" not in self.model_fields_set:
            return t.with_nullable()
        return t

    @property
    def is_required(self) -> bool:
        return self.required and "default" not in self.model_fields_set

    @field_validator("type")
    @classmethod
    def _type_parses(cls, value: str) -> str:
        try:
            parse_type(value)
        except TypeSyntaxError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _constraints_fit_type(self) -> FieldSpec:
        t = parse_type(self.type)
        problems: list[Problem] = []
        for key in ("min_length", "max_length"):
            if getattr(self, key) is not None and not t.sized:
                problems.append(
                    Problem((key,), f"'{key}' applies to str, list and dict fields, not {self.type}", key=True)
                )
        for key in ("ge", "le"):
            if getattr(self, key) is not None and not t.numeric:
                problems.append(Problem((key,), f"'{key}' applies to int and float fields, not {self.type}", key=True))
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            problems.append(
                Problem(
                    ("min_length",), f"min_length ({self.min_length}) is greater than max_length ({self.max_length})"
                )
            )
        if self.ge is not None and self.le is not None and self.ge > self.le:
            problems.append(Problem(("ge",), f"ge ({_num(self.ge)}) is greater than le ({_num(self.le)})"))
        if self.enum is not None:
            if t.kind not in ("str", "int", "float"):
                problems.append(
                    Problem(("enum",), f"'enum' applies to str, int and float fields, not {self.type}", key=True)
                )
            else:
                for i, value in enumerate(self.enum):
                    if not t.accepts(value):
                        problems.append(Problem(("enum", i), f"enum value {_shown(value)} is not {t.noun}"))
        if "default" in self.model_fields_set:
            if self.required and "required" in self.model_fields_set:
                problems.append(
                    Problem(("required",), "a field with a default is optional: drop 'required: true' or the default")
                )
            if not t.accepts(self.default):
                hint = f" (write '{self.type} | None' to allow null)" if self.default is None else ""
                problems.append(Problem(("default",), f"default {_shown(self.default)} is not {t.noun}{hint}"))
            elif self.enum is not None and self.default not in self.enum:
                problems.append(Problem(("default",), f"default {_shown(self.default)} is not one of the enum values"))
        raise_any(problems)
        return self


class HistorySpec(_Strict):
    """How much of a sequenced room's past the server keeps for clients that reconnect."""

    size: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description=(
            "Most events kept per room (the newest). A client that missed more than this while away gets "
            "recovered: false and reloads. Cost: about the size of one message per kept event, per room."
        ),
    )
    ttl_s: int = Field(
        600,
        ge=1,
        le=30 * 86400,
        description=(
            "Seconds the history outlives the room's last event. A client away longer than this (and every "
            "client after a quiet period this long) gets recovered: false and reloads."
        ),
    )


# Keys a sequenced room's server events carry besides their payload (CONTRACT 8).
SEQUENCED_KEYS = ("seq", "epoch")
# Presence (CONTRACT 9): how long a silent process keeps its members, and the keys of a presence event
# besides the room params.
PRESENCE_TTL_DEFAULT_S = 30
PRESENCE_TTL_MIN_S = 2
PRESENCE_TTL_MAX_S = 3600
PRESENCE_KEYS = ("joins", "leaves", "version")


def presence_event(spec: str, key: str) -> str:
    """The event a presence room's membership changes are sent as."""
    return f"{spec}:{key}:presence"


class RoomSpec(_Strict):
    """A family of Socket.IO rooms, named by a pattern with {params}."""

    pattern: str = Field(
        description=(
            "Room name pattern: ':'-separated segments, each literal text or exactly one {param}, the first one literal "
            "('feature:{feature_id}', 'chat:{chat_id}:typing', 'lobby'). Each {param} must be a payload field of every "
            "event using the room; its value is escaped ('%' -> '%25', ':' -> '%3A') before it goes into the name."
        ),
        min_length=1,
        max_length=200,
    )
    access: str | None = Field(
        None,
        description=(
            "Who may join: 'authenticated' (any user with a session), 'self' (the single param must equal the "
            "session user's id) or 'pkg.module:func' called as func(user, **params) -> bool | Awaitable[bool]. "
            "Required unless the pattern is user:{...}, which defaults to 'self', or the room is owner: app."
        ),
    )
    owner: Literal["app"] | None = Field(
        None,
        description=(
            "'app': the application puts sockets in this room itself (e.g. user:{id} or channel:{id} entered in "
            "connect). eventgen then generates no join or leave for it; emits, relays and listeners work as usual. "
            "Required when the socket module enters a room of the same shape by hand."
        ),
    )

    delivery: Literal["best_effort", "sequenced"] = Field(
        "best_effort",
        description=(
            "'sequenced': every event an emit helper sends to the room carries 'seq' (1, 2, 3, ... per room, no gaps "
            "within an epoch) and 'epoch', numbered atomically across server processes (in the Redis of the "
            "server's AsyncRedisManager, else in memory) and kept in a capped history; the room's join accepts "
            "'since: {epoch, seq}' and answers with what the client missed, or recovered: false. Relays stay "
            "unsequenced. 'best_effort' (default): plain Socket.IO delivery."
        ),
    )
    history: HistorySpec | None = Field(
        None,
        description="sequenced rooms only: history kept for recovery, {size, ttl_s} (default {size: 1000, ttl_s: 600}).",
    )
    presence: bool = Field(
        False,
        description=(
            "true: the room keeps who is in it across server processes (in the Redis of the server's "
            "AsyncRedisManager, else in memory). The join ack carries 'members' ({id, name, connections} per user, "
            "one entry however many sockets); changes are sent to the room as '<spec>:<room key>:presence' with the "
            "room params, 'joins', 'leaves' and 'version'. A user leaves with their last socket."
        ),
    )
    presence_ttl_s: int | None = Field(
        None,
        ge=PRESENCE_TTL_MIN_S,
        le=PRESENCE_TTL_MAX_S,
        description=(
            "presence rooms only: seconds after which the members of a server process that stopped "
            "heartbeating (crashed, killed) are removed and their leaves sent (default 30). Each process "
            "heartbeats every quarter of it."
        ),
    )

    @property
    def params(self) -> list[str]:
        return ROOM_PARAM_RE.findall(self.pattern)

    @property
    def sequenced(self) -> bool:
        return self.delivery == "sequenced"

    @property
    def ttl_s(self) -> int:
        """How long a presence room keeps a silent process's members (the default when the spec gives none)."""
        return self.presence_ttl_s if self.presence_ttl_s is not None else PRESENCE_TTL_DEFAULT_S

    @property
    def kept(self) -> HistorySpec:
        """The history a sequenced room keeps (the default when the spec gives none)."""
        return self.history or HistorySpec.model_validate({})

    @property
    def shape(self) -> Shape:
        return parse_pattern(self.pattern)[0]

    @property
    def app_owned(self) -> bool:
        return self.owner == "app"

    @property
    def is_user_room(self) -> bool:
        return self.pattern.startswith("user:{") and len(self.params) == 1

    @property
    def effective_access(self) -> str:
        if self.app_owned and self.access is None:
            return "app"
        return self.access or ("self" if self.is_user_room else "authenticated")

    @field_validator("pattern")
    @classmethod
    def _pattern_well_formed(cls, value: str) -> str:
        try:
            _, params = parse_pattern(value)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        for param in params:
            if not re.match(IDENT_RE, param) or keyword.iskeyword(param):
                raise ValueError(f"room parameter {{{param}}} must be a Python identifier")
            if param in _AMBIGUOUS:
                raise ValueError(
                    f"room parameter {{{param}}} reads like 1 or 0 (pycodestyle E741); choose a longer name"
                )
        if len(set(params)) != len(params):
            raise ValueError(f"room pattern {value!r} repeats a parameter")
        return value

    @field_validator("access")
    @classmethod
    def _access_form(cls, value: str | None) -> str | None:
        if value is None or value in ("authenticated", "self"):
            return value
        if not re.match(CALLABLE_RE, value):
            raise ValueError(f"access {value!r} must be 'authenticated', 'self' or 'pkg.module:func'")
        return value

    @model_validator(mode="after")
    def _access_rules(self) -> RoomSpec:
        if self.access is None and not self.is_user_room and not self.app_owned:
            raise Problems(
                [
                    Problem(
                        (),
                        f"room {self.pattern!r} needs 'access' (authenticated, self or pkg.module:func), or 'owner: app' when the app puts sockets in it; only user:{{...}} rooms default to self",
                        key=True,
                    )
                ]
            )
        if self.access == "self" and len(self.params) != 1:
            raise Problems(
                [
                    Problem(
                        ("access",),
                        "access 'self' needs a pattern with exactly one {param}, compared with the user's id",
                    )
                ]
            )
        if self.history is not None and not self.sequenced:
            raise Problems([Problem(("history",), "'history' is for rooms with 'delivery: sequenced'", key=True)])
        if self.presence_ttl_s is not None and not self.presence:
            raise Problems(
                [Problem(("presence_ttl_s",), "'presence_ttl_s' is for rooms with 'presence: true'", key=True)]
            )
        if self.presence and self.app_owned:
            raise Problems(
                [
                    Problem(
                        ("presence",),
                        "presence is recorded by generated joins; an 'owner: app' room has none",
                        key=True,
                    )
                ]
            )
        return self


class EmitCallSite(_Strict):
    """A router endpoint into which eventgen patches a call to the emit helper."""

    file: str = Field(description="Router file, relative to the project root.", min_length=1)
    function: str = Field(
        description="Name of the async endpoint function (Class.method for a method).",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$",
    )
    after: str | None = Field(
        None,
        description=(
            "Dotted callee, e.g. Features.update_feature: the call is inserted right after the one statement of the "
            "endpoint that calls it (also inside if/try/with blocks). Give either 'after' or 'before'."
        ),
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
    )
    before: Literal["return"] | None = Field(
        None,
        description=(
            "'return': the call is inserted just before the endpoint's final return statement (the last statement of "
            "its body, or of a with/try block that ends it), so it runs only once every check above it has passed "
            "and an early return or raise emits nothing. Give either 'after' or 'before'."
        ),
    )
    args: dict[str, str] = Field(
        default_factory=dict,
        description="Payload field -> Python expression evaluated in the endpoint, e.g. {data: feature.model_dump()}.",
    )

    @field_validator("file")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            raise ValueError(f"file {value!r} must be relative to the project root")
        if not value.endswith(".py"):
            raise ValueError(f"file {value!r} must be a Python file")
        return value

    @model_validator(mode="after")
    def _one_anchor(self) -> EmitCallSite:
        if self.after is None and self.before is None:
            raise Problems(
                [Problem((), "an emit.from entry needs an anchor: 'after: Callee.name' or 'before: return'")]
            )
        if self.after is not None and self.before is not None:
            raise Problems([Problem(("before",), "give either 'after' or 'before', not both", key=True)])
        return self

    @field_validator("args")
    @classmethod
    def _expressions_parse(cls, value: dict[str, str]) -> dict[str, str]:
        problems: list[Problem] = []
        for name, expr in value.items():
            message = argument_problem(name, expr)
            if message is not None:
                problems.append(Problem((name,), message))
        raise_any(problems)
        return value


class EmitSpec(_Strict):
    """How server code emits a server_to_client event."""

    helper: str = Field(
        description="Name of the generated async emit helper in the socket module; routers import and await it.",
        pattern=IDENT_RE,
    )
    from_: list[EmitCallSite] = Field(
        default_factory=list,
        alias="from",
        description="Router endpoints into which a call to the helper is patched.",
    )

    @field_validator("helper")
    @classmethod
    def _not_keyword(cls, value: str) -> str:
        if keyword.iskeyword(value) or value.startswith("_"):
            raise ValueError(
                f"helper {value!r} must be a public Python identifier (not a keyword, no leading underscore)"
            )
        # The helper is defined at module level in the socket module, beside the generated handlers.
        if value.startswith("on_"):
            raise ValueError(f"helper {value!r} may not start with 'on_': generated handlers use those names")
        if value == MODELS_ALIAS:
            raise ValueError(f"helper {value!r} is the name the socket module imports the payload models under")
        if value == DELIVERY_ALIAS:
            raise ValueError(
                f"helper {value!r} is the name the socket module imports the sequenced-delivery runtime under"
            )
        if value == PRESENCE_ALIAS:
            raise ValueError(f"helper {value!r} is the name the socket module imports the presence runtime under")
        if value in _BUILTINS:
            raise ValueError(
                f"helper {value!r} would hide Python's built-in {value}() in the socket module; choose another name"
            )
        if value in _AMBIGUOUS:
            raise ValueError(f"helper {value!r} reads like 1 or 0 (pycodestyle E743); choose a longer name")
        return value


MAX_BYTES_LIMIT = 100_000_000  # 100 MB: far beyond any Socket.IO frame a server accepts


class RateLimitSpec(_Strict):
    """At most `rate` calls per `per_s` seconds per (user, event), with bursts of up to `burst` at once (GCRA).
    The project config's `rate_limit_disconnect_after` (off by default) and `rate_limit_disconnect_window_s`
    also disconnect a socket refused that many times within the window, after the last refusal's ack."""

    rate: int = Field(ge=1, le=1_000_000, description="Calls allowed per `per_s` seconds, sustained.")
    per_s: float = Field(1.0, gt=0, le=86_400, description="The period of `rate`, in seconds (default 1).")
    burst: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Calls allowed at once after a quiet period (default: `rate`). Over any T seconds at most burst + rate x T / per_s calls pass.",
    )

    @property
    def effective_burst(self) -> int:
        return self.burst if self.burst is not None else self.rate


class EventSpec(_Strict):
    """One Socket.IO event."""

    name: str = Field(
        description="The Socket.IO event name: a letter, then letters, digits, '_', '.', ':' or '-' (64 characters at most).",
        pattern=EVENT_NAME_RE,
    )
    description: str | None = Field(None, description="Human description, copied into docstrings, types and docs.")
    direction: Literal["client_to_server", "server_to_client"] = Field(description="Who sends the event.")
    action: Literal["join", "leave", "relay", "handle"] | None = Field(
        None,
        description=(
            "What the server does with a client_to_server event: join or leave the room, relay the payload to the "
            "room's other members, or handle it with the user's function."
        ),
    )
    room: str | None = Field(None, description="Key of a room in this spec's 'rooms'.")
    broadcast: bool = Field(
        False, description="server_to_client only: send to every connected client instead of a room."
    )
    handler: str | None = Field(
        None,
        description="action handle: 'pkg.module:func', awaited as func(user, payload, sid); its return value is the ack's data.",
        pattern=CALLABLE_RE,
    )
    payload: dict[str, FieldSpec] = Field(
        default_factory=dict,
        description="Payload fields: name -> type string (short form) or a field object (long form).",
    )
    timeout_s: Annotated[float, Field(gt=0, le=3600)] | None = Field(
        None,
        description=(
            "client_to_server only: seconds the access check (join) or the handler (handle) may take; past it the ack "
            "is 'timeout' and a join does not enter the room. Default: the configuration's timeout_s (10)."
        ),
    )
    emit: EmitSpec | None = Field(None, description="server_to_client only: the emit helper and the router calls.")
    listener: str | None = Field(
        None,
        description="server_to_client (or relay) only: name of the Svelte listener component to generate (PascalCase).",
        pattern=COMPONENT_RE,
    )
    timeout_ms: int | None = Field(
        None,
        ge=1,
        le=MAX_TIMEOUT_MS,
        description=(
            "client_to_server only: how long the generated emit function in events.ts waits for the acknowledgement "
            f"before it resolves to {{ok: false, error: {{code: 'timeout'}}}} (milliseconds, default {DEFAULT_TIMEOUT_MS}; "
            "a call may pass its own timeoutMs). An idempotent event's server also waits this long for a first call "
            "still running when its retry arrives."
        ),
    )
    idempotent: bool = Field(
        False,
        description=(
            "action handle only: the generated emit function sends an idempotency key (payload key "
            f"'{IDEMPOTENCY_KEY}', generated unless the caller gives one) and may retry (option retries); the server "
            "runs the handler once per (user, event, key) and answers every retry with the first result (Redis SET NX "
            "when the client manager is an AsyncRedisManager, memory in a single process)."
        ),
    )
    renamed_from: list[Annotated[str, Field(pattern=EVENT_NAME_RE)]] = Field(
        default_factory=list,
        description=(
            "Old names of this event, still served until 'sunset': a client_to_server event is handled under each "
            "old name by the same handler; a server_to_client (or relayed) event is also emitted under each old name "
            "before the sunset date. events.ts keeps the old names typed and marked @deprecated; `check` fails once "
            "the sunset has come while an old name is still listed."
        ),
    )
    sunset: datetime.date | None = Field(
        None,
        description=(
            "With renamed_from: the date (YYYY-MM-DD, UTC) from which the old names are no longer emitted; from that "
            "day `check` exits 1 until the old names are removed from renamed_from. Without it the old names stay "
            "until removed. Extend it, never shorten it: deployed clients were promised the date."
        ),
    )

    rate_limit: RateLimitSpec | None = Field(
        None,
        description=(
            "client_to_server only: {rate, per_s, burst} per (user, event), a GCRA limit. A call over the limit is "
            "acked 'rate_limited' with details.retry_after_ms; the handler does not run and the socket stays connected. "
            "Counted in the Redis of the server's AsyncRedisManager (one Lua script, atomic across processes), in this "
            "process's memory otherwise. Not on 'leave' (a leave needs no session to count against)."
        ),
    )
    max_bytes: int | None = Field(
        None,
        ge=1,
        le=MAX_BYTES_LIMIT,
        description=(
            "client_to_server only: largest payload accepted, in bytes of its JSON encoding (UTF-8, no spaces); a "
            "larger one is acked 'payload_too_large' before validation and the handler does not run. Default: the "
            "configuration's max_bytes (65536). Keep the server's max_http_buffer_size above the largest cap: a frame "
            "over that is dropped by Engine.IO with the connection, before any handler sees it."
        ),
    )

    @field_validator("sunset", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        # YAML reads an unquoted 2027-01-31 as a date; a quoted one is the same date written as text.
        if isinstance(value, datetime.datetime):
            raise ValueError("sunset is a date (YYYY-MM-DD), not a date and time")
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"sunset {value!r} is not a date: write YYYY-MM-DD") from None
        return value

    @field_validator("renamed_from", mode="before")
    @classmethod
    def _one_old_name(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value  # `renamed_from: old:name` is a list of one

    @field_validator("renamed_from")
    @classmethod
    def _old_names(cls, value: list[str]) -> list[str]:
        problems: list[Problem] = []
        seen: set[str] = set()
        for i, name in enumerate(value):
            if name in RESERVED_EVENTS:
                problems.append(Problem((i,), f"'{name}' is reserved by Socket.IO; it cannot be an old name"))
            elif name in seen:
                problems.append(Problem((i,), f"old name '{name}' is listed twice"))
            seen.add(name)
        raise_any(problems)
        return value

    @field_validator("payload", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"type": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("payload")
    @classmethod
    def _field_names(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        problems: list[Problem] = []
        for name in value:
            if not re.match(IDENT_RE, name):
                problems.append(
                    Problem(
                        (name,),
                        f"payload field {name!r} is not a Python identifier (letters, digits and '_', not starting with a digit)",
                        key=True,
                    )
                )
            elif keyword.iskeyword(name):
                problems.append(
                    Problem((name,), f"payload field {name!r} is a Python keyword; choose another name", key=True)
                )
            elif name.startswith(_RESERVED_FIELD_PREFIXES):
                problems.append(
                    Problem(
                        (name,),
                        f"payload field {name!r} may not start with '_' or 'model_' (reserved by pydantic)",
                        key=True,
                    )
                )
            elif name in _AMBIGUOUS:
                problems.append(
                    Problem(
                        (name,),
                        f"payload field {name!r} reads like 1 or 0 (pycodestyle E741); choose a longer name",
                        key=True,
                    )
                )
            elif name in _PYDANTIC_ATTRIBUTES:
                problems.append(
                    Problem(
                        (name,),
                        f"payload field {name!r} would hide pydantic's BaseModel.{name}; choose another name",
                        key=True,
                    )
                )
            elif name in _MODEL_MODULE_NAMES:
                problems.append(
                    Problem(
                        (name,),
                        f"payload field {name!r} would hide the name {name} that the generated models use; choose another name",
                        key=True,
                    )
                )
        raise_any(problems)
        return value

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_EVENTS:
            raise ValueError(f"'{value}' is reserved by Socket.IO; choose another event name")
        model = pascal(value) + "Payload"
        if model in RESERVED_MODELS:
            raise ValueError(
                f"event name {value!r} would name its payload model {model}, a base class eventgen generates; choose another name"
            )
        return value

    @model_validator(mode="after")
    def _direction_rules(self) -> EventSpec:
        problems = self._client_rules() if self.direction == "client_to_server" else self._server_rules()
        if self.name in self.renamed_from:
            at = ("renamed_from", self.renamed_from.index(self.name))
            problems.append(Problem(at, f"'{self.name}' is the event's current name, not an old one"))
        if self.sunset is not None and not self.renamed_from:
            problems.append(
                Problem(("sunset",), "'sunset' dates the old names in 'renamed_from'; there are none", key=True)
            )
        raise_any(problems)
        return self

    def _client_rules(self) -> list[Problem]:
        problems: list[Problem] = []

        def only(key: str, message: str) -> None:
            problems.append(Problem((key,), message, key=True))

        if self.action is None:
            problems.append(Problem((), "a client_to_server event needs an 'action' (join, leave, relay or handle)"))
        elif self.action in ("join", "leave", "relay") and self.room is None:
            problems.append(Problem(("action",), f"action '{self.action}' needs a 'room'"))
        elif self.action == "handle" and self.handler is None:
            problems.append(Problem(("action",), "action 'handle' needs a 'handler' (pkg.module:func)"))
        if self.action != "handle" and self.handler is not None:
            only("handler", "'handler' is only for action 'handle'")
        if self.broadcast:
            only("broadcast", "'broadcast' is only for server_to_client events")
        if self.timeout_s is not None and self.action in ("leave", "relay"):
            only("timeout_s", f"'timeout_s' bounds an access check or a handler; action '{self.action}' calls neither")
        if self.emit is not None:
            only("emit", "'emit' is only for server_to_client events")
        if self.listener is not None and self.action != "relay":
            only("listener", "'listener' is for events clients receive: server_to_client or relay")
        if self.action == "relay" and "user" in self.payload:
            message = "a relay payload may not have a field 'user': the server adds the sender there"
            problems.append(Problem(("payload", "user"), message, key=True))
        if self.idempotent and self.action != "handle":
            only(
                "idempotent",
                "'idempotent' is for action 'handle': joins, leaves and relays are safe to repeat or not worth remembering",
            )
        if self.rate_limit is not None and self.action == "leave":
            only(
                "rate_limit",
                "'rate_limit' counts calls per user; a 'leave' needs no session, so there is no user to count against",
            )
        if self.idempotent and IDEMPOTENCY_KEY in self.payload:
            message = (
                f"payload field '{IDEMPOTENCY_KEY}' is the key an idempotent event's retries carry; choose another name"
            )
            problems.append(Problem(("payload", IDEMPOTENCY_KEY), message, key=True))
        return problems

    def _server_rules(self) -> list[Problem]:
        problems: list[Problem] = []

        def only(key: str, message: str) -> None:
            problems.append(Problem((key,), message, key=True))

        if self.action is not None:
            only("action", "'action' is only for client_to_server events")
        if self.handler is not None:
            only("handler", "'handler' is only for client_to_server events with action 'handle'")
        if self.timeout_s is not None:
            only("timeout_s", "'timeout_s' is only for client_to_server events")
        if self.broadcast and self.room is not None:
            only("broadcast", "use either 'room' or 'broadcast: true', not both")
        if not self.broadcast and self.room is None:
            problems.append(Problem((), "a server_to_client event needs a 'room' or 'broadcast: true'"))
        if self.timeout_ms is not None:
            only("timeout_ms", "'timeout_ms' is for client_to_server events: clients wait for their acknowledgement")
        if self.idempotent:
            only("idempotent", "'idempotent' is for client_to_server events with action 'handle'")
        if self.rate_limit is not None:
            only("rate_limit", "'rate_limit' is for client_to_server events: the server limits what clients send")
        if self.max_bytes is not None:
            only("max_bytes", "'max_bytes' is for client_to_server events: the server caps what clients send")
        return problems

    @property
    def snake(self) -> str:
        return event_snake(self.name)

    @property
    def effective_timeout_ms(self) -> int:
        return self.timeout_ms if self.timeout_ms is not None else DEFAULT_TIMEOUT_MS

    def sunset_passed(self, today: datetime.date | None = None) -> bool:
        """Whether old names remain past their sunset (the sunset day itself is the first day without them)."""
        today = today or datetime.datetime.now(datetime.timezone.utc).date()
        return bool(self.renamed_from) and self.sunset is not None and self.sunset <= today

    @property
    def helper(self) -> str | None:
        if self.direction != "server_to_client":
            return None
        return self.emit.helper if self.emit else f"emit_{self.snake}"


class Spec(_Strict):
    """One feature's real-time events: the content of events/<name>.yaml."""

    version: Literal[1] = Field(1, description="Spec format version.")
    name: str = Field(
        description="Feature name in snake_case; must equal the file name without .yaml.", pattern=SPEC_NAME_RE
    )
    description: str | None = Field(None, description="Human description of the feature.")
    rooms: dict[str, RoomSpec] = Field(
        default_factory=dict, description="Rooms by key; events refer to them with 'room'."
    )
    events: list[EventSpec] = Field(min_length=1, description="The feature's events.")

    @model_validator(mode="before")
    @classmethod
    def _only_writable_values(cls, data: Any) -> Any:
        raise_any(_unwritable(data, ()))
        return data

    @field_validator("rooms")
    @classmethod
    def _room_keys(cls, value: dict[str, RoomSpec]) -> dict[str, RoomSpec]:
        problems = [
            Problem((key,), f"room key {key!r} must be snake_case (lowercase letters, digits and '_')", key=True)
            for key in value
            if not re.match(r"^[a-z][a-z0-9_]*$", key)
        ]
        problems += [
            Problem((key,), f"room key is {len(key)} characters long; 63 at most", key=True)
            for key in value
            if re.match(r"^[a-z][a-z0-9_]*$", key) and len(key) > 63
        ]
        raise_any(problems)
        return value

    @model_validator(mode="after")
    def _sequenced_names(self) -> Spec:
        """In a sequenced room the server adds `seq` and `epoch` to every emitted message, and the
        join takes `since`: a payload field of those names would be overwritten or ambiguous."""
        problems: list[Problem] = []
        for i, event in enumerate(self.events):
            room = self.rooms.get(event.room) if event.room else None
            if room is None or not room.sequenced:
                continue
            if event.direction == "server_to_client":
                taken = [name for name in SEQUENCED_KEYS if name in event.payload]
                why = f"room '{event.room}' is sequenced: the server adds 'seq' and 'epoch' to every message"
            elif event.action == "join":
                taken = ["since"] if "since" in event.payload else []
                why = (
                    f"room '{event.room}' is sequenced: its join takes 'since: {{epoch, seq}}' to recover missed events"
                )
            else:
                taken = []
            problems.extend(
                Problem(("events", i, "payload", name), f"payload field {name!r} is reserved here; {why}", key=True)
                for name in taken
            )
        raise_any(problems)
        return self

    @model_validator(mode="after")
    def _presence_rooms(self) -> Spec:
        """A presence room is recorded by its generated join, and its presence event carries the room
        params beside `joins`, `leaves` and `version` under a name of its own."""
        problems: list[Problem] = []
        names = {event.name for event in self.events}
        for key, room in self.rooms.items():
            if not room.presence:
                continue
            if not any(e.room == key and e.action == "join" for e in self.events):
                problems.append(
                    Problem(
                        ("rooms", key, "presence"),
                        f"room '{key}' has presence but no join event: presence is recorded by its join",
                        key=True,
                    )
                )
            taken = [p for p in room.params if p in PRESENCE_KEYS]
            problems.extend(
                Problem(
                    ("rooms", key, "pattern"),
                    f"room parameter {{{p}}} is reserved in a presence room: its presence event carries {', '.join(PRESENCE_KEYS)}",
                )
                for p in taken
            )
            if presence_event(self.name, key) in names:
                problems.append(
                    Problem(
                        ("rooms", key, "presence"),
                        f"event '{presence_event(self.name, key)}' is this room's presence event; rename the declared one",
                        key=True,
                    )
                )
        raise_any(problems)
        return self


MAX_DEPTH = 32  # far beyond a real spec (about 7 levels); Python's parser stops at 200 nested brackets

_SURROGATES = re.compile("[\ud800-\udfff]")
_SURROGATE = (
    "this text holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not a character; remove it"
)
_NOT_FINITE = "{value} is not allowed in a spec: JSON payloads cannot carry it, and generated code cannot spell it"


def _unwritable(value: Any, at: tuple[str | int, ...]) -> list[Problem]:
    """Values in a raw document that no generated file could hold.

    YAML's "\\ud800" escape makes a string no UTF-8 file can hold (and pydantic-core cannot
    build a validator for it); `.inf` and `.nan` have no literal in Python or JSON; and
    a value nested deeper than MAX_DEPTH would become a literal Python cannot parse.
    """
    if len(at) > MAX_DEPTH:
        return [Problem(at, f"nested more than {MAX_DEPTH} levels deep; flatten this value")]
    if isinstance(value, str):
        return [Problem(at, _SURROGATE)] if _SURROGATES.search(value) else []
    if isinstance(value, float) and not math.isfinite(value):
        return [
            Problem(at, _NOT_FINITE.format(value=".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"))
        ]
    if isinstance(value, dict):
        found = [
            Problem(at + (key,), _SURROGATE, key=True) for key in value if isinstance(key, str) and _unwritable(key, ())
        ]
        return found + [p for key, item in value.items() for p in _unwritable(item, at + (key,))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _unwritable(item, at + (i,))]
    return []


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _shown(value: Any) -> str:
    """A value as the spec author wrote it in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


# Pure functions of a name that rendering asks for again and again (each event's name
# turns into a model, a handler, a TS type, a constant...): computed once per name.
@lru_cache(maxsize=4096)
def event_snake(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def room_func(spec: str, key: str) -> str:
    """Name of the generated function that builds a room's name (Python; TypeScript uses its camelCase)."""
    return f"{key}_room" if key == spec else f"{spec}_{key}_room"


@lru_cache(maxsize=4096)
def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def camel(name: str) -> str:
    p = pascal(name)
    return p[:1].lower() + p[1:]
