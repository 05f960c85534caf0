"""Project trees: write one from a mapping, snapshot one, compare two, find a write's leftovers."""

from __future__ import annotations

import difflib
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

# Folders no snapshot looks into: caches, and a project's own git repository.
SKIP = frozenset({"__pycache__", ".pytest_cache", ".git"})

# Names a write leaves only when it fails to clean up after itself.
LEFTOVER_MARKS = (".eventgen-tmp", ".eventgen-del", ".eventgen-bak")

DIR = "<dir>"

Tree = dict[str, bytes | str]


def write_tree(root: Path, files: Mapping[str, bytes | str]) -> None:
    """Write each relative path's text (UTF-8, newlines as given) or bytes under root."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def write(root: Path, rel: str, text: str) -> Path:
    """One file of `write_tree`; returns its path."""
    write_tree(root, {rel: text})
    return root / rel


def snapshot(root: Path) -> Tree:
    """Every entry under root, by relative POSIX path: file -> bytes, folder -> "<dir>",
    symlink -> "-> target" (not followed); SKIP folders left out. Two snapshots are equal
    only when the trees are: same files, same bytes, same (even empty) folders."""
    tree: Tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP)
        base = Path(dirpath)
        for name in [*dirnames, *sorted(filenames)]:
            path = base / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[rel] = f"-> {os.readlink(path)}"
            else:
                tree[rel] = DIR if path.is_dir() else path.read_bytes()
    return dict(sorted(tree.items()))


_RUN = re.compile(rb"( eventgen:file(?: spec=\S+)? sha=[0-9a-f]{12} run=)[0-9a-f]{16}")


def stamp_free(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The files with the run stamp's digest blanked: it covers eventgen's own code and the
    Python running it (generator/stamps.py), so committed trees cannot pin it."""
    return {rel: _RUN.sub(rb"\1<run>", data, count=1) for rel, data in files.items()}


def stamp_free_text(text: str) -> str:
    """`stamp_free` for printed output (diffs show the models module's first line)."""
    return re.sub(r"( eventgen:file(?: spec=\S+)? sha=[0-9a-f]{12} run=)[0-9a-f]{16}", r"\1<run>", text)


def unstamp(root: Path, models: str = "backend/open_webui/socket/event_models.py") -> None:
    """Drop the run stamp from a copied project's models module, so its next `generate` writes a
    fresh one: a committed stamp goes stale with any change to eventgen's code."""
    path = root / models
    first, nl, rest = path.read_bytes().partition(b"\n")
    first = re.sub(rb" run=[0-9a-f]{16} tool=[0-9a-f]{8} n=\d+(?: until=\S+)?(?: reads=\S+)?", b"", first, count=1)
    path.write_bytes(first + nl + rest)


def files_of(tree: Tree) -> dict[str, bytes]:
    """Only the files of a snapshot: for trees stored in git, which keeps no folders."""
    return {rel: data for rel, data in tree.items() if isinstance(data, bytes)}


def changed_paths(before: Tree, after: Tree) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def tree_diff(expected: Tree, actual: Tree) -> str:
    """A readable account of how two snapshots differ ("" when equal)."""
    out: list[str] = []
    for rel in sorted(set(expected) | set(actual)):
        a, b = expected.get(rel), actual.get(rel)
        if a == b:
            continue
        if a is None:
            out.append(f"unexpected {rel}")
        elif b is None:
            out.append(f"missing {rel}")
        elif isinstance(a, bytes) and isinstance(b, bytes):
            out.append(f"file {rel} differs:")
            out.extend(
                difflib.unified_diff(
                    a.decode("utf-8", "replace").splitlines(keepends=True),
                    b.decode("utf-8", "replace").splitlines(keepends=True),
                    "expected",
                    "actual",
                )
            )
        else:
            out.append(
                f"{rel}: expected {a if isinstance(a, str) else 'a file'}, got {b if isinstance(b, str) else 'a file'}"
            )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def leftovers(root: Path) -> list[str]:
    """Temp or backup files a write left behind."""
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if any(mark in p.name for mark in LEFTOVER_MARKS)
    )


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


# -- bytes of generated Python -------------------------------------------------------------


def is_subsequence(needles: list[bytes], haystack: list[bytes]) -> bool:
    """Every needle appears in haystack, in order (other lines may sit between)."""
    it: Iterator[bytes] = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


def byte_lines(data: bytes) -> list[bytes]:
    """Lines split only where Python's tokenizer splits them (\\r\\n, \\r, \\n), endings kept."""
    return [m.group(0) for m in re.finditer(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", data)]


_BEGIN = re.compile(rb"^[ \t]*# eventgen:begin (\S+) ")
_END = re.compile(rb"^[ \t]*# eventgen:end (\S+)")


def region_lines(data: bytes) -> dict[str, list[bytes]]:
    """Region id -> its lines (markers included), read straight from the bytes."""
    regions: dict[str, list[bytes]] = {}
    current: str | None = None
    for line in byte_lines(data):
        b = _BEGIN.match(line)
        if b:
            current = b.group(1).decode()
            regions[current] = []
        if current is not None:
            regions[current].append(line)
        if _END.match(line):
            current = None
    return regions
