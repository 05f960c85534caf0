"""`validate`, `init` and `new` through the real command line, on temporary projects of several shapes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import pytest
import yaml
from support.cli import eventgen, run_cli
from support.tree import files_of, snapshot

import generator.spec.load
from generator.config import load_config

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_APP = REPO / "examples" / "openwebui-mini"

VALID_SPEC = """\
name: ping
events:
  - name: ping:sent
    direction: server_to_client
    broadcast: true
    payload:
      at: float
"""

SOCKET_MODULE = """\
import socketio

sio = socketio.AsyncServer(async_mode="asgi")
SESSION_POOL = {}


@sio.event
async def connect(sid, environ, auth):
    SESSION_POOL[sid] = {"id": "u1", "name": "User"}
"""


def run(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    result = eventgen(root, *args)
    return result.exit, result.stdout, result.stderr


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def active_keys(config_text: str) -> dict[str, object]:
    """The settings an eventgen.toml really sets (not the commented-out defaults)."""
    return tomllib.loads(config_text)


# -- validate --------------------------------------------------------------------------------


def test_validate_exits_0_on_valid_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"events/ping.yaml": VALID_SPEC})
    assert run(tmp_path, "validate", capsys=capsys) == (0, "eventgen: 1 spec(s), 1 event(s): valid\n", "")


def test_validate_exits_2_with_positioned_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"events/ping.yaml": VALID_SPEC.replace("at: float", "at: flaot")})
    code, out, err = run(tmp_path, "validate", capsys=capsys)
    assert (code, out) == (2, "")
    assert err == (
        "events/ping.yaml:7:11: events[0].payload.at.type: invalid type 'flaot': unknown type 'flaot' "
        "(use str, int, float, bool, dict, list, any, list[T], dict[str, T], T | None)\n"
    )


def test_validate_of_an_unknown_spec_name_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"events/ping.yaml": VALID_SPEC})
    assert run(tmp_path, "validate", "pong", capsys=capsys) == (2, "", "pong: no spec named 'pong' in events/\n")


def test_process_exit_codes_of_the_module_entry_point(tmp_path: Path) -> None:
    """`python -m generator.cli` exits the process with the code, not only returns it."""
    write(tmp_path, {"events/ping.yaml": VALID_SPEC})
    ok = subprocess.run(
        [sys.executable, "-m", "generator.cli", "-C", str(tmp_path), "validate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    (tmp_path / "events" / "ping.yaml").write_text("name: ping\nevents: [\n")
    bad = subprocess.run(
        [sys.executable, "-m", "generator.cli", "-C", str(tmp_path), "validate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ok.returncode, bad.returncode) == (0, 2)
    assert bad.stderr.startswith("events/ping.yaml:3:1: YAML syntax error")


def _explode(file: Path, root: Path) -> None:
    raise RuntimeError("disk on fire")


def test_an_unforeseen_failure_exits_3_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"events/ping.yaml": VALID_SPEC})
    monkeypatch.setattr(generator.spec.load, "load_spec_file", _explode)
    code, out, err = run(tmp_path, "validate", capsys=capsys)
    assert (code, out) == (3, "")
    assert err == "eventgen: unexpected error: RuntimeError: disk on fire (rerun with --debug for the traceback)\n"


def test_debug_shows_the_traceback_of_an_unforeseen_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"events/ping.yaml": VALID_SPEC})
    monkeypatch.setattr(generator.spec.load, "load_spec_file", _explode)
    run = eventgen(tmp_path, "--debug", "validate")
    err = run.stderr
    assert run.exit == 3
    assert err.startswith("Traceback (most recent call last):\n")
    assert 'in _explode\n    raise RuntimeError("disk on fire")\n' in err
    assert err.endswith(
        "eventgen: unexpected error: RuntimeError: disk on fire (rerun with --debug for the traceback)\n"
    )


# -- init ------------------------------------------------------------------------------------


def _openwebui_copy(tmp_path: Path) -> Path:
    """The example app as a user would have it before eventgen: no specs, no generated code."""
    root = tmp_path / "app"
    shutil.copytree(
        EXAMPLE_APP, root, ignore=shutil.ignore_patterns("node_modules", "events", "__pycache__", ".svelte-kit")
    )
    return root


def test_init_on_the_open_webui_layout_sets_no_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _openwebui_copy(tmp_path)
    code, out, err = run(root, "init", capsys=capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "found the socket server `sio` in backend/open_webui/socket/main.py",
        "found the session pool `SESSION_POOL` (backend/open_webui/socket/main.py:66, in connect)",
        "found the `socket` store in src/lib/stores/index.ts (imported as $lib/stores)",
        "found Svelte 5 (package.json: svelte ^5.0.0)",
        "eventgen.toml: created",
        "events/event-spec.schema.json: created",
        "events/examples/feature.yaml: created",
        "next: copy events/examples/feature.yaml to events/<name>.yaml and edit it, or run `eventgen new NAME --help`",
    ]
    text = (root / "eventgen.toml").read_text()
    assert active_keys(text) == {}
    # Every default is still visible, commented out.
    for line in (
        '# specs = "events"',
        '# socket_module = "backend/open_webui/socket/main.py"',
        '# store_import = "$lib/stores"',
        '# svelte = "auto"',
    ):
        assert line in text.splitlines()
    schema = json.loads((root / "events" / "event-spec.schema.json").read_text())
    assert schema["title"] == "Spec"


def test_the_example_spec_carries_the_modeline_and_is_a_valid_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _openwebui_copy(tmp_path)
    assert run(root, "init", capsys=capsys)[0] == 0
    example = root / "events" / "examples" / "feature.yaml"
    lines = example.read_text().splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../event-spec.schema.json"
    assert (example.parent / "../event-spec.schema.json").resolve().is_file()
    assert sum(line.lstrip().startswith("#") for line in lines) >= 20  # it explains itself
    # Not a spec where it stands...
    assert run(root, "validate", capsys=capsys) == (0, "eventgen: 0 spec(s), 0 event(s): valid\n", "")
    # ...and a valid one once copied to the specs folder.
    shutil.copy(example, root / "events" / "feature.yaml")
    assert run(root, "validate", capsys=capsys) == (0, "eventgen: 1 spec(s), 3 event(s): valid\n", "")


def test_init_refuses_to_overwrite_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _openwebui_copy(tmp_path)
    assert run(root, "init", capsys=capsys)[0] == 0
    (root / "eventgen.toml").write_text('specs = "mine"\n')
    before = snapshot(root)
    code, out, err = run(root, "init", capsys=capsys)
    assert (code, out) == (2, "")
    assert (
        err
        == "eventgen.toml: eventgen is already configured here; init never overwrites a configuration: edit it instead\n"
    )
    assert snapshot(root) == before


def test_init_refuses_a_pyproject_table_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"pyproject.toml": '[project]\nname = "app"\n\n[tool.eventgen]\nspecs = "specs"\n'})
    before = snapshot(tmp_path)
    code, out, err = run(tmp_path, "init", capsys=capsys)
    assert (code, out) == (2, "")
    assert (
        err
        == "pyproject.toml: eventgen is already configured here; init never overwrites a configuration: edit it instead\n"
    )
    assert snapshot(tmp_path) == before


CUSTOM_SHAPE = {
    # The server in both branches of an if/else, in a layout that is not Open WebUI's.
    "server/app/__init__.py": "",
    "server/app/realtime.py": """\
        import os

        import socketio

        if os.environ.get("REDIS_URL"):
            sio = socketio.AsyncServer(client_manager=socketio.AsyncRedisManager(os.environ["REDIS_URL"]))
        else:
            sio = socketio.AsyncServer(async_mode="asgi")

        SESSION_POOL = {}
        """,
    # Decoys: a test server, and servers inside dependencies and virtualenvs.
    "server/tests/test_realtime.py": "import socketio\n\nsio = socketio.AsyncServer()\n",
    "web/node_modules/some-lib/server.py": "import socketio\nsio = socketio.AsyncServer()\n",
    ".venv/lib/socketio_demo.py": "import socketio\nsio = socketio.AsyncServer()\n",
    "server/app/not_python.py": "sio = socketio.AsyncServer(\n",
    # The frontend in a subfolder: SvelteKit with Svelte 4.
    "web/package.json": '{"name": "web", "devDependencies": {"@sveltejs/kit": "^2.5.0", "svelte": "^4.2.19"}}',
    "web/src/lib/socket.ts": "import { writable } from 'svelte/store';\nexport const socket = writable(null);\n",
    "web/src/lib/other.ts": "export const sockets = [];\n",
    "web/src/app.d.ts": "export const socket: unknown;\n",
}


def test_init_on_a_custom_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, CUSTOM_SHAPE)
    code, out, err = run(tmp_path, "init", capsys=capsys)
    assert code == 0
    assert out.splitlines()[:3] == [
        "found the socket server `sio` in server/app/realtime.py",
        "found the `socket` store in web/src/lib/socket.ts (imported as $lib/socket)",
        "found Svelte 4 (package.json: svelte ^4.2.19)",
    ]
    assert err == (
        "eventgen init: warning: several files create a socketio.AsyncServer: server/app/realtime.py, server/tests/test_realtime.py; "
        "using server/app/realtime.py (change socket_module in eventgen.toml to pick another)\n"
    )
    text = (tmp_path / "eventgen.toml").read_text()
    assert active_keys(text) == {
        "socket_module": "server/app/realtime.py",
        "models_module": "server/app/event_models.py",
        "store_import": "$lib/socket",
        "components": "web/src/lib/components/realtime",
        "types": "web/src/lib/socket/events.ts",
    }
    assert "# Routers import the emit helpers from `app.realtime` (socket_import overrides it)." in text.splitlines()
    config = load_config(tmp_path)
    assert (config.socket_module, config.store_import, config.svelte, config.socket_dotted) == (
        "server/app/realtime.py",
        "$lib/socket",
        "auto",
        "app.realtime",
    )


def test_a_project_set_up_by_init_generates_where_init_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, CUSTOM_SHAPE)
    assert run(tmp_path, "init", capsys=capsys)[0] == 0
    code, out, err = run(
        tmp_path,
        "new",
        "chat",
        "--room",
        "chat:{chat_id}",
        "--access",
        "authenticated",
        "--join",
        "chat:join",
        "--emit",
        "chat:message",
        "--field",
        "text:str",
        "--listener",
        "ChatMessages",
        capsys=capsys,
    )
    assert (code, err) == (0, ""), out
    assert "# eventgen:begin chat " in (tmp_path / "server/app/realtime.py").read_text()
    assert (tmp_path / "server/app/event_models.py").is_file()
    listener = (tmp_path / "web/src/lib/components/realtime/ChatMessages.svelte").read_text()
    assert "from '$lib/socket'" in listener or 'from "$lib/socket"' in listener
    # Svelte 4 syntax, as package.json asks (runes would be `$props()`).
    assert re.search(r"^\texport let \w+", listener, re.MULTILINE)
    assert "$props()" not in listener
    assert (tmp_path / "web/src/lib/socket/events.ts").is_file()
    assert run(tmp_path, "check", capsys=capsys)[0] == 0


def test_init_on_a_plain_vite_svelte_app(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No SvelteKit (no $lib), an `export { socket }` list, and a range that does not tell the major."""
    write(
        tmp_path,
        {
            "main.py": "import socketio\nserver: socketio.AsyncServer = socketio.AsyncServer()\n",
            "frontend/package.json": '{"dependencies": {"svelte": "latest", "socket.io-client": "^4"}}',
            "frontend/node_modules/svelte/package.json": '{"name": "svelte", "version": "5.1.3"}',
            "frontend/src/stores.js": "import { writable } from 'svelte/store';\nconst s = writable(null);\nexport { s as socket };\n",
        },
    )
    code, out, err = run(tmp_path, "init", capsys=capsys)
    assert (code, err) == (
        0,
        "eventgen init: warning: no handler in main.py stores a session by sid (NAME[sid] = ...) and it defines no SESSION_POOL; "
        "set session_pool in eventgen.toml to the mapping generated handlers must check\n",
    )
    assert "found the socket server `server` in main.py" in out.splitlines()
    assert active_keys((tmp_path / "eventgen.toml").read_text()) == {
        "socket_module": "main.py",
        "models_module": "event_models.py",
        "store_import": "../../../stores",
        "components": "frontend/src/lib/components/realtime",
        "types": "frontend/src/lib/socket/events.ts",
        "svelte": "5",
    }
    # The relative import resolves from the components folder to the store module.
    assert (tmp_path / "frontend/src/lib/components/realtime" / "../../../stores.js").resolve() == (
        tmp_path / "frontend/src/stores.js"
    ).resolve()


