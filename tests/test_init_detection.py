"""`eventgen init` detects what the first `generate` needs (issue 18): the session pool's name,
the Svelte major from existing components when package.json does not tell, and Svelte 3."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
from support.cli import run_cli
from support.tree import write

from generator.config import load_config

SOCKET_HEAD = """\
import socketio

sio = socketio.AsyncServer(async_mode="asgi")
app = socketio.ASGIApp(sio)
"""

RENAMED_POOL = (
    SOCKET_HEAD
    + """
connected_users = {}
USER_SOCKETS = {}


@sio.event
async def connect(sid, environ, auth):
    user = {"id": (auth or {}).get("token", "anonymous"), "name": "U"}
    USER_SOCKETS[user["id"]] = [sid]  # keyed by user id: not the session pool
    connected_users[sid] = user


@sio.event
async def disconnect(sid):
    connected_users.pop(sid, None)
"""
)

PRE_04_POOL = (
    SOCKET_HEAD
    + """
SESSION_POOL = {}


@sio.on("user-join")
async def user_join(sid, data):
    user = data["auth"]
    if user:
        SESSION_POOL[sid] = user["id"]
"""
)

REGISTERED_BY_CALL = (
    SOCKET_HEAD
    + """
sessions: dict = {}


async def on_connect(sid, environ):
    sessions[sid] = {"id": "u"}


sio.on("connect", on_connect)
"""
)

NO_POOL = (
    SOCKET_HEAD
    + """

@sio.event
async def connect(sid, environ):
    local = {}
    local[sid] = 1
"""
)

LEGACY_COMPONENT = """\
<script lang="ts">
	import { createEventDispatcher } from 'svelte';
	export let title: string;
	$: upper = title.toUpperCase();
	const dispatch = createEventDispatcher();
</script>

<button on:click={() => dispatch('go')}>{upper}</button>
"""

RUNES_COMPONENT = """\
<script lang="ts">
	let { title }: { title: string } = $props();
	let count = $state(0);
</script>

<button onclick={() => count++}>{title} {count}</button>
"""

PLAIN_COMPONENT = "<p>static</p>\n"


def _active(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(\w+) = "(.*)"$', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _init(root: Path, capsys: pytest.CaptureFixture[str]):
    run = run_cli("-C", str(root), "init")
    assert run.exit == 0, run.stderr
    return run, _active((root / "eventgen.toml").read_text())


# -- the session pool ------------------------------------------------------------------------


def test_a_renamed_session_pool_is_found_and_the_first_generate_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "backend/app/socket.py", RENAMED_POOL)
    run, keys = _init(tmp_path, capsys)
    assert keys["session_pool"] == "connected_users"
    assert "found the session pool `connected_users` (backend/app/socket.py:14, in connect)" in run.stdout.splitlines()
    assert (
        "# Sessions: `connected_users[sid]` is filled at backend/app/socket.py:14, in connect; generated handlers check it."
        in (tmp_path / "eventgen.toml").read_text()
    )
    assert load_config(tmp_path).session_pool == "connected_users"
    new = run_cli(
        "-C",
        str(tmp_path),
        "new",
        "board",
        "--room",
        "board:{board_id}",
        "--access",
        "authenticated",
        "--join",
        "board:join",
        "--emit",
        "board:changed",
    )
    assert new.exit == 0, new.stderr + new.stdout
    module = (tmp_path / "backend/app/socket.py").read_text()
    ast.parse(module)
    region = module[module.index("# eventgen:begin board ") :]
    assert "connected_users" in region and "SESSION_POOL" not in region
    assert run_cli("-C", str(tmp_path), "check").exit == 0


def test_the_default_name_is_kept_out_of_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "backend/app/socket.py", RENAMED_POOL.replace("connected_users", "SESSION_POOL"))
    run, keys = _init(tmp_path, capsys)
    assert "session_pool" not in keys
    assert '# session_pool = "SESSION_POOL"' in (tmp_path / "eventgen.toml").read_text().splitlines()
    assert "found the session pool `SESSION_POOL` (backend/app/socket.py:14, in connect)" in run.stdout


@pytest.mark.parametrize(
    ("source", "name", "where"),
    [
        (PRE_04_POOL, "SESSION_POOL", "app/socket.py:13, in user-join"),
        (REGISTERED_BY_CALL, "sessions", "app/socket.py:10, in connect"),
    ],
    ids=["open-webui-before-0.4", "sio.on-call"],
)
def test_the_pool_is_found_in_other_shapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, name: str, where: str
) -> None:
    write(tmp_path, "app/socket.py", source)
    run, keys = _init(tmp_path, capsys)
    assert keys.get("session_pool", "SESSION_POOL") == name
    assert f"found the session pool `{name}` ({where})" in run.stdout


def test_no_pool_at_all_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "app/socket.py", NO_POOL)
    run, keys = _init(tmp_path, capsys)
    assert "session_pool" not in keys
    assert (
        "eventgen init: warning: no handler in app/socket.py stores a session by sid (NAME[sid] = ...) and it defines no SESSION_POOL; "
        "set session_pool in eventgen.toml to the mapping generated handlers must check"
    ) in run.stderr.splitlines()


# -- what the session pool holds --------------------------------------------------------------

# Open WebUI before 0.4 (eras A-C): sio in an if/else on WEBSOCKET_MANAGER, the id stored on join.
ERA_A_IDS = """\
import socketio

