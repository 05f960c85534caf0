"""Generated Svelte listeners and events.ts through the real compilers and type checkers.

One project holds every spec shape (the example app's feature spec, a relay, a user room, a
broadcast listener of two events, hostile text everywhere); it is generated twice, in runes and
in Svelte 4 syntax. Every component must compile with zero warnings (Svelte 5; Svelte 4 too for
the legacy syntax; client and server output), pass svelte-check under strict TypeScript, and
events.ts must pass `tsc --strict` with a usage file whose `@ts-expect-error` lines prove misuse
is caught. Components in the golden cases' expected trees are compiled the same way.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from support.cli import eventgen
from support.frontend import REPO, compile_svelte, copy_example, link_node_modules, tool

from generator.apply.files import render_file
from generator.pipeline import load_project
from generator.plan.frontend.files import frontend_files
from generator.sources import Sources

pytestmark = pytest.mark.node

HOSTILE = "*/ </script> <!-- --> ${alert(1)} `tick` \"dq\" 'sq' \u2028 {{ jinja }} {@html x} <b>bold</b> \\ end"

SPECS = {
    "notes": """
        name: notes
        description: A sequenced room (CONTRACT 8) with a listener and a relay beside it.
        rooms:
          note:
            pattern: "note:{note_id}"
            access: authenticated
            delivery: sequenced
            history: {size: 100, ttl_s: 60}
        events:
          - name: note:join
            direction: client_to_server
            action: join
            room: note
            payload:
              note_id: str
          - name: note:leave
            direction: client_to_server
            action: leave
            room: note
            payload:
              note_id: str
          - name: note:changed
            direction: server_to_client
            room: note
            payload:
              note_id: str
              body: str
            listener: NoteFeed
          - name: note:cursor
            direction: client_to_server
            action: relay
            room: note
            payload:
              note_id: str
              at: int
            listener: NoteFeed
    """,
    "chat": """
        name: chat
        description: Typing indicators in a chat (relay) and messages handled by user code.
        rooms:
          chat:
            pattern: "chat:{chat_id}"
            access: authenticated
        events:
          - name: chat:join
            direction: client_to_server
            action: join
            room: chat
            payload:
              chat_id: {type: str, min_length: 1}
          - name: chat:typing
            description: Someone is typing.
            direction: client_to_server
            action: relay
            room: chat
            payload:
              chat_id: str
              typing: bool
              draft: {type: str, required: false, max_length: 200}
            listener: ChatTyping
          - name: chat:send
            direction: client_to_server
            action: handle
            handler: open_webui.socket.chat_handlers:send_message
            room: chat
            payload:
              chat_id: str
              text: {type: str, min_length: 1, max_length: 4000}
              tags: {type: "list[str]", default: []}
        """,
    "notify": """
        name: notify
        description: Toasts for one user, in the room every session joins on connect.
        rooms:
          user:
            pattern: "user:{user_id}"
            owner: app
        events:
          - name: notify:toast
            direction: server_to_client
            room: user
            payload:
              user_id: str
              level: {type: str, enum: [info, warning, error]}
              text: str
              ttl: {type: int, default: 5, ge: 1}
              link: {type: "str | None", required: false}
            listener: UserToasts
        """,
    "status": """
        name: status
        events:
          - name: status:maintenance
            direction: server_to_client
            broadcast: true
            payload:
              message: str
              until: "int | None"
              meta: "dict[str, list[float]]"
            listener: MaintenanceBanner
          - name: status:resolved
            direction: server_to_client
            broadcast: true
            listener: MaintenanceBanner
        """,
    "hostile": """
        name: hostile
        description: @HOSTILE@
        rooms:
          doc:
            pattern: @PATTERN@
            access: authenticated
        events:
          - name: hostile:open
            description: @OPEN@
            direction: client_to_server
            action: join
            room: doc
            payload:
              doc_id: {type: str, description: @HOSTILE@}
              page_no: int
              mode: {type: str, enum: ["read", "wr\\"ite", "</script>"]}
          - name: hostile:close
            direction: client_to_server
            action: leave
            room: doc
            payload:
              doc_id: str
              page_no: int
              reason: {type: str, required: false}
          - name: hostile:error
            description: @HOSTILE@
            direction: server_to_client
            room: doc
            payload:
              doc_id: str
              page_no: int
              note: {type: str, description: @HOSTILE@}
            listener: HostileWatch
          - name: hostile.2nd
            direction: server_to_client
            room: doc
            payload:
              doc_id: str
              page_no: int
            listener: HostileWatch
        """.replace("@HOSTILE@", json.dumps(HOSTILE))
    .replace("@OPEN@", json.dumps("</script><script>alert(1)</script> */ /* <!-- --> " + HOSTILE))
    .replace("@PATTERN@", json.dumps("d\"o'c`</script><!--*/ :{doc_id}:page:{page_no}")),
}
LISTENERS = {"FeatureUpdates", "ChatTyping", "UserToasts", "MaintenanceBanner", "HostileWatch", "NoteFeed"}

USAGE = """
import { io, type Socket } from "socket.io-client";
import {
	FEATURE_UPDATED,
	chatRoom,
	featureRoom,
	hostileDocRoom,
	type AckErrorCode,
	type ChatTypingMessage,
	type ClientToServerEvents,
	type FeatureSubscribeAck,
	type NotifyToastPayload,
	type ServerToClientEvents,
	type StatusResolvedPayload
} from "./events";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io();

socket.on(FEATURE_UPDATED, (payload) => {
	const id: string = payload.feature_id;
	const data: Record<string, unknown> = payload.data;
	void id;
	void data;
});
socket.on("chat:typing", (message: ChatTypingMessage) => {
	const who: string = message.user.name;
	const draft: string | null = message.draft;
	void who;
	void draft;
});
socket.on("notify:toast", (toast) => {
	const ttl: number = toast.ttl;
	const level: "info" | "warning" | "error" = toast.level;
	void ttl;
	void level;
});
socket.on("status:resolved", (payload: StatusResolvedPayload) => void payload);
socket.emit("feature:subscribe", { feature_id: "f1" }, (ack) => {
	if (ack.ok) {
		const room: string = ack.room;
		void room;
	} else {
		const code: AckErrorCode = ack.error.code;
		void code;
	}
});
socket.emit("chat:typing", { chat_id: "c1", typing: true }, (ack) => void ack);

export async function roundTrips(): Promise<string> {
	const joined: FeatureSubscribeAck = await socket.emitWithAck("feature:subscribe", { feature_id: "f1" });
	const sent = await socket.emitWithAck("chat:send", { chat_id: "c1", text: "hi" });
	const data: unknown = sent.ok ? sent.data : sent.error.details;
	void data;
	return (joined.ok ? joined.room : featureRoom("f1")) + chatRoom("c1") + hostileDocRoom("d", 2);
}

// @ts-expect-error: wrong payload type (feature_id is a string)
socket.emit("feature:subscribe", { feature_id: 42 }, () => {});
// @ts-expect-error: unknown client_to_server event
socket.emit("feature:subscribed", { feature_id: "f1" }, () => {});
// @ts-expect-error: unknown server_to_client event
socket.on("feature:update", () => {});
// @ts-expect-error: a required field is missing
socket.emit("chat:send", { chat_id: "c1" }, () => {});
// @ts-expect-error: a key the payload does not have
socket.emit("feature:subscribe", { feature_id: "f1", extra: 1 }, () => {});
// @ts-expect-error: the room exists only on a successful ack
socket.emit("feature:subscribe", { feature_id: "f1" }, (ack) => ack.room);
// @ts-expect-error: not one of the enum values
export const toast: NotifyToastPayload = { user_id: "u", level: "fatal", text: "x", ttl: 1, link: null };
// @ts-expect-error: an event without payload fields takes no keys
export const resolved: StatusResolvedPayload = { anything: 1 };
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
    "noImplicitReturns": True,
    "noUnusedLocals": True,
    "noUnusedParameters": True,
    "exactOptionalPropertyTypes": True,
    "noUncheckedIndexedAccess": True,
}


@dataclasses.dataclass
class Generated:
    root: Path
    runes: list[Path]
    legacy: list[Path]
    events: Path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = copy_example(tmp_path_factory.mktemp("shapes") / "app")
    for name, text in SPECS.items():
        (root / "events" / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip())
    (root / "eventgen.toml").write_text('svelte = "5"\n')
    assert eventgen(root, "generate").exit == 0

    config, specs = load_project(root)
    legacy_dir = root / "src" / "legacy"
    legacy_dir.mkdir()
    for edit in frontend_files(specs, dataclasses.replace(config, svelte="4"), Sources(config.root)):
        if edit.kind == "svelte":
            (legacy_dir / Path(edit.file).name).write_text(render_file(edit))
    link_node_modules(root)
    runes = sorted((root / config.components).glob("*.svelte"))
    return Generated(root, runes, sorted(legacy_dir.glob("*.svelte")), root / config.types)


def _problems(results: list[dict]) -> list[str]:
    out = []
    for r in results:
        where = f"{Path(r['file']).name} (svelte {r['version']}, {r['generate']})"
        if r["error"]:
            out.append(f"{where}: error {r['error']}")
        out += [
            f"{where}: warning {w['code']} at {w.get('line')}:{w.get('column')}: {w['message']}" for w in r["warnings"]
        ]
    return out


def test_every_listener_is_generated(generated: Generated) -> None:
    assert {p.stem for p in generated.runes} == LISTENERS
    assert {p.stem for p in generated.legacy} == LISTENERS
    for path in generated.runes:
        assert "$props()" in path.read_text() and "export let" not in path.read_text()
    for path in generated.legacy:
        assert "export let" in path.read_text() and "$props()" not in path.read_text()


@pytest.fixture(scope="module")
def compiled(generated: Generated, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], list[dict]]:
    """(results for the generated components, results for a component with a known warning), one Node run."""
    jobs = [{"file": str(p), "svelte": "5", "generate": g} for p in generated.runes for g in ("client", "server")]
    # Svelte 4 syntax: with Svelte 4 itself, and with Svelte 5 (how Open WebUI runs its components).
    jobs += [
        {"file": str(p), "svelte": s, "generate": g}
        for p in generated.legacy
        for s in ("4", "5")
        for g in ("client", "server")
    ]
    bad = tmp_path_factory.mktemp("control") / "Bad.svelte"
    bad.write_text(
        '<script lang="ts">\n\texport let label: string = "";\n</script>\n\n<img src="x.png" title={label}>\n'
    )
    controls = [{"file": str(bad), "svelte": s, "generate": "client"} for s in ("4", "5")]
    results = compile_svelte(jobs + controls)
    return results[: len(jobs)], results[len(jobs) :]