def test_init_on_an_empty_project_keeps_defaults_and_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(tmp_path, "init", capsys=capsys)
    assert code == 0
    assert not out.startswith("found")
    assert err.splitlines() == [
        "eventgen init: warning: no Python file creates a socketio.AsyncServer; eventgen.toml keeps the default socket_module",
        "eventgen init: warning: no .ts/.js module under src/ exports `socket`; listeners will import it from $lib/stores",
    ]
    assert active_keys((tmp_path / "eventgen.toml").read_text()) == {}
    assert sorted(files_of(snapshot(tmp_path))) == [
        "eventgen.toml",
        "events/event-spec.schema.json",
        "events/examples/feature.yaml",
    ]


def test_init_on_a_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(tmp_path / "nowhere", "init", capsys=capsys)
    assert (code, out, err) == (2, "", f"{tmp_path / 'nowhere'}: project folder not found\n")
    assert not (tmp_path / "nowhere").exists()


def test_init_leaves_an_existing_example_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"events/examples/feature.yaml": "# mine\n"})
    assert run(tmp_path, "init", capsys=capsys)[0] == 0
    assert (tmp_path / "events/examples/feature.yaml").read_text() == "# mine\n"


# -- new -------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "backend/open_webui/socket/main.py": SOCKET_MODULE,
            # eventgen checks that a project's own access callable exists before importing it.
            "backend/open_webui/socket/access.py": "def can_read_feature(user, feature_id):\n    return True\n",
        },
    )
    return tmp_path


