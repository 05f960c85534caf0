"""The write sink: every change applied atomically, or none.

Nothing before this module touches the disk. Writes are all-or-nothing:

1. stage: every new content goes to a temp file beside its target (same
   folder, so the swap below is a rename on one file system);
2. verify: every target must still hold the bytes the plan was computed
   from, or the run stops (someone edited it meanwhile; their edit would be lost);
3. swap: each temp file replaces its target with os.replace; a deleted file
   is renamed aside until the run succeeds;
4. if any step fails, the files already swapped are put back, temp files and
   folders made for the run are removed, and one error says what failed.

Signals that would kill the process (Ctrl-C, SIGTERM, SIGHUP) are held back
while this runs and delivered once every file is either written or restored.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..apply.change import FileChange
from ..errors import Diagnostic, EventgenError, Exit
from ..markers import ASIDE_SUFFIX, TEMP_SUFFIX


@contextlib.contextmanager
def project_lock(root: Path) -> Iterator[None]:
    """Serialise runs on one project: an advisory lock on the project folder itself.

    Locking the folder (not a lock file) leaves nothing behind in the user's tree.
    A second run waits here, then computes its plan from what the first one wrote.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks on folders
        yield
        return
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        raise EventgenError(Diagnostic(str(root), 0, 0, "project folder not found")) from None
    except OSError as exc:
        raise EventgenError(Diagnostic(str(root), 0, 0, f"cannot open the project folder: {_reason(exc)}")) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@dataclass
class _Step:
    change: FileChange
    target: Path  # the file actually written: symlinks followed
    temp: Path | None = None  # staged new content
    aside: Path | None = None  # a deleted file, kept until the run succeeds
    swapped: bool = False


def swap_order(changes: list[FileChange], socket_module: str, models_module: str) -> list[FileChange]:
    """The order files are swapped in (CONTRACT 7.7), so that a run killed between two swaps leaves
    a backend that imports: definitions first (new modules such as handler stubs, the models module,
    then the socket module), their users after (routers), the frontend last. When the socket module
    loses a function (a spec removed), the routers that imported it are rewritten before it."""
    socket = next((c for c in changes if c.path == socket_module), None)
    loses = socket is not None and bool(_functions(socket.before) - _functions(socket.after))

    def phase(change: FileChange) -> int:
        if change.path == models_module:
            return 1
        if change.path == socket_module:
            return 3
        if change.path.endswith(".py"):
            if change.before is None:
                return 0  # a new module imports nothing generated; the socket module may import it
            return 2 if loses else 4
        return 5

    return sorted(changes, key=lambda c: (phase(c), c.path))


def _functions(data: bytes | None) -> set[bytes]:
    import re

    return set(re.findall(rb"^(?:async )?def (\w+)", data or b"", re.M))


def write_changes(root: Path, changes: list[FileChange], *, prune: tuple[str, ...] = ()) -> None:
    """Apply every change or none, in the given order. Raises EventgenError (every file as it was) on failure.

    `prune`: project folders (generated ones) to remove when a deletion leaves them empty.
    """
    steps = [_Step(change, _real(root, change.path)) for change in changes]
    _refuse_read_only(steps)
    made_dirs: list[Path] = []
    with _signals_held():
        try:
            _stage(root, steps, made_dirs)
            _verify(steps)
            _swap(steps)
        except BaseException:
            _discard(steps, made_dirs)
            raise
        for step in steps:
            if step.aside is not None:
                with contextlib.suppress(OSError):
                    step.aside.unlink()
        for change in changes:
            if change.after is None and any(change.path.startswith(p.rstrip("/") + "/") for p in prune):
                _prune_empty(root, (root / change.path).parent)


def _refuse_read_only(steps: list[_Step]) -> None:
    """A file without any write permission bit was made read-only on purpose: never replace it."""
    locked = []
    for step in steps:
        try:
            mode = step.target.stat().st_mode
        except OSError:
            continue
        if step.change.before is not None and not mode & 0o222:
            locked.append(
                Diagnostic(
                    step.change.path,
                    0,
                    0,
                    "is read-only (no write permission bit): eventgen will not overwrite it; nothing was written",
                    hint="make it writable (chmod u+w) if eventgen should update it",
                )
            )
    if locked:
        raise EventgenError(locked)


