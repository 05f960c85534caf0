"""`eventgen review` end to end in real git repositories (issue 20): the bundled example, refs,
invalid input on either side, the four formats, exit codes, and the documented recipes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from support.project import git
from support.spec_review import BASE_SPECS, commit_all, edit, found, init_repo, line_of, old_text, review
from support.specs import CHAT_REVIEW_SPEC, FEATURE_SPEC
from support.tree import write

from generator.cli import cli
from generator.review.compare import KINDS

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "openwebui-mini"
DOCS = REPO / "docs"
SPEC = "events/feature.yaml"


# -- the bundled example: one access rule weakened, one payload field removed ----------------


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The example app as its own repository, on a branch off main (a pull request)."""
    root = tmp_path / "app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("node_modules", ".svelte-kit", "__pycache__"))
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "the example app")
    git(root, "checkout", "-q", "-b", "weaken-feature")
    return root


def weaken(root: Path) -> None:
    """The pull request: anyone signed in may join a feature's room; updates stop carrying `data`."""
    edit(root, SPEC, "access: open_webui.socket.access:can_read_feature", "access: authenticated")
    edit(root, SPEC, "      data: dict\n", "")
    edit(root, SPEC, "args: {feature_id: feature_id, data: feature.model_dump()}", "args: {feature_id: feature_id}")


def test_example_pr_shows_both_findings_at_their_lines(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weaken(example)
    before, after = old_text(example, SPEC), (example / SPEC).read_text(encoding="utf-8")
    access_line = line_of(after, "access: authenticated")
    field_line = line_of(before, "data: dict")
    base = git(example, "rev-parse", "--short", "main").stdout.strip()

    result = review(example, "--format", "json")
    assert result.exit == 1
    doc = result.doc
    assert doc["against"]["ref"] == base and doc["against"]["how"] == "merge base of HEAD and main"
    blocking = {(f["class"], f["kind"], f["path"], f["line"], f["side"]) for f in doc["findings"] if f["blocking"]}
    assert blocking == {
        ("security", "access-weakened", SPEC, access_line, "new"),
        ("breaking", "field-removed", SPEC, field_line, "old"),
    }
    assert [f["kind"] for f in doc["findings"] if not f["blocking"]] == ["emit-changed"]

    text = review(example, "--format", "text")
    assert text.exit == 1
    assert f"\n  {base}:{SPEC}:{field_line}: field 'data' of event 'feature:updated': removed\n" in text.stdout
    assert (
        f"\n  {SPEC}:{access_line}: room 'feature' (feature:{{feature_id}}): access changed from open_webui.socket.access:can_read_feature to authenticated\n"
        in text.stdout
    )
    assert text.stdout.rstrip().endswith("(once reviewed, acknowledge with --allow-breaking and --allow-security)")

    markdown = review(example, "--format", "markdown").stdout
    assert markdown.startswith("### eventgen review: **1 breaking**, **1 security-relevant**, 1 compatible\n")
    assert f"| `{base}:{SPEC}:{field_line}` (removed) | field 'data' of event 'feature:updated': removed |" in markdown
    assert f"| `{SPEC}:{access_line}` | room 'feature' (feature:{{feature_id}}): access changed" in markdown

    github = review(example, "--format", "github").stdout.splitlines()
    payload_line = line_of(after, "payload:", after="- name: feature:updated")
    assert github[0].startswith(
        f"::error file={SPEC},line={payload_line},title=eventgen review%3A breaking for deployed clients::field 'data'"
    )
    assert github[0].endswith(f"(was {base}:{SPEC}:{field_line})")
    assert github[1].startswith(
        f"::error file={SPEC},line={access_line},title=eventgen review%3A security-relevant::room 'feature'"
    )


@pytest.mark.parametrize(
    ("flags", "code"),
    [((), 1), (("--allow-breaking",), 1), (("--allow-security",), 1), (("--allow-breaking", "--allow-security"), 0)],
    ids=["none", "breaking", "security", "both"],
)
def test_each_class_is_acknowledged_separately(
    example: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], code: int
) -> None:
    weaken(example)
    result = review(example, "--format", "json", *flags)
    assert result.exit == code == result.doc["exit_code"]
    assert {f["class"]: f["blocking"] for f in result.doc["findings"] if f["class"] != "compatible"} == {
        "breaking": "--allow-breaking" not in flags,
        "security": "--allow-security" not in flags,
    }
    github = review(example, "--format", "github", *flags).stdout
    assert github.count("::error ") == 2 - len(flags) and github.count("::warning ") == len(flags)


