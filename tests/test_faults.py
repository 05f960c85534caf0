"""A multi-file write is all-or-nothing (issue 8, item 1).

One `generate` on the reliability project modifies two user files and creates
several new ones, one of them in a folder that does not exist yet. A failure is
injected at every step the write goes through; after each, every file must be
byte-identical to before, no temp file or new folder may be left, the exit code
must be non-zero and the message one line naming the file.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.cli import REPO, eventgen
from support.project import MODELS_MODULE, ROUTER, SOCKET_MODULE, STUB, TOKEN_APP, make_project, one_line
from support.tree import changed_paths, copy_project, leftovers, snapshot

import generator.sink.write as changes_module
from generator.pipeline import compute


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("template") / "app", files=TOKEN_APP)


@pytest.fixture(scope="module")
def generated_once(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes | str]:
    """The tree a clean `generate` produces: what every successful run must end in."""
    project = copy_project(template, tmp_path_factory.mktemp("reference") / "app")
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    return snapshot(project)


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    return copy_project(template, tmp_path / "app")


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str, project: Path) -> int:
    """How many times one clean generate calls os.<name> on files of the project."""
    real = getattr(os, name)
    calls = 0

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(os, name, counting)
        assert eventgen(project, "generate").exit == 0
    return calls


def _assert_untouched(project: Path, before: dict[str, bytes | str], run_output: str) -> None:
    after = snapshot(project)
    assert changed_paths(before, after) == [], (
        f"files changed by a failed run: {changed_paths(before, after)}\n{run_output}"
    )
    assert leftovers(project) == []


def test_the_reference_run_writes_many_files(template: Path, generated_once: dict[str, bytes | str]) -> None:
    """The fault tests below are only meaningful if one run really spans several files and a new folder."""
    changed = changed_paths(snapshot(template), generated_once)
    for rel in (SOCKET_MODULE, ROUTER, MODELS_MODULE, STUB, "backend/open_webui/handlers"):
        assert rel in changed
    assert len([p for p in changed if not isinstance(generated_once.get(p), str)]) >= 4


def test_os_replace_failing_at_each_step_restores_every_file(
    template: Path, generated_once: dict[str, bytes | str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated_paths = set(changed_paths(snapshot(template), generated_once))
    counter_project = copy_project(template, tmp_path / "count")
    swaps = _count_calls(monkeypatch, "replace", counter_project)
    assert swaps >= 4, "one os.replace per written file"
    for k in range(1, swaps + 1):
        project = copy_project(template, tmp_path / f"k{k}")
        before = snapshot(project)
        calls = 0
        real = os.replace

        def failing(src: object, dst: object, *, _k: int = k, real: object = real) -> None:
            nonlocal calls
            calls += 1
            if calls == _k:
                raise OSError(errno.EIO, "Input/output error", os.fspath(dst))  # type: ignore[arg-type]
            real(src, dst)  # type: ignore[operator]

        with monkeypatch.context() as m:
            m.setattr(os, "replace", failing)
            run = eventgen(project, "generate")
        assert run.exit == 2, (k, run.output)
        assert one_line(run.stderr), run.stderr
        assert "cannot write: Input/output error; every file was restored" in run.stderr
        assert run.stderr.split(":")[0] in generated_paths, "the message names the file that failed"
        assert "Traceback" not in run.output
        _assert_untouched(project, before, f"k={k}: {run.output}")


def test_a_second_failure_while_restoring_still_restores(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.replace fails for the k-th swap and for every call after it: the rollback falls back to writing in place."""
    swaps = _count_calls(monkeypatch, "replace", copy_project(template, tmp_path / "count"))
    for k in range(1, swaps + 1):
        project = copy_project(template, tmp_path / f"k{k}")
        before = snapshot(project)
        calls = 0
        real = os.replace

        def broken_from_k(src: object, dst: object, *, _k: int = k, real: object = real) -> None:
            nonlocal calls
            calls += 1
            if calls >= _k:
                raise OSError(errno.EROFS, "Read-only file system", os.fspath(dst))  # type: ignore[arg-type]
            real(src, dst)  # type: ignore[arg-type]

        with monkeypatch.context() as m:
            m.setattr(os, "replace", broken_from_k)
            run = eventgen(project, "generate")
        assert run.exit == 2, (k, run.output)
        assert "every file was restored" in run.stderr and one_line(run.stderr)
        _assert_untouched(project, before, f"k={k}: {run.output}")


