"""The golden cases' inputs (one base project plus a per-case overlay) and the runtime probe's launcher.

A case's project before its first step is `tests/golden/_base/`, then the case's
`input/` copied over it (files that differ or are new), less the base paths listed
in the case's `input_removed` (one a line; folders left empty go too). See tests/golden/README.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from support import TESTS

GOLDEN = TESTS / "golden"
BASE = GOLDEN / "_base"


def removed_from_base(case: Path) -> list[str]:
    listing = case / "input_removed"
    if not listing.is_file():
        return []
    return [line.strip() for line in listing.read_text(encoding="utf-8").splitlines() if line.strip()]


def materialise_input(case: Path | str, dest: Path) -> Path:
    """Write the case's project before its first step to `dest` (which must not exist yet)."""
    case = GOLDEN / case if isinstance(case, str) else case
    shutil.copytree(BASE, dest)
    for rel in removed_from_base(case):
        path = dest / rel
        assert path.is_file(), f"{case.name}/input_removed names {rel}, which the base project does not have"
        path.unlink()
        for folder in path.parents:  # a folder the removal left empty goes too, as if never there
            if folder == dest or any(folder.iterdir()):
                break
            folder.rmdir()
    if (case / "input").is_dir():
        shutil.copytree(case / "input", dest, dirs_exist_ok=True)
    return dest


def run_probe(cwd: Path, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `script` (dedented) in a fresh interpreter that imports `cwd`'s code and
    `support.golden_runtime_probe` (no network: the probe feeds a real AsyncServer)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), str(TESTS)]), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
