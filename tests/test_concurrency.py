"""Concurrent runs are serialised by the project lock (issue 8, item 1).

The lock is an advisory flock on the project folder (generator.sink.write.project_lock);
a second `generate` waits for it, then plans from what the first one wrote, so
any number of runs started together end exactly where one run ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import REPO, eventgen
from support.project import TOKEN_APP, make_project
from support.tree import changed_paths, copy_project, leftovers, snapshot

from generator.sink.write import project_lock

pytestmark = pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux /proc/locks to see who waits")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("template") / "app", files=TOKEN_APP)


@pytest.fixture(scope="module")
def generated_once(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes | str]:
    project = copy_project(template, tmp_path_factory.mktemp("reference") / "app")
    assert eventgen(project, "generate").exit == 0
    return snapshot(project)


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    return copy_project(template, tmp_path / "app")


def _start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "generator.cli", "-C", str(project), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _waiting_on(folder: Path) -> int:
    """How many processes are blocked on a flock of this folder (the `->` lines of /proc/locks)."""
    inode = os.stat(folder).st_ino
    count = 0
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and fields[fields.index("->") + 1] == "FLOCK" and fields[-3].endswith(f":{inode}"):
            count += 1
    return count


def _wait_for_waiters(folder: Path, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _waiting_on(folder) < n:
        assert time.monotonic() < deadline, f"expected {n} runs waiting on the lock, saw {_waiting_on(folder)}"
        time.sleep(0.05)


def test_a_run_waits_while_another_holds_the_lock(project: Path, generated_once: dict[str, bytes | str]) -> None:
    before = snapshot(project)
    with project_lock(project):
        proc = _start(project, "generate")
        _wait_for_waiters(project, 1)
        time.sleep(0.3)
        assert proc.poll() is None, "generate ran while the lock was held"
        assert snapshot(project) == before, "nothing is written while another run holds the lock"
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert changed_paths(generated_once, snapshot(project)) == []


def test_two_generates_started_together_end_as_one(project: Path, generated_once: dict[str, bytes | str]) -> None:
    """Both are queued on the lock before either starts, so they really contend."""
    with project_lock(project):
        procs = [_start(project, "generate") for _ in range(2)]
        _wait_for_waiters(project, 2)
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    assert [code for _, _, code in results] == [0, 0], results
    summaries = sorted(out.strip().splitlines()[-1] for out, _, _ in results)
    assert summaries[0].startswith("eventgen: changed 6 files (generated items: "), summaries
    assert summaries[1].startswith("eventgen: nothing to do"), summaries
    assert changed_paths(generated_once, snapshot(project)) == []
    assert leftovers(project) == []


def test_four_generates_at_once_without_a_head_start(project: Path, generated_once: dict[str, bytes | str]) -> None:
    procs = [_start(project, "generate") for _ in range(4)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [code for _, _, code in results] == [0, 0, 0, 0], results
    assert sum("changed 6 files (" in out for out, _, _ in results) == 1, "exactly one run wrote"
    assert changed_paths(generated_once, snapshot(project)) == []
    assert leftovers(project) == []


def test_generate_and_remove_started_together_end_as_one_of_the_two_orders(
    template: Path, project: Path, generated_once: dict[str, bytes | str], tmp_path: Path
) -> None:
    """Whichever gets the lock first, the result is what running the two one after the other gives.

    The spec was edited first, so `generate` alone would update ping's code and `remove` deletes it.
    """
    assert eventgen(project, "generate").exit == 0
    (project / "events/ping.yaml").write_text(
        (project / "events/ping.yaml").read_text().replace("max_length: 64", "max_length: 65")
    )
    orders = {}
    for order in (("generate", "remove ping"), ("remove ping", "generate")):
        reference = copy_project(project, tmp_path / "-then-".join(order).replace(" ", "_"))
        for command in order:
            assert eventgen(reference, *command.split()).exit == 0
        orders[order] = snapshot(reference)
    with project_lock(project):
        procs = [_start(project, "generate"), _start(project, "remove", "ping")]
        _wait_for_waiters(project, 2)
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    assert [code for _, _, code in results] == [0, 0], results
    final = snapshot(project)
    assert final in orders.values(), "the end state is one of the two sequential outcomes"
    assert leftovers(project) == []
