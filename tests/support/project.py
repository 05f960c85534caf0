"""The project factory: small Open WebUI-shaped projects written from text (not copied from examples/),
so tests know exactly which files there are and what one `generate` touches.

Two file sets, both with no generated code yet:

- `OPEN_WEBUI_APP` (the default): a socket module with hand-written events of every shape the
  catalogue finds (legacy names, `sio.on(...)` calls, emits), two routers, and a Svelte `src/`
  with listeners (plus vendored node_modules the scan must skip). For the CLI, catalogue,
  check/diff output and review tests.
- `TOKEN_APP`: connect authenticates by token (SESSION_POOL only for authenticated sockets), a
  typed Features model, a router with one call site, the ping handler spec whose stub goes in a
  folder that does not exist yet, and a package.json + stores for the frontend. For the fault,
  concurrency, fuzz and hostile-text tests.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.specs import FEATURE_SPEC, PING_SPEC
from support.tree import write_tree

SOCKET_MODULE = "backend/open_webui/socket/main.py"
MODELS_MODULE = "backend/open_webui/socket/event_models.py"
ROUTER = "backend/open_webui/routers/features.py"
STUB = "backend/open_webui/handlers/ping.py"

# -- OPEN_WEBUI_APP ---------------------------------------------------------------------------


SOCKET_MAIN = """\
import logging

import socketio

from open_webui.env import WEBSOCKET_MANAGER

log = logging.getLogger(__name__)

if WEBSOCKET_MANAGER == "redis":
    mgr = socketio.AsyncRedisManager("redis://localhost")
    sio = socketio.AsyncServer(async_mode="asgi", always_connect=True, client_manager=mgr)
else:
    sio = socketio.AsyncServer(async_mode="asgi", always_connect=True)

app = socketio.ASGIApp(sio, socketio_path="/ws/socket.io")

SESSION_POOL = {}


@sio.event
async def connect(sid, environ, auth):
    SESSION_POOL[sid] = {"id": "u1", "name": "U"}


@sio.event
async def disconnect(sid):
    SESSION_POOL.pop(sid, None)


@sio.on("user-list")  # legacy dashed name
async def user_list(sid, data=None):
    return {"ok": True}


@sio.on('usage:ping')
async def usage_ping(sid, data=None):
    await sio.emit("usage", {"sid": sid}, room=sid)
    return {"ok": True}


@sio.event
async def heartbeat(sid, data=None):
    return {"ok": True}


async def legacy_handler(sid, data=None):
    return None


sio.on("legacy:call", legacy_handler)


async def notify_models():
    await sio.emit(event="models:changed", data={})
"""


ROUTER_FEATURES = """\
from fastapi import APIRouter

from open_webui.models.features import Features
from open_webui.socket.main import sio as socket_server

router = APIRouter()


@router.put("/{feature_id}")
async def update_feature(feature_id: str, form_data: dict, user=None):
    feature = Features.update_feature(feature_id, form_data)
    return feature


@router.delete("/{feature_id}")
async def delete_feature(feature_id: str, user=None):
    await socket_server.emit("feature:deleted", {"feature_id": feature_id})
    return True
"""


ROUTER_CHATS = """\
from open_webui.socket.main import sio


async def send_chat_event(chat_id: str, event: dict) -> None:
    await sio.emit("chat-events", {"chat_id": chat_id, **event}, room=f"chat:{chat_id}")
    name = "dynamic"
    await sio.emit(name, {})  # not a literal: the catalog cannot know this event
"""


MODELS_FEATURES = """\
class _Features:
    def update_feature(self, feature_id, form_data):
        return {"id": feature_id, **form_data}


Features = _Features()
"""


ACCESS = """\
def can_read_feature(user, feature_id):
    return True
"""


CHAT_SVELTE = """\
<script lang="ts">
	import { onDestroy } from 'svelte';
	import { socket } from '$lib/stores';

	const onChatEvent = (event: unknown) => console.log(event);
	$socket?.on('chat-events', onChatEvent);
	$socket?.on("usage", (data) => console.log(data));
	onDestroy(() => $socket?.off('chat-events', onChatEvent));
</script>
"""


LAYOUT_SVELTE = """\
<script lang="ts">
	import { io } from 'socket.io-client';
	const _socket = io('', { path: '/ws/socket.io' });
	_socket.on('connect', () => _socket.emit('user-list', {}, () => {}));
	_socket.on('disconnect', () => {});
	socket?.on("notes:changed", () => {});
</script>
"""


API_TS = """\
import type { Socket } from 'socket.io-client';

