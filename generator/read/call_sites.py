"""Is an emit call generated earlier still where its spec says it belongs?

A router changes after eventgen patched it: the endpoint is renamed, the anchor
call replaced or moved below the generated call. Checking the region's text is
not enough, so every run also checks its place, with the stdlib parser (cheap;
libcst is needed only when the region has to move).
"""

from __future__ import annotations

import ast
import builtins
from functools import lru_cache

from ..markers import FoundRegion
from ..pyast import dotted_name as _dotted

_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def _function(tree: ast.Module, name: str) -> ast.AST | None:
    """The last definition of `name` (or `Class.method`): the one Python keeps."""
    if "." not in name:
        return _top_level_functions(tree).get(name)
    scope: list[ast.stmt] = tree.body
    *owners, last = name.split(".")
    for owner in owners:
        classes = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == owner]
        if not classes:
            return None
        scope = classes[-1].body
    found = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == last]
    return found[-1] if found else None


def endpoint(tree: ast.Module, name: str) -> ast.AST | None:
    """The function (or `Class.method`) an emit call is patched into, as Python keeps it."""
    return _function(tree, name)


# A router holds one emit call per endpoint, each checked on every run: what depends only on
# the module is worked out once per parsed tree, not once per call (quadratic in endpoints).
# Trees are kept alive by the cache; a run parses a handful of files.
@lru_cache(maxsize=16)
def _top_level_functions(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level function name -> its last definition."""
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


_BUILTINS = frozenset(dir(builtins))


@lru_cache(maxsize=16)
def _module_bound(tree: ast.Module) -> frozenset[str]:
    """Names the module binds at top level (imports, assignments, definitions, also inside if/try)."""
    bound: set[str] = set()
    for stmt in tree.body:
        for node in (
            ast.walk(stmt)
            if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.If, ast.Try))
            else [stmt]
        ):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
    return frozenset(bound)


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


def _final_return(fn: ast.AsyncFunctionDef) -> ast.Return | None:
    """The return statement that ends the endpoint (as anchors.final_return_block finds it)."""
    body: list[ast.stmt] = fn.body
    while body:
        last = body[-1]
        if isinstance(last, (ast.With, ast.AsyncWith)) or (
            isinstance(last, ast.Try) and not last.orelse and not last.finalbody
        ):
            body = last.body
            continue
        return last if isinstance(last, ast.Return) else None
    return None


def in_place(
    tree: ast.Module,
    region: FoundRegion,
    function: str,
    after: str,
    found: list[FoundRegion],
    *,
    before: str = "",
    lines: list[str] | None = None,
) -> bool:
    """Whether `region` follows the one statement of async `function` that calls `after`,
    directly or behind other generated calls at the same anchor; with `before="return"`,
    whether it precedes the endpoint's final return (other generated calls and comments between)."""
    fn = _function(tree, function)
    if not isinstance(fn, ast.AsyncFunctionDef):
        return False
    if before == "return":
        ret = _final_return(fn)
        if ret is None or len(region.indent) != ret.col_offset:
            return False
        starts = {r.begin: r for r in found if r.indent == region.indent}
        line = region.end + 1  # 0-based index of the line after the region
        target = ret.lineno - 1
        while line < target:
            if line in starts:
                line = starts[line].end + 1
            elif lines is not None and line < len(lines) and lines[line].strip().startswith("#"):
                line += 1
            else:
                return False
        return line == target
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


def bound_names(tree: ast.Module, function: str) -> set[str] | None:
    """Every name an expression in the endpoint may read: its parameters and locals, the
    module's top-level names and the builtins; None when there is no such function."""
    fn = _function(tree, function)
    if fn is None:
        return None
    bound = set(_BUILTINS) | _module_bound(tree)
    args = fn.args  # type: ignore[attr-defined]
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            bound.add(arg.arg)
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
    return bound


def unbound_names(tree: ast.Module, function: str, expr: str, bound: set[str] | None = None) -> list[str]:
    """Names an argument expression of the generated call reads that neither the endpoint nor
    the module binds.

    A payload field missing from `args` is passed as a variable of the same name; if the
    endpoint has none, the call would raise NameError after the endpoint's own work is done.
    """
    if bound is None:
        bound = bound_names(tree, function)
    if bound is None:
        return []
    node = ast.parse(expr.strip(), mode="eval")
    local = set(bound)
    local.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    local.update(
        a.arg for n in ast.walk(node) if isinstance(n, ast.Lambda) for a in ast.walk(n.args) if isinstance(a, ast.arg)
    )
    used = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    return sorted({name for name in used if name not in local})
