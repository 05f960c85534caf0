"""What a run found and did, item by item; the Report owns the exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .errors import Exit

ReportMode = Literal["write", "force", "check", "diff"]
ItemKind = Literal["missing", "outdated", "edited", "orphaned", "expired", "unchanged"]

# How each kind reads in each mode: generate acts, check only reports.
_WORDS = {
    "write": {
        "missing": "created",
        "outdated": "updated",
        "edited": "conflict (edited by hand)",
        "orphaned": "removed orphan",
        "expired": "past its sunset",
        "unchanged": "unchanged",
    },
    "force": {
        "missing": "created",
        "outdated": "updated",
        "edited": "overwrote hand edit",
        "orphaned": "removed orphan",
        "expired": "past its sunset",
        "unchanged": "unchanged",
    },
    # A write that a conflict blocked: nothing happened, say what would have.
    "blocked": {
        "missing": "not created",
        "outdated": "not updated",
        "edited": "conflict (edited by hand)",
        "orphaned": "orphan not removed",
        "expired": "past its sunset",
        "unchanged": "unchanged",
    },
    "check": {
        "missing": "missing",
        "outdated": "out of date",
        "edited": "edited by hand",
        "orphaned": "orphaned",
        "expired": "past its sunset",
        "unchanged": "in sync",
    },
}


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    file: str
    what: str  # e.g. "region feature", "generated file", "handler stub ping"
    line: int = 0
    detail: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Report:
    mode: ReportMode = "write"
    items: list[Item] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # filled by the write sink, once it has written

    def add(self, item: Item) -> None:
        self.items.append(item)

    def of(self, *kinds: ItemKind) -> list[Item]:
        return [i for i in self.items if i.kind in kinds]

    @property
    def conflicts(self) -> list[Item]:
        return self.of("edited") if self.mode in ("write", "check", "diff") else []

    @property
    def drift(self) -> list[Item]:
        return self.of("missing", "outdated", "edited", "orphaned", "expired")

    @property
    def exit_code(self) -> int:
        if self.mode == "check":
            return Exit.DRIFT if self.drift else Exit.OK
        if self.conflicts:
            return Exit.DRIFT
        return Exit.OK

    def lines(self) -> list[str]:
        if self.mode in ("check", "diff"):
            words = _WORDS["check"]
        elif self.conflicts:
            words = _WORDS["blocked"]
        else:
            words = _WORDS[self.mode]
        out = []
        for item in sorted(self.items, key=lambda i: (i.file, i.line, i.what)):
            if item.kind == "unchanged":
                continue
            text = f"{item.where}: {words[item.kind]}: {item.what}"
            if item.detail:
                text += f" ({item.detail})"
            out.append(text)
        return out

    def summary(self) -> str:
        counts = {k: len(self.of(k)) for k in ("missing", "outdated", "edited", "orphaned", "unchanged")}
        if self.mode == "check":
            if not self.drift:
                return f"eventgen: in sync ({counts['unchanged']} generated items checked)"
            parts = [
                f"{n} {w}"
                for w, n in (
                    ("missing", counts["missing"]),
                    ("out of date", counts["outdated"]),
                    ("edited by hand", counts["edited"]),
                    ("orphaned", counts["orphaned"]),
                )
                if n
            ]
            expired = len(self.of("expired"))
            if expired:
                # Not something generate fixes: the spec must drop the old names.
                aliases = f"{plural(expired, 'old event name')} past {'its' if expired == 1 else 'their'} sunset: remove {'it' if expired == 1 else 'them'} from renamed_from"
                return "eventgen: drift: " + "; ".join(filter(None, [", ".join(parts), aliases]))
            return "eventgen: drift: " + ", ".join(parts) + " (run `eventgen generate`)"
        if self.conflicts:
            n = len(self.conflicts)
            return (
                f"eventgen: {plural(n, 'generated item')} {'was' if n == 1 else 'were'} edited by hand; nothing written. "
                "Move the edit into the spec, or rerun with --force to overwrite it."
            )
        updated = counts["outdated"] + (counts["edited"] if self.mode == "force" else 0)
        changed = counts["missing"] + updated + counts["orphaned"]
        if not changed:
            return f"eventgen: nothing to do ({counts['unchanged']} generated items up to date)"
        # Files and generated items are counted apart: one file holds several items (a router
        # gets an imports region and an emit call), and one item change may touch no new file.
        items = ", ".join(
            f"{n} {word}"
            for n, word in ((counts["missing"], "created"), (updated, "updated"), (counts["orphaned"], "removed"))
            if n
        )
        verb = "would change" if self.mode == "diff" else "changed"
        return f"eventgen: {verb} {plural(len(self.written), 'file')} (generated items: {items})"


def plural(n: int, noun: str) -> str:
    """`1 file`, `2 files`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
