"""The project uses its own CI gate: the bundled example app must be in sync with its specs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"


@pytest.mark.parametrize("full", ["1", ""], ids=["full path", "fast path"])
def test_example_app_is_in_sync(capsys, monkeypatch, full: str) -> None:
    """The full path first: the stamp covers eventgen's version and templates, not its code,
    so only the full path sees that a change to the planner changed the example's output."""
    monkeypatch.setenv("EVENTGEN_FULL_CHECK", full)
    code = main(["--project", str(EXAMPLE), "check", "--no-diff"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "in sync" in out


def test_example_app_remove_then_generate_round_trips(tmp_path: Path, capsys) -> None:
    """Removing the feature's code and generating it again gives back the committed bytes."""
    copy = tmp_path / "app"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    before = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert main(["--project", str(copy), "remove", "feature", "--keep-spec"]) == 0
    stripped = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert stripped != before
    leftovers = [str(rel) for rel, data in stripped.items() if b"eventgen:begin" in data or b"eventgen:file" in data]
    assert leftovers == []
    assert main(["--project", str(copy), "generate"]) == 0
    after = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert after == before
