"""Issue 11 / CONTRACT section 6: generated rooms, names and events never collide with each
other or with the code they are patched into.

Each refusal is exit 2, points at the spec line that caused it, names the module line it
collides with, and leaves every file as it was.
"""

from __future__ import annotations

import itertools
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import eventgen
from support.golden import materialise_input
from support.project import SOCKET_MODULE
from support.tree import snapshot

from generator.spec.rooms import PatternError, Shape, escape, overlap, overlaps_glob, parse_pattern, unescape

ROUTER = "backend/open_webui/routers/features.py"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    materialise_input("fresh_insert", root)
    (root / "events" / "feature.yaml").unlink()
    return root


def write_spec(project: Path, name: str, text: str) -> None:
    (project / "events" / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip())


def refused(project: Path, *args: str) -> str:
    """Run a command that must be refused: exit 2, nothing written; returns what it printed."""
    before = snapshot(project)
    run = eventgen(project, *args)
    assert run.exit == 2, run.output
    assert snapshot(project) == before, "a refused run wrote files"
    return run.output


def append_to(project: Path, rel: str, code: str) -> int:
    """Append code to a module; returns the line number of its first line."""
    path = project / rel
    text = path.read_text()
    if not text.endswith("\n"):
        text += "\n"
    first = text.count("\n") + 1
    path.write_text(text + textwrap.dedent(code))
    return first


# ---------------------------------------------------------------- 6.1 room patterns


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("{topic}", "starts with a parameter"),
        ("{a}:b", "starts with a parameter"),
        ("grid:a{x}b", "mixes text and a parameter"),
        ("grid:{x}{y}", "mixes text and a parameter"),
        ("grid::{x}", "empty segment"),
        ("grid:{x}:", "empty segment"),
    ],
)
def test_a_pattern_that_could_read_two_ways_is_refused_at_its_line(project: Path, pattern: str, message: str) -> None:
    write_spec(
        project,
        "grid",
        f"""
        name: grid
        rooms:
          cell:
            pattern: "{pattern}"
            access: authenticated
        events:
          - name: grid:ping
            direction: server_to_client
            broadcast: true
        """,
    )
    out = refused(project, "validate")
    assert re.search(rf"events/grid\.yaml:4:\d+: .*{re.escape(message)}", out), out


@pytest.mark.parametrize(
    "pattern", ["lobby", "feature:{feature_id}", "chat:{chat_id}:typing", "a:{b}:c:{d}", "grid:{x}:{y}"]
)
def test_well_formed_patterns_parse(pattern: str) -> None:
    shape, params = parse_pattern(pattern)
    assert shape.segments[0] is not None
    assert len(shape.segments) == pattern.count(":") + 1
    assert [s is None for s in shape.segments].count(True) == len(params)


def test_escaping_leaves_uuids_and_integer_ids_unchanged() -> None:
    for value in ("0b7e4c3a-6f0e-4a57-9c1e-2b8f3d1e9a77", "42", 42, "user_1.x-y"):
        assert escape(value) == str(value)
    assert escape("50%:off") == "50%25%3Aoff"


@given(st.text())
def test_escaping_round_trips_and_never_adds_a_segment(value: str) -> None:
    escaped = escape(value)
    assert ":" not in escaped
    assert unescape(escaped) == value


@given(st.text(), st.text())
def test_escaping_is_injective(a: str, b: str) -> None:
    assert (escape(a) == escape(b)) == (a == b)


@given(st.lists(st.text(min_size=1), min_size=1, max_size=4))
def test_a_room_name_has_one_reading(values: list[str]) -> None:
    """Escaped values joined by ':' split back into exactly those values."""
    name = ":".join(["grid", *map(escape, values)])
    assert [unescape(part) for part in name.split(":")[1:]] == values


# Overlap against brute force: the names two patterns build over a small alphabet of
# values (every literal in play, the separator, the escape character) intersect exactly
# when `overlap` says so.
_LITERALS = ("a", "b", "c")
_VALUES = (*_LITERALS, ":", "%", "a:b", "%3A")
_segment = st.one_of(st.sampled_from(_LITERALS), st.none())
_shape = st.builds(
    lambda first, rest: Shape((first, *rest)), st.sampled_from(_LITERALS), st.lists(_segment, max_size=3)
)


def _names(shape: Shape) -> set[str]:
    holes = [i for i, s in enumerate(shape.segments) if s is None]
    out = set()
    for values in itertools.product(_VALUES, repeat=len(holes)):
        parts = list(shape.segments)
        for i, value in zip(holes, values):
            parts[i] = escape(value)
        out.add(":".join(p for p in parts if p is not None))
    return out


