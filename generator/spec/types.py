"""The spec's field-type language and its translation to Python, TypeScript and JSON Schema.

Grammar (whitespace ignored):
    type    := primary ("|" "None")?  |  "None" "|" primary
    primary := "str" | "int" | "float" | "bool" | "dict" | "list" | "any"
             | "list[" type "]" | "dict[str," type "]"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SCALARS = ("str", "int", "float", "bool", "any")

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\[|\]|,|\|)")
_WORDS = frozenset(SCALARS + ("dict", "list", "None"))


class TypeSyntaxError(ValueError):
    """Raised with a plain-words message when a type expression does not parse."""


@dataclass(frozen=True)
class TypeRef:
    kind: str  # str | int | float | bool | any | list | dict
    item: TypeRef | None = None  # element type of list / value type of dict
    nullable: bool = False

    # -- renderings -------------------------------------------------------
    def python(self) -> str:
        if self.kind == "any":
            base = "Any"
        elif self.kind == "list":
            base = f"list[{(self.item or ANY).python()}]"
        elif self.kind == "dict":
            base = f"dict[str, {(self.item or ANY).python()}]"
        else:
            base = self.kind
        if self.nullable and self.kind != "any":
            return f"{base} | None"
        return base

    def typescript(self) -> str:
        if self.kind == "any":
            return "unknown"
        if self.kind == "list":
            inner = (self.item or ANY).typescript()
            base = f"Array<{inner}>"
        elif self.kind == "dict":
            base = f"Record<string, {(self.item or ANY).typescript()}>"
        else:
            base = {"str": "string", "int": "number", "float": "number", "bool": "boolean"}[self.kind]
        return f"{base} | null" if self.nullable else base

    def json_schema(self) -> dict[str, Any]:
        if self.kind == "any":
            return {}
        if self.kind == "list":
            schema: dict[str, Any] = {"type": "array", "items": (self.item or ANY).json_schema()}
        elif self.kind == "dict":
            schema = {"type": "object", "additionalProperties": (self.item or ANY).json_schema()}
        else:
            schema = {"type": {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}[self.kind]}
        if self.nullable:
            return {"anyOf": [schema, {"type": "null"}]}
        return schema

    def accepts(self, value: Any) -> bool:
        """Whether a YAML value (a default or an enum member) has this type."""
        if value is None:
            return self.nullable or self.kind == "any"
        if self.kind == "any":
            return True
        if isinstance(value, bool):
            return self.kind == "bool"
        if self.kind in ("str", "int", "bool"):
            return isinstance(value, {"str": str, "int": int, "bool": bool}[self.kind])
        if self.kind == "float":
            return isinstance(value, (int, float))
        item = self.item or ANY
        if self.kind == "list":
            return isinstance(value, list) and all(item.accepts(v) for v in value)
        return isinstance(value, dict) and all(isinstance(k, str) and item.accepts(v) for k, v in value.items())

    @property
    def noun(self) -> str:
        """The type in words, for messages: 'a string', 'a list of integers'."""
        base = {
            "str": "a string",
            "int": "an integer",
            "float": "a number",
            "bool": "true or false",
            "any": "any value",
            "list": "a list",
            "dict": "a mapping",
        }[self.kind]
        return f"{base} or null" if self.nullable and self.kind != "any" else base

    @property
    def sized(self) -> bool:
        """Whether min_length / max_length apply."""
        return self.kind in ("str", "list", "dict")

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float")

    def with_nullable(self) -> TypeRef:
        return TypeRef(self.kind, self.item, True)


ANY = TypeRef("any")


def parse_type(text: str) -> TypeRef:
    """Parse a type expression such as ``list[str] | None``."""
    if not isinstance(text, str):
        raise TypeSyntaxError(f"a type must be a string such as 'str' or 'list[int]', not {type(text).__name__}")
    return _parse(text)


# A project repeats a handful of type strings many times, and validation, rules
# and rendering each ask again; TypeRef is immutable, so one parse serves all.
@lru_cache(maxsize=1024)
def _parse(text: str) -> TypeRef:
    tokens = _tokenize(text)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        tok = peek()
        if tok is None or (expected is not None and tok != expected):
            want = f"'{expected}'" if expected else "a type"
            got = f"'{tok}'" if tok else "the end"
            raise TypeSyntaxError(f"invalid type '{text}': expected {want}, found {got}")
        pos += 1
        return tok

    def primary() -> TypeRef:
        tok = take()
        if tok in SCALARS:
            return TypeRef(tok)
        if tok == "list":
            if peek() == "[":
                take("[")
                inner = union()
                take("]")
                return TypeRef("list", inner)
            return TypeRef("list", ANY)
        if tok == "dict":
            if peek() == "[":
                take("[")
                key = take()
                if key != "str":
                    raise TypeSyntaxError(
                        f"invalid type '{text}': dict keys must be str (JSON objects have string keys)"
                    )
                take(",")
                inner = union()
                take("]")
                return TypeRef("dict", inner)
            return TypeRef("dict", ANY)
        raise TypeSyntaxError(
            f"invalid type '{text}': unknown type '{tok}' (use str, int, float, bool, dict, list, any, list[T], dict[str, T], T | None)"
        )

    def union() -> TypeRef:
        if peek() == "None":
            take("None")
            take("|")
            return primary().with_nullable()
        t = primary()
        if peek() == "|":
            take("|")
            if peek() not in ("None", None):
                raise TypeSyntaxError(f"invalid type '{text}': a union must be 'T | None' (a type or null)")
            take("None")
            return t.with_nullable()
        return t

    result = union()
    if peek() is not None:
        raise TypeSyntaxError(f"invalid type '{text}': unexpected '{peek()}' (only 'T | None' unions are supported)")
    return result


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        m = _TOKEN.match(text, i)
        if not m or (m.group(1)[0].isalpha() and m.group(1) not in _WORDS):
            word = m.group(1) if m else text[i]
            raise TypeSyntaxError(
                f"invalid type '{text}': unknown type '{word}' (use str, int, float, bool, dict, list, any, list[T], dict[str, T], T | None)"
            )
        tokens.append(m.group(1))
        i = m.end()
    return tokens
