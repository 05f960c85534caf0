"""Errors that point at the spec's words, suggest what exists, and come all in one run (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.cli import run_cli
from support.project import make_project
from support.specs import FEATURE_SPEC
from support.tree import snapshot, write

from generator.spec.load import load_spec_text

ROUTER = "backend/open_webui/routers/features.py"
POLLS_ROUTER = """\
from fastapi import APIRouter, HTTPException

from open_webui.models.polls import Polls

router = APIRouter()


@router.post("/{poll_id}/vote")
async def vote(poll_id: str, form_data: dict, user=None):
    poll = Polls.vote(poll_id, user["id"], form_data["option"])
    if not poll:
        raise HTTPException(status_code=404)
    return poll
"""

POLL_SPEC = """\
name: poll
rooms:
  poll:
    pattern: "poll:{poll_id}"
    access: authenticated
events:
  - name: poll:updated
    direction: server_to_client
    room: poll
    payload:
      poll_id: str
      votes: dict
    emit:
      helper: notify_poll_updated
      from:
        - file: backend/open_webui/routers/polls.py
          function: vote
          after: Polls.cast_vote
          args: {poll_id: poll_id, votes: poll}
"""


def _poll_project(tmp_path: Path, spec: str = POLL_SPEC) -> Path:
    root = make_project(tmp_path / "app", specs={"poll": spec})
    write(root, "backend/open_webui/routers/polls.py", POLLS_ROUTER)
    write(
        root,
        "backend/open_webui/models/polls.py",
        "class Polls:\n    @staticmethod\n    def vote(poll_id, user_id, option):\n        return {}\n",
    )
    return root


def _refused(capsys: pytest.CaptureFixture[str], root: Path, *commands: str) -> str:
    """Every command exits 2 with the same stderr, and nothing is written."""
    before = snapshot(root)
    errors = set()
    for command in commands or ("generate", "check", "diff"):
        run = run_cli("-C", str(root), command)
        assert (run.exit, run.stdout) == (2, ""), (command, run)
        errors.add(run.stderr)
    assert snapshot(root) == before
    assert len(errors) == 1
    return errors.pop()


def test_a_missing_anchor_is_reported_at_the_specs_after_line_with_the_calls_that_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _poll_project(tmp_path)
    assert _refused(capsys, root) == (
        "events/poll.yaml:18:18: no statement in 'vote' (backend/open_webui/routers/polls.py) calls 'Polls.cast_vote' (did you mean 'Polls.vote'?)\n"
        "  hint: emit.from.after is the dotted callee of one statement in the endpoint; 'vote' calls Polls.vote, HTTPException\n"
    )


def test_an_anchor_of_an_existing_call_lost_later_is_also_reported_at_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _poll_project(tmp_path, POLL_SPEC.replace("Polls.cast_vote", "Polls.vote"))
    assert run_cli("-C", str(root), "generate").exit == 0
    router = root / "backend/open_webui/routers/polls.py"
    router.write_text(router.read_text().replace("Polls.vote(", "Polls.add_vote("))
    err = _refused(capsys, root)
    assert err.startswith(
        "events/poll.yaml:18:18: no statement in 'vote' (backend/open_webui/routers/polls.py) calls 'Polls.vote' (did you mean 'Polls.add_vote'?)\n"
    )
    assert "notify_poll_updated" not in err  # the generated call is no anchor to offer


@pytest.mark.parametrize(
    ("wrong", "suggested"),
    [
        ("backend/open_webui/routers/poll.py", "backend/open_webui/routers/polls.py"),
        ("backend/open_webui/router/polls.py", "backend/open_webui/routers/polls.py"),
        ("backend/open_webui/routers/pools.py", "backend/open_webui/routers/polls.py"),
    ],
)
def test_a_missing_router_file_suggests_the_near_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], wrong: str, suggested: str
) -> None:
    root = _poll_project(tmp_path, POLL_SPEC.replace("backend/open_webui/routers/polls.py", wrong))
    assert (
        _refused(capsys, root)
        == f"events/poll.yaml:16:17: file not found: {wrong} (emit.from.file) (did you mean '{suggested}'?)\n"
    )


def test_a_missing_router_file_with_nothing_near_says_only_that(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _poll_project(
        tmp_path, POLL_SPEC.replace("backend/open_webui/routers/polls.py", "backend/open_webui/routers/zzzzzz.py")
    )
    assert (
        _refused(capsys, root)
        == "events/poll.yaml:16:17: file not found: backend/open_webui/routers/zzzzzz.py (emit.from.file)\n"
    )


def test_a_wrong_name_inside_an_args_expression_is_said_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = FEATURE_SPEC.replace("data: feature.model_dump()}", "data: feture.model_dump()}")
    root = make_project(tmp_path / "app", specs={"feature": spec})
    err = _refused(capsys, root)
    assert err == (
        f"events/feature.yaml:37:48: args.data: 'feture' is not defined in update_feature() ({ROUTER}) (did you mean 'feature'?)\n"
        "  hint: an args value is a Python expression evaluated in the endpoint, where the call is inserted\n"
    )
    assert "payload field" not in err  # not the hint about fields missing from args


def test_a_missing_payload_field_and_a_wrong_args_name_are_both_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = FEATURE_SPEC.replace("args: {feature_id: feature_id, data: feature.model_dump()}", "args: {data: form_dta}")
    spec = spec.replace("async def update_feature(feature_id", "async def update_feature(fid")
    root = make_project(tmp_path / "app", specs={"feature": spec})
    router = root / ROUTER
    router.write_text(
        router.read_text()
        .replace("(feature_id: str", "(fid: str")
        .replace("update_feature(feature_id,", "update_feature(fid,")
    )
    lines = _refused(capsys, root).splitlines()
    assert (
        lines[0]
        == f"events/feature.yaml:37:17: the emit call in update_feature() ({ROUTER}) reads 'feature_id', which the endpoint does not define"
    )
    assert (
        lines[1]
        == "  hint: a payload field missing from emit.from.args is passed as a variable of the same name; add it to args"
    )
    assert (
        lines[2]
        == f"events/feature.yaml:37:24: args.data: 'form_dta' is not defined in update_feature() ({ROUTER}) (did you mean 'form_data'?)"
    )


def test_a_spec_named_unlike_its_file_reports_that_and_its_other_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = (
        FEATURE_SPEC.replace("name: feature\n", "name: features\n", 1)
        .replace("action: join", "action: jion")
        .replace("data: dict", "data: dcit")
    )
    root = make_project(tmp_path / "app", specs={"feature": spec})
    lines = _refused(capsys, root, "validate", "generate").splitlines()
    assert lines[0] == "events/feature.yaml:1:7: spec name 'features' must match its file name 'feature'"
    assert any(
        line.startswith("events/feature.yaml:13:13: events[0].action: must be 'join', 'leave', 'relay' or 'handle'")
        for line in lines
    ), lines
    assert any(
        line.startswith("events/feature.yaml:30:13: events[2].payload.data.type: invalid type 'dcit'") for line in lines
    ), lines


def test_a_bad_name_unlike_its_file_gets_both_messages() -> None:
    _spec, problems = load_spec_text(
        FEATURE_SPEC.replace("name: feature\n", "name: Features\n", 1), "events/feature.yaml"
    )
    assert sorted(d.format() for d in problems) == [
        "events/feature.yaml:1:7: name: 'Features' must be snake_case: a lowercase letter, then lowercase letters, digits or '_' (63 characters at most)",
        "events/feature.yaml:1:7: spec name 'Features' must match its file name 'feature'",
    ]


def test_an_oversized_spec_without_aliases_is_not_called_an_alias_bomb() -> None:
    fields = "".join(f"      f{i}: {{type: str, description: d}}\n" for i in range(60_000))
    text = FEATURE_SPEC.replace("      data: dict\n", "      data: dict\n" + fields)
    assert len(text) > 1_900_000
    _spec, problems = load_spec_text(text, "events/feature.yaml")
    assert [d.format() for d in problems] == [
        f"events/feature.yaml:1:1: the spec holds more than 100000 values ({len(text.encode()) / 1e6:.1f} MB); "
        "a spec describes one feature's events: split it into several specs"
    ]


def test_an_alias_bomb_is_still_called_one() -> None:
    text = "name: feature\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    )
    _spec, problems = load_spec_text(text, "events/feature.yaml")
    assert [d.format() for d in problems] == [
        "events/feature.yaml:1:1: the spec expands to more than 100000 values through YAML aliases; write it out"
    ]


def test_an_args_key_that_is_no_payload_field_suggests_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(
        tmp_path / "app",
        specs={"feature": FEATURE_SPEC.replace("data: feature.model_dump()}", "dta: feature.model_dump()}")},
    )
    err = _refused(capsys, root, "validate", "generate")
    assert re.fullmatch(
        r"events/feature\.yaml:37:\d+: event 'feature:updated': argument 'dta' is not a payload field \(did you mean 'data'\?\)\n",
        err,
    ), err