def test_flags_from_the_environment(
    example: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CI recipe sets these from pull-request labels: "true" acknowledges, "false" does not."""
    weaken(example)
    monkeypatch.setenv("EVENTGEN_ALLOW_BREAKING", "true")
    monkeypatch.setenv("EVENTGEN_ALLOW_SECURITY", "false")
    assert review(example, "--format", "json").exit == 1
    monkeypatch.setenv("EVENTGEN_ALLOW_SECURITY", "true")
    assert review(example, "--format", "json").exit == 0


def test_only_breaking_acknowledged_passes(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(example, SPEC, "      data: dict\n", "")
    edit(example, SPEC, "args: {feature_id: feature_id, data: feature.model_dump()}", "args: {feature_id: feature_id}")
    assert review(example, "--format", "json").exit == 1
    passed = review(example, "--format", "text", "--allow-breaking")
    assert passed.exit == 0 and "(acknowledged: breaking)" in passed.stdout


def test_unchanged_example_passes_and_writes_nothing(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = (example / ".git" / "index").read_bytes()
    result = review(example, "--format", "text")
    assert result.exit == 0
    assert (
        result.stdout.splitlines()[-1]
        == f"eventgen: review against {git(example, 'rev-parse', '--short', 'HEAD').stdout.strip()}: no changes to the specs' events"
    )
    weaken(example)
    review(example, "--format", "json")
    assert git(example, "status", "--porcelain").stdout == f" M {SPEC}\n"  # only the edit: review wrote nothing
    assert (example / ".git" / "index").read_bytes() == index


# -- which commit -------------------------------------------------------------------------------


def test_default_is_the_merge_base_with_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main moved on after the branch left it: only the branch's own change is reviewed."""
    root = init_repo(tmp_path / "repo", BASE_SPECS)
    git(root, "checkout", "-q", "-b", "topic")
    edit(root, "events/chat.yaml", "      count: int\n", "")  # the branch's change, committed
    commit_all(root, "drop count")
    git(root, "checkout", "-q", "main")
    edit(root, SPEC, "      data: dict\n", "      data: dict\n      version: int\n")  # main's later change
    commit_all(root, "main moves on")
    git(root, "checkout", "-q", "topic")
    result = review(root, "--format", "json")
    base = git(root, "merge-base", "HEAD", "main").stdout.strip()
    assert result.doc["against"] == {
        "ref": git(root, "rev-parse", "--short", base).stdout.strip(),
        "commit": base,
        "how": "merge base of HEAD and main",
    }
    assert [(f["kind"], f["subject"]) for f in result.doc["findings"]] == [
        ("field-removed", "field 'count' of event 'chat:ask'")
    ]
    # Against main's tip the comparison would also see main's newer field as "removed".
    against_main = review(root, "--format", "json", "--against", "main")
    assert {f["subject"] for f in against_main.doc["findings"]} == {
        "field 'count' of event 'chat:ask'",
        "field 'version' of event 'feature:updated'",
    }


def test_default_follows_origin_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A clone knows its default branch (here `trunk`, neither main nor master) through origin/HEAD."""
    upstream = init_repo(tmp_path / "upstream", BASE_SPECS, branch="trunk")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(upstream), str(clone))
    git(clone, "checkout", "-q", "-b", "topic")
    edit(clone, "events/chat.yaml", "      count: int\n", "")
    commit_all(clone, "drop count")
    result = review(clone, "--format", "json")
    assert result.doc["against"]["how"] == "merge base of HEAD and origin/trunk"
    assert result.doc["against"]["commit"] == git(upstream, "rev-parse", "HEAD").stdout.strip()
    assert [f["kind"] for f in result.doc["findings"]] == ["field-removed"]


def test_without_a_default_branch_head_is_the_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(tmp_path / "repo", BASE_SPECS, branch="dev")
    edit(root, "events/chat.yaml", "      count: int\n", "")  # not committed: HEAD still has it
    result = review(root, "--format", "json")
    assert result.doc["against"] == {
        "ref": "HEAD",
        "commit": git(root, "rev-parse", "HEAD").stdout.strip(),
        "how": "HEAD (no default branch to take a merge base with)",
    }
    assert [f["kind"] for f in result.doc["findings"]] == ["field-removed"]


def test_against_a_tag_and_an_older_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(tmp_path / "repo", BASE_SPECS)
    git(root, "tag", "v1")
    edit(root, "events/chat.yaml", "      count: int\n", "")
    commit_all(root, "drop count")
    assert review(root, "--format", "json").doc["findings"] == []  # the working tree equals HEAD
    for ref in ("v1", "HEAD~1", git(root, "rev-parse", "v1").stdout.strip()):
        result = review(root, "--format", "json", "--against", ref)
        assert result.doc["against"]["ref"] == ref and result.doc["against"]["how"] is None
        assert [f["kind"] for f in result.doc["findings"]] == ["field-removed"], ref


def test_first_commit_everything_is_new(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for rel, text in BASE_SPECS.items():
        write(root, rel, text)
    for args in ((), ("--against", "HEAD")):
        result = review(root, "--format", "json", *args)
        # New specs are compatible; a new broadcast event still asks for a security look (it reaches everyone).
        assert sorted(f["kind"] for f in result.doc["findings"]) == ["broadcast-enabled", "spec-added", "spec-added"]
        assert result.exit == 1
        assert result.doc["against"]["commit"] is None
        assert result.doc["notes"] == [] and result.doc["against"]["how"] == "no commit yet: every spec counts as new"


def test_project_in_a_subfolder_of_the_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(
        tmp_path / "repo",
        {f"app/{rel}": text for rel, text in BASE_SPECS.items()}
        | {"app/eventgen.toml": 'specs = "events"\n', "README.md": "x\n"},
    )
    edit(root, "app/events/chat.yaml", "      count: int\n", "")
    result = review(root / "app", "--format", "json")
    assert found(result) == {
        ("breaking", "field-removed", "events/chat.yaml", line_of(CHAT_REVIEW_SPEC, "count: int"), "old")
    }
    # Annotations name files from the checkout's root, where GitHub looks for them.
    github = subprocess.run(
        [sys.executable, "-m", "generator.cli", "-C", "app", "review", "--format", "github"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GITHUB_WORKSPACE": str(root)},
    )
    assert github.returncode == 1, github.stderr
    assert github.stdout.startswith("::error file=app/events/chat.yaml,line=")


def test_specs_folder_moved_since_the_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The ref is read with its own configuration: moving the specs is not a change."""
    root = init_repo(tmp_path / "repo", BASE_SPECS | {"eventgen.toml": 'specs = "events"\n'})
    git(root, "mv", "events", "realtime")
    write(root, "eventgen.toml", 'specs = "realtime"\n')
    assert review(root, "--format", "json").doc["findings"] == []
    git(root, "mv", "realtime", "events")
    (root / "eventgen.toml").unlink()
    write(root, "pyproject.toml", '[tool.eventgen]\nspecs = "events"\n')
    commit_all(root, "back, configured in pyproject")
    git(root, "mv", "events", "specs")
    write(root, "pyproject.toml", '[tool.eventgen]\nspecs = "specs"\n')
    assert review(root, "--format", "json", "--against", "HEAD").doc["findings"] == []


def test_the_ref_is_read_like_the_working_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`.yml` counts, subfolders (events/examples/) do not, a symlinked spec is read where it points."""
    files = {
        "events/feature.yml": FEATURE_SPEC,
        "shared/chat.yaml": CHAT_REVIEW_SPEC,
        "events/examples/feature.yaml": "not: [a spec",
    }
    root = init_repo(tmp_path / "repo", files)
    os.symlink("../shared/chat.yaml", root / "events" / "chat.yaml")
    commit_all(root, "link")
    assert review(root, "--format", "json").doc["findings"] == []
    edit(root, "shared/chat.yaml", "      count: int\n", "")
    assert found(review(root, "--format", "json")) == {
        ("breaking", "field-removed", "events/chat.yaml", line_of(CHAT_REVIEW_SPEC, "count: int"), "old")
    }


def test_specs_folder_gone_from_the_working_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not an error for review (nothing is written): every event counts as removed, and a note says why."""
    root = init_repo(tmp_path / "repo", BASE_SPECS)
    shutil.rmtree(root / "events")
    result = review(root, "--format", "json")
    assert result.exit == 1
    assert result.doc["notes"] == ["no specs folder events/ in the working tree: every spec counts as removed"]
    assert sorted({f["kind"] for f in result.doc["findings"]}) == ["event-removed", "spec-removed"]
    assert len(result.doc["findings"]) == 2 + 3 + 7
    text = review(root, "--format", "text").stdout
    assert text.splitlines()[1] == "note: no specs folder events/ in the working tree: every spec counts as removed"
    github = review(root, "--format", "github").stdout
    assert github.startswith("::notice title=eventgen review::no specs folder events/")


# -- invalid input: exit 2 -------------------------------------------------------------------------


def test_a_ref_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(tmp_path / "repo", BASE_SPECS)
    result = review(root, "--against", "origin/nope")
    assert result.exit == 2 and result.stdout == ""
    assert result.stderr.startswith("--against 'origin/nope': not a commit in this repository\n  hint: ")
    doc = review(root, "--against", "origin/nope", "--format", "json").doc
    assert (
        doc["exit_code"] == 2
        and doc["errors"][0]["message"] == "--against 'origin/nope': not a commit in this repository"
    )
    # A ref that looks like an option is a ref, not an option to git.
    assert review(root, "--against=--output=/tmp/x").exit == 2
    assert review(root, "--against", "HEAD~5").exit == 2


def test_not_a_git_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "plain"
    for rel, text in BASE_SPECS.items():
        write(root, rel, text)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a repository above tmp
    result = review(root)
    assert result.exit == 2
    assert "is not in a git repository" in result.stderr and "hint: run it inside a clone" in result.stderr
    github = review(root, "--format", "github")
    assert github.exit == 2 and github.stdout.startswith("::error title=eventgen review%3A invalid input::")


def test_spec_invalid_on_the_old_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = CHAT_REVIEW_SPEC.replace("action: relay", "action: jump")
    root = init_repo(tmp_path / "repo", {"events/chat.yaml": broken, SPEC: FEATURE_SPEC})
    write(root, "events/chat.yaml", CHAT_REVIEW_SPEC)  # fixed in the working tree
    result = review(root, "--against", "HEAD")
    assert result.exit == 2 and result.stdout == ""
    line = line_of(broken, "action: jump")
    assert result.stderr.startswith(
        f"HEAD:events/chat.yaml:{line}:13: events[1].action: must be 'join', 'leave', 'relay' or 'handle', got the string 'jump'\n"
    )
    assert "hint: the specs were already invalid at HEAD" in result.stderr
    doc = review(root, "--against", "HEAD", "--format", "json").doc
    assert doc["errors"][0]["path"] == "HEAD:events/chat.yaml" and doc["errors"][0]["line"] == line
    # No file of the checkout holds that line: the annotation has no file=, its message names the place.
    github = review(root, "--against", "HEAD", "--format", "github").stdout
    assert github.startswith(
        f"::error title=eventgen review%3A invalid input::HEAD:events/chat.yaml:{line}:13: events[1].action"
    )
    markdown = review(root, "--against", "HEAD", "--format", "markdown")
    assert markdown.exit == 2 and markdown.stdout.startswith(
        "### eventgen review: invalid input (exit 2)\n\n- HEAD:events/chat.yaml:"
    )


def test_old_side_yaml_error_and_cross_spec_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    duplicate = FEATURE_SPEC.replace("- name: feature:unsubscribe", "- name: chat:join")
    root = init_repo(
        tmp_path / "repo",
        {"events/chat.yaml": CHAT_REVIEW_SPEC, SPEC: duplicate, "events/broken.yaml": "name: broken\nevents: [\n"},
    )
    for rel in ("events/broken.yaml",):
        (root / rel).unlink()
    write(root, SPEC, FEATURE_SPEC)
    result = review(root, "--against", "HEAD")
    assert result.exit == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("  hint:")]
    assert lines[0].startswith("HEAD:events/broken.yaml:3:1: YAML syntax error")
    assert (
        lines[1].startswith(f"HEAD:events/feature.yaml:{line_of(duplicate, '- name: chat:join')}:")
        and "event name 'chat:join' is already used at events/chat.yaml:" in lines[1]
    )