from open_webui.env import WEBSOCKET_MANAGER

if WEBSOCKET_MANAGER == "redis":
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=socketio.AsyncRedisManager("redis://"))
else:
    sio = socketio.AsyncServer(async_mode="asgi")

SESSION_POOL = {}
USER_POOL = {}


@sio.on("user-join")
async def user_join(sid, data):
    auth = data["auth"] if "auth" in data else None
    user = Users.get_user_by_id(decode_token(auth["token"])["id"])
    if user:
        SESSION_POOL[sid] = user.id
        USER_POOL.setdefault(user.id, []).append(sid)
"""

DICT_SESSIONS = {
    "model_dump": "SESSION_POOL[sid] = user.model_dump()",
    "dict-literal": 'SESSION_POOL[sid] = {"id": user.id, "name": user.name}',
    "merged": 'SESSION_POOL[sid] = {**user.model_dump(exclude=["bio"]), "last_seen": 0}',
    "via-local": "session = user.model_dump()\n    SESSION_POOL[sid] = session",
}
ID_SESSIONS = {
    "attribute": "SESSION_POOL[sid] = user.id",
    "subscript": 'SESSION_POOL[sid] = data["id"]',
    "str-call": "SESSION_POOL[sid] = str(user.id)",
    "via-local": "user_id = user.id\n    SESSION_POOL[sid] = user_id",
}
UNDECIDABLE = {
    "unknown-call": ("SESSION_POOL[sid] = load_session(user)", "`load_session(user)` (line 13)"),
    "parameter": ("SESSION_POOL[sid] = environ", "`environ` (line 13)"),
    "mixed": (
        'SESSION_POOL[sid] = user.id if auth else {"id": "guest"}',
        "`user.id if auth else {'id': 'guest'}` (line 13)",
    ),
}


def _pool_module(store: str) -> str:
    return (
        SOCKET_HEAD
        + f"""
SESSION_POOL = {{}}


@sio.event
async def connect(sid, environ, auth):
    user = Users.get_user_by_id(auth["id"])
    data = auth
    {store}