def test_remove_failing_at_each_step_restores_every_file(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`remove` deletes generated files and rewrites patched ones: the same all-or-nothing, deletions included."""
    generated = copy_project(template, tmp_path / "generated")
    assert eventgen(generated, "generate").exit == 0
    probe = copy_project(generated, tmp_path / "probe")
    calls = 0
    real = os.replace

    def counting(src: object, dst: object) -> None:
        nonlocal calls
        calls += 1
        real(src, dst)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(os, "replace", counting)
        assert eventgen(probe, "remove", "feature").exit == 0
    assert calls >= 4, "remove deletes and rewrites several files"
    for k in range(1, calls + 1):
        project = copy_project(generated, tmp_path / f"remove-k{k}")
        before = snapshot(project)
        seen = 0

        def failing(src: object, dst: object, *, _k: int = k) -> None:
            nonlocal seen
            seen += 1
            if seen == _k:
                raise OSError(errno.EIO, "Input/output error", os.fspath(dst))  # type: ignore[arg-type]
            real(src, dst)  # type: ignore[arg-type]

        with monkeypatch.context() as m:
            m.setattr(os, "replace", failing)
            run = eventgen(project, "remove", "feature")
        assert run.exit == 2 and one_line(run.stderr) and "every file was restored" in run.stderr, (k, run.output)
        _assert_untouched(project, before, f"k={k}: {run.output}")


class _DiskFull:
    """Wraps the temp file eventgen writes; the k-th temp write runs out of space."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.writes = 0
        self.real_fdopen = os.fdopen

    def fdopen(self, fd: int, *args: object, **kwargs: object) -> object:
        handle = self.real_fdopen(fd, *args, **kwargs)  # type: ignore[arg-type]
        if changes_module.TEMP_SUFFIX not in os.readlink(f"/proc/self/fd/{fd}"):
            return handle
        self.writes += 1
        if self.writes != self.k:
            return handle
        return _FullFile(handle)


class _FullFile:
    def __init__(self, handle: object) -> None:
        self.handle = handle

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self) -> _FullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.handle, name)


