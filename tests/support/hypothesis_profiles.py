"""Hypothesis profiles for the fuzz tests: `ci` (default, modest) and `long`.

Importing this module registers both and, unless a profile was already chosen,
loads the one named by EVENTGEN_HYPOTHESIS_PROFILE, else `ci`.

`pytest --hypothesis-profile=long` needs the profiles registered before pytest
configures its plugins, which only a conftest can do: with the line
`import support.hypothesis_profiles  # noqa: F401` in tests/conftest.py it works;
without it, `EVENTGEN_HYPOTHESIS_PROFILE=long python3 -m pytest ...` does the same.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # examples run the CLI and ruff: wall time varies with the machine's load
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}
LONG_FACTOR = 20

settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("long", max_examples=100 * LONG_FACTOR, **_COMMON)

_chosen = os.environ.get("EVENTGEN_HYPOTHESIS_PROFILE")
if _chosen:
    settings.load_profile(_chosen)
elif settings.get_current_profile_name() == "default":
    settings.load_profile("ci")


def examples(ci: int) -> int:
    """A test's example count: `ci` under the ci profile, LONG_FACTOR times more under `long`."""
    return ci * LONG_FACTOR if settings.get_current_profile_name() == "long" else ci
