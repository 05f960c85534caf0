"""Join-ack benchmark: a SYNC access check (run in a worker thread) against an ASYNC one (awaited).

Not a test. Everything runs on 127.0.0.1 and is bounded in count and time:

    python benchmarks/bench_join.py                               # the defaults below
    python benchmarks/bench_join.py --clients 8 --joins 100       # a quick look

What runs (all real processes):
  * a generated copy of examples/openwebui-mini with tests/runtime_specs/board.yaml and
    tests/runtime_specs/stress/stress.yaml, built as tests/test_runtime_stress.py builds it;
  * one uvicorn process (in-memory client manager);
  * --clients python-socketio clients (websocket transport) in this process, each awaiting
    --joins join acks one after the other (a closed loop), for each phase in turn:
      - "async": `aslow:join`, access `stress_access:async_check` (awaited on the loop);
      - "sync":  `slow:join`,  access `stress_access:sync_check` (`asyncio.to_thread` + wait_for);
    both checks return True at once for these room ids, so the difference is the thread hop.
    Client i always joins room c{i} (the per-socket room cap is never reached).

Phases alternate async/sync --rounds times, first with one client (latency alone), then with
--clients (under load). It prints p50/p99 ack latency (emit to ack, perf_counter) and joins/s
per phase, and the machine and its load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import support.runtime as rt

EVENTS = {"async": "aslow:join", "sync": "slow:join"}


def build(dest: Path) -> Path:
    from generator.cli import main

    stress = rt.RUNTIME_SPECS / "stress"
    socket_dir = dest / "backend/open_webui/socket"
    shutil.copytree(
        rt.EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build")
    )
    for module in (stress / "stress_access.py", stress / "stress_handlers.py", rt.RUNTIME_SPECS / "board_handlers.py"):
        shutil.copy2(module, socket_dir / module.name)
    for spec in (rt.RUNTIME_SPECS / "board.yaml", stress / "stress.yaml"):
        shutil.copy2(spec, dest / "events" / spec.name)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-C", str(dest), "generate"])
    if code != 0:
        raise SystemExit(f"eventgen generate exited {code}:\n{out.getvalue()}{err.getvalue()}")
    return dest


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def phase(peers: list[rt.Peer], event: str, joins: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0

    async def loop(i: int, peer: rt.Peer) -> None:
        nonlocal failures
        for _ in range(joins):
            start = time.perf_counter()
            reply = await peer.client.call(event, {"room_id": f"c{i}"}, timeout=rt.ACK_TIMEOUT)
            latencies.append(time.perf_counter() - start)
            failures += reply.get("ok") is not True

    start = time.perf_counter()
    await asyncio.gather(*(loop(i, p) for i, p in enumerate(peers)))
    wall = time.perf_counter() - start
    return {
        "event": event,
        "clients": len(peers),
        "joins": len(latencies),
        "failed": failures,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": pct(latencies, 0.99) * 1e3,
        "joins_per_s": len(latencies) / wall,
    }


async def run(args: argparse.Namespace, url: str, tokens: dict[str, str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    async with rt.Peers(url, tokens, ()) as peers:
        clients = [await peers.user(rt.USERS[i % len(rt.USERS)], f"c{i}") for i in range(args.clients)]
        await phase(clients, EVENTS["async"], 20)  # warm-up: imports, the thread pool, caches
        await phase(clients, EVENTS["sync"], 20)
        for load in (clients[:1], clients):
            joins = args.joins if len(load) > 1 else args.joins * 4
            for _ in range(args.rounds):
                for mode in ("async", "sync"):
                    result = await phase(load, EVENTS[mode], joins)
                    result["mode"] = mode
                    results.append(result)
                    print(
                        f"{mode:5}  clients {result['clients']:3}  joins {result['joins']:6}  failed {result['failed']}  "
                        f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  {result['joins_per_s']:8.0f} joins/s",
                        flush=True,
                    )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16, help="clients in the loaded phases (default 16)")
    parser.add_argument(
        "--joins",
        type=int,
        default=200,
        help="joins per client per loaded phase; x4 for the single client (default 200)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="async/sync phase pairs per load (default 3)")
    parser.add_argument("--max-seconds", type=float, default=300, help="hard bound on the measuring (default 300)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    from importlib.metadata import version

    machine = {
        "nproc": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("python-socketio", "python-engineio", "uvicorn", "pydantic")},
        "loadavg_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-join-") as tmp:
        app = build(Path(tmp) / "app")
        tokens = rt.mint_tokens(app)
        server = rt.ServerProcess(app, Path(tmp) / "server.log", log_level="WARNING").start()
        try:
            results = asyncio.run(asyncio.wait_for(run(args, server.url, tokens), args.max_seconds))
        finally:
            server.stop()
        log = server.log()
    machine["loadavg_end"] = os.getloadavg()
    print(f"machine: {machine}")
    errors = rt.error_lines(log) + rt.tracebacks(log)
    print(f"server log errors: {len(errors)}")
    for mode in ("async", "sync"):
        for clients in sorted({r["clients"] for r in results}):
            rows = [r for r in results if r["mode"] == mode and r["clients"] == clients]
            print(
                f"median of {len(rows)} phases: {mode:5} clients {clients:3}: "
                f"p50 {statistics.median(r['p50_ms'] for r in rows):.2f} ms, p99 {statistics.median(r['p99_ms'] for r in rows):.2f} ms, "
                f"{statistics.median(r['joins_per_s'] for r in rows):.0f} joins/s"
            )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    return 1 if errors or any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