"""
    )


def test_an_era_a_module_storing_ids_gets_session_value_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "backend/open_webui/socket/main.py", ERA_A_IDS)
    run, keys = _init(tmp_path, capsys)
    assert keys["session_value"] == "id"
    assert load_config(tmp_path).session_value == "id"
    assert (
        'found the user\'s id in SESSION_POOL[sid]: `user.id` (line 19); session_value = "id"'
        in run.stdout.splitlines()
    )
    assert (
        "# It maps a sid to the user's id: `user.id` (line 19)."
        in (tmp_path / "eventgen.toml").read_text().splitlines()
    )
    assert "session_value" not in run.stderr


@pytest.mark.parametrize("store", list(ID_SESSIONS.values()), ids=list(ID_SESSIONS))
def test_id_stores_are_read_as_id_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str) -> None:
    write(tmp_path, "app/socket.py", _pool_module(store))
    _run, keys = _init(tmp_path, capsys)
    assert keys["session_value"] == "id"


@pytest.mark.parametrize("store", list(DICT_SESSIONS.values()), ids=list(DICT_SESSIONS))
def test_dict_stores_keep_the_default(tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str) -> None:
    write(tmp_path, "app/socket.py", _pool_module(store))
    run, keys = _init(tmp_path, capsys)
    text = (tmp_path / "eventgen.toml").read_text().splitlines()
    assert "session_value" not in keys and '# session_value = "dict"' in text
    assert any(line.startswith("# It maps a sid to a user dict: `") for line in text), text
    assert "session_value" not in run.stderr and load_config(tmp_path).session_value == "dict"


def test_the_bundled_example_is_read_as_dict_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        tmp_path,
        "backend/open_webui/socket/main.py",
        (Path(__file__).resolve().parents[1] / "examples/openwebui-mini/backend/open_webui/socket/main.py").read_text(),
    )
    _run, keys = _init(tmp_path, capsys)
    assert "session_value" not in keys
    assert (
        "# It maps a sid to a user dict: `user.model_dump()` (line 66)."
        in (tmp_path / "eventgen.toml").read_text().splitlines()
    )


@pytest.mark.parametrize(("store", "shown"), list(UNDECIDABLE.values()), ids=list(UNDECIDABLE))
def test_an_undecidable_store_keeps_the_default_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str, shown: str
) -> None:
    write(tmp_path, "app/socket.py", _pool_module(store))
    run, keys = _init(tmp_path, capsys)
    assert "session_value" not in keys and load_config(tmp_path).session_value == "dict"
    assert (
        f"eventgen init: warning: app/socket.py: cannot tell whether SESSION_POOL[sid] = {shown} stores a user dict or the user's id; "
        'keeping session_value = "dict" (set session_value = "id" in eventgen.toml if it maps a sid to the user\'s id)'
    ) in run.stderr.splitlines()
    assert (
        "# The code does not tell whether it maps a sid to a user dict or to the user's id: set session_value."
        in (tmp_path / "eventgen.toml").read_text()
    )


def test_stores_that_disagree_keep_the_default_and_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Era C stored the id in connect and again in user-join; a dict in one of them is a contradiction."""
    source = (
        _pool_module("SESSION_POOL[sid] = user.id")
        + """

@sio.on("user-join")
async def user_join(sid, data):
    SESSION_POOL[sid] = data["user"].model_dump()
"""
    )
    write(tmp_path, "app/socket.py", source)
    run, keys = _init(tmp_path, capsys)
    assert "session_value" not in keys
    assert (
        "app/socket.py: SESSION_POOL[sid] stores both user dicts and ids: `user.id` (line 13), `data['user'].model_dump()` (line 18)"
        in run.stderr
    )


# -- the Svelte major --------------------------------------------------------------------------


def _frontend(root: Path, components: dict[str, str], package: dict | None = None) -> None:
    write(root, "app/socket.py", RENAMED_POOL)
    for rel, text in components.items():
        write(root, f"src/lib/components/{rel}", text)
    if package is not None:
        write(root, "package.json", json.dumps(package))


