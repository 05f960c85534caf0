"""The project uses its own CI gate: the bundled example app must be in sync with its specs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import eventgen
from support.tree import files_of, snapshot, stamp_free

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"


@pytest.mark.parametrize("full", ["1", ""], ids=["full path", "fast path"])
def test_example_app_is_in_sync(full: str) -> None:
    """Both paths: the stamp covers eventgen's code too, so after a change to the planner the
    committed stamp no longer matches and the fast path falls back to the full one."""
    run = eventgen(EXAMPLE, "check", "--no-diff", env={"EVENTGEN_FULL_CHECK": full})
    assert run.exit == 0, run.output
    assert "in sync" in run.stdout


def test_example_app_remove_then_generate_round_trips(tmp_path: Path) -> None:
    """Removing the feature's code and generating it again gives back the committed bytes."""
    copy = tmp_path / "app"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    before = snapshot(copy)
    assert eventgen(copy, "remove", "feature", "--keep-spec").exit == 0
    stripped = files_of(snapshot(copy))
    assert stripped != before
    leftovers = [str(rel) for rel, data in stripped.items() if b"eventgen:begin" in data or b"eventgen:file" in data]
    assert leftovers == []
    assert eventgen(copy, "generate").exit == 0
    after = snapshot(copy)
    assert after.keys() == before.keys()
    assert stamp_free(files_of(after)) == stamp_free(files_of(before))
