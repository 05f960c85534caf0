"""Fuzzing specs with hypothesis (issue 8, item 4).

Random valid specs: `generate` succeeds; every generated or patched Python file
parses, imports (the payload models) and passes `ruff check --select E,F`; a
second `generate` changes nothing. Random invalid documents (arbitrary text,
mutated valid specs, random YAML trees): exit 2 with a `path:line:col:` message,
never exit 3 and never a traceback.

E501 (line length) is left out of the ruff run: the limit is the host project's
setting, and a generated docstring carries a spec description of any length.

Example counts (ci profile): 60 valid specs, 200 + 200 + 150 invalid documents;
`EVENTGEN_HYPOTHESIS_PROFILE=long` runs 20 times as many. Random payloads sent to
served handlers are tests/test_runtime_fuzz.py's job (issue 5).
"""

from __future__ import annotations

import ast
import importlib.util
import keyword
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support.cli import eventgen
from support.hypothesis_profiles import examples
from support.project import ROUTER, SOCKET_MODULE, TOKEN_APP, make_project
from support.tree import changed_paths, copy_project, snapshot

from generator.read.bindings import module_bindings
from generator.spec.models import event_snake, pascal

HOSTILE_BITS = [
    'it\'s "q"',
    '"""',
    "{{ x }}",
    "{% raw %}",
    "</script>",
    "<!--",
    "-->",
    "\\",
    "\u2028",
    "\x00",
    "\x1b",
    "🚀",
    "\u202e",
    "*/",
    "#",
    "${x}",
    "\t",
    "\n",
]

# Names a payload field may not take (generated code uses them); kept here as a list so the
# test notices when the validator refuses more than this.
# Names the base project's socket module binds: a helper may not rebind them (CONTRACT 6.3).
BOUND_NAMES = frozenset(module_bindings(ast.parse(TOKEN_APP[SOCKET_MODULE])).lines)
TAKEN_FIELD_NAMES = {
    "str",
    "int",
    "float",
    "bool",
    "dict",
    "list",
    "Any",
    "Literal",
    "Field",
    "eventgen_models",
    "sio",
    "user",
    "l",
    "I",
    "O",
} | {
    "construct",
    "copy",
    "dict",
    "from_orm",
    "json",
    "parse_file",
    "parse_obj",
    "parse_raw",
    "schema",
    "schema_json",
    "update_forward_refs",
    "validate",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("fuzz") / "app", specs={}, files=TOKEN_APP)
    (root / "events").mkdir()
    return root


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("examples")


@pytest.fixture
def fresh(template: Path, workdir: Path) -> Iterator[Any]:
    """A factory of throw-away copies of the project, one per hypothesis example."""

    def make() -> Path:
        return copy_project(template, Path(tempfile.mkdtemp(dir=workdir)) / "app")

    yield make
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()


# -- strategies for valid specs ----------------------------------------------------

