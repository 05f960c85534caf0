"""Presence (CONTRACT 9) under real processes: the app, python-socketio tabs, the truth they are checked against.

Shared by tests/test_runtime_presence.py and benchmarks/bench_presence.py. The app is the example with
tests/runtime_specs/presence/lobby.yaml generated into it (presence_ttl_s: 2) and more users than the
example's three, so 20 users with two tabs each can connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

from .runtime import ACK_TIMEOUT, EXAMPLE, NODE_CLIENT, RUNTIME_SPECS, SOCKET_PATH, node_project, tsc

SPEC = RUNTIME_SPECS / "presence" / "lobby.yaml"
EVENT = "lobby:board:presence"
TTL_S = 2  # presence_ttl_s of the spec
NAMES = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}  # the example's users; the added ones are "Name <id>"


def user_ids(count: int) -> tuple[str, ...]:
    return tuple(f"user{i:02d}" for i in range(count))


def build_presence_app(dest: Path, users: int = 20, spec: Path = SPEC) -> Path:
    """Copy the example, add `users` more users and the lobby spec, run `eventgen generate`."""
    from generator.cli import main

    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build"))
    shutil.copy2(spec, dest / "events" / spec.name)
    users_py = dest / "backend/open_webui/models/users.py"
    extra = ", ".join(f'UserModel(id="{u}", name="Name {u}", email="{u}@example.com")' for u in user_ids(users))
    users_py.write_text(users_py.read_text() + f"\n_USERS.update({{user.id: user for user in ({extra},)}})\n")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-C", str(dest), "generate"])
    if code != 0:
        raise RuntimeError(f"eventgen generate exited {code}:\n{out.getvalue()}{err.getvalue()}")
    return dest


@dataclass
class View:
    """A client's copy of one room's members: the join ack's state, then the diffs newer than it.

    The same rules as the generated TypeScript runtime (eventgen-presence.ts): a diff that arrives
    before the ack waits for it; a member changes only for a version above the last one applied to it
    (the ack's version for members it has not seen change since)."""

    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    base: int | None = None
    seen: dict[str, int] = field(default_factory=dict)
    early: list[dict[str, Any]] = field(default_factory=list)

    def reset(self, members: list[dict[str, Any]], version: int) -> None:
        self.members = {str(m["id"]): m for m in members}
        self.base, self.seen = version, {}
        early, self.early = self.early, []
        for diff in early:
            self.apply(diff)

    def apply(self, diff: dict[str, Any]) -> None:
        if self.base is None:
            self.early.append(diff)
            return
        version = int(diff["version"])
        for member, gone in [(m, True) for m in diff["leaves"]] + [(m, False) for m in diff["joins"]]:
            key = str(member["id"])
            if version <= self.seen.get(key, self.base):
                continue
            self.seen[key] = version
            if gone:
                self.members.pop(key, None)
            else:
                self.members[key] = member


@dataclass
class Tab:
    """One browser tab of a user: a python-socketio client on one server, and its views per board."""

    user: str
    server: int
    client: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    views: dict[str, View] = field(default_factory=dict)
    alive: bool = False

    async def connect(self, url: str, token: str) -> None:
        self.client.on(EVENT, self._diff)
        await self.client.connect(
            url, socketio_path=SOCKET_PATH, transports=["websocket"], auth={"token": token}, wait_timeout=ACK_TIMEOUT
        )
        self.alive = True

    def _diff(self, diff: dict[str, Any]) -> None:
        view = self.views.get(str(diff.get("board_id")))
        if view is not None:
            view.apply(diff)

    async def join(self, board: str) -> dict[str, Any]:
        view = self.views[board] = View()
        ack = await self.client.call("lobby:join", {"board_id": board}, timeout=ACK_TIMEOUT)
        assert ack["ok"], ack
        view.reset(ack["members"], ack["members_version"])
        return ack

    async def leave(self, board: str) -> None:
        ack = await self.client.call("lobby:leave", {"board_id": board}, timeout=ACK_TIMEOUT)
        assert ack["ok"], ack
        self.views.pop(board, None)

    async def close(self) -> None:
        self.alive = False
        self.views.clear()
        with contextlib.suppress(Exception):
            await self.client.disconnect()


def truth(tabs: list[Tab], board: str) -> dict[str, dict[str, Any]]:
    """Who is in a board: every user with a live tab in it, once, with the number of those tabs."""
    counts: dict[str, int] = {}
    for tab in tabs:
        if tab.alive and board in tab.views:
            counts[tab.user] = counts.get(tab.user, 0) + 1
    return {u: {"id": u, "name": NAMES.get(u, f"Name {u}"), "connections": n} for u, n in counts.items()}


def mismatches(tabs: list[Tab], boards: list[str]) -> list[str]:
    """Every live tab whose view of a board it is in differs from the truth."""
    found = []
    for board in boards:
        expected = truth(tabs, board)
        for i, tab in enumerate(tabs):
            view = tab.views.get(board)
            if tab.alive and view is not None and view.members != expected:
                extra = sorted(set(view.members) - set(expected))
                missing = sorted(set(expected) - set(view.members))
                found.append(
                    f"tab {i} ({tab.user}, server {tab.server}) on {board}: ghosts {extra}, missing {missing}, counts differ: {view.members != expected}"
                )
    return found


async def converge(tabs: list[Tab], boards: list[str], within: float, node: NodeTab | None = None) -> list[str]:
    """Wait up to `within` seconds for every live tab to see the truth; what still differs then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if node is not None:
            await node.refresh()
        found = mismatches(tabs + ([node.tab] if node else []), boards)
        if not found or loop.time() > deadline:
            return found
        await asyncio.sleep(0.05)


def compile_node_client(app: Path) -> Path:
    """tsc --strict the Node presence client against the generated runtime and events.ts; the .js to run."""
    project = node_project(app, "node_presence", (NODE_CLIENT / "presence.ts").read_text())
    done = tsc(project)
    if done.returncode != 0:
        raise AssertionError(f"tsc failed:\n{done.stdout}{done.stderr}")
    return project / "build" / "node_presence" / "client.js"


class NodeTab:
    """The Node client (tests/node_client/presence.ts) as a tab: its views are what the generated runtime lists."""

    def __init__(self, script: Path, user: str, url: str, token: str, boards: list[str]) -> None:
        self.script, self.config = script, {"url": url, "token": token, "boards": boards}
        self.tab = Tab(user, server=0)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "node",
            str(self.script),
            json.dumps(self.config),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in self.config["boards"]:
            assert "joined" in await self._line(), "the Node client should join"
        self.tab.alive = True

    async def _line(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), ACK_TIMEOUT * 2)
        found: dict[str, Any] = json.loads(line)
        assert "failed" not in found, found
        return found

    async def refresh(self) -> None:
        """Ask the Node client what it lists, into this tab's views."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b'{"cmd": "report"}\n')
        await self.proc.stdin.drain()
        report = (await self._line())["report"]
        for board, members in report.items():
            view = self.tab.views.setdefault(board, View(base=0))
            view.members = {str(m["id"]): m for m in members}

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except asyncio.TimeoutError:
                self.proc.kill()
