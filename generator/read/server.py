"""Find the python-socketio server's name: the one home of that lookup.

First with the stdlib parser, in the user's code only.

Every run needs the name (the handlers say `@sio.on`), but parsing the whole
socket module with libcst for it cost about 5 ms per spec, since the module
grows with every spec's handlers, and most of the run's peak memory. Generated
regions never define the server, so they are blanked out first: what is left
is the user's code, the same size however many specs there are, and `ast`
parses it in about a millisecond.

The walk mirrors `find_server` (libcst, below) statement for statement. When this path
cannot tell (a file that does not parse, damaged markers, no server found), it
answers None and the caller asks libcst, whose answer and error messages stand.
"""

from __future__ import annotations

import ast

from ..config import Config
from ..errors import Diagnostic, EventgenError
from ..pyast import dotted_name as _dotted
from ..sources import Sources
from .tree import user_tree


def find_server_name(text: str, path: str, read: tuple[ast.Module, list[str]] | None = None) -> str | None:
    """The AsyncServer variable, or None when libcst must decide. `read`: the user's code, parsed already."""
    read = read or user_tree(text, path)
    if read is None:
        return None
    return _find(*read)


def _find(tree: ast.Module, lines: list[str]) -> str | None:
    for stmt in tree.body:
        name = _server_assign(stmt)
        if name:
            return name
        for suite in _branches(stmt):
            if _is_indented_block(suite, lines):
                for inner in suite:
                    name = _server_assign(inner)
                    if name:
                        return name
    return None


def _server_assign(stmt: ast.stmt) -> str | None:
    """`NAME = socketio.AsyncServer(...)` or `NAME: T = AsyncServer(...)`."""
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or not isinstance(stmt.value, ast.Call):
        return None
    callee = _dotted(stmt.value.func) or ""
    if callee.split(".")[-1] != "AsyncServer":
        return None
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    for target in targets:
        if isinstance(target, ast.Name):
            return target.id
    return None


def _branches(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The bodies of an if/elif/else chain, or of try/except/else (not finally), as libcst walks them."""
    if isinstance(stmt, ast.If):
        out = [stmt.body]
        node = stmt
        while node.orelse:
            nested = node.orelse[0]
            # `elif` is an If whose keyword sits at the column of its `if`; an `if`
            # nested in `else:` is indented deeper, and its body is not a branch.
            if len(node.orelse) == 1 and isinstance(nested, ast.If) and nested.col_offset == node.col_offset:
                out.append(nested.body)
                node = nested
                continue
            out.append(node.orelse)
            break
        return out
    if isinstance(stmt, ast.Try):
        return [stmt.body, *(h.body for h in stmt.handlers), *([stmt.orelse] if stmt.orelse else [])]
    return []


def _is_indented_block(suite: list[ast.stmt], lines: list[str]) -> bool:
    """libcst skips one-line suites (`else: sio = ...`); so does this: only whitespace precedes the first statement."""
    first = suite[0]
    line = lines[first.lineno - 1].encode("utf-8")  # col_offset counts UTF-8 bytes
    return not line[: first.col_offset].strip()


def server_name(config: Config, sources: Sources) -> str | None:
    """The AsyncServer variable: from the config, else found in the socket module (None: not found;
    a socket module that is missing or cannot be read is an EventgenError)."""
    if config.server_name != "auto":
        return config.server_name
    src = sources.require(config.socket_module, "needed to place generated code")
    # The stdlib parser over the user's code answers for nearly every file; libcst only when it cannot tell.
    name = find_server_name(src.text, config.socket_module, sources.user_code(config.socket_module))
    if name is not None:
        return name
    from .server_cst import find_server

    found = find_server(sources.cst(config.socket_module))
    return found[0] if found else None


def required_server_name(config: Config, sources: Sources) -> str:
    """`server_name`, or the error every generating run stops with."""
    name = server_name(config, sources)
    if name is None:
        raise EventgenError(
            Diagnostic(
                config.socket_module,
                0,
                0,
                "no python-socketio server found: expected `NAME = socketio.AsyncServer(...)` at module level or in an if/else",
                hint="set server_name in eventgen.toml, or socket_module to the right file",
            )
        )
    return name
