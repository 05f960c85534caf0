"""The fast path of `check` and of a no-op `generate`: recompute the run stamp (stamps.py)
from the disk and compare it with the one the last in-sync `generate` wrote.

Standard library only: no YAML, pydantic, Jinja or libcst. It answers "in sync" or "don't
know"; on "don't know" (no stamp, any mismatch, an odd tree, an error) the caller runs the
full path, which alone decides drift and invalid input and words them.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from .config import Config, load_config
from .errors import EventgenError
from .markers import ASIDE_SUFFIX, TEMP_SUFFIX
from .stamps import STAMP, Unknown, covered_files, plain_path, read_disk, run_digest, spec_files, tool_digest

# Set to 1 to always take the full path (tests compare both; a suspicious user can too).
FULL_PATH_ENV = "EVENTGEN_FULL_CHECK"


@dataclass(frozen=True)
class InSync:
    config: Config
    items: int  # generated items the full check would have counted


def in_sync(root: Path) -> InSync | None:
    """The project is certainly in sync (what the full check would say), or None: don't know."""
    if os.environ.get(FULL_PATH_ENV, "") not in ("", "0"):
        return None
    try:
        config = load_config(root)
        return _verify(config)
    except (EventgenError, OSError, UnicodeDecodeError, ValueError, Unknown):
        return None  # the full path says what is wrong, in its own words


def _verify(config: Config) -> InSync | None:
    if not (config.root / config.specs).is_dir():
        return None
    read = read_disk(config.root)
    first = read(config.models_module).split(b"\n", 1)[0].decode("utf-8")
    found = STAMP.search(first)
    if found is None:
        return None
    digest, items, until, listed = found.group(1), int(found.group(3)), found.group(4), found.group(5)
    if until is not None and datetime.datetime.now(datetime.timezone.utc).date().isoformat() >= until:
        return None  # an old event name has reached its sunset: check reports it
    covered = covered_files(config)
    reads = listed.split(",") if listed else []
    if not all(plain_path(rel) and _inside(config.root, rel) for rel in reads):
        return None  # a hand-edited stamp: never read outside the project
    if _leftovers(config, [*covered, *reads]):
        return None
    specs = [(rel, read(rel)) for rel in spec_files(config)]
    listed_reads = [(rel, read(rel)) for rel in reads]
    if run_digest(config, tool_digest(), covered, specs, listed_reads, items, until) != digest:
        return None
    return InSync(config, items)


def _inside(root: Path, rel: str) -> bool:
    real = os.path.realpath(root)
    return os.path.commonpath([real, os.path.realpath(os.path.join(root, rel))]) == real


def _leftovers(config: Config, files: list[str]) -> bool:
    """Temporary files of a killed run beside any file eventgen writes: check reports them."""
    folders = {os.path.dirname(rel) for rel in files} | {config.components, os.path.dirname(config.types)}
    for folder in folders:
        try:
            names = os.listdir(config.root / folder)
        except OSError:
            continue
        if any(n.startswith(".") and n.endswith((TEMP_SUFFIX, ASIDE_SUFFIX)) for n in names):
            return True
    return False
