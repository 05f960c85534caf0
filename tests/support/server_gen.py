"""Helpers shared by the server-side generation tests (issue 3): run the CLI, snapshot trees, build projects.

The CLI runs in-process through `generator.cli.main(argv)`, the same entry point
the `eventgen` script calls, with stdout and stderr captured.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from generator.cli import main

SOCKET_MODULE = "backend/open_webui/socket/main.py"
MODELS_MODULE = "backend/open_webui/socket/event_models.py"
ROUTER = "backend/open_webui/routers/features.py"

_SKIP = {"__pycache__", ".pytest_cache"}


@dataclass(frozen=True)
class Run:
    exit: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# Variables that change what eventgen prints (check's format under GitHub Actions, colour):
# the expectations are written for a plain terminal-less run.
_OUTPUT_ENV = ("GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR")


def eventgen(project: Path, *args: str) -> Run:
    """Run `eventgen -C project ARGS...` in this process and capture what it prints."""
    out, err = io.StringIO(), io.StringIO()
    saved = {name: os.environ.pop(name) for name in _OUTPUT_ENV if name in os.environ}
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["-C", str(project), *args])
    finally:
        os.environ.update(saved)
    return Run(code, out.getvalue(), err.getvalue())


def eventgen_line(project: Path, line: str) -> Run:
    return eventgen(project, *shlex.split(line))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (relative POSIX path -> bytes), caches excluded."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if any(part in _SKIP for part in path.relative_to(root).parts):
            continue
        if path.is_file():
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def write_tree(root: Path, files: dict[str, bytes | str]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def tree_diff(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    """A readable account of how two snapshots differ ("" when equal)."""
    import difflib

    out: list[str] = []
    for rel in sorted(set(expected) | set(actual)):
        a, b = expected.get(rel), actual.get(rel)
        if a == b:
            continue
        if a is None:
            out.append(f"unexpected file {rel}")
        elif b is None:
            out.append(f"missing file {rel}")
        else:
            out.append(f"file {rel} differs:")
            out.extend(
                difflib.unified_diff(
                    a.decode("utf-8", "replace").splitlines(keepends=True),
                    b.decode("utf-8", "replace").splitlines(keepends=True),
                    "expected",
                    "actual",
                )
            )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


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


# -- a small project shaped like Open WebUI ------------------------------------

FEATURE_SPEC = """\
name: feature
description: Live updates for features.
rooms:
  feature:
    pattern: "feature:{feature_id}"
    access: open_webui.socket.access:can_read_feature
events:
  - name: feature:subscribe
    direction: client_to_server
    action: join
    room: feature
    payload:
      feature_id: {type: str, min_length: 1, max_length: 128}
  - name: feature:unsubscribe
    direction: client_to_server
    action: leave
    room: feature
    payload:
      feature_id: str
  - name: feature:updated
    direction: server_to_client
    room: feature
    payload:
      feature_id: str
      data: dict
    emit:
      helper: notify_feature_update
"""


def emit_spec(sites: list[dict[str, str]], *, name: str = "feature", events: tuple[str, ...] = ("updated",)) -> str:
    """A spec whose server_to_client events are patched into router call sites.

    Each site: file, function, after (or before), and optionally args (a YAML flow mapping).
    """
    out = [
        f"name: {name}",
        "rooms:",
        "  feature:",
        '    pattern: "feature:{feature_id}"',
        "    access: authenticated",
        "events:",
    ]
    for event in events:
        out += [
            f"  - name: {name}:{event}",
            "    direction: server_to_client",
            "    room: feature",
            "    payload:",
            "      feature_id: str",
            "    emit:",
            f"      helper: emit_{name}_{event}",
            "      from:",
        ]
        for site in sites:
            out += [
                f"        - file: {site['file']}",
                f"          function: {site['function']}",
                f"          before: {site['before']}" if "before" in site else f"          after: {site['after']}",
            ]
            if "args" in site:
                out.append(f"          args: {site['args']}")
    return "\n".join(out) + "\n"
