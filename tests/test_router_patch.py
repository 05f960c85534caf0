"""Emit calls patched into router endpoints: wherever the anchor call sits, the helper call lands
right after its statement, in the same block; errors name the file, the function and the anchor.

Placement is proven on the syntax tree of the patched file (the statement after the
anchor's statement, in the same statement list, awaits the helper), the rest of the
file byte for byte (remove gives the original back).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from support.cli import eventgen
from support.project import ROUTER, SOCKET_MODULE
from support.specs import emit_spec
from support.tree import snapshot, write_tree

SOCKET = """\
import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode="asgi")
"""

HEADER = """\
from fastapi import APIRouter, Depends

from open_webui.models.features import Features, FeatureService
from open_webui.utils.auth import get_verified_user

router = APIRouter()

"""


def _router(
    body: str,
    *,
    signature: str = "async def update_feature(feature_id: str, form_data: dict, user=Depends(get_verified_user)):",
) -> str:
    return (
        HEADER
        + '\n@router.post("/{feature_id}")\n'
        + signature
        + "\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


def _project(tmp_path: Path, router: str, spec: str, extra: dict[str, str] | None = None) -> Path:
    root = tmp_path / "app"
    write_tree(root, {SOCKET_MODULE: SOCKET, ROUTER: router, "events/feature.yaml": spec, **(extra or {})})
    return root


def _site(function: str = "update_feature", after: str = "Features.update_feature", **more: str) -> dict[str, str]:
    return {"file": ROUTER, "function": function, "after": after, **more}


def _calls(node: ast.AST, dotted: str) -> bool:
    return any(isinstance(n, ast.Call) and ast.unparse(n.func) == dotted for n in ast.walk(node))


def _statement_lists(node: ast.AST) -> list[list[ast.stmt]]:
    out = []
    for child in ast.walk(node):
        for attr in ("body", "orelse", "finalbody"):
            value = getattr(child, attr, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                out.append(value)
    return out


def _find_function(tree: ast.Module, dotted: str) -> ast.AsyncFunctionDef:
    body: list[ast.stmt] = tree.body
    *classes, name = dotted.split(".")
    for cls in classes:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    return next(n for n in body if isinstance(n, ast.AsyncFunctionDef) and n.name == name)


def _emits_after_anchor(text: str, function: str, anchor: str) -> list[str]:
    """The helper calls awaited right after the anchor's statement, in its own block, in order."""
    fn = _find_function(ast.parse(text), function)
    for stmts in _statement_lists(fn):
        for i, stmt in enumerate(stmts):
            own = (
                stmt
                if not isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While, ast.AsyncWith, ast.AsyncFor))
                else None
            )
            if own is not None and _calls(own, anchor):
                out = []
                for nxt in stmts[i + 1 :]:
                    if (
                        isinstance(nxt, ast.Expr)
                        and isinstance(nxt.value, ast.Await)
                        and isinstance(nxt.value.value, ast.Call)
                    ):
                        out.append(ast.unparse(nxt.value.value))
                    else:
                        break
                return out
    raise AssertionError(f"no statement calls {anchor} in {function}")


def _life_cycle(root: Path) -> str:
    """generate, then prove: idempotent, in sync, remove restores every byte. Returns the patched router."""
    before = snapshot(root)
    first = eventgen(root, "generate")
    assert first.exit == 0, first.output
    patched = (root / ROUTER).read_text()
    ast.parse(patched)
    again = eventgen(root, "generate")
    assert again.exit == 0 and "nothing to do" in again.stdout, again.output
    check = eventgen(root, "check")
    assert check.exit == 0, check.output
    removed = eventgen(root, "remove", "feature", "--keep-spec")
    assert removed.exit == 0, removed.output
    assert snapshot(root) == before
    return patched


