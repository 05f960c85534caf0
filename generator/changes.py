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
_BOLD = "\033[1m"
_RESET = "\033[0m"
_STAT_BAR = 40  # widest +/- bar of `--stat`; larger changes are scaled down, as git does


def _text(data: bytes | None) -> list[str]:
    """Lines as git sees them: split at LF only, so CR, form feed or U+2028 inside a line stay inside it."""
    if data is None:
        return []
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _file_diff(change: FileChange, context: int = 3) -> list[str]:
    a = "/dev/null" if change.before is None else f"a/{change.path}"
    b = "/dev/null" if change.after is None else f"b/{change.path}"
    return list(difflib.unified_diff(_text(change.before), _text(change.after), a, b, n=context))


def unified_diff(changes: list[FileChange], *, color: bool = False) -> str:
    out: list[str] = []
    for change in sorted(changes, key=lambda c: c.path):
        # The first two lines are the file headers; any later line starting with
        # "---" or "+++" is a removed "--..." or added "++..." line of content.
        for n, line in enumerate(_file_diff(change)):
            missing_newline = not line.endswith("\n")
            body = line.rstrip("\n")
            if color:
                paint = _BOLD if n < 2 else _COLORS.get(line[:1], "")
                if paint:
                    body = paint + body + _RESET
            out.append(body + "\n")
            if missing_newline:
                out.append("\\ No newline at end of file\n")
    return "".join(out)


def diff_stat(changes: list[FileChange], *, color: bool = False) -> str:
    """`git diff --stat`: one row per file, then the totals."""
    rows = []
    for change in sorted(changes, key=lambda c: c.path):
        add = rem = 0
        for line in _file_diff(change, context=0)[2:]:
            if line.startswith("+"):
                add += 1
            elif line.startswith("-"):
                rem += 1
        rows.append((change.path, add, rem))
    if not rows:
        return ""
    width = max(len(path) for path, _, _ in rows)
    biggest = max(add + rem for _, add, rem in rows)
    digits = len(str(biggest))
    plus, minus = ("\033[32m", "\033[31m") if color else ("", "")
    reset = _RESET if color else ""
    lines = []
    for path, add, rem in rows:
        bar_add, bar_rem = _scaled(add, rem, biggest)
        bar = (plus + "+" * bar_add + reset if bar_add else "") + (minus + "-" * bar_rem + reset if bar_rem else "")
        lines.append(f" {path.ljust(width)} | {str(add + rem).rjust(digits)} {bar}".rstrip())
    total_add = sum(r[1] for r in rows)
    total_del = sum(r[2] for r in rows)
    parts = [f"{len(rows)} file{'s' if len(rows) != 1 else ''} changed"]
    if total_add or not total_del:
        parts.append(f"{total_add} insertion{'s' if total_add != 1 else ''}(+)")
    if total_del or not total_add:
        parts.append(f"{total_del} deletion{'s' if total_del != 1 else ''}(-)")
    lines.append(" " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def _scaled(add: int, rem: int, biggest: int) -> tuple[int, int]:
    """Bar lengths: exact up to the bar width, else proportional with every nonzero side visible."""
    if biggest <= _STAT_BAR:
        return add, rem
    total = max(1, round((add + rem) * _STAT_BAR / biggest))
    bar_add = round(add * total / (add + rem)) if add + rem else 0
    if add and not bar_add:
        bar_add = 1
    bar_rem = total - bar_add
    if rem and not bar_rem:
        bar_rem = 1
        bar_add = max(1, bar_add - 1) if add else 0
    return bar_add, bar_rem
