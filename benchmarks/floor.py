"""The floor: the least work any `eventgen check` built on these libraries must do.

Start Python, import click, jinja2, pydantic, libcst and yaml, read every spec
with yaml.safe_load, parse the socket module with libcst and print it back once,
and read every other target file. No validation, no rendering, no comparison.

Usage: python floor.py MANIFEST  (JSON: {"root", "specs", "socket", "others"}, paths relative to root)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click  # noqa: F401 - the import is part of the floor
import jinja2  # noqa: F401
import libcst
import pydantic  # noqa: F401
import yaml


def main(manifest: str) -> int:
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
    sys.exit(main(sys.argv[1]))
