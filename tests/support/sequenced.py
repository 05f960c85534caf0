"""Sequenced delivery (CONTRACT 8) under real processes: the app, the Node client, the emitters.

Shared by tests/test_runtime_sequenced.py and benchmarks/bench_sequenced.py. The app is the
example with tests/runtime_specs/sequenced/notes.yaml generated into it and a notes router whose
endpoints emit one event per number they are sent. The Node client (tests/node_client/sequenced.ts)
runs many sockets, each a `SequencedRoom` of the generated eventgen-delivery.ts per room, and
reports what reached the app callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from support.marks import needs
from support.runtime import (
    EXAMPLE,
    NODE_CLIENT,
    RUNTIME_SPECS,
    RedisProcess,
    ServerProcess,
    node_project,
    tracebacks,
    tsc,
)

SPEC_DIR = RUNTIME_SPECS / "sequenced"


def build_sequenced_app(dest: Path) -> Path:
    """Copy the example, add the notes router and spec, run `eventgen generate`."""
    from .cli import eventgen

    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build"))
    shutil.copy2(SPEC_DIR / "notes.yaml", dest / "events" / "notes.yaml")
    shutil.copy2(SPEC_DIR / "notes_router.py", dest / "backend/open_webui/routers/notes.py")
    main_py = dest / "backend/open_webui/main.py"
    text = main_py.read_text()
    text = text.replace("from open_webui.routers import features\n", "from open_webui.routers import features, notes\n")
    text += '\napp.include_router(notes.router, prefix="/api/v1/notes", tags=["notes"])\n'
    main_py.write_text(text)
    run = eventgen(dest, "generate")
    if run.exit != 0:
        raise RuntimeError(f"eventgen generate exited {run.exit}:\n{run.output}")
    return dest


def compile_node_client(app: Path) -> Path:
    """tsc --strict the chaos client against the generated runtime; returns the .js to run."""
    project = node_project(app, "node_sequenced", (NODE_CLIENT / "sequenced.ts").read_text())
    done = tsc(project)
    if done.returncode != 0:
        raise AssertionError(f"tsc failed:\n{done.stdout}{done.stderr}")
    return project / "build" / "node_sequenced" / "client.js"


class NodeClients:
    """The Node chaos client: JSON commands on stdin, JSON lines on stdout."""

    def __init__(self, script: Path, config: dict[str, Any]) -> None:
        needs("node", "the Node chaos client")
        self.script, self.config = script, config
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self.stderr = b""

    async def __aenter__(self) -> NodeClients:
        self.proc = await asyncio.create_subprocess_exec(
            "node", str(self.script), json.dumps(self.config),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            with contextlib.suppress(ValueError):
                await self.lines.put(json.loads(line))

    async def send(self, **command: Any) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()

    async def expect(self, key: str, timeout: float = 60.0) -> dict[str, Any]:
        """The next line holding `key` (other lines are progress notes)."""

        async def find() -> dict[str, Any]:
            while True:
                line = await self.lines.get()
                if "failed" in line:
                    raise AssertionError(f"node client failed: {line}")
                if key in line:
                    return line

        try:
            return await asyncio.wait_for(find(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"node client: no {key!r} within {timeout}s; stderr: {await self._stderr()}") from None

    async def _stderr(self) -> str:
        if self.proc is not None and self.proc.stderr is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                self.stderr += await asyncio.wait_for(self.proc.stderr.read(65536), 1)
        return self.stderr.decode(errors="replace")

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.send(cmd="quit")
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()


@dataclass
class Emitter:
    """POSTs batches of numbers to the notes router of one server or another."""

    token: str
    sent: dict[str, list[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Emitter:
        self.client = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=32))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.client is not None
        await self.client.aclose()

    async def bump(self, url: str, kind: str, key: str, ns: list[int]) -> bool:
        assert self.client is not None
        path = f"/api/v1/notes/{key}/bump" if kind == "note" else f"/api/v1/notes/{kind}/{key}/bump"
        try:
            r = await self.client.post(url + path, json={"ns": ns}, headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            self.failures.append(f"{url}{path}: {exc!r}")
            return False
        if r.status_code != 200:
            self.failures.append(f"{url}{path}: {r.status_code} {r.text[:200]}")
            return False
        self.sent.setdefault(key, []).extend(ns)
        return True


def check_deliveries(report: dict[str, Any], sent: dict[str, list[int]], tops: dict[str, int]) -> dict[str, int]:
    """0 lost, 0 duplicated, 0 out of order per subscription, as the app callback saw it.

    Every subscription joined before the first emit of its room, so it must have received every
    event of the room: seqs 1..top in order, each number sent exactly once."""
    lost = duplicated = disordered = deliveries = 0
    problems: list[str] = []
    for sub in report["subs"]:
        room_key, seqs, ns = sub["key"], sub["seqs"], sub["ns"]
        expected_top = tops[room_key]
        deliveries += len(seqs)
        disordered += sum(1 for a, b in zip(seqs, seqs[1:]) if b <= a)
        duplicated += len(ns) - len(set(ns))
        missing = set(range(sub["start"] + 1, expected_top + 1)) - set(seqs)
        lost += len(missing)
        if sub["start"] != 0:
            problems.append(f"client {sub['client']} room {room_key}: first position {sub['start']}, expected 0")
        if sorted(set(ns)) != sorted(set(sent.get(room_key, []))):
            problems.append(
                f"client {sub['client']} room {room_key}: numbers differ from those sent ({len(set(ns))} vs {len(set(sent.get(room_key, [])))})"
            )
        if missing:
            problems.append(f"client {sub['client']} room {room_key}: {len(missing)} lost, e.g. {sorted(missing)[:5]}")
    figures = {"deliveries": deliveries, "lost": lost, "duplicated": duplicated, "out_of_order": disordered}
    assert not problems and not (lost or duplicated or disordered), f"{figures}\n" + "\n".join(problems[:20])
    return figures


def servers_for(app: Path, tmp: Path, count: int, redis_url: str | None) -> list[ServerProcess]:
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_url} if redis_url else {}
    return [ServerProcess(app, tmp / f"server{i}.log", env=dict(env)).start() for i in range(count)]


def no_handler_failures(servers: list[ServerProcess]) -> None:
    for server in servers:
        log = server.log()
        assert "eventgen: handler of" not in log, log[-4000:]
        bad = [tb for tb in tracebacks(log) if "redis" not in tb.lower()]
        assert not bad, "\n\n".join(bad)


async def settle(clients: NodeClients, tops: dict[str, int], timeout: float = 40.0) -> dict[str, Any]:
    """Ask for reports until every subscription reached its room's top (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        await clients.send(cmd="report")
        report = (await clients.expect("report"))["report"]
        behind = [s for s in report["subs"] if (s["seqs"][-1] if s["seqs"] else 0) < tops.get(s["key"], 0)]
        if not behind or time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.5)


