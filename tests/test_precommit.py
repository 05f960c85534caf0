"""`.pre-commit-hooks.yaml`: valid for pre-commit, naming real commands that do their job."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pre_commit.clientlib import load_manifest
from support.project import git, make_project
from support.specs import FEATURE_SPEC
from support.tree import snapshot

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"


def _hooks() -> dict[str, dict[str, Any]]:
    # pre-commit's own loader: the schema pre-commit applies when someone uses this repository.
    return {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}


def _command(hook: dict[str, Any]) -> list[str]:
    """What pre-commit runs for a hook with pass_filenames: false: entry, then args."""
    words = shlex.split(hook["entry"])
    # The script this interpreter's environment installed (a PATH shim may point elsewhere, slowly).
    beside = Path(sys.executable).parent / words[0]
    program = str(beside) if beside.is_file() else shutil.which(words[0])
    assert program, f"{words[0]} is not on PATH: install this package (scripts/test.sh runs pip install -e .)"
    return [program, *words[1:], *hook["args"]]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), env.get("PATH", "")]
    )  # `language: system` finds our eventgen
    return env


def test_manifest_parses_and_names_the_installed_console_script() -> None:
    hooks = _hooks()
    assert sorted(hooks) == ["eventgen-check", "eventgen-generate"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for hook_id, command in (("eventgen-check", "check"), ("eventgen-generate", "generate")):
        hook = hooks[hook_id]
        assert hook["language"] == "python"  # pre-commit installs this package, and so its console script
        assert hook["pass_filenames"] is False
        entry = shlex.split(hook["entry"])
        assert scripts[entry[0]] == "generator.cli:main"
        assert [*entry[1:], *hook["args"]] == [command]
        files = re.compile(hook["files"])
        for path in (
            "events/feature.yaml",
            "events/chat.yml",
            "eventgen.toml",
            "backend/open_webui/socket/main.py",
            "src/lib/A.svelte",
            "src/lib/socket/events.ts",
        ):
            assert files.search(path), path
        for path in ("README.md", "static/logo.png", "yarn.lock"):
            assert not files.search(path), path
    # The key names are exactly pre-commit's (a typo such as `pass_filename` would be silently ignored).
    raw = yaml.safe_load(MANIFEST.read_text())
    known = {"id", "name", "entry", "language", "args", "pass_filenames", "files", "require_serial", "description"}
    assert all(set(hook) <= known for hook in raw)


def test_each_hook_entry_does_its_job(tmp_path: Path) -> None:
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    hooks = _hooks()
    check, generate = _command(hooks["eventgen-check"]), _command(hooks["eventgen-generate"])
    first = subprocess.run(check, cwd=root, env=_env(tmp_path), check=False, capture_output=True, text=True)
    assert first.returncode == 1 and "eventgen: drift:" in first.stdout
    before = snapshot(root)
    made = subprocess.run(generate, cwd=root, env=_env(tmp_path), check=False, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    after = snapshot(root)
    assert after != before and "backend/open_webui/socket/event_models.py" in after
    again = subprocess.run(generate, cwd=root, env=_env(tmp_path), check=False, capture_output=True, text=True)
    assert again.returncode == 0 and snapshot(root) == after  # a second run changes nothing
    assert (
        subprocess.run(check, cwd=root, env=_env(tmp_path), check=False, capture_output=True, text=True).returncode == 0
    )
    # Invalid input is exit 2 through the hook too, and nothing is written.
    (root / "events/feature.yaml").write_text(FEATURE_SPEC.replace("action: join", "action: jump"))
    bad = subprocess.run(generate, cwd=root, env=_env(tmp_path), check=False, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("events/feature.yaml:")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_hooks_under_pre_commit_itself(tmp_path: Path) -> None:
    """pre-commit runs the hooks as declared (language: system stands in for the installed
    package, so no network is needed): filters, whole-project runs, modified-files failure."""
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    local = []
    for hook in _hooks().values():
        local.append(
            {k: hook[k] for k in ("id", "name", "entry", "args", "pass_filenames", "files", "require_serial")}
            | {"language": "system"}
        )
    (root / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}, sort_keys=False)
    )
    (root / "README.md").write_text("app\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    env = _env(tmp_path)

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", *args],
            cwd=root,
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )

    checked = pre_commit("eventgen-check", "--all-files")
    assert checked.returncode == 1 and re.search(r"eventgen check\.+Failed", checked.stdout), checked.stdout
    generated = pre_commit("eventgen-generate", "--all-files")
    assert generated.returncode == 1 and "files were modified by this hook" in generated.stdout
    git(root, "add", "-A")
    clean = pre_commit("--all-files")
    assert clean.returncode == 0, clean.stdout
    assert re.search(r"eventgen check\.+Passed", clean.stdout) and re.search(
        r"eventgen generate\.+Passed", clean.stdout
    )
    git(root, "commit", "-qm", "generated")
    (root / "README.md").write_text("app, documented\n")
    git(root, "add", "README.md")
    skipped = pre_commit()  # staged files only: a README change runs neither hook
    assert skipped.returncode == 0 and skipped.stdout.count("(no files to check)Skipped") == 2
