"""Issue 5, item 3: a Node socket.io-client program, type-checked against the generated events.ts, on the served app.

tests/node_client/client.ts is copied into the generated app copy (next to src/), compiled by
the pinned TypeScript under tests/node with --strict, and run by Node against the same uvicorn
process the Python clients use.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.runtime import (
    NODE_CLIENT,
    LogWatch,
    Peers,
    ServerProcess,
    node_project,
    put_feature,
    run_async,
    tsc,
)

pytest_plugins = ["support.runtime"]
pytestmark = [pytest.mark.node, pytest.mark.usefixtures("clean_log")]


@pytest.fixture(scope="module")
def client_js(runtime_app: Path) -> Path:
    project = node_project(runtime_app, "node_client")
    done = tsc(project)
    assert done.returncode == 0, f"tsc --strict rejected the client:\n{done.stdout}{done.stderr}"
    built = project / "build" / "node_client" / "client.js"
    assert built.is_file()
    return built


def test_the_client_type_checks_against_the_generated_events_ts(client_js: Path, runtime_app: Path) -> None:
    generated = (runtime_app / "src/lib/socket/events.ts").read_text()
    assert "export interface ClientToServerEvents" in generated and '"board:say"' in generated
    # The room helpers the client calls were compiled from the generated file.
    assert (client_js.parents[1] / "src/lib/socket/events.js").is_file()


def test_each_misuse_in_the_client_is_a_type_error_of_its_own(runtime_app: Path) -> None:
    """Without the @ts-expect-error markers, every marked line fails to compile, and nothing else does."""
    source = (NODE_CLIENT / "client.ts").read_text()
    lines = source.splitlines()
    marked = [i for i, line in enumerate(lines) if line.strip().startswith("// @ts-expect-error")]
    assert len(marked) == 7
    stripped = [("" if i in marked else line) for i, line in enumerate(lines)]
    project = node_project(runtime_app, "node_client_unmarked", "\n".join(stripped) + "\n")
    done = tsc(project)
    assert done.returncode != 0
    errors = re.findall(r"client\.ts\((\d+),\d+\): error (TS\d+)", done.stdout)
    error_lines = sorted({int(line) for line, _ in errors})
    # A marker applies to the next line; tsc numbers lines from 1.
    assert error_lines == [i + 2 for i in marked], done.stdout


@run_async(timeout=60)
async def test_a_node_client_joins_and_receives_from_the_router_and_a_relay(
    server: ServerProcess, tokens: dict[str, str], client_js: Path, clean_log: LogWatch
) -> None:
    node = await asyncio.create_subprocess_exec(
        "node", str(client_js), server.url, tokens["bob"], "f1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        joined = await next_step(node)
        assert joined["step"] == "joined", joined
        assert joined["rooms"] == ["feature:f1", "board:f1"]
        assert joined["invalid"] == {
            "code": "invalid_payload",
            "details": [{"loc": ["feature_id"], "msg": "Input should be a valid string", "type": "string_type"}],
        }
        assert joined["exploded"] == "internal"
        clean_log.expect_explosions(1)
        assert joined["squared"] == {"square": 81, "by": "bob"}

        marker = uuid.uuid4().hex
        async with Peers(server.url, tokens, ()) as peers:
            alice = await peers.user("alice")
            assert (await alice.ack("board:join", {"feature_id": "f1"}))["ok"] is True
            assert await alice.ack("board:say", {"feature_id": "f1", "text": marker}) == {"ok": True}
            response = await put_feature(server.url, tokens["alice"], "f1", {"data": {"marker": marker}})
            assert response.status_code == 200, response.text

            received = {}
            for _ in range(2):
                step = await next_step(node)
                assert step["step"] == "received", step
                received[step["event"]] = step
        assert received["board:say"]["payload"] == {
            "feature_id": "f1", "text": marker, "meta": None, "user": {"id": "alice", "name": "Alice"},
        }  # fmt: skip
        assert received["board:say"]["sender"] == "Alice"
        assert received["feature:updated"]["payload"] == {"feature_id": "f1", "data": response.json()}
        assert (await next_step(node))["step"] == "done"
        assert await asyncio.wait_for(node.wait(), 10) == 0
    finally:
        if node.returncode is None:
            node.kill()
            await node.wait()


async def next_step(node: asyncio.subprocess.Process, timeout: float = 20.0) -> dict[str, Any]:
    assert node.stdout is not None and node.stderr is not None
    line = await asyncio.wait_for(node.stdout.readline(), timeout)
    if not line:
        await node.wait()
        raise AssertionError(f"node exited {node.returncode}: {(await node.stderr.read()).decode()}")
    step: dict[str, Any] = json.loads(line)
    assert step["step"] != "failed", step
    return step
