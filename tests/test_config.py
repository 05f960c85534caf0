"""Project configuration: eventgen.toml or [tool.eventgen], Open WebUI defaults, positioned errors."""

from __future__ import annotations

import dataclasses
import os
import textwrap
from dataclasses import astuple
from pathlib import Path

import pytest
from support.cli import eventgen

from generator.config import Config, find_config, load_config
from generator.errors import EventgenError

SETTINGS = """\
specs = "specs"
socket_module = "server/app/realtime.py"
models_module = "server/app/realtime_models.py"
components = "web/src/lib/live"
types = "web/src/lib/live/events.ts"
store_import = "$lib/socket"
svelte = 5
server_name = "sio_server"
session_pool = "SESSIONS"
socket_import = "app.realtime"
models_import = "app.realtime_models"
"""


def _settings(config: Config) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in ("root", "source")}


def _errors(root: Path) -> list[str]:
    with pytest.raises(EventgenError) as info:
        load_config(root)
    assert info.value.exit_code == 2
    return [d.format() for d in info.value.diagnostics]


def test_defaults_are_the_open_webui_layout(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.root == tmp_path.resolve()
    assert config.source == ""
    assert find_config(tmp_path) is None
    assert (config.specs, config.socket_module, config.models_module) == (
        "events",
        "backend/open_webui/socket/main.py",
        "backend/open_webui/socket/event_models.py",
    )
    assert (config.components, config.types, config.store_import, config.svelte) == (
        "src/lib/components/realtime",
        "src/lib/socket/events.ts",
        "$lib/stores",
        "auto",
    )


def test_eventgen_toml_and_pyproject_table_are_equivalent(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "eventgen.toml").write_text(SETTINGS)
    (b / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.eventgen]\n' + SETTINGS + "\n[tool.ruff]\nline-length = 100\n"
    )

    from_toml, from_pyproject = load_config(a), load_config(b)

    assert _settings(from_toml) == _settings(from_pyproject)
    assert _settings(from_toml) != _settings(Config(root=a))
    assert from_toml.svelte == "5"  # an integer 5 reads as the string the rest of the code compares
    assert (from_toml.source, from_pyproject.source) == ("eventgen.toml", "pyproject.toml")
    assert (find_config(a), find_config(b)) == ("eventgen.toml", "pyproject.toml")


def test_eventgen_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "eventgen.toml").write_text('specs = "from_toml"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.eventgen]\nspecs = "from_pyproject"\n')
    assert load_config(tmp_path).specs == "from_toml"


def test_pyproject_without_the_table_means_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.black]\nline-length = 88\n')
    assert _settings(load_config(tmp_path)) == _settings(Config(root=tmp_path))
    assert find_config(tmp_path) is None


