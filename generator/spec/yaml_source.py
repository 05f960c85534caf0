"""YAML reading that keeps positions, refuses duplicate keys and YAML 1.1 surprises.

PyYAML resolves plain `yes`, `no`, `on`, `off`, `y`, `n` to booleans (YAML 1.1),
so `on:` silently becomes the key `True`. A spec is code: we refuse those
instead of guessing, and tell the user to quote them or write true/false.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import Diagnostic

Path_ = tuple[Any, ...]

_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document stands in its file."""

    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, loc: Path_, *, prefer_key: bool = False) -> tuple[int, int]:
        """Best position for a pydantic-style `loc`, skipping parts the document lacks."""
        path: Path_ = ()
        for part in loc:
            candidate = path + (part,)
            if candidate in self.values or candidate in self.keys:
                path = candidate
        if prefer_key and path in self.keys:
            return self.keys[path]
        if path in self.values:
            return self.values[path]
        return self.keys.get(path, (1, 1))

    def key(self, loc: Path_) -> tuple[int, int]:
        return self.locate(loc, prefer_key=True)


class _Loader(yaml.SafeLoader):
    """SafeLoader; composition only, construction is done by `_Builder` below."""


# libyaml composes about four times faster than pure-Python PyYAML, with the same
# nodes and marks; PyYAML words syntax errors better, so errors are parsed again with it.
_FAST_LOADER: type | None = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> yaml.Node | None:
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=_Loader)


def load_yaml(text: str, path: str) -> tuple[Any, Positions, list[Diagnostic]]:
    """Parse one YAML document. Returns (data, positions, problems)."""
    positions = Positions()
    problems: list[Diagnostic] = []
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        return None, positions, [_syntax_error(exc, path)]
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        return (
            None,
            positions,
            [Diagnostic(path, line, col, f"character {_char(exc.character)} is not allowed in YAML; remove it")],
        )
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML parse error is one of the above
        return None, positions, [Diagnostic(path, 1, 1, f"YAML error: {exc}")]
    if node is None:
        return None, positions, [Diagnostic(path, 1, 1, "the spec is empty: it needs at least 'name' and 'events'")]
    builder = _Builder(path, positions, problems)
    try:
        data = builder.build(node, (), frozenset())
    except _TooBig:
        if builder.aliased:
            return (
                None,
                positions,
                [
                    Diagnostic(
                        path,
                        1,
                        1,
                        f"the spec expands to more than {_MAX_VALUES} values through YAML aliases; write it out",
                    )
                ],
            )
        size = f"{len(text.encode('utf-8', 'surrogatepass')) / 1_000_000:.1f} MB"  # each value takes a few bytes: never tiny
        return (
            None,
            positions,
            [
                Diagnostic(
                    path,
                    1,
                    1,
                    f"the spec holds more than {_MAX_VALUES} values ({size}); a spec describes one feature's events: split it into several specs",
                )
            ],
        )
    return data, positions, problems


def _syntax_error(exc: yaml.MarkedYAMLError, path: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if exc.context == "expected a single document in the stream":
        return Diagnostic(path, line, col, "a spec is a single YAML document: remove the second '---' and what follows")
    message = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        message = f"{exc.problem} ({exc.context})"
    return Diagnostic(path, line, col, f"YAML syntax error: {message}")


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _char(ch: str | int) -> str:
    code = ord(ch) if isinstance(ch, str) else ch
    return f"U+{code:04X}"


class _TooBig(Exception):
    """Aliases expanded the document past _MAX_VALUES (a "billion laughs" file)."""


# Far beyond any real spec; stops alias bombs before they eat the machine.
_MAX_VALUES = 100_000

_TAG_INT = "tag:yaml.org,2002:int"
_TAG_FLOAT = "tag:yaml.org,2002:float"
_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary")
)


class _Builder:
    """Turns a composed node tree into plain Python values, recording where each came from."""

    def __init__(self, path: str, positions: Positions, problems: list[Diagnostic]) -> None:
        self.path = path
        self.positions = positions
        self.problems = problems
        self.count = 0
        self.constructor = yaml.SafeLoader("")
        self._built: set[int] = set()
        self.aliased = False  # a node was reached twice: the document uses YAML aliases

    def problem(self, node: yaml.Node, message: str) -> None:
        line, col = _mark(node)
        self.problems.append(Diagnostic(self.path, line, col, message))

    def build(self, node: yaml.Node, at: Path_, parents: frozenset[int]) -> Any:
        self.count += 1
        if id(node) in self._built:
            self.aliased = True
        else:
            self._built.add(id(node))
        if self.count > _MAX_VALUES:
            raise _TooBig
        self.positions.values[at] = _mark(node)
        if id(node) in parents:
            self.problem(node, "a YAML alias refers to a value that contains it; write the value out")
            return None
        if node.tag not in _STANDARD_TAGS:
            self.problem(node, f"YAML tag '{node.tag}' is not allowed in specs; remove it")
            return None
        inner = parents | {id(node)}
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, at, inner)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, at + (i,), inner) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)  # the third and last kind of YAML node
        return self.scalar(node)

    def mapping(self, node: yaml.MappingNode, at: Path_, parents: frozenset[int]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problem(key_node, "YAML merge keys ('<<') are not supported in specs; write the keys out")
                continue
            key = self.scalar(key_node, is_key=True) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                shown = repr(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "this key"
                self.problem(key_node, f"mapping keys must be strings; quote {shown}")
                continue
            if key in seen:
                self.problem(key_node, f"duplicate key '{key}' (first defined at line {seen[key][0]})")
                continue
            seen[key] = _mark(key_node)
            self.positions.keys[at + (key,)] = _mark(key_node)
            result[key] = self.build(value_node, at + (key,), parents)
        return result

    def scalar(self, node: yaml.ScalarNode, is_key: bool = False) -> Any:
        plain = not node.style  # None from PyYAML, "" from libyaml
        text = node.value
        if plain and node.tag == "tag:yaml.org,2002:bool" and text.lower() in _YAML11_BOOLS:
            what = "key" if is_key else "value"
            self.problem(
                node,
                f"ambiguous {what} {text!r}: YAML 1.1 reads it as a boolean; quote it ('{text}') for text, or write true/false",
            )
            # Keep the text so validation of the rest goes on; the run still fails.
            return text
        value = self.constructor.construct_object(node, deep=True)
        if plain and node.tag in (_TAG_INT, _TAG_FLOAT) and _YAML11_NUMBER.match(text):
            kind = "a base-60 number" if ":" in text else "an octal number"
            self.problem(
                node, f"ambiguous value {text!r}: YAML 1.1 reads it as {kind} ({value}); quote it ('{text}') for text"
            )
            return text
        return value


# Numbers only YAML 1.1 has: base 60 (`1:30` is 90) and C-style octal (`0755` is 493).
_YAML11_NUMBER = re.compile(r"^[-+]?([0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|0[0-7_]+)$")


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
