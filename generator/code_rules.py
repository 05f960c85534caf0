"""Rules between the specs and the hand-written code they are patched into (CONTRACT 6.2-6.4).

Checked on every run, not only when a region is first placed: a spec edited later (an event
renamed to one the code already handles, a new helper) must be caught just the same. The
code is read with the stdlib parser, eventgen's own regions blanked out (`read/`).
"""

from __future__ import annotations

import ast
import builtins

from .config import Config, inside_root
from .errors import Diagnostic
from .read.bindings import Bindings, module_bindings
from .read.modules import server_modules, server_refs
from .read.registrations import Registration, registrations
from .read.rooms import entered_rooms
from .sources import Sources
from .spec.load import LoadedSpec
from .spec.models import DELIVERY_ALIAS, MODELS_ALIAS
from .spec.rooms import overlap

BUILTINS = frozenset(dir(builtins))


def socket_bindings(config: Config, sources: Sources) -> Bindings:
    """What the socket module binds by hand: generated imports take aliases around these."""
    tree = sources.user_tree(config.socket_module)
    return module_bindings(tree) if tree is not None else Bindings()


def check_code(specs: list[LoadedSpec], config: Config, sources: Sources, server: str) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    tree = sources.user_tree(config.socket_module)
    if tree is not None:
        problems += _app_rooms(specs, tree, config.socket_module)
        problems += _socket_names(specs, module_bindings(tree), config.socket_module)
    problems += _handled_events(specs, config, sources, server)
    problems += _router_names(specs, config, sources)
    return problems


def _app_rooms(specs: list[LoadedSpec], tree: ast.Module, path: str) -> list[Diagnostic]:
    """A spec room shaped like one the app enters by hand is the app's (6.2)."""
    problems: list[Diagnostic] = []
    entered = entered_rooms(tree)
    for item in specs:
        for key, room in item.spec.rooms.items():
            if room.app_owned:
                continue
            clash = next((e for e in entered if overlap(room.shape, e.shape)), None)
            if clash is not None:
                d = item.at(
                    ("rooms", key, "pattern"),
                    f"room '{key}' ({room.pattern}) has the shape of a room the app enters by hand at {path}:{clash.line} "
                    f"({clash.source}): generated joins and leaves would change the app's own members",
                )
                problems.append(_hinted(d, f"declare the room 'owner: app' (no join or leave is generated for it), or give it another first segment than '{room.shape.segments[0]}'"))
    return problems


def _socket_names(specs: list[LoadedSpec], bound: Bindings, path: str) -> list[Diagnostic]:
    """Handlers and emit helpers are module-level names of the socket module (6.3)."""
    problems: list[Diagnostic] = []
    if MODELS_ALIAS in bound:
        problems.append(Diagnostic(path, bound.lines[MODELS_ALIAS], 0, f"'{MODELS_ALIAS}' is bound here, and eventgen imports the payload models under that name", hint="rename it in this module"))
    if DELIVERY_ALIAS in bound and any(room.sequenced for item in specs for room in item.spec.rooms.values()):
        problems.append(Diagnostic(path, bound.lines[DELIVERY_ALIAS], 0, f"'{DELIVERY_ALIAS}' is bound here, and eventgen imports the sequenced-delivery runtime under that name", hint="rename it in this module"))
    for item in specs:
        for i, event in enumerate(item.spec.events):
            if event.direction == "client_to_server":
                name, at, what = f"on_{event.snake}", ("events", i, "name"), f"the handler of event '{event.name}'"
            else:
                name = event.helper or ""
                at = ("events", i, "emit", "helper") if event.emit else ("events", i, "name")
                what = f"the emit helper of event '{event.name}'"
            if name in bound:
                d = item.at(at, f"{what} is generated as {name}(), but {path}:{bound.lines[name]} already binds '{name}': one would replace the other")
                problems.append(_hinted(d, "rename that name in the module" + (", or choose another emit.helper" if event.direction == "server_to_client" else ", or the event")))
    return problems


def _handled_events(specs: list[LoadedSpec], config: Config, sources: Sources, server: str) -> list[Diagnostic]:
    """python-socketio keeps one handler per event: a spec event the code handles is refused (6.4)."""
    handled: dict[str, tuple[str, Registration]] = {}
    for rel in server_modules(config, server):
        tree = sources.user_tree(rel)
        if tree is None:
            continue
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        refs = server_refs(imports, config, rel, server)
        for reg in registrations(tree, refs) if refs else []:
            handled.setdefault(reg.event, (rel, reg))
    problems: list[Diagnostic] = []
    for item in specs:
        for i, event in enumerate(item.spec.events):
            if event.direction != "client_to_server" or event.name not in handled:
                continue
            rel, reg = handled[event.name]
            by = f" ({reg.function})" if reg.function else ""
            d = item.at(("events", i, "name"), f"event '{event.name}' is already handled at {rel}:{reg.line} by {reg.form}{by}: python-socketio would run only one of the two handlers")
            problems.append(_hinted(d, "delete or rename the hand-written handler, or rename the event in the spec"))
    return problems


def _router_names(specs: list[LoadedSpec], config: Config, sources: Sources) -> list[Diagnostic]:
    """Each router eventgen calls a helper from imports it by name (6.3)."""
    problems: list[Diagnostic] = []
    bound_in: dict[str, Bindings | None] = {}
    for item in specs:
        for i, event in enumerate(item.spec.events):
            for j, site in enumerate(event.emit.from_ if event.emit else []):
                if site.file == config.socket_module or event.helper is None:
                    continue  # the helper is defined right there
                if site.file not in bound_in:
                    tree = sources.user_tree(site.file) if inside_root(config.root, site.file) else None
                    bound_in[site.file] = module_bindings(tree) if tree is not None else None
                bound = bound_in[site.file]
                if bound is None or event.helper not in bound:
                    continue
                d = item.at(
                    ("events", i, "emit", "helper"),
                    f"emit helper '{event.helper}' is imported into {site.file} (emit.from[{j}]), but {site.file}:{bound.lines[event.helper]} already binds '{event.helper}'",
                )
                problems.append(_hinted(d, "choose another emit.helper, or rename that name in the router"))
    return problems


def _hinted(d: Diagnostic, hint: str) -> Diagnostic:
    return Diagnostic(d.path, d.line, d.col, d.message, hint=hint)
