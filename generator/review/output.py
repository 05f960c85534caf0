"""How `eventgen review` prints: text for a terminal, markdown for a pull-request comment,
json for tools (versioned like `check --format json`), github for workflow annotations.
The shapes are documented in docs/review.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..check_output import _gh_command
from ..errors import Diagnostic, EventgenError
from .findings import CATEGORIES, Category, Finding, ReviewReport

# The version of the JSON document; bump it when a key changes meaning or goes away.
JSON_VERSION = 1

FORMATS = ("text", "markdown", "json", "github")


def render_review(report: ReviewReport, fmt: str, root: Path) -> str:
    return {"text": _text, "markdown": _markdown, "json": _json, "github": _github}[fmt](report, root)


def render_review_error(error: EventgenError, fmt: str, root: Path) -> str:
    """Invalid input (exit 2) in the machine formats; text goes to stderr through the CLI's usual path."""
    diagnostics = error.diagnostics
    summary = f"eventgen: review: {len(diagnostics)} problem(s) of invalid input; nothing was compared"
    if fmt == "json":
        return _dump(
            {
                "version": JSON_VERSION,
                "ok": False,
                "exit_code": error.exit_code,
                "summary": summary,
                "against": None,
                "counts": {c: 0 for c in CATEGORIES},
                "findings": [],
                "notes": [],
                "errors": [_error(d) for d in diagnostics],
            }
        )
    if fmt == "markdown":
        lines = [f"### eventgen review: invalid input (exit {error.exit_code})", ""]
        lines += [f"- {_md(d.format())}" for d in diagnostics]
        return "\n".join(lines) + "\n"
    lines = []
    for d in diagnostics:
        # A problem in the spec at the ref (`<ref>:events/x.yaml`) has no file in the checkout to annotate.
        here = bool(d.path) and (root / d.path).is_file()
        message = d.message if here else d.format()
        lines.append(
            _gh_command(
                "error",
                root,
                d.path if here else "",
                d.line,
                d.col,
                "eventgen review: invalid input",
                message + (f"\nhint: {d.hint}" if here and d.hint else ""),
            )
        )
    lines.append(summary)
    return "\n".join(lines) + "\n"


def location(finding: Finding, report: ReviewReport) -> str:
    """`path:line` on the new side; `<ref>:path:line` for a line that exists only at the ref (a removal)."""
    where = finding.where
    text = f"{where.path}:{where.line}" if where.line else where.path
    return f"{report.against}:{text}" if where.side == "old" else text


# -- text ------------------------------------------------------------------------


def _header(report: ReviewReport) -> str:
    how = f" ({report.base_note})" if report.base_note else ""
    return f"eventgen review: the working tree against {report.against}{how}"


def _text(report: ReviewReport, root: Path) -> str:
    out = [_header(report)]
    out += [f"note: {n}" for n in report.notes]
    for category, words in CATEGORIES.items():
        items = report.of(category)
        if not items:
            continue
        out.append("")
        out.append(f"{words} ({len(items)}):")
        for f in items:
            out.append(f"  {location(f, report)}: {f.text}")
            if category != "compatible":
                out.append(f"      {f.why}")
    out.append("")
    out.append(report.summary())
    return "\n".join(out) + "\n"


# -- markdown --------------------------------------------------------------------

_MD_TITLES = {"breaking": "Breaking for deployed clients", "security": "Security-relevant", "compatible": "Compatible"}


def _markdown(report: ReviewReport, root: Path) -> str:
    counts = report.counts
    if report.findings:
        parts = ", ".join(
            f"**{counts[c]} {CATEGORIES[c].split(' for ')[0]}**" if c != "compatible" else f"{counts[c]} compatible"
            for c in CATEGORIES
            if counts[c]
        )
    else:
        parts = "no changes to the specs' events"
    verdict = {0: "passes", 1: "fails"}.get(report.exit_code, "fails")
    lines = [f"### eventgen review: {parts}", ""]
    how = f" ({_md(report.base_note)})" if report.base_note else ""
    flags = [f"`--allow-{c}`" for c in ("breaking", "security") if counts[c] and report.blocking(c)]
    tail = f"; acknowledge with {' and '.join(flags)} once reviewed" if flags else ""
    lines.append(f"Specs compared with `{_code(report.against)}`{how}: the gate **{verdict}**{tail}.")
    for note in report.notes:
        lines += ["", f"_{_md(note)}_"]
    category: Category
    for category in ("breaking", "security"):
        items = report.of(category)
        if not items:
            continue
        lines += [
            "",
            f"#### {_MD_TITLES[category]} ({len(items)})",
            "",
            "| where | change | why it matters |",
            "| --- | --- | --- |",
        ]
        for f in items:
            lines.append(f"| {_md_where(f, report)} | {_md(f.text)} | {_md(f.why)} |")
    compatible = report.of("compatible")
    if compatible:
        lines += ["", f"<details><summary>Compatible ({len(compatible)})</summary>", ""]
        lines += [f"- {_md_where(f, report)} {_md(f.text)}" for f in compatible]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _md_where(finding: Finding, report: ReviewReport) -> str:
    text = f"`{_code(location(finding, report))}`"
    return f"{text} (removed)" if finding.where.side == "old" else text


def _md(text: str) -> str:
    """Text for a table cell or list item: no line breaks, no table or HTML syntax from spec values."""
    text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")


def _code(text: str) -> str:
    return " ".join(text.split()).replace("`", "'")


# -- json ------------------------------------------------------------------------


def _json(report: ReviewReport, root: Path) -> str:
    return _dump(
        {
            "version": JSON_VERSION,
            "ok": report.exit_code == 0,
            "exit_code": report.exit_code,
            "summary": report.summary(),
            "against": {"ref": report.against, "commit": report.commit or None, "how": report.base_note or None},
            "counts": report.counts,
            "findings": [_finding(f, report) for f in report.findings],
            "notes": list(report.notes),
            "errors": [],
        }
    )


def _finding(f: Finding, report: ReviewReport) -> dict[str, Any]:
    return {
        "class": f.category,
        "kind": f.kind,
        "blocking": report.blocking(f.category),
        "subject": f.subject,
        "change": f.change,
        "why": f.why,
        "path": f.where.path,
        "line": f.where.line or None,
        "side": f.where.side,
        "spec": f.spec,
        "event": f.event,
        "room": f.room,
    }


def _error(d: Diagnostic) -> dict[str, Any]:
    return {"path": d.path or None, "line": d.line or None, "col": d.col or None, "message": d.message, "hint": d.hint}


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- github ------------------------------------------------------------------------


def _github(report: ReviewReport, root: Path) -> str:
    lines = [_gh_command("notice", root, "", 0, 0, "eventgen review", note) for note in report.notes]
    for f in report.findings:
        level = "notice" if f.category == "compatible" else "error" if report.blocking(f.category) else "warning"
        title = f"eventgen review: {CATEGORIES[f.category]}"
        message = f.text + ("" if f.category == "compatible" else f". {f.why}")
        path, line = f.where.path, f.where.line
        if f.where.side == "old":
            # The line is gone from the checkout: annotate the nearest line that is still there.
            message += f" (was {location(f, report)})"
            path, line = f.where.anchor if f.where.anchor else ("", 0)
        lines.append(_gh_command(level, root, path, line, 0, title, message))
    lines.append(report.summary())
    return "\n".join(lines) + "\n"
