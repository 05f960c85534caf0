"""The review classifier without git: rule coverage, the comparison lattice, and the version 2 keys.

The version 2 keys (CONTRACT.md sections 6-10: `owner`, `delivery`, `history`, `presence`,
`presence_ttl_s`, `rate_limit`, `max_bytes`, `timeout_s`, `timeout_ms`, `idempotent`,
`renamed_from`, `sunset`) are not all in the spec models yet. Tests named `test_v2_key_*`
build the compare inputs with models that accept any extra key, from YAML with positions, so
the rules run exactly as they will once the keys land; the git-backed catalogue
(tests/test_review_catalogue.py) covers every key the models accept today.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ConfigDict, Field
from support.spec_review import line_of
from test_review_catalogue import CASES

from generator.review.compare import FUTURE_KEYS, KINDS, Snapshot, compare, has_rule, keys_of
from generator.review.lattice import (
    Delta,
    access_delta,
    enum_delta,
    lower_bound_delta,
    rate_delta,
    subtype,
    upper_bound_delta,
)
from generator.spec.load import load_spec_file
from generator.spec.loaded import LoadedSpec
from generator.spec.models import EmitCallSite, EmitSpec, EventSpec, FieldSpec, RoomSpec, Spec
from generator.spec.types import parse_type
from generator.spec.yaml_source import load_yaml

REPO = Path(__file__).resolve().parent.parent
PATH = "events/notes.yaml"


# -- every key of the models has a rule --------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "model"), [("spec", Spec), ("room", RoomSpec), ("event", EventSpec), ("field", FieldSpec)]
)
def test_every_key_of_the_models_has_a_rule(level: str, model: type) -> None:
    """A key added to the models fails here until review knows whether changing it breaks clients or security."""
    keys = keys_of(level, model)
    assert set(model.model_fields) <= set(keys) and set(FUTURE_KEYS[level]) <= set(keys)
    missing = [key for key in keys if not has_rule(level, key)]
    assert missing == [], (
        f"review has no rule for {level} key(s) {missing}: add `_Compare._{level}_<key>` in generator/review/compare.py"
    )


def test_emit_is_compared_as_one_value() -> None:
    """emit and its call sites are server-side only: one `emit-changed` rule covers all their keys."""
    assert has_rule("event", "emit")
    assert set(EmitSpec.model_fields) == {"helper", "from_"} and set(EmitCallSite.model_fields) == {
        "file",
        "function",
        "after",
        "before",
        "args",
    }


# -- the lattice ------------------------------------------------------------------------------------

TYPES = [
    "str",
    "int",
    "float",
    "bool",
    "any",
    "dict",
    "list",
    "str | None",
    "int | None",
    "float | None",
    "list[int]",
    "list[float]",
    "list[str]",
    "list[int | None]",
    "dict[str, int]",
    "dict[str, float]",
    "dict[str, str] | None",
    "list[list[int]]",
    "list[list[float]]",
]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("int", "float", True),
        ("float", "int", False),
        ("str", "str | None", True),
        ("str | None", "str", False),
        ("str", "any", True),
        ("any", "str", False),
        ("list[int]", "list[float]", True),
        ("list[float]", "list[int]", False),
        ("list[int]", "list", True),
        ("list", "list[int]", False),
        ("dict[str, int]", "dict", True),
        ("bool", "int", False),
        ("list[int | None]", "list[int]", False),
        ("list[list[int]]", "list[list[float]]", True),
        ("str", "int", False),
    ],
)
def test_subtype(a: str, b: str, expected: bool) -> None:
    assert subtype(parse_type(a), parse_type(b)) is expected


def test_subtype_is_a_preorder() -> None:
    types = [parse_type(t) for t in TYPES]
    for a in types:
        assert subtype(a, a)
    for a, b, c in itertools.product(types, repeat=3):
        if subtype(a, b) and subtype(b, c):
            assert subtype(a, c), (a, b, c)


def test_bounds_and_enums() -> None:
    assert lower_bound_delta(None, 1) == Delta(narrowed=True) and lower_bound_delta(1, None) == Delta(widened=True)
    assert (
        lower_bound_delta(1, 2) == Delta(narrowed=True)
        and lower_bound_delta(2, 1) == Delta(widened=True)
        and not lower_bound_delta(1, 1)
    )
    assert upper_bound_delta(None, 9) == Delta(narrowed=True) and upper_bound_delta(9, None) == Delta(widened=True)
    assert upper_bound_delta(9, 5) == Delta(narrowed=True) and upper_bound_delta(5, 9) == Delta(widened=True)
    assert enum_delta(["a", "b"], ["a"]) == Delta(narrowed=True) and enum_delta(["a"], ["a", "b"]) == Delta(
        widened=True
    )
    assert enum_delta(["a", "b"], ["a", "c"]) == Delta(narrowed=True, widened=True)
    assert enum_delta(None, ["a"]) == Delta(narrowed=True) and enum_delta(["a"], None) == Delta(widened=True)
    assert not enum_delta([1, 2], [2.0, 1.0])  # one JSON number
    assert enum_delta([1], [True]) == Delta(narrowed=True, widened=True)  # true is not 1


def test_access_order() -> None:
    assert access_delta("self", "authenticated") == Delta(widened=True)
    assert access_delta("self", "pkg.m:f") == Delta(widened=True)
    assert access_delta("pkg.m:f", "authenticated") == Delta(widened=True)
    assert access_delta("authenticated", "pkg.m:f") == Delta(narrowed=True)
    assert access_delta("pkg.m:f", "self") == Delta(narrowed=True)
    assert access_delta("pkg.m:f", "pkg.m:g") == Delta(narrowed=True, widened=True)
    assert not access_delta("pkg.m:f", "pkg.m:f")


def test_rate_limits() -> None:
    assert rate_delta({"rate": 5, "per_s": 1}, {"rate": 10, "per_s": 1}) == Delta(widened=True)
    assert rate_delta({"rate": 5, "per_s": 1}, {"rate": 5, "per_s": 2}) == Delta(narrowed=True)
    assert rate_delta({"rate": 5, "per_s": 1, "burst": 5}, {"rate": 5, "per_s": 1, "burst": 20}) == Delta(widened=True)
    assert not rate_delta({"rate": 2, "per_s": 1, "burst": 4}, {"rate": 4, "per_s": 2, "burst": 4})
    assert rate_delta({"rate": 5, "per_s": 1}, None) == Delta(widened=True) and rate_delta(
        None, {"rate": 5, "per_s": 1}
    ) == Delta(narrowed=True)
    assert rate_delta({"rate": 5, "per_s": 1, "burst": 50}, {"rate": 10, "per_s": 1, "burst": 10}) == Delta(
        narrowed=True, widened=True
    )
    assert rate_delta({"rate": "x"}, {"rate": "y"}) == Delta(
        narrowed=True, widened=True
    )  # not comparable: a person reads it


# -- identity: a spec compared with itself has nothing to say --------------------------------------


def _all_spec_files() -> list[Path]:
    found = sorted((REPO / "examples").glob("*/events/*.yaml")) + sorted((REPO / "tests").glob("**/events/*.yaml"))
    return [p for p in found if "node_modules" not in p.parts]


def test_every_spec_in_the_repository_equals_itself() -> None:
    loaded = []
    for file in _all_spec_files():
        spec, problems = load_spec_file(file, file.parent.parent)
        if spec is not None:
            loaded.append(spec)
            assert compare(Snapshot([spec]), Snapshot([spec])) == [], file
    assert len(loaded) >= 20


# -- version 2 keys ---------------------------------------------------------------------------------


class V2Room(RoomSpec):
    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)


class V2Event(EventSpec):
    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)


class V2Spec(Spec):
    """Spec whose rooms and events accept the version 2 keys the models may not have yet."""

    rooms: dict[str, V2Room] = Field(default_factory=dict)
    events: list[V2Event] = Field(min_length=1)


NOTES = """\
name: notes
rooms:
  note:
    pattern: "note:{note_id}"
    access: open_webui.socket.access:can_read_note