export const watchNotes = (socket: Socket) => {
	socket.on(`notes:archived`, () => {});
	socket.once('feature:updated', () => {});
};
"""


OPEN_WEBUI_APP: dict[str, str] = {
    "backend/open_webui/__init__.py": "",
    "backend/open_webui/env.py": 'WEBSOCKET_MANAGER = ""\n',
    SOCKET_MODULE: SOCKET_MAIN,
    "backend/open_webui/socket/access.py": ACCESS,
    "backend/open_webui/models/__init__.py": "",
    "backend/open_webui/models/features.py": MODELS_FEATURES,
    "backend/open_webui/routers/__init__.py": "",
    ROUTER: ROUTER_FEATURES,
    "backend/open_webui/routers/chats.py": ROUTER_CHATS,
    "src/lib/components/chat/Chat.svelte": CHAT_SVELTE,
    "src/routes/+layout.svelte": LAYOUT_SVELTE,
    "src/lib/apis/notes.ts": API_TS,
    "node_modules/socket.io-client/build/index.js": "socket.on('vendored:event', f);\n",
    "src/node_modules/x/index.js": "socket.on('vendored:too', f);\n",
    "events/feature.yaml": FEATURE_SPEC,
}

# -- TOKEN_APP ------------------------------------------------------------------------------


TOKEN_SOCKET_MAIN = """\
import socketio

from open_webui.env import WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL

if WEBSOCKET_MANAGER == "redis":
    mgr = socketio.AsyncRedisManager(WEBSOCKET_REDIS_URL)
    sio = socketio.AsyncServer(async_mode="asgi", always_connect=True, client_manager=mgr)
else:
    sio = socketio.AsyncServer(async_mode="asgi", always_connect=True)

app = socketio.ASGIApp(sio, socketio_path="/ws/socket.io")

# sid -> user dict; only authenticated sockets get one.
SESSION_POOL = {}


@sio.event
async def connect(sid, environ, auth):
    if isinstance(auth, dict) and auth.get("token"):
        SESSION_POOL[sid] = {"id": auth["token"], "name": auth["token"]}


@sio.event
async def disconnect(sid):
    SESSION_POOL.pop(sid, None)
"""


TOKEN_ROUTER = """\
from open_webui.models.features import Features

router = None


async def update_feature(feature_id: str, form_data: dict, user=None):
    feature = Features.update_feature(feature_id, form_data)
    return feature
"""


TOKEN_FEATURES_MODEL = """\
class _Feature:
    def __init__(self, feature_id: str, data: dict) -> None:
        self.feature_id = feature_id
        self.data = data

    def model_dump(self) -> dict:
        return {"id": self.feature_id, **self.data}


class Features:
    @staticmethod
    def update_feature(feature_id: str, data: dict) -> _Feature:
        return _Feature(feature_id, data)
"""


TOKEN_ACCESS = """\
def can_read_feature(user: dict, feature_id: str) -> bool:
    return bool(user.get("id"))
"""


TOKEN_ENV = """\
WEBSOCKET_MANAGER = ""
WEBSOCKET_REDIS_URL = "redis://localhost:6379/0"
"""


PACKAGE_JSON = """\
{
  "name": "reliability-app",
  "private": true,
  "type": "module",
  "devDependencies": {"svelte": "^5.0.0", "@sveltejs/kit": "^2.0.0"},
  "dependencies": {"socket.io-client": "^4.7.0"}
}
"""


STORES = """\
import { writable } from 'svelte/store';
import type { Socket } from 'socket.io-client';

export const socket = writable<null | Socket>(null);
"""


TOKEN_APP: dict[str, str] = {
    "backend/open_webui/__init__.py": "",
    "backend/open_webui/env.py": TOKEN_ENV,
    SOCKET_MODULE: TOKEN_SOCKET_MAIN,
    "backend/open_webui/socket/access.py": TOKEN_ACCESS,
    "backend/open_webui/routers/__init__.py": "",
    ROUTER: TOKEN_ROUTER,
    "backend/open_webui/models/__init__.py": "",
    "backend/open_webui/models/features.py": TOKEN_FEATURES_MODEL,
    "events/feature.yaml": FEATURE_SPEC,
    "events/ping.yaml": PING_SPEC,
    "package.json": PACKAGE_JSON,
    "src/lib/stores/index.ts": STORES,
}

_FRONTEND = ("src/", "node_modules/", "package.json")


def make_project(
    root: Path, *, files: dict[str, str] = OPEN_WEBUI_APP, specs: dict[str, str] | None = None, frontend: bool = True
) -> Path:
    """Write a project with no generated code yet: `files` (OPEN_WEBUI_APP or TOKEN_APP), with
    `specs` (name -> YAML) in place of its events/ when given, without its frontend when not
    `frontend` (with `specs={}` there is no events/ folder)."""
    tree = {rel: text for rel, text in files.items() if frontend or not rel.startswith(_FRONTEND)}
    if specs is not None:
        tree = {rel: text for rel, text in tree.items() if not rel.startswith("events/")}
        tree.update({f"events/{name}.yaml": text for name, text in specs.items()})
    root.mkdir(parents=True, exist_ok=True)
    write_tree(root, tree)
    return root


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "core.autocrlf=false", *args],
        cwd=cwd,
        check=check,
        capture_output=True,
        text=True,
    )


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1