PLACEMENTS = {
    "assignment": (
        "feature = Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "expression": (
        "Features.update_feature(feature_id, form_data)\nreturn {'ok': True}",
        "update_feature",
        "Features.update_feature",
    ),
    "await": (
        "feature = await Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "nested-in-argument": (
        "log(len(Features.update_feature(feature_id, form_data)))\nreturn None",
        "update_feature",
        "Features.update_feature",
    ),
    "annotated-assignment": (
        "feature: dict = Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "multi-line-call": (
        "feature = Features.update_feature(\n    feature_id,\n    form_data,\n)  # saved\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-try": (
        "try:\n    feature = Features.update_feature(feature_id, form_data)\nexcept ValueError:\n    raise\nelse:\n    pass\nfinally:\n    pass\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-except": (
        "try:\n    feature = Features.get(feature_id)\nexcept KeyError:\n    feature = Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-try-else": (
        "try:\n    Features.get(feature_id)\nexcept KeyError:\n    return None\nelse:\n    feature = Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-finally": (
        "try:\n    feature = Features.get(feature_id)\nfinally:\n    Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-elif": (
        "if form_data is None:\n    return None\nelif feature_id:\n    feature = Features.update_feature(feature_id, form_data)\nelse:\n    feature = None\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-else": (
        "if form_data is None:\n    return None\nelse:\n    feature = Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-with": (
        "with Features.lock(feature_id):\n    feature = Features.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "in-async-with": (
        "async with Features.alock(feature_id) as tx:\n    feature = await tx.update_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "tx.update_feature",
    ),
    "in-for": (
        "for attempt in range(3):\n    feature = Features.update_feature(feature_id, form_data)\n    if feature:\n        break\nreturn feature",
        "update_feature",
        "Features.update_feature",
    ),
    "deep": (
        "if feature_id:\n    try:\n        with Features.lock(feature_id):\n            for _ in range(1):\n                feature = Features.update_feature(feature_id, form_data)\n    except ValueError:\n        return None\nreturn None",
        "update_feature",
        "Features.update_feature",
    ),
    "plain-function-anchor": (
        "feature = save_feature(feature_id, form_data)\nreturn feature",
        "update_feature",
        "save_feature",
    ),
}


@pytest.mark.parametrize("name", list(PLACEMENTS))
def test_emit_lands_right_after_the_anchor(tmp_path: Path, name: str) -> None:
    body, function, anchor = PLACEMENTS[name]
    root = _project(tmp_path, _router(body), emit_spec([_site(function, anchor)]))
    patched = _life_cycle(root)
    assert _emits_after_anchor(patched, function, anchor) == ["emit_feature_updated(feature_id=feature_id)"]
    # The helper is imported once, from the socket module.
    assert patched.count("from open_webui.socket.main import emit_feature_updated\n") == 1


def test_method_of_a_class(tmp_path: Path) -> None:
    router = HEADER + textwrap.dedent(
        """\

        class FeatureEndpoints:
            def helper(self):
                return Features.update_feature("x", {})

            async def update(self, feature_id: str, form_data: dict):
                feature = Features.update_feature(feature_id, form_data)
                return feature
        """
    )
    root = _project(tmp_path, router, emit_spec([_site("FeatureEndpoints.update")]))
    patched = _life_cycle(root)
    assert _emits_after_anchor(patched, "FeatureEndpoints.update", "Features.update_feature") == [
        "emit_feature_updated(feature_id=feature_id)"
    ]
    assert '    def helper(self):\n        return Features.update_feature("x", {})\n\n' in patched


def test_several_call_sites_in_one_file(tmp_path: Path) -> None:
    router = _router("feature = Features.update_feature(feature_id, form_data)\nreturn feature") + textwrap.dedent(
        """\


        @router.post("/{feature_id}/archive")
        async def archive_feature(feature_id: str, user=Depends(get_verified_user)):
            if feature_id:
                Features.archive(feature_id)
            return None
        """
    )
    sites = [_site(), _site("archive_feature", "Features.archive", args="{feature_id: feature_id.strip()}")]
    root = _project(tmp_path, router, emit_spec(sites))
    patched = _life_cycle(root)
    assert _emits_after_anchor(patched, "update_feature", "Features.update_feature") == [
        "emit_feature_updated(feature_id=feature_id)"
    ]
    assert _emits_after_anchor(patched, "archive_feature", "Features.archive") == [
        "emit_feature_updated(feature_id=feature_id.strip())"
    ]
    assert patched.count("import emit_feature_updated") == 1


def test_two_events_after_one_anchor_keep_their_order(tmp_path: Path) -> None:
    body = "feature = Features.update_feature(feature_id, form_data)\nreturn feature"
    root = _project(tmp_path, _router(body), emit_spec([_site()], events=("updated", "touched")))
    patched = _life_cycle(root)
    assert _emits_after_anchor(patched, "update_feature", "Features.update_feature") == [
        "emit_feature_updated(feature_id=feature_id)",
        "emit_feature_touched(feature_id=feature_id)",
    ]
    assert "from open_webui.socket.main import emit_feature_touched, emit_feature_updated\n" in patched

    # A third event added later goes after the two already there, not between anchor and them.
    assert eventgen(root, "generate").exit == 0
    (root / "events/feature.yaml").write_text(emit_spec([_site()], events=("updated", "touched", "moved")))
    assert eventgen(root, "generate").exit == 0
    text = (root / ROUTER).read_text()
    assert _emits_after_anchor(text, "update_feature", "Features.update_feature") == [
        "emit_feature_updated(feature_id=feature_id)",
        "emit_feature_touched(feature_id=feature_id)",
        "emit_feature_moved(feature_id=feature_id)",
    ]
    assert eventgen(root, "check").exit == 0


def test_router_that_already_imports_from_the_socket_module(tmp_path: Path) -> None:
    router = _router("feature = Features.update_feature(feature_id, form_data)\nreturn feature").replace(
        "from open_webui.utils.auth import get_verified_user\n",
        "from open_webui.utils.auth import get_verified_user\nfrom open_webui.socket.main import sio, get_event_emitter\n",
    )
    root = _project(tmp_path, router, emit_spec([_site()]))
    patched = _life_cycle(root)
    assert "from open_webui.socket.main import sio, get_event_emitter\n" in patched
    assert _emits_after_anchor(patched, "update_feature", "Features.update_feature") == [
        "emit_feature_updated(feature_id=feature_id)"
    ]


def test_router_style_tabs_crlf_single_quotes(tmp_path: Path) -> None:
    body = (
        "feature = Features.update_feature(feature_id, form_data)\nif feature:\n    return {'ok': True}\nreturn feature"
    )
    router = _router(body).replace('"', "'").replace("    ", "\t").replace("\n", "\r\n")
    root = _project(tmp_path, router, emit_spec([_site(args="{feature_id: \"feature_id.replace('-', '_')\"}")]))
    before = (root / ROUTER).read_bytes()
    assert eventgen(root, "generate").exit == 0, "generate"
    after = (root / ROUTER).read_bytes()
    assert b"\n" not in after.replace(b"\r\n", b"")
    assert b"\r\n\t# eventgen:begin feature/feature:updated@update_feature " in after
    assert b"\r\n\tawait emit_feature_updated(feature_id=feature_id.replace('-', '_'))\r\n" in after
    assert eventgen(root, "check").exit == 0
    assert eventgen(root, "remove", "feature").exit == 0
    assert (root / ROUTER).read_bytes() == before


ERRORS = {
    # name: (router file, function, anchor, expected message fragment, where it must point)
    "sync-endpoint": (
        _router(
            "feature = Features.update_feature(feature_id, form_data)\nreturn feature",
            signature="def update_feature(feature_id: str, form_data: dict):",
        ),
        "update_feature",
        "Features.update_feature",
        "function 'update_feature' is not async: the emit helper must be awaited",
        f"{ROUTER}:10:1",
    ),
    "missing-function": (
        _router("return None"),
        "update_featur",
        "Features.update_feature",
        f"function 'update_featur' not found in {ROUTER} (did you mean 'update_feature'?)",
        "events/feature.yaml:16:21",
    ),
    "missing-anchor": (
        _router("feature = Features.save(feature_id)\nreturn feature"),
        "update_feature",
        "Features.update_feature",
        f"no statement in 'update_feature' ({ROUTER}) calls 'Features.update_feature'",
        "events/feature.yaml:17:18",
    ),
    "anchor-typo": (
        _router("poll = await Polls.vote(feature_id, form_data)\nreturn poll"),
        "update_feature",
        "Polls.cast_vote",
        f"no statement in 'update_feature' ({ROUTER}) calls 'Polls.cast_vote' (did you mean 'Polls.vote'?)",
        "events/feature.yaml:17:18",
    ),
    "anchor-twice": (
        _router(
            "Features.update_feature(feature_id, form_data)\nif form_data:\n    Features.update_feature(feature_id, form_data)\nreturn None"
        ),
        "update_feature",
        "Features.update_feature",
        "'Features.update_feature' is called by 2 statements in 'update_feature' (lines 11, 13); the anchor must match exactly one",
        f"{ROUTER}:13:9",
    ),
    "return-anchor": (
        _router("return Features.update_feature(feature_id, form_data)"),
        "update_feature",
        "Features.update_feature",
        "is in a return/raise statement, so code after it never runs",
        f"{ROUTER}:11:5",
    ),
    "one-line-suite": (
        _router("if form_data: Features.update_feature(feature_id, form_data)\nreturn None"),
        "update_feature",
        "Features.update_feature",
        "sits on one line with its block header",
        f"{ROUTER}:11:19",
    ),
    "anchor-only-in-nested-function": (
        _router("def later():\n    return Features.update_feature(feature_id, form_data)\nreturn later"),
        "update_feature",
        "Features.update_feature",
        f"no statement in 'update_feature' ({ROUTER}) calls 'Features.update_feature'",
        "events/feature.yaml:17:18",
    ),
    "anchor-only-in-lambda": (
        _router("later = lambda: Features.update_feature(feature_id, form_data)\nreturn later"),
        "update_feature",
        "Features.update_feature",
        f"no statement in 'update_feature' ({ROUTER}) calls 'Features.update_feature'",
        "events/feature.yaml:17:18",
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_call_site_is_invalid_input(tmp_path: Path, name: str) -> None:
    router, function, anchor, message, where = ERRORS[name]
    root = _project(tmp_path, router, emit_spec([_site(function, anchor)]))
    before = snapshot(root)
    run = eventgen(root, "generate")
    assert run.exit == 2, run.output
    assert run.stdout == ""
    assert any(line.startswith(where + ": ") and message in line for line in run.stderr.splitlines()), run.stderr
    assert snapshot(root) == before
    # check and diff refuse the same way: invalid input is never "drift".
    assert eventgen(root, "check").exit == 2
    assert eventgen(root, "diff").exit == 2


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    """Two bad call sites in one run: both are reported, nothing is written."""
    router = _router("return None")
    root = _project(tmp_path, router, emit_spec([_site("nope_one"), _site("nope_two")]))
    run = eventgen(root, "generate")
    assert run.exit == 2
    assert "function 'nope_one' not found" in run.stderr and "function 'nope_two' not found" in run.stderr


def test_router_file_that_does_not_parse(tmp_path: Path) -> None:
    router = _router("feature = Features.update_feature(feature_id, form_data\nreturn feature")
    root = _project(tmp_path, router, emit_spec([_site()]))
    before = snapshot(root)
    run = eventgen(root, "generate")
    assert run.exit == 2, run.output
    # Python's own words and position: the parenthesis opened on line 11 is never closed.
    assert run.stderr.startswith(f"{ROUTER}:11:38: cannot parse Python: '(' was never closed"), run.stderr
    assert snapshot(root) == before


def test_router_file_missing(tmp_path: Path) -> None:
    root = _project(tmp_path, _router("return None"), emit_spec([_site()]))
    (root / ROUTER).unlink()
    before = snapshot(root)
    run = eventgen(root, "generate")
    assert run.exit == 2, run.output
    assert run.stderr.startswith(f"events/feature.yaml:15:17: file not found: {ROUTER} (emit.from.file)"), run.stderr
    assert snapshot(root) == before


def test_function_defined_twice_patches_the_one_python_keeps(tmp_path: Path) -> None:
    first = _router("feature = Features.update_feature(feature_id, form_data)\nreturn 'dead'")
    second = "\n\n" + _router("feature = Features.update_feature(feature_id, form_data)\nreturn feature").replace(
        HEADER, ""
    )
    root = _project(tmp_path, first + second, emit_spec([_site()]))
    patched = _life_cycle(root)
    tree = ast.parse(patched)
    defs = [n for n in tree.body if isinstance(n, ast.AsyncFunctionDef) and n.name == "update_feature"]
    assert len(defs) == 2
    assert "emit_feature_updated" not in ast.unparse(defs[0])
    assert "emit_feature_updated" in ast.unparse(defs[1])


@pytest.mark.parametrize(
    "header, expected_before_region",
    [
        # One blank line before the region, as isort ends an import block (removed with the region).
        ("#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n", "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n\n"),
        (
            "# Copyright 2024 Example\n# SPDX-License-Identifier: MIT\n\n",
            "# Copyright 2024 Example\n# SPDX-License-Identifier: MIT\n\n",
        ),
        ("", ""),
    ],
    ids=["shebang-and-coding", "licence-block", "nothing"],
)
def test_import_region_without_leading_imports_stays_below_the_header(
    tmp_path: Path, header: str, expected_before_region: str
) -> None:
    """No import run to follow (the file opens with a try/except import): the region goes on
    top, but never above a shebang, an encoding cookie or a licence block."""
    router = (
        header
        + "try:\n    import orjson as json\nexcept ImportError:\n    import json\n"
        + _router("feature = Features.update_feature(feature_id, form_data)\nreturn feature")
    )
    root = _project(tmp_path, router, emit_spec([_site()]))
    patched = _life_cycle(root)
    assert patched.startswith(expected_before_region + "# eventgen:begin imports ")


def test_anchor_on_the_last_line_of_a_file_without_final_newline(tmp_path: Path) -> None:
    router = _router("Features.update_feature(feature_id, form_data)").rstrip("\n")
    root = _project(tmp_path, router, emit_spec([_site()]))
    patched = _life_cycle(root)
    assert _emits_after_anchor(patched, "update_feature", "Features.update_feature") == [
        "emit_feature_updated(feature_id=feature_id)"
    ]
    assert patched.endswith("    # eventgen:end feature/feature:updated@update_feature")


# -- before: return ------------------------------------------------------------------------


def _emits_before_final_return(text: str, function: str) -> list[str]:
    """The helper calls awaited right before the statement that ends the endpoint, in order."""
    fn = _find_function(ast.parse(text), function)
    body = fn.body
    while isinstance(body[-1], (ast.With, ast.AsyncWith, ast.Try)):
        body = body[-1].body
    assert isinstance(body[-1], ast.Return), ast.unparse(body[-1])
    out = []
    for stmt in reversed(body[:-1]):
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Await) and isinstance(stmt.value.value, ast.Call):
            out.insert(0, ast.unparse(stmt.value.value))
        else:
            break
    return out


BEFORE_RETURN = {
    "validation-after-the-store-call": """\
        poll = await Features.update_feature(feature_id, form_data)
        if not poll:
            raise HTTPException(status_code=404)
        return poll
    """,
    "comment-above-the-return": """\
        feature = Features.update_feature(feature_id, form_data)

        # the caller gets the new state
        return feature
    """,
    "inside-with": """\
        with lock:
            feature = Features.update_feature(feature_id, form_data)
            if feature is None:
                return None
            return feature
    """,
    "inside-try": """\
        try:
            feature = Features.update_feature(feature_id, form_data)
            return feature
        except KeyError:
            raise HTTPException(status_code=404)
    """,
}


@pytest.mark.parametrize("name", list(BEFORE_RETURN))
def test_before_return_places_the_call_before_the_final_return(tmp_path: Path, name: str) -> None:
    root = _project(
        tmp_path,
        _router(BEFORE_RETURN[name]),
        emit_spec([{"file": ROUTER, "function": "update_feature", "before": "return"}]),
    )
    patched = _life_cycle(root)
    assert _emits_before_final_return(patched, "update_feature") == ["emit_feature_updated(feature_id=feature_id)"]
    if name == "comment-above-the-return":
        assert (
            "    # eventgen:end feature/feature:updated@update_feature\n\n    # the caller gets the new state\n    return feature\n"
            not in patched
        )
        assert (
            "    # eventgen:end feature/feature:updated@update_feature\n    # the caller gets the new state\n    return feature\n"
            in patched
        )
    if name == "validation-after-the-store-call":
        # The early raise comes first: a request for a missing poll emits nothing.
        assert patched.index("raise HTTPException") < patched.index("await emit_feature_updated(")


def test_before_return_follows_a_return_that_moved(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        _router("feature = Features.update_feature(feature_id, form_data)\nreturn feature"),
        emit_spec([{"file": ROUTER, "function": "update_feature", "before": "return"}]),
    )
    assert eventgen(root, "generate").exit == 0
    router = root / ROUTER
    router.write_text(router.read_text().replace("    return feature\n", "    log(feature)\n    return feature\n"))
    check = eventgen(root, "check", "--no-diff")
    assert check.exit == 1 and "moved: it no longer followed its anchor" in check.stdout, check.output
    assert eventgen(root, "generate").exit == 0
    assert _emits_before_final_return(router.read_text(), "update_feature") == [
        "emit_feature_updated(feature_id=feature_id)"
    ]
    assert eventgen(root, "check").exit == 0


def test_two_calls_before_one_return_keep_their_order(tmp_path: Path) -> None:
    spec = emit_spec(
        [{"file": ROUTER, "function": "update_feature", "before": "return"}], events=("updated", "touched")
    )
    root = _project(tmp_path, _router("feature = Features.update_feature(feature_id, form_data)\nreturn feature"), spec)
    patched = _life_cycle(root)
    assert _emits_before_final_return(patched, "update_feature") == [
        "emit_feature_updated(feature_id=feature_id)",
        "emit_feature_touched(feature_id=feature_id)",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "Features.update_feature(feature_id, form_data)",
        "if form_data:\n    return 1\nelse:\n    return 2",
        "raise HTTPException(status_code=400)",
    ],
    ids=["no-return", "return-in-both-branches", "ends-with-raise"],
)
def test_before_return_without_a_final_return_is_invalid_input_at_the_spec(tmp_path: Path, body: str) -> None:
    root = _project(
        tmp_path, _router(body), emit_spec([{"file": ROUTER, "function": "update_feature", "before": "return"}])
    )
    before = snapshot(root)
    run = eventgen(root, "generate")
    assert run.exit == 2
    assert run.stderr == (
        f"events/feature.yaml:17:19: 'update_feature' ({ROUTER}) does not end with a return statement, so `before: return` has nowhere to go\n"
        "  hint: end the endpoint with `return ...`, or anchor the call with `after: Callee.name`\n"
    )
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            "          after: Features.update_feature\n          before: return\n",
            "events/feature.yaml:18:11: events[0].emit.from[0].before: give either 'after' or 'before', not both",
        ),
        (
            "",
            "events/feature.yaml:15:11: events[0].emit.from[0]: an emit.from entry needs an anchor: 'after: Callee.name' or 'before: return'",
        ),
        (
            "          before: end\n",
            "events/feature.yaml:17:19: events[0].emit.from[0].before: must be 'return', got the string 'end'",
        ),
    ],
    ids=["both", "neither", "before-not-return"],
)
def test_anchor_keys_are_validated(tmp_path: Path, lines: str, message: str) -> None:
    spec = emit_spec([_site()]).replace("          after: Features.update_feature\n", lines)
    root = _project(tmp_path, _router("feature = Features.update_feature(feature_id, form_data)\nreturn feature"), spec)
    run = eventgen(root, "validate")
    assert (run.exit, run.stderr) == (2, message + "\n")
