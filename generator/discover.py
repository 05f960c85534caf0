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
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from .config import Config
from .errors import Diagnostic, EventgenError
from .markers import FILE_MARK
from .pyast import dotted_name as _dotted
from .read.modules import server_modules, server_refs, walk
from .read.registrations import registrations
from .read.tree import user_tree
from .spec.models import RESERVED_EVENTS

Direction = Literal["client_to_server", "server_to_client"]
Kind = Literal["handler", "emit", "listener"]

_FRONTEND_SUFFIXES = (".svelte", ".ts", ".js", ".mjs", ".cjs", ".mts", ".cts")
# `<something>socket` then `.on(` / `?.on(` / `.once(` and a literal name in ', " or a backtick
# string without ${...}. Receivers are matched by name: `socket`, `$socket`, `_socket`, `this.socket`.
_LISTEN = re.compile(
    r"""(?<![\w$])\$?(?:[A-Za-z_$][\w$]*?)?[sS]ocket\s*\??\.\s*(?:on|once)\s*\(\s*"""
    r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)"|`([^`\\$\n]*)`)"""
)
_EMITS = frozenset({"emit", "call"})


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
        for rel in server_modules(config, server):
            _scan_python(config, rel, server, result)
    for rel in _frontend_files(config):
        _scan_frontend(config, rel, result)
    result.found.sort(key=lambda f: (f.path, f.line, f.col, f.name))
    return result


def server_name(config: Config) -> str | None:
    """The AsyncServer variable, or None when the socket module cannot be read or holds none."""
    from .read.server import server_name as find
    from .sources import Sources

    try:
        return find(config, Sources(config.root))
    except EventgenError:
        return None  # a socket module that cannot be read or parsed: nothing to find there


# -- Python --------------------------------------------------------------------------


def _literal_event(call: ast.Call) -> str | None:
    arg: ast.expr | None = (
        call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "event"), None)
    )
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _scan_python(config: Config, rel: str, server: str, result: Discovery) -> None:
    text = _read(config, rel, result)
    if text is None or _is_generated(text):
        return
    read = user_tree(text, rel)
    if read is None:
        try:
            ast.parse(text, filename=rel)
        except SyntaxError as exc:
            result.warnings.append(
                Diagnostic(
                    rel, exc.lineno or 0, exc.offset or 0, f"cannot parse Python ({exc.msg}); its events are not listed"
                )
            )
        return
    tree = read[0]
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    refs = server_refs(imports, config, rel, server)
    if not refs:
        return
    for reg in registrations(tree, refs):
        if reg.event not in RESERVED_EVENTS:
            result.found.append(Found(reg.event, "client_to_server", "handler", rel, reg.line, reg.col))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _EMITS
            and _dotted(node.func.value) in refs
        ):
            name = _literal_event(node)
            if name is not None and name not in RESERVED_EVENTS:
                result.found.append(Found(name, "server_to_client", "emit", rel, node.lineno, node.col_offset + 1))


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
        for path in walk(config.root / root, _FRONTEND_SUFFIXES):
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


def _read(config: Config, rel: str, result: Discovery) -> str | None:
    try:
        return (config.root / rel).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        result.warnings.append(Diagnostic(rel, 0, 0, f"cannot read ({exc}); its events are not listed"))
        return None


def _is_generated(text: str) -> bool:
    return FILE_MARK.search(text.split("\n", 1)[0]) is not None
