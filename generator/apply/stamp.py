"""Write the run stamp (stamps.py) into the models module's first line, after a run whose
result is in sync: the changes it is about to write, laid over the disk, are the tree the
stamp vouches for."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import Config
from ..sources import Sources
from ..spec.loaded import LoadedSpec
from ..stamps import (
    ABSENT,
    FOLDER,
    STAMP,
    Unknown,
    covered_files,
    plain_path,
    read_disk,
    run_digest,
    spec_files,
    stamp_fields,
    tool_digest,
    with_stamp,
)
from .change import FileChange


def stamp_changes(
    changes: list[FileChange],
    config: Config,
    sources: Sources,
    specs: Sequence[LoadedSpec],
    items: int,
    *,
    gone: Sequence[LoadedSpec] = (),
) -> list[FileChange]:
    """`changes` with the models module's stamp brought up to date: when the run writes
    anything, or the stamp is missing or from another eventgen (see stamps.py for why not
    otherwise). `gone`: a removed spec, whose file the same run deletes."""
    try:
        return _stamped(changes, config, sources, specs, items, gone)
    except Unknown:
        return changes  # a FIFO, a device, an unreadable file: no stamp, check takes the full path


def _stamped(
    changes: list[FileChange],
    config: Config,
    sources: Sources,
    specs: Sequence[LoadedSpec],
    items: int,
    gone: Sequence[LoadedSpec],
) -> list[FileChange]:
    overlay: dict[str, bytes | None] = {c.path: c.after for c in changes}
    overlay.update({item.path: None for item in gone})
    models = config.models_module
    disk = read_disk(config.root)
    current = overlay[models] if models in overlay else disk(models)
    if current is None or current in (ABSENT, FOLDER):
        return changes
    first, nl, rest = current.partition(b"\n")
    old = STAMP.search(first.decode("utf-8", errors="replace"))
    tool = tool_digest()
    if not changes and not gone and old is not None and old.group(2) == tool[:8]:
        return changes
    covered = covered_files(config, overlay)
    spec_rels = spec_files(config, overlay)
    reads = sorted(
        rel for rel in sources.consulted() - set(covered) - set(spec_rels) if overlay.get(rel, b"") is not None
    )
    if not all(plain_path(rel) for rel in reads):
        return changes  # not listable on one line: no stamp, every check takes the full path

    def state(rel: str) -> bytes:
        data = overlay[rel] if rel in overlay else disk(rel)
        return data if data is not None else ABSENT  # not reached: deleted paths are left out above

    until = _until(specs)
    digest = run_digest(
        config,
        tool,
        covered,
        [(rel, state(rel)) for rel in spec_rels],
        [(rel, state(rel)) for rel in reads],
        items,
        until,
    )
    line = with_stamp(first.decode("utf-8"), stamp_fields(digest, tool, items, until, reads))
    if line is None:
        return changes
    stamped = line.encode("utf-8") + nl + rest
    if stamped == current:
        return changes
    before = next((c.before for c in changes if c.path == models), current)
    return sorted(
        [c for c in changes if c.path != models] + [FileChange(models, before, stamped)], key=lambda c: c.path
    )


def _until(specs: Sequence[LoadedSpec]) -> str | None:
    """The first day `check` reports an old event name past its sunset."""
    days = [
        event.sunset for item in specs for event in item.spec.events if event.renamed_from and event.sunset is not None
    ]
    return min(days).isoformat() if days else None
