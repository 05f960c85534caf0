"""The ChangeSet (path -> before, after) and its sinks: atomic write, unified diff.

Nothing before this module touches the disk. Writes are all-or-nothing: every
new content goes to a temp file beside its target first, then each target is
swapped in with os.replace; if any step fails, the files already swapped are
put back, so a run never leaves a project half-changed.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import EXIT_DRIFT, Diagnostic, EventgenError


@dataclass(frozen=True)
class FileChange:
    path: str  # project-relative
    before: bytes | None  # None: the file does not exist yet
    after: bytes | None  # None: delete the file

    @property
    def kind(self) -> str:
        if self.before is None:
            return "create"
        if self.after is None:
            return "delete"
        return "modify"


@contextlib.contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Serialise runs on one project: an advisory lock on the project folder itself.

    Locking the folder (not a lock file) leaves nothing behind in the user's tree.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks on folders
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _real(root: Path, rel: str) -> Path:
    """Write through symlinks: the link stays a link, its target gets the new content."""
    path = root / rel
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def write_changes(root: Path, changes: list[FileChange], *, prune: tuple[str, ...] = ()) -> None:
    """Apply every change or none. Raises EventgenError (files restored) on failure.

    `prune`: project folders (generated ones) to remove when a deletion leaves them empty.
    """
    staged: list[tuple[FileChange, Path, Path | None]] = []  # change, target, temp file
    made_dirs: list[Path] = []
    try:
        for change in changes:
            target = _real(root, change.path)
            if change.after is None:
                staged.append((change, target, None))
                continue
            parent = target.parent
            missing = []
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for folder in reversed(missing):
                folder.mkdir()
                made_dirs.append(folder)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".eventgen-tmp", dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(change.after)
                handle.flush()
                os.fsync(handle.fileno())
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            staged.append((change, target, Path(tmp)))
    except OSError as exc:
        _discard(staged, made_dirs)
        raise EventgenError(Diagnostic(_rel(root, exc.filename) if exc.filename else "", 0, 0, f"cannot write: {exc.strerror or exc}; nothing was changed")) from None

    # Nothing may have changed under us since we read: that edit would be lost.
    for change, target, _tmp in staged:
        current = target.read_bytes() if target.exists() else None
        if current != change.before:
            _discard(staged, made_dirs)
            raise EventgenError(
                Diagnostic(change.path, 0, 0, "changed on disk while eventgen ran; nothing was written, run again"),
                exit_code=EXIT_DRIFT,
            )

    done: list[tuple[FileChange, Path]] = []
    backups: list[tuple[Path, Path]] = []
    try:
        for change, target, tmp in staged:
            if tmp is None:
                backup = target.with_name(f".{target.name}.eventgen-del")
                os.replace(target, backup)
                backups.append((target, backup))
            else:
                os.replace(tmp, target)
            done.append((change, target))
    except OSError as exc:
        _rollback(done, backups)
        _discard(staged, made_dirs)
        raise EventgenError(Diagnostic(_rel(root, exc.filename) if exc.filename else "", 0, 0, f"cannot write: {exc.strerror or exc}; every file was restored")) from None
    for _target, backup in backups:
        with contextlib.suppress(OSError):
            backup.unlink()
    for change in changes:
        if change.after is None and any(change.path.startswith(p.rstrip("/") + "/") for p in prune):
            _prune_empty(root, (root / change.path).parent)


def _rollback(done: list[tuple[FileChange, Path]], backups: list[tuple[Path, Path]]) -> None:
    restored = {target for target, _ in backups}
    for target, backup in backups:
        with contextlib.suppress(OSError):
            os.replace(backup, target)
    for change, target in reversed(done):
        if target in restored:
            continue
        with contextlib.suppress(OSError):
            if change.before is None:
                target.unlink()
            else:
                fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".eventgen-tmp")
                with os.fdopen(fd, "wb") as handle:
                    handle.write(change.before)
                os.replace(tmp, target)


def _discard(staged: list[tuple[FileChange, Path, Path | None]], made_dirs: list[Path]) -> None:
    for _change, _target, tmp in staged:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
    for folder in reversed(made_dirs):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _prune_empty(root: Path, folder: Path) -> None:
    """Remove folders a deletion left empty (eventgen made them), never the root."""
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _rel(root: Path, name: str | bytes) -> str:
    text = os.fsdecode(name)
    try:
        return Path(text).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return text


# -- diff -------------------------------------------------------------------------

_COLORS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}
_RESET = "\033[0m"


def _text(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def unified_diff(changes: list[FileChange], *, color: bool = False) -> str:
    out: list[str] = []
    for change in sorted(changes, key=lambda c: c.path):
        a = "/dev/null" if change.before is None else f"a/{change.path}"
        b = "/dev/null" if change.after is None else f"b/{change.path}"
        for line in difflib.unified_diff(_text(change.before), _text(change.after), a, b):
            if not line.endswith("\n"):
                line += "\n\\ No newline at end of file\n"
            if color and line[:1] in _COLORS and not line.startswith(("+++", "---")):
                line = _COLORS[line[0]] + line.rstrip("\n") + _RESET + "\n"
            elif color and line.startswith(("+++", "---")):
                line = "\033[1m" + line.rstrip("\n") + _RESET + "\n"
            out.append(line)
    return "".join(out)


def diff_stat(changes: list[FileChange]) -> str:
    rows = []
    total_add = total_del = 0
    for change in sorted(changes, key=lambda c: c.path):
        add = rem = 0
        for line in difflib.unified_diff(_text(change.before), _text(change.after), n=0):
            if line.startswith("+") and not line.startswith("+++"):
                add += 1
            elif line.startswith("-") and not line.startswith("---"):
                rem += 1
        rows.append((change.path, add, rem))
        total_add += add
        total_del += rem
    if not rows:
        return ""
    width = max(len(r[0]) for r in rows)
    lines = [f" {path.ljust(width)} | {add + rem:4d} {'+' * min(add, 40)}{'-' * min(rem, 40)}" for path, add, rem in rows]
    lines.append(f" {len(rows)} file{'s' if len(rows) != 1 else ''} changed, {total_add} insertions(+), {total_del} deletions(-)")
    return "\n".join(lines) + "\n"
