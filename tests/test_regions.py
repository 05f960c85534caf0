"""Marked regions: found by their markers, updated in place, told apart from hand edits by a
hash of their syntax tree, removed with the blank lines they brought, and never a byte more."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import eventgen
from support.project import SOCKET_MODULE
from support.specs import FEATURE_SPEC_NO_CALL_SITES
from support.tree import snapshot, write_tree

from generator.apply.regions import patch_regions, split_lines
from generator.errors import ConflictError, EventgenError
from generator.markers import (
    begin_line,
    digest,
    end_line,
    normalize_python,
    scan_regions,
)
from generator.plan.types import RegionEdit
from generator.report import Report
from generator.sources import Sources

MODULE = """\
import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode="asgi")


@sio.on("ping")
async def ping(sid, data=None):
    return {"ok": True}


def helper():
    return 1
"""

BODY = '@sio.on("demo:hello")\nasync def on_demo_hello(sid, data=None):\n    return {"ok": True, "hello": "world"}'


def _edit(body: str = BODY, rid: str = "demo") -> RegionEdit:
    return RegionEdit(
        file="main.py", id=rid, source="events/demo.yaml", body=body, where="handlers", blank_before=2, server="sio"
    )


def _patch(
    tmp_path: Path, text: str, edits: list[RegionEdit], *, force: bool = False, orphans: bool = True
) -> tuple[str, Report]:
    (tmp_path / "main.py").write_bytes(text.encode("utf-8"))
    sources = Sources(tmp_path)
    report = Report()
    src = sources.get("main.py")
    assert src is not None
    return patch_regions(src, edits, sources, report, force=force, remove_orphans=orphans), report


def _kinds(report: Report) -> list[str]:
    return [i.kind for i in report.items]


def test_insert_update_remove_round_trip(tmp_path: Path) -> None:
    inserted, report = _patch(tmp_path, MODULE, [_edit()])
    assert _kinds(report) == ["missing"]
    sha = digest(normalize_python(BODY))
    # After the last handler, two blank lines before it, the file's own two blank lines after it.
    assert inserted == MODULE.replace(
        '    return {"ok": True}\n\n\n',
        '    return {"ok": True}\n\n\n'
        + begin_line("demo", sha, "events/demo.yaml")
        + "\n"
        + BODY
        + "\n"
        + end_line("demo")
        + "\n\n\n",
    )

    same, report = _patch(tmp_path, inserted, [_edit()])
    assert same == inserted and _kinds(report) == ["unchanged"]

    changed_body = BODY.replace('"world"', '"there"')
    updated, report = _patch(tmp_path, inserted, [_edit(changed_body)])
    assert _kinds(report) == ["outdated"]
    assert updated == inserted.replace('"world"', '"there"').replace(sha, digest(normalize_python(changed_body)))

    removed, report = _patch(tmp_path, updated, [])
    assert _kinds(report) == ["orphaned"]
    assert removed == MODULE


def test_restyled_region_is_in_sync(tmp_path: Path) -> None:
    inserted, _ = _patch(tmp_path, MODULE, [_edit()])
    restyled = inserted.replace(
        'return {"ok": True, "hello": "world"}',
        "return {  # reformatted\n        'ok': True,\n        'hello': 'world',\n    }",
    )
    assert restyled != inserted
    text, report = _patch(tmp_path, restyled, [_edit()])
    assert _kinds(report) == ["unchanged"] and text == restyled


@pytest.mark.parametrize(
    "edit",
    [
        ('"world"', '"moon"'),  # a value
        ('return {"ok": True, "hello": "world"}', 'log(sid)\n    return {"ok": True, "hello": "world"}'),  # a statement
        ("async def on_demo_hello(sid, data=None):", "async def on_demo_hello(sid, data=None)"),  # no longer parses
    ],
    ids=["value", "statement", "syntax-error"],
)
def test_hand_edit_is_a_conflict_unless_forced(tmp_path: Path, edit: tuple[str, str]) -> None:
    inserted, _ = _patch(tmp_path, MODULE, [_edit()])
    edited = inserted.replace(*edit)
    text, report = _patch(tmp_path, edited, [_edit()])
    assert _kinds(report) == ["edited"] and text == edited
    assert report.exit_code == 1
    forced, report = _patch(tmp_path, edited, [_edit()], force=True)
    assert _kinds(report) == ["edited"] and forced == inserted


def test_hand_edit_and_spec_change_together_is_a_conflict(tmp_path: Path) -> None:
    inserted, _ = _patch(tmp_path, MODULE, [_edit()])
    edited = inserted.replace('"world"', '"moon"')
    text, report = _patch(tmp_path, edited, [_edit(BODY.replace('"ok"', '"okay"'))])
    assert _kinds(report) == ["edited"] and text == edited


def test_edited_orphan_is_kept_unless_forced(tmp_path: Path) -> None:
    inserted, _ = _patch(tmp_path, MODULE, [_edit()])
    edited = inserted.replace('"world"', '"moon"')
    text, report = _patch(tmp_path, edited, [])
    assert _kinds(report) == ["edited"] and text == edited
    forced, _ = _patch(tmp_path, edited, [], force=True)
    assert forced == MODULE


def test_region_moved_by_a_person_is_updated_where_it_now_is(tmp_path: Path) -> None:
    inserted, _ = _patch(tmp_path, MODULE, [_edit()])
    lines = split_lines(inserted)
    begin = next(i for i, line in enumerate(lines) if "eventgen:begin demo" in line)
    end = next(i for i, line in enumerate(lines) if "eventgen:end demo" in line)
    region = lines[begin : end + 1]
    rest = lines[: begin - 2] + lines[end + 1 :]  # take it out with its two blank lines
    moved = "".join(rest) + "\n\n" + "".join(region)  # and put it at the end
    changed_body = BODY.replace('"world"', '"there"')
    text, report = _patch(tmp_path, moved, [_edit(changed_body)])
    assert _kinds(report) == ["outdated"]
    assert text.startswith("".join(rest) + "\n\n# eventgen:begin demo ")
    assert '"there"' in text.split("# eventgen:begin demo ")[1]


def test_regions_added_one_by_one_go_after_the_previous_ones(tmp_path: Path) -> None:
    first, _ = _patch(tmp_path, MODULE, [_edit()])
    second_body = BODY.replace("demo:hello", "other:hi").replace("on_demo_hello", "on_other_hi")
    both, report = _patch(tmp_path, first, [_edit(), _edit(second_body, "other")])
    assert _kinds(report) == ["unchanged", "missing"]
    assert both.index("eventgen:end demo") < both.index("eventgen:begin other")
    only_demo, _ = _patch(tmp_path, both, [_edit()])
    assert only_demo == first


def test_call_region_follows_indentation_and_is_removed_alone(tmp_path: Path) -> None:
    router = "async def update(x):\n\tif x:\n\t\ty = save(x)\n\t\treturn y\n\treturn None\n"
    edit = RegionEdit(
        file="main.py",
        id="demo/demo:saved@update",
        source="events/demo.yaml",
        body="await emit_saved(x=x)",
        where="call",
        function="update",
        after="save",
    )
    text, _ = _patch(tmp_path, router, [edit])
    assert "\t\ty = save(x)\n\t\t# eventgen:begin demo/demo:saved@update sha=" in text
    assert "\n\t\tawait emit_saved(x=x)\n\t\t# eventgen:end demo/demo:saved@update\n\t\treturn y\n" in text
    removed, _ = _patch(tmp_path, text, [])
    assert removed == router


MARKER_PROBLEMS = {
    "begin-without-end": (
        "# eventgen:begin demo sha=0123456789ab -- x\nx = 1\n",
        1,
        1,
        "region 'demo' has no end marker",
    ),
    "end-without-begin": (
        "x = 1\n    # eventgen:end demo\n",
        2,
        5,
        "end marker of region 'demo' has no matching begin marker",
    ),
    "nested": (
        "# eventgen:begin a sha=0123456789ab -- x\n# eventgen:begin b sha=0123456789ab -- x\n# eventgen:end b\n",
        2,
        1,
        "region 'b' starts inside region 'a'",
    ),
    "twice": (
        "# eventgen:begin a sha=0123456789ab\n# eventgen:end a\n# eventgen:begin a sha=0123456789ab\n# eventgen:end a\n",
        3,
        1,
        "region 'a' appears twice (also at line 1)",
    ),
    "damaged": ("x = 1\n  # eventgen:begin demo sha=XYZ\n", 2, 3, "damaged eventgen marker"),
}


@pytest.mark.parametrize("name", list(MARKER_PROBLEMS))
def test_broken_markers_are_reported_with_their_position(name: str) -> None:
    text, line, col, message = MARKER_PROBLEMS[name]
    with pytest.raises(ConflictError) as info:
        scan_regions(split_lines(text), "main.py")
    first = info.value.diagnostics[0]
    assert (first.path, first.line, first.col) == ("main.py", line, col)
    assert message in first.message


def test_broken_markers_stop_the_cli_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "app"
    write_tree(
        root,
        {
            SOCKET_MODULE: MODULE,
            "events/feature.yaml": FEATURE_SPEC_NO_CALL_SITES,
            "backend/open_webui/socket/access.py": "def can_read_feature(user, feature_id):\n    return True\n",
        },
    )
    assert eventgen(root, "generate").exit == 0
    path = root / SOCKET_MODULE
    path.write_text(path.read_text().replace("# eventgen:end feature\n", ""))
    before = snapshot(root)
    run = eventgen(root, "generate")
    assert run.exit == 1
    assert run.stderr.startswith(f"{SOCKET_MODULE}:")
    assert "region 'feature' has no end marker" in run.stderr
    assert snapshot(root) == before


def test_lines_split_where_python_splits_them() -> None:
    text = "a = 1\x0c\nb = '\u2028'\r\nc = 3\rd = 4"
    assert split_lines(text) == ["a = 1\x0c\n", "b = '\u2028'\r\n", "c = 3\r", "d = 4"]
    assert "".join(split_lines(text)) == text


def test_normalized_hash_ignores_style_not_meaning() -> None:
    base = normalize_python('x = f("a", b=1)  # note\n')
    assert normalize_python("x = f(\n    'a',\n    b=1,\n)\n") == base
    assert normalize_python('\tx = f("a", b=1)\r\n') == base  # indented (a nested region), CRLF
    assert normalize_python('x = f("a", b=2)\n') != base
    assert normalize_python("x = f(\n") != normalize_python("x = f(\n\n")  # unparsable: compared as text


def test_a_region_in_a_file_eventgen_cannot_place_is_invalid_input(tmp_path: Path) -> None:
    """A region that needs an anchor in a file without a server: exit 2 with the file named."""
    with pytest.raises(EventgenError) as info:
        _patch(tmp_path, "import socketio\n", [_edit()])
    assert info.value.exit_code == 2
    assert "main.py" in info.value.render()
