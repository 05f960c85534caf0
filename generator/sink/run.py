"""One run: lock -> compute -> sink -> report, for generate, remove and new."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from .. import pipeline
from ..apply.change import FileChange
from ..config import Config
from ..errors import Exit
from ..pipeline import Outcome
from .mode import Sink
from .write import project_lock, swap_order, write_changes


def run(
    root: Path,
    sink: Sink,
    *,
    force: bool = False,
    selected: tuple[str, ...] = (),
    without: str | None = None,
    also: Callable[[Config], list[FileChange]] | None = None,
    locked: bool = False,
) -> Outcome:
    """Compute every change and hand it to the sink. `also`: more changes for the same atomic
    write (remove's spec file); `locked`: the caller holds the project lock already (new).
    Under WRITE the project is locked from the first read to the last write, and nothing is
    written when the report says no (a conflict)."""
    lock = project_lock(root.resolve()) if sink is Sink.WRITE and not locked else contextlib.nullcontext()
    with lock:
        outcome = pipeline.compute(root, sink, force=force, selected=selected, without=without)
        if also is not None:
            outcome.changes.extend(also(outcome.config))
        if sink is Sink.WRITE and outcome.report.exit_code == Exit.OK and outcome.changes:
            config = outcome.config
            write_changes(
                config.root,
                swap_order(outcome.changes, config.socket_module, config.models_module),
                prune=outcome.generated_dirs,
            )
            outcome.report.written = [c.path for c in outcome.changes]
    return outcome
