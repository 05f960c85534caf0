"""Rooms the hand-written code enters: `enter_room(sid, <name>)` whose name can be read (CONTRACT 6.2).

Open WebUI's `connect` enters `user:{id}` and every `channel:{id}` of the user. A spec room
of the same shape is then the app's: generated leaves would take the app's members out.
Readable names: a string, an f-string, `+` concatenations, `"...".format(...)`,
`"..." % x`, and a call of a module-level function whose body returns one of those
(`get_user_room(user.id)`). Parts that are not literal text are holes; a segment holding a
hole reads as a param.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass

from ..spec.rooms import SEPARATOR, Segment, Shape

_HOLE = object()
Piece = str | object  # literal text, or _HOLE


@dataclass(frozen=True)
class EnteredRoom:
    shape: Shape
    line: int
    col: int  # 1-based
    source: str  # the name expression as written


def entered_rooms(tree: ast.Module) -> list[EnteredRoom]:
    functions = {
        node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    found: list[EnteredRoom] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "enter_room"):
            continue
        arg = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "room"), None)
        if arg is None:
            continue
        pieces = _pieces(arg, functions, depth=0)
        if pieces is None:
            continue
        found.append(EnteredRoom(_shape(pieces), node.lineno, node.col_offset + 1, ast.unparse(arg)))
    return found


def _pieces(node: ast.expr, functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef], depth: int) -> list[Piece] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out: list[Piece] = []
        for value in node.values:
            out.append(value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else _HOLE)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _pieces(node.left, functions, depth) or [_HOLE]
        right = _pieces(node.right, functions, depth) or [_HOLE]
        if left == [_HOLE] and right == [_HOLE]:
            return None  # two unknowns added: not a name we can read
        return left + right
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        return _percent(node.left.value)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
            return _format(func.value.value)
        if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1:
            return _pieces(node.args[0], functions, depth)
        if isinstance(func, ast.Name) and func.id in functions and depth < 3:
            returned = _single_return(functions[func.id])
            if returned is not None:
                return _pieces(returned, functions, depth + 1)
    return None


def _single_return(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.expr | None:
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
        return body[0].value
    return None


def _format(text: str) -> list[Piece] | None:
    out: list[Piece] = []
    try:
        for literal, field, _, _ in string.Formatter().parse(text):
            out.append(literal)
            if field is not None:
                out.append(_HOLE)
    except ValueError:
        return None
    return out


def _percent(text: str) -> list[Piece]:
    out: list[Piece] = []
    parts = text.replace("%%", "\x00").split("%")
    out.append(parts[0].replace("\x00", "%"))
    for part in parts[1:]:
        # `%s`, `%d`, `%(name)s`, `%-5s`: a conversion, then literal text.
        i = 0
        if part.startswith("("):
            i = part.find(")") + 1
        while i < len(part) and part[i] not in "diouxXeEfFgGcrsa":
            i += 1
        out.append(_HOLE)
        out.append(part[i + 1 :].replace("\x00", "%"))
    return out


def _shape(pieces: list[Piece]) -> Shape:
    segments: list[Segment] = []
    current: list[Piece] = []
    for piece in pieces + [SEPARATOR]:
        if piece is _HOLE:
            current.append(piece)
            continue
        text = str(piece)
        while SEPARATOR in text:
            head, _, text = text.partition(SEPARATOR)
            current.append(head)
            segments.append(None if any(p is _HOLE for p in current) else "".join(str(p) for p in current))
            current = []
        current.append(text)
    return Shape(tuple(segments))