def _real(root: Path, rel: str) -> Path:
    """Write through symlinks: the link stays a link, its target gets the new content."""
    path = root / rel
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _stage(root: Path, steps: list[_Step], made_dirs: list[Path]) -> None:
    umask = _umask()
    for step in steps:
        if step.change.after is None:
            continue
        try:
            made_dirs.extend(_make_parents(root, step.target))
            step.temp = _write_temp(step.target, step.change.after, umask)
        except OSError as exc:
            raise _failure(step, exc, "nothing was changed") from None


def _make_parents(root: Path, target: Path) -> list[Path]:
    """Create the missing folders above target, outermost first; a file in the way is an error."""
    missing: list[Path] = []
    parent = target.parent
    while not parent.is_dir():
        if parent.exists() or parent.is_symlink():
            raise NotADirectoryError(
                errno.ENOTDIR, f"{_rel(root, parent)} is a file, but a folder is needed there", str(parent)
            )
        missing.append(parent)
        parent = parent.parent
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir()
            made.append(folder)
    except OSError:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return made


def _write_temp(target: Path, data: bytes, umask: int) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600 files: keep the target's mode, or give a new file the usual one.
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~umask
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return temp


def _verify(steps: list[_Step]) -> None:
    """Nothing may have changed under us since we read: that edit would be lost."""
    for step in steps:
        try:
            current = step.target.read_bytes() if step.target.exists() else None
        except OSError as exc:
            raise _failure(step, exc, "nothing was changed") from None
        if current != step.change.before:
            raise EventgenError(
                Diagnostic(
                    step.change.path, 0, 0, "changed on disk while eventgen ran; nothing was written, run again"
                ),
                exit_code=Exit.DRIFT,
            )


def _swap(steps: list[_Step]) -> None:
    for step in steps:
        try:
            if step.temp is None:
                aside = step.target.with_name(f".{step.target.name}.{os.getpid()}{ASIDE_SUFFIX}")
                os.replace(step.target, aside)
                step.aside = aside
            else:
                os.replace(step.temp, step.target)
                step.temp = None
            step.swapped = True
        except BaseException as exc:
            unrestored = _rollback(steps)
            if not isinstance(exc, OSError):
                raise
            if unrestored:
                # Nothing more can be done automatically: say exactly which files need a look.
                raise EventgenError(
                    Diagnostic(
                        step.change.path,
                        0,
                        0,
                        f"cannot write: {_reason(exc)}; could not restore {', '.join(unrestored)}",
                    ),
                    exit_code=Exit.UNEXPECTED,
                ) from None
            raise _failure(step, exc, "every file was restored") from None


def _rollback(steps: list[_Step]) -> list[str]:
    """Put back every swapped file; returns the paths that could not be restored."""
    unrestored: list[str] = []
    for step in reversed(steps):
        if not step.swapped:
            continue
        try:
            if step.aside is not None:
                _restore_aside(step.aside, step.target)
                step.aside = None
            elif step.change.before is None:
                step.target.unlink()
            else:
                _restore_bytes(step.target, step.change.before)
            step.swapped = False
        except OSError:
            unrestored.append(step.change.path)
    return unrestored


def _restore_aside(aside: Path, target: Path) -> None:
    try:
        os.replace(aside, target)
    except OSError:
        target.write_bytes(aside.read_bytes())
        aside.unlink()


def _restore_bytes(target: Path, data: bytes) -> None:
    """Old content back: by a rename when possible, else in place (the rename is what failed)."""
    try:
        temp = _write_temp(target, data, _umask())
    except OSError:
        target.write_bytes(data)
        return
    try:
        os.replace(temp, target)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        target.write_bytes(data)


def _discard(steps: list[_Step], made_dirs: list[Path]) -> None:
    for step in steps:
        if step.temp is not None:
            with contextlib.suppress(OSError):
                step.temp.unlink()
            step.temp = None
    for folder in reversed(made_dirs):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _failure(step: _Step, exc: OSError, outcome: str) -> EventgenError:
    return EventgenError(Diagnostic(step.change.path, 0, 0, f"cannot write: {_reason(exc)}; {outcome}"))


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOTDIR and exc.strerror and "folder" in exc.strerror:
        return exc.strerror
    if exc.errno == errno.ENOSPC:
        return "no space left on the disk"
    return exc.strerror or str(exc)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_HELD = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP while files are swapped; they arrive afterwards."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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


def _rel(root: Path, name: str | bytes | os.PathLike[str]) -> str:
    text = os.fsdecode(name)
    try:
        return Path(text).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return text
