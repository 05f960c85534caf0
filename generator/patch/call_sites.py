"""Is an emit call generated earlier still where its spec says it belongs?

A router changes after eventgen patched it: the endpoint is renamed, the anchor
call replaced or moved below the generated call. Checking the region's text is
not enough, so every run also checks its place, with the stdlib parser (cheap;
libcst is needed only when the region has to move).
"""

from __future__ import annotations

import ast

from ..markers import FoundRegion

_COMPOUND = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
    ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match,
) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _function(tree: ast.Module, name: str) -> ast.AST | None:
    """The last definition of `name` (or `Class.method`): the one Python keeps."""
    scope: list[ast.stmt] = tree.body
    *owners, last = name.split(".")
    for owner in owners:
        classes = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == owner]
        if not classes:
            return None
        scope = classes[-1].body
    found = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == last]
    return found[-1] if found else None


def _simple_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if not isinstance(stmt, _COMPOUND):
            out.append(stmt)
            continue
        for field in ("body", "orelse", "finalbody"):
            out.extend(_simple_statements(getattr(stmt, field, []) or []))
        for handler in getattr(stmt, "handlers", []) or []:
            out.extend(_simple_statements(handler.body))
        for case in getattr(stmt, "cases", []) or []:
            out.extend(_simple_statements(case.body))
    return out


def _calls(stmt: ast.stmt, callee: str) -> bool:
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Lambda):
            continue  # not run by this statement
        if isinstance(node, ast.Call) and _dotted(node.func) == callee:
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def in_place(tree: ast.Module, region: FoundRegion, function: str, after: str, found: list[FoundRegion]) -> bool:
    """Whether `region` follows the one statement of async `function` that calls `after`,
    directly or behind other generated calls at the same anchor."""
    fn = _function(tree, function)
    if not isinstance(fn, ast.AsyncFunctionDef):
        return False
    matches = [s for s in _simple_statements(fn.body) if _calls(s, after)]
    if len(matches) != 1 or isinstance(matches[0], (ast.Return, ast.Raise)):
        return False
    if len(region.indent) != matches[0].col_offset:
        return False  # the anchor moved into another block
    following = {r.begin: r for r in found if r.indent == region.indent}
    line = matches[0].end_lineno or 0  # 1-based last line of the anchor = 0-based index of the next
    while line != region.begin and line in following:
        line = following[line].end + 1
    return line == region.begin
