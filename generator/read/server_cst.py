"""The server lookup with libcst: the answer that stands when the stdlib path (server.py) cannot tell.

Imported only then: libcst costs about 100 ms to import."""

from __future__ import annotations

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


# -- the socket server ------------------------------------------------------


def _server_assign(stmt: cst.BaseStatement) -> str | None:
    """`NAME = socketio.AsyncServer(...)` (or AsyncServer(...)) in a simple statement line."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return None
    for small in stmt.body:
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
            callee = dotted(small.value.func) or ""
            if callee.split(".")[-1] == "AsyncServer":
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                for target in targets:
                    if isinstance(target, cst.Name):
                        return target.value
    return None


def _branches(stmt: cst.BaseStatement) -> list[cst.BaseSuite]:
    if isinstance(stmt, cst.If):
        out = [stmt.body]
        orelse = stmt.orelse
        while orelse is not None:
            out.append(orelse.body)
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
        return out
    if isinstance(stmt, cst.Try):
        return [stmt.body] + [h.body for h in stmt.handlers] + ([stmt.orelse.body] if stmt.orelse else [])
    return []


def find_server(module: cst.Module) -> tuple[str, int] | None:
    """The server's name and the index of the top-level statement that creates it."""
    for i, stmt in enumerate(module.body):
        name = _server_assign(stmt)
        if name:
            return name, i
        for suite in _branches(stmt):
            if isinstance(suite, cst.IndentedBlock):
                for inner in suite.body:
                    name = _server_assign(inner)
                    if name:
                        return name, i
    return None
