"""`eventgen review`: a catalogue of spec changes, each committed in a real git repository (issue 20).

Each case starts from the same two committed specs (feature, chat), edits the
working tree, runs `eventgen review --format json` in-process and asserts the
exact set of findings (class, kind, file, line, side) and the exit code. A line
is named by a snippet of text on the side it belongs to (the working tree, or the
commit for a removal), so the expected numbers are read from the files, never
copied from the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from support.project import git
from support.spec_review import BASE_SPECS, clone_template, edit, found, init_repo, line_of, review

FEATURE = "events/feature.yaml"
CHAT = "events/chat.yaml"


@dataclass(frozen=True)
class Expect:
    category: str
    kind: str
    snippet: str  # text on the expected line
    side: str = "new"
    file: str = CHAT
    after: str | None = None  # the snippet's first line after the line holding this text


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[tuple[str, str | None, str | None], ...]
    expect: tuple[Expect, ...]


def E(category: str, kind: str, snippet: str, side: str = "new", file: str = CHAT, after: str | None = None) -> Expect:
    return Expect(category, kind, snippet, side, file, after)


NEW_HANDLE = """
  - name: chat:feedback
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:feedback
    payload:
      text: str
"""

NEW_RELAY = """
  - name: chat:cursor
    direction: client_to_server
    action: relay
    room: chat
    payload:
      chat_id: str
      x: int
"""

NEW_HANDLE_IN_ROOM = """
  - name: chat:pin
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:pin
    room: chat
    payload:
      chat_id: str
      message_id: str
"""

STATUS_BLOCK = """  - name: chat:status
    description: What the assistant is doing.
    direction: server_to_client
    room: chat
    payload:
      chat_id: str
      state: {type: str, enum: [idle, busy]}
      note: str | None
"""

UNSUBSCRIBE_BLOCK = """  - name: feature:unsubscribe
    direction: client_to_server
    action: leave
    room: feature
    payload:
      feature_id: str

"""

NOTES_SPEC = """\
name: notes
rooms:
  note:
    pattern: "note:{note_id}"
    access: open_webui.socket.access:can_read_note
events:
  - name: note:changed
    direction: server_to_client
    room: note
    payload:
      note_id: str
"""

ANNOUNCE_BLOCK = """  - name: chat:announce
    direction: server_to_client
    broadcast: true
    payload:
      text: str
      level: {type: int, ge: 0, le: 5, required: false}

"""

# The text before `room: chat` in each event of chat.yaml that uses the room.
ROOM_USERS = (
    "action: join\n",
    "action: relay\n",
    "chat_handlers:vote\n",
    "description: What the assistant is doing.\n    direction: server_to_client\n",
)

NEWS_SPEC = (
    """\
