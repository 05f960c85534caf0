"""The README's snippets work as written (issue 18): the exit-code table matches the commands,
the pre-commit hook runs under pre-commit, the CI job's eventgen step gates, `new`'s example runs."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.cli import run_cli
from support.project import git, make_project
from support.specs import FEATURE_SPEC
from support.tree import write
from test_new_actions import POLLS_ROUTER

from generator.cli import cli

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _block(after: str, lang: str) -> str:
    """The first fenced block of a language after a marker line."""
    start = README.index(after)
    m = re.compile(rf"```{lang}\n(.*?)```", re.DOTALL).search(README, start)
    assert m, (after, lang)
    return m.group(1)


def _exit_codes() -> dict[str, str]:
    section = README.split("## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\| `(\w[\w-]*)[^`]*` \| .* \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_the_exit_code_table_names_every_command() -> None:
    assert sorted(_exit_codes()) == sorted(cli.commands)


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["list"],
        ["diff"],
        ["check"],
        ["generate"],
        ["export", "asyncapi"],
        ["export", "typescript"],
        ["remove", "feature"],
    ],
)
def test_every_command_documented_with_2_exits_2_on_an_invalid_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC.replace("action: join", "action: jump")})
    run = run_cli("-C", str(root), *command)
    assert run.exit == 2, run
    assert re.search(r"(^|\D)2(\D|$)", _exit_codes()[command[0]]), f"README: `{command[0]}` exits 2 on invalid input"


def test_diff_exit_codes_are_as_documented(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_codes()["diff"] == "0 (1 with `--exit-code` and changes), 2 invalid input"
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    assert run_cli("-C", str(root), "diff").exit == 0
    assert run_cli("-C", str(root), "diff", "--exit-code").exit == 1
    assert run_cli("-C", str(root), "generate").exit == 0
    assert run_cli("-C", str(root), "diff", "--exit-code").exit == 0


def test_the_summary_quoted_in_the_readme_is_what_generate_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quoted = re.search(r"`(eventgen: changed \d+ files \(generated items: [^)]*\))`", README)
    assert quoted
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    lines = run_cli("-C", str(root), "generate").stdout.splitlines()
    assert re.sub(r"\d+", "N", lines[-1]) == re.sub(r"\d+", "N", quoted.group(1))
    files = {line.split(":", 1)[0] for line in lines[:-1]}
    items = len(lines) - 1
    assert lines[-1] == f"eventgen: changed {len(files)} files (generated items: {items} created)"


def test_the_new_example_runs_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = next(b for b in re.findall(r"```sh\n(.*?)```", README, re.DOTALL) if b.startswith("eventgen new "))
    argv = shlex.split(example.replace("\\\n", " "))
    root = make_project(tmp_path / "app", specs={})
    (root / "events").mkdir()
    write(
        root,
        "backend/open_webui/routers/polls.py",
        POLLS_ROUTER,
    )
    write(
        root,
        "backend/open_webui/models/polls.py",
        "class Polls:\n    @staticmethod\n    def vote(poll_id, user_id, option):\n        return {}\n",
    )
    run = run_cli("-C", str(root), *argv[1:])
    assert run.exit == 0, run.stderr + run.stdout
    assert run_cli("-C", str(root), "check").exit == 0


# -- pre-commit and CI ---------------------------------------------------------------------------


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # the installed eventgen
    return env


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("hook", ["eventgen-check", "eventgen-generate"])
def test_the_pre_commit_config_works_as_written(tmp_path: Path, hook: str) -> None:
    config = _block("## In CI and pre-commit", "yaml")
    assert "OWNER" not in config and "rev:" not in config
    if hook == "eventgen-generate":  # the commented alternative, uncommented
        config = re.sub(r"^      # ?(- id: eventgen-generate|  \w)", r"      \1", config, flags=re.MULTILINE)
    hooks = yaml.safe_load(config)["repos"][0]["hooks"]
    assert [h["id"] for h in hooks][-1] == hook
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    (root / ".pre-commit-config.yaml").write_text(config)
    git(root, "init", "-q")
    git(root, "add", "-A")

    def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", hook, *args],
            cwd=root,
            env=_env(tmp_path),
            check=False,
            capture_output=True,
            text=True,
        )

    first = pre_commit("--all-files")
    assert first.returncode == 1 and "Failed" in first.stdout, first.stdout
    if hook == "eventgen-check":
        assert "eventgen: drift:" in first.stdout
        assert subprocess.run(["eventgen", "generate"], cwd=root, env=_env(tmp_path), check=False).returncode == 0
    else:
        assert "files were modified by this hook" in first.stdout
    git(root, "add", "-A")
    second = pre_commit("--all-files")
    assert second.returncode == 0 and "Passed" in second.stdout, second.stdout


def test_the_ci_job_works_as_written(tmp_path: Path) -> None:
    job = yaml.safe_load(_block("A GitHub Actions job", "yaml"))
    steps = job["jobs"]["check"]["steps"]
    assert [s.get("uses", "").split("@")[0] for s in steps[:2]] == ["actions/checkout", "actions/setup-python"]
    install, gate = steps[2]["run"], steps[3]["run"]
    assert install == "python -m pip install -r requirements-dev.txt"
    assert "OWNER" not in README and "v0.1.0" not in README
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC})
    env = {**_env(tmp_path), "GITHUB_ACTIONS": "true"}

    def step() -> subprocess.CompletedProcess[str]:
        return subprocess.run(gate, shell=True, cwd=root, env=env, check=False, capture_output=True, text=True)

    drift = step()
    assert drift.returncode == 1 and "::error " in drift.stdout, drift.stdout  # annotations under Actions
    assert subprocess.run(["eventgen", "generate"], cwd=root, env=env, check=False, capture_output=True).returncode == 0
    assert step().returncode == 0
    write(root, "events/feature.yaml", FEATURE_SPEC.replace("action: join", "action: jump"))
    assert step().returncode == 2


def test_summaries_count_files_and_items_apart() -> None:
    from generator.report import Item, Report

    report = Report(mode="write", written=["a.py"])
    report.add(Item("missing", "a.py", "imports region"))
    report.add(Item("missing", "a.py", "emit call"))
    report.add(Item("outdated", "a.py", "handlers region"))
    assert report.summary() == "eventgen: changed 1 file (generated items: 2 created, 1 updated)"
    report.written.append("b.ts")
    report.add(Item("orphaned", "b.ts", "generated file"))
    assert report.summary() == "eventgen: changed 2 files (generated items: 2 created, 1 updated, 1 removed)"
    report.add(Item("edited", "a.py", "emit call"))
    assert report.summary().startswith("eventgen: 1 generated item was edited by hand; nothing written.")