@settings(max_examples=300)
@given(st.lists(_shape, min_size=2, max_size=5))
def test_overlap_verdict_equals_brute_force(shapes: list[Shape]) -> None:
    for a, b in itertools.combinations(shapes, 2):
        assert overlap(a, b) == bool(_names(a) & _names(b)), (a, b)


# A room the app builds by hand does not escape its values: a hole may hold ':'. Brute force over
# the same small alphabet, holes filled with any value (or nothing), against `overlaps_glob`.
_glob = st.lists(st.one_of(st.sampled_from(("a", "b", ":", "a:", ":b", "ab")), st.none()), min_size=1, max_size=4).map(
    tuple
)


def _glob_names(glob: tuple[str | None, ...]) -> set[str]:
    holes = [i for i, p in enumerate(glob) if p is None]
    out = set()
    for values in itertools.product(("", *_VALUES, "a:b:c"), repeat=len(holes)):
        parts = list(glob)
        for i, value in zip(holes, values):
            parts[i] = value
        out.add("".join(p for p in parts if p is not None))
    return out


def _pattern_names(shape: Shape) -> set[str]:
    """Like _names, with the empty value too (a param may allow it)."""
    holes = [i for i, s in enumerate(shape.segments) if s is None]
    out = set()
    for values in itertools.product(("", *_VALUES), repeat=len(holes)):
        parts = list(shape.segments)
        for i, value in zip(holes, values):
            parts[i] = escape(value)
        out.add(":".join(p for p in parts if p is not None))
    return out


@settings(max_examples=300)
@given(_shape, _glob)
def test_glob_overlap_verdict_equals_brute_force(shape: Shape, glob: tuple[str | None, ...]) -> None:
    brute = bool(_pattern_names(shape) & _glob_names(glob))
    # Brute force only finds what its small alphabet can build; overlaps_glob must find at least that,
    # and never claim an overlap for globs without holes that brute force rules out.
    if brute:
        assert overlaps_glob(shape, glob)
    elif None not in glob:
        assert not overlaps_glob(shape, glob)


def test_pattern_errors_are_pattern_errors() -> None:
    with pytest.raises(PatternError):
        parse_pattern("{topic}")


# ---------------------------------------------------------------- 6.2 rooms that overlap


def test_a_bare_param_room_is_refused(project: Path) -> None:
    """The access bypass: `{topic}` with authenticated access let anyone join user:carol."""
    write_spec(
        project,
        "topic",
        """
        name: topic
        rooms:
          any:
            pattern: "{topic}"
            access: authenticated
        events:
          - name: topic:join
            direction: client_to_server
            action: join
            room: any
            payload:
              topic: str
        """,
    )
    out = refused(project, "generate")
    assert "events/topic.yaml:4:" in out and "starts with a parameter" in out


def test_two_specs_whose_rooms_overlap_are_refused_naming_both(project: Path) -> None:
    """A second spec opening a room another guards with a callable."""
    write_spec(
        project,
        "notes",
        """
        name: notes
        rooms:
          note:
            pattern: "note:{note_id}"
            access: open_webui.socket.access:can_read_feature
        events:
          - name: notes:open
            direction: client_to_server
            action: join
            room: note
            payload:
              note_id: str
        """,
    )
    write_spec(
        project,
        "sneaky",
        """
        name: sneaky
        rooms:
          peek:
            pattern: "note:{nid}"
            access: authenticated
        events:
          - name: sneaky:peek
            direction: client_to_server
            action: join
            room: peek
            payload:
              nid: str
        """,
    )
    out = refused(project, "validate")
    assert re.search(
        r"events/sneaky\.yaml:4:\d+: room 'peek' \(note:\{nid\}\) can build the same names as room 'note' \(note:\{note_id\}\) at events/notes\.yaml:4",
        out,
    ), out
    refused(project, "generate")


@pytest.mark.parametrize(
    "a, b, clash",
    [
        ("note:{x}", "note:{y}", True),
        ("note:{x}", "note:fixed", True),
        ("note:{x}:a", "note:b:{y}", True),
        ("note:{x}", "note:{x}:sub", False),
        ("note:{x}", "notes:{x}", False),
        ("note:a:{x}", "note:b:{x}", False),
    ],
)
def test_overlap_of_patterns_in_one_spec(project: Path, a: str, b: str, clash: bool) -> None:
    write_spec(
        project,
        "pair",
        f"""
        name: pair
        rooms:
          one:
            pattern: "{a}"
            access: authenticated
          two:
            pattern: "{b}"
            access: authenticated
        events:
          - name: pair:ping
            direction: server_to_client
            broadcast: true
        """,
    )
    run = eventgen(project, "validate")
    assert (run.exit == 2) == clash, run.output
    if clash:
        assert "events/pair.yaml:7:" in run.output and "can build the same names" in run.output