name: news
events:
"""
    + ANNOUNCE_BLOCK.rstrip("\n")
    + "\n"
)


CASES = [
    # -- events as a whole ------------------------------------------------------------
    Case(
        "s2c-event-removed",
        ((CHAT, STATUS_BLOCK, ""),),
        (E("breaking", "event-removed", "- name: chat:status", "old"),),
    ),
    Case(
        "c2s-event-removed",
        ((FEATURE, UNSUBSCRIBE_BLOCK, ""),),
        (E("breaking", "event-removed", "- name: feature:unsubscribe", "old", FEATURE),),
    ),
    Case(
        "event-renamed-without-alias",
        ((CHAT, "- name: chat:status", "- name: chat:state"),),
        (E("breaking", "event-renamed", "- name: chat:state"),),
    ),
    Case(
        "event-added",
        ((CHAT, "      body: str\n", "      body: str\n" + NEW_HANDLE),),
        (E("compatible", "event-added", "- name: chat:feedback"),),
    ),
    Case(
        "relay-added-to-existing-room",
        ((CHAT, "  - name: inbox:message", NEW_RELAY.lstrip("\n") + "\n  - name: inbox:message"),),
        (
            E("compatible", "event-added", "- name: chat:cursor"),
            E("security", "relay-added", "action: relay", after="- name: chat:cursor"),
        ),
    ),
    Case(
        "handle-added-to-existing-room",
        ((CHAT, "  - name: inbox:message", NEW_HANDLE_IN_ROOM.lstrip("\n") + "\n  - name: inbox:message"),),
        (
            E("compatible", "event-added", "- name: chat:pin"),
            E("security", "handle-added", "action: handle", after="- name: chat:pin"),
        ),
    ),
    Case(
        "direction-changed",
        (
            (
                CHAT,
                "direction: server_to_client\n    broadcast: true",
                "direction: client_to_server\n    action: handle\n    handler: open_webui.socket.chat_handlers:announce",
            ),
        ),
        (E("breaking", "direction-changed", "direction: client_to_server", after="- name: chat:announce"),),
    ),
    Case(
        "action-changed",
        ((FEATURE, "action: leave", "action: join"),),
        (E("breaking", "action-changed", "action: join", file=FEATURE, after="- name: feature:unsubscribe"),),
    ),
    Case(
        "action-changed-to-relay",
        ((FEATURE, "action: leave", "action: relay"),),
        (
            E("breaking", "action-changed", "action: relay", file=FEATURE),
            E("security", "relay-added", "action: relay", file=FEATURE),
        ),
    ),
    # -- server -> client payloads ----------------------------------------------------
    Case(
        "s2c-field-removed",
        ((CHAT, "      note: str | None\n", ""),),
        (E("breaking", "field-removed", "note: str | None", "old"),),
    ),
    Case(
        "s2c-field-type-changed",
        ((FEATURE, "data: dict", "data: str"),),
        (E("breaking", "field-type-changed", "data: str", file=FEATURE),),
    ),
    Case(
        "s2c-field-type-narrowed",
        ((CHAT, "note: str | None", "note: str"),),
        (E("compatible", "field-type-compatible", "note: str"),),
    ),
    Case(
        "s2c-field-may-now-be-null",
        ((CHAT, "      text: str\n", "      text: {type: str, required: false}\n"),),
        (E("breaking", "field-type-changed", "text: {type: str, required: false}"),),
    ),
    Case(
        "s2c-field-added",
        ((CHAT, "      body: str\n", "      body: str\n      sent_at: float\n"),),
        (E("compatible", "field-added", "sent_at: float"),),
    ),
    Case(
        "s2c-enum-widened",
        ((CHAT, "enum: [idle, busy]", "enum: [idle, busy, offline]"),),
        (E("breaking", "field-enum-widened", "enum: [idle, busy, offline]"),),
    ),
    Case(
        "s2c-enum-narrowed",
        ((CHAT, "enum: [idle, busy]", "enum: [busy]"),),
        (E("compatible", "field-constraint-compatible", "enum: [busy]"),),
    ),
    Case(
        "s2c-bound-changed",
        (
            (
                CHAT,
                "level: {type: int, ge: 0, le: 5, required: false}",
                "level: {type: int, ge: 0, le: 9, required: false}",
            ),
        ),
        (E("compatible", "field-constraint-compatible", "le: 9"),),
    ),
    # -- client -> server payloads ----------------------------------------------------
    Case(
        "c2s-field-added-required",
        ((CHAT, "      count: int\n", "      count: int\n      model: str\n"),),
        (E("breaking", "field-added-required", "model: str"),),
    ),
    Case(
        "c2s-field-added-optional",
        ((CHAT, "      count: int\n", "      count: int\n      model: {type: str, required: false}\n"),),
        (E("compatible", "field-added", "model: {type: str"),),
    ),
    Case(
        "c2s-field-removed", ((CHAT, "      count: int\n", ""),), (E("breaking", "field-removed", "count: int", "old"),)
    ),
    Case(
        "c2s-type-narrowed",
        ((CHAT, "temperature: {type: float,", "temperature: {type: int,"),),
        (E("breaking", "field-type-changed", "temperature: {type: int"),),
    ),
    Case(
        "c2s-type-widened",
        ((CHAT, "      count: int\n", "      count: float\n"),),
        (E("compatible", "field-type-compatible", "count: float"),),
    ),
    Case(
        "c2s-optional-becomes-required",
        ((CHAT, "le: 2, required: false}", "le: 2}"),),
        (E("breaking", "field-required", "temperature:"),),
    ),
    Case(
        "c2s-required-becomes-optional",
        ((CHAT, "      count: int\n", "      count: {type: int, required: false}\n"),),
        (E("compatible", "field-optional", "count: {type: int, required: false}"),),
    ),
    Case(
        "c2s-max-length-narrowed",
        ((CHAT, "max_length: 2000", "max_length: 500"),),
        (E("breaking", "field-constraint-narrowed", "max_length: 500"),),
    ),
    Case(
        "c2s-max-length-widened",
        ((CHAT, "max_length: 2000", "max_length: 4000"),),
        (E("compatible", "field-constraint-compatible", "max_length: 4000"),),
    ),
    Case(
        "c2s-enum-narrowed",
        ((CHAT, "enum: [up, down]", "enum: [up]"),),
        (E("breaking", "field-constraint-narrowed", "enum: [up]"),),
    ),
    Case(
        "c2s-enum-widened",
        ((CHAT, "enum: [plain, formal]", "enum: [plain, formal, casual]"),),
        (E("compatible", "field-constraint-compatible", "enum: [plain, formal, casual]"),),
    ),
    Case(
        "c2s-lower-bound-raised",
        ((CHAT, "type: float, ge: 0,", "type: float, ge: 0.5,"),),
        (E("breaking", "field-constraint-narrowed", "ge: 0.5"),),
    ),
    Case(
        "c2s-default-changed",
        ((CHAT, "default: plain", "default: formal"),),
        (E("compatible", "field-default-changed", "default: formal"),),
    ),
    Case(
        "relay-field-added-required",
        ((CHAT, "      typing: bool\n", "      typing: bool\n      at: float\n"),),
        (E("breaking", "field-added-required", "at: float"),),
    ),
    Case(
        "relay-field-widened-breaks-receivers",
        ((CHAT, "typing: bool", "typing: bool | None"),),
        (E("breaking", "field-type-changed", "typing: bool | None"),),
    ),
    # -- rooms and access -------------------------------------------------------------
    Case(
        "room-pattern-changed",
        ((FEATURE, 'pattern: "feature:{feature_id}"', 'pattern: "features:{feature_id}"'),),
        (E("breaking", "room-pattern-changed", "pattern:", file=FEATURE),),
    ),
    Case(
        "access-callable-to-authenticated",
        ((FEATURE, "access: open_webui.socket.access:can_read_feature", "access: authenticated"),),
        (E("security", "access-weakened", "access: authenticated", file=FEATURE),),
    ),
    Case(
        "access-self-to-authenticated",
        ((CHAT, '    pattern: "user:{user_id}"\n', '    pattern: "user:{user_id}"\n    access: authenticated\n'),),
        (E("security", "access-weakened", "access: authenticated", after='pattern: "user:{user_id}"'),),
    ),
    Case(
        "access-callable-replaced",
        ((FEATURE, "access:can_read_feature", "access:can_list_features"),),
        (E("security", "access-replaced", "access: open_webui", file=FEATURE),),
    ),
    Case(
        "access-tightened",
        ((CHAT, "    access: authenticated\n", "    access: open_webui.socket.access:can_read_chat\n"),),
        (E("compatible", "access-tightened", "access: open_webui"),),
    ),
    Case(
        "room-param-bound-removed",
        ((CHAT, "chat_id: {type: str, max_length: 64}", "chat_id: str"),),
        (E("security", "room-param-bound-widened", "chat_id: str", after="- name: chat:join"),),
    ),
    Case(
        "room-param-bound-widened",
        ((CHAT, "max_length: 64}", "max_length: 256}"),),
        (E("security", "room-param-bound-widened", "max_length: 256"),),
    ),
    Case(
        "room-param-bound-narrowed",
        ((CHAT, "max_length: 64}", "max_length: 32}"),),
        (E("breaking", "field-constraint-narrowed", "max_length: 32"),),
    ),
    Case(
        "broadcast-enabled",
        (
            (
                CHAT,
                "    direction: server_to_client\n    room: chat\n",
                "    direction: server_to_client\n    broadcast: true\n",
            ),
        ),
        (E("security", "broadcast-enabled", "broadcast: true", after="- name: chat:status"),),
    ),
    Case(
        "broadcast-disabled",
        (
            (
                CHAT,
                "    broadcast: true\n    payload:\n      text: str\n",
                "    room: chat\n    payload:\n      chat_id: str\n      text: str\n",
            ),
        ),
        (
            E("breaking", "broadcast-disabled", "room: chat", after="- name: chat:announce"),
            E("compatible", "field-added", "chat_id: str", after="- name: chat:announce"),
        ),
    ),
    Case(
        "event-moved-to-another-room",
        (
            (CHAT, "  inbox:\n", '  team:\n    pattern: "team:{chat_id}"\n    access: authenticated\n  inbox:\n'),
            (
                CHAT,
                "    room: chat\n    payload:\n      chat_id: str\n      state:",
                "    room: team\n    payload:\n      chat_id: str\n      state:",
            ),
        ),
        (
            E("breaking", "event-room-changed", "room: team"),
            E("compatible", "room-added", "  team:"),
        ),
    ),
    Case(
        "membership-check-removed",
        (
            (
                CHAT,
                "handler: open_webui.socket.chat_handlers:vote\n    room: chat\n",
                "handler: open_webui.socket.chat_handlers:vote\n",
            ),
        ),
        (E("security", "membership-check-removed", "- name: chat:vote"),),
    ),
    # -- compatible only ----------------------------------------------------------------
    Case(
        "room-key-renamed",  # every event naming the room follows
        ((CHAT, "  chat:\n    pattern:", "  conversation:\n    pattern:"),)
        + tuple((CHAT, f"{before}    room: chat\n", f"{before}    room: conversation\n") for before in ROOM_USERS),
        (E("compatible", "room-renamed", "conversation:"),),
    ),
    Case(
        "description-changed",
        ((CHAT, "description: What the assistant is doing.", "description: What the assistant does."),),
        (E("compatible", "description-changed", "description: What the assistant does."),),
    ),
    Case(
        "emit-helper-renamed",
        ((FEATURE, "helper: notify_feature_update", "helper: send_feature_update"),),
        (E("compatible", "emit-changed", "helper: send_feature_update", file=FEATURE),),
    ),
    Case(
        "listener-added",
        ((CHAT, "      note: str | None\n", "      note: str | None\n    listener: ChatStatus\n"),),
        (E("compatible", "listener-changed", "listener: ChatStatus"),),
    ),
    Case(
        "handler-changed",
        ((CHAT, "chat_handlers:answer", "chat_handlers:reply"),),
        (E("compatible", "handler-changed", "chat_handlers:reply"),),
    ),
    Case("comment-and-layout-only", ((CHAT, "events:\n", "# the events\nevents:\n\n"),), ()),
    # -- whole specs ------------------------------------------------------------------
    Case(
        "spec-added",
        (("events/notes.yaml", None, NOTES_SPEC),),
        (E("compatible", "spec-added", "name: notes", file="events/notes.yaml"),),
    ),
    Case(
        "event-moved-to-a-new-spec",
        ((CHAT, ANNOUNCE_BLOCK, ""), ("events/news.yaml", None, NEWS_SPEC)),
        (
            E("compatible", "spec-added", "name: news", file="events/news.yaml"),
            E("compatible", "event-moved", "- name: chat:announce", file="events/news.yaml"),
        ),
    ),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One committed repository; each case works on a copy of it."""
    return init_repo(tmp_path_factory.mktemp("review") / "repo", BASE_SPECS)


