"""Commands import only what they use (issue 7): `--help` is as quick as click itself.

Each command runs in a fresh interpreter, then that interpreter reports which
heavy libraries ended up in sys.modules. Timing is left to
benchmarks/bench_check.py; this asserts the cause, not the clock. The same probe
sees libcst and jinja2 arrive where a command does need them, so it can tell.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "openwebui-mini"
HEAVY = ("libcst", "jinja2", "pydantic", "yaml")

_PROBE = """
import contextlib, io, json, sys
from generator.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
    code = main(json.loads(sys.argv[1]))
loaded = sorted({name.partition(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"exit": code, "output": out.getvalue(), "loaded": loaded}))
"""


def probe(*args: str) -> tuple[int, str, set[str]]:
    """Run `eventgen ARGS` in a new interpreter; its exit code, output and heavy imports."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args)), json.dumps(HEAVY)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    return report["exit"], report["output"], set(report["loaded"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "app"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("node_modules", ".svelte-kit", "__pycache__"))
    return target


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("generate", "--help"), ("validate", "--help")], ids=" ".join)
def test_help_imports_no_heavy_library(args: tuple[str, ...]) -> None:
    code, output, loaded = probe(*args)
    assert code == 0 and "Usage:" in output
    assert loaded.isdisjoint({"libcst", "jinja2", "pydantic"}), loaded


def test_validate_loads_specs_without_libcst_or_jinja(project: Path) -> None:
    code, output, loaded = probe("-C", str(project), "validate")
    assert code == 0, output
    assert "valid" in output
    assert {"pydantic", "yaml"} <= loaded  # it did read and validate the specs
    assert loaded.isdisjoint({"libcst", "jinja2"}), loaded


def test_validate_reports_errors_without_libcst_or_jinja(project: Path) -> None:
    spec = project / "events" / "feature.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("direction: client_to_server", "direction: sideways", 1), encoding="utf-8")
    code, output, loaded = probe("-C", str(project), "validate")
    assert code == 2, output
    assert "events/feature.yaml:" in output
    assert loaded.isdisjoint({"libcst", "jinja2"}), loaded


def test_check_in_sync_does_not_parse_with_libcst(project: Path) -> None:
    """In the steady state nothing is new, so nothing needs an anchor: libcst is never imported."""
    code, output, _ = probe("-C", str(project), "generate")
    assert code == 0, output
    code, output, loaded = probe("-C", str(project), "check")
    assert code == 0, output
    assert "jinja2" in loaded  # it did render the templates to compare
    assert "libcst" not in loaded, output


def test_a_new_region_does_import_libcst(project: Path) -> None:
    """The probe sees libcst when a command needs it: placing a new region takes anchors."""
    code, output, _ = probe("-C", str(project), "remove", "feature", "--keep-spec")
    assert code == 0, output
    code, output, loaded = probe("-C", str(project), "generate")
    assert code == 0, output
    assert {"libcst", "jinja2", "pydantic"} <= loaded
