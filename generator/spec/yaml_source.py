"""YAML reading that keeps positions, refuses duplicate keys and YAML 1.1 surprises.

PyYAML resolves plain `yes`, `no`, `on`, `off`, `y`, `n` to booleans (YAML 1.1),
so `on:` silently becomes the key `True`. A spec is code: we refuse those
instead of guessing, and tell the user to quote them or write true/false.
"""

from __future__ import annotations

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
    """SafeLoader; composition only, construction is done by `_build` below."""


def load_yaml(text: str, path: str) -> tuple[Any, Positions, list[Diagnostic]]:
    """Parse one YAML document. Returns (data, positions, problems)."""
    positions = Positions()
    problems: list[Diagnostic] = []
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        return None, positions, [Diagnostic(path, line, col, f"YAML syntax error: {message}")]
    except yaml.YAMLError as exc:  # e.g. more than one document
        return None, positions, [Diagnostic(path, 1, 1, f"YAML error: {exc}")]
    if node is None:
        return None, positions, [Diagnostic(path, 1, 1, "the spec is empty")]
    constructor = yaml.SafeLoader("")
    data = _build(node, (), positions, problems, path, constructor)
    return data, positions, problems


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(
    node: yaml.Node,
    at: Path_,
    positions: Positions,
    problems: list[Diagnostic],
    path: str,
    constructor: yaml.SafeLoader,
) -> Any:
    positions.values[at] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                line, col = _mark(key_node)
                problems.append(Diagnostic(path, line, col, "YAML merge keys ('<<') are not supported in specs; write the keys out"))
                continue
            key = _scalar(key_node, problems, path, constructor, is_key=True)
            if not isinstance(key, str):
                line, col = _mark(key_node)
                shown = repr(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "this key"
                problems.append(Diagnostic(path, line, col, f"mapping keys must be strings; quote {shown}"))
                continue
            if key in seen:
                line, col = _mark(key_node)
                first = seen[key]
                problems.append(Diagnostic(path, line, col, f"duplicate key '{key}' (first defined at line {first[0]})"))
                continue
            seen[key] = _mark(key_node)
            positions.keys[at + (key,)] = _mark(key_node)
            result[key] = _build(value_node, at + (key,), positions, problems, path, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, at + (i,), positions, problems, path, constructor) for i, item in enumerate(node.value)]
    return _scalar(node, problems, path, constructor)


def _scalar(node: yaml.Node, problems: list[Diagnostic], path: str, constructor: yaml.SafeLoader, is_key: bool = False) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.tag == "tag:yaml.org,2002:bool" and node.style is None and node.value.lower() in _YAML11_BOOLS:
        line, col = _mark(node)
        what = "key" if is_key else "value"
        problems.append(
            Diagnostic(
                path,
                line,
                col,
                f"ambiguous {what} {node.value!r}: YAML 1.1 reads it as a boolean; "
                f"quote it ('{node.value}') for text, or write true/false",
            )
        )
        # Keep the text so validation of the rest goes on; the run still fails.
        return node.value
    return constructor.construct_object(node, deep=True)
