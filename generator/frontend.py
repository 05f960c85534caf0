"""Placeholder until the frontend planner lands: Svelte listeners and the TypeScript event map."""

from __future__ import annotations

from .config import Config
from .edits import FileEdit
from .sources import Sources
from .spec.load import LoadedSpec


def frontend_files(specs: list[LoadedSpec], config: Config, sources: Sources) -> list[FileEdit]:
    return []
