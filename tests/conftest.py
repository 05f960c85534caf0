"""Suite-wide setup: hypothesis profiles (`--hypothesis-profile=ci|long`, default ci), assertion
rewriting in tests/support/, and the check that toolchain tests carry their mark (support.marks)."""

import pytest

pytest.register_assert_rewrite("support")

from collections.abc import Iterator  # noqa: E402

import support.hypothesis_profiles  # noqa: E402, F401  (registers and loads the profiles)
from support import marks  # noqa: E402
from support.frontend import Browser  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    marks.current = frozenset(m.name for m in item.iter_markers())


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    marks.current = None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium, one per test module (it starts in about a second)."""
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield b
    finally:
        b.close()
