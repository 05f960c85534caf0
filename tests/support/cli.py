"""The one way tests run the CLI: in this process (`run_cli`, `eventgen`) or in a fresh interpreter
(`eventgen_process`), each giving a `Run` (exit code, stdout, stderr).

In-process runs call `generator.cli.main(argv)`, the entry point the `eventgen` script calls, with
stdout and stderr captured, so monkeypatched faults apply. Every run starts from a plain,
terminal-less environment: the variables that change what eventgen prints (GitHub Actions'
format and workspace, colour, CI) are cleared, and a test that wants one passes it in `env`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.cli import main
from support import REPO

# Variables that change what eventgen prints: the expectations are written for a plain run.
OUTPUT_ENV = ("GITHUB_ACTIONS", "GITHUB_WORKSPACE", "NO_COLOR", "FORCE_COLOR", "CI")


@dataclass(frozen=True)
class Run:
    exit: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def doc(self) -> Any:
        """stdout as JSON (`--format json`, `review --json`, ...)."""
        return json.loads(self.stdout)


@contextlib.contextmanager
def plain_env(env: Mapping[str, str] | None = None) -> Iterator[None]:
    """os.environ without OUTPUT_ENV, plus `env`, restored afterwards."""
    saved = dict(os.environ)
    for name in OUTPUT_ENV:
        os.environ.pop(name, None)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> Run:
    """`eventgen ARGS...` in this process, output captured."""
    out, err = io.StringIO(), io.StringIO()
    with plain_env(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Run(code, out.getvalue(), err.getvalue())


def eventgen(project: Path, *args: str, env: Mapping[str, str] | None = None) -> Run:
    """`eventgen -C project ARGS...` in this process."""
    return run_cli("-C", str(project), *args, env=env)


def eventgen_line(project: Path, line: str) -> Run:
    return eventgen(project, *shlex.split(line))


def eventgen_process(project: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> Run:
    """The same command in a fresh interpreter, as a user's shell would run it."""
    base = {k: v for k, v in os.environ.items() if k not in OUTPUT_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "generator.cli", "-C", str(project), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
