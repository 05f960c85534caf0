"""The one error type eventgen raises for anything a user can fix, and its printer.

Every problem a user can act on is a `Diagnostic`: a message with an optional
position. Code that finds problems collects them and raises one
`EventgenError` carrying all of them, so a run reports everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Exit(IntEnum):
    """Every exit code eventgen uses (CONTRACT.md section 5), in one place."""

    OK = 0
    DRIFT = 1  # also: conflict (a person edited generated code); review: findings not allowed
    INVALID = 2
    UNEXPECTED = 3
    INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
    BROKEN_PIPE = 141  # 128 + SIGPIPE


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A message tied to `path:line:col` (line and col are 1-based; 0 = unknown)."""

    path: str
    line: int = 0
    col: int = 0
    message: str = field(default="", compare=True)
    hint: str | None = field(default=None, compare=False)

    def format(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class EventgenError(Exception):
    """A user-fixable failure. Carries every diagnostic found and the exit code."""

    exit_code: int = Exit.INVALID

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str, *, exit_code: int | None = None) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(path="", message=diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = sorted(set(diagnostics))
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


class ConflictError(EventgenError):
    """Generated code was edited by a person; writing would lose their edit."""

    exit_code = Exit.DRIFT
