"""Did-you-mean suggestions: the closest existing name (difflib), for messages about a name that is not there."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `word`, if one is close enough to be a likely typo."""
    found = difflib.get_close_matches(word, sorted(set(candidates) - {word}), n=1)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)`, or "" when nothing is close."""
    match = closest(word, candidates)
    return f" (did you mean '{match}'?)" if match else ""


def closest_callee(callee: str, candidates: Iterable[str]) -> str | None:
    """The dotted callee most like `callee`. Calls on the same object are compared by their
    last name (`Polls.cast_vote` -> `Polls.vote`), so a shared `Features.` prefix alone
    does not make `Features.save` look like `Features.update_feature`."""
    qualifier, _, last = callee.rpartition(".")
    same = {c.rpartition(".")[2]: c for c in candidates if c.rpartition(".")[0] == qualifier and c != callee}
    match = closest(last, same)
    if match is not None:
        return same[match]
    return closest(callee, [c for c in candidates if c.rpartition(".")[0] != qualifier])


def closest_path(root: Path, rel: str) -> str | None:
    """An existing file like the project-relative `rel`, fixing a typo in any of its parts.

    Walks down from the root: a part that exists is kept, a missing one is replaced by the
    closest sibling (folders for folders, files with the same suffix for the file).
    """
    parts = PurePosixPath(rel).parts
    here = root
    fixed: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if (here / part).is_dir() if not last else (here / part).is_file():
            fixed.append(part)
            here = here / part
            continue
        try:
            entries = list(here.iterdir())
        except OSError:
            return None
        if last:
            suffix = PurePosixPath(part).suffix
            names = [e.name for e in entries if e.is_file() and e.suffix == suffix]
        else:
            names = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
        match = closest(part, names)
        if match is None:
            return None
        fixed.append(match)
        here = here / match
    return PurePosixPath(*fixed).as_posix() if fixed else None
