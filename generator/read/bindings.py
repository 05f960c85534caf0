"""Every name a module binds at module level, with the line that binds it first (CONTRACT 6.3).

A name eventgen adds to a module (a handler, an emit helper, an import) must not rebind
one of these: the app's own `sio`, `SESSION_POOL` or `get_event_caller` would silently be
replaced. Binding forms: def, class, assignment (plain, annotated, augmented, tuple and
star targets), import and from-import, for and with targets, except-as, match captures,
walrus, `type X = ...`, and `global X` assigned inside a function — in if/try/with/for/while
blocks too. Function and class bodies are their own scopes; their decorators, defaults and
bases run at module level.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass
class Bindings:
    lines: dict[str, int] = field(default_factory=dict)  # name -> first line that binds it
    star_import: int = 0  # line of a `from x import *` (what it binds cannot be known), 0 if none

    def __contains__(self, name: str) -> bool:
        return name in self.lines


# Read once per parsed tree (a router is asked about once per emit call patched into it):
# trees are kept alive by the cache; a run parses a handful of files. Callers do not mutate the result.
@lru_cache(maxsize=64)
def module_bindings(tree: ast.Module) -> Bindings:
    binder = _Binder()
    binder.statements(tree.body)
    return binder.found


class _Binder:
    """Walks a module's statements, noting every name bound at module level."""

    def __init__(self) -> None:
        self.found = Bindings()

    def bind(self, name: str, node: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        if name not in self.found.lines or line < self.found.lines[name]:
            self.found.lines[name] = line

    def targets(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.targets(element)
        elif isinstance(target, ast.Starred):
            self.targets(target.value)

    def expressions(self, node: ast.AST) -> None:
        """Walrus targets in expressions that run at module level (comprehensions included)."""
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, ast.NamedExpr):
                self.targets(item.target)
            if isinstance(item, _SCOPES):
                # Their bodies are other scopes; what runs here are decorators, defaults, bases.
                stack.extend(_module_level_parts(item))
                continue
            stack.extend(ast.iter_child_nodes(item))

    def statements(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.bind(stmt.name, stmt)
                self.expressions(stmt)
                _globals_assigned(stmt, self.bind)
                continue
            self.statement(stmt)
            for handler in getattr(stmt, "handlers", []):
                if handler.name:
                    self.bind(handler.name, handler)
                self.statements(handler.body)
            self.expressions_of(stmt)
            for block in ("body", "orelse", "finalbody"):
                self.statements(getattr(stmt, block, []) or [])
            for case in getattr(stmt, "cases", []):
                self.statements(case.body)

    def statement(self, stmt: ast.stmt) -> None:
        """The names one statement binds itself (not those of the blocks it holds)."""
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                self.targets(target)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            self.targets(stmt.target)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.bind(alias.asname or alias.name.split(".")[0], stmt)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name == "*":
                    self.found.star_import = self.found.star_import or stmt.lineno
                else:
                    self.bind(alias.asname or alias.name, stmt)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self.targets(item.optional_vars)
        elif isinstance(stmt, ast.Match):
            for case in stmt.cases:
                for node in ast.walk(case.pattern):
                    name = getattr(node, "name", None) or getattr(node, "rest", None)
                    if isinstance(name, str):
                        self.bind(name, node)
        elif type(stmt).__name__ == "TypeAlias":  # `type X = ...`, Python 3.12+
            self.targets(getattr(stmt, "name"))

    def expressions_of(self, stmt: ast.stmt) -> None:
        for name, value in ast.iter_fields(stmt):
            if name in ("body", "orelse", "finalbody", "handlers", "cases"):
                continue
            for node in value if isinstance(value, list) else [value]:
                if isinstance(node, ast.AST):
                    self.expressions(node)


def _module_level_parts(node: ast.AST) -> list[ast.AST]:
    parts: list[ast.AST] = []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        parts.extend(node.decorator_list)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        parts.extend(args.defaults)
        parts.extend(d for d in args.kw_defaults if d is not None)
    if isinstance(node, ast.ClassDef):
        parts.extend(node.bases)
        parts.extend(k.value for k in node.keywords)
    return parts


def _globals_assigned(scope: ast.AST, bind: object) -> None:
    """`global X` inside a function, then `X = ...` there, binds X in the module."""
    declared: dict[str, ast.Global] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Global):
            for name in node.names:
                declared.setdefault(name, node)
    for name, node in declared.items():
        bind(name, node)  # type: ignore[operator]


@lru_cache(maxsize=256)
def function_locals(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, int]:
    """Names a function binds for itself (parameters, assignments, imports, loop and with targets,
    except-as), with the line that binds each first; nested scopes included, conservatively."""
    found: dict[str, int] = {}
    args = fn.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            found.setdefault(arg.arg, arg.lineno)
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.setdefault(node.id, node.lineno)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.setdefault(node.name, node.lineno)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.setdefault(alias.asname or alias.name.split(".")[0], node.lineno)
    return found
