"""What `eventgen review` found: findings with a class and a spec line, and the report that owns the exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..errors import Exit

Category = Literal["breaking", "security", "compatible"]
Side = Literal["new", "old"]

# The order a reviewer reads them in, and their words.
CATEGORIES: dict[Category, str] = {
    "breaking": "breaking for deployed clients",
    "security": "security-relevant",
    "compatible": "compatible",
}
_ORDER = list(CATEGORIES)

# Exit 1 is the one "look at this" code of every gate (check: drift; review: findings not allowed).


@dataclass(frozen=True)
class Where:
    """A spec line. `side` old: the line is in the spec at the compared ref (the thing was removed).

    `anchor` is the nearest line on the new side (the event or field that lost something),
    where a pull-request annotation can stand; None when the whole file is gone.
    """

    path: str
    line: int
    col: int = 0
    side: Side = "new"
    anchor: tuple[str, int] | None = None


@dataclass(frozen=True)
class Finding:
    category: Category
    kind: str  # stable identifier, e.g. "field-removed", "access-weakened"
    subject: (
        str  # what changed, as a reviewer names it: "event 'feature:updated'", "room 'feature' (feature:{feature_id})"
    )
    change: str  # what happened to it, one clause
    why: str  # one sentence: why it matters
    where: Where
    spec: str | None = None
    event: str | None = None
    room: str | None = None

    @property
    def text(self) -> str:
        return f"{self.subject}: {self.change}"


@dataclass
class ReviewReport:
    """Findings of one comparison; derives the exit code from the flags a reviewer passed."""

    findings: list[Finding]
    against: str  # how the compared ref is shown: the ref as given, or the merge base's short sha
    commit: str  # the full sha of the compared commit
    base_note: str = ""  # how the default ref was chosen, e.g. "merge base of HEAD and origin/main"
    allow_breaking: bool = False
    allow_security: bool = False
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings = sort_findings(self.findings)

    def of(self, category: Category) -> list[Finding]:
        return [f for f in self.findings if f.category == category]

    @property
    def counts(self) -> dict[str, int]:
        return {c: len(self.of(c)) for c in _ORDER}

    def blocking(self, category: str) -> bool:
        """Whether findings of this class fail the run (a reviewer acknowledges them with a flag)."""
        if category == "breaking":
            return not self.allow_breaking
        if category == "security":
            return not self.allow_security
        return False

    @property
    def exit_code(self) -> int:
        failing = any(self.blocking(f.category) for f in self.findings)
        return Exit.DRIFT if failing else Exit.OK

    def summary(self) -> str:
        counts = self.counts
        if not self.findings:
            return f"eventgen: review against {self.against}: no changes to the specs' events"
        parts = ", ".join(f"{counts[c]} {CATEGORIES[c].split(' for ')[0]}" for c in _ORDER if counts[c])
        text = f"eventgen: review against {self.against}: {parts}"
        flags = [f"--allow-{c}" for c in ("breaking", "security") if counts[c] and self.blocking(c)]
        if flags:
            return f"{text} (once reviewed, acknowledge with {' and '.join(flags)})"
        allowed = [c for c in ("breaking", "security") if counts[c]]
        if allowed:
            return f"{text} (acknowledged: {' and '.join(allowed)})"
        return text


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (
            _ORDER.index(f.category),
            f.where.path,
            f.where.side != "new",
            f.where.line,
            f.where.col,
            f.kind,
            f.subject,
        ),
    )
