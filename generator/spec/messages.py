"""pydantic validation errors -> positioned diagnostics in plain words.

pydantic words errors for Python programmers ("Input should be a valid
dictionary or instance of FieldSpec"); a spec author reads YAML. Each error is
rewritten here, placed at the key or value it concerns, and prefixed with where
it is in the document (`events[0].payload.name`).
"""

from __future__ import annotations

import datetime
import difflib
import re
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic
from .models import PATTERN_RULES, Spec
from .problems import Problems
from .yaml_source import Positions

Loc = tuple[Any, ...]

_TYPE_NOUNS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def diagnostics(exc: ValidationError, positions: Positions, path: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        out.extend(_rewrite(dict(err), positions, path))
    return out


def where(loc: Loc) -> str:
    """`('events', 0, 'payload', 'n')` -> `events[0].payload.n`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _rewrite(err: dict[str, Any], positions: Positions, path: str) -> list[Diagnostic]:
    loc: Loc = tuple(err.get("loc", ()))
    kind: str = err.get("type", "")
    ctx: dict[str, Any] = err.get("ctx") or {}
    value = err.get("input")

    def at(message: str, sub: Loc = (), *, key: bool = False) -> Diagnostic:
        full = loc + sub
        line, col = positions.locate(full, prefer_key=key)
        prefix = where(full)
        return Diagnostic(path, line, col, f"{prefix}: {message}" if prefix else message)

    if kind == "value_error" and isinstance(ctx.get("error"), Problems):
        return [at(p.message, p.at, key=p.key) for p in ctx["error"].problems]
    if kind == "extra_forbidden":
        parent, name = loc[:-1], loc[-1]
        line, col = positions.locate(loc, prefer_key=True)
        return [Diagnostic(path, line, col, _unknown_key(parent, str(name)))]
    if kind == "missing":
        parent, name = loc[:-1], loc[-1]
        line, col = positions.locate(parent, prefer_key=True)
        text = (
            f"{where(parent)}: missing required key '{name}'" if parent else f"missing required top-level key '{name}'"
        )
        return [Diagnostic(path, line, col, text)]
    return [at(_message(kind, loc, ctx, value, err.get("msg", "")))]


def _message(kind: str, loc: Loc, ctx: dict[str, Any], value: Any, msg: str) -> str:
    last = loc[-1] if loc else ""
    if kind == "literal_error":
        return f"must be {ctx.get('expected', '')}, got {_describe(value)}"
    if kind == "string_pattern_mismatch":
        rule = PATTERN_RULES.get(ctx.get("pattern", ""), "has characters that are not allowed here")
        return f"{value!r} {rule}"
    if kind in ("model_type", "model_attributes_type") and len(loc) >= 2 and loc[-2] == "payload":
        return f"expected a type such as 'str' or a mapping with 'type', got {_describe(value)}"
    if kind in _TYPE_NOUNS:
        return f"expected {_TYPE_NOUNS[kind]}, got {_describe(value)}"
    if kind in ("too_short", "string_too_short"):
        if last == "events":
            return "a spec needs at least one event"
        n = ctx.get("min_length", 1)
        if kind == "string_too_short" and n == 1:
            return "must not be empty"
        return f"needs at least {n} {'character' if kind == 'string_too_short' else 'item'}{'s' if n != 1 else ''}"
    if kind in ("too_long", "string_too_long"):
        n = ctx.get("max_length")
        return f"has more than {n} {'characters' if kind == 'string_too_long' else 'items'}"
    if kind == "greater_than_equal":
        return f"must be {ctx.get('ge')} or more, got {_describe(value)}"
    if kind == "value_error":
        return re.sub(r"^Value error, ", "", msg)
    # A kind not foreseen above: pydantic's own words, minus its jargon.
    return re.sub(r"^Input should be", "must be", msg)


def _unknown_key(parent: Loc, name: str) -> str:
    model = _model_at(parent)
    text = f"{where(parent)}: unknown key '{name}'" if parent else f"unknown top-level key '{name}'"
    if model is None:
        return text
    allowed = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(name, allowed, n=1)
    if close:
        return f"{text} (did you mean '{close[0]}'?)"
    return f"{text}; allowed here: {', '.join(allowed)}"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model that validates the mapping at `loc`, found by walking the annotations."""
    tp: Any = Spec
    for part in loc:
        tp = _unwrap_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
        else:
            return None
    tp = _unwrap_optional(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the date {value.isoformat()} (quote it for text)"
    if isinstance(value, bytes):
        return "binary data"
    return repr(value)
