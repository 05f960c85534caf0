"""Markers that delimit generated code, and the content hash that tells updates from hand edits.

A region in a user's Python file:

    # eventgen:begin <id> sha=<12 hex> -- ...
    ...generated lines...
    # eventgen:end <id>

A whole generated file carries `eventgen:file [spec=<name>] sha=<12 hex>` in a
comment on its first line. The hash is taken over a *normalized* form of the
content (the syntax tree for Python), so a formatter run is not a hand edit.
The models module's marker also carries the run stamp after the hash (stamps.py).
"""

from __future__ import annotations

import ast
import hashlib
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import ConflictError, Diagnostic

BEGIN = re.compile(r"^([ \t]*)# eventgen:begin (\S+) sha=([0-9a-f]{12})\b.*$")
END = re.compile(r"^([ \t]*)# eventgen:end (\S+)\s*$")
ANY_MARK = re.compile(r"#\s*eventgen:(begin|end)\b")
FILE_MARK = re.compile(r"eventgen:file(?: spec=(\S+))? sha=([0-9a-f]{12})")


# A whole generated file is normalized for its marker, for the expected content and for the
# content found, which in the steady state are one text: parse and dump it once per run.
@lru_cache(maxsize=256)
def normalize_python(code: str) -> str:
    """The syntax tree of a block: comments, quotes, wrapping and indentation do not count."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        # A block that no longer parses was certainly edited; compare it as text.
        return "\x00text\x00" + "\n".join(line.rstrip() for line in code.replace("\r\n", "\n").split("\n"))
    return _dump(tree)


# The tree is written out the way `ast.dump(tree)` writes it on Python 3.10 and 3.11, on
# every version. ast.dump itself would make the hash depend on the Python that ran eventgen:
# 3.12 adds `type_params=[]` to every function and class, 3.13 leaves out empty fields, so a
# project generated on one version drifted on the next. (A formatter per node class, with
# the common value types handled inline, also makes it faster than ast.dump.)
# Files a run writes beside its targets and removes when done; a killed run can leave them (CONTRACT 7.7).
TEMP_SUFFIX = ".eventgen-tmp"  # new content, staged
ASIDE_SUFFIX = ".eventgen-del"  # a deleted file, kept until the run succeeds

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines as Python numbers them, line endings kept."""
    return _LINE.findall(text)


_MISSING = object()
# Fields newer Pythons added; written only when not empty, which older ones cannot parse.
_ADDED_FIELDS = frozenset({"type_params"})
_FORMATTERS: dict[type, Callable[[Any], str]] = {}


def _dump(value: object) -> str:
    formatter = _FORMATTERS.get(type(value))
    if formatter is not None:
        return formatter(value)
    if isinstance(value, ast.AST):
        return _formatter(type(value))(value)
    if isinstance(value, list):
        return "[" + ", ".join([_dump(item) for item in value]) + "]"
    return repr(value)


def _formatter(cls: type) -> Callable[[Any], str]:
    name = cls.__name__
    names: tuple[str, ...] = getattr(cls, "_fields", ())
    if not names:  # Load(), Add(), ...: always the same text
        text = name + "()"
        _FORMATTERS[cls] = lambda node: text
        return _FORMATTERS[cls]
    # An optional field (`expr?` in Python's grammar) has the class default None; when None it
    # is left out, as ast.dump leaves it out. A required field holding None (Constant) is kept.
    fields = tuple((field + "=", field, getattr(cls, field, ...) is None, field in _ADDED_FIELDS) for field in names)

    def formatter(node: ast.AST) -> str:
        parts = []
        for label, field, optional, added in fields:
            value = getattr(node, field, _MISSING)
            if value is None:
                if not optional:
                    parts.append(label + "None")
            elif value is _MISSING:
                continue
            elif type(value) is list:
                if value:
                    parts.append(label + "[" + ", ".join([_dump(item) for item in value]) + "]")
                elif not added:
                    parts.append(label + "[]")
            elif type(value) is str:
                parts.append(label + repr(value))
            else:
                parts.append(label + _dump(value))
        return name + "(" + ", ".join(parts) + ")"

    _FORMATTERS[cls] = formatter
    return formatter


def normalize_text(code: str) -> str:
    """For TypeScript and Svelte: line endings and trailing spaces do not count."""
    return "\n".join(line.rstrip() for line in code.replace("\r\n", "\n").split("\n")).strip("\n")


def digest(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:12]


def begin_line(region_id: str, sha: str, source: str) -> str:
    return (
        f"# eventgen:begin {region_id} sha={sha} -- generated from {source}; edit the spec, then run eventgen generate"
    )


def end_line(region_id: str) -> str:
    return f"# eventgen:end {region_id}"


@dataclass(frozen=True)
class FoundRegion:
    """A region as it stands in a file: line indexes are 0-based into `lines`."""

    id: str
    sha: str
    indent: str
    begin: int
    end: int
    body: str  # the lines between the markers, joined, newlines kept

    @property
    def line(self) -> int:
        return self.begin + 1


def scan_regions(lines: list[str], path: str) -> list[FoundRegion]:
    """Find every marked region; unbalanced or duplicate markers are a conflict a person must fix."""
    regions: list[FoundRegion] = []
    problems: list[Diagnostic] = []
    open_: tuple[int, re.Match[str]] | None = None
    seen: dict[str, int] = {}
    for i, raw in enumerate(lines):
        if "eventgen:" not in raw:
            continue
        line = raw.rstrip("\r\n")
        b = BEGIN.match(line)
        e = END.match(line) if not b else None
        if b:
            if open_ is not None:
                problems.append(
                    Diagnostic(
                        path,
                        i + 1,
                        len(b.group(1)) + 1,
                        f"region '{b.group(2)}' starts inside region '{open_[1].group(2)}' (line {open_[0] + 1}), whose end marker is missing",
                    )
                )
            open_ = (i, b)
        elif e:
            if open_ is None or open_[1].group(2) != e.group(2):
                problems.append(
                    Diagnostic(
                        path,
                        i + 1,
                        len(e.group(1)) + 1,
                        f"end marker of region '{e.group(2)}' has no matching begin marker",
                    )
                )
                continue
            start, m = open_
            rid = m.group(2)
            if rid in seen:
                problems.append(
                    Diagnostic(
                        path, start + 1, len(m.group(1)) + 1, f"region '{rid}' appears twice (also at line {seen[rid]})"
                    )
                )
            seen[rid] = start + 1
            regions.append(FoundRegion(rid, m.group(3), m.group(1), start, i, "".join(lines[start + 1 : i])))
            open_ = None
        elif ANY_MARK.search(line):
            col = line.index("#") + 1
            problems.append(
                Diagnostic(
                    path,
                    i + 1,
                    col,
                    "damaged eventgen marker: restore it from version control or delete the whole region",
                )
            )
    if open_ is not None:
        problems.append(
            Diagnostic(
                path, open_[0] + 1, len(open_[1].group(1)) + 1, f"region '{open_[1].group(2)}' has no end marker"
            )
        )
    if problems:
        raise ConflictError(problems)
    return regions