def test_the_catalogue_is_big_enough() -> None:
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids) >= 30
    kinds = {e.kind for c in CASES for e in c.expect}
    assert len(kinds) >= 30, sorted(kinds)
    assert {e.category for c in CASES for e in c.expect} == {"breaking", "security", "compatible"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_change_kind(case: Case, template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = clone_template(template, tmp_path / "repo")
    before = {rel: (root / rel).read_text(encoding="utf-8") for rel in BASE_SPECS}
    for rel, old, new in case.edits:
        edit(root, rel, old, new)
    result = review(root, "--format", "json")
    assert result.stderr == ""
    expected = set()
    for e in case.expect:
        text = before[e.file] if e.side == "old" else (root / e.file).read_text(encoding="utf-8")
        expected.add((e.category, e.kind, e.file, line_of(text, e.snippet, e.after), e.side))
    assert found(result) == expected
    blocking = any(e.category in ("breaking", "security") for e in case.expect)
    assert result.exit == (1 if blocking else 0)
    assert result.doc["exit_code"] == result.exit and result.doc["ok"] is (not blocking)


def test_whole_spec_removed(template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every event of a removed spec breaks clients, each at its line in the old file; nothing can be annotated in the checkout."""
    root = clone_template(template, tmp_path / "repo")
    (root / CHAT).unlink()
    result = review(root, "--format", "json")
    assert result.exit == 1
    names = ["chat:join", "chat:typing", "chat:ask", "chat:vote", "chat:announce", "chat:status", "inbox:message"]
    expected = {("breaking", "event-removed", CHAT, line_of(BASE_SPECS[CHAT], f"- name: {n}"), "old") for n in names}
    expected.add(("compatible", "spec-removed", CHAT, line_of(BASE_SPECS[CHAT], "name: chat", whole=True), "old"))
    assert found(result) == expected
    github = review(root, "--format", "github").stdout.splitlines()
    # No file= for a file that is gone: each annotation names the old line in its message instead.
    assert [line.split("::")[1] for line in github[:-1]] == [
        "error title=eventgen review%3A breaking for deployed clients"
    ] * 7 + ["notice title=eventgen review%3A compatible"]
    short = git(root, "rev-parse", "--short", "HEAD").stdout.strip()
    for name in names:
        assert any(
            f"event '{name}': removed" in line
            and line.endswith(f"(was {short}:{CHAT}:{line_of(BASE_SPECS[CHAT], f'- name: {name}')})")
            for line in github
        ), name


def test_renamed_spec_file_keeps_its_events(template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A spec renamed (file and name) moves its events; nothing breaks on the wire."""
    root = clone_template(template, tmp_path / "repo")
    text = (root / CHAT).read_text(encoding="utf-8").replace("name: chat\n", "name: talk\n", 1)
    (root / CHAT).unlink()
    (root / "events/talk.yaml").write_text(text, encoding="utf-8")
    result = review(root, "--format", "json")
    kinds = sorted((f["class"], f["kind"]) for f in result.doc["findings"])
    assert kinds == [("compatible", "event-moved")] * 7 + [("compatible", "room-renamed")] * 2 + [
        ("compatible", "spec-added"),
        ("compatible", "spec-removed"),
    ]
    assert result.exit == 0
