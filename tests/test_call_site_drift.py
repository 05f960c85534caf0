"""An emit call generated earlier is checked against its anchor on every run.

The router changes under the generated call (endpoint renamed, anchor replaced or moved):
`check` must not say "in sync" and `generate` must not leave a call that runs at the wrong
time. A missing anchor is invalid input (exit 2) as on the first run; a moved one moves.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from support.cli import eventgen
from support.tree import snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"
ROUTER = "backend/open_webui/routers/features.py"
ANCHOR = "    feature = Features.update_feature(feature_id, form_data)\n"


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    return root


@pytest.mark.parametrize(
    ("where", "old", "new", "message"),
    [
        (
            "events/feature.yaml",
            "after: Features.update_feature",
            "after: Features.update_featur",
            "events/feature.yaml:39:18: no statement in 'update_feature' (backend/open_webui/routers/features.py) calls 'Features.update_featur' (did you mean 'Features.update_feature'?)",
        ),
        (
            ROUTER,
            "async def update_feature(",
            "async def update_a_feature(",
            "events/feature.yaml:38:21: function 'update_feature' not found in backend/open_webui/routers/features.py (did you mean 'update_a_feature'?)",
        ),
        (
            ROUTER,
            "Features.update_feature(feature_id, form_data)",
            "Features.patch_feature(feature_id, form_data)",
            "events/feature.yaml:39:18: no statement in 'update_feature' (backend/open_webui/routers/features.py) calls 'Features.update_feature' (did you mean 'Features.patch_feature'?)\n  hint: emit.from.after is the dotted callee of one statement in the endpoint; 'update_feature' calls HTTPException, Features.patch_feature\n",
        ),
        (ROUTER, "async def update_feature(", "def update_feature(", "is not async"),
    ],
    ids=["spec-anchor-typo", "endpoint-renamed", "anchor-replaced", "endpoint-made-sync"],
)
def test_a_lost_anchor_is_invalid_input_even_when_the_call_exists(
    app: Path, capsys, where: str, old: str, new: str, message: str
) -> None:
    target = app / where
    target.write_text(target.read_text().replace(old, new, 1))
    before = snapshot(app)
    for command in (["check"], ["generate"]):
        run = eventgen(app, *command)
        err = run.stderr
        assert run.exit == 2, err
        assert message in err, err
    assert snapshot(app) == before


def _move_anchor_below_the_call(router: Path) -> None:
    text = router.read_text()
    assert ANCHOR in text
    text = text.replace(ANCHOR, "", 1)
    end = "    # eventgen:end feature/feature:updated@update_feature\n"
    router.write_text(text.replace(end, end + ANCHOR, 1))


def _call_follows_anchor(router: Path) -> bool:
    lines = router.read_text().splitlines()
    anchor = lines.index(ANCHOR.rstrip("\n"))
    return lines[anchor + 1].lstrip().startswith("# eventgen:begin feature/feature:updated@update_feature") and lines[
        anchor + 2
    ].lstrip().startswith("await notify_feature_update(")


def test_an_anchor_moved_below_the_call_is_drift_and_generate_moves_the_call(app: Path, capsys) -> None:
    router = app / ROUTER
    _move_anchor_below_the_call(router)
    assert not _call_follows_anchor(router)
    run = eventgen(app, "check", "--no-diff")
    assert run.exit == 1 and "no longer followed its anchor" in run.stdout
    assert eventgen(app, "generate").exit == 0
    assert _call_follows_anchor(router)
    ast.parse(router.read_text())
    again = snapshot(app)
    assert eventgen(app, "generate").exit == 0 and eventgen(app, "check").exit == 0
    assert snapshot(app) == again


def test_an_anchor_moved_into_a_try_block_takes_the_call_with_it(app: Path) -> None:
    router = app / ROUTER
    text = router.read_text()
    text = text.replace(ANCHOR, "    try:\n    " + ANCHOR + "    except KeyError:\n        raise\n", 1)
    router.write_text(text)
    assert eventgen(app, "check", "--no-diff").exit == 1
    assert eventgen(app, "generate").exit == 0
    lines = router.read_text().splitlines()
    anchor = lines.index("        " + ANCHOR.strip())
    assert lines[anchor + 2] == "        await notify_feature_update(feature_id=feature_id, data=feature.model_dump())"
    assert eventgen(app, "check").exit == 0


def test_a_hand_edited_call_whose_anchor_moved_is_a_conflict(app: Path, capsys) -> None:
    router = app / ROUTER
    _move_anchor_below_the_call(router)
    router.write_text(router.read_text().replace("data=feature.model_dump())", "data={})", 1))
    before = snapshot(app)
    assert eventgen(app, "generate").exit == 1
    assert snapshot(app) == before
    assert eventgen(app, "generate", "--force").exit == 0
    assert _call_follows_anchor(router)


@pytest.mark.parametrize("generated_first", [False, True], ids=["new-call", "existing-call"])
def test_a_payload_field_the_endpoint_cannot_supply_is_invalid_input(app: Path, capsys, generated_first: bool) -> None:
    """`data` dropped from args would be passed as `data=data`: the endpoint has no `data`."""
    spec = app / "events" / "feature.yaml"
    if not generated_first:
        assert eventgen(app, "remove", "feature", "--keep-spec").exit == 0
    spec.write_text(
        spec.read_text().replace(
            "args: {feature_id: feature_id, data: feature.model_dump()}", "args: {feature_id: feature_id}"
        )
    )
    before = snapshot(app)
    run = eventgen(app, "generate")
    err = run.stderr
    assert run.exit == 2, err
    assert (
        "events/feature.yaml:40:17: the emit call in update_feature() (backend/open_webui/routers/features.py) reads 'data', which the endpoint does not define"
        in err
    ), err
    assert snapshot(app) == before