USER_ROOM_SPEC = """
name: inbox
rooms:
  inbox:
    pattern: "user:{user_id}"
{extra}
events:
  - name: inbox:message
    direction: server_to_client
    room: inbox
    payload:
      user_id: str
      text: str
"""


@pytest.mark.parametrize(
    "entered",
    [
        "f\"user:{user['id']}\"",  # the base module's own, kept as is
        '"user:" + user["id"]',
        '"user:{}".format(user["id"])',
        '"user:%s" % user["id"]',
        "user_room(user['id'])",
        "room=f\"user:{user['id']}\"",
        '":".join(["user", user["id"]])',
        "USER_PREFIX + user['id']",
        "built_room(user['id'])",
    ],
    ids=[
        "f-string",
        "concatenation",
        "format",
        "percent",
        "helper-function",
        "keyword",
        "str-join",
        "module-constant",
        "local-variable",
    ],
)
def test_a_room_the_app_enters_by_hand_must_be_declared_owner_app(project: Path, entered: str) -> None:
    main = project / SOCKET_MODULE
    text = main.read_text()
    line = text.splitlines().index("        await sio.enter_room(sid, f\"user:{user['id']}\")") + 1
    call = f"await sio.enter_room(sid, {entered})"
    text = text.replace("await sio.enter_room(sid, f\"user:{user['id']}\")", call)
    text += '\n\ndef user_room(user_id):\n    """The room of one user."""\n    return f"user:{user_id}"\n'
    text += '\n\nUSER_PREFIX = "user:"\n\n\ndef built_room(user_id):\n    room = f"user:{user_id}"\n    return room\n'
    main.write_text(text)
    write_spec(project, "inbox", USER_ROOM_SPEC.replace("{extra}", ""))
    out = refused(project, "generate")
    assert (
        f"events/inbox.yaml:4:14: room 'inbox' (user:{{user_id}}) can build a name of a room the app enters by hand at {SOCKET_MODULE}:{line}"
        in out
    ), out
    assert "owner: app" in out
    refused(project, "check")

    write_spec(project, "inbox", USER_ROOM_SPEC.replace("{extra}", "    owner: app"))
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    assert eventgen(project, "check").exit == 0


def test_an_app_owned_room_gets_no_join_or_leave(project: Path) -> None:
    write_spec(
        project,
        "inbox",
        """
        name: inbox
        rooms:
          inbox:
            pattern: "user:{user_id}"
            owner: app
        events:
          - name: inbox:watch
            direction: client_to_server
            action: join
            room: inbox
            payload:
              user_id: str
          - name: inbox:unwatch
            direction: client_to_server
            action: leave
            room: inbox
            payload:
              user_id: str
        """,
    )
    out = refused(project, "validate")
    assert "events/inbox.yaml:9:" in out and "events/inbox.yaml:15:" in out
    assert "the app decides who is in it; eventgen generates no join for it" in out
    assert "generates no leave for it" in out


def test_an_app_owned_room_serves_relays_and_listeners_without_a_join(project: Path) -> None:
    write_spec(
        project,
        "inbox",
        """
        name: inbox
        rooms:
          inbox:
            pattern: "user:{user_id}"
            owner: app
        events:
          - name: inbox:say
            direction: client_to_server
            action: relay
            room: inbox
            payload:
              user_id: str
              text: str
            listener: InboxChat
          - name: inbox:message
            direction: server_to_client
            room: inbox
            payload:
              user_id: str
            listener: InboxChat
        """,
    )
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    main = (project / SOCKET_MODULE).read_text()
    assert "enter_room(sid, room)" not in main and "leave_room" not in main
    assert "if room not in sio.rooms(sid):" in main  # the relay still checks membership


# ---------------------------------------------------------------- 6.3 names the code binds

HELPER_SPEC = """
name: feature
rooms:
  feature:
    pattern: "feature:{feature_id}"
    access: authenticated
events:
  - name: feature:updated
    direction: server_to_client
    room: feature
    payload:
      feature_id: str
    emit:
      helper: notify_x
"""
HELPER_LINE = 13  # `helper: notify_x`

