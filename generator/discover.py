"""Find the Socket.IO events a project's hand-written code uses, for `eventgen list`.

Python: calls on the server object — `@sio.on("x")`, `sio.on("x", f)`,
`@sio.event def x`, `sio.emit("x", ...)`, `sio.call("x", ...)` — in the socket
module and in every module that imports the server from it (routers, mostly),
parsed with the stdlib `ast` (fast; no positions beyond line/col are needed).
Frontend: `socket.on('x')`, `$socket?.on("x")`, `socket.once(...)` in
.svelte/.ts/.js files, found with a regular expression.

Code inside eventgen regions and whole generated files is skipped: those
events are the specs' own. Only literal event names are found; an event named
by a variable cannot be known without running the code.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from .config import Config
from .errors import Diagnostic, EventgenError
from .markers import BEGIN, END, FILE_MARK
from .pyast import dotted_name as _dotted
from .spec.models import RESERVED_EVENTS

Direction = Literal["client_to_server", "server_to_client"]
Kind = Literal["handler", "emit", "listener"]

_SKIP_DIRS = frozenset({"node_modules", ".svelte-kit", "build", "dist", "__pycache__", ".venv", "venv", "site-packages", ".tox"})
_FRONTEND_SUFFIXES = (".svelte", ".ts", ".js", ".mjs", ".cjs", ".mts", ".cts")
# `<something>socket` then `.on(` / `?.on(` / `.once(` and a literal name in ', " or a backtick
# string without ${...}. Receivers are matched by name: `socket`, `$socket`, `_socket`, `this.socket`.
_LISTEN = re.compile(
    r"""(?<![\w$])\$?(?:[A-Za-z_$][\w$]*?)?[sS]ocket\s*\??\.\s*(?:on|once)\s*\(\s*"""
    r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)"|`([^`\\$\n]*)`)"""
)
_SERVER_METHODS: dict[str, tuple[Kind, Direction]] = {
    "on": ("handler", "client_to_server"),
    "emit": ("emit", "server_to_client"),
    "call": ("emit", "server_to_client"),
}


@dataclass(frozen=True)
class Found:
    """One use of an event name in hand-written code."""

    name: str
    direction: Direction
    kind: Kind  # handler (@sio.on), emit (sio.emit/call), listener (socket.on in the frontend)
    path: str  # project-relative
    line: int
    col: int  # 1-based

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Discovery:
    found: list[Found]
    warnings: list[Diagnostic]  # files that could not be read or parsed: skipped, not fatal


def discover(config: Config, server: str | None) -> Discovery:
    """Every event use in the project's hand-written Python and frontend code."""
    result = Discovery([], [])
    if server:
        for rel in _python_files(config, server):
            _scan_python(config, rel, server, result)
    for rel in _frontend_files(config):
        _scan_frontend(config, rel, result)
    result.found.sort(key=lambda f: (f.path, f.line, f.col, f.name))
    return result


def server_name(config: Config) -> str | None:
    """The AsyncServer variable: from the config, else found by parsing the socket module."""
    if config.server_name != "auto":
        return config.server_name
    from .patch.server import find_server_name
    from .sources import Sources

    sources = Sources(config.root)
    try:
        src = sources.get(config.socket_module)
        if src is None:
            return None
        # The stdlib path answers for nearly every file; libcst only when it cannot tell.
        name = find_server_name(src.text, src.path)
        if name is not None:
            return name
        from .patch.anchors import find_server

        found = find_server(sources.cst(config.socket_module))
    except EventgenError:
        return None  # a socket module that cannot be read or parsed: nothing to find there
    return found[0] if found else None


# -- Python --------------------------------------------------------------------------


def _python_files(config: Config, server: str) -> list[str]:
    """The socket module, then every module under the import root that mentions the server's name."""
    out = [config.socket_module] if (config.root / config.socket_module).is_file() else []
    base = config.root / config.python_root
    # Cheap byte tests before any parse: the server's name, and an import that may reach it.
    needle = server.encode()
    module_hints = (config.socket_dotted.encode(), b"from .")
    for path in _walk(base, (".py",)):
        rel = path.relative_to(config.root).as_posix()
        if rel == config.socket_module:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if needle in data and any(h in data for h in module_hints):
            out.append(rel)
    return out


