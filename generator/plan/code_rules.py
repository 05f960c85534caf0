"""Rules between the specs and the hand-written code they are patched into (CONTRACT 6.2-6.4).

Checked on every run, not only when a region is first placed: a spec edited later (an event
renamed to one the code already handles, a new helper) must be caught just the same. The
code is read with the stdlib parser, eventgen's own regions blanked out (`read/`).
"""

from __future__ import annotations

import ast
import builtins

from ..config import Config, inside_root
from ..errors import Diagnostic
from ..read.bindings import Bindings, function_locals, module_bindings
from ..read.call_sites import endpoint
from ..read.modules import server_modules, server_refs
from ..read.registrations import Registration, registrations
from ..read.rooms import RoomParam, entered_rooms, entering_functions
from ..sources import Sources
from ..spec.loaded import LoadedSpec
from ..spec.models import DELIVERY_ALIAS, MODELS_ALIAS, PRESENCE_ALIAS
from ..spec.rooms import overlaps_glob

BUILTINS = frozenset(dir(builtins))


def socket_bindings(config: Config, sources: Sources) -> Bindings:
    """What the socket module binds by hand: generated imports take aliases around these."""
    tree = sources.user_tree(config.socket_module)
    return module_bindings(tree) if tree is not None else Bindings()


def check_code(specs: list[LoadedSpec], config: Config, sources: Sources, server: str) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    tree = sources.user_tree(config.socket_module)
    via = entering_functions(tree) if tree is not None else []
    modules = _server_trees(config, sources, server, tuple(v.function for v in via))
    if tree is not None:
        problems += _socket_names(specs, module_bindings(tree), config.socket_module)
        problems += _app_rooms(specs, via, modules)
    problems += _handled_events(specs, config, modules, server)
    problems += _router_names(specs, config, sources)
    return problems


def _server_trees(config: Config, sources: Sources, server: str, also: tuple[str, ...]) -> list[tuple[str, ast.Module]]:
    """The socket module and every module that can reach the server (or `also`), as the user wrote them."""
    out = []
    for rel in server_modules(config, server, also):
        tree = sources.user_tree(rel)
        if tree is not None:
            out.append((rel, tree))
    return out


def _app_rooms(
    specs: list[LoadedSpec], via: list[RoomParam], modules: list[tuple[str, ast.Module]]
) -> list[Diagnostic]:
    """A spec room that can build a name of a room the app enters by hand is the app's (6.2)."""
    entered = [room for rel, tree in modules for room in entered_rooms(tree, rel, via)]
    problems: list[Diagnostic] = []
    for item in specs:
        for key, room in item.spec.rooms.items():
            if room.app_owned:
                continue
            clash = next((e for e in entered if overlaps_glob(room.shape, e.glob)), None)
            if clash is not None:
                d = item.at(
                    ("rooms", key, "pattern"),
                    f"room '{key}' ({room.pattern}) can build a name of a room the app enters by hand at {clash.path}:{clash.line} "
                    f"({clash.source}): generated joins would let users into the app's room, and leaves take the app's members out",
                )
                problems.append(
                    _hinted(
                        d,
                        f"declare the room 'owner: app' (no join or leave is generated for it), or start its pattern with other literal text than '{room.shape.segments[0]}'",
                    )
                )
    return problems


def _socket_names(specs: list[LoadedSpec], bound: Bindings, path: str) -> list[Diagnostic]:
    """Handlers and emit helpers are module-level names of the socket module (6.3)."""
    problems: list[Diagnostic] = []
    if MODELS_ALIAS in bound:
        problems.append(
            Diagnostic(
                path,
                bound.lines[MODELS_ALIAS],
                0,
                f"'{MODELS_ALIAS}' is bound here, and eventgen imports the payload models under that name",
                hint="rename it in this module",
            )
        )
    runtimes = (
        (
            DELIVERY_ALIAS,
            "the sequenced-delivery runtime",
            any(r.sequenced for s in specs for r in s.spec.rooms.values()),
        ),
        (PRESENCE_ALIAS, "the presence runtime", any(r.presence for s in specs for r in s.spec.rooms.values())),
    )
    for alias, what, generated in runtimes:
        if alias in bound and generated:
            message = f"'{alias}' is bound here, and eventgen imports {what} under that name"
            problems.append(Diagnostic(path, bound.lines[alias], 0, message, hint="rename it in this module"))
    for item in specs:
        for i, event in enumerate(item.spec.events):
            if event.direction == "client_to_server":
                at: tuple[object, ...]
                name, at, what = f"on_{event.snake}", ("events", i, "name"), f"the handler of event '{event.name}'"
            else:
                name = event.helper or ""
                at = ("events", i, "emit", "helper") if event.emit else ("events", i, "name")
                what = f"the emit helper of event '{event.name}'"
            if name in bound:
                d = item.at(
                    at,
                    f"{what} is generated as {name}(), but {path}:{bound.lines[name]} already binds '{name}': one would replace the other",
                )
                problems.append(
                    _hinted(
                        d,
                        "rename that name in the module"
                        + (
                            ", or choose another emit.helper"
                            if event.direction == "server_to_client"
                            else ", or the event"
                        ),
                    )
                )
    return problems


