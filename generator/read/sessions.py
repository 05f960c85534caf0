"""The session pool: the module-level mapping a socket module fills, indexed by sid, when a client connects.

Open WebUI calls it `SESSION_POOL` and fills it in `connect` (`SESSION_POOL[sid] = user.model_dump()`;
before 0.4 in `user-join`, with `user.id`). Other apps name it as they like (`connected_users`,
`sessions`); generated handlers must check the same mapping, so `init` reads its name here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..pyast import dotted_name


@dataclass(frozen=True)
class SessionPool:
    name: str  # the module-level mapping
    handler: str  # the function that fills it (connect, user-join, ...)
    line: int  # 1-based line of the assignment
    value: ast.expr  # what is stored per sid (a user dict, a user id, ...)


def find_session_pool(tree: ast.Module, server: str) -> SessionPool | None:
    """The mapping `NAME[sid] = ...` that the server's connect handler fills (else any other
    handler of the server, in file order), where `sid` is the handler's first parameter and
    NAME is bound at module level. None when no handler stores anything by sid."""
    bound = _module_names(tree)
    handlers = _handlers(tree, server)
    handlers.sort(key=lambda item: item[0] != "connect")  # connect first; the rest in file order
    for event, fn in handlers:
        params = fn.args.posonlyargs + fn.args.args
        if not params:
            continue
        sid = params[0].arg
        for node in ast.walk(fn):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in bound
                    and isinstance(target.slice, ast.Name)
                    and target.slice.id == sid
                    and node.value is not None
                ):
                    return SessionPool(target.value.id, event, node.lineno, node.value)
    return None


def _handlers(tree: ast.Module, server: str) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(event, function) for every handler the server registers at module level."""
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for fn in functions.values():
        for deco in fn.decorator_list:
            if dotted_name(deco) == f"{server}.event":
                out.append((fn.name, fn))
            elif isinstance(deco, ast.Call) and dotted_name(deco.func) == f"{server}.on" and deco.args:
                first = deco.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    out.append((first.value, fn))
    for stmt in tree.body:  # sio.on("connect", handler)
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and dotted_name(call.func) == f"{server}.on" and len(call.args) == 2:
            event, handler = call.args
            if isinstance(event, ast.Constant) and isinstance(event.value, str) and isinstance(handler, ast.Name) and handler.id in functions:
                out.append((event.value, functions[handler.id]))
    out.sort(key=lambda item: item[1].lineno)
    return out


def _module_names(tree: ast.Module) -> set[str]:
    """Names bound at module level (also inside if/try), which a pool must be."""
    names: set[str] = set()
    for stmt in tree.body:
        nodes = ast.walk(stmt) if isinstance(stmt, (ast.If, ast.Try)) else [stmt]
        for node in nodes:
            if isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def module_binds(tree: ast.Module, name: str) -> bool:
    return name in _module_names(tree)
