"""Cost per event of the version 2 policies (issue 16): the byte cap, a rate-limit check (memory and
Redis), and telemetry on vs off, measured on generated code. Not a test; prints figures.

    python benchmarks/bench_policies.py [--calls 20000]

What runs: a copy of the golden `fresh_insert` project with one extra spec (a handle event with
`rate_limit`), generated twice (telemetry off and on). Each variant is imported in a child process;
the generated helpers are called directly in a loop (`within_bytes`, `within_rate` against memory
and against a real `redis-server` on loopback through a `socketio.AsyncRedisManager`), and whole
events go through a real python-socketio AsyncServer in-process (tests/support/golden_runtime_probe.py), with
telemetry off and on (OpenTelemetry SDK with an in-memory exporter: the cost of recording spans).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.runtime import RedisProcess  # noqa: E402

SPEC = """\
name: ping
events:
  - name: ping:run
    direction: client_to_server
    action: handle
    handler: open_webui.socket.pings:run
    rate_limit: {rate: 1000000, per_s: 1}
    payload:
      text: str
"""
HANDLER = "async def run(user, payload, sid):\n    return None\n"

CHILD = """
import asyncio, json, sys, time
calls = int(sys.argv[1]); redis_url = sys.argv[2]; telemetry = sys.argv[3] == "on"
if telemetry:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    exporter = InMemorySpanExporter()
    provider = TracerProvider(); provider.add_span_processor(SimpleSpanProcessor(exporter)); trace.set_tracer_provider(provider)
from open_webui.socket import event_models as m
import socketio
from support.golden_runtime_probe import Harness

payload = {"text": "x" * 200}
user = {"id": "alice"}
out = {}

async def main():
    t = time.perf_counter()
    for _ in range(calls):
        m.within_bytes(payload, 65536)
    out["within_bytes_us"] = (time.perf_counter() - t) / calls * 1e6

    class Memory:  # a server whose manager has no Redis: the in-memory limiter
        manager = object()
    t = time.perf_counter()
    for _ in range(calls):
        await m.within_rate(Memory(), "ping:run", user, 1000000, 1.0, 1000000)
    out["rate_memory_us"] = (time.perf_counter() - t) / calls * 1e6

    class Shared:
        manager = socketio.AsyncRedisManager(redis_url)
    server = Shared()
    n = max(1, calls // 10)
    t = time.perf_counter()
    for _ in range(n):
        await m.within_rate(server, "ping:run", user, 1000000, 1.0, 1000000)
    out["rate_redis_us"] = (time.perf_counter() - t) / n * 1e6

    if telemetry:  # the wrapper alone: one span, its attributes and one histogram record per event
        async def plain(sid, data):
            return {"ok": True}
        class NoHandshakeContext:  # the server's environ of a connection that sent no traceparent header
            def get_environ(self, sid, namespace=None):
                return {"REMOTE_ADDR": "127.0.0.1"}
        traced = m.traced(NoHandshakeContext(), "ping:run", "")(plain)
        t = time.perf_counter()
        for _ in range(calls):
            await plain("s", payload)
        bare = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(calls):
            await traced("s", payload)
        out["traced_us"] = (time.perf_counter() - t - bare) / calls * 1e6
        # Picking up a client's W3C trace context: a payload traceparent taken out and read by
        # opentelemetry.propagate.extract, or none sent (the handshake environ is looked at).
        with_parent = {**payload, "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
        for key, data in (("context_us", with_parent), ("no_context_us", payload)):
            t = time.perf_counter()
            for _ in range(calls):
                m.sender_context(NoHandshakeContext(), "s", data)
            out[key] = (time.perf_counter() - t) / calls * 1e6

    async def scenario(h):
        alice = await h.connect("alice-token")
        for _ in range(200):  # warm-up
            await h.call(alice, "ping:run", payload)
        t = time.perf_counter()
        for _ in range(calls // 10):
            await h.call(alice, "ping:run", payload)
        out["event_us"] = (time.perf_counter() - t) / (calls // 10) * 1e6
    await Harness.run(scenario)

asyncio.run(main())
print(json.dumps(out))
"""


def build(root: Path, telemetry: bool) -> Path:
    from generator.cli import main as eventgen

    shutil.copytree(REPO / "tests" / "golden" / "_base", root)  # = fresh_insert's input
    (root / "events" / "ping.yaml").write_text(SPEC)
    (root / "backend/open_webui/socket/pings.py").write_text(HANDLER)
    if telemetry:
        (root / "eventgen.toml").write_text('telemetry = "opentelemetry"\n')
    code = eventgen(["-C", str(root), "generate"])
    if code != 0:
        raise SystemExit(f"generate exited {code} in {root}")
    return root


def run(root: Path, calls: int, redis_url: str, telemetry: bool) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "backend"), str(REPO / "tests")])}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(calls), redis_url, "on" if telemetry else "off"],
        cwd=root / "backend", env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000, help="calls per measured loop (default %(default)s)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eventgen-policies-"))
    (work / "redis").mkdir()
    redis = RedisProcess(work / "redis").start()
    try:
        url = f"redis://127.0.0.1:{redis.port}/0"
        off = run(build(work / "off", False), args.calls, url, False)
        on = run(build(work / "on", True), args.calls, url, True)
    finally:
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}"
    )
    print(f"within_bytes (200-byte payload): {off['within_bytes_us']:.2f} us per event")
    print(f"rate limit, memory: {off['rate_memory_us']:.2f} us per event")
    print(f"rate limit, Redis (loopback, one Lua call): {off['rate_redis_us']:.1f} us per event")
    print(f"telemetry on, the span + histogram per handled event (SDK, in-memory exporter): {on['traced_us']:.1f} us")
    print(
        f"telemetry on, a payload traceparent picked up (propagate.extract): {on['context_us']:.1f} us; without one: {on['no_context_us']:.2f} us"
    )
    print(
        f"one handle event through the in-process AsyncServer harness, telemetry off: {off['event_us']:.0f} us; on: {on['event_us']:.0f} us"
    )


if __name__ == "__main__":
    main()
