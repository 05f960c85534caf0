"""`eventgen diff [--stat] [--color auto|always|never] [--exit-code]`, checked against real git."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli
from support.project import git, make_project
from support.specs import CHAT_SPEC, FEATURE_SPEC
from support.tree import snapshot

from generator.apply.change import FileChange
from generator.sink.diff import diff_stat, unified_diff

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project under git whose files hold what trips naive line splitting:
    a form feed line, U+2028 inside a string, and a router with CRLF line endings."""
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC, "chat": CHAT_SPEC})
    main = root / "backend/open_webui/socket/main.py"
    main.write_text(
        main.read_text().replace(
            "log = logging.getLogger(__name__)", '\x0c\nlog = logging.getLogger(__name__)\nSEP = "a\u2028b\x0bc"'
        ),
        encoding="utf-8",
    )
    router = root / "backend/open_webui/routers/features.py"
    router.write_bytes(router.read_bytes().replace(b"\n", b"\r\n"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "before eventgen")
    return root


def test_diff_is_the_patch_generate_applies(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli("-C", str(repo), "diff")
    assert run.exit == 0 and run.stdout.startswith("--- ")
    dry = run_cli("-C", str(repo), "generate", "--dry-run")
    assert dry.stdout == run.stdout
    generated = repo.parent / "generated"
    shutil.copytree(repo, generated)
    assert run_cli("-C", str(generated), "generate").exit == 0
    proc = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", "-"],
        cwd=repo,
        input=run.stdout.encode(),
        check=False,
        capture_output=True,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert snapshot(repo) == snapshot(generated)
    assert b"\r\n" in (repo / "backend/open_webui/routers/features.py").read_bytes()
    assert run_cli("-C", str(repo), "diff").stdout == ""


def test_stat_counts_and_totals_match_git(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stat = run_cli("-C", str(repo), "diff", "--stat")
    assert stat.exit == 0
    assert run_cli("-C", str(repo), "generate").exit == 0
    git(repo, "add", "-A")
    numstat = {}
    for line in git(repo, "diff", "--cached", "--numstat").stdout.splitlines():
        add, rem, path = line.split("\t")
        numstat[path] = int(add) + int(rem)
    shortstat = git(repo, "diff", "--cached", "--shortstat").stdout.rstrip("\n")
    rows = stat.stdout.rstrip("\n").split("\n")
    ours = {}
    for row in rows[:-1]:
        path, _, rest = row.partition("|")
        ours[path.strip()] = int(rest.split()[0])
        bar = rest.split()[1] if len(rest.split()) > 1 else ""
        assert set(bar) <= {"+", "-"} and 0 < len(bar) <= 40
    assert ours == numstat
    assert rows[-1] == shortstat


def test_exit_code_like_git_diff(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("-C", str(repo), "diff").exit == 0
    assert run_cli("-C", str(repo), "diff", "--exit-code").exit == 1
    assert run_cli("-C", str(repo), "diff", "--stat", "--exit-code").exit == 1
    assert run_cli("-C", str(repo), "generate").exit == 0
    quiet = run_cli("-C", str(repo), "diff", "--exit-code")
    assert (quiet.exit, quiet.stdout, quiet.stderr) == (0, "", "")


def test_a_hand_edit_is_reported_not_hidden(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("-C", str(repo), "generate").exit == 0
    router = repo / "backend/open_webui/routers/features.py"
    router.write_bytes(router.read_bytes().replace(b"data=feature.model_dump())", b"data={})"))
    lines = router.read_bytes().split(b"\r\n")
    begin = next(
        n for n, line in enumerate(lines, 1) if b"eventgen:begin feature/feature:updated@update_feature" in line
    )
    run = run_cli("-C", str(repo), "diff")
    assert run.exit == 0 and run.stdout == ""  # generate would not write it...
    assert run.stderr == (  # ...and says why on stderr
        f"backend/open_webui/routers/features.py:{begin}: edited by hand: emit call for feature:updated in update_feature() (spec feature)"
        " (not in the diff: `generate` refuses it, `generate --force` overwrites it)\n"
    )
    assert run_cli("-C", str(repo), "diff", "--exit-code").exit == 1


def test_color_always_never_auto(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = run_cli("-C", str(repo), "diff", "--color", "never").stdout
    auto = run_cli("-C", str(repo), "diff").stdout  # captured stdout is not a terminal
    assert not ANSI.search(plain) and auto == plain
    colored = run_cli("-C", str(repo), "diff", "--color", "always").stdout
    assert ANSI.sub("", colored) == plain
    for line in colored.split("\n"):
        line = line.removesuffix("\r")  # CRLF files: the reset comes before the CR
        bare = ANSI.sub("", line)
        if bare.startswith(("--- ", "+++ ")):
            assert line.startswith("\x1b[1m")
        elif bare.startswith("+"):
            assert line.startswith("\x1b[32m") and line.endswith("\x1b[0m")
        elif bare.startswith("@@"):
            assert line.startswith("\x1b[36m")
        else:
            assert line == bare
    stat = run_cli("-C", str(repo), "diff", "--stat", "--color", "always").stdout
    assert "\x1b[32m+" in stat
    assert ANSI.sub("", stat) == run_cli("-C", str(repo), "diff", "--stat").stdout


def test_content_lines_that_look_like_headers() -> None:
    """A removed "-- x" line prints as "--- x": it is content, red and counted, not a header."""
    change = FileChange("notes.sql", b"keep\n-- old comment\n++counter\n", b"keep\n++new\n")
    colored = unified_diff([change], color=True).splitlines()
    assert colored[0] == "\x1b[1m--- a/notes.sql\x1b[0m" and colored[1] == "\x1b[1m+++ b/notes.sql\x1b[0m"
    assert "\x1b[31m--- old comment\x1b[0m" in colored
    assert "\x1b[31m-++counter\x1b[0m" in colored
    assert "\x1b[32m+++new\x1b[0m" in colored
    assert diff_stat([change]) == " notes.sql | 3 +--\n 1 file changed, 1 insertion(+), 2 deletions(-)\n"


def test_stat_wording_and_scaling_match_git(tmp_path: Path) -> None:
    before = "".join(f"line {i}\n" for i in range(200)).encode()
    after = before.replace(b"line 1\n", b"LINE 1\n", 1) + b"".join(b"new %d\n" % i for i in range(99))
    changes = [
        FileChange("big.txt", before, after),
        FileChange("gone.txt", b"x\n", None),
        FileChange("new.txt", None, b"y"),
    ]
    ours = diff_stat(changes).splitlines()
    git(tmp_path, "init", "-q")
    (tmp_path / "big.txt").write_bytes(before)
    (tmp_path / "gone.txt").write_bytes(b"x\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "a")
    (tmp_path / "big.txt").write_bytes(after)
    (tmp_path / "gone.txt").unlink()
    (tmp_path / "new.txt").write_bytes(b"y")
    git(tmp_path, "add", "-A")
    assert ours[-1] == git(tmp_path, "diff", "--cached", "--shortstat").stdout.rstrip("\n")
    # Rows as git prints them (name padded, count right-aligned); the bar is scaled to 40 columns.
    theirs = git(tmp_path, "diff", "--cached", "--stat").stdout.splitlines()
    assert [row.rsplit(" ", 1)[0] for row in ours[:-1]] == [row.rsplit(" ", 1)[0] for row in theirs[:-1]]
    assert ours[0].startswith(" big.txt  | 101 ")
    bar = ours[0].split()[-1]
    assert len(bar) == 40 and bar.count("-") == 1  # scaled, and the lone deletion stays visible
    assert ours[1] == " gone.txt |   1 -"
    assert ours[2] == " new.txt  |   1 +"
    single = diff_stat([FileChange("a", b"", b"x\n")])
    assert single.endswith(" 1 file changed, 1 insertion(+)\n")


def test_a_forced_dry_run_shows_and_exits_as_the_forced_run(repo: Path) -> None:
    """`generate --dry-run --force` prints what `generate --force` writes, and exits as it exits:
    a hand edit that --force overwrites is no conflict there."""
    assert run_cli("-C", str(repo), "generate").exit == 0
    router = repo / "backend/open_webui/routers/features.py"
    router.write_bytes(router.read_bytes().replace(b"data=feature.model_dump())", b"data={})"))
    before = snapshot(repo)
    assert run_cli("-C", str(repo), "generate", "--dry-run").exit == 1  # the edit blocks a plain run
    forced = run_cli("-C", str(repo), "generate", "--dry-run", "--force")
    assert forced.exit == 0, forced.output
    assert "+    await notify_feature_update(feature_id=feature_id, data=feature.model_dump())" in forced.stdout
    assert snapshot(repo) == before
    assert run_cli("-C", str(repo), "generate", "--force").exit == 0
    assert run_cli("-C", str(repo), "check").exit == 0
