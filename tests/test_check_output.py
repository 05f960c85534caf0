"""`eventgen check --format text|json|github [--no-diff]`: what a reviewer and a CI tool read."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli
from support.project import make_project
from support.specs import CHAT_SPEC, FEATURE_SPEC
from support.tree import snapshot, write

from generator.check_output import _gh_data, _gh_prop, default_format
from generator.pipeline import compute
from generator.sink.mode import Sink

# -- a reader of workflow commands, as the Actions runner parses them ---------------------
# (actions/runner ActionCommand.TryParseV2 and its unescape tables)


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_prop(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def runner_commands(output: str) -> list[tuple[str, dict[str, str], str]]:
    """Every workflow command the runner would act on, honouring ::stop-commands::."""
    commands = []
    stopped: str | None = None
    for line in output.split("\n"):
        line = line.strip()
        if stopped is not None:
            if line == f"::{stopped}::":
                stopped = None
            continue
        if not line.startswith("::"):
            continue
        end = line.find("::", 2)
        if end < 0:
            continue
        info, data = line[2:end], line[end + 2 :]
        name, _, props_text = info.partition(" ")
        props = {}
        for pair in filter(None, props_text.split(",")):
            key, _, value = pair.partition("=")
            props[key] = _unescape_prop(value)
        if name == "stop-commands":
            stopped = data
            continue
        commands.append((name, props, _unescape_data(data)))
    return commands


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def synced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_project(tmp_path / "app", specs={"feature": FEATURE_SPEC, "chat": CHAT_SPEC})
    assert run_cli("-C", str(root), "generate").exit == 0
    return root


def _drift_every_kind(root: Path) -> None:
    """One item of each kind: out of date, missing, edited by hand, orphaned."""
    spec = root / "events/feature.yaml"
    spec.write_text(spec.read_text().replace("max_length: 128", "max_length: 64"))  # outdated models file + region
    (root / "events/chat.yaml").unlink()  # the chat region, its imports and stub stay behind: orphaned
    router = root / "backend/open_webui/routers/features.py"
    router.write_text(router.read_text().replace("data=feature.model_dump())", "data={})"))  # hand edit
    (root / "backend/open_webui/socket/main.py").write_text(
        _strip_region((root / "backend/open_webui/socket/main.py").read_text(), "imports")
    )  # missing


def _strip_region(text: str, region_id: str) -> str:
    return re.sub(
        rf"# eventgen:begin {re.escape(region_id)} .*?# eventgen:end {re.escape(region_id)}\n",
        "",
        text,
        flags=re.DOTALL,
    )


# -- text ------------------------------------------------------------------------------------


def test_in_sync_is_exit_0_in_every_format(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checked = len(compute(synced, Sink.CHECK).report.of("unchanged"))
    assert checked >= 6  # imports, two handler regions, emit call, router imports, models file
    for fmt in ("text", "json", "github"):
        run = run_cli("-C", str(synced), "check", "--format", fmt)
        assert run.exit == 0, (fmt, run.stdout, run.stderr)
        assert f"in sync ({checked} generated items checked)" in run.stdout
    doc = json.loads(run_cli("-C", str(synced), "check", "--format", "json").stdout)
    assert doc["ok"] is True and doc["problems"] == [] and doc["files"] == [] and doc["errors"] == []
    assert runner_commands(run_cli("-C", str(synced), "check", "--format", "github").stdout) == []


def test_text_groups_problems_by_kind_with_file_and_diff(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drift_every_kind(synced)
    run = run_cli("-C", str(synced), "check", "--format", "text")
    assert run.exit == 1
    lines = run.stdout.splitlines()
    headings = [
        line.split(" (")[0]
        for line in lines
        if not line.startswith((" ", "+", "-", "@", "\\")) and "(" in line and "):" in line
    ]
    assert headings == ["out of date", "missing", "edited by hand", "orphaned"]

    def group(title: str) -> list[str]:
        start = next(i for i, line in enumerate(lines) if line.startswith(title + " ("))
        out = []
        for line in lines[start + 1 :]:
            if not line.startswith("  "):
                break
            out.append(line.strip())
        assert f"{title} ({len(out)}):" in lines[start]
        return out

    router_lines = (synced / "backend/open_webui/routers/features.py").read_text().splitlines()
    region_line = next(
        n for n, line in enumerate(router_lines, 1) if "eventgen:begin feature/feature:updated@update_feature" in line
    )
    socket_lines = (synced / "backend/open_webui/socket/main.py").read_text().splitlines()
    last_import = max(n for n, line in enumerate(socket_lines, 1) if line.startswith(("import ", "from ")))
    assert group("missing") == [f"backend/open_webui/socket/main.py:{last_import + 1}: imports region"]
    assert group("edited by hand") == [
        f"backend/open_webui/routers/features.py:{region_line}: emit call for feature:updated in update_feature() (spec feature)"
    ]
    assert (
        "backend/open_webui/socket/main.py:" in group("orphaned")[0]
        and "handlers region of spec chat" in group("orphaned")[0]
    )
    outdated = {i.file for i in compute(synced, Sink.CHECK).report.of("outdated")}
    assert "backend/open_webui/socket/event_models.py" in outdated
    assert {p.split(":")[0] for p in group("out of date")} == outdated
    # The diff covers every file, the hand edit as what --force would restore.
    assert "--- a/backend/open_webui/routers/features.py" in run.stdout
    assert "-    await notify_feature_update(feature_id=feature_id, data={})" in run.stdout
    assert "+    await notify_feature_update(feature_id=feature_id, data=feature.model_dump())" in run.stdout
    assert "max_length=64" in run.stdout
    orphaned = len(compute(synced, Sink.CHECK).report.of("orphaned"))
    assert lines[-1] == (
        f"eventgen: drift: {len(outdated)} out of date, 1 missing, 1 edited by hand, {orphaned} orphaned"
        " (`eventgen generate` fixes the rest once each hand edit is moved into the spec or discarded with --force)"
    )

    quiet = run_cli("-C", str(synced), "check", "--no-diff")
    assert quiet.exit == 1
    assert "@@" not in quiet.stdout and "--- a/" not in quiet.stdout
    listing = lines[: lines.index("")]  # the grouped items come first, then a blank line and the diff
    assert quiet.stdout.splitlines() == [*listing, lines[-1]]


def test_check_never_writes(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drift_every_kind(synced)
    before = {p: p.read_bytes() for p in synced.rglob("*") if p.is_file()}
    for fmt in ("text", "json", "github"):
        assert run_cli("-C", str(synced), "check", "--format", fmt).exit == 1
    assert {p: p.read_bytes() for p in synced.rglob("*") if p.is_file()} == before


# -- json ------------------------------------------------------------------------------------


def test_json_is_one_document_with_the_documented_shape(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _drift_every_kind(synced)
    run = run_cli("-C", str(synced), "check", "--format", "json")
    assert run.exit == 1
    doc = json.loads(run.stdout)  # one document, nothing else on stdout
    no_diff = json.loads(run_cli("-C", str(synced), "check", "--format", "json", "--no-diff").stdout)
    assert no_diff["files"] and all(f["diff"] is None for f in no_diff["files"])
    assert [f["path"] for f in no_diff["files"]] == [f["path"] for f in doc["files"]]
    assert set(doc) == {"version", "ok", "exit_code", "summary", "counts", "problems", "files", "errors"}
    assert doc["version"] == 1 and doc["ok"] is False and doc["exit_code"] == 1 and doc["errors"] == []
    assert doc["summary"].startswith("eventgen: drift:")
    outcome = compute(synced, Sink.CHECK, force=True)
    report = outcome.report
    assert doc["counts"] == {k: len(report.of(k)) for k in ("missing", "outdated", "edited", "orphaned", "unchanged")}
    assert sorted((p["kind"], p["file"], p["line"] or 0, p["item"]) for p in doc["problems"]) == sorted(
        (i.kind, i.file, i.line, i.what) for i in report.drift
    )
    for problem in doc["problems"]:
        assert set(problem) == {"kind", "kind_text", "file", "line", "item", "fix"}
        assert (
            problem["kind_text"]
            == {"missing": "missing", "outdated": "out of date", "edited": "edited by hand", "orphaned": "orphaned"}[
                problem["kind"]
            ]
        )
    assert [f["path"] for f in doc["files"]] == sorted(c.path for c in outcome.changes)
    assert {f["change"] for f in doc["files"]} <= {"create", "modify", "delete"}
    # Each file's diff is a real patch: applied with git, the tree equals what `generate --force` writes.
    forced = synced.parent / "forced"
    shutil.copytree(synced, forced)
    assert run_cli("-C", str(forced), "generate", "--force").exit == 0
    for f in doc["files"]:
        proc = subprocess.run(
            ["git", "apply", "--unsafe-paths", "-"],
            cwd=synced,
            input=f["diff"],
            text=True,
            check=False,
            capture_output=True,
        )
        assert proc.returncode == 0, proc.stderr
    assert snapshot(synced) == snapshot(forced)
    assert json.loads(run_cli("-C", str(forced), "check", "--format", "json").stdout)["ok"] is True


def test_json_reports_invalid_input_as_errors_with_exit_2(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(synced, "events/feature.yaml", FEATURE_SPEC.replace("direction: server_to_client", "direction: sideways"))
    run = run_cli("-C", str(synced), "check", "--format", "json")
    assert run.exit == 2 and run.stderr == ""
    doc = json.loads(run.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 2 and doc["problems"] == []
    assert len(doc["errors"]) == 1
    err = doc["errors"][0]
    line = FEATURE_SPEC.splitlines().index("    direction: server_to_client") + 1
    assert (err["path"], err["line"], err["col"]) == ("events/feature.yaml", line, 16)
    assert "sideways" in err["message"]
    # Text keeps the positioned message on stderr, the contract's form.
    text = run_cli("-C", str(synced), "check")
    assert text.exit == 2 and text.stdout == "" and text.stderr.startswith(f"events/feature.yaml:{line}:16: ")


# -- github ----------------------------------------------------------------------------------


def test_escaping_follows_the_actions_toolkit() -> None:
    assert _gh_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert _gh_prop("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext%3A a%2Cb"
    assert _gh_prop("%0A") == "%250A"  # already-escaped-looking text survives the round trip
    for text in ("a%b", "x\ry\nz", "k:v,w", "%3A%2C", ""):
        assert _unescape_prop(_gh_prop(text)) == text
        assert _unescape_data(_gh_data(text)) == text


def test_github_annotations_point_at_each_problem(
    synced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _drift_every_kind(synced)
    github_env = {"GITHUB_WORKSPACE": str(synced)}
    run = run_cli("-C", str(synced), "check", "--format", "github", env=github_env)
    assert run.exit == 1
    commands = runner_commands(run.stdout)
    errors = [(props, data) for name, props, data in commands if name == "error"]
    report = compute(synced, Sink.CHECK, force=True).report
    assert sorted((p["file"], int(p.get("line", 0))) for p, _ in errors) == sorted(
        (i.file, i.line) for i in report.drift
    )
    for props, data in errors:
        assert props["title"].startswith("eventgen: ")
        assert data.endswith(("run `eventgen generate`", "to discard it", "(no spec generates it here any more)"))
    # The diff is in a collapsed group, and nothing in it can act as a command.
    assert [name for name, _, _ in commands if name in ("group", "endgroup")] == ["group", "endgroup"]
    assert "+    await notify_feature_update(feature_id=feature_id, data=feature.model_dump())" in run.stdout
    assert run.stdout.rstrip("\n").splitlines()[-1].startswith("eventgen: drift:")
    assert "@@" not in run_cli("-C", str(synced), "check", "--format", "github", "--no-diff", env=github_env).stdout


def test_github_paths_are_relative_to_the_workspace_and_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A project in a subfolder whose name holds every character the escaping must handle.
    hostile = "we,ird:dir%25\r\nnext"
    root = make_project(tmp_path / "repo" / hostile)
    github_env = {"GITHUB_WORKSPACE": str(tmp_path / "repo")}
    run = run_cli("-C", str(root), "check", "--format", "github", "--no-diff", env=github_env)
    assert run.exit == 1
    raw_errors = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert raw_errors and all("\r" not in line for line in raw_errors)
    assert len(raw_errors) == len(
        [c for c in runner_commands(run.stdout) if c[0] == "error"]
    )  # one line per annotation
    assert "file=we%2Cird%3Adir%2525%0D%0Anext/backend/open_webui/socket/event_models.py" in run.stdout
    files = {props["file"] for name, props, _ in runner_commands(run.stdout) if name == "error"}
    assert f"{hostile}/backend/open_webui/socket/event_models.py" in files
    # Outside the workspace, the project-relative path is the best there is.
    github_env = {"GITHUB_WORKSPACE": str(tmp_path / "elsewhere")}
    monkeypatch.chdir(tmp_path)
    files = {
        p["file"]
        for n, p, _ in runner_commands(run_cli("-C", str(root), "check", "--format", "github", env=github_env).stdout)
        if n == "error"
    }
    assert "backend/open_webui/socket/event_models.py" in files


def test_github_error_messages_cannot_inject_commands(
    synced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A spec key carrying a newline and a workflow command: it lands in the error message.
    evil = FEATURE_SPEC.replace("description: Live updates for features.", '"x\\n::warning file=pwned::boom,%": 1')
    write(synced, "events/feature.yaml", evil)
    github_env = {"GITHUB_WORKSPACE": str(synced.parent)}
    run = run_cli("-C", str(synced), "check", "--format", "github", env=github_env)
    assert run.exit == 2
    commands = runner_commands(run.stdout)
    assert [name for name, _, _ in commands] == ["error"]
    _name, props, data = commands[0]
    assert props == {"file": "app/events/feature.yaml", "line": "2", "col": "1", "title": "eventgen: invalid input"}
    assert run.stdout.splitlines()[-1] == "eventgen: 1 problem(s) of invalid input; nothing was checked"
    assert "key 'x\n::warning file=pwned::boom,%'" in data


def test_github_is_the_default_under_github_actions(
    synced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _drift_every_kind(synced)
    assert default_format({}) == "text"
    assert not run_cli("-C", str(synced), "check").stdout.startswith("::error")
    assert default_format({"GITHUB_ACTIONS": "false"}) == "text"
    github_env = {"GITHUB_ACTIONS": "true"}
    assert default_format(github_env) == "github"
    run = run_cli("-C", str(synced), "check", env=github_env)
    assert run.exit == 1 and run.stdout.startswith("::error file=")
    assert json.loads(run_cli("-C", str(synced), "check", "--format", "json", env=github_env).stdout)["exit_code"] == 1


def test_the_summary_gives_advice_that_works(synced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    router = synced / "backend/open_webui/routers/features.py"
    router.write_text(router.read_text().replace("data=feature.model_dump())", "data={})"))
    only_edit = run_cli("-C", str(synced), "check", "--no-diff").stdout.splitlines()[-1]
    assert (
        only_edit
        == "eventgen: drift: 1 edited by hand (move the edit into the spec, or run `eventgen generate --force`)"
    )
    assert run_cli("-C", str(synced), "generate").exit == 1  # plain generate indeed refuses
    assert run_cli("-C", str(synced), "generate", "--force").exit == 0
    (synced / "backend/open_webui/socket/event_models.py").unlink()
    missing = run_cli("-C", str(synced), "check", "--format", "json").stdout
    assert json.loads(missing)["summary"] == "eventgen: drift: 1 missing (run `eventgen generate`)"


def test_damaged_markers_are_a_conflict_in_every_format(
    synced: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main = synced / "backend/open_webui/socket/main.py"
    lines = main.read_text().splitlines(keepends=True)
    end = next(n for n, line in enumerate(lines) if line.startswith("# eventgen:end feature"))
    main.write_text("".join(lines[:end] + lines[end + 1 :]))  # the region lost its end marker
    begin = next(n for n, line in enumerate(lines, 1) if line.startswith("# eventgen:begin feature "))
    github_env = {"GITHUB_WORKSPACE": str(synced)}
    github = run_cli("-C", str(synced), "check", "--format", "github", env=github_env)
    assert github.exit == 1
    commands = runner_commands(github.stdout)
    assert [(n, p["file"], p["line"], p["title"]) for n, p, _ in commands] == [
        ("error", "backend/open_webui/socket/main.py", str(begin), "eventgen: damaged generated code")
    ]
    assert "has no end marker" in commands[0][2]
    doc = json.loads(run_cli("-C", str(synced), "check", "--format", "json", env=github_env).stdout)
    assert doc["exit_code"] == 1 and doc["errors"][0]["line"] == begin
    assert doc["summary"] == "eventgen: 1 problem(s) of damaged generated code; nothing was checked"
