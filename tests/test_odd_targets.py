"""Odd targets (issue 8, item 2): symlinks, non-UTF-8 files, paths that leave the project.

CRLF, tabs, BOMs and other odd socket-module shapes are covered by
tests/test_socket_shapes.py; this module covers where eventgen writes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support.cli import eventgen
from support.project import MODELS_MODULE, ROUTER, SOCKET_MODULE, TOKEN_APP, make_project, one_line
from support.tree import changed_paths, leftovers, snapshot


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "app", files=TOKEN_APP)


def _edit(project: Path, rel: str, old: str, new: str) -> None:
    path = project / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _refused(project: Path, expected: str, *, code: int = 2) -> None:
    """The run fails with one precise line, and not a byte of the project changes."""
    before = snapshot(project)
    run = eventgen(project, "generate")
    assert run.exit == code, run.output
    assert run.stderr.strip() == expected
    assert changed_paths(before, snapshot(project)) == [] and leftovers(project) == []


# -- symlinks ---------------------------------------------------------------------


def _move_behind_link(project: Path, rel: str, shared: str) -> Path:
    """Move a file to `shared` and leave a relative symlink in its place."""
    real = project / shared
    real.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(project / rel, real)
    link = project / rel
    os.symlink(os.path.relpath(real, link.parent), link)
    return real


@pytest.mark.parametrize("rel", [SOCKET_MODULE, ROUTER])
def test_a_symlinked_python_target_is_written_through(project: Path, rel: str) -> None:
    real = _move_behind_link(project, rel, f"shared/{Path(rel).name}")
    link_text = os.readlink(project / rel)
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    assert (project / rel).is_symlink() and os.readlink(project / rel) == link_text, "the link stays the same link"
    assert b"# eventgen:begin" in real.read_bytes(), "the file behind the link got the generated code"
    assert eventgen(project, "generate").output.startswith("eventgen: nothing to do")
    assert eventgen(project, "check").exit == 0


def test_a_symlinked_generated_file_is_written_through(project: Path) -> None:
    assert eventgen(project, "generate").exit == 0
    real = _move_behind_link(project, MODELS_MODULE, "shared/event_models.py")
    _edit(project, "events/ping.yaml", "max_length: 64", "max_length: 80")
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    assert (project / MODELS_MODULE).is_symlink()
    assert b"max_length=80" in real.read_bytes()


def test_a_symlink_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "main.py"
    outside.parent.mkdir()
    shutil.move(project / SOCKET_MODULE, outside)
    os.symlink(outside, project / SOCKET_MODULE)
    before_outside = outside.read_bytes()
    _refused(project, f"{SOCKET_MODULE}: refusing to write outside the project root")
    assert outside.read_bytes() == before_outside


def test_a_symlinked_folder_out_of_the_project_is_refused_at_the_spec(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    shutil.move(project / "backend/open_webui/routers", outside)
    os.symlink(outside, project / "backend/open_webui/routers")
    _refused(project, f"events/feature.yaml:34:17: file '{ROUTER}' is outside the project")


def test_a_handler_folder_linked_out_of_the_project_is_refused_at_the_spec(project: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", project / "backend/open_webui/handlers")
    _refused(project, "events/ping.yaml:8:14: handler module 'open_webui.handlers.ping' resolves outside the project")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_symlink_loop_is_a_one_line_error(project: Path) -> None:
    (project / SOCKET_MODULE).unlink()
    os.symlink("main.py", project / SOCKET_MODULE)
    before = snapshot(project)
    run = eventgen(project, "generate")
    assert run.exit == 2 and one_line(run.stderr), run.output
    assert run.stderr.startswith(f"{SOCKET_MODULE}: cannot read: Too many levels of symbolic links")
    assert snapshot(project) == before


# -- encodings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "line"),
    [(SOCKET_MODULE, 26), (ROUTER, 9), ("src/lib/socket/events.ts", 1), (MODELS_MODULE, 1)],
)
def test_a_target_that_is_not_utf8_is_named_and_nothing_is_written(project: Path, rel: str, line: int) -> None:
    path = project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_bytes() if path.exists() else b""
    path.write_bytes(existing + "# café = 'latin-1'\n".encode("latin-1"))
    _refused(project, f"{rel}:{line}: file is not UTF-8; eventgen only edits UTF-8 sources")


# -- paths that leave the project -------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            'socket_module = "../other/main.py"\n',
            "eventgen.toml:1:1: 'socket_module' = '../other/main.py' must be a relative path inside the project",
        ),
        (
            'specs = "events"\nmodels_module = "backend/../../m.py"\n',
            "eventgen.toml:2:1: 'models_module' = 'backend/../../m.py' must be a relative path inside the project",
        ),
        (
            'components = "/tmp/realtime"\n',
            "eventgen.toml:1:1: 'components' = '/tmp/realtime' must be a relative path inside the project",
        ),
        (
            'types = "src/../../events.ts"\n',
            "eventgen.toml:1:1: 'types' = 'src/../../events.ts' must be a relative path inside the project",
        ),
        (
            'specs = "../events"\n',
            "eventgen.toml:1:1: 'specs' = '../events' must be a relative path inside the project",
        ),
    ],
)
def test_a_config_path_out_of_the_project_is_refused_with_its_position(
    project: Path, config: str, expected: str
) -> None:
    (project / "eventgen.toml").write_text(config)
    _refused(project, expected)


def test_a_pyproject_path_out_of_the_project_is_refused_with_its_position(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.eventgen]\nsocket_module = "../x/main.py"\n'
    )
    _refused(project, "pyproject.toml:5:1: 'socket_module' = '../x/main.py' must be a relative path inside the project")


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("../outside/routers.py", "events/feature.yaml:34:17: file '../outside/routers.py' is outside the project"),
        ("backend/../../x.py", "events/feature.yaml:34:17: file 'backend/../../x.py' is outside the project"),
        (
            "/etc/routers.py",
            "events/feature.yaml:34:17: events[2].emit.from[0].file: file '/etc/routers.py' must be relative to the project root",
        ),
    ],
)
def test_an_emit_file_out_of_the_project_is_refused_with_its_position(project: Path, file: str, expected: str) -> None:
    _edit(project, "events/feature.yaml", f"file: {ROUTER}", f"file: {file}")
    _refused(project, expected)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_as_target_is_refused_not_waited_on(project: Path) -> None:
    """Reading a FIFO blocks forever; a target must be a regular file."""
    (project / ROUTER).unlink()
    os.mkfifo(project / ROUTER)
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    assert run.stderr.strip() == f"{ROUTER}: not a regular file; eventgen only edits regular files"
