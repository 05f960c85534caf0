"""Every Socket.IO event a module's hand-written code registers a handler for (CONTRACT 6.4).

python-socketio keeps one handler per event, the last registered, so a spec event that the
code already handles would silently replace it or be replaced. Forms read, anywhere in the
module (inside if/try and functions too): `@sio.on("x")`, `sio.on("x", f)`, `sio.on("x")(f)`,
`@sio.event` / `@sio.event()` / `sio.event(f)` (the function's name), and the `on_x` methods
of an `AsyncNamespace` (or `Namespace`) subclass registered with `sio.register_namespace`.
Only literal event names can be known without running the code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..pyast import dotted_name


@dataclass(frozen=True)
class Registration:
    event: str
    line: int
    col: int  # 1-based
    form: str  # how it is registered, in the words of the code: `@sio.on`, `sio.on(..., f)`, ...
    function: str  # the handler's name where known, else ""


def registrations(tree: ast.Module, refs: set[str]) -> list[Registration]:
    """`refs`: the dotted names that mean the server in this module (`sio`, `main.sio`, ...)."""
    found: list[Registration] = []
    on = {f"{r}.on" for r in refs}
    event = {f"{r}.event" for r in refs}
    register = {f"{r}.register_namespace" for r in refs}
    classes: dict[str, ast.ClassDef] = {}
    instances: dict[str, str] = {}  # variable -> namespace class it holds
    registered: list[ast.expr] = []
    decorated: set[int] = set()

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if dotted_name(target) in event:
                    found.append(_at(node, node.name, f"@{dotted_name(target)}", node.name))
                elif isinstance(deco, ast.Call) and dotted_name(deco.func) in on:
                    decorated.add(id(deco))
                    name = _literal(deco)
                    if name is not None:
                        found.append(_at(deco, name, f"@{dotted_name(deco.func)}", node.name))
        elif isinstance(node, ast.ClassDef) and any(_is_namespace_base(b) for b in node.bases):
            classes[node.name] = node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    instances[target.id] = node.value.func.id
        elif isinstance(node, ast.Call):
            callee = dotted_name(node.func)
            if callee in register and node.args:
                registered.append(node.args[0])
            elif callee in event and node.args:
                handler = dotted_name(node.args[0]) or ""
                if handler:
                    found.append(_at(node, handler.rpartition(".")[2], f"{callee}(f)", handler))
    # Calls of `sio.on("x", ...)` that are not decorators: `sio.on("x", f)` and `sio.on("x")(f)`.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in decorated and dotted_name(node.func) in on:
            name = _literal(node)
            if name is not None:
                handler = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "handler"), None)
                form = f"{dotted_name(node.func)}(..., f)" if handler is not None else f"{dotted_name(node.func)}(...)(f)"
                found.append(_at(node, name, form, dotted_name(handler) or "" if handler is not None else ""))
    for arg in registered:
        cls = _namespace_class(arg, instances)
        if cls in classes:
            for item in classes[cls].body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("on_") and len(item.name) > 3:
                    found.append(_at(item, item.name[3:], f"{cls}.{item.name} (namespace)", f"{cls}.{item.name}"))
    found.sort(key=lambda r: (r.line, r.col, r.event))
    return found


def _at(node: ast.AST, event: str, form: str, function: str) -> Registration:
    return Registration(event, getattr(node, "lineno", 0), getattr(node, "col_offset", 0) + 1, form, function)


def _literal(call: ast.Call) -> str | None:
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "event"), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _is_namespace_base(base: ast.expr) -> bool:
    return (dotted_name(base) or "").rpartition(".")[2] in ("AsyncNamespace", "Namespace")


def _namespace_class(arg: ast.expr, instances: dict[str, str]) -> str | None:
    """`sio.register_namespace(Chat("/chat"))` or `ns = Chat("/chat")` then `register_namespace(ns)`."""
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name):
        return arg.func.id
    if isinstance(arg, ast.Name):
        return instances.get(arg.id)
    return None