def test_disk_full_on_each_temp_write_changes_nothing(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = _DiskFull(k=0)
    with monkeypatch.context() as m:
        m.setattr(os, "fdopen", probe.fdopen)
        assert eventgen(copy_project(template, tmp_path / "count"), "generate").exit == 0
    assert probe.writes >= 4
    for k in range(1, probe.writes + 1):
        project = copy_project(template, tmp_path / f"k{k}")
        before = snapshot(project)
        full = _DiskFull(k)
        with monkeypatch.context() as m:
            m.setattr(os, "fdopen", full.fdopen)
            run = eventgen(project, "generate")
        assert full.writes == k, "the failure stops the staging at once"
        assert run.exit == 2, run.output
        assert one_line(run.stderr) and "cannot write: no space left on the disk; nothing was changed" in run.stderr
        _assert_untouched(project, before, f"k={k}: {run.output}")


def test_fsync_failing_changes_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(project)

    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    run = eventgen(project, "generate")
    assert run.exit == 2 and one_line(run.stderr), run.output
    _assert_untouched(project, before, run.output)


def test_a_real_file_size_limit_changes_nothing(project: Path) -> None:
    """No monkeypatch: the kernel refuses the write (RLIMIT_FSIZE, EFBIG) in a real process."""
    before = snapshot(project)
    limit = max(len(v) for v in before.values() if isinstance(v, bytes)) + 64  # every existing file fits
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from generator.cli import main
        sys.exit(main(["-C", {str(project)!r}, "generate"]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot write: File too large; nothing was changed" in proc.stderr and one_line(proc.stderr)
    _assert_untouched(project, before, proc.stderr)


def test_a_file_where_a_folder_must_go_before_the_run(project: Path) -> None:
    """The handler stub's folder is taken by a file: refused up front, naming the file."""
    (project / "backend/open_webui/handlers").write_text("not a folder\n")
    before = snapshot(project)
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    assert run.stderr.startswith("backend/open_webui/handlers") and one_line(run.stderr), run.stderr
    assert "Traceback" not in run.output
    _assert_untouched(project, before, run.output)


def test_a_file_where_a_folder_must_go_appearing_during_the_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder is free when the plan is made and taken by a file before the write: nothing is written."""
    import generator.pipeline as pipeline

    blocker = project / "backend/open_webui/handlers"

    def compute_then_block(*args: object, **kwargs: object) -> object:
        outcome = compute(*args, **kwargs)  # type: ignore[arg-type]
        blocker.write_text("appeared meanwhile\n")
        return outcome

    monkeypatch.setattr(pipeline, "compute", compute_then_block)
    before = {**snapshot(project), "backend/open_webui/handlers": b"appeared meanwhile\n"}
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    assert one_line(run.stderr)
    assert "backend/open_webui/handlers is a file, but a folder is needed there; nothing was changed" in run.stderr
    _assert_untouched(project, before, run.output)


def test_a_nested_folder_chain_is_removed_when_a_later_step_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folders made for the run (several levels deep) are removed again when the run fails."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "keep.txt").write_bytes(b"keep\n")
    changes = [
        changes_module.FileChange("a/b/c/new.py", None, b"x = 1\n"),
        changes_module.FileChange("keep.txt", b"keep\n", b"changed\n"),
    ]
    real = os.replace

    def fail_second(src: object, dst: object) -> None:
        if os.fspath(dst).endswith("keep.txt"):  # type: ignore[arg-type]
            raise OSError(errno.EACCES, "Permission denied", os.fspath(dst))  # type: ignore[arg-type]
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", fail_second)
    with pytest.raises(changes_module.EventgenError) as info:
        changes_module.write_changes(root, changes)
    assert info.value.render() == "keep.txt: cannot write: Permission denied; every file was restored"
    assert snapshot(root) == {"keep.txt": b"keep\n"}


def test_deleting_files_is_undone_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    root.mkdir()
    files = {"gone.ts": b"export {};\n", "kept.py": b"a = 1\n", "later.py": b"b = 2\n"}
    for name, data in files.items():
        (root / name).write_bytes(data)
    os.chmod(root / "gone.ts", 0o640)
    changes = [
        changes_module.FileChange("gone.ts", files["gone.ts"], None),
        changes_module.FileChange("kept.py", files["kept.py"], b"a = 2\n"),
        changes_module.FileChange("later.py", files["later.py"], b"b = 3\n"),
    ]
    real = os.replace

    def fail_last(src: object, dst: object) -> None:
        if os.fspath(dst).endswith("later.py"):  # type: ignore[arg-type]
            raise OSError(errno.EIO, "Input/output error", os.fspath(dst))  # type: ignore[arg-type]
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", fail_last)
    with pytest.raises(changes_module.EventgenError):
        changes_module.write_changes(root, changes)
    assert snapshot(root) == files
    assert (root / "gone.ts").stat().st_mode & 0o777 == 0o640, "the deleted file comes back as it was, mode included"


def test_ctrl_c_in_the_middle_of_the_swaps_rolls_back(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(project)
    calls = 0
    real = os.replace

    def interrupted(src: object, dst: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", interrupted)
    run = eventgen(project, "generate")
    assert run.exit == 130 and one_line(run.stderr), run.output
    _assert_untouched(project, before, run.output)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_real_signal_during_the_swaps_is_held_until_the_write_is_complete(
    project: Path, generated_once: dict[str, bytes | str], signame: str
) -> None:
    """The process signals itself between two renames; it dies only after the last one."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        real = os.replace
        calls = 0
        def replace(src, dst):
            global calls
            calls += 1
            if calls == 2:
                os.kill(os.getpid(), signal.{signame})
            real(src, dst)
        os.replace = replace
        from generator.cli import main
        sys.exit(main(["-C", {str(project)!r}, "generate"]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    expected = 130 if signame == "SIGINT" else -signal.SIGTERM
    assert proc.returncode == expected, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert changed_paths(generated_once, snapshot(project)) == [], "every file written, none half-way"
    assert leftovers(project) == []


def test_a_file_edited_between_read_and_write_aborts_the_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.pipeline as pipeline

    socket = project / SOCKET_MODULE
    edited = socket.read_bytes() + b"\n\ndef added_by_a_colleague():\n    pass\n"

    def compute_then_edit(*args: object, **kwargs: object) -> object:
        outcome = compute(*args, **kwargs)  # type: ignore[arg-type]
        socket.write_bytes(edited)
        return outcome

    monkeypatch.setattr(pipeline, "compute", compute_then_edit)
    before = snapshot(project)
    before[SOCKET_MODULE] = edited
    run = eventgen(project, "generate")
    assert run.exit == 1, run.output
    assert run.stderr.strip() == f"{SOCKET_MODULE}: changed on disk while eventgen ran; nothing was written, run again"
    _assert_untouched(project, before, run.output)


@pytest.mark.parametrize("what", ["created", "deleted"])
def test_a_file_created_or_deleted_between_read_and_write_aborts_the_run(
    project: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    import generator.pipeline as pipeline

    target = project / (MODELS_MODULE if what == "created" else ROUTER)

    def compute_then_touch(*args: object, **kwargs: object) -> object:
        outcome = compute(*args, **kwargs)  # type: ignore[arg-type]
        if what == "created":
            target.write_text("# someone else's models\n")
        else:
            target.unlink()
        return outcome

    monkeypatch.setattr(pipeline, "compute", compute_then_touch)
    run = eventgen(project, "generate")
    assert run.exit == 1, run.output
    assert "changed on disk while eventgen ran" in run.stderr and one_line(run.stderr)
    after = snapshot(project)
    if what == "created":
        assert after[MODELS_MODULE] == b"# someone else's models\n"
    else:
        assert ROUTER not in after
    assert b"eventgen:begin" not in after[SOCKET_MODULE]  # type: ignore[operator]
    assert STUB not in after and leftovers(project) == []


def test_new_files_get_the_usual_mode_and_edited_files_keep_theirs(project: Path) -> None:
    os.chmod(project / ROUTER, 0o600)
    old = os.umask(0o027)
    try:
        assert eventgen(project, "generate").exit == 0
    finally:
        os.umask(old)
    assert (project / ROUTER).stat().st_mode & 0o777 == 0o600
    assert (project / MODELS_MODULE).stat().st_mode & 0o777 == 0o640
    assert (project / STUB).stat().st_mode & 0o777 == 0o640


def test_a_missing_project_folder_is_a_one_line_error(tmp_path: Path) -> None:
    run = eventgen(tmp_path / "nowhere", "generate")
    assert run.exit == 2, run.output
    assert run.stderr == f"{tmp_path / 'nowhere'}: project folder not found\n"
