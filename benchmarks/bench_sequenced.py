"""Sequenced delivery (issue 14): the sequenced emit helper against the best-effort one, and the
chaos scenario at full size. Not a test; everything runs on 127.0.0.1 with real processes:

    python benchmarks/bench_sequenced.py                 # throughput + paced latency, both deliveries
    python benchmarks/bench_sequenced.py --chaos         # + chaos at 100,000 events, 50 forced disconnects
    python benchmarks/bench_sequenced.py --events 5000   # a quick look

What runs: a generated copy of examples/openwebui-mini with tests/runtime_specs/sequenced/notes.yaml
(room `note:{note_id}` sequenced, its best-effort twin `pad:{pad_id}`), redis-server, two uvicorn
processes with WEBSOCKET_MANAGER=redis, and one Node process with --clients socket.io-client
sockets spread over both servers, each following --rooms-per-client rooms through the generated
TypeScript runtime (sequenced) or a plain handler (best effort). The routers of both processes
emit: each POST carries a batch of numbers, and the endpoint awaits the generated helper once per
number (`notify_note_changed` or `notify_pad_changed`).

Phases, per delivery mode:
  * saturation: --events events as fast as 8 concurrent POSTers get answers; emits/s is events
    over the time until the last POST returned (each helper call awaited: for sequenced, the Lua
    script and the emit);
  * paced: --rate emits/s for --seconds; latency is from `time.time()` in the endpoint, just before
    the helper call, to `Date.now()` in the app callback of the Node client (same machine clock).
Every phase must deliver 100% (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
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
import support.sequenced as ss


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def phase(
    node: ss.NodeClients,
    emitter: ss.Emitter,
    urls: list[str],
    kind: str,
    keys: list[str],
    events: int,
    rate: float,
    subs_per_room: int,
) -> dict[str, Any]:
    batch = 50 if rate == 0 else max(1, int(rate / 100))
    batches = [(keys[i % len(keys)], list(range(i * batch, (i + 1) * batch))) for i in range(events // batch)]
    started = time.monotonic()
    if rate == 0:
        queue: asyncio.Queue[tuple[int, str, list[int]]] = asyncio.Queue()
        for i, (key, ns) in enumerate(batches):
            queue.put_nowait((i, key, ns))

        async def worker() -> None:
            while not queue.empty():
                i, key, ns = queue.get_nowait()
                assert await emitter.bump(urls[i % len(urls)], kind, key, ns), emitter.failures[-1]

        await asyncio.gather(*(worker() for _ in range(8)))
    else:
        interval = batch / rate
        pending = []
        for i, (key, ns) in enumerate(batches):
            target = started + i * interval
            await asyncio.sleep(max(0.0, target - time.monotonic()))
            pending.append(asyncio.create_task(emitter.bump(urls[i % len(urls)], kind, key, ns)))
        assert all(await asyncio.gather(*pending)), emitter.failures[-1:]
    emit_seconds = time.monotonic() - started
    sent = len(batches) * batch
    expected = sent * subs_per_room
    deadline = time.monotonic() + 60
    while True:
        await node.send(cmd="report")
        subs = [s for s in (await node.expect("report", 120))["report"]["subs"] if s["key"] in keys]
        delivered = sum(len(s["ns"]) for s in subs)
        if delivered >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    latencies = [ms for s in subs for ms in s["latencies"]]
    return {
        "kind": "sequenced" if kind == "note" else "best_effort",
        "mode": "saturation" if rate == 0 else f"paced {rate:g}/s",
        "events": sent,
        "delivered": delivered,
        "expected": expected,
        "emits_per_s": sent / emit_seconds,
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": max(latencies) if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
    }


async def bench(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    app = ss.build_sequenced_app(work / "app")
    token = rt.mint_tokens(app, ("alice",))["alice"]
    script = ss.compile_node_client(app)
    redis_proc = rt.RedisProcess(work).start()
    servers = ss.servers_for(app, work, 2, redis_proc.url)
    results = []
    try:
        urls = [s.url for s in servers]
        # Rooms of their own for every phase, so each phase counts only its own deliveries.
        modes = [f"sat{r}" for r in range(args.rounds)] + ["pace"]
        groups = {
            (kind, mode): [f"{mode}-{kind}-{i}" for i in range(args.rooms)]
            for kind in ("note", "pad")
            for mode in modes
        }
        rooms = [{"kind": kind, "key": key} for (kind, _), keys in groups.items() for key in keys]
        subs_per_room = args.clients * args.rooms_per_client // len(rooms)
        config = {"urls": urls, "token": token, "clients": args.clients, "rooms": rooms, "roomsPerClient": args.rooms_per_client,
                  "holdMs": 500, "checkMs": 15000, "latency": True}  # fmt: skip
        async with ss.NodeClients(script, config) as node, ss.Emitter(token) as emitter:
            await node.expect("ready", 120)
            redis_proc.wait_subscribers(2)
            for rnd in range(args.rounds):
                for kind in ("pad", "note"):
                    results.append(
                        await phase(
                            node, emitter, urls, kind, groups[(kind, f"sat{rnd}")], args.events, 0, subs_per_room
                        )
                    )
                    print(f"round {rnd + 1}: {results[-1]}", flush=True)
            for kind in ("pad", "note"):
                results.append(
                    await phase(
                        node,
                        emitter,
                        urls,
                        kind,
                        groups[(kind, "pace")],
                        int(args.rate * args.seconds),
                        args.rate,
                        subs_per_room,
                    )
                )
                print(results[-1], flush=True)
        if args.chaos:
            figures = await ss.chaos_run(
                app=app, tmp=work, node_client=script, token=token, redis_proc=redis_proc, events=args.chaos_events,
                rooms=50, clients=40, rooms_per_client=4, kills=50, restart=True,
            )  # fmt: skip
            results.append({"kind": "chaos", **figures})
            print("chaos:", figures, flush=True)
    finally:
        for server in servers:
            server.stop()
        redis_proc.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000, help="events per saturation phase")
    parser.add_argument("--rounds", type=int, default=2, help="saturation rounds (sequenced and best effort alternate)")
    parser.add_argument("--rate", type=float, default=300.0, help="emits/s of the paced phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the paced phase")
    parser.add_argument("--rooms", type=int, default=5, help="rooms per (delivery, phase) group")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--rooms-per-client", type=int, default=3)
    parser.add_argument("--chaos", action="store_true", help="also run the chaos scenario at full size")
    parser.add_argument("--chaos-events", type=int, default=100_000)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}, load {os.getloadavg()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-seq-") as tmp:
        results = asyncio.run(bench(args, Path(tmp)))
    print("\n| delivery | mode | events | delivered / expected | emits/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for r in results:
        if r["kind"] == "chaos":
            continue
        ok &= r["delivered"] == r["expected"]
        print(
            f"| {r['kind']} | {r['mode']} | {r['events']:,} | {r['delivered']:,} / {r['expected']:,} | {r['emits_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} |"
        )
    print(f"load average after: {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