def test_new_writes_a_spec_from_flags_and_generates(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        project,
        "new",
        "feature",
        "--room",
        "feature:{feature_id}",
        "--access",
        "open_webui.socket.access:can_read_feature",
        "--join",
        "feature:subscribe",
        "--leave",
        "feature:unsubscribe",
        "--emit",
        "feature:updated",
        "--field",
        "data:dict",
        "--field",
        "tags:list[str] | None",
        "--field",
        "on:bool",
        "--helper",
        "notify_feature_update",
        "--listener",
        "FeatureUpdates",
        "--description",
        "Live updates: features",
        capsys=capsys,
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "events/feature.yaml: created"
    assert out.splitlines()[-1].startswith("eventgen: changed ")
    spec = yaml.safe_load((project / "events/feature.yaml").read_text())
    assert spec == {
        "name": "feature",
        "description": "Live updates: features",
        "rooms": {
            "feature": {"pattern": "feature:{feature_id}", "access": "open_webui.socket.access:can_read_feature"}
        },
        "events": [
            {
                "name": "feature:subscribe",
                "direction": "client_to_server",
                "action": "join",
                "room": "feature",
                "payload": {"feature_id": "str"},
            },
            {
                "name": "feature:unsubscribe",
                "direction": "client_to_server",
                "action": "leave",
                "room": "feature",
                "payload": {"feature_id": "str"},
            },
            {
                "name": "feature:updated",
                "direction": "server_to_client",
                "room": "feature",
                "payload": {"feature_id": "str", "data": "dict", "tags": "list[str] | None", "on": "bool"},
                "emit": {"helper": "notify_feature_update"},
                "listener": "FeatureUpdates",
            },
        ],
    }
    socket = (project / "backend/open_webui/socket/main.py").read_text()
    assert '@sio.on("feature:subscribe")' in socket
    assert "async def notify_feature_update(" in socket
    assert (project / "src/lib/components/realtime/FeatureUpdates.svelte").is_file()
    # What `new` generated is exactly what `generate` would: the project is in sync.
    assert run(project, "check", capsys=capsys)[0] == 0
    assert run(project, "generate", capsys=capsys)[1].splitlines()[-1].startswith("eventgen: nothing to do")


def test_new_with_a_user_room_needs_no_access(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        project,
        "new",
        "notes",
        "--room",
        "user:{user_id}",
        "--emit",
        "notes:changed",
        "--field",
        "count:int",
        "--no-generate",
        capsys=capsys,
    )
    assert (code, out, err) == (0, "events/notes.yaml: created\n", "")
    assert run(project, "validate", capsys=capsys)[0] == 0


def test_new_broadcast(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(project, "new", "status", "--emit", "status:changed", "--broadcast", "--field", "up:bool", capsys=capsys)[0]
        == 0
    )
    spec = yaml.safe_load((project / "events/status.yaml").read_text())
    assert spec["events"] == [
        {"name": "status:changed", "direction": "server_to_client", "broadcast": True, "payload": {"up": "bool"}}
    ]
    assert "async def emit_status_changed(" in (project / "backend/open_webui/socket/main.py").read_text()


def test_new_no_generate_writes_only_the_spec(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(project)
    code, out, err = run(
        project,
        "new",
        "feature",
        "--room",
        "feature:{id}",
        "--access",
        "authenticated",
        "--join",
        "feature:join",
        "--no-generate",
        capsys=capsys,
    )
    assert (code, out, err) == (0, "events/feature.yaml: created\n", "")
    after = snapshot(project)
    assert set(after) - set(before) == {"events", "events/feature.yaml"}
    assert {k: v for k, v in after.items() if k in before} == before


def test_the_spec_carries_the_modeline_when_init_wrote_the_schema(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "init", capsys=capsys)[0] == 0
    assert (
        run(project, "new", "status", "--emit", "status:changed", "--broadcast", "--no-generate", capsys=capsys)[0] == 0
    )
    assert (project / "events/status.yaml").read_text().splitlines()[
        0
    ] == "# yaml-language-server: $schema=event-spec.schema.json"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ["--room", "feature:{feature_id}", "--join", "feature:join"],
            [
                "eventgen new: events/feature.yaml not written: the flags describe an invalid spec",
                "events/feature.yaml: rooms.feature: room 'feature:{feature_id}' needs 'access' (authenticated, self or pkg.module:func), or 'owner: app' when the app puts sockets in it; only user:{...} rooms default to self",
            ],
        ),
        (["--join", "feature:join"], ["eventgen new: --join needs the room it acts on: add --room PATTERN"]),
        (
            ["--emit", "connect"],
            [
                "eventgen new: events/feature.yaml not written: the flags describe an invalid spec",
                "events/feature.yaml: events[0].name: 'connect' is reserved by Socket.IO; choose another event name",
            ],
        ),
        (
            ["--emit", "feature:updated", "--broadcast", "--field", "class:str", "--listener", "updates"],
            [
                "eventgen new: events/feature.yaml not written: the flags describe an invalid spec",
                "events/feature.yaml: events[0].listener: 'updates' is not a component name: PascalCase, letters and digits, starting with an uppercase letter",
                "events/feature.yaml: events[0].payload.class: payload field 'class' is a Python keyword; choose another name",
            ],
        ),
        (
            [
                "--room",
                "feature:{id}",
                "--access",
                "authenticated",
                "--emit",
                "feature:updated",
                "--listener",
                "FeatureUpdates",
            ],
            [
                "eventgen new: events/feature.yaml not written: the flags describe an invalid spec",
                "events/feature.yaml: listener 'FeatureUpdates' needs a join event for room 'feature' in this spec, to subscribe with",
            ],
        ),
        (
            ["--emit", "feature:updated", "--broadcast", "--field", "n:integer"],
            [
                "eventgen new: events/feature.yaml not written: the flags describe an invalid spec",
                (
                    "events/feature.yaml: events[0].payload.n.type: invalid type 'integer': unknown type 'integer' "
                    "(use str, int, float, bool, dict, list, any, list[T], dict[str, T], T | None)"
                ),
            ],
        ),
        (
            ["--field", "n:int"],
            [
                "eventgen new: --field describes the events that carry data: add --emit, --relay or --handle (or write EVENT=NAME:TYPE)",
                "eventgen new: nothing to write: give at least one of --join, --leave, --relay, --handle or --emit",
            ],
        ),
        (
            ["--emit", "feature:updated", "--broadcast", "--field", "n"],
            ["--field 'n': write NAME:TYPE, e.g. --field title:str or --field tags:list[str]"],
        ),
        (
            ["--emit", "feature:updated", "--access", "self"],
            ["eventgen new: --access describes the room: add --room PATTERN"],
        ),
        (
            ["--room", "feature:{id}", "--access", "self", "--emit", "feature:updated", "--broadcast"],
            ["eventgen new: --broadcast sends to everyone: leave out --room, or --broadcast"],
        ),
    ],
    ids=[
        "room-without-access",
        "join-without-room",
        "reserved-name",
        "bad-names",
        "listener-without-join",
        "bad-type",
        "field-without-emit",
        "field-format",
        "access-without-room",
        "room-and-broadcast",
    ],
)
def test_a_bad_flag_combination_exits_2_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], flags: list[str], expected: list[str]
) -> None:
    before = snapshot(project)
    code, out, err = run(project, "new", "feature", *flags, capsys=capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == expected
    assert snapshot(project) == before


@pytest.mark.parametrize("name", ["Feature", "../escape", "feature.yaml", "1st", ""])
def test_new_refuses_a_bad_spec_name(project: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    before = snapshot(project)
    code, _out, err = run(project, "new", name, "--emit", "x:y", "--broadcast", capsys=capsys)
    assert code == 2
    assert (
        err
        == f"eventgen new: spec name {name!r} must be snake_case: a lowercase letter, then lowercase letters, digits or '_' (63 characters at most)\n"
    )
    assert snapshot(project) == before


@pytest.mark.parametrize("existing", ["events/feature.yaml", "events/feature.yml"])
def test_new_never_overwrites_a_spec(project: Path, capsys: pytest.CaptureFixture[str], existing: str) -> None:
    write(project, {existing: "# mine\n"})
    before = snapshot(project)
    code, _out, err = run(project, "new", "feature", "--emit", "feature:updated", "--broadcast", capsys=capsys)
    assert code == 2
    assert err == f"{existing}: already exists; `eventgen new` never overwrites a spec: edit it, or remove it first\n"
    assert snapshot(project) == before


def test_new_checks_the_spec_against_the_other_specs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, {"events/ping.yaml": VALID_SPEC})
    before = snapshot(project)
    code, _out, err = run(project, "new", "pong", "--emit", "ping:sent", "--broadcast", capsys=capsys)
    assert code == 2
    assert err.splitlines() == [
        "eventgen new: events/pong.yaml not written: the flags describe an invalid spec",
        "events/pong.yaml: event name 'ping:sent' is already used at events/ping.yaml:3",
    ]
    assert snapshot(project) == before


def test_a_failed_generation_takes_the_spec_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"eventgen.toml": 'socket_module = "backend/app/socket.py"\n'})
    before = snapshot(tmp_path)
    code, out, err = run(tmp_path, "new", "status", "--emit", "status:changed", "--broadcast", capsys=capsys)
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert (
        lines[0]
        == "eventgen new: events/status.yaml not written: generation failed (--no-generate writes the spec alone)"
    )
    assert lines[1].startswith("backend/app/socket.py: file not found")
    assert len(lines) == 2
    # The spec is taken back, and the events/ folder `new` made for it.
    assert snapshot(tmp_path) == before


