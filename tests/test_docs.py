"""docs/: the spec reference is generated from the models and committed current; the other pages'
command lines run on the real CLI and their JSON shapes are the real ones."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import typing
from pathlib import Path
from typing import Any

import click
import pytest
from pydantic import BaseModel
from support.cli import run_cli
from support.project import make_project
from support.specs import CHAT_SPEC, FEATURE_SPEC
from support.tree import write

from generator.check_output import KINDS
from generator.cli import cli
from generator.spec import models

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
# The reference's build script lives in scripts/, outside the installed package.
_SPEC = importlib.util.spec_from_file_location("eventgen_docs_script", REPO / "scripts" / "docs.py")
assert _SPEC is not None and _SPEC.loader is not None
docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docs)


# -- the spec reference ------------------------------------------------------------------


def test_committed_spec_reference_is_current() -> None:
    committed = (DOCS / "spec-reference.md").read_text(encoding="utf-8")
    assert committed == docs.render_reference(), "docs/spec-reference.md is stale: run `python3 scripts/docs.py`"


def _reachable_models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    seen.add(model)

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
            _reachable_models(annotation, seen)
        for arg in typing.get_args(annotation):
            walk(arg)

    for field in model.model_fields.values():
        walk(field.annotation)
    return seen


def test_every_model_and_key_is_documented() -> None:
    assert _reachable_models(models.Spec, set()) == {model for model, _, _ in docs.SECTIONS}
    page = docs.render_reference()
    for model, title, _ in docs.SECTIONS:
        section = page.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        assert [row.split("`")[1] for row in rows] == [f.alias or name for name, f in model.model_fields.items()]
        for (name, field), row in zip(model.model_fields.items(), rows):
            assert " ".join((field.description or "").split()).replace("|", "\\|") in row, name
            assert ("| required |" in row) == field.is_required(), name
    for reserved in models.RESERVED_EVENTS:
        assert f"`{reserved}`" in page
    assert '"list[" type "]"' in page  # the grammar, quoted from generator/spec/types.py


def test_the_reference_follows_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    field = models.RoomSpec.model_fields["access"]
    monkeypatch.setattr(field, "description", "Who may join | a test description.")
    page = docs.render_reference()
    assert "| `access` | string | optional | Who may join \\| a test description. |" in page
    assert page != (DOCS / "spec-reference.md").read_text(encoding="utf-8")


def test_check_and_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "docs" / "spec-reference.md"
    monkeypatch.setattr(docs, "REFERENCE", target)
    assert docs.main(["--check"]) == 1  # missing counts as stale
    assert docs.main([]) == 0 and target.read_text(encoding="utf-8") == docs.render_reference()
    assert docs.main(["--check"]) == 0
    target.write_text(
        target.read_text(encoding="utf-8").replace("Spec format version.", "Old words."), encoding="utf-8"
    )
    assert docs.main(["--check"]) == 1
    assert "out of date; run `python3 scripts/docs.py`" in capsys.readouterr().err
    assert docs.main(["--bogus"]) == 2


# -- the other pages -----------------------------------------------------------------------


def _command_lines() -> list[tuple[str, list[str]]]:
    """`eventgen ...` in code spans and `$ eventgen ...` console lines of every page."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        candidates = re.findall(r"`(eventgen [^`]+)`", text) + re.findall(
            r"^\$ (eventgen .+)$", text, flags=re.MULTILINE
        )
        candidates += re.findall(r"run: (eventgen [^#\n]+)", text)
        for line in candidates:
            line = line.split("|")[0].strip()
            if any(mark in line for mark in ("[", "<", "...")):
                continue  # a synopsis, not a command line
            found.append((page.name, shlex.split(line)[1:]))
    return found


def _parse(args: list[str]) -> click.Context:
    """Parse like the CLI does, down to the leaf command, without running anything."""
    command: click.Command = cli
    ctx = command.make_context("eventgen", list(args))
    while isinstance(command, click.Group):
        # click >= 8.2 keeps the subcommand and its arguments in _protected_args (protected_args is deprecated).
        protected = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args
        rest = [*protected, *ctx.args]
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None, args
        command = sub
        ctx = command.make_context(name, rest, parent=ctx)
    return ctx


def test_every_command_line_in_the_docs_parses() -> None:
    lines = _command_lines()
    assert len(lines) >= 10
    for page, args in lines:
        try:
            _parse(args)
        except click.UsageError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"docs/{page}: `eventgen {' '.join(args)}` does not parse: {exc.format_message()}")


def _json_blocks(page: str) -> list[Any]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)]


def _shape(value: Any) -> Any:
    """Keys all the way down (list items merged), without the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for item in value:
            shape = _shape(item)
            if isinstance(shape, dict):
                merged.update(shape)
        return [merged] if merged else []
    return None


def test_documented_json_shapes_are_the_real_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drift_doc, invalid_doc, list_doc = _json_blocks("ci-output.md")
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC, "chat": CHAT_SPEC})
    assert run_cli("-C", str(root), "generate").exit == 0
    router = root / "backend/open_webui/routers/features.py"
    router.write_text(router.read_text().replace("data=feature.model_dump())", "data={})"))
    real_drift = json.loads(run_cli("-C", str(root), "check", "--format", "json").stdout)
    assert _shape(drift_doc) == _shape(real_drift)
    assert drift_doc["summary"] == real_drift["summary"]  # the same one-edit case, word for word
    real_list = json.loads(run_cli("-C", str(root), "list", "--format", "json").stdout)
    assert _shape(list_doc) == _shape(real_list)
    write(root, "events/feature.yaml", FEATURE_SPEC.replace("action: join", "action: jump"))
    real_invalid = json.loads(run_cli("-C", str(root), "check", "--format", "json").stdout)
    assert _shape(invalid_doc) == _shape(real_invalid)
    assert invalid_doc["errors"][0]["message"] == real_invalid["errors"][0]["message"]
    assert invalid_doc["summary"] == real_invalid["summary"]


def test_documented_kinds_are_the_real_ones() -> None:
    text = (DOCS / "ci-output.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([a-z ]+) \| `([a-z]+)` \|", text, flags=re.MULTILINE)
    assert {kind: words for words, kind in rows} == {kind: words for kind, (words, _fix) in KINDS.items()}
