"""Real git repositories of specs for the `eventgen review` tests (issue 20)."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.cli import Run, run_cli
from support.project import git
from support.specs import CHAT_REVIEW_SPEC, FEATURE_SPEC
from support.tree import write

BASE_SPECS = {"events/feature.yaml": FEATURE_SPEC, "events/chat.yaml": CHAT_REVIEW_SPEC}


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


def review(root: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return run_cli("-C", str(root), "review", *args, env=env)


def found(run: Run) -> set[tuple[str, str, str, int, str]]:
    """The findings of `review --format json` as (class, kind, path, line, side)."""
    return {(f["class"], f["kind"], f["path"], f["line"], f["side"]) for f in run.doc["findings"]}


def old_text(root: Path, rel: str, ref: str = "HEAD") -> str:
    return git(root, "show", f"{ref}:{rel}").stdout