def _handled_events(
    specs: list[LoadedSpec], config: Config, modules: list[tuple[str, ast.Module]], server: str
) -> list[Diagnostic]:
    """python-socketio keeps one handler per event: a spec event the code handles is refused (6.4)."""
    handled: dict[str, tuple[str, Registration]] = {}
    for rel, tree in modules:
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        refs = server_refs(imports, config, rel, server)
        for reg in registrations(tree, refs) if refs else []:
            handled.setdefault(reg.event, (rel, reg))
    problems: list[Diagnostic] = []
    for item in specs:
        for i, event in enumerate(item.spec.events):
            if event.direction != "client_to_server":
                continue
            names: list[tuple[str, tuple[object, ...], str]] = [(event.name, ("events", i, "name"), "event")]
            names += [
                (alias, ("events", i, "renamed_from", j), "old name") for j, alias in enumerate(event.renamed_from)
            ]
            for name, loc, what in names:
                if name not in handled:
                    continue
                rel, reg = handled[name]
                by = f" ({reg.function})" if reg.function else ""
                d = item.at(
                    loc,
                    f"{what} '{name}' is already handled at {rel}:{reg.line} by {reg.form}{by}: python-socketio would run only one of the two handlers",
                )
                problems.append(
                    _hinted(d, "delete or rename the hand-written handler, or rename the event in the spec")
                )
    return problems


def _router_names(specs: list[LoadedSpec], config: Config, sources: Sources) -> list[Diagnostic]:
    """Each router eventgen calls a helper from imports it by name, and the call runs inside an
    endpoint: neither the module nor the endpoint may bind that name for something else (6.3)."""
    problems: list[Diagnostic] = []
    trees: dict[str, ast.Module | None] = {}
    for item in specs:
        for i, event in enumerate(item.spec.events):
            for j, site in enumerate(event.emit.from_ if event.emit else []):
                helper = event.helper
                if helper is None or not inside_root(config.root, site.file):
                    continue
                if site.file not in trees:
                    trees[site.file] = sources.user_tree(site.file) if sources.exists(site.file) else None
                tree = trees[site.file]
                if tree is None:
                    continue
                at = ("events", i, "emit", "helper")
                bound = module_bindings(tree)
                if site.file != config.socket_module and helper in bound:  # the socket module is checked above
                    d = item.at(
                        at,
                        f"emit helper '{helper}' is imported into {site.file} (emit.from[{j}]), but {site.file}:{bound.lines[helper]} already binds '{helper}'",
                    )
                    problems.append(_hinted(d, "choose another emit.helper, or rename that name in the router"))
                fn = endpoint(tree, site.function)
                local = function_locals(fn) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else {}
                if helper in local:
                    d = item.at(
                        at,
                        f"emit helper '{helper}' is called inside {site.function}() (emit.from[{j}]), which binds '{helper}' itself at {site.file}:{local[helper]}: the call would not reach the helper",
                    )
                    problems.append(_hinted(d, "choose another emit.helper"))
    return problems


def _hinted(d: Diagnostic, hint: str) -> Diagnostic:
    return Diagnostic(d.path, d.line, d.col, d.message, hint=hint)


def missing_callable(ref: str, config: Config, sources: Sources, params: list[str] | None = None) -> str | None:
    """Why `pkg.module:func` would fail to import, when the module is the project's own.

    A module outside the project (an installed package) cannot be checked here; one whose
    top package lives in the project must exist and define the function, or the server
    would not start.
    """
    import ast

    module, _, name = ref.partition(":")
    file = config.python_file_for(module)
    package = config.python_file_for(module.split(".")[0])[: -len(".py")]
    if not sources.is_dir(package) and not sources.is_file(package + ".py"):
        return None
    candidates = [file, file[: -len(".py")] + "/__init__.py"]
    src = next((sources.get(c) for c in candidates if sources.is_file(c)), None)
    if src is None:
        return f"access module '{module}' not found (looked for {file})"
    try:
        tree = ast.parse(src.text)
    except SyntaxError:
        return None  # reported where the file is patched, or by Python at start-up
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    defined |= {
        t.id
        for n in tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    defined |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    if name not in defined:
        return f"'{name}' is not defined at the top level of {src.path}"
    # The user goes in first, by position, and the room params by keyword: a first parameter
    # named like a room param would receive two values (TypeError on every join).
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if functions and params:
        positional = [a.arg for a in [*functions[-1].args.posonlyargs, *functions[-1].args.args]]
        if positional and positional[0] in params and not functions[-1].args.posonlyargs:
            return (
                f"{name}() takes the session user as its first parameter '{positional[0]}', which is also a room parameter: "
                f"it would get two values for '{positional[0]}'; rename that first parameter (the user is passed by position)"
            )
    return None