events:
  - name: note:join
    direction: client_to_server
    action: join
    room: note
    payload:
      note_id: str
  - name: note:edit
    direction: client_to_server
    action: handle
    handler: open_webui.socket.notes:edit
    room: note
    payload:
      note_id: str
      text: str
  - name: note:changed
    direction: server_to_client
    room: note
    payload:
      note_id: str
      text: str
"""

ROOM_END = "    access: open_webui.socket.access:can_read_note\n"
EDIT_END = "handler: open_webui.socket.notes:edit\n"
TODAY = datetime.date(2027, 3, 1)


def v2(text: str) -> LoadedSpec:
    data, positions, problems = load_yaml(text, PATH)
    assert problems == []
    return LoadedSpec(PATH, V2Spec.model_validate(data), positions)


def with_(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def room_key(key: str, value: str) -> tuple[str, str]:
    return (ROOM_END, f"{ROOM_END}    {key}: {value}\n")


def edit_key(key: str, value: str) -> tuple[str, str]:
    return (EDIT_END, f"{EDIT_END}    {key}: {value}\n")


@dataclass(frozen=True)
class V2Case:
    id: str
    old: tuple[tuple[str, str], ...]
    new: tuple[tuple[str, str], ...]
    expect: tuple[tuple[str, str, str, str], ...]  # (class, kind, snippet on the line, side)
    max_bytes: int | None = None


V2_CASES = [
    # rooms: owner, delivery, history, presence, presence_ttl_s
    V2Case(
        "owner-app-dropped", (room_key("owner", "app"),), (), (("security", "owner-app-dropped", "  note:", "new"),)
    ),
    V2Case(
        "owner-app-added", (), (room_key("owner", "app"),), (("compatible", "owner-app-added", "owner: app", "new"),)
    ),
    V2Case(
        "delivery-unsequenced",
        (room_key("delivery", "sequenced"),),
        (room_key("delivery", "best_effort"),),
        (("breaking", "delivery-unsequenced", "delivery: best_effort", "new"),),
    ),
    V2Case(
        "delivery-key-removed",
        (room_key("delivery", "sequenced"),),
        (),
        (("breaking", "delivery-unsequenced", "  note:", "new"),),
    ),
    V2Case(
        "delivery-sequenced",
        (),
        (room_key("delivery", "sequenced"),),
        (("compatible", "delivery-sequenced", "delivery: sequenced", "new"),),
    ),
    V2Case("delivery-default-spelt-out", (), (room_key("delivery", "best_effort"),), ()),
    V2Case(
        "history-shorter",
        (
            room_key("delivery", "sequenced"),
            (
                ROOM_END + "    delivery: sequenced\n",
                ROOM_END + "    delivery: sequenced\n    history: {size: 1000, ttl_s: 600}\n",
            ),
        ),
        (
            room_key("delivery", "sequenced"),
            (
                ROOM_END + "    delivery: sequenced\n",
                ROOM_END + "    delivery: sequenced\n    history: {size: 100, ttl_s: 600}\n",
            ),
        ),
        (("compatible", "history-changed", "size: 100", "new"),),
    ),
    V2Case(
        "presence-enabled",
        (),
        (room_key("presence", "true"),),
        (("security", "presence-enabled", "presence: true", "new"),),
    ),
    V2Case(
        "presence-disabled",
        (room_key("presence", "true"),),
        (room_key("presence", "false"),),
        (("breaking", "presence-disabled", "presence: false", "new"),),
    ),
    V2Case(
        "presence-ttl",
        ((ROOM_END, ROOM_END + "    presence: true\n    presence_ttl_s: 30\n"),),
        ((ROOM_END, ROOM_END + "    presence: true\n    presence_ttl_s: 90\n"),),
        (("compatible", "presence-ttl-changed", "presence_ttl_s: 90", "new"),),
    ),
    # events: rate_limit, max_bytes, timeout_s, timeout_ms, idempotent
    V2Case(
        "rate-limit-raised",
        (edit_key("rate_limit", "{rate: 5, per_s: 1}"),),
        (edit_key("rate_limit", "{rate: 50, per_s: 1}"),),
        (("security", "rate-limit-loosened", "rate_limit:", "new"),),
    ),
    V2Case(
        "rate-limit-burst-raised",
        (edit_key("rate_limit", "{rate: 5, per_s: 1, burst: 5}"),),
        (edit_key("rate_limit", "{rate: 5, per_s: 1, burst: 100}"),),
        (("security", "rate-limit-loosened", "rate_limit:", "new"),),
    ),
    V2Case(
        "rate-limit-removed",
        (edit_key("rate_limit", "{rate: 5, per_s: 1}"),),
        (),
        (("security", "rate-limit-loosened", "- name: note:edit", "new"),),
    ),
    V2Case(
        "rate-limit-added",
        (),
        (edit_key("rate_limit", "{rate: 5, per_s: 1}"),),
        (("compatible", "rate-limit-tightened", "rate_limit:", "new"),),
    ),
    V2Case(
        "rate-limit-lowered",
        (edit_key("rate_limit", "{rate: 5, per_s: 1}"),),
        (edit_key("rate_limit", "{rate: 1, per_s: 1}"),),
        (("compatible", "rate-limit-tightened", "rate_limit:", "new"),),
    ),
    V2Case(
        "rate-limit-respelt",
        (edit_key("rate_limit", "{rate: 2, per_s: 1, burst: 4}"),),
        (edit_key("rate_limit", "{rate: 4, per_s: 2, burst: 4}"),),
        (),
    ),
    V2Case(
        "max-bytes-raised",
        (edit_key("max_bytes", "65536"),),
        (edit_key("max_bytes", "1048576"),),
        (("security", "max-bytes-raised", "max_bytes:", "new"),),
    ),
    V2Case(
        "max-bytes-lowered",
        (edit_key("max_bytes", "65536"),),
        (edit_key("max_bytes", "1024"),),
        (("breaking", "max-bytes-lowered", "max_bytes:", "new"),),
    ),
    V2Case(
        "max-bytes-removed-to-larger-default",
        (edit_key("max_bytes", "1024"),),
        (),
        (("security", "max-bytes-raised", "- name: note:edit", "new"),),
    ),
    V2Case(
        "max-bytes-removed-to-smaller-default",
        (edit_key("max_bytes", "1048576"),),
        (),
        (("breaking", "max-bytes-lowered", "- name: note:edit", "new"),),
    ),
    V2Case(
        "max-bytes-default-from-config",
        (edit_key("max_bytes", "4096"),),
        (),
        (("breaking", "max-bytes-lowered", "- name: note:edit", "new"),),
        max_bytes=1024,
    ),
    V2Case(
        "max-bytes-default-spelt-out",
        (),
        (edit_key("max_bytes", "65536"),),
        (("compatible", "max-bytes-unchanged", "max_bytes:", "new"),),
    ),
    V2Case(
        "timeout-s",
        (edit_key("timeout_s", "10"),),
        (edit_key("timeout_s", "30"),),
        (("compatible", "timeout-changed", "timeout_s:", "new"),),
    ),
    V2Case(
        "timeout-ms", (), (edit_key("timeout_ms", "2000"),), (("compatible", "timeout-changed", "timeout_ms:", "new"),)
    ),
    V2Case(
        "idempotent-dropped",
        (edit_key("idempotent", "true"),),
        (),
        (("breaking", "idempotent-dropped", "- name: note:edit", "new"),),
    ),
    V2Case(
        "idempotent-added",
        (),
        (edit_key("idempotent", "true"),),
        (("compatible", "idempotent-added", "idempotent: true", "new"),),
    ),
    # renames: renamed_from and sunset
    V2Case(
        "renamed-with-alias",
        (),
        (
            (
                "- name: note:changed\n",
                "- name: note:updated\n    renamed_from: [note:changed]\n    sunset: 2027-06-30\n",
            ),
        ),
        (("compatible", "event-renamed-aliased", "- name: note:updated", "new"),),
    ),
    V2Case(
        "renamed-without-alias",
        (),
        (("- name: note:changed\n", "- name: note:updated\n"),),
        (("breaking", "event-renamed", "- name: note:updated", "new"),),
    ),
    V2Case(
        "alias-removed-before-sunset",
        (
            (
                "- name: note:changed\n",
                "- name: note:updated\n    renamed_from: [note:changed]\n    sunset: 2027-06-30\n",
            ),
        ),
        (("- name: note:changed\n", "- name: note:updated\n"),),
        (("breaking", "alias-removed", "- name: note:updated", "new"),),
    ),
    V2Case(
        "alias-removed-without-sunset",
        (("- name: note:changed\n", "- name: note:updated\n    renamed_from: note:changed\n"),),
        (("- name: note:changed\n", "- name: note:updated\n"),),
        (("breaking", "alias-removed", "- name: note:updated", "new"),),
    ),
    V2Case(
        "alias-removed-after-sunset",
        (
            (
                "- name: note:changed\n",
                "- name: note:updated\n    renamed_from: [note:changed]\n    sunset: 2027-01-31\n",
            ),
        ),
        (("- name: note:changed\n", "- name: note:updated\n"),),
        (("compatible", "alias-removed-after-sunset", "- name: note:updated", "new"),),
    ),
    V2Case(
        "sunset-reached",
        (
            (
                "- name: note:changed\n",
                "- name: note:updated\n    renamed_from: [note:changed]\n    sunset: 2027-01-31\n",
            ),
        ),
        (
            (
                "- name: note:changed\n",
                "- name: note:updated\n    renamed_from: [note:changed]\n    sunset: 2027-01-31\n",
            ),
        ),
        (("breaking", "sunset-reached", "sunset: 2027-01-31", "new"),),
    ),
    V2Case(
        "sunset-today-is-reached",
        (),
        (
            (
                "- name: note:changed\n",
                "- name: note:changed\n    renamed_from: [note:modified]\n    sunset: '2027-03-01'\n",
            ),
        ),
        (
            ("compatible", "alias-added", "renamed_from:", "new"),
            ("breaking", "sunset-reached", "sunset: '2027-03-01'", "new"),
        ),
    ),
    V2Case(
        "sunset-moved",
        (
            (
                "- name: note:changed\n",
                "- name: note:updated\n    renamed_from: [note:changed]\n    sunset: 2027-06-30\n",
            ),
        ),
        (
            (
                "- name: note:changed\n",
                "- name: note:updated\n    renamed_from: [note:changed]\n    sunset: 2027-12-31\n",
            ),
        ),
        (("compatible", "sunset-changed", "sunset: 2027-12-31", "new"),),
    ),
    V2Case(
        "alias-added",
        (),
        (
            (
                "- name: note:changed\n",
                "- name: note:changed\n    renamed_from: [note:modified]\n    sunset: 2027-12-31\n",
            ),
        ),
        (("compatible", "alias-added", "renamed_from:", "new"),),
    ),
    # a key review does not know yet
    V2Case("unknown-key", (), (edit_key("colour", "blue"),), (("compatible", "changed", "colour: blue", "new"),)),
]


def _expected(case: V2Case, old: str, new: str) -> set[tuple[str, str, int, str]]:
    return {(c, k, line_of(new if side == "new" else old, snippet), side) for c, k, snippet, side in case.expect}


@pytest.mark.parametrize("case", V2_CASES, ids=[c.id for c in V2_CASES])
def test_v2_key(case: V2Case) -> None:
    old_text, new_text = with_(NOTES, *case.old), with_(NOTES, *case.new)
    findings = compare(Snapshot([v2(old_text)]), Snapshot([v2(new_text)]), today=TODAY, max_bytes=case.max_bytes)
    assert {(f.category, f.kind, f.where.line, f.where.side) for f in findings} == _expected(case, old_text, new_text)
    assert all(f.where.path == PATH and f.why for f in findings)


def test_v2_keys_on_models_that_have_them_already() -> None:
    """The same rule whether the key is a model field (the day it lands) or an extra value (today)."""
    old, new = v2(with_(NOTES, room_key("owner", "app"))), v2(NOTES)
    assert getattr(old.spec.rooms["note"], "owner") == "app"
    assert [f.kind for f in compare(Snapshot([old]), Snapshot([new]))] == ["owner-app-dropped"]


def test_v2_rate_limit_as_a_model() -> None:
    """A future `rate_limit` model (attributes, not a mapping) compares the same as the mapping."""

    @dataclass
    class Limit:
        rate: int
        per_s: int
        burst: int | None = None

    assert (
        rate_delta(Limit(5, 1), Limit(10, 1))
        == rate_delta({"rate": 5, "per_s": 1}, {"rate": 10, "per_s": 1})
        == Delta(widened=True)
    )


# -- every kind is tested somewhere ---------------------------------------------------------------

# Kinds asserted by tests other than the two tables (tests/test_review*.py).
ELSEWHERE = {"spec-removed", "room-removed", "alias-added"}


def test_room_removed_from_a_spec_that_stays() -> None:
    text = with_(NOTES, ("events:\n", '  other:\n    pattern: "other:{x}"\n    access: authenticated\nevents:\n'))
    findings = compare(Snapshot([v2(text)]), Snapshot([v2(NOTES)]))
    assert [(f.kind, f.where.side, f.where.line, f.where.anchor) for f in findings] == [
        ("room-removed", "old", line_of(text, "  other:"), (PATH, 2))
    ]


def test_every_kind_is_exercised() -> None:
    tested = {e.kind for c in CASES for e in c.expect} | {k for c in V2_CASES for _, k, _, _ in c.expect} | ELSEWHERE
    assert tested == set(KINDS), sorted(set(KINDS) - tested)
