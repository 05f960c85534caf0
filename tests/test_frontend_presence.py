"""Presence (CONTRACT 9), client side, through the real compilers: listeners of a presence room (plain,
and sequenced as well) compile without warnings in both syntaxes and pass svelte-check strict; events.ts
and eventgen-presence.ts pass `tsc --strict`; and the compiled PresenceState, fed random histories in
random delivery orders (hypothesis), always ends at the room's true member list."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import eventgen
from support.frontend import compile_svelte, copy_example, link_node_modules, require_node, tool

from generator.apply.files import render_file
from generator.pipeline import load_project
from generator.plan.frontend.files import frontend_files
from generator.sources import Sources

pytestmark = pytest.mark.node

SPEC = """
    name: desk
    rooms:
      desk:
        pattern: "desk:{desk_id}"
        access: authenticated
        presence: true
        presence_ttl_s: 10
      doc:
        pattern: "doc:{doc_id}:{part}"
        access: authenticated
        presence: true
        delivery: sequenced
    events:
      - name: desk:join
        direction: client_to_server
        action: join
        room: desk
        payload: {desk_id: str}
      - name: desk:leave
        direction: client_to_server
        action: leave
        room: desk
        payload: {desk_id: str}
      - name: desk:note
        direction: server_to_client
        room: desk
        payload: {desk_id: str, text: str}
        listener: DeskWatch
      - name: doc:join
        direction: client_to_server
        action: join
        room: doc
        payload: {doc_id: str, part: int}
      - name: doc:changed
        direction: server_to_client
        room: doc
        payload: {doc_id: str, part: int, body: str}
        listener: DocWatch
"""

STRICT = {
    "strict": True,
    "noEmit": True,
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "bundler",
    "lib": ["ES2022", "DOM"],
    "verbatimModuleSyntax": True,
    "isolatedModules": True,
    "skipLibCheck": True,
    "noUnusedLocals": True,
    "noUnusedParameters": True,
    "exactOptionalPropertyTypes": True,
    "noUncheckedIndexedAccess": True,
}

USAGE = """
import type { ServerToClientEvents, DeskJoinAck, DeskDeskPresencePayload, PresenceMember } from "./events";
import { DESK_DESK_PRESENCE } from "./events";
import { PresenceState } from "./eventgen-presence";

