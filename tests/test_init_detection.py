"""`eventgen init` detects what the first `generate` needs (issue 18): the session pool's name,
the Svelte major from existing components when package.json does not tell, and Svelte 3."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
from review_support import run_cli, write

from generator.config import load_config

SOCKET_HEAD = """\
import socketio

sio = socketio.AsyncServer(async_mode="asgi")
app = socketio.ASGIApp(sio)
"""

RENAMED_POOL = SOCKET_HEAD + """
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

PRE_04_POOL = SOCKET_HEAD + """
SESSION_POOL = {}


@sio.on("user-join")
async def user_join(sid, data):
    user = data["auth"]
    if user:
        SESSION_POOL[sid] = user["id"]
"""

REGISTERED_BY_CALL = SOCKET_HEAD + """
sessions: dict = {}


async def on_connect(sid, environ):
    sessions[sid] = {"id": "u"}


sio.on("connect", on_connect)
"""

NO_POOL = SOCKET_HEAD + """

@sio.event
async def connect(sid, environ):
    local = {}
    local[sid] = 1
"""

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
    run = run_cli(capsys, "-C", str(root), "init")
    assert run.code == 0, run.err
    return run, _active((root / "eventgen.toml").read_text())


# -- the session pool ------------------------------------------------------------------------


def test_a_renamed_session_pool_is_found_and_the_first_generate_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "backend/app/socket.py", RENAMED_POOL)
    run, keys = _init(tmp_path, capsys)
    assert keys["session_pool"] == "connected_users"
    assert "found the session pool `connected_users` (backend/app/socket.py:14, in connect)" in run.out.splitlines()
    assert '# Sessions: `connected_users[sid]` is filled at backend/app/socket.py:14, in connect; generated handlers check it.' in (tmp_path / "eventgen.toml").read_text()
    assert load_config(tmp_path).session_pool == "connected_users"
    new = run_cli(capsys, "-C", str(tmp_path), "new", "board", "--room", "board:{board_id}", "--access", "authenticated", "--join", "board:join", "--emit", "board:changed")
    assert new.code == 0, new.err + new.out
    module = (tmp_path / "backend/app/socket.py").read_text()
    ast.parse(module)
    region = module[module.index("# eventgen:begin board "):]
    assert "connected_users" in region and "SESSION_POOL" not in region
    assert run_cli(capsys, "-C", str(tmp_path), "check").code == 0


def test_the_default_name_is_kept_out_of_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "backend/app/socket.py", RENAMED_POOL.replace("connected_users", "SESSION_POOL"))
    run, keys = _init(tmp_path, capsys)
    assert "session_pool" not in keys
    assert '# session_pool = "SESSION_POOL"' in (tmp_path / "eventgen.toml").read_text().splitlines()
    assert "found the session pool `SESSION_POOL` (backend/app/socket.py:14, in connect)" in run.out


@pytest.mark.parametrize(
    ("source", "name", "where"),
    [(PRE_04_POOL, "SESSION_POOL", "app/socket.py:13, in user-join"), (REGISTERED_BY_CALL, "sessions", "app/socket.py:10, in connect")],
    ids=["open-webui-before-0.4", "sio.on-call"],
)
def test_the_pool_is_found_in_other_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, name: str, where: str) -> None:
    write(tmp_path, "app/socket.py", source)
    run, keys = _init(tmp_path, capsys)
    assert keys.get("session_pool", "SESSION_POOL") == name
    assert f"found the session pool `{name}` ({where})" in run.out


def test_no_pool_at_all_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "app/socket.py", NO_POOL)
    run, keys = _init(tmp_path, capsys)
    assert "session_pool" not in keys
    assert (
        "eventgen init: warning: no handler in app/socket.py stores a session by sid (NAME[sid] = ...) and it defines no SESSION_POOL; "
        "set session_pool in eventgen.toml to the mapping generated handlers must check"
    ) in run.err.splitlines()


# -- the Svelte major --------------------------------------------------------------------------


def _frontend(root: Path, components: dict[str, str], package: dict | None = None) -> None:
    write(root, "app/socket.py", RENAMED_POOL)
    for rel, text in components.items():
        write(root, f"src/lib/components/{rel}", text)
    if package is not None:
        write(root, "package.json", json.dumps(package))