text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.lists(st.sampled_from(HOSTILE_BITS) | st.text(max_size=4), max_size=6).map("".join),
)
identifier = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and not n.startswith("model_") and n not in TAKEN_FIELD_NAMES
)
event_name = st.from_regex(r"[A-Za-z][A-Za-z0-9_.:-]{0,20}", fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@st.composite
def type_expr(draw: st.DrawFn, depth: int = 0) -> str:
    kinds = ["str", "int", "float", "bool", "dict", "list", "any"] + (["list[]", "dict[]"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "list[]":
        kind = f"list[{draw(type_expr(depth + 1))}]"
    elif kind == "dict[]":
        kind = f"dict[str, {draw(type_expr(depth + 1))}]"
    if kind != "any" and draw(st.booleans()) and depth == 0:
        kind = f"{kind} | None"
    return kind


def _value_of(draw: st.DrawFn, kind: str) -> Any:
    base = kind.replace(" | None", "")
    if base == "str":
        return draw(text)
    if base == "int":
        return draw(st.integers(-(2**40), 2**40))
    if base == "float":
        return draw(finite)
    if base == "bool":
        return draw(st.booleans())
    if base.startswith("list"):
        return draw(st.lists(st.integers(), max_size=2)) if base == "list" else []
    if base.startswith("dict"):
        return {} if base != "dict" else draw(st.dictionaries(text, st.integers(), max_size=2))
    return draw(st.none() | st.integers() | text)


@st.composite
def field_spec(draw: st.DrawFn) -> Any:
    kind = draw(type_expr())
    base = kind.replace(" | None", "")
    if draw(st.integers(0, 3)) == 0:
        return kind  # short form
    spec: dict[str, Any] = {"type": kind}
    if draw(st.booleans()):
        spec["description"] = draw(text)
    if base in ("str", "list", "dict") or base.startswith(("list[", "dict[")):
        if draw(st.booleans()):
            low, high = sorted(draw(st.lists(st.integers(0, 500), min_size=2, max_size=2)))
            spec.update(min_length=low, max_length=high)
    if base in ("int", "float") and draw(st.booleans()):
        low, high = sorted(
            draw(st.lists(st.integers(-1000, 1000) if base == "int" else finite, min_size=2, max_size=2))
        )
        spec.update(ge=low, le=high)
    if base in ("str", "int", "float") and "ge" not in spec and "min_length" not in spec and draw(st.booleans()):
        values = draw(
            st.lists(
                text if base == "str" else st.integers(-99, 99) if base == "int" else finite, min_size=1, max_size=3
            )
        )
        spec["enum"] = values
        if draw(st.booleans()):
            spec["default"] = draw(st.sampled_from(values))
    elif draw(st.integers(0, 3)) == 0 and "ge" not in spec and "min_length" not in spec:
        spec["default"] = _value_of(draw, kind)
    elif draw(st.integers(0, 4)) == 0:
        spec["required"] = False
    return spec


ROUTER_EXPRESSIONS = ["feature_id", "form_data", "feature.model_dump()", "len(form_data)", "str(user)", "None"]


@st.composite
def spec_document(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(["feature", "fz", "live_board"]))
    params = draw(st.lists(identifier, min_size=0, max_size=2, unique=True))
    rooms: dict[str, Any] = {}
    room_params: dict[str, list[str]] = {}
    for key in draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), max_size=2, unique=True)):
        if draw(st.booleans()) and params:
            # The base project's connect enters user:{id} by hand: such a room is the app's (CONTRACT 6.2).
            pattern = "user:{" + params[0] + "}"
            rooms[key] = {"pattern": pattern, "owner": "app"}
            room_params[key] = [params[0]]
            continue
        chosen = draw(st.lists(st.sampled_from(params), unique=True)) if params else []
        # ':'-separated segments, the first literal and unique to the room key, so no two rooms overlap.
        segments = ["r" + key]
        for p in chosen:
            if draw(st.booleans()):
                segments.append(
                    draw(text.map(lambda t: t.replace("{", "(").replace("}", ")").replace(":", ".")[:20]).filter(bool))
                )
            segments.append("{" + p + "}")
        pattern = ":".join(segments)
        access = draw(
            st.sampled_from(
                ["authenticated", "open_webui.socket.access:can_read_feature"] + (["self"] if len(chosen) == 1 else [])
            )
        )
        rooms[key] = {"pattern": pattern, "access": access}
        room_params[key] = chosen
    events: list[dict[str, Any]] = []
    taken: set[str] = set()
    helpers: set[str] = set()
    joins: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        ev_name = draw(event_name)
        ids = {ev_name, "p:" + pascal(ev_name), "s:" + event_snake(ev_name)}
        if (
            ids & taken
            or pascal(ev_name) in ("Client", "Server")
            or ev_name in ("connect", "disconnect", "disconnecting", "connect_error")
        ):
            continue
        taken |= ids
        payload = {n: draw(field_spec()) for n in draw(st.lists(identifier, max_size=3, unique=True))}
        event: dict[str, Any] = {"name": ev_name}
        if draw(st.booleans()):
            event["description"] = draw(text)
        room = draw(st.sampled_from(sorted(rooms))) if rooms and draw(st.booleans()) else None
        if room is not None:
            for p in room_params[room]:
                payload[p] = draw(st.sampled_from(["str", "int", {"type": "str", "min_length": 1}]))
        if draw(st.booleans()):
            app_owned = room is not None and rooms[room].get("owner") == "app"
            action = draw(
                st.sampled_from(
                    ["relay", "handle"] if app_owned else ["join", "leave", "relay", "handle"] if room else ["handle"]
                )
            )
            event.update(direction="client_to_server", action=action)
            if room:
                event["room"] = room
            if action == "join":
                joins.add(room)  # type: ignore[arg-type]
            if action == "handle":
                event["handler"] = f"open_webui.handlers.h{len(events)}:handle_{len(events)}"
            if action == "relay":
                payload.pop("user", None)
        else:
            event["direction"] = "server_to_client"
            if room:
                event["room"] = room
            else:
                event["broadcast"] = True
            helper = draw(
                identifier.filter(
                    lambda h: (
                        not h.startswith("on_")
                        and h not in helpers
                        and h not in dir(__builtins__)
                        and h not in BOUND_NAMES
                    )
                )
            )
            helpers.add(helper)
            emit: dict[str, Any] = {"helper": helper}
            if draw(st.booleans()):
                required = [
                    n
                    for n, f in payload.items()
                    if isinstance(f, str) or (f.get("required", True) and "default" not in f)
                ]
                args = {n: draw(st.sampled_from(ROUTER_EXPRESSIONS + [repr(draw(text))])) for n in required}
                emit["from"] = [
                    {"file": ROUTER, "function": "update_feature", "after": "Features.update_feature", "args": args}
                ]
            event["emit"] = emit
            if room is None or room in joins or rooms[room]["pattern"].startswith("user:{"):
                if draw(st.booleans()):
                    event["listener"] = "Live" + pascal(name) + (pascal(room) if room else "All")
        event["payload"] = payload
        events.append(event)
    assume(events)
    doc: dict[str, Any] = {"name": name, "events": events}
    if rooms:
        doc["rooms"] = rooms
    if draw(st.booleans()):
        doc["description"] = draw(text)
    return name, doc


