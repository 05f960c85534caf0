"""Load benchmark: generated emit helper vs raw `sio.emit`, two servers joined through Redis.

Not a test. Everything runs on 127.0.0.1 and is bounded in count and time:

    python benchmarks/bench_load.py                      # the defaults below
    python benchmarks/bench_load.py --clients 200 --rooms 20 --events 100   # a quick look

What runs (all real processes):
  * a generated copy of examples/openwebui-mini with tests/runtime_specs/board.yaml (the
    `lobby:tick` event and its helper `notify_lobby_tick`), built as the runtime tests build it;
  * redis-server, and two uvicorn processes with WEBSOCKET_MANAGER=redis;
  * --client-procs processes holding --clients python-socketio clients (websocket transport),
    client i on server A or B by parity, in room lobby:r{i % rooms};
  * for each phase an emitter process that imports the generated socket module and emits
    rooms x events `lobby:tick` events: phase "helper" awaits `notify_lobby_tick(...)` (payload
    model validation + model_dump + emit), phase "raw" awaits `sio.emit(...)` with the same dict.

It prints delivered/expected per phase (anything under 100% exits 1), p50/p99 delivery latency
(emit call to client handler, same clock), emits/s and deliveries/s, peak server RSS (VmHWM),
and the helper's cost against the raw emit, both end to end and as CPU per call in isolation.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the generator package, when run from anywhere
sys.path.insert(0, str(ROOT / "tests"))  # support.runtime: the app build and the real processes

import support.runtime as rt

PHASES = ("helper", "raw")
BIN = 1e-4  # latency histogram resolution: 0.1 ms


# ---------------------------------------------------------------- clients role


async def run_clients(args: argparse.Namespace) -> None:
    import logging

    import socketio

    # A dropped socket is counted and reported below; the library's own line per drop would only be noise.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)

    urls: list[str] = args.urls.split(",")
    tokens: list[str] = json.loads(args.tokens)
    per_phase_seq = args.rooms * args.events
    counts: dict[int, int] = {}
    hists: dict[int, dict[int, int]] = {}
    last: dict[int, float] = {}
    arrived = asyncio.Event()
    dropped = [0]
    quitting = False

    def on_disconnect(*reason: Any) -> None:
        if not quitting:
            dropped[0] += 1

    def on_tick(payload: dict[str, Any]) -> None:
        now = time.time()
        phase = payload["seq"] // per_phase_seq  # each phase emits its own range of seq
        counts[phase] = counts.get(phase, 0) + 1
        hist = hists.setdefault(phase, {})
        b = int((now - payload["sent_at"]) / BIN)
        hist[b] = hist.get(b, 0) + 1
        last[phase] = now
        arrived.set()

    gate = asyncio.Semaphore(50)  # connect in waves, as a crowd of browsers would

    async def one(i: int) -> socketio.AsyncClient:
        async with gate:
            client = socketio.AsyncClient(reconnection=False)
            client.on("lobby:tick", on_tick)
            client.on("disconnect", on_disconnect)
            await client.connect(
                urls[i % len(urls)],
                socketio_path=rt.SOCKET_PATH,
                transports=["websocket"],
                auth={"token": tokens[i % len(tokens)]},
                wait_timeout=30,
            )
            reply = await client.call("lobby:join", {"lobby_id": f"r{i % args.rooms}"}, timeout=30)
            if not reply.get("ok"):
                raise RuntimeError(f"client {i}: join refused: {reply}")
            return client

    clients = await asyncio.gather(*(one(i) for i in range(args.first, args.first + args.count)))
    say({"ready": len(clients)})
    while line := await asyncio.to_thread(sys.stdin.readline):
        command = json.loads(line)
        if command.get("quit"):
            quitting = True
            break
        phase, expected = command["phase"], command["expected"]
        deadline = time.monotonic() + command["timeout"]
        while counts.get(phase, 0) < expected and time.monotonic() < deadline:
            arrived.clear()
            # Give up early when deliveries have stopped: a lost event never arrives.
            wait = min(args.idle_seconds, max(0.0, deadline - time.monotonic()))
            try:
                await asyncio.wait_for(arrived.wait(), wait)
            except asyncio.TimeoutError:
                break
        say({"phase": phase, "received": counts.get(phase, 0), "last": last.get(phase, 0.0), "hist": hists.get(phase, {}),
             "cpu": cpu_seconds(os.getpid()), "dropped": dropped[0]})  # fmt: skip
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


# ---------------------------------------------------------------- emitter role


async def run_emitter(args: argparse.Namespace) -> None:
    from open_webui.socket import event_models
    from open_webui.socket.main import notify_lobby_tick, sio

    body = "x" * args.body_bytes
    seq0 = args.index * args.rooms * args.events
    total = args.rooms * args.events

    async def helper(seq: int, lobby: str) -> None:
        await notify_lobby_tick(lobby_id=lobby, seq=seq, sent_at=time.time(), body=body)

    async def raw(seq: int, lobby: str) -> None:
        data = {"lobby_id": lobby, "seq": seq, "sent_at": time.time(), "body": body}
        await sio.emit("lobby:tick", data, room=f"lobby:{lobby}")

    emit = helper if args.phase == "helper" else raw

    async def worker(first: int) -> None:
        # Round-robin over rooms, so every room's stream runs for the whole phase.
        for k in range(first, total, args.concurrency):
            if args.rate:
                # Pacing, not synchronisation: emit k is due at t0 + k / rate.
                due = t0 + k / args.rate - time.perf_counter()
                if due > 0:
                    await asyncio.sleep(due)
            await emit(seq0 + k, f"r{k % args.rooms}")

    started = time.time()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(args.concurrency)))
    seconds = time.perf_counter() - t0
    emit_cpu = time.process_time() - cpu0  # this process's CPU for the emits: the call, validation, the publish

    # The same work without I/O: what validation adds to one call, in CPU time.
    n = min(total, 20_000)
    t0 = time.process_time()
    for k in range(n):
        event_models.LobbyTickPayload(lobby_id="r1", seq=k, sent_at=1.0, body=body).model_dump(mode="json")
    model_us = (time.process_time() - t0) / n * 1e6
    t0 = time.process_time()
    sent: dict[str, Any] = {}
    for k in range(n):
        sent = {"lobby_id": "r1", "seq": k, "sent_at": 1.0, "body": body}  # what the raw phase sends
    dict_us = (time.process_time() - t0) / n * 1e6
    assert sent["seq"] == n - 1
    say({"phase": args.phase, "emitted": total, "started": started, "seconds": seconds, "emit_cpu": emit_cpu,
         "model_us": model_us, "dict_us": dict_us, "cpu": cpu_seconds(os.getpid())})  # fmt: skip


# ---------------------------------------------------------------- orchestration


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def read_json(stream: IO[str], what: str, deadline: float) -> dict[str, Any]:
    """One JSON line from a child; the overall deadline bounds the wait."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        if not sel.select(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"no answer from {what} before the deadline")
    line = stream.readline()
    if not line:
        raise RuntimeError(f"{what} exited without answering")
    return json.loads(line)