def test_trailing_slash_of_a_folder_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "eventgen.toml").write_text('specs = "specs/"\ncomponents = "src/live/"\n')
    config = load_config(tmp_path)
    assert (config.specs, config.components) == ("specs", "src/live")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'specs = "events"\nsocket_modul = "x.py"\n',
            ["eventgen.toml:2:1: unknown configuration key 'socket_modul' (did you mean 'socket_module'?)"],
        ),
        (
            "# comment\n  frobnicate = 1\n",
            [
                (
                    "eventgen.toml:2:3: unknown configuration key 'frobnicate'; known keys: components, max_bytes, max_inflight_per_socket, max_rooms_per_socket, models_import, models_module, rate_limit_disconnect_after, rate_limit_disconnect_window_s, redis_url, "
                    "server_name, session_pool, session_value, socket_import, socket_module, specs, store_import, svelte, telemetry, timeout_s, types"
                )
            ],
        ),
        ("specs = 5\n", ["eventgen.toml:1:1: 'specs' must be a string in quotes, not the number 5"]),
        ('components = ["a", "b"]\n', ["eventgen.toml:1:1: 'components' must be a string in quotes, not an array"]),
        ("svelte = true\n", ["eventgen.toml:1:1: 'svelte' must be 4, 5 or \"auto\", not the boolean true"]),
        ('svelte = "6"\n', ["eventgen.toml:1:1: 'svelte' must be 4, 5 or \"auto\", not '6'"]),
        ('server_name = "1sio"\n', ["eventgen.toml:1:1: 'server_name' must be a Python identifier, not '1sio'"]),
        (
            'socket_import = "open-webui.socket"\n',
            [
                "eventgen.toml:1:1: 'socket_import' must be a dotted module name such as open_webui.socket.main, not 'open-webui.socket'"
            ],
        ),
        (
            'socket_module = "backend/main.js"\n',
            ["eventgen.toml:1:1: 'socket_module' = 'backend/main.js' must name a .py file"],
        ),
        ('types = "src/events.d"\n', ["eventgen.toml:1:1: 'types' = 'src/events.d' must name a .ts file"]),
        (
            'store_import = ""\n',
            [
                "eventgen.toml:1:1: 'store_import' must name the module that exports the socket store, e.g. \"$lib/stores\""
            ],
        ),
        (
            '[nested]\nspecs = "x"\n',
            [
                "eventgen.toml:1:1: unknown configuration key 'nested'; known keys: components, max_bytes, max_inflight_per_socket, max_rooms_per_socket, models_import, models_module, rate_limit_disconnect_after, rate_limit_disconnect_window_s, redis_url, server_name, session_pool, session_value, socket_import, socket_module, specs, store_import, svelte, telemetry, timeout_s, types"
            ],
        ),
        (
            'specs = "events"\nspecs = "other"\n',
            ["eventgen.toml:2:1: TOML syntax error: this key is already set above"],
        ),
        ('specs = "events\n', ["eventgen.toml:1:16: TOML syntax error: Illegal character '\\n'"]),
        (
            'specs = 1\nsvelte = "7"\nbogus = "x"\n',
            [
                "eventgen.toml:1:1: 'specs' must be a string in quotes, not the number 1",
                "eventgen.toml:2:1: 'svelte' must be 4, 5 or \"auto\", not '7'",
                "eventgen.toml:3:1: unknown configuration key 'bogus'; known keys: components, max_bytes, max_inflight_per_socket, max_rooms_per_socket, models_import, models_module, rate_limit_disconnect_after, rate_limit_disconnect_window_s, redis_url, server_name, session_pool, session_value, socket_import, socket_module, specs, store_import, svelte, telemetry, timeout_s, types",
            ],
        ),
    ],
    ids=[
        "unknown-key-suggestion",
        "unknown-key-list",
        "specs-number",
        "components-array",
        "svelte-bool",
        "svelte-6",
        "server-name",
        "socket-import",
        "socket-module-not-py",
        "types-not-ts",
        "empty-store-import",
        "sub-table",
        "toml-duplicate",
        "toml-unterminated",
        "all-at-once",
    ],
)
def test_bad_eventgen_toml(tmp_path: Path, text: str, expected: list[str]) -> None:
    (tmp_path / "eventgen.toml").write_text(text)
    assert _errors(tmp_path) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[project]\nname = "app"\n\n[tool.eventgen]\nspecs = "events"\n    sockt_module = "x.py"\n',
            ["pyproject.toml:6:5: unknown configuration key 'sockt_module' (did you mean 'socket_module'?)"],
        ),
        ('[tool]\neventgen.svelte = "3"\n', ["pyproject.toml:2:1: 'svelte' must be 4, 5 or \"auto\", not '3'"]),
        (
            '[tool]\neventgen = { specs = "events", colour = "red" }\n',
            [
                "pyproject.toml:2:32: unknown configuration key 'colour'; known keys: components, max_bytes, max_inflight_per_socket, max_rooms_per_socket, models_import, models_module, rate_limit_disconnect_after, rate_limit_disconnect_window_s, redis_url, server_name, session_pool, session_value, socket_import, socket_module, specs, store_import, svelte, telemetry, timeout_s, types"
            ],
        ),
        (
            '[ tool . "eventgen" ]\n\nspecs = 3\n',
            ["pyproject.toml:3:1: 'specs' must be a string in quotes, not the number 3"],
        ),
        (
            '[tool]\neventgen = "yes"\n',
            ["pyproject.toml:2:1: 'tool.eventgen' must be a table: write [tool.eventgen] and its keys below it"],
        ),
    ],
    ids=["table", "dotted-key", "inline-table", "spaced-quoted-header", "not-a-table"],
)
def test_bad_pyproject_table(tmp_path: Path, text: str, expected: list[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    assert _errors(tmp_path) == expected


@pytest.mark.parametrize(
    "value",
    ["../shared/events", "/etc/eventgen", "events/../../outside", "C:/events", "..\\\\outside", ""],
)
def test_paths_escaping_the_root_are_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "eventgen.toml").write_text(f'socket_module = "backend/main.py"\nspecs = "{value}"\n')
    shown = value.replace("\\\\", "\\")
    assert _errors(tmp_path) == [f"eventgen.toml:2:1: 'specs' = {shown!r} must be a relative path inside the project"]


def test_a_symlink_leading_out_of_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    project = tmp_path / "project"
    outside.mkdir()
    project.mkdir()
    os.symlink(outside, project / "linked")
    (project / "eventgen.toml").write_text('components = "linked/realtime"\n')
    assert _errors(project) == [
        "eventgen.toml:1:1: 'components' = 'linked/realtime' must be a relative path inside the project"
    ]


def test_a_symlink_inside_the_root_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "linked")
    (tmp_path / "eventgen.toml").write_text('specs = "linked"\n')
    assert load_config(tmp_path).specs == "linked"


def test_the_command_line_reports_config_errors_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent("""\
        [tool.eventgen]
        specs = "../elsewhere"
        svelt = "5"
    """)
    )
    code, out, err = astuple(eventgen(tmp_path, "validate"))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "pyproject.toml:2:1: 'specs' = '../elsewhere' must be a relative path inside the project",
        "pyproject.toml:3:1: unknown configuration key 'svelt' (did you mean 'svelte'?)",
    ]


def test_a_configured_specs_folder_is_the_one_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "eventgen.toml").write_text('specs = "realtime/specs"\n')
    folder = tmp_path / "realtime" / "specs"
    folder.mkdir(parents=True)
    (folder / "ping.yaml").write_text(
        "name: ping\nevents:\n  - name: ping\n    direction: server_to_client\n    broadcast: true\n"
    )
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "ignored.yaml").write_text("not: a spec\n")
    assert eventgen(tmp_path, "validate").stdout == "eventgen: 1 spec(s), 1 event(s): valid\n"
