"""How `eventgen check` prints its findings: text (with diffs), json, or GitHub workflow commands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .changes import unified_diff

if TYPE_CHECKING:
    from .pipeline import Outcome

_KIND_WORDS = {"missing": "missing", "outdated": "out of date", "edited": "edited by hand", "orphaned": "orphaned"}


def render_check(outcome: Outcome, fmt: str, *, with_diff: bool = True) -> str:
    report = outcome.report
    drift = sorted(report.drift, key=lambda i: (i.file, i.line, i.what))
    if fmt == "json":
        doc = {
            "ok": not drift,
            "exit_code": report.exit_code,
            "checked": len(report.items),
            "problems": [
                {"kind": i.kind, "kind_text": _KIND_WORDS[i.kind], "file": i.file, "line": i.line or None, "item": i.what}
                for i in drift
            ],
            "files": sorted({c.path for c in outcome.changes}),
        }
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "github":
        lines = []
        for i in drift:
            props = f"file={_gh_prop(i.file)}"
            if i.line:
                props += f",line={i.line}"
            props += f",title={_gh_prop('eventgen: ' + _KIND_WORDS[i.kind])}"
            lines.append(f"::error {props}::{_gh_data(f'{i.what} is {_KIND_WORDS[i.kind]}; run `eventgen generate`')}")
        lines.append(report.summary())
        return "\n".join(lines) + "\n"
    out = [f"{i.where}: {_KIND_WORDS[i.kind]}: {i.what}" for i in drift]
    if drift and with_diff:
        out.append(unified_diff(outcome.changes).rstrip("\n"))
    out.append(report.summary())
    return "\n".join(line for line in out if line) + "\n"


def _gh_data(text: str) -> str:
    """GitHub workflow-command escaping for the message part."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    """GitHub workflow-command escaping for a property value."""
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")
