"""The apply stage's output and every sink's input: one file's bytes before and after."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileChange:
    path: str  # project-relative
    before: bytes | None  # None: the file does not exist yet
    after: bytes | None  # None: delete the file

    @property
    def kind(self) -> str:
        if self.before is None:
            return "create"
        if self.after is None:
            return "delete"
        return "modify"
