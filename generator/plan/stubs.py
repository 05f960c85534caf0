"""Handler stubs: the user-owned function a `handle` event calls, planned once with the checks on its module."""

from __future__ import annotations

from ..config import Config, inside_root
from ..errors import Diagnostic
from ..render import render
from ..sources import Sources
from ..spec.loaded import LoadedSpec
from ..spec.models import EventSpec
from .types import StubEdit
from .views import model_name


def handler_stub(
    item: LoadedSpec, i: int, event: EventSpec, config: Config, sources: Sources, problems: list[Diagnostic]
) -> StubEdit:
    module, _, function = (event.handler or "").partition(":")
    file = config.python_file_for(module)
    shadowed = shadowed_module(module, config, sources)
    if not inside_root(config.root, file):
        problems.append(item.at(("events", i, "handler"), f"handler module {module!r} resolves outside the project"))
    elif shadowed:
        problems.append(item.at(("events", i, "handler"), shadowed))
    elif file in (config.socket_module, config.models_module):
        # The socket module imports handlers at its top (a module cannot import from itself
        # half-built), and the models module is rewritten whole on every run.
        what = "socket module" if file == config.socket_module else "generated models module"
        problems.append(
            item.at(
                ("events", i, "handler"),
                f"handler module {module!r} is the {what} ({file}); put handlers in a module of their own",
            )
        )
    elif package := _package_handler(module, file, sources):
        problems.append(item.at(("events", i, "handler"), package))
    text = render(
        "python/handler_stub.py.j2",
        function=function,
        event=event.name,
        spec_path=item.path,
        model=f"{config.models_dotted}.{model_name(event)}",
        todo=f"implement {event.name} in {module}.{function}",
    )
    header = f'"""Handlers for {event.name} and friends: yours to edit (stubs written once by eventgen)."""\n'
    return StubEdit(file=file, function=function, new_file=header + text, append=text)


def shadowed_module(module: str, config: Config, sources: Sources) -> str | None:
    """Why a handler module eventgen would create there shadows an importable one (CONTRACT 6.5):
    `handler: json:loads` would write backend/json.py, and the app's `import json` would find it."""
    import importlib.util
    import sys

    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return f"handler module {module!r} would shadow Python's standard library module '{top}'; put handlers in a package of the project (e.g. {config.socket_dotted.rpartition('.')[0] or 'app'}.handlers)"
    # Through `sources`: the run stamp then covers these probes (a package made or removed).
    package = config.python_file_for(top)
    if sources.is_dir(package[: -len(".py")]) or sources.is_file(package):
        return None  # the project's own package
    try:
        installed = importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        installed = False
    if installed:
        return f"handler module {module!r} would shadow the installed package '{top}'; put handlers in a package of the project"
    return None


def _package_handler(module: str, file: str, sources: Sources) -> str | None:
    """A handler module that is a package: the stub would land beside it (`open_webui.py` next to
    `open_webui/`), where Python never looks."""
    if sources.is_dir(file[: -len(".py")]):
        return f"handler module {module!r} is a package ({file[: -len('.py')]}/); name a module inside it, e.g. {module}.handlers"
    return None
