"""The floors: the least work an `eventgen check` must do.

Library floor (default): start Python, import click, jinja2, pydantic, libcst and
yaml, read every spec with yaml.safe_load, parse the socket module with libcst and
print it back once, and read every other target file. No validation, no rendering,
no comparison: what any check that re-derives the code from the specs pays.

Stamp floor (--stamp): start Python, read every spec and every generated or patched
file, and hash them (sha256). No imports beyond the standard library's: what any
check that trusts recorded digests must still do to know nothing changed (issue 19).

Usage: python floor.py [--stamp] MANIFEST  (JSON: {"root", "specs", "socket", "others"}, paths relative to root)
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def stamp_floor(manifest: str) -> int:
    plan = json.loads(Path(manifest).read_text(encoding="utf-8"))
    root = Path(plan["root"])
    h = hashlib.sha256()
    for rel in [*plan["specs"], plan["socket"], *plan["others"]]:
        h.update((root / rel).read_bytes())
    return 0 if len(h.hexdigest()) == 64 else 1


def main(manifest: str) -> int:
    import click  # noqa: F401 - the imports are part of this floor
    import jinja2  # noqa: F401
    import libcst
    import pydantic  # noqa: F401
    import yaml

    plan = json.loads(Path(manifest).read_text(encoding="utf-8"))
    root = Path(plan["root"])
    specs = [yaml.safe_load((root / rel).read_text(encoding="utf-8")) for rel in plan["specs"]]
    socket_text = (root / plan["socket"]).read_text(encoding="utf-8")
    printed = libcst.parse_module(socket_text).code
    others = sum(len((root / rel).read_bytes()) for rel in plan["others"])
    # Use every result, so nothing above can be skipped as dead work.
    ok = len(specs) == len(plan["specs"]) and printed == socket_text and others > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(stamp_floor(sys.argv[2]) if sys.argv[1] == "--stamp" else main(sys.argv[1]))
