"""The wheel a user installs: built from this tree, installed non-editably into a fresh venv, run from outside the repo.

Slow (a build backend and the runtime dependencies come from PyPI), so it is
marked `packaging`: `pytest -m packaging` runs it alone; the default suite
includes it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parent.parent

SOCKET_MODULE = """\
import socketio

sio = socketio.AsyncServer(async_mode="asgi")
SESSION_POOL = {}
"""

SPEC = """\
name: ping
events:
  - name: ping:sent
    direction: server_to_client
    broadcast: true
    payload:
      at: float
"""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path
    python: Path
    workdir: Path  # outside the repository, so nothing imports from the source tree

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "eventgen"), *args],
            cwd=cwd or self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    dist = base / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("eventgen-*.whl")
    env = base / "venv"
    venv.create(env, with_pip=True, clear=True)
    python = env / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", str(wheel)],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    workdir = base / "work"
    workdir.mkdir()
    return Installed(wheel, env / "bin", python, workdir)


def test_the_wheel_ships_the_package_templates_and_schemas_only(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "generator/cli.py" in names
    assert "generator/templates/python/socket_region.py.j2" in names
    assert "generator/templates/init/example_spec.yaml.j2" in names
    assert "generator/schemas/event-spec.schema.json" in names
    tracked_templates = subprocess.run(
        ["git", "ls-files", "templates"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert {f"generator/{t}" for t in tracked_templates} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", "examples/", "benchmarks/")) or "__pycache__" in n]


def test_the_installed_package_is_not_the_source_tree(installed: Installed) -> None:
    probe = subprocess.run(
        [
            str(installed.python),
            "-c",
            "import generator, generator.render as r; print(generator.__file__); print(r.templates_dir()); print(r.schemas_dir())",
        ],
        cwd=installed.workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    package_file, templates, schemas = probe.stdout.splitlines()
    site = Path(package_file).parent
    assert "site-packages" in site.parts
    assert not site.is_relative_to(REPO)
    assert Path(templates) == site / "templates"
    assert Path(schemas) == site / "schemas"
    assert (site / "schemas" / "event-spec.schema.json").read_bytes() == (
        REPO / "schemas" / "event-spec.schema.json"
    ).read_bytes()


def test_help_and_version(installed: Installed) -> None:
    help_ = installed.run("--help")
    assert help_.returncode == 0, help_.stderr
    for command in ("init", "new", "generate", "diff", "check", "validate", "list", "remove", "export"):
        assert f"\n  {command} " in help_.stdout
    version = installed.run("--version")
    assert (version.returncode, version.stdout) == (0, "eventgen, version 0.1.0\n")


def test_validate_good_and_bad(installed: Installed, tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "ping.yaml").write_text(SPEC)
    good = installed.run("--project", str(tmp_path), "validate")
    assert (good.returncode, good.stdout, good.stderr) == (0, "eventgen: 1 spec(s), 1 event(s): valid\n", "")
    (tmp_path / "events" / "ping.yaml").write_text(SPEC.replace("broadcast: true", "broadcast: yes"))
    bad = installed.run("--project", str(tmp_path), "validate")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert (
        bad.stderr
        == "events/ping.yaml:5:16: ambiguous value 'yes': YAML 1.1 reads it as a boolean; quote it ('yes') for text, or write true/false\n"
    )


def test_init_new_generate_check_with_the_installed_tool(installed: Installed, tmp_path: Path) -> None:
    socket = tmp_path / "backend" / "open_webui" / "socket" / "main.py"
    socket.parent.mkdir(parents=True)
    socket.write_text(SOCKET_MODULE)
    init = installed.run("init", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    example = (tmp_path / "events" / "examples" / "feature.yaml").read_text()
    assert example == (REPO / "templates" / "init" / "example_spec.yaml.j2").read_text()
    (tmp_path / "events" / "ping.yaml").write_text(SPEC)
    generate = installed.run("generate", cwd=tmp_path)
    assert generate.returncode == 0, generate.stdout + generate.stderr
    assert "# eventgen:begin ping " in socket.read_text()
    assert (tmp_path / "backend" / "open_webui" / "socket" / "event_models.py").is_file()
    new = installed.run("new", "status", "--emit", "status:changed", "--broadcast", "--field", "up:bool", cwd=tmp_path)
    assert new.returncode == 0, new.stdout + new.stderr
    assert "async def emit_status_changed(" in socket.read_text()
    check = installed.run("check", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_export_json_schema_from_the_installed_tool(installed: Installed) -> None:
    out = installed.run("export", "json-schema")
    assert out.returncode == 0
    assert out.stdout == (REPO / "schemas" / "event-spec.schema.json").read_text()


def test_the_repository_readme_commands_name_real_subcommands(installed: Installed) -> None:
    """Every `eventgen <command>` in the README exists in the installed tool."""
    text = (REPO / "README.md").read_text()
    used = set(re.findall(r"`eventgen (?:--project \S+ )?([a-z-]+)", text))
    assert used, "the README shows no commands"
    for command in sorted(used):
        result = installed.run(command, "--help")
        assert result.returncode == 0, f"eventgen {command}: {result.stderr}"