BINDING_FORMS = {
    "def": "def notify_x():\n    pass\n",
    "async-def": "async def notify_x():\n    pass\n",
    "class": "class notify_x:\n    pass\n",
    "assign": "notify_x = None\n",
    "chained-assign": "a = notify_x = None\n",
    "annotated": "notify_x: int = 1\n",
    "annotated-bare": "notify_x: int\n",
    "augmented": "notify_x += 1\n",
    "tuple-target": "(a, notify_x) = (1, 2)\n",
    "star-target": "a, *notify_x = [1, 2]\n",
    "import": "import notify_x\n",
    "import-as": "import json as notify_x\n",
    "from-import": "from json import loads as notify_x\n",
    "import-in-if": "if True:\n    from json import loads as notify_x\n",
    "import-in-try": "try:\n    from json import loads as notify_x\nexcept ImportError:\n    pass\n",
    "for-target": "for notify_x in []:\n    pass\n",
    "with-target": "with open('x') as notify_x:\n    pass\n",
    "walrus": "if (notify_x := 1):\n    pass\n",
    "walrus-in-comprehension": "_ = [(notify_x := i) for i in range(1)]\n",
    "except-as": "try:\n    pass\nexcept Exception as notify_x:\n    pass\n",
    "global-in-function": "def setup():\n    global notify_x\n    notify_x = 1\n",
    "match-capture": "match 1:\n    case notify_x:\n        pass\n",
}


@pytest.mark.parametrize("form", sorted(BINDING_FORMS))
def test_a_helper_that_would_rebind_a_module_name_is_refused(project: Path, form: str) -> None:
    code = BINDING_FORMS[form]
    line = append_to(project, SOCKET_MODULE, "\n" + code) + 1
    write_spec(project, "feature", HELPER_SPEC)
    out = refused(project, "generate")
    binding_line = line + next(i for i, text in enumerate(code.splitlines()) if "notify_x" in text)
    assert f"events/feature.yaml:{HELPER_LINE}:" in out, out
    assert f"{SOCKET_MODULE}:{binding_line} already binds 'notify_x'" in out, out


@pytest.mark.parametrize("name", ["SESSION_POOL", "sio", "app", "log", "decode_token", "get_session_user", "mgr"])
def test_helpers_named_like_the_apps_own_objects_are_refused(project: Path, name: str) -> None:
    write_spec(project, "feature", HELPER_SPEC.replace("notify_x", name))
    out = refused(project, "generate")
    assert f"events/feature.yaml:{HELPER_LINE}:" in out and f"already binds '{name}'" in out, out


def test_a_generated_handler_name_the_module_binds_is_refused_at_the_event(project: Path) -> None:
    append_to(project, SOCKET_MODULE, "\non_feature_ping = None\n")
    write_spec(
        project,
        "feature",
        """
        name: feature
        events:
          - name: feature:ping
            direction: client_to_server
            action: handle
            handler: open_webui.socket.pings:ping
        """,
    )
    out = refused(project, "generate")
    assert "events/feature.yaml:3:" in out and "already binds 'on_feature_ping'" in out, out


def test_a_helper_the_router_binds_is_refused(project: Path) -> None:
    line = append_to(project, ROUTER, "\n\ndef notify_x():\n    pass\n") + 2
    spec = HELPER_SPEC + textwrap.indent(
        "from:\n  - file: backend/open_webui/routers/features.py\n    function: update_feature\n    after: Features.update_feature\n    args: {feature_id: feature_id}\n",
        "      ",
    )
    write_spec(project, "feature", spec)
    out = refused(project, "generate")
    assert f"events/feature.yaml:{HELPER_LINE}:" in out and f"{ROUTER}:{line} already binds 'notify_x'" in out, out


def test_a_rename_into_a_bound_name_is_refused_on_a_later_run(project: Path) -> None:
    """Checked on every run, not only when a region is first placed."""
    write_spec(project, "feature", HELPER_SPEC)
    assert eventgen(project, "generate").exit == 0
    write_spec(project, "feature", HELPER_SPEC.replace("notify_x", "get_session_user"))
    out = refused(project, "generate")
    assert "already binds 'get_session_user'" in out


def test_an_access_callable_named_like_a_module_name_is_imported_under_an_alias(project: Path) -> None:
    (project / "backend/open_webui/socket/access.py").write_text(
        "def get_session_user(user, **params):\n    return True\n\n\ndef can_read_feature(user, feature_id):\n    return True\n"
    )
    write_spec(
        project,
        "feature",
        """
        name: feature
        rooms:
          feature:
            pattern: "feature:{feature_id}"
            access: open_webui.socket.access:get_session_user
        events:
          - name: feature:subscribe
            direction: client_to_server
            action: join
            room: feature
            payload:
              feature_id: str
        """,
    )
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    main = (project / SOCKET_MODULE).read_text()
    assert "from open_webui.socket.access import get_session_user as get_session_user__open_webui_socket_access" in main
    assert "def get_session_user(sid):" in main  # the app's own, still there and still the one bound