def test_components_compile_without_warnings(compiled: tuple[list[dict], list[dict]]) -> None:
    results, _ = compiled
    assert len(results) == 6 * len(LISTENERS)
    assert {r["version"][0] for r in results} == {"4", "5"}
    assert _problems(results) == []


def test_compiler_harness_reports_warnings(compiled: tuple[list[dict], list[dict]]) -> None:
    """The zero-warning check above is only as good as this: a known warning (img without alt) comes back."""
    _, controls = compiled
    assert [r["version"][0] for r in controls] == ["4", "5"]
    for r in controls:
        assert any("a11y" in w["code"] for w in r["warnings"]), r


def test_hostile_text_stays_in_comments_and_strings(generated: Generated) -> None:
    for path in (*generated.runes, *generated.legacy):
        if path.stem != "HostileWatch":
            continue
        component = path.read_text()
        # One <script> element, one HTML comment (the marker): no description closed or opened either.
        assert component.count("</script>") == 1
        assert component.count("<!--") == 1 and component.startswith("<!-- eventgen:file ")
        for line in component.splitlines():
            stripped = line.strip()
            if stripped.startswith("/**") and stripped.endswith("*/"):
                assert stripped.index("*/") == len(stripped) - 2, stripped  # the comment ends where it should
        assert "{{ jinja }}" in component  # user text is data to the templates, never template code
    text = generated.events.read_text()
    assert "\u2028" not in text
    assert '"wr\\"ite"' in text and '"<\\/script>"' in text  # enum values as escaped TS literals


