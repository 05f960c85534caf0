"""Suite-wide setup: hypothesis profiles (`--hypothesis-profile=ci|long`, default ci)."""

import support.hypothesis_profiles  # noqa: F401  (registers and loads the profiles)