# ---------------------------------------------------------------- 6.4 events the code handles

REGISTRATION_FORMS = {
    "decorator": '@sio.on("feature:ping")\nasync def legacy(sid, data=None):\n    pass\n',
    "decorator-keyword": '@sio.on(event="feature:ping")\nasync def legacy(sid, data=None):\n    pass\n',
    "call-with-handler": 'async def legacy(sid, data=None):\n    pass\n\n\nsio.on("feature:ping", legacy)\n',
    "call-then-apply": 'async def legacy(sid, data=None):\n    pass\n\n\nsio.on("feature:ping")(legacy)\n',
    "in-if": 'if True:\n    @sio.on("feature:ping")\n    async def legacy(sid, data=None):\n        pass\n',
    "in-try": 'try:\n    sio.on("feature:ping", print)\nexcept Exception:\n    pass\n',
    "in-function": 'def register():\n    sio.on("feature:ping", print)\n',
    "namespace": (
        "class Legacy(socketio.AsyncNamespace):\n    async def on_feature_ping(self, sid, data=None):\n        pass\n\n\n"
        'sio.register_namespace(Legacy("/"))\n'
    ),
    "namespace-keyword-annotated": (
        "class Legacy(socketio.AsyncNamespace):\n    async def on_feature_ping(self, sid, data=None):\n        pass\n\n\n"
        '_ns: Legacy = Legacy("/")\nsio.register_namespace(namespace_handler=_ns)\n'
    ),
    "namespace-inherited": (
        "class Base(socketio.AsyncNamespace):\n    async def on_feature_ping(self, sid, data=None):\n        pass\n\n\n"
        'class Legacy(Base):\n    pass\n\n\nsio.register_namespace(Legacy("/"))\n'
    ),
    "server-alias": 'server = sio\n\n\n@server.on("feature:ping")\nasync def legacy(sid, data=None):\n    pass\n',
    "on-alias": 'on = sio.on\n\n\n@on("feature:ping")\nasync def legacy(sid, data=None):\n    pass\n',
}


def _ping_spec(event: str) -> str:
    return f"""
    name: feature
    events:
      - name: {event}
        direction: client_to_server
        action: handle
        handler: open_webui.socket.pings:ping
    """


@pytest.mark.parametrize("form", sorted(REGISTRATION_FORMS))
def test_an_event_the_code_already_handles_is_refused(project: Path, form: str) -> None:
    code = REGISTRATION_FORMS[form]
    event = "feature_ping" if form.startswith("namespace") else "feature:ping"
    first = append_to(project, SOCKET_MODULE, "\n\n" + code) + 2
    line = first + next(
        i for i, text in enumerate(code.splitlines()) if "feature:ping" in text or "on_feature_ping" in text
    )
    write_spec(project, "feature", _ping_spec(event))
    out = refused(project, "generate")
    assert "events/feature.yaml:3:" in out and f"is already handled at {SOCKET_MODULE}:{line}" in out, out


@pytest.mark.parametrize(
    "code",
    [
        '@sio.on("feature:ping", namespace="/admin")\nasync def legacy(sid, data=None):\n    pass\n',
        'class Chat(socketio.AsyncNamespace):\n    async def on_feature_ping(self, sid, data=None):\n        pass\n\n\nsio.register_namespace(Chat("/chat"))\n',
    ],
    ids=["on-other-namespace", "namespace-object-elsewhere"],
)
def test_handlers_on_another_namespace_do_not_collide(project: Path, code: str) -> None:
    append_to(project, SOCKET_MODULE, "\n\n" + code)
    write_spec(project, "feature", _ping_spec("feature_ping" if "class" in code else "feature:ping"))
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output


def test_event_decorator_registers_the_function_name(project: Path) -> None:
    append_to(project, SOCKET_MODULE, "\n\n@sio.event\nasync def feature_ping(sid, data=None):\n    pass\n")
    write_spec(project, "feature", _ping_spec("feature_ping"))
    out = refused(project, "generate")
    assert "is already handled" in out and "by @sio.event (feature_ping)" in out