def test_old_side_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(tmp_path / "repo", BASE_SPECS)
    (root / "events" / "latin.yaml").write_bytes(b"name: latin\ndescription: caf\xe9\nevents: []\n")
    commit_all(root, "latin-1")
    (root / "events" / "latin.yaml").unlink()
    result = review(root, "--against", "HEAD")
    assert result.exit == 2 and result.stderr.startswith(
        "HEAD:events/latin.yaml:2: the spec is not valid UTF-8 (byte 0xe9)"
    )


def test_spec_invalid_on_both_sides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(
        tmp_path / "repo",
        {
            "events/chat.yaml": CHAT_REVIEW_SPEC.replace(
                "direction: server_to_client\n    broadcast", "direction: sideways\n    broadcast"
            ),
            SPEC: FEATURE_SPEC,
        },
    )
    write(root, "events/chat.yaml", CHAT_REVIEW_SPEC)
    edit(root, SPEC, "action: leave", "action: jump")
    doc = review(root, "--against", "HEAD", "--format", "json").doc
    assert doc["exit_code"] == 2
    assert [(e["path"], e["line"]) for e in doc["errors"]] == [
        ("HEAD:events/chat.yaml", line_of(CHAT_REVIEW_SPEC, "broadcast: true") - 1),
        (SPEC, line_of(FEATURE_SPEC, "action: leave")),
    ]


