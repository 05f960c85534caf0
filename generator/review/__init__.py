"""`eventgen review`: what a spec change means for deployed clients and for security, against a git ref.

gitref   the specs at the ref, read with git (nothing checked out, nothing written)
compare  both sides event by event -> classified findings
output   text | markdown | json | github
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Diagnostic, EventgenError
from ..spec.loaded import LoadedSpec
from .findings import ReviewReport

if TYPE_CHECKING:
    from ..config import Config
    from .gitref import Repo


def review_project(
    project: Path,
    against: str | None = None,
    *,
    allow_breaking: bool = False,
    allow_security: bool = False,
    today: datetime.date | None = None,
) -> ReviewReport:
    """Compare the specs at `against` (default: the merge base with the default branch) with the working tree."""
    from ..config import load_config
    from .compare import Snapshot, compare
    from .gitref import open_repo

    config = load_config(project)
    repo = open_repo(config.root)
    base = repo.base(against)
    notes: list[str] = []
    old, old_problems = _at_ref(repo, base.commit, base.label, config.specs, notes)
    new, new_problems = _working_tree(config, notes)
    if old_problems or new_problems:
        raise EventgenError(old_problems + new_problems)
    findings = compare(
        Snapshot(old, base.label),
        Snapshot(new, "working tree"),
        today=today,
        max_bytes=getattr(config, "max_bytes", None),
    )
    return ReviewReport(findings, base.label, base.commit, base.note, allow_breaking, allow_security, notes)


def _at_ref(
    repo: Repo, commit: str, label: str, current_specs: str, notes: list[str]
) -> tuple[list[LoadedSpec], list[Diagnostic]]:
    """The specs as they were at the commit; problems are named `<ref>:<path>:line:col`, as `git show` names the file."""
    from ..spec.load import load_spec_text
    from ..spec.rules import check_specs

    if not commit:
        return [], []
    folder = repo.specs_folder(commit, current_specs)
    files = repo.spec_files(commit, folder)
    if not files:
        notes.append(f"no specs in {folder}/ at {label}: every spec counts as new")
    loaded: list[LoadedSpec] = []
    problems: list[Diagnostic] = []
    for rel, raw in files.items():
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            problems.append(Diagnostic(rel, line, 0, f"the spec is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"))
            continue
        spec, errors = load_spec_text(text, rel)
        problems.extend(errors)
        if spec is not None:
            loaded.append(spec)
    problems.extend(check_specs(loaded))
    named = sorted(replace(d, path=f"{label}:{d.path}") for d in problems)
    if named:  # one hint for the lot: the reader did not necessarily touch these specs
        named[0] = replace(
            named[0],
            hint=named[0].hint
            or f"the specs were already invalid at {label}: compare with another ref (--against REF)",
        )
    return loaded, named


def _working_tree(config: Config, notes: list[str]) -> tuple[list[LoadedSpec], list[Diagnostic]]:
    from ..pipeline import spec_files
    from ..spec.load import load_specs

    if not (config.root / config.specs).is_dir():
        notes.append(f"no specs folder {config.specs}/ in the working tree: every spec counts as removed")
    try:
        return load_specs(spec_files(config), config.root), []
    except EventgenError as exc:
        return [], list(exc.diagnostics)
