"""Read spec files into validated models; every problem becomes a positioned Diagnostic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Diagnostic, EventgenError
from .models import Spec
from .yaml_source import Positions, load_yaml


@dataclass
class LoadedSpec:
    """A spec with where it came from, so later rules can point into the file."""

    path: str  # relative to the project root, with forward slashes
    spec: Spec
    positions: Positions

    def at(self, loc: tuple[Any, ...], message: str, *, key: bool = False) -> Diagnostic:
        line, col = self.positions.locate(loc, prefer_key=key)
        return Diagnostic(self.path, line, col, message)


def load_spec_text(text: str, path: str) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    data, positions, problems = load_yaml(text, path)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        return None, problems + [Diagnostic(path, 1, 1, f"a spec must be a mapping with 'name' and 'events', not a {_yaml_kind(data)}")]
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        return None, problems + [_diagnostic(err, positions, path) for err in exc.errors(include_url=False)]
    stem = Path(path).name.rsplit(".", 1)[0]
    if spec.name != stem:
        line, col = positions.locate(("name",))
        problems.append(Diagnostic(path, line, col, f"spec name '{spec.name}' must match its file name '{stem}'"))
    if problems:
        return None, problems
    return LoadedSpec(path, spec, positions), []


def load_spec_file(file: Path, root: Path) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    rel = relpath(file, root)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(rel, 0, 0, f"cannot read spec: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Diagnostic(rel, line, 1, "spec is not valid UTF-8")]
    return load_spec_text(text, rel)


def relpath(file: Path, root: Path) -> str:
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return file.as_posix()


def load_specs(files: list[Path], root: Path) -> list[LoadedSpec]:
    """Load every file, then apply the cross-spec rules; raise once with all problems."""
    from .rules import check_specs

    loaded: list[LoadedSpec] = []
    problems: list[Diagnostic] = []
    for file in files:
        spec, errs = load_spec_file(file, root)
        problems.extend(errs)
        if spec is not None:
            loaded.append(spec)
    problems.extend(check_specs(loaded))
    if problems:
        raise EventgenError(problems)
    return sorted(loaded, key=lambda s: s.spec.name)


def _yaml_kind(data: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(data), type(data).__name__)


_MESSAGE_FIXES = [
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"^Assertion failed, "), ""),
]


def _diagnostic(err: dict[str, Any], positions: Positions, path: str) -> Diagnostic:
    """Reword a pydantic error in plain words and place it in the file."""
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    msg = err.get("msg", "invalid value")
    for pattern, repl in _MESSAGE_FIXES:
        msg = pattern.sub(repl, msg)
    field = ".".join(str(p) for p in loc if not (isinstance(p, str) and p[:1].isupper()))
    last = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        line, col = positions.locate(loc, prefer_key=True)
        parent = ".".join(str(p) for p in loc[:-1]) or "the spec"
        return Diagnostic(path, line, col, f"unknown key '{last}' in {parent}")
    line, col = positions.locate(loc)
    if kind == "missing":
        parent = ".".join(str(p) for p in loc[:-1]) or "the spec"
        return Diagnostic(path, line, col, f"missing required key '{last}' in {parent}")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return Diagnostic(path, line, col, f"{field}: must be one of {expected}, got {err.get('input')!r}")
    if kind == "string_pattern_mismatch":
        return Diagnostic(path, line, col, f"{field}: {err.get('input')!r} is not a valid {_pattern_noun(loc)}")
    if kind in ("string_type", "int_type", "bool_type", "dict_type", "list_type", "model_type", "float_type",
                "int_parsing", "bool_parsing", "float_parsing", "model_attributes_type"):
        return Diagnostic(path, line, col, f"{field}: expected {_type_noun(kind)}, got {_describe(err.get('input'))}")
    if kind == "too_short" and last == "events":
        return Diagnostic(path, line, col, "events: a spec needs at least one event")
    return Diagnostic(path, line, col, f"{field}: {msg}" if field else msg)


def _pattern_noun(loc: tuple[Any, ...]) -> str:
    last = str(loc[-1]) if loc else ""
    return {
        "name": "name (see the spec reference for the allowed characters)" if len(loc) == 1 else "event name: start with a letter; use letters, digits, '_', '.', ':' or '-'; at most 64 characters",
        "helper": "Python identifier",
        "listener": "component name (PascalCase, letters and digits)",
        "handler": "callable reference (pkg.module:func)",
        "function": "function name",
        "after": "dotted name such as Features.update_feature",
    }.get(last, "value")


def _type_noun(kind: str) -> str:
    return {
        "string_type": "a string",
        "int_type": "an integer",
        "int_parsing": "an integer",
        "float_type": "a number",
        "float_parsing": "a number",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
        "list_type": "a list",
    }[kind]


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
    return repr(value)
