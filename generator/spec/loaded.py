"""A validated spec with where it came from: what every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Diagnostic
from .models import Spec
from .yaml_source import Positions


@dataclass
class LoadedSpec:
    """A spec with where it came from, so later rules can point into the file."""

    path: str  # relative to the project root, with forward slashes
    spec: Spec
    positions: Positions

    def at(self, loc: tuple[Any, ...], message: str, *, key: bool = False) -> Diagnostic:
        line, col = self.positions.locate(loc, prefer_key=key)
        return Diagnostic(self.path, line, col, message)
