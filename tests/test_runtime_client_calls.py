"""Issue 17: typed client calls that never hang, idempotent retries, renamed events (CONTRACT 10).

tests/node_calls/calls.ts runs under Node with the pinned socket.io-client against the example app
served by uvicorn, with tests/runtime_specs/calls.yaml generated into it; it is compiled with
tsc --strict against the generated events.ts first. Timing bounds leave room for a loaded machine:
a timeout must come after its timeoutMs and before timeoutMs + SLACK_MS.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.runtime import (
    NODE_TOOLCHAIN,
    RUNTIME_SPECS,
    Peers,
    RedisProcess,
    ServerProcess,
    build_app,
    mint_tokens,
    run_async,
    tracebacks,
    tsc,
)

pytest_plugins = ["support.runtime"]
pytestmark = [pytest.mark.node]

NODE_CALLS = Path(__file__).resolve().parent / "node_calls"
# socket.io-client's timer and ours fire on the same tick; a loaded 2-core machine adds scheduling delay.
SLACK_MS = 100
LOADED_SLACK_MS = 600
TIMER_MS = 1  # how early a Node timer may fire, measured with Date.now()


@pytest.fixture(scope="module")
def calls_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_app(
        tmp_path_factory.mktemp("calls") / "app", (RUNTIME_SPECS / "board.yaml", RUNTIME_SPECS / "calls.yaml")
    )


@pytest.fixture(scope="module")
def calls_tokens(calls_app: Path) -> dict[str, str]:
    return mint_tokens(calls_app, ("alice", "bob", "carol"))


@pytest.fixture(scope="module")
def calls_js(calls_app: Path) -> Path:
    project = calls_app / "node_calls"
    shutil.copytree(NODE_CALLS, project)
    (project / "node_modules").symlink_to(NODE_TOOLCHAIN / "node_modules", target_is_directory=True)
    done = tsc(project)
    assert done.returncode == 0, f"tsc --strict rejected the programs:\n{done.stdout}{done.stderr}"
    return project / "build" / "node_calls" / "calls.js"


def serve(app: Path, tmp: Path, name: str, **env: str) -> ServerProcess:
    target = "open_webui.drop_acks:app" if "EVENTGEN_TEST_DROP_RATE" in env else "open_webui.main:app"
    return ServerProcess(app, tmp / f"{name}.log", env=env, target=target).start()


@pytest.fixture(scope="module")
def calls_server(calls_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = serve(calls_app, tmp_path_factory.mktemp("calls-logs"), "server")
    try:
        yield proc
    finally:
        proc.stop()


class Node:
    """One run of calls.js, read step by step."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, calls_js: Path, *args: str) -> Node:
        proc = await asyncio.create_subprocess_exec(
            "node", str(calls_js), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        return cls(proc)

    async def step(self, timeout: float = 60.0) -> dict[str, Any]:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            await self.proc.wait()
            raise AssertionError(f"node exited {self.proc.returncode}: {(await self.proc.stderr.read()).decode()}")
        step: dict[str, Any] = json.loads(line)
        assert step["step"] != "failed", step
        return step

    async def finish(self) -> None:
        assert (await self.step())["step"] == "done"
        assert await asyncio.wait_for(self.proc.wait(), 20) == 0

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def timeout_ack(ack: dict[str, Any]) -> bool:
    return ack.get("ok") is False and ack["error"]["code"] == "timeout" and "ms" in ack["error"]["message"]


def test_the_programs_type_check_and_each_misuse_is_an_error(calls_app: Path, calls_js: Path) -> None:
    """Without the @ts-expect-error markers every marked line fails to compile, and nothing else does."""
    assert calls_js.is_file()
    source = (NODE_CALLS / "calls.ts").read_text()
    lines = source.splitlines()
    marked = [i for i, line in enumerate(lines) if line.strip().startswith("// @ts-expect-error")]
    assert len(marked) == 4
    project = calls_app / "node_calls_unmarked"
    shutil.copytree(NODE_CALLS, project)
    (project / "calls.ts").write_text("\n".join("" if i in marked else line for i, line in enumerate(lines)) + "\n")
    (project / "node_modules").symlink_to(NODE_TOOLCHAIN / "node_modules", target_is_directory=True)
    done = tsc(project)
    assert done.returncode != 0
    error_lines = sorted({int(n) for n in re.findall(r"calls\.ts\((\d+),\d+\): error TS\d+", done.stdout)})
    assert error_lines == [i + 2 for i in marked], done.stdout


def test_old_names_compile_and_carry_the_deprecation_diagnostic(calls_app: Path, calls_js: Path) -> None:
    project = calls_js.parents[2]
    done = subprocess.run(
        ["node", str(NODE_TOOLCHAIN / "deprecations.mjs"), str(project / "tsconfig.json"), str(project / "deprecated_use.ts")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    found = json.loads(done.stdout)
    lines = (project / "deprecated_use.ts").read_text().splitlines()
    marked = {i + 1 for i, line in enumerate(lines) if line.rstrip().endswith("// deprecated")}
    assert len(marked) == 5
    assert {d["line"] for d in found} == marked, found
    assert {d["code"] for d in found} == {6385}
    flagged = {re.match(r"'(\w+)' is deprecated", d["message"]).group(1) for d in found}  # type: ignore[union-attr]
    assert flagged == {"EchoAck", "EchoPayload", "ECHO", "emitEcho"}
    events_ts = (calls_app / "src/lib/socket/events.ts").read_text()
    # Old names stay typed on the wire too, marked for editors.
    for old in ('"echo"', '"desk-enter"', '"desk-chat"', '"desk-note"', '"desk.note"'):
        entry = re.search(r"/\*\* @deprecated ([^\n]*) \*/\n\t" + re.escape(old) + ":", events_ts)
        assert entry, old
        assert "2099-01-01" in entry.group(1)


@run_async(timeout=90)
async def test_a_call_never_hangs_and_a_call_may_set_its_own_timeout(
    calls_server: ServerProcess, calls_tokens: dict[str, str], calls_js: Path
) -> None:
    node = await Node.start(calls_js, "timeouts", calls_server.url, calls_tokens["alice"])
    try:
        step = await node.step()
        assert step["step"] == "timeouts"
        by_default, overridden = step["byDefault"], step["overridden"]
        # calls:hang never answers: the spec's timeout_ms 400, then a call's own 1200.
        assert timeout_ack(by_default["result"]), by_default
        # Node's timers run on the loop's cached millisecond clock: one may fire up to 1 ms early by Date.now().
        assert 400 - TIMER_MS <= by_default["ms"] < 400 + LOADED_SLACK_MS, by_default
        assert timeout_ack(overridden["result"]), overridden
        assert 1200 - TIMER_MS <= overridden["ms"] < 1200 + LOADED_SLACK_MS, overridden
        # calls:slow answers after 800 ms: too late for its spec's 300 ms, in time for 20 s.
        assert (
            timeout_ack(step["slowDefault"]["result"])
            and 300 - TIMER_MS <= step["slowDefault"]["ms"] < 300 + LOADED_SLACK_MS
        )
        assert step["slowOverridden"]["result"] == {"ok": True, "data": {"slept_ms": 800}}
        assert 800 - TIMER_MS <= step["slowOverridden"]["ms"] < 800 + 5000
        assert step["connected"] is True  # a timeout is not a disconnection
        closed = (await node.step())["closed"]
        assert closed["result"]["ok"] is False and closed["result"]["error"]["code"] == "disconnected"
        assert closed["ms"] < 1000
        await node.finish()
    finally:
        await node.kill()


@run_async(timeout=90)
async def test_a_timeout_comes_within_100_ms_of_timeout_ms_when_the_machine_is_quiet(
    calls_server: ServerProcess, calls_tokens: dict[str, str], calls_js: Path
) -> None:
    """The issue's bound (timeoutMs + 100 ms), judged on the best of three runs so one scheduling hiccup of a
    shared machine does not decide it; every run must still be inside the loaded bound."""
    best: list[int] = []
    for _ in range(3):
        node = await Node.start(calls_js, "timeouts", calls_server.url, calls_tokens["bob"])
        try:
            step = await node.step()
            best.append(step["byDefault"]["ms"] - 400)
            best.append(step["overridden"]["ms"] - 1200)
            await node.step()
            await node.finish()
        finally:
            await node.kill()
    # Node's timers and Date.now() are millisecond-grained: a timer may be measured 1-2 ms "early".
    assert all(-5 <= late < LOADED_SLACK_MS for late in best), best
    assert min(best) < SLACK_MS, best


@run_async(timeout=120)
async def test_a_server_killed_mid_call_resolves_to_disconnected(
    calls_app: Path, calls_tokens: dict[str, str], calls_js: Path, tmp_path: Path
) -> None:
    server = serve(calls_app, tmp_path, "doomed")
    node = await Node.start(calls_js, "disconnect", server.url, calls_tokens["alice"])
    try:
        assert (await node.step())["step"] == "sent"
        await asyncio.sleep(0.5)  # the request reaches the handler, which sleeps 60 s
        assert server.proc is not None
        server.proc.kill()  # SIGKILL: no goodbye from the server, the connection just drops
        step = await node.step(timeout=30)
        assert step["step"] == "result"
        assert step["result"]["ok"] is False and step["result"]["error"]["code"] == "disconnected", step
        assert step["ms"] < 20_000  # not the 60 s timeoutMs: the drop answers it
        await node.finish()
    finally:
        await node.kill()
        server.stop()


@run_async(timeout=240)
async def test_lost_acks_with_retries_run_the_handler_once_per_key_and_every_caller_gets_the_first_result(
    calls_app: Path, calls_tokens: dict[str, str], calls_js: Path, tmp_path: Path
) -> None:
    server = serve(
        calls_app, tmp_path, "lossy", EVENTGEN_TEST_DROP_RATE="0.2", EVENTGEN_TEST_DROP_EVENTS="calls:charge"
    )
    # 15 keys x 2 callers on one socket: 30 calls in flight, under max_inflight_per_socket (32).
    node = await Node.start(calls_js, "retries", server.url, calls_tokens["carol"], "15")
    try:
        step = await node.step(timeout=180)
        assert step["step"] == "retries"
        await node.finish()
    finally:
        await node.kill()
        server.stop()
    log = server.log()
    dropped = log.count("DROPPED ACK calls:charge")
    assert dropped >= 3, f"the hook dropped only {dropped} acks: the test proves nothing"
    assert not tracebacks(log), tracebacks(log)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for r in step["results"]:
        by_key.setdefault(r["key"], []).append(r["ack"])
    assert len(by_key) == 15 and all(len(acks) == 2 for acks in by_key.values())
    for key, acks in by_key.items():
        assert all(a["ok"] is True for a in acks), (key, acks)
        assert acks[0] == acks[1], (key, acks)  # the same run: the first result, for both callers and every retry
        assert acks[0]["data"]["fields"] == ["amount", "ms"]  # the key never reaches the handler's model_dump()
    runs = step["runs"]
    assert {k.split(":", 1)[1]: n for k, n in runs.items() if k.startswith("carol:")} == {key: 1 for key in by_key}


@run_async(timeout=120)
async def test_old_and_new_clients_each_receive_every_event_once_under_each_name_and_old_calls_are_served(
    calls_server: ServerProcess, calls_tokens: dict[str, str], calls_js: Path
) -> None:
    tokens = [calls_tokens[u] for u in ("alice", "bob", "carol", "alice")]
    node = await Node.start(calls_js, "fleet", calls_server.url, *tokens)
    try:
        step = await node.step()
        assert step["step"] == "fleet"
        await node.finish()
    finally:
        await node.kill()
    assert [j["ok"] for j in step["joins"]] == [True] * 4
    assert step["echoOld"] == {"ok": True, "data": {"text": "from an old client", "by": "carol"}}
    assert step["echoNew"] == {"ok": True, "data": {"text": "from a new client", "by": "alice"}}
    assert step["noted"]["ok"] and step["saidNew"]["ok"] and step["saidOld"]["ok"]
    seen = step["seen"]
    for name in ("newA", "newB", "oldDash", "oldDot"):
        counts = Counter({event: len(payloads) for event, payloads in seen[name].items()})
        # The note once under the new name and once under each old name, so each client, listening to one, gets it once.
        assert counts["desk:note"] == counts["desk-note"] == counts["desk.note"] == 1, (name, counts)
        note = seen[name]["desk:note"][0]
        assert seen[name]["desk-note"][0] == seen[name]["desk.note"][0] == note
        assert note["text"] == "one note"
        # Relays skip their sender: newA said one thing (with the new name), oldDot the other (with the old one).
        heard = {"newA": ["old says"], "oldDot": ["new says"]}.get(name, ["new says", "old says"])
        for event in ("desk:chat", "desk-chat"):
            assert sorted(m["text"] for m in seen[name].get(event, [])) == heard, (name, event, counts)


@pytest.mark.redis
@run_async(timeout=120)
async def test_idempotent_calls_are_shared_by_servers_through_the_managers_redis(
    calls_app: Path, calls_tokens: dict[str, str], redis_server: RedisProcess, tmp_path: Path
) -> None:
    """Two processes behind one AsyncRedisManager: the same key on both runs the handler once."""
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": redis_server.url}
    one, two = serve(calls_app, tmp_path, "one", **env), serve(calls_app, tmp_path, "two", **env)
    try:
        async with Peers(one.url, calls_tokens, ()) as on_one, Peers(two.url, calls_tokens, ()) as on_two:
            a1, a2 = await on_one.user("alice"), await on_two.user("alice")
            same, other_key = f"same-{uuid.uuid4().hex}", f"other-{uuid.uuid4().hex}"
            payload = {"amount": 7, "ms": 600, "idempotency_key": same}
            # The second arrives while the first runs on the other process: it waits, then shares the result.
            first = asyncio.create_task(a1.ack("calls:charge", payload))
            await asyncio.sleep(0.2)
            second = await a2.ack("calls:charge", payload)
            assert second == await first
            assert (await a2.ack("calls:charge", payload)) == second  # later, from Redis
            other = await a2.ack("calls:charge", dict(payload, idempotency_key=other_key, ms=0))
            assert other["data"]["run"] != second["data"]["run"]
            # Another user's key is another call.
            bob = await on_one.user("bob")
            assert (await bob.ack("calls:charge", payload))["data"]["run"] != second["data"]["run"]
            runs = (await a1.ack("calls:runs", {}))["data"]
            assert runs[f"alice:{same}"] == 1 and runs[f"alice:{other_key}"] == 1 and runs[f"bob:{same}"] == 1
        for server in (one, two):
            assert not tracebacks(server.log()), server.log()
    finally:
        one.stop()
        two.stop()
