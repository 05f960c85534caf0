"""Project configuration: `eventgen.toml` or `[tool.eventgen]` in `pyproject.toml` (CONTRACT.md section 4)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

from .errors import Diagnostic, EventgenError

CONFIG_FILE = "eventgen.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Config:
    """Paths are relative to the project root, with forward slashes."""

    root: Path
    specs: str = "events"
    socket_module: str = "backend/open_webui/socket/main.py"
    models_module: str = "backend/open_webui/socket/event_models.py"
    components: str = "src/lib/components/realtime"
    types: str = "src/lib/socket/events.ts"
    store_import: str = "$lib/stores"
    svelte: str = "auto"
    server_name: str = "auto"
    session_pool: str = "SESSION_POOL"
    socket_import: str = ""  # dotted module routers import helpers from; derived when empty
    models_import: str = ""  # dotted module of the payload models; derived when empty
    source: str = ""  # where the config came from ("" = defaults)

    # -- derived -----------------------------------------------------------
    def path(self, rel: str) -> Path:
        return self.root / rel

    @property
    def socket_dotted(self) -> str:
        return self.socket_import or dotted_module(self.root, self.socket_module)

    @property
    def models_dotted(self) -> str:
        return self.models_import or dotted_module(self.root, self.models_module)

    def python_file_for(self, dotted: str) -> str:
        """Project-relative file of a dotted module, in the socket module's import root."""
        socket_parts = PurePosixPath(self.socket_module).with_suffix("").parts
        dotted_parts = self.socket_dotted.split(".")
        base = socket_parts[: len(socket_parts) - len(dotted_parts)]
        return PurePosixPath(*base, *dotted.split(".")).as_posix() + ".py"


# key -> (allowed type, validator message or None)
_PATH_KEYS = ("specs", "socket_module", "models_module", "components", "types")
_STR_KEYS = _PATH_KEYS + ("store_import", "svelte", "server_name", "session_pool", "socket_import", "models_import")


def dotted_module(root: Path, rel: str) -> str:
    """Import path of a module file: climb while the folder is a package (has __init__.py).

    Open WebUI's `socket/` folder is a namespace package (no __init__.py), so when
    the climb finds no package at all, `backend/` is taken as the import root.
    """
    parts = PurePosixPath(rel).with_suffix("").parts
    i = len(parts) - 1
    while i > 0 and (root.joinpath(*parts[:i]) / "__init__.py").exists():
        i -= 1
    if i == len(parts) - 1 and "backend" in parts[:-1]:
        i = parts.index("backend") + 1
    return ".".join(parts[i:])


def load_config(root: Path) -> Config:
    """Read the project's configuration; defaults when there is none."""
    root = root.resolve()
    file = root / CONFIG_FILE
    if file.is_file():
        text = _read(file)
        table = _parse(text, CONFIG_FILE)
        return _build(root, table, text, CONFIG_FILE, prefix="")
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        text = _read(pyproject)
        data = _parse(text, PYPROJECT)
        table = data.get("tool", {}).get("eventgen")
        if isinstance(table, dict):
            return _build(root, table, text, PYPROJECT, prefix="tool.eventgen")
    return Config(root=root)


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EventgenError(Diagnostic(file.name, 0, 0, f"cannot read configuration: {exc}")) from None


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise EventgenError(Diagnostic(name, line, col, f"TOML syntax error: {msg}")) from None


def _key_position(text: str, key: str, prefix: str) -> tuple[int, int]:
    """tomllib keeps no positions: find `key =` inside the right table by scanning lines."""
    in_table = prefix == ""
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped.strip("[] ") == prefix if prefix else False
            continue
        if in_table:
            m = re.match(rf"^(\s*)[\"']?{re.escape(key)}[\"']?\s*=", line)
            if m:
                return n, len(m.group(1)) + 1
    return 0, 0


def _build(root: Path, table: dict[str, Any], text: str, name: str, prefix: str) -> Config:
    known = {f.name for f in fields(Config)} - {"root", "source"}
    problems: list[Diagnostic] = []
    values: dict[str, Any] = {}
    for key, value in table.items():
        line, col = _key_position(text, key, prefix)
        if key not in known:
            suggestion = _closest(key, known)
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            problems.append(Diagnostic(name, line, col, f"unknown configuration key '{key}'{hint}"))
            continue
        if not isinstance(value, str):
            if key == "svelte" and value in (4, 5):
                value = str(value)
            else:
                problems.append(Diagnostic(name, line, col, f"'{key}' must be a string, not {type(value).__name__}"))
                continue
        if key in _PATH_KEYS and not _inside(value):
            problems.append(Diagnostic(name, line, col, f"'{key}' = {value!r} must be a relative path inside the project"))
            continue
        if key == "svelte" and value not in ("auto", "4", "5"):
            problems.append(Diagnostic(name, line, col, f"'svelte' must be 4, 5 or \"auto\", not {value!r}"))
            continue
        if key in ("server_name", "session_pool") and value != "auto" and not value.isidentifier():
            problems.append(Diagnostic(name, line, col, f"'{key}' must be a Python identifier"))
            continue
        if key in ("socket_import", "models_import") and value and not re.match(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$", value):
            problems.append(Diagnostic(name, line, col, f"'{key}' must be a dotted module name"))
            continue
        values[key] = value.rstrip("/") if key in _PATH_KEYS else value
    if problems:
        raise EventgenError(problems)
    return Config(root=root, source=name, **values)


def _inside(rel: str) -> bool:
    p = PurePosixPath(rel.replace("\\", "/"))
    return bool(rel) and not p.is_absolute() and ".." not in p.parts and not re.match(r"^[A-Za-z]:", rel)


def _closest(key: str, known: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(key, sorted(known), n=1)
    return match[0] if match else None


def inside_root(root: Path, rel: str) -> bool:
    """Whether a project-relative path stays inside the root once resolved (symlinks included)."""
    if not _inside(rel):
        return False
    try:
        (root / rel).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
