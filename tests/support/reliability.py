"""Helpers for the reliability tests (issue 8): a small Open WebUI-shaped project, CLI runners, tree snapshots.

The project is written here (not copied from examples/) so the fault tests know
exactly which files one `generate` touches: it modifies the socket module and a
router, and creates the payload models, a handler stub in a folder that does
not exist yet, and whatever frontend files the planner produces.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from generator.cli import main

REPO = Path(__file__).resolve().parent.parent
SOCKET_MODULE = "backend/open_webui/socket/main.py"
MODELS_MODULE = "backend/open_webui/socket/event_models.py"
ROUTER = "backend/open_webui/routers/features.py"
STUB = "backend/open_webui/handlers/ping.py"

# Names a write leaves only when it fails to clean up after itself.
LEFTOVER_MARKS = (".eventgen-tmp", ".eventgen-del", ".eventgen-bak")

SOCKET_MAIN = '''\
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
'''

ROUTER_SRC = '''\
from open_webui.models.features import Features

router = None


async def update_feature(feature_id: str, form_data: dict, user=None):
    feature = Features.update_feature(feature_id, form_data)
    return feature
'''

FEATURES_MODEL = '''\
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
'''

ACCESS = '''\
def can_read_feature(user: dict, feature_id: str) -> bool:
    return bool(user.get("id"))
'''

ENV = '''\
WEBSOCKET_MANAGER = ""
WEBSOCKET_REDIS_URL = "redis://localhost:6379/0"
'''

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
    description: A feature was changed.
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

PING_SPEC = """\
name: ping
description: A round trip through a user-written handler.

events:
  - name: ping
    direction: client_to_server
    action: handle
    handler: open_webui.handlers.ping:handle_ping
    payload:
      text: {type: str, max_length: 64}
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


def project_files() -> dict[str, str]:
    return {
        "backend/open_webui/__init__.py": "",
        "backend/open_webui/env.py": ENV,
        SOCKET_MODULE: SOCKET_MAIN,
        "backend/open_webui/socket/access.py": ACCESS,
        "backend/open_webui/routers/__init__.py": "",
        ROUTER: ROUTER_SRC,
        "backend/open_webui/models/__init__.py": "",
        "backend/open_webui/models/features.py": FEATURES_MODEL,
        "events/feature.yaml": FEATURE_SPEC,
        "events/ping.yaml": PING_SPEC,
        "package.json": PACKAGE_JSON,
        "src/lib/stores/index.ts": STORES,
    }


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


def make_project(root: Path, *, specs: dict[str, str] | None = None) -> Path:
    """A project with no generated code yet. `specs` replaces the two default specs."""
    files = project_files()
    if specs is not None:
        files = {k: v for k, v in files.items() if not k.startswith("events/")}
        files.update({f"events/{name}.yaml": text for name, text in specs.items()})
    (root / "events").mkdir(parents=True, exist_ok=True)
    write_tree(root, files)
    return root


@dataclass(frozen=True)
class Run:
    exit: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def eventgen(project: Path, *args: str) -> Run:
    """`eventgen -C project ARGS...` in this process, output captured (monkeypatched faults apply)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-C", str(project), *args])
    return Run(code, out.getvalue(), err.getvalue())


def eventgen_process(project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Run:
    """The same command in a fresh interpreter, as a user's shell would run it."""
    proc = subprocess.run(
        [sys.executable, "-m", "generator.cli", "-C", str(project), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under root: file -> bytes, folder -> "<dir>", symlink -> "-> target"."""
    tree: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        base = Path(dirpath)
        for name in dirnames:
            path = base / name
            rel = path.relative_to(root).as_posix()
            tree[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else "<dir>"
        for name in filenames:
            path = base / name
            rel = path.relative_to(root).as_posix()
            tree[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else path.read_bytes()
    return tree


def leftovers(root: Path) -> list[str]:
    """Temp or backup files a write left behind."""
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if any(mark in p.name for mark in LEFTOVER_MARKS)
    )


def changed_paths(before: dict[str, bytes | str], after: dict[str, bytes | str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