# -- formats ---------------------------------------------------------------------------------------


def test_markdown_escapes_spec_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An enum value with `|`, `<` and a backtick cannot break the table or inject HTML."""
    spec = CHAT_REVIEW_SPEC.replace("enum: [up, down]", "enum: [up, 'a|b<script>`x`']")
    root = init_repo(tmp_path / "repo", {"events/chat.yaml": spec})
    edit(root, "events/chat.yaml", "enum: [up, 'a|b<script>`x`']", "enum: [up]")
    out = review(root, "--format", "markdown").stdout
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert len(rows) == 1
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 4  # three cells
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_markdown_of_compatible_and_of_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_repo(tmp_path / "repo", BASE_SPECS)
    out = review(root, "--format", "markdown").stdout
    assert out.startswith("### eventgen review: no changes to the specs' events\n")
    edit(root, "events/chat.yaml", "max_length: 2000", "max_length: 4000")
    result = review(root, "--format", "markdown")
    assert result.exit == 0
    assert result.stdout.startswith("### eventgen review: 1 compatible\n")
    assert "the gate **passes**." in result.stdout and "| where |" not in result.stdout
    assert "<details><summary>Compatible (1)</summary>" in result.stdout


def test_github_is_the_default_under_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_repo(tmp_path / "repo", BASE_SPECS)
    edit(root, "events/chat.yaml", "max_length: 2000", "max_length: 4000")
    out = review(root, env={"GITHUB_ACTIONS": "true"}).stdout
    assert out.startswith(
        f"::notice file=events/chat.yaml,line={line_of(CHAT_REVIEW_SPEC, 'max_length: 2000')},title=eventgen review%3A compatible::"
    )
    assert review(root, env={"GITHUB_ACTIONS": "false"}).stdout.startswith("eventgen review: the working tree against ")


# -- documentation ---------------------------------------------------------------------------------


def _json_blocks(page: Path) -> list[dict]:
    return [
        json.loads(block)
        for block in re.findall(r"```json\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    ]


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict = {}
        for item in value:
            shape = _shape(item)
            if isinstance(shape, dict):
                merged.update(shape)
        return [merged] if merged else []
    return None


def test_documented_json_is_the_real_json(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings_doc, error_doc = _json_blocks(DOCS / "review.md")
    weaken(example)
    real = review(example, "--format", "json", "--against", "main").doc
    assert _shape(findings_doc) == _shape(real)
    assert findings_doc["summary"] == real["summary"]
    assert findings_doc["findings"][0] == real["findings"][0]
    # The error document: a spec that main itself got wrong.
    git(example, "checkout", "-q", "-f", "main")
    good = (example / SPEC).read_text(encoding="utf-8")
    edit(example, SPEC, "action: join", "action: jump")
    commit_all(example, "broken on main")
    write(example, SPEC, good)
    real_error = review(example, "--format", "json", "--against", "main").doc
    assert _shape(error_doc) == _shape(real_error)
    assert error_doc["summary"] == real_error["summary"]
    assert error_doc["errors"] == real_error["errors"]


def test_documented_text_is_the_real_text(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = (DOCS / "review.md").read_text(encoding="utf-8")
    shown = re.search(r"```console\n\$ eventgen review --against main\n(.*?)```", page, flags=re.DOTALL)
    assert shown is not None
    weaken(example)
    assert review(example, "--against", "main", "--format", "text").stdout == shown.group(1)


def test_documented_kinds_are_the_real_ones() -> None:
    page = (DOCS / "review.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z-]+)` \| (breaking|security|compatible) \|", page, flags=re.MULTILINE)
    assert rows == [(kind, category) for kind, (category, _why) in KINDS.items()]


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)


def _run_lines(workflow: str) -> list[str]:
    """Every `eventgen ...` command a workflow's `run:` steps execute (shell redirections dropped)."""
    steps = [step for job in yaml.safe_load(workflow)["jobs"].values() for step in job["steps"]]
    commands = []
    for step in steps:
        for line in step.get("run", "").splitlines():
            line = line.split(">>")[0].strip()
            if line.startswith("eventgen "):
                commands.append(line)
    return commands