def test_svelte_4_components_without_package_json_pin_svelte_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _frontend(tmp_path, {"Title.svelte": LEGACY_COMPONENT, "chat/Static.svelte": PLAIN_COMPONENT, "chat/Other.svelte": LEGACY_COMPONENT})
    run, keys = _init(tmp_path, capsys)
    assert keys["svelte"] == "4"
    assert "found Svelte 4 syntax in the existing components (2 of 3 components use Svelte 4 syntax (export let, $:, on:, <slot>) and none uses runes)" in run.out
    new = run_cli(capsys, "-C", str(tmp_path), "new", "board", "--room", "board:{board_id}", "--access", "authenticated", "--join", "board:join", "--emit", "board:changed", "--listener", "BoardUpdates")
    assert new.code == 0, new.err + new.out
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
def test_components_tell_the_major(tmp_path: Path, capsys: pytest.CaptureFixture[str], components: dict[str, str], expected: str | None) -> None:
    _frontend(tmp_path, components)
    _run, keys = _init(tmp_path, capsys)
    assert keys.get("svelte") == expected


def test_package_json_wins_over_the_components(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Open WebUI writes Svelte 4 syntax on Svelte 5: package.json says 5, and "auto" follows it."""
    _frontend(tmp_path, {"A.svelte": LEGACY_COMPONENT}, {"devDependencies": {"svelte": "^5.0.0", "@sveltejs/kit": "^2.0.0"}})
    run, keys = _init(tmp_path, capsys)
    assert "svelte" not in keys
    assert "found Svelte 5 (package.json: svelte ^5.0.0)" in run.out


def test_svelte_3_is_named_and_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _frontend(tmp_path, {"A.svelte": LEGACY_COMPONENT}, {"devDependencies": {"svelte": "^3.54.0"}})
    run, keys = _init(tmp_path, capsys)
    assert "svelte" not in keys  # "auto" gives the Svelte 4 syntax for ^3.54
    assert "found Svelte 3 (package.json: svelte ^3.54.0)" in run.out
    assert run.err.splitlines()[-1] == (
        'eventgen init: warning: Svelte 3 found (package.json asks for svelte "^3.54.0"): listeners are generated in Svelte 4 syntax, '
        "which is tested on Svelte 4 and 5 only; upgrade to Svelte 4 or 5, or check that the generated components compile"
    )
    text = (tmp_path / "eventgen.toml").read_text()
    assert '# Svelte 3: package.json asks for svelte "^3.54.0"; "auto" follows it (Svelte 4 syntax).' in text


def test_an_installed_svelte_3_is_warned_about_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _frontend(tmp_path, {"A.svelte": LEGACY_COMPONENT}, {"devDependencies": {"svelte": "latest"}})
    write(tmp_path, "node_modules/svelte/package.json", '{"version": "3.59.2"}')
    run, keys = _init(tmp_path, capsys)
    assert "Svelte 3 found (Svelte 3 is installed)" in run.err
    assert keys["svelte"] == "4"  # from the components


def test_a_plain_vite_app_gets_relative_store_imports_from_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A svelte.config.js without `kit` (Vite's template) is not SvelteKit; one with `kit` is."""
    _frontend(tmp_path, {}, {"devDependencies": {"svelte": "^5.0.0", "vite": "^6.0.0"}})
    write(tmp_path, "src/lib/stores/index.ts", "import { writable } from 'svelte/store';\nexport const socket = writable(null);\n")
    write(tmp_path, "svelte.config.js", "import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'\nexport default { preprocess: vitePreprocess() }\n")
    _run, keys = _init(tmp_path, capsys)
    assert keys["store_import"] == "../../stores/index"
    (tmp_path / "eventgen.toml").unlink()
    write(tmp_path, "svelte.config.js", textwrap.dedent("""\
        import adapter from '@sveltejs/adapter-static';
        export default { kit: { adapter: adapter() } };
    """))
    _run, keys = _init(tmp_path, capsys)
    assert "store_import" not in keys  # $lib/stores, the default