def _module_name(config: Config, rel: str) -> str:
    parts = PurePosixPath(rel).with_suffix("").relative_to(config.python_root).parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _server_refs(imports: list[ast.Import | ast.ImportFrom], config: Config, rel: str, server: str) -> set[str]:
    """Dotted expressions naming the server in this module: `sio`, `socket_server`, `main.sio`..."""
    if rel == config.socket_module:
        return {server}
    target = config.socket_dotted
    own = _module_name(config, rel)
    package = own if rel.endswith("__init__.py") else own.rpartition(".")[0]
    refs: set[str] = set()
    for node in imports:
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                # `from ..socket.main import sio`: climb level-1 packages up from this module's package.
                base = package.split(".") if package else []
                base = base[: max(0, len(base) - (node.level - 1))]
                module = ".".join([*base, module] if module else base)
            for alias in node.names:
                if module == target and alias.name == server:
                    refs.add(alias.asname or server)
                elif f"{module}.{alias.name}" == target:
                    refs.add(f"{alias.asname or alias.name}.{server}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == target:
                    refs.add(f"{alias.asname}.{server}" if alias.asname else f"{target}.{server}")
    return refs


def _literal_event(call: ast.Call) -> str | None:
    arg: ast.expr | None = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "event"), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _scan_python(config: Config, rel: str, server: str, result: Discovery) -> None:
    text = _read(config, rel, result)
    if text is None or _is_generated(text):
        return
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        result.warnings.append(Diagnostic(rel, exc.lineno or 0, exc.offset or 0, f"cannot parse Python ({exc.msg}); its events are not listed"))
        return
    # One walk: imports (they may sit inside functions), candidate calls, decorated functions.
    imports: list[ast.Import | ast.ImportFrom] = []
    calls: list[tuple[ast.Call, ast.Attribute]] = []
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SERVER_METHODS:
            calls.append((node, node.func))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.decorator_list:
            functions.append(node)
    refs = _server_refs(imports, config, rel, server)
    if not refs:
        return
    managed = _region_lines(text)
    uses: list[tuple[str | None, Kind, Direction, ast.Call | ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for call, func in calls:
        if _dotted(func.value) in refs:
            kind, direction = _SERVER_METHODS[func.attr]
            uses.append((_literal_event(call), kind, direction, call))
    decorators = {f"{r}.event" for r in refs}
    for fn in functions:
        # `@sio.event` registers the function under its own name.
        if any(_dotted(d) in decorators for d in fn.decorator_list):
            uses.append((fn.name, "handler", "client_to_server", fn))
    for name, kind, direction, node in uses:
        line, col = node.lineno, node.col_offset + 1
        if name is None or name in RESERVED_EVENTS or line in managed:
            continue
        result.found.append(Found(name, direction, kind, rel, line, col))


# -- frontend ------------------------------------------------------------------------


def frontend_roots(config: Config) -> list[str]:
    """Where the frontend lives: the `src` folder holding the generated components and types."""
    roots: set[str] = set()
    for rel in (config.components, config.types):
        parts = PurePosixPath(rel).parts
        roots.add(PurePosixPath(*parts[: parts.index("src") + 1]).as_posix() if "src" in parts else parts[0])
    return sorted(roots)


def _frontend_files(config: Config) -> list[str]:
    out: list[str] = []
    for root in frontend_roots(config):
        for path in _walk(config.root / root, _FRONTEND_SUFFIXES):
            out.append(path.relative_to(config.root).as_posix())
    return sorted(set(out))


def _scan_frontend(config: Config, rel: str, result: Discovery) -> None:
    text = _read(config, rel, result)
    if text is None or _is_generated(text) or "ocket" not in text:
        return
    for m in _LISTEN.finditer(text):
        name = next(g for g in m.groups() if g is not None)
        line_start = text.rfind("\n", 0, m.start()) + 1
        if "//" in text[line_start : m.start()]:
            continue  # a line comment (or a URL before the call: rare enough to miss)
        if not name or name in RESERVED_EVENTS:
            continue
        line = text.count("\n", 0, m.start()) + 1
        result.found.append(Found(name, "server_to_client", "listener", rel, line, m.start() - line_start + 1))


# -- shared --------------------------------------------------------------------------


def _walk(base: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not base.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        out.extend(Path(dirpath) / n for n in sorted(filenames) if n.endswith(suffixes))
    return out


def _read(config: Config, rel: str, result: Discovery) -> str | None:
    try:
        return (config.root / rel).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        result.warnings.append(Diagnostic(rel, 0, 0, f"cannot read ({exc}); its events are not listed"))
        return None


def _is_generated(text: str) -> bool:
    return FILE_MARK.search(text.split("\n", 1)[0]) is not None


def _region_lines(text: str) -> set[int]:
    """1-based line numbers inside eventgen regions (markers included); tolerant of damage."""
    inside: set[int] = set()
    start: int | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if BEGIN.match(line):
            start = n
        elif END.match(line) and start is not None:
            inside.update(range(start, n + 1))
            start = None
    return inside
