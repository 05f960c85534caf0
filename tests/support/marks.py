"""Tests that need a toolchain carry its mark (`node`, `browser`, `redis`; pyproject.toml lists them),
so `-m "not node"` and the like select what a machine can run. The helpers that start those tools
call `needs(mark)`: a test that reaches one without the mark fails loudly and says which mark.

tests/conftest.py sets `current` to the running test's marks (None outside a test, where nothing is checked).
"""

from __future__ import annotations

import pytest

current: frozenset[str] | None = None


def needs(mark: str, what: str) -> None:
    if current is not None and mark not in current:
        pytest.fail(f"this test runs {what}: mark it @pytest.mark.{mark} (tests/support/marks.py)", pytrace=False)
