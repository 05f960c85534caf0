"""A missing specs folder is invalid input, never "no specs": that would delete every generated file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import eventgen
from support.tree import snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"


@pytest.mark.parametrize("command", [["generate"], ["check"], ["diff"], ["remove", "feature"]])
def test_missing_specs_folder_exits_2_and_touches_nothing(tmp_path: Path, capsys, command: list[str]) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    (app / "eventgen.toml").write_text('specs = "event"\n')  # a typo for "events"
    before = snapshot(app)
    run = eventgen(app, *command)
    assert run.exit == 2
    assert "event: specs folder not found" in run.stderr
    assert snapshot(app) == before


def test_an_empty_specs_folder_still_removes_everything(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    (app / "events" / "feature.yaml").unlink()
    assert eventgen(app, "generate").exit == 0
    leftovers = [p for p in app.rglob("*") if p.is_file() and b"eventgen:" in p.read_bytes()]
    assert leftovers == []
