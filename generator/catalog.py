"""The data of `eventgen list`: every event of the project's real-time API, from the specs and
found in the code, and its two renderings (text table, JSON document)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .discover import Discovery, Found, discover, server_name
from .errors import Diagnostic
from .spec.loaded import LoadedSpec

# The version of the JSON document; bump it when a key changes meaning or goes away.
JSON_VERSION = 1


@dataclass
class Entry:
    name: str
    direction: str
    managed: bool
    spec: str | None = None
    source: str | None = None  # "events/feature.yaml:12"
    room: str | None = None  # the room pattern
    broadcast: bool = False
    action: str | None = None
    helper: str | None = None
    listener: str | None = None
    listener_file: str | None = None
    found: list[Found] = field(default_factory=list)  # uses in hand-written code
    renamed_to: str | None = None  # an old name (renamed_from): the event's name now
    sunset: str | None = None  # an old name: from this date it is no longer emitted

    @property
    def target(self) -> str:
        if self.broadcast:
            return "(broadcast)"
        return self.room or "-"


@dataclass
class Catalog:
    entries: list[Entry]
    warnings: list[Diagnostic]

    @property
    def managed(self) -> list[Entry]:
        return [e for e in self.entries if e.managed]

    @property
    def unmanaged(self) -> list[Entry]:
        return [e for e in self.entries if not e.managed]


def build_catalog(config: Config, specs: list[LoadedSpec], discovery: Discovery | None = None) -> Catalog:
    if discovery is None:
        discovery = discover(config, server_name(config))
    entries: list[Entry] = []
    by_name: dict[str, Entry] = {}
    for loaded in specs:
        spec = loaded.spec
        for i, event in enumerate(spec.events):
            room = spec.rooms.get(event.room) if event.room else None
            line, _col = loaded.positions.locate(("events", i))
            entry = Entry(
                name=event.name,
                direction=event.direction,
                managed=True,
                spec=spec.name,
                source=f"{loaded.path}:{line}",
                room=room.pattern if room else None,
                broadcast=event.broadcast,
                action=event.action,
                helper=event.helper,
                listener=event.listener,
                listener_file=f"{config.components}/{event.listener}.svelte" if event.listener else None,
            )
            entries.append(entry)
            by_name[event.name] = entry
            for alias in event.renamed_from:
                old = Entry(
                    **{
                        **entry.__dict__,
                        "name": alias,
                        "found": [],
                        "renamed_to": event.name,
                        "sunset": event.sunset.isoformat() if event.sunset else None,
                    }
                )
                entries.append(old)
                by_name[alias] = old
    unmanaged: dict[tuple[str, str], Entry] = {}
    for found in discovery.found:
        if found.name in by_name:
            by_name[found.name].found.append(found)
            continue
        key = (found.name, found.direction)
        if key not in unmanaged:
            unmanaged[key] = Entry(name=found.name, direction=found.direction, managed=False)
        unmanaged[key].found.append(found)
    entries.extend(sorted(unmanaged.values(), key=lambda e: (e.name, e.direction)))
    return Catalog(entries, discovery.warnings)


# -- renderings ------------------------------------------------------------------------


def render_json(catalog: Catalog) -> str:
    doc = {
        "version": JSON_VERSION,
        "events": [_entry_json(e) for e in catalog.entries],
        "warnings": [{"path": w.path, "line": w.line or None, "message": w.message} for w in catalog.warnings],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _entry_json(e: Entry) -> dict[str, Any]:
    source = None
    if e.source:
        path, _, line = e.source.rpartition(":")
        source = {"path": path, "line": int(line)}
    return {
        "name": e.name,
        "managed": e.managed,
        "direction": e.direction,
        "spec": e.spec,
        "source": source,
        "room": e.room,
        "broadcast": e.broadcast,
        "action": e.action,
        "helper": e.helper,
        "listener": e.listener,
        "listener_file": e.listener_file,
        "found": [{"kind": f.kind, "path": f.path, "line": f.line, "col": f.col} for f in e.found],
        "renamed_to": e.renamed_to,
        "sunset": e.sunset,
    }


def render_text(catalog: Catalog) -> str:
    out: list[str] = []
    managed, unmanaged = catalog.managed, catalog.unmanaged
    specs = sorted({e.spec for e in managed if e.spec})
    if managed:
        out.append(f"from specs ({len(managed)}):")
        rows = [["EVENT", "DIRECTION", "ROOM", "ACTION", "HELPER", "LISTENER", "SPEC"]]
        rows += [
            [e.name, e.direction, e.target, e.action or "-", e.helper or "-", e.listener or "-", e.source or "-"]
            for e in managed
        ]
        out.extend(_table(rows))
        for e in managed:
            if e.renamed_to:
                out.append(
                    f"  note: {e.name} is an old name of {e.renamed_to} (deprecated)"
                    + (f", served until {e.sunset}" if e.sunset else "")
                )
        for e in managed:
            for f in e.found:
                out.append(f"  note: {e.name} is also used by hand: {f.where} ({f.kind})")
    if unmanaged:
        if out:
            out.append("")
        out.append(f"unmanaged, found in code ({len(unmanaged)}):")
        rows = [["EVENT", "DIRECTION", "FOUND"]]
        rows += [[e.name, e.direction, ", ".join(f"{f.where} ({f.kind})" for f in e.found)] for e in unmanaged]
        out.extend(_table(rows))
    if out:
        out.append("")
    out.append(
        f"eventgen: {len(managed)} event(s) from {len(specs)} spec(s), {len(unmanaged)} unmanaged event(s) found in code"
    )
    return "\n".join(out) + "\n"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