def test_a_router_that_registers_a_handler_counts_too(project: Path) -> None:
    append_to(
        project,
        ROUTER,
        '\n\nfrom open_webui.socket.main import sio\n\n\n@sio.on("feature:ping")\nasync def legacy(sid, data=None):\n    pass\n',
    )
    write_spec(project, "feature", _ping_spec("feature:ping"))
    out = refused(project, "generate")
    assert f"is already handled at {ROUTER}:" in out


def test_renaming_a_generated_event_to_a_hand_written_one_is_refused(project: Path) -> None:
    """The renamed spec event used to replace the legacy `user-list` handler with exit 0."""
    write_spec(project, "feature", _ping_spec("feature:ping"))
    assert eventgen(project, "generate").exit == 0
    write_spec(project, "feature", _ping_spec("user-list"))
    out = refused(project, "generate")
    line = (project / SOCKET_MODULE).read_text().splitlines().index(
        '@sio.on("user-list")  # legacy dashed name, still used by the sidebar'
    ) + 1
    assert f"event 'user-list' is already handled at {SOCKET_MODULE}:{line} by @sio.on (user_list)" in out
    refused(project, "check")


def test_list_shows_every_registration_form_as_unmanaged(project: Path) -> None:
    for code in REGISTRATION_FORMS.values():
        append_to(project, SOCKET_MODULE, "\n\n" + code.replace("feature:ping", f"legacy:{len(code)}"))
    run = eventgen(project, "list", "--format", "json")
    assert run.exit == 0, run.output
    names = set(re.findall(r'"name": "([^"]+)"', run.stdout))
    assert {
        f"legacy:{len(code)}" for form, code in REGISTRATION_FORMS.items() if not form.startswith("namespace")
    } <= names
    assert "feature_ping" in names  # the namespace method on_feature_ping


def test_message_is_reserved(project: Path) -> None:
    write_spec(project, "feature", _ping_spec("message"))
    out = refused(project, "validate")
    assert "events/feature.yaml:3:" in out and "reserved by Socket.IO" in out


# ---------------------------------------------------------------- 6.5 handler modules


@pytest.mark.parametrize(
    "handler, what",
    [
        ("json:loads", "standard library"),
        ("asyncio.tasks:x", "standard library"),
        ("pydantic.extra:f", "installed package"),
    ],
)
def test_a_handler_module_that_would_shadow_an_importable_module_is_refused(
    project: Path, handler: str, what: str
) -> None:
    write_spec(project, "feature", _ping_spec("feature:ping").replace("open_webui.socket.pings:ping", handler))
    out = refused(project, "generate")
    assert "events/feature.yaml:6:" in out and what in out, out
    assert not (project / "backend" / "json.py").exists()


# ---------------------------------------------------------------- the attacks of issue 11, on the example app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"