def test_a_conflict_during_generation_exits_1_and_takes_the_spec_back(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, {"events/ping.yaml": VALID_SPEC})
    assert run(project, "generate", capsys=capsys)[0] == 0
    models = project / "backend/open_webui/socket/event_models.py"
    models.write_text(models.read_text().replace("class PingSent", "class PingSentEdited"))
    before = snapshot(project)
    code, out, err = run(project, "new", "status", "--emit", "status:changed", "--broadcast", capsys=capsys)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == "events/status.yaml: created"
    assert "events/status.yaml: removed again: generation refused, nothing was written" in lines
    assert any("conflict (edited by hand)" in line for line in lines)
    assert snapshot(project) == before


def test_new_and_init_help_name_their_flags(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli("new", "--help")
    text = run.stdout
    assert run.exit == 0
    for flag in (
        "--room PATTERN",
        "--access RULE",
        "--join EVENT",
        "--leave EVENT",
        "--emit EVENT",
        "--field NAME:TYPE",
        "--helper NAME",
        "--listener COMPONENT",
        "--no-generate",
    ):
        assert flag in text
    assert run_cli("init", "--help").exit == 0


def test_init_runs_inside_the_project_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("init").exit == 0
    assert (tmp_path / "eventgen.toml").is_file()
    assert sorted(os.listdir(tmp_path / "events")) == ["event-spec.schema.json", "examples"]
