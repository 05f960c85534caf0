"""The session pool: the module-level mapping a socket module fills, indexed by sid, when a client connects.

Open WebUI calls it `SESSION_POOL` and fills it in `connect` (`SESSION_POOL[sid] = user.model_dump()`;
before 0.4 in `user-join`, with `user.id`). Other apps name it as they like (`connected_users`,
`sessions`); generated handlers must check the same mapping, so `init` reads its name here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..pyast import dotted_name
from .bindings import module_bindings


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
    bound = module_bindings(tree)
    handlers = _handlers(tree, server)
    handlers.sort(key=lambda item: item[0] != "connect")  # connect first; the rest in file order
    for event, fn in handlers:
        params = fn.args.posonlyargs + fn.args.args
        if not params:
            continue
        sid = params[0].arg
        for node in ast.walk(fn):
            if not isinstance(node, (ast.Assign, ast.AnnAssign)):
                continue
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
            if (
                isinstance(event, ast.Constant)
                and isinstance(event.value, str)
                and isinstance(handler, ast.Name)
                and handler.id in functions
            ):
                out.append((event.value, functions[handler.id]))
    out.sort(key=lambda item: item[1].lineno)
    return out


def module_binds(tree: ast.Module, name: str) -> bool:
    return name in module_bindings(tree)


# -- what the pool holds -----------------------------------------------------------------------

# Calls whose result is a dict: pydantic v2 and v1, dataclass-like and namedtuple conversions.
_DICT_METHODS = frozenset({"model_dump", "dict", "to_dict", "_asdict"})
_ID_CALLS = frozenset({"str", "int"})


@dataclass(frozen=True)
class SessionShape:
    value: str | None  # "dict", "id", or None when the code does not tell
    why: str  # the stored expressions with their lines, or why they do not tell


def session_shape(tree: ast.Module, server: str, pool: str) -> SessionShape:
    """Whether the server's handlers store user dicts or user ids in `pool[sid]`, read from every
    such store: `user.model_dump()`, `dict(...)`, `{...}` are dicts; `user.id`, `user["id"]`,
    `str(...)`, a string literal are ids; a local name is followed to its assignments in the same
    handler. Anything else, or stores that disagree, do not tell (value None)."""
    stores: list[tuple[int, str, str | None]] = []  # line, source, shape
    for _event, fn in _handlers(tree, server):
        params = fn.args.posonlyargs + fn.args.args
        if not params:
            continue
        sid = params[0].arg
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                targets, value = list(node.targets), node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for target in targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == pool
                    and isinstance(target.slice, ast.Name)
                    and target.slice.id == sid
                ):
                    stores.append((node.lineno, ast.unparse(value), _shape(value, fn, node.lineno, 0)))
    if not stores:
        return SessionShape(None, f"no handler stores {pool}[sid]")
    stores.sort()
    shown = ", ".join(f"`{_short(src)}` (line {line})" for line, src, _ in stores)
    shapes = {shape for _, _, shape in stores}
    if len(shapes) == 1 and None not in shapes:
        return SessionShape(shapes.pop(), shown)
    if None in shapes:
        unknown = ", ".join(f"`{_short(src)}` (line {line})" for line, src, shape in stores if shape is None)
        return SessionShape(None, f"cannot tell whether {pool}[sid] = {unknown} stores a user dict or the user's id")
    return SessionShape(None, f"{pool}[sid] stores both user dicts and ids: {shown}")


def _short(source: str, limit: int = 60) -> str:
    source = " ".join(source.split())
    return source if len(source) <= limit else source[: limit - 3] + "..."


def _shape(value: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef, line: int, depth: int) -> str | None:
    if depth > 5:
        return None
    if isinstance(value, (ast.Dict, ast.DictComp)):
        return "dict"
    if isinstance(value, ast.Constant):
        return "id" if isinstance(value.value, (str, int)) and not isinstance(value.value, bool) else None
    if isinstance(value, ast.JoinedStr):
        return "id"
    if isinstance(value, ast.Attribute):
        return "id" if value.attr == "id" else None
    if isinstance(value, ast.Subscript):
        key = value.slice
        return "id" if isinstance(key, ast.Constant) and key.value == "id" else None
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Name) and func.id == "dict":
            return "dict"
        if isinstance(func, ast.Name) and func.id in _ID_CALLS:
            return "id"
        if isinstance(func, ast.Attribute) and func.attr in _DICT_METHODS:
            return "dict"
        return None
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):  # d | {...}
        sides = {_shape(value.left, fn, line, depth + 1), _shape(value.right, fn, line, depth + 1)}
        return "dict" if "dict" in sides else None
    if isinstance(value, ast.IfExp):
        sides = {_shape(value.body, fn, line, depth + 1), _shape(value.orelse, fn, line, depth + 1)}
        return sides.pop() if len(sides) == 1 else None
    if isinstance(value, ast.Name):
        return _name_shape(value.id, fn, line, depth)
    return None


def _name_shape(name: str, fn: ast.FunctionDef | ast.AsyncFunctionDef, line: int, depth: int) -> str | None:
    """The shape of every assignment to a local `name` in fn before `line` (a parameter, a loop
    variable or any other binding does not tell)."""
    args = fn.args
    if name in {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} | {
        a.arg for a in (args.vararg, args.kwarg) if a
    }:
        return None
    shapes: set[str | None] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and node.lineno < line:
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                shapes.add(_shape(node.value, fn, node.lineno, depth + 1))
            elif any(
                name in {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
                for t in node.targets
                if not isinstance(t, ast.Name)
            ):
                return None  # unpacked or otherwise bound: do not guess
        elif (
            isinstance(node, ast.AnnAssign)
            and node.lineno < line
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            if node.value is not None:
                shapes.add(_shape(node.value, fn, node.lineno, depth + 1))
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.NamedExpr)):
            bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            if name in bound:
                return None
    return shapes.pop() if len(shapes) == 1 else None
