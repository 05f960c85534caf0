"""Suite-wide setup: hypothesis profiles (`--hypothesis-profile=ci|long`, default ci)."""

import hypothesis_profiles  # noqa: F401  (registers and loads the profiles)
