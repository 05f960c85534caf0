"""How `eventgen check` prints what it found: text (grouped by kind, with a diff), json, or
GitHub workflow commands. The JSON shape is documented in docs/ci-output.md.

Invalid input (exit 2) and damaged markers (exit 1) are findings too: under
`--format json|github` they come out in the same format, so a CI tool never has
to scrape stderr.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Diagnostic, EventgenError, Exit

if TYPE_CHECKING:
    from .apply.change import FileChange
    from .pipeline import Outcome
    from .report import Item

# The version of the JSON document; bump it when a key changes meaning or goes away.
JSON_VERSION = 1

# Kinds in the order a reviewer meets them, with their words and what fixes each.
KINDS: dict[str, tuple[str, str]] = {
    "outdated": ("out of date", "run `eventgen generate`"),
    "missing": ("missing", "run `eventgen generate`"),
    "edited": ("edited by hand", "move the change into the spec, or run `eventgen generate --force` to discard it"),
    "orphaned": ("orphaned", "run `eventgen generate` to remove it (no spec generates it here any more)"),
    "expired": (
        "past its sunset",
        "the old name's sunset has passed: remove it from renamed_from (and the sunset with the last one), then run `eventgen generate`",
    ),
}
_ORDER = list(KINDS)


def default_format(environ: Mapping[str, str] = os.environ) -> str:
    """GitHub Actions sets GITHUB_ACTIONS=true: annotate the diff there, plain text elsewhere."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def render_check(outcome: Outcome, fmt: str, *, with_diff: bool = True) -> str:
    # Imported here: an in-sync check on the fast path prints one line and needs no diff.
    from .sink.diff import unified_diff

    report = outcome.report
    drift = sorted(report.drift, key=lambda i: (_ORDER.index(i.kind), i.file, i.line, i.what))
    if fmt == "json":
        return _json_document(
            exit_code=report.exit_code,
            summary=summary(outcome),
            counts={k: len(report.of(k)) for k in ("missing", "outdated", "edited", "orphaned", "unchanged")},
            problems=[_problem(i) for i in drift],
            files=[_file(c, with_diff) for c in sorted(outcome.changes, key=lambda c: c.path)],
            errors=[],
        )
    if fmt == "github":
        root = outcome.config.root
        lines = [
            _gh_command(
                "error",
                root,
                i.file,
                i.line,
                0,
                f"eventgen: {KINDS[i.kind][0]}",
                f"{i.what} is {KINDS[i.kind][0]}: {KINDS[i.kind][1]}",
            )
            for i in drift
        ]
        if drift and with_diff and outcome.changes:
            lines.extend(
                _gh_quoted_group("eventgen diff (what `eventgen generate` would write)", unified_diff(outcome.changes))
            )
        lines.append(summary(outcome))
        return "\n".join(lines) + "\n"
    out: list[str] = []
    for kind in _ORDER:
        items = [i for i in drift if i.kind == kind]
        if items:
            words, fix = KINDS[kind]
            out.append(f"{words} ({len(items)}): {fix}")
            out.extend(f"  {i.where}: {i.what}" + (f" ({i.detail})" if i.detail else "") for i in items)
    if drift and with_diff and outcome.changes:
        out.append("")
        out.append(unified_diff(outcome.changes).rstrip("\n"))
        out.append("")
    out.append(summary(outcome))
    return "\n".join(out) + "\n"


def summary(outcome: Outcome) -> str:
    """The last line: counts, and advice that is true for this mix (generate refuses hand edits)."""
    report = outcome.report
    if not report.drift:
        return report.summary()
    counts = ", ".join(f"{len(report.of(k))} {KINDS[k][0]}" for k in _ORDER if report.of(k) and k != "expired")  # type: ignore[arg-type]
    expired = report.of("expired")
    if expired:
        # generate cannot fix this one: the spec must drop the old names.
        n = len(expired)
        said = f"{n} old event name{'s' if n > 1 else ''} past {'their' if n > 1 else 'its'} sunset: remove {'them' if n > 1 else 'it'} from renamed_from"
        return f"eventgen: drift: {counts}; {said}" if counts else f"eventgen: drift: {said}"
    if not report.of("edited"):
        return f"eventgen: drift: {counts} (run `eventgen generate`)"
    if len(report.of("edited")) == len(report.drift):
        return f"eventgen: drift: {counts} (move the edit into the spec, or run `eventgen generate --force`)"
    return f"eventgen: drift: {counts} (`eventgen generate` fixes the rest once each hand edit is moved into the spec or discarded with --force)"


