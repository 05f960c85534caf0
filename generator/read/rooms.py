"""Rooms the hand-written code enters, where the name can be read (CONTRACT 6.2).

Open WebUI's `connect` enters `user:{id}` and every `channel:{id}` of the user; its
`ydoc:document:join` enters `doc_{document_id}` for a client-chosen id. A spec room whose
names such a room can produce is the app's: generated joins and leaves would change the
app's members, or open the app's room to the spec's access rule.

A name is read as a glob: literal text and holes (values the app does not escape, so a hole
may hold ':'). Readable: strings, f-strings, `+`, `"...".format(...)`, `"..." % x`,
`":".join([...])`, `str(x)`, module string constants, a local variable assigned one of
those, a module function returning one of those; `enter_room(sid, room)` on the server or
its `manager` (`manager.enter_room(sid, namespace, room)`); and a module function that
enters a room it takes as a parameter (`enter_room_for_users(room, user_ids)`), read at the
call sites of every module given.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass

from ..spec.rooms import Glob

_HOLE = None
_MAX_DEPTH = 4


@dataclass(frozen=True)
class EnteredRoom:
    glob: Glob
    path: str
    line: int
    col: int  # 1-based
    source: str  # the name expression as written


@dataclass(frozen=True)
class RoomParam:
    """A module function that enters the room passed as one of its parameters."""

    function: str
    index: int  # positional index of the parameter
    name: str


def entering_functions(tree: ast.Module) -> list[RoomParam]:
    out: list[RoomParam] = []
    for fn in tree.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
        for call in ast.walk(fn):
            arg = _room_argument(call)
            if isinstance(arg, ast.Name) and arg.id in params and not _assigned_in(fn, arg.id):
                out.append(RoomParam(fn.name, params.index(arg.id), arg.id))
    return out


def entered_rooms(tree: ast.Module, path: str, via: list[RoomParam] = ()) -> list[EnteredRoom]:  # type: ignore[assignment]
    """Rooms this module enters: directly, and through calls of the functions in `via`."""
    reader = _Reader(tree)
    found: list[EnteredRoom] = []
    by_name = {v.function: v for v in via}
    for fn, node in _calls_with_scope(tree):
        arg = _room_argument(node)
        if arg is None:
            name = _callee_name(node.func)
            param = by_name.get(name or "")
            if param is None:
                continue
            arg = (
                node.args[param.index]
                if len(node.args) > param.index
                else next((k.value for k in node.keywords if k.arg == param.name), None)
            )
            if arg is None:
                continue
        for glob in reader.read(arg, fn):
            found.append(EnteredRoom(glob, path, node.lineno, node.col_offset + 1, ast.unparse(arg)))
    return found


def _room_argument(node: ast.AST) -> ast.expr | None:
    """The room name of an `enter_room` call: `x.enter_room(sid, room)`, `x.manager.enter_room(sid, ns, room)`."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "enter_room"):
        return None
    keyword = next((k.value for k in node.keywords if k.arg == "room"), None)
    if keyword is not None:
        return keyword
    on_manager = isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "manager"
    index = 2 if on_manager else 1
    return node.args[index] if len(node.args) > index else None


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _calls_with_scope(tree: ast.Module) -> list[tuple[ast.AST | None, ast.Call]]:
    """Every call, with the function it sits in (None at module level)."""
    out: list[tuple[ast.AST | None, ast.Call]] = []

    def visit(node: ast.AST, fn: ast.AST | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child)
            else:
                if isinstance(child, ast.Call):
                    out.append((fn, child))
                visit(child, fn)

    visit(tree, None)
    return out


def _assigned_in(fn: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(fn))


