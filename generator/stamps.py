"""The run stamp: one digest of every input the full check's verdict depends on.

A `generate` whose result is in sync writes it into the first line of the models module
(itself generated), after the content hash:

    # eventgen:file sha=<12 hex> run=<16 hex> n=<items> [until=<date>] [reads=<a,b>] -- generated ...

`check` and a no-op `generate` recompute it from the disk with the standard library only
(no YAML, pydantic, Jinja or libcst) and, when it matches, answer "in sync" without the
full path. Anything else falls back to the full path, so the stamp can only ever make a
run faster, never change its verdict. What the digest covers, and why:

- eventgen itself: version, the digest of its own code and of its templates (an upgrade,
  or a developer's edit, changes what would be generated);
- the resolved configuration, with the values derived from the tree (import paths),
  and without the absolute root (a CI checkout lives elsewhere);
- every spec file's name and bytes (added, removed, renamed or edited specs);
- every Python file under the import root that holds eventgen markers or may reach the
  socket module (the full path reads those for orphans, clashes with hand-written
  handlers and anchors), and every TypeScript or Svelte file with a generated header
  anywhere in the project (generated files left behind): names and bytes, so hand edits,
  formatter runs, moved regions and deleted outputs all change it;
- every other file the last full run consulted (`reads=`: access modules, handler stubs,
  package.json), as bytes, "absent" or "folder".

`until=` is the earliest sunset of an old event name: from that day `check` reports it,
so the stamp no longer vouches for the tree. `n=` is the count of generated items the
full check would report.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from pathlib import Path

from . import __version__
from .config import Config
from .sources import SKIP_DIRS

# Bump when what the digest covers changes: older stamps then simply stop matching.
FORMAT = "eventgen-run-stamp/1"

STAMP = re.compile(r" run=([0-9a-f]{16}) n=(\d+)(?: until=(\d{4}-\d{2}-\d{2}))?(?: reads=(\S+))?")
_SHA = re.compile(r"eventgen:file(?: spec=\S+)? sha=[0-9a-f]{12}")
_PY_MARKS = (b"# eventgen:begin ", b"eventgen:file")
_FRONTEND = (".ts", ".svelte")
_PACKAGE = Path(__file__).resolve().parent

# A file's content as the digest sees it: bytes, or one of these for what is not a file.
ABSENT = b"\x00absent"
FOLDER = b"\x00folder"

Reader = Callable[[str], bytes]


def tool_digest() -> str:
    """eventgen's version, code and templates: what turns the same inputs into text."""
    h = hashlib.sha256(f"{FORMAT}\0{__version__}\0".encode())
    for base, suffixes in ((_PACKAGE, (".py",)), (_templates_dir(), ("",))):
        for path in _files_under(base, suffixes):
            h.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _templates_dir() -> Path:
    """render.templates_dir(), without importing render (it imports Jinja)."""
    installed = _PACKAGE / "templates"  # inside the wheel
    return installed if installed.is_dir() else _PACKAGE.parent / "templates"


def _files_under(base: Path, suffixes: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        out.extend(Path(dirpath) / n for n in filenames if n.endswith(suffixes))
    return sorted(out)


def config_digest(config: Config) -> str:
    """Every configuration value, and those derived from the tree, the root excepted."""
    values = [(f.name, repr(getattr(config, f.name))) for f in fields(config) if f.name != "root"]
    values += [("socket_dotted", config.socket_dotted), ("models_dotted", config.models_dotted), ("python_root", config.python_root)]
    return hashlib.sha256(repr(values).encode()).hexdigest()


def read_disk(root: Path) -> Reader:
    def read(rel: str) -> bytes:
        path = root / rel
        try:
            return path.read_bytes() if path.is_file() else FOLDER if path.is_dir() else ABSENT
        except OSError:
            return ABSENT

    return read


def spec_files(config: Config, overlay: Mapping[str, bytes | None] = {}) -> list[str]:
    """The spec files as the full path lists them, with the changes a run is about to write."""
    folder = config.root / config.specs
    prefix = config.specs.rstrip("/") + "/"
    found = {prefix + p.name for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml")} if folder.is_dir() else set()
    found |= {rel for rel in overlay if rel.startswith(prefix) and "/" not in rel[len(prefix):] and rel.endswith((".yaml", ".yml"))}
    return sorted(rel for rel in found if overlay.get(rel, b"") is not None)


def covered_files(config: Config, overlay: Mapping[str, bytes | None] = {}) -> dict[str, bytes]:
    """The project files the stamp covers (see the module docstring), with their bytes."""
    read = read_disk(config.root)
    package = (config.socket_dotted.rpartition(".")[0] or config.socket_dotted).encode()
    py_marks = (*_PY_MARKS, package, b"from .")
    py_root = "" if config.python_root == "." else config.python_root.rstrip("/") + "/"
    candidates = set(_walk(config.root)) | {rel for rel in overlay if rel.endswith((".py", *_FRONTEND))}
    out: dict[str, bytes] = {}
    for rel in sorted(candidates):
        data = overlay[rel] if rel in overlay else read(rel)
        if data is None or data in (ABSENT, FOLDER):
            continue
        if rel.endswith(".py"):
            wanted = rel.startswith(py_root) and any(mark in data for mark in py_marks)
        else:
            wanted = b"eventgen:file" in data.split(b"\n", 1)[0]
        if wanted or rel == config.models_module:
            out[rel] = data
    return out


def _walk(root: Path) -> Iterable[str]:
    """Python, TypeScript and Svelte files of the project, skipping what every search of it skips."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        base = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        for name in filenames:
            if name.endswith((".py", *_FRONTEND)):
                yield prefix + name


def strip_stamp(first_line: str) -> str:
    return STAMP.sub("", first_line, count=1)


def unstamped(data: bytes) -> bytes:
    """The models module without its stamp: the digest cannot cover itself."""
    first, nl, rest = data.partition(b"\n")
    return strip_stamp(first.decode("utf-8", errors="surrogateescape")).encode("utf-8", errors="surrogateescape") + nl + rest


def run_digest(config: Config, tool: str, covered: Mapping[str, bytes], specs: Iterable[tuple[str, bytes]], reads: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256(f"{tool}\0{config_digest(config)}\0".encode())
    for label, items in (("specs", specs), ("covered", sorted(covered.items())), ("reads", reads)):
        h.update(label.encode() + b"\0")
        for rel, data in items:
            if rel == config.models_module:
                data = unstamped(data)
            h.update(f"{rel}\0{len(data)}\0".encode() + data)
    return h.hexdigest()[:16]


def stamp_fields(digest: str, items: int, until: str | None, reads: list[str]) -> str:
    text = f" run={digest} n={items}"
    if until:
        text += f" until={until}"
    if reads:
        text += " reads=" + ",".join(reads)
    return text


def with_stamp(first_line: str, stamp: str) -> str | None:
    """The models module's first line carrying `stamp` (None when it has no file marker)."""
    line = strip_stamp(first_line)
    mark = _SHA.search(line)
    if mark is None:
        return None
    return line[: mark.end()] + stamp + line[mark.end():]


def plain_path(rel: str) -> bool:
    """Whether a path can be listed in `reads=` (comma-separated, on one comment line)."""
    return bool(rel) and not any(c in rel for c in ", \t\r\n") and "--" not in rel