def render_in_sync(items: int, fmt: str) -> str:
    """What render_check prints for an in-sync project, from the fast path's count alone."""
    line = f"eventgen: in sync ({items} generated items checked)"
    if fmt == "json":
        counts = {"missing": 0, "outdated": 0, "edited": 0, "orphaned": 0, "unchanged": items}
        return _json_document(exit_code=Exit.OK, summary=line, counts=counts, problems=[], files=[], errors=[])
    return line + "\n"


def render_check_error(error: EventgenError, fmt: str, root: Path) -> str:
    """Invalid input or damaged markers, in the machine formats (text goes to stderr unchanged)."""
    diagnostics = error.diagnostics
    # Exit 2: specs, config or a target file are invalid. Exit 1: generated code whose markers a person damaged.
    what = "invalid input" if error.exit_code == Exit.INVALID else "damaged generated code"
    summary = f"eventgen: {len(diagnostics)} problem(s) of {what}; nothing was checked"
    if fmt == "json":
        return _json_document(
            exit_code=error.exit_code,
            summary=summary,
            counts={k: 0 for k in ("missing", "outdated", "edited", "orphaned", "unchanged")},
            problems=[],
            files=[],
            errors=[_error(d) for d in diagnostics],
        )
    lines = [
        _gh_command(
            "error",
            root,
            d.path,
            d.line,
            d.col,
            f"eventgen: {what}",
            d.message + (f"\nhint: {d.hint}" if d.hint else ""),
        )
        for d in diagnostics
    ]
    lines.append(summary)
    return "\n".join(lines) + "\n"


# -- json ----------------------------------------------------------------------


def _json_document(**parts: Any) -> str:
    doc = {"version": JSON_VERSION, "ok": parts["exit_code"] == 0, **parts}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _problem(item: Item) -> dict[str, Any]:
    words, fix = KINDS[item.kind]
    return {
        "kind": item.kind,
        "kind_text": words,
        "file": item.file,
        "line": item.line or None,
        "item": item.what,
        "fix": fix,
    }


def _file(change: FileChange, with_diff: bool) -> dict[str, Any]:
    from .sink.diff import unified_diff

    return {"path": change.path, "change": change.kind, "diff": unified_diff([change]) if with_diff else None}


def _error(d: Diagnostic) -> dict[str, Any]:
    return {"path": d.path or None, "line": d.line or None, "col": d.col or None, "message": d.message, "hint": d.hint}


# -- GitHub workflow commands --------------------------------------------------


def _gh_command(level: str, root: Path, rel: str, line: int, col: int, title: str, message: str) -> str:
    props = []
    if rel:
        props.append(f"file={_gh_prop(workspace_path(root, rel))}")
        if line:
            props.append(f"line={line}")
            if col:
                props.append(f"col={col}")
    props.append(f"title={_gh_prop(title)}")
    return f"::{level} {','.join(props)}::{_gh_data(message)}"


def workspace_path(root: Path, rel: str) -> str:
    """GitHub resolves `file=` against the checkout ($GITHUB_WORKSPACE), not the eventgen project.

    A project in a subfolder of the repository (`eventgen -C app check`) must
    name its files from the repository root, or the annotations land nowhere.
    """
    base = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    target = os.path.realpath(root / rel)
    try:
        return Path(target).relative_to(os.path.realpath(base)).as_posix()
    except ValueError:
        return rel


def _gh_quoted_group(title: str, text: str) -> list[str]:
    """A collapsible group whose lines the runner prints but never runs as commands.

    The diff holds the project's own code; a line of it starting with `::` must
    not become a workflow command, so command processing is paused with a
    one-off token (GitHub's `stop-commands`).
    """
    import secrets

    token = secrets.token_hex(16)
    body = text.rstrip("\n").split("\n") if text else []
    return [f"::group::{_gh_data(title)}", f"::stop-commands::{token}", *body, f"::{token}::", "::endgroup::"]


def _gh_data(text: str) -> str:
    """Escaping of a workflow command's message (actions/toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    """Escaping of a workflow command's property value (actions/toolkit `escapeProperty`)."""
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")
