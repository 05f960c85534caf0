"""What the generated code's guarantees cost: a generated join handler against the seed's hand-written one.

Not a test. Everything runs on 127.0.0.1 and is bounded in count and time:

    python benchmarks/bench_handler.py                            # the defaults below
    python benchmarks/bench_handler.py --clients 4 --joins 50     # a quick look

What runs (all real processes):
  * a generated copy of examples/openwebui-mini (built as the runtime tests build it), whose
    socket module also gets, outside eventgen's regions, the hand-written handler of
    /work/shared/seed/websocket-events-directive.md under the name `seed:subscribe`:
    session check, `enter_room`, a plain dict back; no payload validation, no access check,
    no bound on time or rooms, no error ack;
  * one uvicorn process (in-memory client manager);
  * --clients python-socketio clients (websocket transport) in this process, each awaiting
    --joins acks one after the other (a closed loop), phases alternating:
      - "generated": `feature:subscribe` {"feature_id": "f1"}: session, pydantic validation,
        the access check `can_read_feature` (alice reads f1), room cap, the ack contract;
      - "seed": `seed:subscribe` with the same payload.

Per phase: p50/p99 ack latency (emit to ack, perf_counter), joins/s, and joins per second
of the server's CPU time (utime + stime of the uvicorn process from /proc, before and
after the phase): the last is the steadier figure on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
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

EVENTS = {"generated": "feature:subscribe", "seed": "seed:subscribe"}

# The seed's pattern, as written there (only the event name differs, so both can coexist).
SEED_HANDLER = """


# Hand-written, as in the seed directive: the baseline of bench_handler.py.
@sio.on("seed:subscribe")
async def seed_subscribe(sid, data):
    if sid not in SESSION_POOL:
        return {"error": "Not authenticated"}

    feature_id = data.get("feature_id")
    if feature_id:
        await sio.enter_room(sid, f"feature:{feature_id}")
        return {"status": "subscribed", "feature_id": feature_id}
"""


def build(dest: Path) -> Path:
    app = rt.build_app(dest, specs=())
    socket = app / "backend/open_webui/socket/main.py"
    socket.write_text(socket.read_text(encoding="utf-8") + SEED_HANDLER, encoding="utf-8")
    return app


def server_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def phase(peers: list[rt.Peer], mode: str, joins: int, pid: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0

    async def loop(peer: rt.Peer) -> None:
        nonlocal failures
        for _ in range(joins):
            start = time.perf_counter()
            reply = await peer.client.call(EVENTS[mode], {"feature_id": "f1"}, timeout=rt.ACK_TIMEOUT)
            latencies.append(time.perf_counter() - start)
            failures += not (reply.get("ok") is True or reply.get("status") == "subscribed")

    cpu = server_cpu(pid)
    start = time.perf_counter()
    await asyncio.gather(*(loop(p) for p in peers))
    wall = time.perf_counter() - start
    cpu = server_cpu(pid) - cpu
    return {
        "mode": mode,
        "clients": len(peers),
        "joins": len(latencies),
        "failed": failures,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": pct(latencies, 0.99) * 1e3,
        "joins_per_s": len(latencies) / wall,
        "server_cpu_s": cpu,
        "joins_per_cpu_s": len(latencies) / cpu if cpu > 0 else float("nan"),
    }


async def run(args: argparse.Namespace, url: str, tokens: dict[str, str], pid: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    async with rt.Peers(url, tokens, ()) as peers:
        clients = [await peers.user("alice", f"c{i}") for i in range(args.clients)]
        for mode in EVENTS:  # warm-up: imports, caches
            await phase(clients, mode, 20, pid)
        for _ in range(args.rounds):
            for mode in EVENTS:
                r = await phase(clients, mode, args.joins, pid)
                results.append(r)
                print(
                    f"{mode:9}  joins {r['joins']:6}  failed {r['failed']}  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
                    f"{r['joins_per_s']:7.0f} joins/s  {r['joins_per_cpu_s']:7.0f} joins per server CPU-s",
                    flush=True,
                )
    return results


def summary(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for mode in EVENTS:
        rows = [r for r in results if r["mode"] == mode]
        lines.append(
            f"median of {len(rows)} phases: {mode:9}: p50 {statistics.median(r['p50_ms'] for r in rows):.2f} ms, "
            f"p99 {statistics.median(r['p99_ms'] for r in rows):.2f} ms, {statistics.median(r['joins_per_s'] for r in rows):.0f} joins/s, "
            f"{statistics.median(r['joins_per_cpu_s'] for r in rows):.0f} joins per server CPU-second"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="clients, each in a closed loop (default 8)")
    parser.add_argument("--joins", type=int, default=300, help="joins per client per phase (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="generated/seed phase pairs (default 3)")
    parser.add_argument("--max-seconds", type=float, default=300, help="hard bound on the measuring (default 300)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    machine = {
        "nproc": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-handler-") as tmp:
        app = build(Path(tmp) / "app")
        tokens = rt.mint_tokens(app, ("alice",))
        server = rt.ServerProcess(app, Path(tmp) / "server.log", log_level="WARNING").start()
        try:
            results = asyncio.run(asyncio.wait_for(run(args, server.url, tokens, server.pid), args.max_seconds))
        finally:
            server.stop()
        log = server.log()
    machine["loadavg_end"] = os.getloadavg()
    print(f"machine: {machine}")
    errors = rt.error_lines(log) + rt.tracebacks(log)
    print(f"server log errors: {len(errors)}")
    print("\n".join(summary(results)))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    return 1 if errors or any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
