"""Finding the project like git and ruff do (issue 18): from any folder inside it, and a clear
exit 2 from every command outside of one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_cli
from support.project import make_project
from support.specs import FEATURE_SPEC
from support.tree import DIR, snapshot, write

from generator.config import find_project_root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An empty folder with no project above it (the test cannot run otherwise)."""
    folder = tmp_path / "nowhere" / "deeper"
    folder.mkdir(parents=True)
    assert find_project_root(folder) is None, "a folder above the test's tmp_path looks like an eventgen project"
    return folder


# Every command that reads a project, with arguments that would be valid inside one.
PROJECT_COMMANDS = [
    ["validate"],
    ["validate", "feature"],
    ["list"],
    ["list", "--format", "json"],
    ["export", "asyncapi"],
    ["export", "typescript"],
    ["check"],
    ["check", "--format", "github"],
    ["generate"],
    ["generate", "--dry-run"],
    ["diff"],
    ["diff", "--stat"],
    ["remove", "feature"],
    ["new", "status", "--emit", "status:changed", "--broadcast"],
]


@pytest.mark.parametrize("command", PROJECT_COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_outside_a_project_exits_2_with_the_same_message(
    outside: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.chdir(outside)
    run = run_cli(*command)
    assert run.exit == 2
    assert run.stdout == "" or command[:1] == ["check"]  # check's machine formats print the error on stdout
    expected = (
        f"eventgen: not inside an eventgen project: neither {outside} nor any folder above it holds "
        "eventgen.toml, a pyproject.toml with [tool.eventgen], or a specs folder events/\n"
        "  hint: run `eventgen init` in the project's root folder, or pass --project DIR\n"
    )
    if command[:1] == ["check"] and "--format" in command:
        assert "not inside an eventgen project" in run.stdout and "::error" in run.stdout
    else:
        assert run.stderr == expected
    assert snapshot(outside.parent) == {"deeper": DIR}  # nothing written, not even a folder


def test_json_schema_needs_no_project(
    outside: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The spec format's schema is the same for every project (editors fetch it before there is one)."""
    monkeypatch.chdir(outside)
    run = run_cli("export", "json-schema")
    assert run.exit == 0 and json.loads(run.stdout)["title"]


@pytest.mark.parametrize("subfolder", ["", "events", "backend", "backend/open_webui/routers", "src/lib/components"])
def test_commands_find_the_project_from_any_folder_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], subfolder: str
) -> None:
    root = make_project(tmp_path / "here" / "app", specs={"feature": FEATURE_SPEC})
    reference = make_project(
        tmp_path / "there" / "app", specs={"feature": FEATURE_SPEC}
    )  # same name: same AsyncAPI title
    monkeypatch.chdir(root / subfolder)
    for command in (
        ["validate"],
        ["list", "--format", "json"],
        ["export", "asyncapi"],
        ["diff"],
        ["check", "--no-diff"],
    ):
        here = run_cli(*command)
        there = run_cli("--project", str(reference), *command)
        assert (here.exit, here.stdout, here.stderr) == (
            there.exit,
            there.stdout.replace(str(reference), str(root)),
            there.stderr,
        ), command
    assert run_cli("generate").exit == 0
    assert run_cli("--project", str(reference), "generate").exit == 0
    assert snapshot(root) == snapshot(reference)
    assert run_cli("check").exit == 0


def test_a_configuration_above_wins_over_an_events_folder_below(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, "eventgen.toml", 'specs = "specs"\n')
    (root / "specs").mkdir()
    (root / "backend" / "events").mkdir(parents=True)  # a Python package that happens to be called events
    assert find_project_root(root / "backend" / "events") == root.resolve()
    assert find_project_root(root / "backend") == root.resolve()


def test_pyproject_with_tool_eventgen_marks_the_root_and_one_without_does_not(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    write(outer, "pyproject.toml", '[project]\nname = "eventgen-demo"\n\n[tool.eventgen]\nspecs = "rt"\n')
    inner = outer / "services" / "api"
    write(inner, "pyproject.toml", '[project]\nname = "api"\n')  # a package of its own, not configured
    assert find_project_root(inner) == outer.resolve()
    write(inner, "pyproject.toml", '[project]\nname = "api"\n[tool.eventgen]\n')
    assert find_project_root(inner) == inner.resolve()
    # An `events/` folder is only the last resort: the configured project above still wins.
    (outer / "services" / "events").mkdir()
    assert find_project_root(outer / "services") == outer.resolve()


def test_the_events_folder_marks_a_project_without_configuration(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app")
    assert find_project_root(root / "backend" / "open_webui" / "socket") == root.resolve()
    assert find_project_root(root / "events") == root.resolve()


def test_project_flag_wins_over_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here = make_project(tmp_path / "here", specs={"feature": FEATURE_SPEC.replace("action: join", "action: jump")})
    there = make_project(tmp_path / "there", specs={"feature": FEATURE_SPEC})
    monkeypatch.chdir(here / "backend")
    assert run_cli("validate").exit == 2  # the broken project around us
    assert run_cli("--project", str(there), "validate").exit == 0
    assert run_cli("-C", "../../there", "validate").exit == 0  # relative to the current folder


def test_a_mistyped_specs_folder_is_exit_2_for_every_reading_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A configured project whose `specs` names no folder: never "0 specs, valid" (a pre-commit
    `validate` hook would pass silently)."""
    root = make_project(tmp_path / "app")
    write(root, "eventgen.toml", 'specs = "event"\n')
    monkeypatch.chdir(root / "backend")
    for command in (
        ["validate"],
        ["list"],
        ["export", "asyncapi"],
        ["export", "typescript"],
        ["check"],
        ["diff"],
        ["generate"],
    ):
        run = run_cli(*command)
        assert (run.exit, run.stderr.splitlines()[0]) == (2, "event: specs folder not found"), command


def test_init_in_a_subfolder_of_a_configured_project_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "app")
    write(root, "eventgen.toml", "")
    monkeypatch.chdir(root / "backend")
    before = snapshot(root)
    run = run_cli("init")
    assert run.exit == 2
    assert f"project root: {root.resolve()}" in run.stdout
    assert "eventgen.toml: eventgen is already configured here" in run.stderr
    assert snapshot(root) == before  # no second configuration in backend/


def test_init_in_a_subfolder_of_an_unconfigured_project_configures_its_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "app")
    monkeypatch.chdir(root / "backend")
    run = run_cli("init")
    assert run.exit == 0, run.stderr
    assert (root / "eventgen.toml").is_file() and not (root / "backend" / "eventgen.toml").exists()
    assert not (root / "backend" / "events").exists()


def test_init_outside_any_project_starts_one_here(
    outside: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(outside)
    assert run_cli("init").exit == 0
    assert (outside / "eventgen.toml").is_file() and (outside / "events").is_dir()
    assert find_project_root(outside) == outside.resolve()
    assert run_cli("validate").exit == 0
