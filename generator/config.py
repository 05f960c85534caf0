"""Project configuration: `eventgen.toml` or `[tool.eventgen]` in `pyproject.toml` (CONTRACT.md section 4)."""

from __future__ import annotations

import keyword
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
from .text_safety import unsafe

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
    session_value: str = "dict"  # what the session pool holds per sid: a user "dict", or the user's "id"
    timeout_s: float = 10.0  # bound on an access check or handler call, unless the event sets timeout_s
    max_rooms_per_socket: int = 100  # rooms one socket may be in through generated join events
    max_inflight_per_socket: int = 32  # generated handler calls one socket may have running at once
    max_bytes: int = 65536  # largest client payload (bytes of its JSON encoding), unless the event sets max_bytes
    rate_limit_disconnect_after: int = (
        0  # disconnect a socket at this many rate_limited refusals within the window; 0 = never
    )
    rate_limit_disconnect_window_s: float = 10.0  # the window of rate_limit_disconnect_after, in seconds
    telemetry: str = ""  # "opentelemetry": spans and a duration histogram in generated handlers and helpers; "" = off
    redis_url: str = ""  # sequenced rooms: Redis for counters and history; "" = the server's AsyncRedisManager
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

    @property
    def python_root(self) -> str:
        """The folder the socket module's import path starts from (Open WebUI: backend)."""
        parts = PurePosixPath(self.socket_module).with_suffix("").parts
        base = parts[: len(parts) - len(self.socket_dotted.split("."))]
        return PurePosixPath(*base).as_posix() if base else "."

    def python_file_for(self, dotted: str) -> str:
        """Project-relative file of a dotted module, in the socket module's import root."""
        socket_parts = PurePosixPath(self.socket_module).with_suffix("").parts
        dotted_parts = self.socket_dotted.split(".")
        base = socket_parts[: len(socket_parts) - len(dotted_parts)]
        return PurePosixPath(*base, *dotted.split(".")).as_posix() + ".py"


# Keys naming files or folders: they must stay inside the project root.
_PATH_KEYS = ("specs", "socket_module", "models_module", "components", "types")


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
    if not root.is_dir():
        # Without this a mistyped -C would be a project with no specs: "in sync", nothing to do.
        raise EventgenError(Diagnostic(str(root), 0, 0, "project folder not found"))
    file = root / CONFIG_FILE
    if file.is_file():
        text = _read(file)
        return _build(root, _parse(text, CONFIG_FILE), text, CONFIG_FILE, prefix=())
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        text = _read(pyproject)
        data = _parse(text, PYPROJECT)
        tool: Any = data.get("tool", {})
        table = tool.get("eventgen") if isinstance(tool, dict) else None
        if table is not None:
            if not isinstance(table, dict):
                line, col = _key_position(text, ("tool", "eventgen"))
                raise EventgenError(
                    Diagnostic(
                        PYPROJECT,
                        line,
                        col,
                        "'tool.eventgen' must be a table: write [tool.eventgen] and its keys below it",
                    )
                )
            return _build(root, table, text, PYPROJECT, prefix=("tool", "eventgen"))
    return Config(root=root)


DEFAULT_SPECS = "events"


def no_project_error(start: Path) -> EventgenError:
    """The one message every command gives outside a project (CONTRACT section 5)."""
    return EventgenError(
        Diagnostic(
            "",
            0,
            0,
            f"eventgen: not inside an eventgen project: neither {start} nor any folder above it holds "
            f"{CONFIG_FILE}, a {PYPROJECT} with [tool.eventgen], or a specs folder {DEFAULT_SPECS}/",
            hint="run `eventgen init` in the project's root folder, or pass --project DIR",
        )
    )


def find_project_root(start: Path) -> Path | None:
    """The project a command run in `start` belongs to, found the way git and ruff find theirs.

    The nearest folder at or above `start` with `eventgen.toml` or a `pyproject.toml`
    holding `[tool.eventgen]`; when no folder up to the file-system root has one, the
    nearest folder holding the default specs folder `events/`. A configuration anywhere
    above wins over a bare `events/` below it: an `events/` folder is also a common
    package name, a configuration file is not.
    """
    start = start.resolve()
    chain = [start, *start.parents]
    for folder in chain:
        if is_configured(folder):
            return folder
    for folder in chain:
        if (folder / DEFAULT_SPECS).is_dir():
            return folder
    return None


def is_configured(folder: Path) -> bool:
    """Whether a folder holds an eventgen configuration (eventgen.toml, or [tool.eventgen])."""
    return (folder / CONFIG_FILE).is_file() or _configures_eventgen(folder / PYPROJECT)


def _configures_eventgen(pyproject: Path) -> bool:
    try:
        data = pyproject.read_bytes()
    except OSError:
        return False
    if b"eventgen" not in data:  # the common case, without a TOML parse
        return False
    return find_config(pyproject.parent) == PYPROJECT


def config_from_text(root: Path, text: str, name: str = CONFIG_FILE) -> Config:
    """The Config an eventgen.toml with this text would give (init checks what it writes)."""
    return _build(root.resolve(), _parse(text, name), text, name, prefix=())


