"""Presence benchmark (issue 15): join ack latency with presence vs without, and Redis commands per join.

Not a test. Everything runs on 127.0.0.1 and is bounded in count:

    python benchmarks/bench_presence.py                               # the defaults below
    python benchmarks/bench_presence.py --watchers 4 --reps 20        # a quick look

What runs (all real processes):
  * a generated copy of examples/openwebui-mini with two specs of the same shape: `lobby` (room
    board:{board_id}, presence: true, presence_ttl_s: 30) and `plain` (room plain:{board_id}, no
    presence), and 40 extra users (tests/presence_support.py builds it);
  * redis-server, and two uvicorn processes joined through it (`AsyncRedisManager`);
  * --watchers python-socketio clients (websocket) sitting in room r0 of both specs, alternately on each
    server, each its own user: they receive every presence change (and the acks list them);
  * --joiners more clients, alternately on each server, each its own user.

Each phase does --reps repetitions of: every joiner joins r0 at once, then every joiner leaves. Phases
alternate plain / presence, --rounds times. It prints p50/p99 join ack latency (emit to ack,
perf_counter) per phase, and the Redis commands per join and per leave from `INFO commandstats` deltas
taken around the join and leave steps (the benchmark's own INFO calls excluded), by command; and the
machine and its load average.

The watchers run in this process, like the joiners: every presence change is a message to each of them,
so with many watchers the clients' own event loop (decoding those messages) shows in the joiners'
latency. In a browser each watcher has its own; keep --watchers modest, or compare with --watchers 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import redis.asyncio as aioredis
import socketio
import support.runtime as rt
from support.presence import build_presence_app, user_ids

PLAIN = """\
name: plain
rooms:
  plain:
    pattern: "plain:{board_id}"
    access: authenticated
events:
  - name: plain:join
    direction: client_to_server
    action: join
    room: plain
    payload: {board_id: str}
  - name: plain:leave
    direction: client_to_server
    action: leave
    room: plain
    payload: {board_id: str}