def test_svelte_4_components_without_package_json_pin_svelte_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _frontend(
        tmp_path,
        {
            "Title.svelte": LEGACY_COMPONENT,
            "chat/Static.svelte": PLAIN_COMPONENT,
            "chat/Other.svelte": LEGACY_COMPONENT,
        },
    )
    run, keys = _init(tmp_path, capsys)
    assert keys["svelte"] == "4"
    assert (
        "found Svelte 4 syntax in the existing components (2 of 3 components use Svelte 4 syntax (export let, $:, on:, <slot>) and none uses runes)"
        in run.stdout
    )
    new = run_cli(
        "-C",
        str(tmp_path),
        "new",
        "board",
        "--room",
        "board:{board_id}",
        "--access",
        "authenticated",
        "--join",
        "board:join",
        "--emit",
        "board:changed",
        "--listener",
        "BoardUpdates",
    )
    assert new.exit == 0, new.stderr + new.stdout
    listener = (tmp_path / "src/lib/components/realtime/BoardUpdates.svelte").read_text()
    assert re.search(r"^\texport let boardId", listener, re.MULTILINE) and "$props()" not in listener
    # Its own listener does not count as the app's syntax afterwards: a second init reads the same.
    (tmp_path / "eventgen.toml").unlink()
    assert _init(tmp_path, capsys)[1]["svelte"] == "4"


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ({"A.svelte": RUNES_COMPONENT, "B.svelte": RUNES_COMPONENT}, "5"),
        ({"A.svelte": RUNES_COMPONENT, "B.svelte": LEGACY_COMPONENT}, "5"),  # runes compile on Svelte 5 only
        ({"A.svelte": PLAIN_COMPONENT}, None),  # nothing tells: "auto" (Svelte 5)
        ({}, None),
    ],
    ids=["runes", "mixed", "no-telling-syntax", "no-components"],
)
def test_components_tell_the_major(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], components: dict[str, str], expected: str | None
) -> None:
    _frontend(tmp_path, components)
    _run, keys = _init(tmp_path, capsys)
    assert keys.get("svelte") == expected


def test_package_json_wins_over_the_components(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Open WebUI writes Svelte 4 syntax on Svelte 5: package.json says 5, and "auto" follows it."""
    _frontend(
        tmp_path, {"A.svelte": LEGACY_COMPONENT}, {"devDependencies": {"svelte": "^5.0.0", "@sveltejs/kit": "^2.0.0"}}
    )
    run, keys = _init(tmp_path, capsys)
    assert "svelte" not in keys
    assert "found Svelte 5 (package.json: svelte ^5.0.0)" in run.stdout


def test_svelte_3_is_named_and_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _frontend(tmp_path, {"A.svelte": LEGACY_COMPONENT}, {"devDependencies": {"svelte": "^3.54.0"}})
    run, keys = _init(tmp_path, capsys)
    assert "svelte" not in keys  # "auto" gives the Svelte 4 syntax for ^3.54
    assert "found Svelte 3 (package.json: svelte ^3.54.0)" in run.stdout
    assert run.stderr.splitlines()[-1] == (
        'eventgen init: warning: Svelte 3 found (package.json asks for svelte "^3.54.0"): listeners are generated in Svelte 4 syntax, '
        "which is tested on Svelte 4 and 5 only; upgrade to Svelte 4 or 5, or check that the generated components compile"
    )
    text = (tmp_path / "eventgen.toml").read_text()
    assert '# Svelte 3: package.json asks for svelte "^3.54.0"; "auto" follows it (Svelte 4 syntax).' in text


def test_an_installed_svelte_3_is_warned_about_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _frontend(tmp_path, {"A.svelte": LEGACY_COMPONENT}, {"devDependencies": {"svelte": "latest"}})
    write(tmp_path, "node_modules/svelte/package.json", '{"version": "3.59.2"}')
    run, keys = _init(tmp_path, capsys)
    assert "Svelte 3 found (Svelte 3 is installed)" in run.stderr
    assert keys["svelte"] == "4"  # from the components


def test_a_plain_vite_app_gets_relative_store_imports_from_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A svelte.config.js without `kit` (Vite's template) is not SvelteKit; one with `kit` is."""
    _frontend(tmp_path, {}, {"devDependencies": {"svelte": "^5.0.0", "vite": "^6.0.0"}})
    write(
        tmp_path,
        "src/lib/stores/index.ts",
        "import { writable } from 'svelte/store';\nexport const socket = writable(null);\n",
    )
    write(
        tmp_path,
        "svelte.config.js",
        "import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'\nexport default { preprocess: vitePreprocess() }\n",
    )
    _run, keys = _init(tmp_path, capsys)
    assert keys["store_import"] == "../../stores/index"
    (tmp_path / "eventgen.toml").unlink()
    write(
        tmp_path,
        "svelte.config.js",
        textwrap.dedent("""\
        import adapter from '@sveltejs/adapter-static';
        export default { kit: { adapter: adapter() } };
    """),
    )
    _run, keys = _init(tmp_path, capsys)
    assert "store_import" not in keys  # $lib/stores, the default
