"""The frontend planner without Node: Svelte version detection, names, import paths, bad input, life cycle."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest
from support.cli import eventgen
from support.frontend import copy_example
from support.tree import snapshot

from generator.config import Config
from generator.errors import EventgenError
from generator.pipeline import load_project
from generator.plan.frontend.events_ts import events_module
from generator.plan.frontend.files import frontend_files
from generator.plan.frontend.listeners import events_import
from generator.plan.frontend.version import (
    lowest_major,
    svelte_syntax,
    syntax_from_package_json,
)
from generator.sources import Sources

COMPONENT = "src/lib/components/realtime/FeatureUpdates.svelte"
TYPES = "src/lib/socket/events.ts"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "app")


def set_svelte_range(root: Path, spec: str) -> None:
    package = json.loads((root / "package.json").read_text())
    package["devDependencies"]["svelte"] = spec
    (root / "package.json").write_text(json.dumps(package, indent="\t") + "\n")


@pytest.mark.parametrize(
    ("spec", "lowest"),
    [
        ("^5.0.0", 5),
        ("~4.2.7", 4),
        (">=4.0.0", 4),
        ("4.x", 4),
        ("5", 5),
        ("^5.0.0-next.1", 5),
        ("^4.0.0 || ^5.0.0", 4),
        (">=3 <6", 3),
        ("4 - 5", 4),
        ("workspace:^5", 5),
        ("npm:svelte@^4.2.0", 4),
        ("*", None),
        ("latest", None),
        ("next", None),
        ("<5", None),
        ("file:../svelte", None),
        ("github:sveltejs/svelte", None),
        ("", None),
    ],
)
def test_lowest_major_of_npm_ranges(spec: str, lowest: int | None) -> None:
    assert lowest_major(spec) == lowest


@pytest.mark.parametrize(
    ("spec", "syntax"),
    [("^5.0.0", 5), ("^4.2.19", 4), ("^3.59.0", 4), ("^4.0.0 || ^5.0.0", 4), (">=5.1", 5)],
)
def test_auto_reads_the_svelte_range(spec: str, syntax: int) -> None:
    text = json.dumps({"devDependencies": {"vite": "^5", "svelte": spec}})
    assert syntax_from_package_json(text, "package.json") == syntax


def test_auto_finds_the_package_json_nearest_the_components(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"svelte": "^5.0.0"}}))
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend/package.json").write_text(json.dumps({"devDependencies": {"svelte": "^4.2.0"}}))
    config = Config(
        root=tmp_path, components="frontend/src/lib/components/realtime", types="frontend/src/lib/socket/events.ts"
    )
    assert svelte_syntax(config, Sources(tmp_path)) == 4
    assert svelte_syntax(dataclasses.replace(config, components="src/lib/realtime"), Sources(tmp_path)) == 5
    # Forced: the package.json is not even read.
    (tmp_path / "frontend/package.json").write_text("{ not json")
    assert svelte_syntax(dataclasses.replace(config, svelte="5"), Sources(tmp_path)) == 5


def test_auto_without_package_json_or_svelte_dependency_uses_runes(tmp_path: Path) -> None:
    assert svelte_syntax(Config(root=tmp_path), Sources(tmp_path)) == 5
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"react": "^18"}}))
    assert svelte_syntax(Config(root=tmp_path), Sources(tmp_path)) == 5


def test_unreadable_svelte_range_is_invalid_input_with_its_position() -> None:
    text = '{\n\t"name": "x",\n\t"devDependencies": {\n\t\t"svelte": "latest"\n\t}\n}\n'
    with pytest.raises(EventgenError) as err:
        syntax_from_package_json(text, "package.json")
    (diag,) = err.value.diagnostics
    assert (diag.path, diag.line, diag.col) == ("package.json", 4, 13)
    assert diag.message == 'svelte dependency "latest": cannot tell its major version'
    assert 'svelte = "4"' in (diag.hint or "")


def test_broken_package_json_is_invalid_input_with_its_position() -> None:
    with pytest.raises(EventgenError) as err:
        syntax_from_package_json('{\n  "devDependencies": {\n    "svelte": ^5\n  }\n}\n', "web/package.json")
    (diag,) = err.value.diagnostics
    assert (diag.path, diag.line, diag.col) == ("web/package.json", 3, 15)
    assert diag.message.startswith("invalid JSON: ")


def test_svelte_2_is_refused() -> None:
    with pytest.raises(EventgenError, match=r"Svelte 3 or newer is needed"):
        syntax_from_package_json(json.dumps({"dependencies": {"svelte": "^2.16.0"}}), "package.json")


def test_generate_refuses_an_unreadable_range_and_writes_nothing(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_svelte_range(app, "latest")
    before = snapshot(app)
    run = eventgen(app, "generate")
    assert run.exit == 2
    err = run.stderr
    line = next(i for i, text in enumerate((app / "package.json").read_text().splitlines(), 1) if '"svelte"' in text)
    assert err.startswith(f'package.json:{line}:13: svelte dependency "latest": cannot tell its major version')
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("types", "components", "folder", "expected"),
    [
        ("src/lib/socket/events.ts", "src/lib/components/realtime", "", "$lib/socket/events"),
        ("web/src/lib/events.ts", "web/src/lib/components", "web", "$lib/events"),
        ("src/types/events.ts", "src/lib/components/realtime", "", "../../../types/events"),
        ("src/lib/realtime/events.ts", "src/lib/realtime", "web", "./events"),
    ],
)
def test_types_import_uses_lib_alias_or_a_relative_path(
    types: str, components: str, folder: str, expected: str
) -> None:
    config = Config(root=Path("/nowhere"), types=types, components=components)
    assert events_import(config, folder) == expected


def test_frontend_files_of_the_example(app: Path) -> None:
    config, specs = load_project(app)
    files = frontend_files(specs, config, Sources(config.root))
    assert [(f.file, f.kind, f.spec) for f in files] == [(TYPES, "ts", None), (COMPONENT, "svelte", "feature")]
    component = files[1].body
    assert 'import { socket } from "$lib/stores";' in component
    assert 'from "$lib/socket/events";' in component
    assert "let { featureId, onupdated, onerror, children }: Props = $props();" in component

    legacy = frontend_files(
        specs, dataclasses.replace(config, svelte="4", store_import="$lib/stores/index"), Sources(config.root)
    )[1].body
    assert 'import { socket } from "$lib/stores/index";' in legacy
    assert "export let featureId: string;" in legacy
    assert "<slot updated={current.updated} joined={current.joined} error={current.error} />" in legacy


@pytest.mark.parametrize("types", ["src/lib/socket/events.js", "src/lib/socket/events.d.ts"])
def test_types_must_be_a_ts_module(app: Path, capsys: pytest.CaptureFixture[str], types: str) -> None:
    (app / "eventgen.toml").write_text(f'types = "{types}"\n')
    before = snapshot(app)
    run = eventgen(app, "generate")
    assert run.exit == 2
    err = run.stderr
    assert err.startswith("eventgen.toml:") and f"'{types}' must" in err and ".ts" in err
    assert snapshot(app) == before


def test_no_specs_no_frontend_files(tmp_path: Path) -> None:
    assert frontend_files([], Config(root=tmp_path), Sources(tmp_path)) == []


SPEC_HEAD = """\
name: board
rooms:
  board:
    pattern: "board:{%s}"
    access: authenticated
