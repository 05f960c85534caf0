"""Commands import only what they use (issue 7): `--help` is as quick as click itself.

Each command runs in a fresh interpreter, then that interpreter reports which
heavy libraries ended up in sys.modules. Timing is left to
benchmarks/bench_check.py; this asserts the cause, not the clock. The same probe
sees libcst and jinja2 arrive where a command does need them, so it can tell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import eventgen
from support.tree import unstamp

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


def probe(*args: str, full: bool = False, modules: tuple[str, ...] = HEAVY) -> tuple[int, str, set[str]]:
    """Run `eventgen ARGS` in a new interpreter; its exit code, output and heavy imports.
    `full`: without the fast path of check and generate (issue 19)."""
    env = {k: v for k, v in os.environ.items() if k != "EVENTGEN_FULL_CHECK"}
    if full:
        env["EVENTGEN_FULL_CHECK"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args)), json.dumps(modules)],
        cwd=REPO,
        env=env,
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
    unstamp(target)
    assert eventgen(target, "generate").exit == 0  # a fresh stamp, for this eventgen and Python
    return target


@pytest.mark.parametrize(
    "args", [("--help",), ("check", "--help"), ("generate", "--help"), ("validate", "--help")], ids=" ".join
)
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
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("direction: client_to_server", "direction: sideways", 1),
        encoding="utf-8",
    )
    code, output, loaded = probe("-C", str(project), "validate")
    assert code == 2, output
    assert "events/feature.yaml:" in output
    assert loaded.isdisjoint({"libcst", "jinja2"}), loaded


def test_check_in_sync_does_not_parse_with_libcst(project: Path) -> None:
    """In the steady state nothing is new, so nothing needs an anchor: even the full path
    never imports libcst."""
    code, output, _ = probe("-C", str(project), "generate")
    assert code == 0, output
    code, output, loaded = probe("-C", str(project), "check", full=True)
    assert code == 0, output
    assert "jinja2" in loaded  # it did render the templates to compare
    assert "libcst" not in loaded, output


@pytest.mark.parametrize("command", ["check", "generate"])
def test_in_sync_fast_path_imports_no_heavy_library(project: Path, command: str) -> None:
    """Issue 19: the stamp vouches for every input, so check and a no-op generate read and
    hash files, and import none of YAML, pydantic, Jinja or libcst."""
    code, output, loaded = probe("-C", str(project), command)
    assert code == 0, output
    assert ("in sync" if command == "check" else "nothing to do") in output
    assert loaded == set(), loaded


def test_fast_path_falls_back_to_the_full_path(project: Path) -> None:
    """The probe tells the paths apart: a spec edit makes check validate and render again."""
    spec = project / "events" / "feature.yaml"
    spec.write_bytes(spec.read_bytes() + b"# a comment changes no output\n")
    code, output, loaded = probe("-C", str(project), "check")
    assert code == 0, output
    assert {"yaml", "pydantic", "jinja2"} <= loaded


def test_help_imports_only_click_and_the_cli() -> None:
    """`--help` needs click and the command table, nothing of the stages behind them."""
    stages = (
        "generator.spec",
        "generator.plan",
        "generator.apply",
        "generator.sink",
        "generator.read",
        "generator.config",
        "generator.stamps",
        "generator.fast_check",
        "generator.markers",
    )
    script = "import json, sys\nfrom generator.cli import main\ntry:\n    main(['--help'])\nfinally:\n    print(json.dumps(sorted(m for m in sys.modules if m.startswith('generator'))))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert not [name for name in loaded if name.startswith(stages)], loaded