def test_documented_workflow_is_valid_and_its_commands_parse() -> None:
    workflow = next(b for b in _yaml_blocks((DOCS / "review.md").read_text(encoding="utf-8")) if "jobs:" in b)
    data = yaml.safe_load(workflow)
    steps = data["jobs"]["review"]["steps"]
    assert steps[0] == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}
    commands = _run_lines(workflow)
    assert len(commands) == 2
    for command in commands:
        args = shlex.split(command.replace("${{ github.base_ref }}", "main"))[1:]
        ctx = cli.make_context("eventgen", list(args))
        sub = cli.get_command(ctx, args[0])
        assert sub is not None and sub.name == "review"
        sub.make_context("review", args[1:], parent=ctx)  # raises on an unknown option
    gate = next(s for s in steps if s.get("name", "").startswith("Spec changes"))
    assert set(gate["env"]) == {"EVENTGEN_ALLOW_BREAKING", "EVENTGEN_ALLOW_SECURITY"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    snippet = next(b for b in _yaml_blocks(readme) if "EVENTGEN_ALLOW_BREAKING" in b)
    # The README shows a piece of the same workflow (its comments aside).
    bare = {line.split("  #")[0].strip() for line in workflow.splitlines()}
    for line in snippet.splitlines():
        code = line.split("  #")[0].strip()
        assert code.startswith("#") or code in bare, line


def test_readme_precommit_recipe_works_as_written(tmp_path: Path) -> None:
    """The README's `repo: local` hook, run by pre-commit itself: a breaking commit stops, a compatible one passes."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    config = next(b for b in _yaml_blocks(readme) if "eventgen-review" in b)
    assert config == next(
        b for b in _yaml_blocks((DOCS / "review.md").read_text(encoding="utf-8")) if "eventgen-review" in b
    ).replace("repos:\n", "# .pre-commit-config.yaml: review each commit against the one before it\nrepos:\n", 1)
    root = init_repo(tmp_path / "repo", BASE_SPECS | {".pre-commit-config.yaml": config})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PRE_COMMIT", "EVENTGEN_"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), env.get("PATH", "")]
    )  # language: system finds this eventgen

    def commit() -> subprocess.CompletedProcess[str]:
        git(root, "add", "-A")
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--hook-stage", "pre-commit"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    edit(root, "events/chat.yaml", "max_length: 2000", "max_length: 4000")
    passed = commit()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "eventgen review" in passed.stdout and "Passed" in passed.stdout
    git(root, "commit", "-q", "--no-verify", "-m", "wider question")
    edit(root, "events/chat.yaml", "      count: int\n", "")
    stopped = commit()
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert "field 'count' of event 'chat:ask': removed" in stopped.stdout
    env["SKIP"] = "eventgen-review"
    assert commit().returncode == 0


def test_review_help_imports_no_heavy_library() -> None:
    from test_lazy_imports import probe

    code, output, loaded = probe("review", "--help")
    assert code == 0 and "--allow-security" in output
    assert loaded.isdisjoint({"libcst", "jinja2", "pydantic", "yaml"}), loaded


def test_review_loads_no_libcst_or_jinja(example: Path) -> None:
    from test_lazy_imports import probe

    weaken(example)
    code, output, loaded = probe("-C", str(example), "review", "--format", "json")
    assert code == 1, output
    assert {"pydantic", "yaml"} <= loaded and loaded.isdisjoint({"libcst", "jinja2"}), loaded


def test_click_choice_lists_every_format() -> None:
    from generator.review.output import FORMATS

    option = next(p for p in cli.commands["review"].params if p.name == "fmt")
    assert isinstance(option.type, click.Choice) and tuple(option.type.choices) == FORMATS