class _Reader:
    def __init__(self, tree: ast.Module) -> None:
        self.functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.module = tree

    def read(self, node: ast.expr, scope: ast.AST | None, depth: int = 0) -> list[Glob]:
        """Every glob the expression can be (several when a variable is assigned several times);
        [] when it cannot be read."""
        if depth > _MAX_DEPTH:
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [(node.value,)]
        if isinstance(node, ast.JoinedStr):
            parts: list[list[Glob]] = []
            for value in node.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parts.append([(value.value,)])
                else:
                    parts.append(
                        self._or_hole(value.value if isinstance(value, ast.FormattedValue) else value, scope, depth)
                    )
            return _concat(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.read(node.left, scope, depth + 1), self.read(node.right, scope, depth + 1)
            if not left and not right:
                return []  # two unknowns added: not a name we can read
            return _concat([left or [(_HOLE,)], right or [(_HOLE,)]])
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            return [_percent(node.left.value)]
        if isinstance(node, ast.Name):
            return self._variable(node.id, scope, depth)
        if isinstance(node, ast.Call):
            return self._call(node, scope, depth)
        return []

    def _or_hole(self, node: ast.expr, scope: ast.AST | None, depth: int) -> list[Glob]:
        return self.read(node, scope, depth + 1) or [(_HOLE,)]

    def _call(self, node: ast.Call, scope: ast.AST | None, depth: int) -> list[Glob]:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Constant)
            and isinstance(func.value.value, str)
        ):
            if func.attr == "format":
                formatted = _format(func.value.value)
                return [formatted] if formatted is not None else []
            if func.attr == "join" and len(node.args) == 1 and isinstance(node.args[0], (ast.List, ast.Tuple)):
                items: list[list[Glob]] = []
                for i, element in enumerate(node.args[0].elts):
                    if i:
                        items.append([(func.value.value,)])
                    items.append(self._or_hole(element, scope, depth))
                return _concat(items)
        if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1:
            return self._or_hole(node.args[0], scope, depth)
        if isinstance(func, ast.Name) and func.id in self.functions:
            fn = self.functions[func.id]
            return [g for ret in _returns(fn) for g in self.read(ret, fn, depth + 1)]
        return []

    def _variable(self, name: str, scope: ast.AST | None, depth: int) -> list[Glob]:
        """A local assigned only readable names, or a module constant."""
        for owner in ([scope] if scope is not None else []) + [self.module]:
            values = _assignments(owner, name)
            if values:
                read = [self.read(v, owner if owner is not self.module else None, depth + 1) for v in values]
                return [g for r in read for g in r] if all(read) else []
        return []


def _assignments(owner: ast.AST, name: str) -> list[ast.expr]:
    """Values assigned to `name` in this scope (the module: its top level only)."""
    nodes = owner.body if isinstance(owner, ast.Module) else list(ast.walk(owner))
    out: list[ast.expr] = []
    for node in nodes:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            out.append(node.value)
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and node.value is not None
        ):
            out.append(node.value)
    return out


def _returns(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    return [n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]


def _concat(parts: list[list[Glob]]) -> list[Glob]:
    out: list[Glob] = [()]
    for options in parts:
        if not options:
            return []
        out = [a + b for a in out for b in options][:64]  # a name built from many branches: enough to judge
    return [_merged(g) for g in out]


def _merged(glob: Glob) -> Glob:
    """Adjacent literals joined, adjacent holes folded into one."""
    out: list[str | None] = []
    for piece in glob:
        if piece == "":
            continue
        if out and piece is not None and out[-1] is not None:
            out[-1] = out[-1] + piece
        elif not (out and piece is None and out[-1] is None):
            out.append(piece)
    return tuple(out)


def _format(text: str) -> Glob | None:
    out: list[str | None] = []
    try:
        for literal, field, _, _ in string.Formatter().parse(text):
            out.append(literal)
            if field is not None:
                out.append(_HOLE)
    except ValueError:
        return None
    return _merged(tuple(out))


def _percent(text: str) -> Glob:
    out: list[str | None] = []
    parts = text.replace("%%", "\x00").split("%")
    out.append(parts[0].replace("\x00", "%"))
    for part in parts[1:]:
        # `%s`, `%d`, `%(name)s`, `%-5s`: a conversion, then literal text.
        i = part.find(")") + 1 if part.startswith("(") else 0
        while i < len(part) and part[i] not in "diouxXeEfFgGcrsa":
            i += 1
        out.append(_HOLE)
        out.append(part[i + 1 :].replace("\x00", "%"))
    return _merged(tuple(out))
