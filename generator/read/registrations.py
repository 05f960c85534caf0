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
    """`refs`: the dotted names that mean the server in this module (`sio`, `main.sio`, ...).
    Handlers on another namespace than "/" (a literal `namespace="/admin"`) are not counted:
    the generated ones serve "/"."""
    refs, on, event = _aliases(tree, set(refs))
    register = {f"{r}.register_namespace" for r in refs}
    classes: dict[str, ast.ClassDef] = {}
    instances: dict[str, ast.Call] = {}  # variable -> the namespace object it was assigned
    registered: list[ast.expr] = []
    decorated: set[int] = set()
    found: list[Registration] = []

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if dotted_name(target) in event and not (isinstance(deco, ast.Call) and _elsewhere(deco)):
                    found.append(_at(node, node.name, f"@{dotted_name(target)}", node.name))
                elif isinstance(deco, ast.Call) and dotted_name(deco.func) in on:
                    decorated.add(id(deco))
                    name = _literal(deco)
                    if name is not None and not _elsewhere(deco):
                        found.append(_at(deco, name, f"@{dotted_name(deco.func)}", node.name))
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    instances[target.id] = node.value
        elif isinstance(node, ast.Call):
            callee = dotted_name(node.func)
            if callee in register:
                arg = (
                    node.args[0]
                    if node.args
                    else next((k.value for k in node.keywords if k.arg == "namespace_handler"), None)
                )
                if arg is not None:
                    registered.append(arg)
            elif callee in event and node.args:
                function = dotted_name(node.args[0]) or ""
                if function:
                    found.append(_at(node, function.rpartition(".")[2], f"{callee}(f)", function))
    # Calls of `sio.on("x", ...)` that are not decorators: `sio.on("x", f)` and `sio.on("x")(f)`.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in decorated and dotted_name(node.func) in on:
            name = _literal(node)
            if name is not None and not _elsewhere(node):
                handler: ast.expr | None = (
                    node.args[1]
                    if len(node.args) > 1
                    else next((k.value for k in node.keywords if k.arg == "handler"), None)
                )
                form = (
                    f"{dotted_name(node.func)}(..., f)" if handler is not None else f"{dotted_name(node.func)}(...)(f)"
                )
                found.append(_at(node, name, form, (dotted_name(handler) or "") if handler is not None else ""))
    namespaces = _namespace_classes(classes)
    for arg in registered:
        call = instances.get(arg.id) if isinstance(arg, ast.Name) else arg if isinstance(arg, ast.Call) else None
        cls = call.func.id if call is not None and isinstance(call.func, ast.Name) else None
        if cls not in namespaces or call is None or _namespace_of(call) not in (None, "/"):
            continue
        for owner, item in _methods(cls, classes, namespaces):
            found.append(_at(item, item.name[3:], f"{owner}.{item.name} (namespace {cls})", f"{owner}.{item.name}"))
    found.sort(key=lambda r: (r.line, r.col, r.event))
    return found


def _aliases(tree: ast.Module, refs: set[str]) -> tuple[set[str], set[str], set[str]]:
    """`server = sio` makes `server` a name of the server; `on = sio.on` a name of its `on`."""
    on: set[str] = set()
    event: set[str] = set()
    for _ in range(3):  # aliases of aliases
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value, name = dotted_name(node.value), node.targets[0].id
                if value in refs:
                    refs.add(name)
                elif value in {f"{r}.on" for r in refs} | on:
                    on.add(name)
                elif value in {f"{r}.event" for r in refs} | event:
                    event.add(name)
    return refs, on | {f"{r}.on" for r in refs}, event | {f"{r}.event" for r in refs}


def _elsewhere(call: ast.Call) -> bool:
    """Registered on a namespace other than "/" by a literal `namespace=`."""
    value = next((k.value for k in call.keywords if k.arg == "namespace"), None)
    return isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value != "/"


def _namespace_of(call: ast.Call) -> str | None:
    """The literal namespace a namespace object is made for, None when unknown."""
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "namespace"), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _namespace_classes(classes: dict[str, ast.ClassDef]) -> set[str]:
    """Subclasses of (Async)Namespace, directly or through other classes of this module."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, cls in classes.items():
            if name not in found and any(_is_namespace_base(b) or dotted_name(b) in found for b in cls.bases):
                found.add(name)
                changed = True
    return found


def _methods(
    cls: str, classes: dict[str, ast.ClassDef], namespaces: set[str]
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """`on_x` methods of the class and of its namespace bases in this module (the nearest wins)."""
    out: dict[str, tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    queue = [cls]
    while queue:
        name = queue.pop(0)
        for item in classes[name].body:
            if (
                isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                and item.name.startswith("on_")
                and len(item.name) > 3
            ):
                out.setdefault(item.name, (name, item))
        queue.extend(b for b in (dotted_name(base) for base in classes[name].bases) if b in namespaces)
    return list(out.values())


def _at(node: ast.AST, event: str, form: str, function: str) -> Registration:
    return Registration(event, getattr(node, "lineno", 0), getattr(node, "col_offset", 0) + 1, form, function)


def _literal(call: ast.Call) -> str | None:
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "event"), None)
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _is_namespace_base(base: ast.expr) -> bool:
    return (dotted_name(base) or "").rpartition(".")[2] in ("AsyncNamespace", "Namespace")