def find_config(root: Path) -> str | None:
    """The file that configures eventgen in this project, if any."""
    if (root / CONFIG_FILE).is_file():
        return CONFIG_FILE
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        data = _parse(_read(pyproject), PYPROJECT)
        tool = data.get("tool", {})
        if isinstance(tool, dict) and "eventgen" in tool:
            return PYPROJECT
    return None


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
        if msg == "Cannot overwrite a value" and line:
            # tomllib points past the value; the key set twice is what to fix.
            bad = text.splitlines()[line - 1]
            col = len(bad) - len(bad.lstrip()) + 1
            msg = "this key is already set above"
        raise EventgenError(Diagnostic(name, line, col, f"TOML syntax error: {msg}")) from None


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"""^(\s*)((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", text))


def _key_position(text: str, path: tuple[str, ...]) -> tuple[int, int]:
    """Line and column of a key given by its full dotted path (tomllib keeps no positions).

    Understands `[table]` headers, dotted keys (`eventgen.specs = ...` under
    `[tool]`) and one-line inline tables; falls back to the enclosing table.
    """
    table: tuple[str, ...] = ()
    fallback = (1, 1)
    for n, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("[["):
            table = _dotted(header.group(1))
            if table == path[:-1] or table == path:
                fallback = (n, len(line) - len(line.lstrip()) + 1)
            continue
        key = _KEY.match(line)
        if not key:
            continue
        full = table + _dotted(key.group(2))
        if full == path:
            return n, len(key.group(1)) + 1
        if full == path[: len(full)] and len(full) < len(path):
            # An inline table holding the key: find `key =` inside it on this line.
            inner = re.compile(rf"[{{,]\s*([\"']?{re.escape(path[-1])}[\"']?)\s*=").search(line, key.end())
            if inner:
                return n, inner.start(1) + 1
            fallback = (n, len(key.group(1)) + 1)
    return fallback


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


_SUFFIXES = {"socket_module": ".py", "models_module": ".py", "types": ".ts"}


# Numeric keys: (smallest, largest) allowed. A timeout is seconds; caps are counts.
_NUMBERS: dict[str, tuple[float, float]] = {
    "timeout_s": (0.001, 3600.0),
    "max_rooms_per_socket": (1, 100_000),
    "max_inflight_per_socket": (1, 10_000),
    "max_bytes": (1, 100_000_000),
    "rate_limit_disconnect_after": (0, 100_000),
    "rate_limit_disconnect_window_s": (0.001, 3600.0),
}


def _number_problem(key: str, value: Any) -> str | None:
    low, high = _NUMBERS[key]
    whole = not key.endswith("_s")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
        return f"'{key}' must be {'a whole number' if whole else 'a number of seconds'}, not {_kind(value)}"
    if not low <= value <= high:
        return f"'{key}' must be between {low:g} and {high:g}, not {value:g}"
    return None


def _build(root: Path, table: dict[str, Any], text: str, name: str, prefix: tuple[str, ...]) -> Config:
    known = {f.name for f in fields(Config)} - {"root", "source"}
    problems: list[Diagnostic] = []
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            suggestion = _closest(key, known)
            hint = f" (did you mean '{suggestion}'?)" if suggestion else f"; known keys: {', '.join(sorted(known))}"
            problem: str | None = f"unknown configuration key '{key}'{hint}"
        else:
            value, problem = _checked(root, key, value)
        if problem is not None:
            line, col = _key_position(text, prefix + (key,))
            problems.append(Diagnostic(name, line, col, problem))
            continue
        values[key] = value
    if problems:
        raise EventgenError(problems)
    return Config(root=root, source=name, **values)


def _checked(root: Path, key: str, value: Any) -> tuple[Any, str | None]:
    """A known key's value as Config holds it, or why it is wrong."""
    if key == "svelte":
        if not isinstance(value, bool) and value in (4, 5):
            value = str(value)
        if value in ("auto", "4", "5"):
            return value, None
        shown = repr(value) if isinstance(value, str) else _kind(value)
        return value, f"'svelte' must be 4, 5 or \"auto\", not {shown}"
    if key in _NUMBERS:
        problem = _number_problem(key, value)
        return (float(value) if key.endswith("_s") and problem is None else value), problem
    if not isinstance(value, str):
        return value, f"'{key}' must be a string in quotes, not {_kind(value)}"
    if key in _PATH_KEYS:
        value = value.rstrip("/")
    return value, _string_problem(root, key, value)


def _string_problem(root: Path, key: str, value: str) -> str | None:
    if key == "telemetry" and value not in ("", "opentelemetry"):
        return f'\'telemetry\' must be "opentelemetry" or "" (off), not {value!r}'
    if key == "session_value" and value not in ("dict", "id"):
        return f'\'session_value\' must be "dict" (the pool maps a sid to a user dict) or "id" (to the user\'s id), not {value!r}'
    if key in _PATH_KEYS:
        if any(unsafe(ch) for ch in value):
            # A newline or NUL in a path would split or cut every message and marker naming it.
            return f"'{key}' = {value!r} holds a control character; write a plain relative path"
        if not inside_root(root, value):
            return f"'{key}' = {value!r} must be a relative path inside the project"
        if key in _SUFFIXES and not value.endswith(_SUFFIXES[key]):
            return f"'{key}' = {value!r} must name a {_SUFFIXES[key]} file"
    if (
        key in ("server_name", "session_pool")
        and value != "auto"
        and (not value.isidentifier() or keyword.iskeyword(value))
    ):
        return f"'{key}' must be a Python identifier, not {value!r}"
    if key in ("socket_import", "models_import") and value and not re.match(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$", value):
        return f"'{key}' must be a dotted module name such as open_webui.socket.main, not {value!r}"
    if (
        key == "redis_url"
        and value
        and not re.match(r"^(redis|rediss|unix|valkey|valkeys|redis\+sentinel|valkey\+sentinel)://", value)
    ):
        return f"'redis_url' must be a Redis URL (redis://host:port/db, rediss://, unix://, redis+sentinel://), not {value!r}"
    if key == "store_import" and not value.strip():
        return "'store_import' must name the module that exports the socket store, e.g. \"$lib/stores\""
    return None


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
