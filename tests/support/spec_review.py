"""Real git repositories of specs for the `eventgen review` tests (issue 20)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.review import git, run_cli, write

FEATURE_SPEC = """\
name: feature
description: Live updates for features.

rooms:
  feature:
    pattern: "feature:{feature_id}"
    access: open_webui.socket.access:can_read_feature

events:
  - name: feature:subscribe
    description: Subscribe to a feature's live updates.
    direction: client_to_server
    action: join
    room: feature
    payload:
      feature_id: {type: str, min_length: 1, max_length: 128}

  - name: feature:unsubscribe
    direction: client_to_server
    action: leave
    room: feature
    payload:
      feature_id: str

  - name: feature:updated
    direction: server_to_client
    room: feature
    payload:
      feature_id: str
      data: dict
    emit:
      helper: notify_feature_update
      from:
        - file: backend/open_webui/routers/features.py
          function: update_feature
          after: Features.update_feature
          args: {feature_id: feature_id, data: feature.model_dump()}
    listener: FeatureUpdates
"""

CHAT_SPEC = """\
name: chat
description: Chat rooms.

rooms:
  chat:
    pattern: "chat:{chat_id}"
    access: authenticated
  inbox:
    pattern: "user:{user_id}"

events:
  - name: chat:join
    direction: client_to_server
    action: join
    room: chat
    payload:
      chat_id: {type: str, max_length: 64}

  - name: chat:typing
    direction: client_to_server
    action: relay
    room: chat
    payload:
      chat_id: str
      typing: bool

  - name: chat:ask
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:answer
    payload:
      question: {type: str, max_length: 2000}
      tone: {type: str, enum: [plain, formal], default: plain}
      temperature: {type: float, ge: 0, le: 2, required: false}
      count: int

  - name: chat:vote
    direction: client_to_server
    action: handle
    handler: open_webui.socket.chat_handlers:vote
    room: chat
    payload:
      chat_id: str
      choice: {type: str, enum: [up, down]}

  - name: chat:announce
    direction: server_to_client
    broadcast: true
    payload:
      text: str
      level: {type: int, ge: 0, le: 5, required: false}

  - name: chat:status
    description: What the assistant is doing.
    direction: server_to_client
    room: chat
    payload:
      chat_id: str
      state: {type: str, enum: [idle, busy]}
      note: str | None

  - name: inbox:message
    direction: server_to_client
    room: inbox
    payload:
      user_id: str
      body: str
"""

BASE_SPECS = {"events/feature.yaml": FEATURE_SPEC, "events/chat.yaml": CHAT_SPEC}


def commit_all(root: Path, message: str = "specs") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", message)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def init_repo(root: Path, files: dict[str, str], *, branch: str = "main") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    for rel, text in files.items():
        write(root, rel, text)
    commit_all(root, "base")
    return root


def clone_template(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, symlinks=True)
    return target


def edit(root: Path, rel: str, old: str | None, new: str | None) -> None:
    """Replace `old` (which must occur exactly once) by `new`; old None writes a new file, new None deletes it."""
    path = root / rel
    if new is None:
        path.unlink()
        return
    if old is None:
        write(root, rel, new)
        return
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{rel}: {old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(text: str, snippet: str, after: str | None = None, *, whole: bool = False) -> int:
    """1-based line of the only line holding `snippet` (the first one after the line holding `after`; `whole`: equal to it)."""
    lines = text.splitlines()
    if whole:
        lines = [line if line == snippet else "" for line in lines]
    start = 0
    if after is not None:
        starts = [i for i, line in enumerate(lines) if after in line]
        assert len(starts) == 1, f"{after!r} is on {len(starts)} lines"
        start = starts[0]
        hits = [i for i, line in enumerate(lines) if i >= start and snippet in line][:1]
    else:
        hits = [i for i, line in enumerate(lines) if snippet in line]
        assert len(hits) == 1, f"{snippet!r} is on {len(hits)} lines"
    assert hits, f"{snippet!r} not found"
    return hits[0] + 1


@dataclass
class Review:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.out)

    def found(self) -> set[tuple[str, str, str, int, str]]:
        return {(f["class"], f["kind"], f["path"], f["line"], f["side"]) for f in self.doc["findings"]}


def review(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Review:
    run = run_cli(capsys, "-C", str(root), "review", *args)
    return Review(run.code, run.out, run.err)


def old_text(root: Path, rel: str, ref: str = "HEAD") -> str:
    return git(root, "show", f"{ref}:{rel}").stdout
