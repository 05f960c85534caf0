"""Small helpers over the stdlib syntax tree, shared by the modules that read user code with `ast`."""

from __future__ import annotations

import ast


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else (a call, a subscript)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr}" if base else None
    return None
