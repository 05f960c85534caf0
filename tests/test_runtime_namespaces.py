"""CONTRACT 6.1 and 6.5 served for real: escaped room names keep users out of each other's
rooms, names like `user`, `check`, `sid` or the server's own work as room params and payload
fields, and a handler refuses on purpose with `Refused`. uvicorn + python-socketio clients.
Also: the Python and TypeScript room helpers build the same names (the TypeScript run in Node).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import eventgen
from support.runtime import (
    EXAMPLE,
    NODE_TIMEOUT,
    NODE_TOOLCHAIN,
    Peers,
    ServerProcess,
    error_lines,
    mint_tokens,
    node_script,
    run_async,
    tracebacks,
)

AWKWARD = Path(__file__).resolve().parent / "runtime_specs" / "awkward"
SOCKET = "backend/open_webui/socket"


def _generate(app: Path) -> None:
    run = eventgen(app, "generate")
    assert run.exit == 0, run.output


@pytest.fixture(scope="module")
def awkward_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app = tmp_path_factory.mktemp("awkward") / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    shutil.copy2(AWKWARD / "awkward.yaml", app / "events" / "awkward.yaml")
    for module in ("awkward_access.py", "awkward_handlers.py"):
        shutil.copy2(AWKWARD / module, app / SOCKET / module)
    _generate(app)
    return app


@pytest.fixture(scope="module")
def awkward_server(awkward_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(awkward_app, tmp_path_factory.mktemp("logs") / "awkward.log").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def awkward_tokens(awkward_app: Path) -> dict[str, str]:
    return mint_tokens(awkward_app)


@pytest.fixture
def quiet_log(awkward_server: ServerProcess) -> Iterator[None]:
    """No error and no traceback logged by the test, unless it says otherwise."""
    mark = awkward_server.mark()
    yield
    log = awkward_server.log_since(mark)
    assert not tracebacks(log) and not error_lines(log), log


@pytest.mark.usefixtures("quiet_log")
@run_async()
async def test_escaped_rooms_keep_two_cells_apart(
    awkward_server: ServerProcess, awkward_tokens: dict[str, str]
) -> None:
    """alice may enter cell (1:2, 3), bob cell (1, 2:3): unescaped, both were grid:1:2:3."""
    async with Peers(awkward_server.url, awkward_tokens, ("grid:tick",)) as peers:
        alice, bob = await peers.user("alice"), await peers.user("bob")
        assert await alice.ack("grid:enter", {"user": "1:2", "check": "3"}) == {"ok": True, "room": "grid:1%3A2:3"}
        assert await bob.ack("grid:enter", {"user": "1", "check": "2:3"}) == {"ok": True, "room": "grid:1:2%3A3"}
        # Each is refused the other's cell.
        assert (await alice.ack("grid:enter", {"user": "1", "check": "2:3"}))["error"]["code"] == "forbidden"
        assert (await bob.ack("grid:enter", {"user": "1:2", "check": "3"}))["error"]["code"] == "forbidden"

        ask = {
            "user": "1",
            "check": "2:3",
            "sid": "s",
            "data": 7,
            "room": "r",
            "payload": {},
            "extra": [],
            "result": "emit",
        }
        assert await bob.ack("awkward:ask", ask) == {"ok": True, "data": {"emitted": True}}
        await alice.barrier()
        await bob.barrier()
        assert bob.received("grid:tick") == [{"user": "1", "check": "2:3", "payload": 7, "room": "r"}]
        assert alice.received("grid:tick") == [], "bob's cell reached alice"


@pytest.mark.usefixtures("quiet_log")
@run_async()
async def test_params_named_like_the_generated_locals_join_and_refuse(
    awkward_server: ServerProcess, awkward_tokens: dict[str, str]
) -> None:
    spot = {"sid": "open", "data": "d", "room": "r:1", "payload": "p", "extra": "e", "result": "%", "sio": "s"}
    async with Peers(awkward_server.url, awkward_tokens, ()) as peers:
        alice = await peers.user("alice")
        assert await alice.ack("spot:enter", spot) == {"ok": True, "room": "spot:open:d:r%3A1:p:e:%25:s"}
        refused = await alice.ack("spot:enter", {**spot, "sid": "closed"})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"


@pytest.mark.usefixtures("quiet_log")
@run_async()
async def test_payload_fields_named_like_the_generated_locals_reach_the_handler(
    awkward_server: ServerProcess, awkward_tokens: dict[str, str]
) -> None:
    ask = {
        "user": "u",
        "sid": "s",
        "data": 1,
        "room": "r",
        "payload": {"k": [1]},
        "extra": [2],
        "check": "c",
        "result": "echo",
    }
    async with Peers(awkward_server.url, awkward_tokens, ()) as peers:
        alice = await peers.user("alice")
        assert await alice.ack("awkward:ask", ask) == {"ok": True, "data": ask}


@pytest.mark.usefixtures("quiet_log")
@run_async()
async def test_a_handler_refuses_on_purpose_with_its_own_code(
    awkward_server: ServerProcess, awkward_tokens: dict[str, str]
) -> None:
    ask = {
        "user": "u",
        "sid": "s",
        "data": 1,
        "room": "r",
        "payload": {},
        "extra": [],
        "check": "c:1",
        "result": "refuse",
    }
    async with Peers(awkward_server.url, awkward_tokens, ()) as peers:
        alice = await peers.user("alice")
        reply = await alice.client.call("awkward:ask", ask, timeout=5)
        assert reply == {
            "ok": False,
            "error": {"code": "not_today", "message": "come back tomorrow", "details": {"check": "c:1"}},
        }


@run_async()
async def test_refused_details_nothing_can_encode_still_ack(
    awkward_server: ServerProcess, awkward_tokens: dict[str, str]
) -> None:
    ask = {
        "user": "u",
        "sid": "s",
        "data": 1,
        "room": "r",
        "payload": {},
        "extra": [],
        "check": "c",
        "result": "bad-details",
    }
    mark = awkward_server.mark()
    async with Peers(awkward_server.url, awkward_tokens, ()) as peers:
        alice = await peers.user("alice")
        reply = await alice.client.call("awkward:ask", ask, timeout=5)
        assert reply == {"ok": False, "error": {"code": "internal", "message": "internal error"}}
    assert any("carries details that are not JSON" in line for line in error_lines(awkward_server.log_since(mark)))


# ---------------------------------------------------------------- Python and TypeScript agree

_TRANSPILE_AND_CALL = """
const fs = require("fs");
const ts = require(process.argv[2]);
const source = fs.readFileSync(process.argv[3], "utf8");
const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText;
const mod = { exports: {} };
new Function("module", "exports", "require", js)(mod, mod.exports, require);
const values = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(values.map(([x, n]) => mod.exports.gridCellRoom(x, n))));
"""


def _random_values(count: int) -> list[tuple[str, int]]:
    rng = random.Random(1106)
    alphabet = ["%", ":", "%25", "%3A", "a", "Z", "0", " ", "/", "é", "中", "🚀", "\u200b", "\\", '"', "{x}", "\n"]
    fixed = [
        ("", 0),
        ("%", -1),
        (":", 2**53 - 1),
        ("%3A", -(2**53) + 1),
        ("%%::", 10),
        ("0b7e4c3a-6f0e-4a57-9c1e-2b8f3d1e9a77", 42),
    ]
    out = list(fixed)
    while len(out) < count:
        text = "".join(
            rng.choice(alphabet) if rng.random() < 0.7 else chr(rng.randrange(0x20, 0x2FFF))
            for _ in range(rng.randrange(0, 12))
        )
        out.append((text, rng.randrange(-(10**12), 10**12)))
    return out


@pytest.mark.node
def test_python_and_typescript_room_helpers_build_the_same_names(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    (app / "events" / "grid.yaml").write_text(
        textwrap.dedent(
            """
            name: grid
            rooms:
              cell:
                pattern: "grid:{x}:{n}"
                access: authenticated
            events:
              - name: grid:open
                direction: client_to_server
                action: join
                room: cell
                payload:
                  x: {type: str, min_length: 0}
                  n: int
            """
        )
    )
    _generate(app)
    values = _random_values(1000)
    # The generated Python, imported in a child process that has the app's backend on its path.
    python = subprocess.run(
        [sys.executable, "-c", "import json, sys\nfrom open_webui.socket import event_models as m\n"
         "print(json.dumps([m.grid_cell_room(x=x, n=n) for x, n in json.load(sys.stdin)]))"],
        input=json.dumps(values), capture_output=True, text=True, cwd=app / "backend", check=True, timeout=60,
    )  # fmt: skip
    script = tmp_path / "rooms.cjs"
    script.write_text(_TRANSPILE_AND_CALL)
    typescript = subprocess.run(
        ["node", str(script), str(node_script(NODE_TOOLCHAIN / "node_modules" / "typescript" / "lib" / "typescript.js")), str(app / "src/lib/socket/events.ts")],
        input=json.dumps(values), capture_output=True, text=True, check=True, timeout=NODE_TIMEOUT,
    )  # fmt: skip
    from_python: list[Any] = json.loads(python.stdout)
    from_typescript: list[Any] = json.loads(typescript.stdout)
    assert len(from_python) == len(values) == 1000
    mismatches = [(v, p, t) for v, p, t in zip(values, from_python, from_typescript) if p != t]
    assert not mismatches, mismatches[:5]
    # One name, one reading: every name splits back into the values that built it.
    from generator.spec.rooms import unescape

    for (x, n), name in zip(values, from_python):
        literal, *params = name.split(":")
        assert literal == "grid" and [unescape(p) for p in params] == [x, str(n)]