events:
  - name: board:open
    direction: client_to_server
    action: join
    room: board
    payload:
      %s: str
%s  - name: board:changed
    direction: server_to_client
    room: board
    payload:
      %s: str
    listener: BoardWatch
"""


@pytest.mark.parametrize(
    ("param", "extra", "where", "message"),
    [
        ("socket", "", (4, 14), "field 'socket' becomes the prop 'socket', which is a name the component uses itself"),
        ("default", "", (4, 14), "field 'default' becomes the prop 'default', which is a reserved word in JavaScript"),
        (
            "board_id",
            "      onchanged: str\n",
            (13, 18),
            "field 'onchanged' becomes the prop 'onchanged', which is a name the component uses itself",
        ),
        (
            "board_id",
            "      boardId: int\n",
            (13, 16),
            "field 'boardId' becomes the prop 'boardId', which is also the prop of field 'board_id'",
        ),
    ],
)
def test_a_prop_that_cannot_be_declared_is_invalid_input(
    app: Path, capsys: pytest.CaptureFixture[str], param: str, extra: str, where: tuple[int, int], message: str
) -> None:
    (app / "events/board.yaml").write_text(
        SPEC_HEAD % (param, param, "", param) if not extra else _with_extra(param, extra)
    )
    before = snapshot(app)
    run = eventgen(app, "generate")
    assert run.exit == 2
    err = run.stderr.strip()
    assert err == f"events/board.yaml:{where[0]}:{where[1]}: listener 'BoardWatch': {message}; rename the field"
    assert snapshot(app) == before


def _with_extra(param: str, extra: str) -> str:
    """The join payload gains a required field beside the room parameter."""
    text = SPEC_HEAD % (param, param, "", param)
    return text.replace(
        f"      {param}: str\n  - name: board:changed", f"      {param}: str\n{extra}  - name: board:changed", 1
    )


def test_callback_names_fall_back_to_the_whole_event_name(app: Path) -> None:
    (app / "events/feature.yaml").write_text(
        (app / "events/feature.yaml").read_text()
        + textwrap.indent(
            textwrap.dedent(
                """
                - name: feature:error
                  direction: server_to_client
                  room: feature
                  payload: {feature_id: str}
                  listener: FeatureUpdates
                - name: feature.3d
                  direction: server_to_client
                  room: feature
                  payload: {feature_id: str}
                  listener: FeatureUpdates
                """
            ),
            "  ",
        )
    )
    config, specs = load_project(app)
    body = frontend_files(specs, config, Sources(config.root))[1].body
    assert "let { featureId, onupdated, onfeatureerror, onfeature3d, onerror, children }: Props = $props();" in body
    assert "featureError: FeatureErrorPayload | null;" in body and "feature3d: Feature3dPayload | null;" in body


def test_generate_check_and_svelte_switch_life_cycle(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert eventgen(app, "generate").exit == 0
    component = app / COMPONENT
    assert component.read_text().startswith("<!-- eventgen:file spec=feature sha=")
    assert (app / TYPES).read_text().startswith("// eventgen:file sha=")
    assert eventgen(app, "check").exit == 0
    first = snapshot(app)
    assert eventgen(app, "generate").exit == 0
    assert snapshot(app) == first  # a second run changes nothing

    # The app moves to Svelte 4: the component is out of date, and generate rewrites it.
    set_svelte_range(app, "^4.2.0")
    run = eventgen(app, "check", "--no-diff")
    assert run.exit == 1
    assert COMPONENT in run.stdout
    assert eventgen(app, "generate").exit == 0
    assert "export let featureId: string;" in component.read_text()

    # A hand edit is a conflict: nothing is written.
    component.write_text(component.read_text().replace("mounted = true;", "mounted = true; // mine"))
    edited = snapshot(app)
    assert eventgen(app, "generate").exit == 1
    assert snapshot(app) == edited
    assert eventgen(app, "generate", "--force").exit == 0
    assert "// mine" not in component.read_text()

    # The listener goes away from the spec: its component is an orphan and is removed.
    spec = app / "events/feature.yaml"
    spec.write_text(spec.read_text().replace("    listener: FeatureUpdates\n", ""))
    assert eventgen(app, "generate").exit == 0
    assert not component.exists()
    assert (app / TYPES).is_file()


def test_export_typescript_prints_the_event_map(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _config, specs = load_project(app)
    run = eventgen(app, "export", "typescript")
    assert run.exit == 0
    assert run.stdout == events_module(specs)


def test_export_typescript_of_an_invalid_spec_exits_2(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (app / "events/feature.yaml").write_text("name: feature\nevents: []\n")
    run = eventgen(app, "export", "typescript")
    assert run.exit == 2
    assert run.stderr.startswith("events/feature.yaml:2:")
