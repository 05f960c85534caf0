"""The frontend files a plan writes: events.ts, the delivery runtime, one Svelte listener per `listener:` name."""

from __future__ import annotations

from ...config import Config
from ...errors import Diagnostic, EventgenError
from ...render import render
from ...sources import Sources
from ...spec.loaded import LoadedSpec
from ..types import FileEdit
from .events_ts import events_module
from .listeners import DELIVERY_TS, PRESENCE_TS, listener_groups, listener_view, render_listener
from .version import frontend_root, is_sveltekit, svelte_syntax


def delivery_ts_file(config: Config) -> str:
    """The sequenced-delivery client runtime: a module beside the types file."""
    parent = config.types.rpartition("/")[0]
    return f"{parent}/{DELIVERY_TS}.ts" if parent else f"{DELIVERY_TS}.ts"


def presence_ts_file(config: Config) -> str:
    """The presence client runtime: a module beside the types file."""
    parent = config.types.rpartition("/")[0]
    return f"{parent}/{PRESENCE_TS}.ts" if parent else f"{PRESENCE_TS}.ts"


def frontend_files(specs: list[LoadedSpec], config: Config, sources: Sources) -> list[FileEdit]:
    if not specs:
        return []
    if config.types.endswith(".d.ts"):
        # events.ts holds runtime code (room helpers, constants), not only declarations.
        where = config.source or "eventgen.toml"
        raise EventgenError(
            Diagnostic(
                where, 0, 0, f"types = {config.types!r} must be a TypeScript module, not a .d.ts declaration file"
            )
        )
    label = ", ".join(s.path for s in specs)
    files = [FileEdit(file=config.types, body=events_module(specs), kind="ts", source=label)]
    sequenced = [room.pattern for s in specs for room in s.spec.rooms.values() if room.sequenced]
    if sequenced:
        body = render("ts/delivery.ts.j2", rooms=", ".join(sequenced))
        files.append(FileEdit(file=delivery_ts_file(config), body=body, kind="ts", source=label))
    presence = [room.pattern for s in specs for room in s.spec.rooms.values() if room.presence]
    if presence:
        body = render("ts/presence.ts.j2", rooms=", ".join(presence))
        files.append(FileEdit(file=presence_ts_file(config), body=body, kind="ts", source=label))
    groups = listener_groups(specs)
    if not groups:
        return files
    syntax = svelte_syntax(config, sources)
    folder = frontend_root(config, sources).folder
    kit = is_sveltekit(config, sources)
    problems: list[Diagnostic] = []
    for group in groups:
        view = listener_view(group, config, folder, problems, kit)
        files.append(
            FileEdit(
                file=f"{config.components}/{group.name}.svelte",
                body=render_listener(view, syntax),
                kind="svelte",
                source=group.item.path,
                spec=group.item.spec.name,
            )
        )
    if problems:
        raise EventgenError(problems)
    return files