@dataclass
class PhaseResult:
    name: str
    emitted: int
    expected: int
    received: int
    emit_seconds: float
    span_seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    emit_cpu: float
    model_us: float
    dict_us: float
    emitter_cpu: float
    dropped: int


def percentile(hist: dict[int, int], q: float) -> float:
    bins = sorted(hist)
    cumulative: list[int] = []
    total = 0
    for b in bins:
        total += hist[b]
        cumulative.append(total)
    if not total:
        return float("nan")
    i = bisect.bisect_left(cumulative, q * total)
    return (bins[min(i, len(bins) - 1)] + 0.5) * BIN * 1000


def merge(hists: Iterable[dict[str, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for h in hists:
        for b, n in h.items():
            merged[int(b)] = merged.get(int(b), 0) + n
    return merged


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    from importlib.metadata import version

    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[2]
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "python-socketio": version("python-socketio"),
        "uvicorn": version("uvicorn"),
        "pydantic": version("pydantic"),
        "redis-server": redis_version.removeprefix("v="),
        "loadavg at start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def orchestrate(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.max_seconds
    info = machine()
    me = [sys.executable, str(Path(__file__).resolve())]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        app = rt.build_app(tmp / "app")
        tokens = list(rt.mint_tokens(app).values())
        redis = rt.RedisProcess(tmp).start()
        env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis.url}
        servers: list[rt.ServerProcess] = []
        children: list[subprocess.Popen[str]] = []
        try:
            for name in ("a", "b"):
                servers.append(rt.ServerProcess(app, tmp / f"{name}.log", env=env, log_level="WARNING").start())
            urls = ",".join(s.url for s in servers)
            per_proc = -(-args.clients // args.client_procs)
            t0 = time.perf_counter()
            for first in range(0, args.clients, per_proc):
                count = min(per_proc, args.clients - first)
                cmd = [*me, "--role", "clients", "--urls", urls, "--tokens", json.dumps(tokens), "--first", str(first),
                       "--count", str(count), "--rooms", str(args.rooms), "--events", str(args.events),
                       "--idle-seconds", str(args.idle_seconds)]  # fmt: skip
                children.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
            ready = sum(read_json(c.stdout, "a client process", deadline)["ready"] for c in children if c.stdout)
            connect_seconds = time.perf_counter() - t0
            # A server subscribes to the channel after its first connection: wait for both before emitting.
            redis.wait_subscribers(2)
            print(f"{ready} clients connected and joined in {connect_seconds:.1f} s", file=sys.stderr)

            results: list[PhaseResult] = []
            # Alternate the two kinds, so a neighbour's load on a shared machine hits both alike.
            for phase_index, phase in enumerate(PHASES * args.rounds):
                results.append(run_phase(args, me, app, redis.url, children, phase_index, phase, deadline))
                print(
                    f"phase {phase}: {results[-1].received}/{results[-1].expected}, {results[-1].dropped} dropped",
                    file=sys.stderr,
                )
            rss = [rt.peak_rss_kib(s.pid) for s in servers]
            assert redis.proc is not None
            cpu = {
                "server A": cpu_seconds(servers[0].pid),
                "server B": cpu_seconds(servers[1].pid),
                "clients": sum(cpu_seconds(c.pid) for c in children),
                "emitters": sum(r.emitter_cpu for r in results),
                "redis": cpu_seconds(redis.proc.pid),
            }
            errors = [
                line
                for s in servers
                for line in s.log().splitlines()
                if line.startswith(("ERROR", "CRITICAL", "Traceback"))
            ]
        finally:
            for child in children:
                if child.poll() is None and child.stdin:
                    try:
                        child.stdin.write(json.dumps({"quit": True}) + "\n")
                        child.stdin.flush()
                    except BrokenPipeError:
                        pass
            for child in children:
                try:
                    child.wait(30)
                except subprocess.TimeoutExpired:
                    child.kill()
            for server in servers:
                server.stop()
            redis.stop()

    report(args, info, results, rss, cpu, connect_seconds, errors)
    complete = all(r.received == r.expected and not r.dropped for r in results)
    return 0 if complete and not errors else 1


def run_phase(
    args: argparse.Namespace,
    me: list[str],
    app: Path,
    redis_url: str,
    children: list[subprocess.Popen[str]],
    index: int,
    phase: str,
    deadline: float,
) -> PhaseResult:
    cmd = [*me, "--role", "emitter", "--phase", phase, "--index", str(index), "--rooms", str(args.rooms),
           "--events", str(args.events), "--body-bytes", str(args.body_bytes), "--concurrency", str(args.concurrency),
           "--rate", str(args.rate)]  # fmt: skip
    emitter = subprocess.Popen(
        cmd,
        cwd=app / "backend",
        env=rt.app_env(app, WEBSOCKET_MANAGER="redis", WEBSOCKET_REDIS_URL=redis_url),
        stdout=subprocess.PIPE,
        text=True,
    )
    per_proc = -(-args.clients // args.client_procs)
    expected_total = 0
    for k, child in enumerate(children):
        local = min(per_proc, args.clients - k * per_proc)
        expected_total += local * args.events
        assert child.stdin is not None
        child.stdin.write(
            json.dumps(
                {"phase": index, "expected": local * args.events, "timeout": max(1.0, deadline - time.monotonic())}
            )
            + "\n"
        )
        child.stdin.flush()
    try:
        assert emitter.stdout is not None
        emitted = read_json(emitter.stdout, f"the {phase} emitter", deadline)
        emitter.wait(30)
    finally:
        if emitter.poll() is None:
            emitter.kill()
    reports = [read_json(c.stdout, "a client process", deadline + 5) for c in children if c.stdout]
    hist = merge(r["hist"] for r in reports)
    last = max(r["last"] for r in reports)
    return PhaseResult(
        name=phase,
        emitted=emitted["emitted"],
        expected=expected_total,
        received=sum(r["received"] for r in reports),
        emit_seconds=emitted["seconds"],
        span_seconds=max(1e-9, last - emitted["started"]),
        p50_ms=percentile(hist, 0.50),
        p99_ms=percentile(hist, 0.99),
        max_ms=(max(hist) + 1) * BIN * 1000 if hist else float("nan"),
        emit_cpu=emitted["emit_cpu"],
        model_us=emitted["model_us"],
        dict_us=emitted["dict_us"],
        emitter_cpu=emitted["cpu"],
        dropped=sum(r["dropped"] for r in reports),
    )


def rate_of(phases: Iterable[PhaseResult]) -> tuple[float, float]:
    """Emit calls per emitter CPU-second, and deliveries per second, over several phases of one kind."""
    chosen = list(phases)
    per_cpu_second = sum(p.emitted for p in chosen) / sum(p.emit_cpu for p in chosen)
    deliveries = sum(p.received for p in chosen) / sum(p.span_seconds for p in chosen)
    return per_cpu_second, deliveries


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    results: list[PhaseResult],
    rss: list[int],
    cpu: dict[str, float],
    connect_seconds: float,
    errors: list[str],
) -> None:
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print(
        f"load: {args.clients} clients over 2 servers + Redis ({args.client_procs} client processes), "
        f"{args.rooms} rooms x {args.events} events per phase, body {args.body_bytes} B, "
        f"{args.concurrency} emits in flight, rate {args.rate or 'unpaced'}; connect+join {connect_seconds:.1f} s"
    )
    print(
        f"{'phase':<8}{'delivered/expected':>26}{'emits/s':>9}{'deliveries/s':>14}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'emit CPU us':>13}{'dropped':>9}"
    )
    for r in results:
        share = 100.0 * r.received / r.expected if r.expected else 0.0
        print(
            f"{r.name:<8}{f'{r.received}/{r.expected} ({share:.1f}%)':>26}{r.emitted / r.emit_seconds:>9.0f}"
            f"{r.received / r.span_seconds:>14.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.max_ms:>9.1f}"
            f"{r.emit_cpu / r.emitted * 1e6:>13.1f}{r.dropped:>9}"
        )
    rates = {kind: rate_of(r for r in results if r.name == kind) for kind in PHASES}
    model_us = statistics.median(r.model_us for r in results)
    dict_us = statistics.median(r.dict_us for r in results)
    print(
        f"helper vs raw sio.emit, all rounds: {rates['helper'][0]:.0f} vs {rates['raw'][0]:.0f} emit calls per emitter "
        f"CPU-second ({100.0 * rates['helper'][0] / rates['raw'][0]:.0f}% of raw), deliveries {rates['helper'][1]:.0f}/s "
        f"vs {rates['raw'][1]:.0f}/s; without I/O, payload model + model_dump(mode='json') {model_us:.2f} us/call "
        f"vs a plain dict {dict_us:.2f} us/call"
    )
    print(f"peak server RSS: A {rss[0] / 1024:.0f} MiB, B {rss[1] / 1024:.0f} MiB")
    print("CPU seconds, whole run: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    print(f"server log errors: {len(errors)}")
    for line in errors[:10]:
        print("  " + line)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": vars(args),
                    "phases": [r.__dict__ for r in results],
                    "rss_kib": rss,
                    "cpu_seconds": cpu,
                },
                indent=2,
            )
        )


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=1000, help="socket.io clients, half on each server (default 1000)")
    p.add_argument("--rooms", type=int, default=100, help="rooms; client i joins lobby:r{i %% rooms} (default 100)")
    # Issue 5 asked for 1,000 events per room; on 2 cores that is 1M deliveries per phase and runs
    # far beyond a few minutes, so the default is 100 (100,000 deliveries per phase). --events 1000 works.
    p.add_argument("--events", type=int, default=100, help="events per room per phase (default 100)")
    p.add_argument("--body-bytes", type=int, default=64, help="size of each event's body string (default 64)")
    p.add_argument("--concurrency", type=int, default=64, help="emits in flight in the emitter (default 64)")
    # Unpaced emission outruns delivery on 2 cores: backlogs grow to tens of seconds, pings time out and
    # sockets drop. The default offers 3,000 deliveries/s (300 emits x 10 members), which such a machine sustains.
    p.add_argument("--rate", type=float, default=300, help="emits per second in each phase; 0 = unpaced (default 300)")
    p.add_argument(
        "--idle-seconds",
        type=float,
        default=20,
        help="stop waiting for a phase after this long without a delivery (default 20)",
    )
    p.add_argument("--rounds", type=int, default=1, help="helper/raw phase pairs, alternating (default 1)")
    p.add_argument("--client-procs", type=int, default=2, help="processes sharing the clients (default 2)")
    p.add_argument("--max-seconds", type=float, default=600, help="hard bound on the whole run (default 600)")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument(
        "--role", choices=("orchestrate", "clients", "emitter"), default="orchestrate", help=argparse.SUPPRESS
    )
    p.add_argument("--urls", help=argparse.SUPPRESS)
    p.add_argument("--tokens", help=argparse.SUPPRESS)
    p.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    p.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name in ("clients", "rooms", "events", "concurrency", "client_procs", "rounds"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.clients < args.rooms:
        p.error("--clients must be at least --rooms, so every room has a member")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.role == "clients":
        asyncio.run(run_clients(args))
        return 0
    if args.role == "emitter":
        asyncio.run(run_emitter(args))
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