ATTACKS = {
    # Any user joins any room: user:carol, feature:f2 ...
    "bare-param-room": (
        'rooms:\n  any:\n    pattern: "{topic}"\n    access: authenticated\n',
        "topic:join",
        "join",
        "any",
        "topic: str",
        "starts with a parameter",
    ),
    # A second spec opens the room the feature spec guards with a callable.
    "reopened-room": (
        'rooms:\n  peek:\n    pattern: "feature:{fid}"\n    access: authenticated\n',
        "peek:join",
        "join",
        "peek",
        "fid: str",
        "can build the same names as room 'feature'",
    ),
    # Generated leaves would take the app's own members out of user:{id}.
    "app-room": (
        'rooms:\n  me:\n    pattern: "user:{uid}"\n    access: authenticated\n',
        "me:leave",
        "leave",
        "me",
        "uid: str",
        "can build a name of a room the app enters by hand",
    ),
    # A renamed event replaces the legacy handler.
    "legacy-event": (
        "",
        "user-list",
        "handle",
        None,
        "n: int",
        "is already handled at backend/open_webui/socket/main.py",
    ),
    # A generated handler module shadows the standard library.
    "stdlib-handler": (
        "",
        "peek:json",
        "handle",
        None,
        "n: int",
        "would shadow Python's standard library module 'json'",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_attacks_on_the_example_app_are_refused_at_generate_time(tmp_path: Path, attack: str) -> None:
    rooms, event, action, room, field, message = ATTACKS[attack]
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    handler = "json:loads" if attack == "stdlib-handler" else "open_webui.socket.peek:run"
    lines = [
        "name: peek",
        rooms.rstrip("\n"),
        "events:",
        f"  - name: {event}",
        "    direction: client_to_server",
        f"    action: {action}",
    ]
    lines += [f"    room: {room}"] if room else [f"    handler: {handler}"]
    lines += ["    payload:", f"      {field}"]
    (app / "events" / "peek.yaml").write_text("\n".join(line for line in lines if line) + "\n")
    out = refused(app, "generate")
    assert message in out and "events/peek.yaml:" in out, out


@pytest.mark.parametrize("helper", ["SESSION_POOL", "sio", "app", "log", "Users", "decode_token", "get_user_room"])
def test_helpers_named_like_the_example_apps_objects_are_refused(tmp_path: Path, helper: str) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    spec = (app / "events" / "feature.yaml").read_text().replace("helper: notify_feature_update", f"helper: {helper}")
    (app / "events" / "feature.yaml").write_text(spec)
    out = refused(app, "generate")
    assert f"already binds '{helper}'" in out, out


def test_a_client_chosen_hole_can_span_segments(project: Path) -> None:
    """Open WebUI's ydoc join enters f"doc_{document_id}" for any id a client sends: document_id
    "secret:x1" puts the client in doc_secret:x1, a spec room guarded by a callable."""
    append_to(
        project,
        SOCKET_MODULE,
        '\n\n@sio.on("ydoc:document:join")\nasync def ydoc_join(sid, data):\n    await sio.enter_room(sid, f"doc_{data[\'document_id\']}")\n',
    )
    write_spec(
        project,
        "docn",
        """
        name: docn
        rooms:
          secret:
            pattern: "doc_secret:{sid_id}"
            access: open_webui.socket.access:can_read_feature
        events:
          - name: docn:join
            direction: client_to_server
            action: join
            room: secret
            payload:
              sid_id: str
        """,
    )
    out = refused(project, "generate")
    assert "events/docn.yaml:4:" in out and "can build a name of a room the app enters by hand" in out, out


def test_a_room_with_other_literal_text_is_not_the_apps(project: Path) -> None:
    append_to(
        project,
        SOCKET_MODULE,
        '\n\n@sio.on("ydoc:document:join")\nasync def ydoc_join(sid, data):\n    await sio.enter_room(sid, f"doc_{data[\'document_id\']}")\n',
    )
    write_spec(
        project,
        "lobby",
        "name: lobby\nrooms:\n  lobby:\n    pattern: lobby\n    access: authenticated\nevents:\n  - name: lobby:join\n    direction: client_to_server\n    action: join\n    room: lobby\n",
    )
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output


@pytest.mark.parametrize(
    "code",
    [
        'async def join_note(sid, note_id):\n    room = f"note:{note_id}"\n    await sio.enter_room(sid, room)\n',
        'async def join_note(sid, note_id):\n    await sio.manager.enter_room(sid, "/", f"note:{note_id}")\n',
        "async def enter_room_for_users(room, sids):\n    for sid in sids:\n        await sio.enter_room(sid, room)\n\n\n"
        'async def share(note_id, sids):\n    await enter_room_for_users(f"note:{note_id}", sids)\n',
    ],
    ids=["local-variable", "manager", "room-parameter"],
)
def test_more_ways_of_entering_a_room_by_hand(project: Path, code: str) -> None:
    line = append_to(project, SOCKET_MODULE, "\n\n" + code) + 2
    write_spec(
        project,
        "note",
        'name: note\nrooms:\n  note:\n    pattern: "note:{note_id}"\n    access: authenticated\nevents:\n  - name: note:join\n    direction: client_to_server\n    action: join\n    room: note\n    payload:\n      note_id: str\n',
    )
    out = refused(project, "generate")
    # Reported where the room is entered: the enter_room call, or the call site of the function that enters it.
    entered = line + max(i for i, text in enumerate(code.splitlines()) if "enter_room" in text)
    assert "events/note.yaml:4:" in out and f"by hand at {SOCKET_MODULE}:{entered} " in out, out


def test_a_router_calling_the_apps_room_function_counts(project: Path) -> None:
    """Upstream Open WebUI: routers call enter_room_for_users(f"group:{id}", user_ids) from socket.main."""
    append_to(
        project,
        SOCKET_MODULE,
        "\n\nasync def enter_room_for_users(room, sids):\n    for sid in sids:\n        await sio.enter_room(sid, room)\n",
    )
    line = (
        append_to(
            project,
            ROUTER,
            '\n\nfrom open_webui.socket.main import enter_room_for_users\n\n\nasync def share(group_id, sids):\n    await enter_room_for_users(f"group:{group_id}", sids)\n',
        )
        + 6
    )
    write_spec(
        project,
        "group",
        'name: group\nrooms:\n  group:\n    pattern: "group:{group_id}"\n    access: authenticated\nevents:\n  - name: group:join\n    direction: client_to_server\n    action: join\n    room: group\n    payload:\n      group_id: str\n',
    )
    out = refused(project, "generate")
    assert f"{ROUTER}:{line}" in out, out


# ---------------------------------------------------------------- found by the attacker review


def test_callables_named_like_the_handlers_locals_are_imported_under_an_alias(project: Path) -> None:
    (project / "backend/open_webui/socket/access.py").write_text("def room(session, feature_id):\n    return True\n")
    (project / "backend/open_webui/socket/tasks.py").write_text("async def data(user, payload, sid):\n    return 1\n")
    write_spec(
        project,
        "feature",
        """
        name: feature
        rooms:
          feature:
            pattern: "feature:{feature_id}"
            access: open_webui.socket.access:room
        events:
          - name: feature:subscribe
            direction: client_to_server
            action: join
            room: feature
            payload:
              feature_id: str
          - name: feature:task
            direction: client_to_server
            action: handle
            handler: open_webui.socket.tasks:data
        """,
    )
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    main = (project / SOCKET_MODULE).read_text()
    assert "from open_webui.socket.access import room as room__open_webui_socket_access" in main
    assert "allowed(room__open_webui_socket_access, user," in main
    # Handlers are imported by reference on their first call: no module-level name at all.
    assert "import data" not in main
    assert 'call(eventgen_models.handler("open_webui.socket.tasks:data"), user, payload, sid,' in main


def test_a_helper_the_endpoint_binds_itself_is_refused(tmp_path: Path) -> None:
    """`feature = Features.update_feature(...)` then `await feature(...)`: a 500 after the update."""
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    spec = (app / "events" / "feature.yaml").read_text().replace("helper: notify_feature_update", "helper: feature")
    (app / "events" / "feature.yaml").write_text(spec)
    out = refused(app, "generate")
    assert (
        "is called inside update_feature() (emit.from[0]), which binds 'feature' itself at backend/open_webui/routers/features.py:"
        in out
    ), out


def test_an_access_callable_whose_first_parameter_is_a_room_param_is_refused(project: Path) -> None:
    (project / "backend/open_webui/socket/access.py").write_text("def can_enter(user, **params):\n    return True\n")
    write_spec(
        project,
        "grid",
        """
        name: grid
        rooms:
          cell:
            pattern: "grid:{user}"
            access: open_webui.socket.access:can_enter
        events:
          - name: grid:enter
            direction: client_to_server
            action: join
            room: cell
            payload:
              user: str
        """,
    )
    out = refused(project, "generate")
    assert "events/grid.yaml:5:" in out and "can_enter() takes the session user as its first parameter 'user'" in out, (
        out
    )


def test_typescript_room_params_are_distinct_and_never_reserved_words() -> None:
    from generator.plan.frontend.events_ts import _ts_param_names

    assert _ts_param_names(["new", "delete", "feature_id", "featureId", "x"]) == {
        "new": "new1", "delete": "delete2", "feature_id": "featureId", "featureId": "featureId4", "x": "x",
    }  # fmt: skip


def test_a_handler_module_that_is_a_package_is_refused(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    (app / "events" / "ping.yaml").write_text(
        textwrap.dedent(_ping_spec("ping:me"))
        .lstrip()
        .replace("feature", "ping")
        .replace("open_webui.socket.pings:ping", "open_webui:do_it")
    )
    out = refused(app, "generate")
    assert "events/ping.yaml:6:" in out and "is a package (backend/open_webui/)" in out, out


def test_a_handler_in_a_module_that_imports_the_socket_module_works(tmp_path: Path) -> None:
    """Handlers are imported on their first call, so a router (which imports the socket module
    at its top) can hold one: the app imports, and the event is served."""
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit"))
    (app / "events" / "ping.yaml").write_text(
        textwrap.dedent(_ping_spec("ping:me"))
        .lstrip()
        .replace("feature", "ping")
        .replace("open_webui.socket.pings:ping", "open_webui.routers.features:do_it")
    )
    with open(app / "backend/open_webui/routers/features.py", "a") as router:
        router.write("\n\nasync def do_it(user, payload, sid):\n    return {'pong': user['id']}\n")
    run = eventgen(app, "generate")
    assert run.exit == 0, run.output
    code = (
        "import asyncio, open_webui.main\n"
        "from open_webui.socket import main as m\n"
        "m.SESSION_POOL['s1'] = {'id': 'alice', 'name': 'Alice'}\n"
        "print(asyncio.run(m.on_ping_me('s1', {})))\n"
    )
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], cwd=app / "backend", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "{'ok': True, 'data': {'pong': 'alice'}}" in proc.stdout, proc.stdout
