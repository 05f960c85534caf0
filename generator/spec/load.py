"""Read spec files into validated models; every problem becomes a positioned Diagnostic."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Diagnostic, EventgenError
from .loaded import LoadedSpec
from .messages import diagnostics
from .models import Spec
from .yaml_source import load_yaml


def load_spec_text(text: str, path: str) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    try:
        return _load_spec_text(text, path)
    except RecursionError:
        # Hundreds of nested brackets exhaust the recursive YAML composer before any rule can look.
        return None, [_too_deep(text, path)]


def _too_deep(text: str, path: str) -> Diagnostic:
    """Where the nesting passes MAX_DEPTH, found with PyYAML's scanner, which does not recurse."""
    import yaml

    from .models import MAX_DEPTH

    opening = (
        yaml.BlockMappingStartToken,
        yaml.BlockSequenceStartToken,
        yaml.FlowMappingStartToken,
        yaml.FlowSequenceStartToken,
    )
    closing = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    message = f"the spec is nested more than {MAX_DEPTH} levels deep; flatten it"
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, opening):
                depth += 1
                if depth > MAX_DEPTH:
                    return Diagnostic(path, token.start_mark.line + 1, token.start_mark.column + 1, message)
            elif isinstance(token, closing):
                depth -= 1
    except yaml.YAMLError:
        pass
    return Diagnostic(path, 1, 1, message)


def _load_spec_text(text: str, path: str) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    data, positions, problems = load_yaml(text, path)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        return None, problems + [
            Diagnostic(path, 1, 1, f"a spec must be a mapping with 'name' and 'events', not a {_yaml_kind(data)}")
        ]
    # Checked on the raw value, so a name that differs from the file name is reported
    # together with the spec's other errors, not instead of them.
    refused = {(d.line, d.col) for d in problems}
    stem = Path(path).name.rsplit(".", 1)[0]
    name = data.get("name")
    if isinstance(name, str) and name != stem:
        line, col = positions.locate(("name",))
        problems.append(Diagnostic(path, line, col, f"spec name '{name}' must match its file name '{stem}'"))
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        # A value the YAML layer already refused (an unquoted `no`, `1:30`) fails
        # validation too; the YAML message is the one that says what to do.
        return None, problems + [d for d in diagnostics(exc, positions, path) if (d.line, d.col) not in refused]
    if problems:
        return None, problems
    return LoadedSpec(path, spec, positions), []


def load_spec_file(file: Path, root: Path) -> tuple[LoadedSpec | None, list[Diagnostic]]:
    rel = relpath(file, root)
    if file.exists() and not file.is_file() and not file.is_dir():
        return None, [
            Diagnostic(rel, 0, 0, "not a regular file: a spec must be a plain YAML file")
        ]  # a FIFO would block the read
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(rel, 0, 0, f"cannot read spec: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw[: exc.start].count(b"\n") + 1
        col = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        byte = raw[exc.start]
        return None, [Diagnostic(rel, line, col, f"the spec is not valid UTF-8 (byte 0x{byte:02x}); save it as UTF-8")]
    return load_spec_text(text, rel)


def relpath(file: Path, root: Path) -> str:
    """The path as named under the project (a symlinked spec keeps its name there), else resolved."""
    for named, base in ((Path(os.path.abspath(file)), Path(os.path.abspath(root))), (file.resolve(), root.resolve())):
        try:
            return named.relative_to(base).as_posix()
        except ValueError:
            continue
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
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(data), type(data).__name__
    )
