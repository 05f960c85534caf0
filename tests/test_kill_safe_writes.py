"""CONTRACT 7.7: a `generate` killed (SIGKILL) right after any one of its file swaps leaves a
backend that imports, and the next `generate` gives the bytes of an uninterrupted run. Also: a
read-only file is never overwritten (exit 2 naming it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.tree import snapshot

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "openwebui-mini"
BOARD = REPO / "tests" / "runtime_specs"

# os.replace wrapped in the child: after the Nth swap, the process kills itself with SIGKILL.
_KILLER = """
import os, signal, sys
limit = int(sys.argv[1]); seen = [0]; real = os.replace
def replace(*args, **kwargs):
    real(*args, **kwargs)
    seen[0] += 1
    if seen[0] == limit:
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from generator.cli import main
code = main(["-C", sys.argv[2], sys.argv[3]])
print("swaps", seen[0])
sys.exit(code)
"""


def _app(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build"))
    shutil.copy2(BOARD / "board.yaml", dest / "events" / "board.yaml")
    # No handler module yet: generate writes its stub, a new module the socket module imports.
    return dest


def _generate(app: Path, kill_after: int = 0, command: str = "generate") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", _KILLER, str(kill_after), str(app), command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _imports(app: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPATH")}
    env.update(PYTHONPATH=str(app / "backend"), WEBUI_SECRET_KEY="x")
    return subprocess.run(
        [sys.executable, "-c", "import open_webui.main"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=app / "backend",
    )


def test_a_generate_killed_after_any_swap_leaves_a_backend_that_imports(tmp_path: Path) -> None:
    reference = _app(tmp_path / "reference")
    done = _generate(reference)
    assert done.returncode == 0, done.stdout + done.stderr
    swaps = int(done.stdout.split("swaps")[-1])
    assert swaps >= 5, done.stdout  # models, socket, handler stub, router, frontend files
    assert _imports(reference).returncode == 0
    expected = snapshot(reference)
    for n in range(1, swaps + 1):
        app = _app(tmp_path / f"killed-{n}")
        killed = _generate(app, n)
        assert killed.returncode == -signal.SIGKILL, (n, killed.stdout, killed.stderr)
        imported = _imports(app)
        assert imported.returncode == 0, f"killed after swap {n}: {imported.stderr}"
        if n < swaps:  # the temp files of the swaps it never made are reported
            checked = _generate(app, command="check")
            assert (
                checked.returncode == 1 and "temporary file of an interrupted run" in checked.stdout + checked.stderr
            ), checked.stdout
        again = _generate(app)
        assert again.returncode == 0, again.stdout + again.stderr
        tree = snapshot(app)
        assert [p for p in tree if p.endswith((".eventgen-tmp", ".eventgen-del"))] == []
        assert tree == expected, f"killed after swap {n}"


@pytest.mark.skipif(os.geteuid() == 0 and sys.platform != "linux", reason="root ignores permission bits")
def test_a_read_only_file_is_never_overwritten(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
    router = app / "backend/open_webui/routers/features.py"
    before = router.read_bytes()
    router.chmod(0o444)
    done = _generate(app)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "backend/open_webui/routers/features.py: is read-only" in done.stderr, done.stderr
    assert router.read_bytes() == before
    assert not (app / "backend/open_webui/socket/board_handlers.py").exists(), "nothing is written"