async def chaos_run(
    *,
    app: Path,
    tmp: Path,
    node_client: Path,
    token: str,
    redis_proc: RedisProcess | None,
    events: int,
    rooms: int,
    clients: int,
    rooms_per_client: int,
    kills: int,
    restart: bool,
) -> dict[str, Any]:
    servers = servers_for(app, tmp, 2 if redis_proc else 1, redis_proc.url if redis_proc else None)
    urls = [s.url for s in servers]
    keys = [f"n{i}" for i in range(rooms)]
    rng = random.Random(14)
    try:
        config = {
            "urls": urls, "token": token, "clients": clients, "rooms": [{"kind": "note", "key": k} for k in keys],
            "roomsPerClient": rooms_per_client, "holdMs": 500, "checkMs": 2000,
        }  # fmt: skip
        async with NodeClients(node_client, config) as node, Emitter(token) as emitter:
            await node.expect("ready", timeout=60)
            if redis_proc:
                redis_proc.wait_subscribers(len(servers))
            batch = 20
            batches = [(keys[i % rooms], list(range(i * batch, (i + 1) * batch))) for i in range(events // batch)]
            rng.shuffle(batches)
            kill_at = sorted(rng.sample(range(len(batches)), min(kills, len(batches))))
            drop_at = len(batches) * 35 // 100
            restart_at = len(batches) * 60 // 100
            down: set[int] = set()
            figures: dict[str, Any] = {"kills": 0, "redis_drops": 0, "restarts": 0}
            queue: asyncio.Queue[tuple[int, str, list[int]]] = asyncio.Queue()
            for i, (key, ns) in enumerate(batches):
                queue.put_nowait((i, key, ns))

            async def worker() -> None:
                while not queue.empty():
                    i, key, ns = queue.get_nowait()
                    live = [j for j in range(len(servers)) if j not in down]
                    # Both processes' routers emit; a server being restarted is skipped.
                    url = urls[live[i % len(live)]]
                    assert await emitter.bump(url, "note", key, ns), emitter.failures[-1]

            async def chaos() -> None:
                done_kills = 0
                while not queue.empty():
                    progress = len(batches) - queue.qsize()
                    while done_kills < len(kill_at) and kill_at[done_kills] <= progress:
                        await node.send(cmd="kill", client=rng.randrange(clients))
                        done_kills += 1
                        figures["kills"] += 1
                    if redis_proc and progress >= drop_at and not figures["redis_drops"]:
                        figures["redis_drops"] += 1
                        with redis.Redis(host="127.0.0.1", port=redis_proc.port) as r:
                            # Every connection but this one: the managers' pub/sub and publish
                            # connections and the sequencing scripts' pool.
                            r.client_kill_filter(_type="pubsub")
                            r.client_kill_filter(_type="normal", skipme=True)
                    if restart and len(servers) > 1 and progress >= restart_at and not figures["restarts"]:
                        figures["restarts"] += 1
                        down.add(1)
                        await asyncio.to_thread(servers[1].stop)
                        await asyncio.to_thread(servers[1].start)
                        down.discard(1)
                    await asyncio.sleep(0.02)
                while done_kills < len(kill_at):  # the rest, if emitting was quicker
                    await node.send(cmd="kill", client=rng.randrange(clients))
                    done_kills += 1
                    figures["kills"] += 1

            started = time.monotonic()
            await asyncio.gather(chaos(), *(worker() for _ in range(6)))
            figures["emit_seconds"] = round(time.monotonic() - started, 2)
            tops = {k: len(v) for k, v in emitter.sent.items()}
            if redis_proc:
                with redis.Redis(host="127.0.0.1", port=redis_proc.port) as r:
                    counted = {k: int(r.hget(f"eventgen:seq:{{note:{k}}}:meta", "s") or 0) for k in tops}
                assert counted == tops, "every event sent was numbered exactly once"
            report = await settle(node, tops)
            figures.update(check_deliveries(report, emitter.sent, tops))
            figures["events"] = sum(tops.values())
            figures["resyncs"] = sum(s["resyncs"] for s in report["subs"])
            # How much the chaos cost: joins that replayed history, and the events they replayed
            # (an event replayed and also received live counts once in the deliveries).
            figures["recoveries"] = sum(s["recoveries"] for s in report["subs"])
            figures["replayed"] = sum(s["replayed"] for s in report["subs"])
            assert figures["resyncs"] == 0, "nothing was lost from Redis: no client may need to reload"
            assert not emitter.failures
        no_handler_failures(servers)
        return figures
    finally:
        for server in servers:
            server.stop()