"""
EVENTS = {"plain": ("plain:join", "plain:leave"), "presence": ("lobby:join", "lobby:leave")}


class PortServer(rt.ServerProcess):
    """uvicorn on --host/--port, as deployed. (support.runtime's ServerProcess hands uvicorn a pre-bound socket
    with --fd, which uvicorn wraps as AF_UNIX, so asyncio never sets TCP_NODELAY on its connections; it now sets
    it on the listening socket, which the connections inherit, so --fd measures the same.)"""

    def start(self) -> PortServer:
        config = dict(rt._LOG_CONFIG, root={"level": self.log_level, "handlers": ["stderr"]})
        config_path = self.log_path.with_suffix(".logging.json")
        config_path.write_text(json.dumps(config))
        self.port = rt.free_port()
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            self.target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-config",
            str(config_path),
            "--no-access-log",
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.app / "backend",
                env=rt.app_env(self.app, **self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self


def build(dest: Path, users: int) -> Path:
    from generator.cli import main

    spec = dest.parent / "lobby.yaml"
    spec.write_text(
        (rt.RUNTIME_SPECS / "presence" / "lobby.yaml").read_text().replace("presence_ttl_s: 2", "presence_ttl_s: 30")
    )
    build_presence_app(dest, users, spec)
    (dest / "events" / "plain.yaml").write_text(PLAIN)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["-C", str(dest), "generate"]) == 0
    return dest


async def commandstats(client: Any) -> Counter[str]:
    info = await client.info("commandstats")
    return Counter({k.removeprefix("cmdstat_"): v["calls"] for k, v in info.items() if k != "cmdstat_info"})


async def phase(kind: str, clients: list[socketio.AsyncClient], reps: int, stats: Any) -> dict[str, Any]:
    join, leave = EVENTS[kind]
    latencies: list[float] = []
    join_ops: Counter[str] = Counter()
    leave_ops: Counter[str] = Counter()

    async def one(i: int, event: str) -> None:
        start = time.perf_counter()
        ack = await clients[i].call(event, {"board_id": "r0"}, timeout=10)
        if event == join:
            latencies.append((time.perf_counter() - start) * 1000)
        assert ack["ok"], ack

    for _ in range(reps):
        before = await commandstats(stats)
        await asyncio.gather(*(one(i, join) for i in range(len(clients))))
        middle = await commandstats(stats)
        await asyncio.gather(*(one(i, leave) for i in range(len(clients))))
        after = await commandstats(stats)
        join_ops.update(middle - before)
        leave_ops.update(after - middle)
    joins = reps * len(clients)
    latencies.sort()
    return {
        "kind": kind,
        "joins": joins,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "per_join": {k: v / joins for k, v in sorted(join_ops.items())},
        "per_leave": {k: v / joins for k, v in sorted(leave_ops.items())},
    }


def show(result: dict[str, Any]) -> None:
    ops = lambda d: ", ".join(f"{k} {v:.2f}" for k, v in d.items()) or "none"  # noqa: E731
    print(
        f"| {result['kind']} | {result['joins']} | {result['p50']:.2f} | {result['p99']:.2f} | "
        f"{sum(result['per_join'].values()):.2f} ({ops(result['per_join'])}) | {sum(result['per_leave'].values()):.2f} ({ops(result['per_leave'])}) |"
    )


async def run(args: argparse.Namespace, urls: list[str], tokens: dict[str, str], redis_url: str) -> None:
    everyone = []
    for i, user in enumerate(user_ids(args.watchers + args.joiners)):
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            urls[i % 2], socketio_path=rt.SOCKET_PATH, transports=["websocket"], auth={"token": tokens[user]}
        )
        everyone.append(client)
    watchers, joiners = everyone[: args.watchers], everyone[args.watchers :]
    for watcher in watchers:
        for join, _ in EVENTS.values():
            assert (await watcher.call(join, {"board_id": "r0"}, timeout=10))["ok"]
    stats = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await phase("presence", joiners, 3, stats)  # warm-up: scripts loaded, connections open
        await phase("plain", joiners, 3, stats)
        print(f"{args.watchers} watcher(s) in the room, {args.joiners} joiner(s) at once")
        print("| phase | joins | p50 ms | p99 ms | Redis commands per join | per leave |")
        print("|---|---:|---:|---:|---|---|")
        for _ in range(args.rounds):
            for kind in ("plain", "presence"):
                show(await phase(kind, joiners, args.reps, stats))
    finally:
        await stats.aclose()
        await asyncio.gather(*(c.disconnect() for c in everyone))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--watchers",
        type=int,
        default=10,
        help="sockets sitting in the room (one user each), alternately on the two servers",
    )
    parser.add_argument("--joiners", type=int, default=4, help="sockets joining and leaving at once (one user each)")
    parser.add_argument("--reps", type=int, default=100, help="join + leave repetitions per phase")
    parser.add_argument("--rounds", type=int, default=2, help="plain / presence alternations")
    parser.add_argument(
        "--fd",
        action="store_true",
        help="serve as the runtime tests do (uvicorn --fd on a pre-bound socket with TCP_NODELAY)",
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {os.getloadavg()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        users = args.watchers + args.joiners
        app = build(work / "app", users)
        tokens = rt.mint_tokens(app, user_ids(users))
        (work / "redis").mkdir()
        redis_proc = rt.RedisProcess(work / "redis").start()
        env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_proc.url}
        server = rt.ServerProcess if args.fd else PortServer
        servers = [server(app, work / f"server{i}.log", env=dict(env), log_level="WARNING").start() for i in range(2)]
        try:
            asyncio.run(run(args, [s.url for s in servers], tokens, redis_proc.url))
        finally:
            for server in servers:
                server.stop()
            redis_proc.stop()
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
