"""What the tests share: project factory, CLI runner, tree snapshots, spec texts, and the heavier harnesses.

Imported as `from support.X import ...`: pytest puts tests/ on sys.path (rootdir conftest, no tests/__init__.py).
"""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
