"""A small Open WebUI-shaped project for the review/CI tests (issue 6), and helpers to run the CLI.

The project is written here rather than copied from examples/ so the tests can
assert exact catalogs and diffs while the example app keeps evolving.
"""

from __future__ import annotations

import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.cli import main

FEATURE_SPEC = """\
name: feature
description: Live updates for features.

rooms:
  feature:
    pattern: "feature:{feature_id}"
    access: open_webui.socket.access:can_read_feature

events:
  - name: feature:subscribe
    description: Subscribe to a feature's live updates.
    direction: client_to_server
    action: join
    room: feature
    payload:
      feature_id: {type: str, min_length: 1, max_length: 128}

  - name: feature:unsubscribe
    direction: client_to_server
    action: leave
    room: feature
    payload:
      feature_id: str

  - name: feature:updated
    direction: server_to_client
    room: feature
    payload:
      feature_id: str
      data: dict
    emit:
      helper: notify_feature_update
      from:
        - file: backend/open_webui/routers/features.py
          function: update_feature
          after: Features.update_feature
          args: {feature_id: feature_id, data: feature.model_dump()}
    listener: FeatureUpdates
"""

CHAT_SPEC = """\
name: chat
rooms:
  chat:
    pattern: "chat:{chat_id}"
    access: authenticated
events:
  - name: chat:join
    direction: client_to_server
    action: join
    room: chat
    payload:
      chat_id: str
  - name: chat:typing
    direction: client_to_server
    action: relay
    room: chat
    payload:
      chat_id: str
      typing: bool
    listener: ChatTyping
  - name: chat:ask
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:answer
    payload:
      question: {type: str, max_length: 2000, description: What the user asks.}
      tone: {type: str, enum: [plain, formal], default: plain}
  - name: chat:announce
    direction: server_to_client
    broadcast: true
    payload:
      text: str
      level: {type: int, ge: 0, le: 5, required: false}
"""

SOCKET_MAIN = '''\
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
'''

ROUTER_FEATURES = '''\
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
'''

ROUTER_CHATS = '''\
from open_webui.socket.main import sio


async def send_chat_event(chat_id: str, event: dict) -> None:
    await sio.emit("chat-events", {"chat_id": chat_id, **event}, room=f"chat:{chat_id}")
    name = "dynamic"
    await sio.emit(name, {})  # not a literal: the catalog cannot know this event
'''

MODELS_FEATURES = '''\
class _Features:
    def update_feature(self, feature_id, form_data):
        return {"id": feature_id, **form_data}


Features = _Features()
'''

ACCESS = '''\
def can_read_feature(user, feature_id):
    return True
'''

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


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """Run the real CLI entry point in-process (same code path as the console script)."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_project(root: Path, *, specs: dict[str, str] | None = None, frontend: bool = True) -> Path:
    """An Open WebUI-shaped project: backend with hand-written socket code, routers, a Svelte `src/`."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "backend/open_webui/__init__.py": "",
        "backend/open_webui/env.py": 'WEBSOCKET_MANAGER = ""\n',
        "backend/open_webui/socket/main.py": SOCKET_MAIN,
        "backend/open_webui/socket/access.py": ACCESS,
        "backend/open_webui/models/__init__.py": "",
        "backend/open_webui/models/features.py": MODELS_FEATURES,
        "backend/open_webui/routers/__init__.py": "",
        "backend/open_webui/routers/features.py": ROUTER_FEATURES,
        "backend/open_webui/routers/chats.py": ROUTER_CHATS,
    }
    if frontend:
        files.update(
            {
                "src/lib/components/chat/Chat.svelte": CHAT_SVELTE,
                "src/routes/+layout.svelte": LAYOUT_SVELTE,
                "src/lib/apis/notes.ts": API_TS,
                "node_modules/socket.io-client/build/index.js": "socket.on('vendored:event', f);\n",
                "src/node_modules/x/index.js": "socket.on('vendored:too', f);\n",
            }
        )
    for rel, text in files.items():
        write(root, rel, text)
    for name, text in (specs if specs is not None else {"feature": FEATURE_SPEC}).items():
        write(root, f"events/{name}.yaml", text)
    return root


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "core.autocrlf=false", *args],
        cwd=cwd,
        check=check,
        capture_output=True,
        text=True,
    )


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