def _dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10_000)


# -- checks ------------------------------------------------------------------------


def _python_files(project: Path) -> list[Path]:
    return sorted(p for p in (project / "backend").rglob("*.py") if "__pycache__" not in p.parts)


def _ruff(files: list[Path]) -> str:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "E,F",
            "--ignore",
            "E501",
            "--output-format",
            "concise",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if proc.returncode == 0 else proc.stdout + proc.stderr


def _import_models(path: Path) -> None:
    """Build every payload model: pydantic resolves annotations and defaults at class creation."""
    name = f"fuzz_models_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]


@settings(max_examples=examples(60))
@given(spec_document())
def test_random_valid_specs_generate_clean_idempotent_python(fresh: Any, doc: tuple[str, dict[str, Any]]) -> None:
    name, body = doc
    project = fresh()
    (project / "events" / f"{name}.yaml").write_text(_dump(body), encoding="utf-8")
    run = eventgen(project, "generate")
    assert run.exit == 0, f"{run.output}\n---\n{_dump(body)}"
    for path in _python_files(project):
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    problems = _ruff(_python_files(project))
    assert problems == "", f"{problems}\n---\n{_dump(body)}"
    _import_models(project / "backend/open_webui/socket/event_models.py")
    after_first = snapshot(project)
    again = eventgen(project, "generate")
    assert again.exit == 0 and again.stdout.startswith("eventgen: nothing to do"), again.output
    assert changed_paths(after_first, snapshot(project)) == []


# -- strategies for invalid documents ---------------------------------------------

POSITIONED = re.compile(r"^[^\s:][^:]*:\d+(:\d+)?: \S")

VALID_BASE = """\
name: feature
description: Live updates.
rooms:
  feature:
    pattern: "feature:{feature_id}"
    access: open_webui.socket.access:can_read_feature
events:
  - name: feature:subscribe
    direction: client_to_server
    action: join
    room: feature
    payload:
      feature_id: {type: str, min_length: 1, max_length: 128}
  - name: feature:updated
    direction: server_to_client
    room: feature
    payload:
      feature_id: str
      data: {type: dict, default: {}}
    emit:
      helper: notify_feature_update
      from:
        - file: backend/open_webui/routers/features.py
          function: update_feature
          after: Features.update_feature
          args: {feature_id: feature_id, data: feature.model_dump()}
    listener: FeatureUpdates
"""

NOISE = [
    "",
    " ",
    "  ",
    ":",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "&a",
    "*a",
    "!!python/object:os.system",
    "<<: *a",
    "'",
    '"',
    "\t",
    "#",
    "---",
    "...",
    "? ",
    "|",
    ">",
    "%YAML 1.1",
    "~",
    "null",
    "yes",
    "0o17",
    "1:30",
    ".inf",
    "\x00",
    "\ufeff",
    "\u2028",
    "\ud800",
    "\\",
    "{{ }}",
    "é",
]


@st.composite
def mutated_spec(draw: st.DrawFn) -> str:
    lines = VALID_BASE.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "indent", "dedent", "truncate", "swap"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            col = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:col] + draw(st.sampled_from(NOISE) | st.text(max_size=3)) + lines[i][col:]
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i].lstrip()
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            lines = [""]
    return "\n".join(lines)


yaml_trees = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | finite
    | st.text(max_size=8)
    | st.sampled_from(["feature", "feature:x", "client_to_server", "join", "str"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "events", "rooms", "payload", "direction", "action", "room", "type", "emit", "x"])
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def _assert_refused_cleanly(project: Path, content: str | bytes) -> None:
    target = project / "events" / "feature.yaml"
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8", errors="surrogatepass")
    before = snapshot(project)
    run = eventgen(project, "generate")
    shown = repr(content)[:2000]
    assert run.exit in (0, 2), f"exit {run.exit}: {run.output}\n---\n{shown}"
    assert "Traceback" not in run.output, shown
    if run.exit == 2:
        first = run.stderr.splitlines()[0] if run.stderr else ""
        assert POSITIONED.match(first), f"not a path:line:col message: {run.stderr!r}\n---\n{shown}"
        assert snapshot(project) == before, "a refused run wrote something"


@settings(max_examples=examples(200))
@given(mutated_spec())
def test_mutated_specs_are_refused_with_a_position_or_generate(fresh: Any, content: str) -> None:
    _assert_refused_cleanly(fresh(), content)


@settings(max_examples=examples(200))
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200),
        st.lists(st.sampled_from(NOISE + ["name: feature", "events:", "  - ", "payload:"]), max_size=12).map("\n".join),
    )
)
def test_arbitrary_text_is_refused_with_a_position(fresh: Any, content: str | bytes) -> None:
    _assert_refused_cleanly(fresh(), content)


@settings(max_examples=examples(150))
@given(yaml_trees)
def test_random_yaml_documents_are_refused_with_a_position(fresh: Any, tree: Any) -> None:
    _assert_refused_cleanly(fresh(), yaml.safe_dump(tree, allow_unicode=True))