declare const ack: DeskJoinAck;
declare const on: ServerToClientEvents;
const state = new PresenceState((list: PresenceMember[]) => void list.length);
if (ack.ok) state.reset(ack.members, ack.members_version);
on[DESK_DESK_PRESENCE] = (diff: DeskDeskPresencePayload) => state.apply(diff);
const first: PresenceMember | undefined = state.list()[0];
void first?.connections;
// @ts-expect-error a presence event carries the room's params
const wrong: DeskDeskPresencePayload = { joins: [], leaves: [], version: 1 };
void wrong;
"""


@dataclasses.dataclass
class Generated:
    root: Path
    runes: list[Path]
    legacy: list[Path]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = copy_example(tmp_path_factory.mktemp("presence") / "app")
    (root / "events/desk.yaml").write_text(textwrap.dedent(SPEC).lstrip())
    (root / "eventgen.toml").write_text('svelte = "5"\n')
    assert eventgen(root, "generate").exit == 0
    config, specs = load_project(root)
    legacy = root / "src/legacy"
    legacy.mkdir()
    for edit in frontend_files(specs, dataclasses.replace(config, svelte="4"), Sources(config.root)):
        if edit.kind == "svelte":
            (legacy / Path(edit.file).name).write_text(render_file(edit))
    link_node_modules(root)
    runes = sorted((root / config.components).glob("*Watch.svelte"))
    return Generated(root, runes, sorted(legacy.glob("*Watch.svelte")))


def test_listeners_expose_members(generated: Generated) -> None:
    assert [p.stem for p in generated.runes] == ["DeskWatch", "DocWatch"] == [p.stem for p in generated.legacy]
    for path in generated.runes:
        text = path.read_text()
        assert "members: []" in text and "new PresenceState(" in text and "$state(" in text
    for path in generated.legacy:
        text = path.read_text()
        assert "export const members: Readable<PresenceMember[]>" in text and "members={current.members}" in text


def test_listeners_compile_without_warnings(generated: Generated) -> None:
    jobs = [{"file": str(p), "svelte": "5", "generate": g} for p in generated.runes for g in ("client", "server")]
    jobs += [
        {"file": str(p), "svelte": s, "generate": g}
        for p in generated.legacy
        for s in ("4", "5")
        for g in ("client", "server")
    ]
    results = compile_svelte(jobs)
    problems = [
        f"{Path(r['file']).name} svelte {r['version']} {r['generate']}: {r['error'] or r['warnings']}"
        for r in results
        if r["error"] or r["warnings"]
    ]
    assert len(results) == 12 and problems == []


def test_svelte_check_strict(generated: Generated) -> None:
    root = generated.root
    for name in ("svelte.config.js", "vite.config.ts"):
        (root / name).unlink(missing_ok=True)
    include = [
        "src/lib/components/realtime/*.svelte",
        "src/legacy/*.svelte",
        "src/lib/socket/*.ts",
        "src/lib/stores/*.ts",
    ]
    (root / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {**STRICT, "paths": {"$lib": ["./src/lib"], "$lib/*": ["./src/lib/*"]}},
                "include": include,
            }
        )
    )
    proc = subprocess.run(
        [
            *tool("svelte-check"),
            "--workspace",
            str(root),
            "--tsconfig",
            "./tsconfig.json",
            "--output",
            "machine",
            "--fail-on-warnings",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0 and " 0 ERRORS 0 WARNINGS" in proc.stdout, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_events_and_runtime_pass_tsc_strict(generated: Generated, tmp_path: Path) -> None:
    socket_dir = generated.root / "src/lib/socket"
    for name in ("events.ts", "eventgen-presence.ts"):
        (tmp_path / name).write_bytes((socket_dir / name).read_bytes())
    (tmp_path / "usage.ts").write_text(USAGE)
    (tmp_path / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": STRICT, "files": ["events.ts", "eventgen-presence.ts", "usage.ts"]})
    )
    link_node_modules(tmp_path)
    proc = subprocess.run(
        [*tool("tsc"), "-p", str(tmp_path / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the runtime's state + diff application, against random histories --------------------------------

RUNNER = """
import { PresenceState } from "./eventgen-presence.js";
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((scenario) => {
    const state = new PresenceState();
    for (const step of scenario) {
      if (step.ack) state.reset(step.ack.members, step.ack.version);
      else state.apply(step.diff);
    }
    return state.list();
  });
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def runner(generated: Generated, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """eventgen-presence.ts compiled to JavaScript by tsc, and a Node script that replays scenarios through it."""
    folder = tmp_path_factory.mktemp("presence-runtime")
    (folder / "eventgen-presence.ts").write_bytes((generated.root / "src/lib/socket/eventgen-presence.ts").read_bytes())
    options = {**STRICT, "noEmit": False, "module": "ES2022", "outDir": str(folder)}
    (folder / "tsconfig.json").write_text(json.dumps({"compilerOptions": options, "files": ["eventgen-presence.ts"]}))
    (folder / "package.json").write_text('{"type": "module"}\n')
    proc = subprocess.run(
        [*tool("tsc"), "-p", str(folder / "tsconfig.json")], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder / "run.mjs").write_text(RUNNER)
    return folder / "run.mjs"


def _member(user: str, n: int) -> dict[str, Any]:
    return {"id": user, "name": user.upper(), "connections": n}


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A room's true history (one change per version, as the server numbers them), a client that joins at
    some version, and every change delivered in any order, some twice, some before the ack. Returns the
    delivery and the members at the end."""
    users = ["u0", "u1", "u2", "u3"]
    counts = dict.fromkeys(users, 0)
    diffs, snapshots = [], [dict(counts)]
    for version in range(1, draw(st.integers(1, 24)) + 1):
        user = draw(st.sampled_from(users))
        counts[user] += -1 if counts[user] and draw(st.booleans()) else 1
        n = counts[user]
        diffs.append(
            {
                "diff": {
                    "joins": [_member(user, n)] if n else [],
                    "leaves": [] if n else [_member(user, 0)],
                    "version": version,
                }
            }
        )
        snapshots.append(dict(counts))
    at = draw(st.integers(0, len(diffs)))
    ack = {"ack": {"members": [_member(u, n) for u, n in snapshots[at].items() if n], "version": at}}
    late = diffs[at:]  # the ones after the ack's version must all arrive; the earlier ones may or may not
    delivered = draw(st.permutations(late + draw(st.lists(st.sampled_from(diffs), max_size=6)) if diffs else late))
    cut = draw(st.integers(0, len(delivered)))
    truth = sorted((_member(u, n) for u, n in counts.items() if n), key=lambda m: m["name"])
    return [*delivered[:cut], ack, *delivered[cut:]], truth


def _replay(runner: Path, cases: list[list[dict[str, Any]]]) -> list[Any]:
    proc = subprocess.run(
        [require_node(), str(runner)], input=json.dumps(cases), capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@settings(max_examples=4, deadline=None)
@given(st.lists(scenarios(), min_size=60, max_size=60))
def test_any_delivery_order_ends_at_the_truth(
    runner: Path, batch: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]
) -> None:
    """Changes crossing the ack, out of order or twice (two server processes): the list ends right."""
    results = _replay(runner, [steps for steps, _ in batch])
    for (steps, truth), got in zip(batch, results):
        assert got == truth, json.dumps(steps)