def test_svelte_check_strict(generated: Generated) -> None:
    """Every component type-checks: typed emits against the event map, props, snippets, slot props.

    A copy with one wrong payload rides along in the same run: its error, and no other, proves
    the checker really types the generated code.
    """
    # The example's SvelteKit config needs @sveltejs/kit and its adapter; the check needs neither.
    for name in ("svelte.config.js", "vite.config.ts"):
        (generated.root / name).unlink(missing_ok=True)
    good = next(p for p in generated.runes if p.stem == "FeatureUpdates").read_text()
    wrong = "emitFeatureSubscribe(s, { feature_id: 42 })"
    broken = good.replace("emitFeatureSubscribe(s, { feature_id: params.feature_id })", wrong)
    assert broken != good
    (generated.root / "src/broken").mkdir(exist_ok=True)
    (generated.root / "src/broken/FeatureUpdates.svelte").write_text(broken)
    (generated.root / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {**STRICT, "paths": {"$lib": ["./src/lib"], "$lib/*": ["./src/lib/*"]}},
                "include": [
                    "src/lib/components/realtime/*.svelte",
                    "src/legacy/*.svelte",
                    "src/broken/*.svelte",
                    "src/lib/socket/*.ts",
                    "src/lib/stores/*.ts",
                ],
            }
        )
    )
    proc = subprocess.run(
        [
            *tool("svelte-check"),
            "--workspace",
            str(generated.root),
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
    lines = proc.stdout.strip().splitlines()
    problems = [line.split(" ", 1)[1] for line in lines if " ERROR " in line or " WARNING " in line]
    line_no = broken.splitlines().index(next(x for x in broken.splitlines() if wrong in x)) + 1
    assert len(problems) == 1, proc.stdout + proc.stderr
    assert problems[0].startswith(f'ERROR "src/broken/FeatureUpdates.svelte" {line_no}:'), problems
    m = re.search(r"COMPLETED (\d+) FILES (\d+) ERRORS (\d+) WARNINGS", lines[-1])
    assert m and int(m.group(1)) > 10 and m.group(2) == "1" and m.group(3) == "0", lines[-1]


def _tsc(folder: Path, usage: str) -> subprocess.CompletedProcess[str]:
    (folder / "usage.ts").write_text(usage)
    (folder / "tsconfig.json").write_text(json.dumps({"compilerOptions": STRICT, "files": ["events.ts", "usage.ts"]}))
    return subprocess.run(
        [*tool("tsc"), "-p", str(folder / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_events_ts_passes_tsc_strict_and_catches_misuse(generated: Generated, tmp_path: Path) -> None:
    (tmp_path / "events.ts").write_bytes(generated.events.read_bytes())
    link_node_modules(tmp_path)
    proc = _tsc(tmp_path, USAGE)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # The same usage without the directives: tsc reports each misuse, on its own line.
    bare = USAGE.replace("// @ts-expect-error", "// expected error")
    proc = _tsc(tmp_path, bare)
    assert proc.returncode != 0
    flagged = {int(m.group(1)) for m in re.finditer(r"usage\.ts\((\d+),\d+\): error TS\d+", proc.stdout)}
    lines = bare.splitlines()
    expected = {i + 2 for i, line in enumerate(lines) if line.startswith("// expected error")}
    assert flagged == expected, proc.stdout


def _golden_components() -> list[Path]:
    return sorted((REPO / "tests" / "golden").glob("*/expected/**/*.svelte"))


def test_golden_components_compile_without_warnings() -> None:
    files = _golden_components()
    if not files:
        pytest.skip("no golden case has a generated component yet")
    jobs = []
    for path in files:
        runes = "$props()" in path.read_text()
        jobs += [{"file": str(path), "svelte": "5", "generate": g} for g in ("client", "server")]
        if not runes:
            jobs += [{"file": str(path), "svelte": "4", "generate": g} for g in ("client", "server")]
    assert _problems(compile_svelte(jobs)) == []


def test_golden_event_maps_pass_tsc_strict(tmp_path: Path) -> None:
    files = sorted((REPO / "tests" / "golden").glob("*/expected/**/events.ts"))
    if not files:
        pytest.skip("no golden case has an events.ts yet")
    names = []
    for path in files:
        case = path.relative_to(REPO / "tests" / "golden").parts[0]
        (tmp_path / f"{case}.ts").write_bytes(path.read_bytes())
        names.append(f"{case}.ts")
    link_node_modules(tmp_path)
    (tmp_path / "tsconfig.json").write_text(json.dumps({"compilerOptions": STRICT, "files": names}))
    proc = subprocess.run(
        [*tool("tsc"), "-p", str(tmp_path / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
