"""Handler stubs: written once, then the user's; taken back only while untouched."""

from __future__ import annotations

from ..plan.types import Plan, StubEdit
from ..report import Item, Report
from ..sources import Sources
from .files import patch_stub


def current_text(rel: str, new_text: dict[str, str | None], sources: Sources) -> str | None:
    """A file as this run leaves it so far: patched already, else as read."""
    if rel in new_text:
        return new_text[rel]
    src = sources.get(rel)
    return src.text if src is not None else None


def place_stubs(plan: Plan, new_text: dict[str, str | None], sources: Sources, report: Report) -> None:
    for stub in plan.stubs:
        result = patch_stub(current_text(stub.file, new_text, sources), stub, report)
        if result is not None:
            new_text[stub.file] = result


def retire_stubs(stubs: list[StubEdit], new_text: dict[str, str | None], sources: Sources, report: Report) -> None:
    """Take back the stubs of a removed spec that nobody touched: each is the file's tail,
    byte for byte as written; a module that holds nothing else is deleted."""
    by_file: dict[str, list[StubEdit]] = {}
    for stub in stubs:
        by_file.setdefault(stub.file, []).append(stub)
    for file, own in by_file.items():
        text = current_text(file, new_text, sources)
        if text is None:
            continue
        header = own[0].new_file[: len(own[0].new_file) - len(own[0].append)]
        taken = 0
        for stub in reversed(own):  # appended in plan order: the last one is the file's tail
            if not text.endswith(stub.append):
                break  # edited by a person: theirs now, and so is everything above it
            text = text[: len(text) - len(stub.append)]
            taken += 1
        if not taken:
            continue
        report.add(
            Item(
                "orphaned",
                file,
                f"untouched handler stub{'s' if taken > 1 else ''} {', '.join(s.function + '()' for s in own[len(own) - taken :])}",
            )
        )
        new_text[file] = None if text == header else text
