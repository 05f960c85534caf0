"""Hostile text renders safely (issue 8, item 3).

Free text in a spec (descriptions, room pattern text, enum and default values,
string literals in emit arguments) may hold quotes, triple quotes, Jinja syntax,
`</script>`, HTML comments, backslashes, U+2028/U+2029, control characters,
bidi overrides and emoji. The named filters in generator/render.py are checked
first, each against the real parser of its target (Python's, Node's JS, the
TypeScript compiler's, Svelte's); then a whole spec full of such text is
generated and its Python imported, its TypeScript type-checked and run, and its
Svelte component compiled. Names that would break generated identifiers are
refused with a position.
"""

from __future__ import annotations

import ast
import html as html_lib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import eventgen
from support.frontend import NODE_DIR, compile_svelte, require_node, tool
from support.hypothesis_profiles import examples
from support.project import MODELS_MODULE, ROUTER, SOCKET_MODULE, TOKEN_APP, make_project
from support.tree import snapshot

from generator.render import html, js_doc, js_str, py_comment, py_doc, py_str, py_value, render
from generator.text_safety import one_line, unsafe

# Each one breaks some naive template: a quote that ends a literal, a sequence that ends a comment
# or a <script>, text a second Jinja pass would execute, a character some reader takes for a newline.
HOSTILE = {
    "quotes": "it's \"quoted\" and 'single'",
    "triple quotes": 'a """docstring""" and \'\'\'another\'\'\' end"',
    "jinja": "{{ 7*7 }} {% if true %}yes{% endif %} {# hidden #} {{ config.items() }}",
    "script end": "</script><script>alert(1)</script>",
    "html comment": "<!-- open and close --> and a bare -->",
    "backslashes": "C:\\path\\new\\table \\n \\x00 \\u2028 and a trailing \\",
    "line separators": "one\u2028two\u2029three",
    "control characters": "nul\x00 bell\x07 esc\x1b[31m del\x7f vt\x0b ff\x0c fs\x1c c1\x85",
    "emoji": "ship it 🚀 👩\u200d👩\u200d👧 ß ∑ 中文",
    "bidi override": "access = \u202euser\u202c \u2066admin\u2069",
    "comment enders": "*/ closes a JS comment, /* opens one, # starts a Python one",
    "template syntax": "${alert(1)} `backticks` {svelte} {@html '<b>'}",
    "newlines": "line one\nline two\r\nline three\rfour\ttab",
    "lone surrogate": "broken \ud800 pair",
    "byte order mark": "\ufeffstarts with a BOM",
}
FRAGMENTS = list(HOSTILE.values()) + ['"', "'", "\\", "\n", "{{", "}}", "</", "<!--", "-->", "*/", "\u2028", "\x00"]

any_char = st.characters(exclude_categories=())  # surrogates and unassigned code points included
hostile_text = st.one_of(
    st.text(any_char, max_size=40),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(any_char, max_size=3)), max_size=8).map("".join),
)


# -- the filters, against Python's parser -----------------------------------------


def _clean(text: str) -> bool:
    """Encodable, and no character that must not reach a file raw."""
    text.encode("utf-8")
    return not any(unsafe(ch) for ch in text)


@settings(max_examples=examples(300))
@given(hostile_text)
def test_py_str_is_a_python_literal_of_exactly_the_text(text: str) -> None:
    literal = py_str(text)
    assert ast.literal_eval(literal) == text
    assert _clean(literal) and len(literal.splitlines()) == 1


@settings(max_examples=examples(300))
@given(hostile_text)
def test_py_doc_is_a_docstring_holding_the_one_line_text(text: str) -> None:
    source = f'def f():\n    """{py_doc(text)}"""\n'
    tree = ast.parse(source)
    assert ast.get_docstring(tree.body[0], clean=False) == one_line(text)  # type: ignore[arg-type]
    assert _clean(py_doc(text)) and len(source.splitlines()) == 2


@settings(max_examples=examples(300))
@given(hostile_text)
def test_py_comment_stays_a_comment(text: str) -> None:
    source = f"x = 1  # {py_comment(text)}\ny = 2\n"
    assert [type(node) for node in ast.parse(source).body] == [ast.Assign, ast.Assign]
    assert _clean(py_comment(text)) and len(source.splitlines()) == 2


@settings(max_examples=examples(100))
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | hostile_text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
        max_leaves=8,
    )
)
def test_py_value_is_a_python_literal_of_exactly_the_value(value: object) -> None:
    literal = py_value(value)
    assert ast.literal_eval(literal) == value
    assert _clean(literal)


def test_one_line_text_is_one_printable_line() -> None:
    for text in HOSTILE.values():
        line = one_line(text)
        assert _clean(line) and line == line.strip() and "  " not in line and len(line.splitlines()) <= 1


def test_jinja_syntax_in_values_is_never_executed() -> None:
    """Templates render values as data: `{{ 7*7 }}` in a description stays that text."""
    out = render(
        "python/handler_stub.py.j2",
        function="f",
        event=HOSTILE["jinja"],
        spec_path="events/x.yaml",
        model="m.M",
        todo=HOSTILE["jinja"],
    )
    assert "49" not in out
    assert out.count(HOSTILE["jinja"]) == 2, "both values come out as written"


# -- the filters, against JavaScript, TypeScript and Svelte parsers ---------------

_NODE_CHECK = r"""
import ts from 'typescript';
import * as svelte from 'svelte/compiler';
const input = JSON.parse(require_stdin());
function require_stdin() { return (await_stdin()); }
function await_stdin() { const fs = globalThis.__fs; return fs.readFileSync(0, 'utf8'); }
const out = { literals: [], docs: [], markup: [] };
for (const lit of input.literals) {
  out.literals.push({ js: (0, eval)('(' + lit + ')'), json: JSON.parse(lit) });
}
for (const doc of input.docs) {
  const src = '/** ' + doc + ' */\nexport const x = 1;\n';
  const sf = ts.createSourceFile('a.ts', src, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const ranges = ts.getLeadingCommentRanges(src, 0) || [];
  out.docs.push({
    errors: sf.parseDiagnostics.length,
    statements: sf.statements.length,
    comment: ranges.length === 1 ? src.slice(ranges[0].pos, ranges[0].end) : null,
  });
}
for (const [doc, text] of input.markup) {
  const src = '<script lang="ts">\n\t/** ' + doc + ' */\n\tconst x: number = 1;\n</script>\n\n<p title="' + text + '">' + text + '</p>\n';
  let error = null, body = null, data = null, title = null;
  try {
    svelte.compile(src, { filename: 'X.svelte' });
    const ast = svelte.parse(src, { modern: true });
    body = ast.instance.content.body.length;
    const p = ast.fragment.nodes.find((n) => n.type === 'RegularElement');
    data = p.fragment.nodes.map((n) => n.data).join('');
    title = p.attributes[0].value.map((n) => n.data).join('');
  } catch (e) {
    error = String(e.message || e);
  }
  out.markup.push({ error, body, data, title });
}
process.stdout.write(JSON.stringify(out));
"""


def _node_check(literals: list[str], docs: list[str], markup: list[tuple[str, str]]) -> dict[str, list]:
    node = require_node()
    script = "import * as fs from 'node:fs'; globalThis.__fs = fs;\n" + _NODE_CHECK
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps({"literals": literals, "docs": docs, "markup": markup}),
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.node
@settings(max_examples=examples(6))
@given(st.lists(hostile_text, min_size=1, max_size=40))
def test_js_filters_against_node_typescript_and_svelte(texts: list[str]) -> None:
    texts = texts + list(HOSTILE.values())
    literals = [js_str(t) for t in texts]
    docs = [js_doc(t) for t in texts]
    result = _node_check(literals, docs, [(js_doc(t), html(t)) for t in texts])
    for text, literal, evaluated in zip(texts, literals, result["literals"], strict=True):
        assert evaluated == {"js": text, "json": text}, literal
        assert _clean(literal) and "</" not in literal and "<!--" not in literal
    for text, doc, parsed in zip(texts, docs, result["docs"], strict=True):
        assert parsed == {"errors": 0, "statements": 1, "comment": f"/** {doc} */"}, text
        assert _clean(doc)
    for text, checked in zip(texts, result["markup"], strict=True):
        visible = "".join(" " if unsafe(ch) and ch not in "\t\n\r" else ch for ch in text)
        assert checked == {"error": None, "body": 1, "data": visible, "title": visible}, text


def test_html_escapes_markup_svelte_braces_and_comment_dashes() -> None:
    for text in HOSTILE.values():
        out = html(text)
        assert not set(out) & set("<>{}\"'") and "--" not in out
        assert html_lib.unescape(out) == "".join(" " if unsafe(ch) and ch not in "\t\n\r" else ch for ch in text)


# -- a whole spec full of hostile text --------------------------------------------

# Every hostile piece at once, except a lone surrogate: specs refuse it (tested below).
H = "".join(text for name, text in HOSTILE.items() if name != "lone surrogate")
# A room pattern holds 200 characters at most, and its braces are parameters.
ROOM_TEXT = 'q"\'\\ """ (( x )) </script><!-- --> \u2028\u2029 \x00\x1b\x7f \u202e 🚀 $(x) */ # \\'


def _yaml_str(text: str) -> str:
    """A YAML double-quoted scalar with every non-printable character escaped."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '\\"':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def hostile_spec(text: str) -> str:
    q = _yaml_str(text)
    return textwrap.dedent(
        f"""\
        name: feature
        description: {q}
        rooms:
          feature:
            pattern: {_yaml_str("feat " + ROOM_TEXT + ":{feature_id}:end " + ROOM_TEXT)}
            access: open_webui.socket.access:can_read_feature
        events:
          - name: feature:subscribe
            description: {q}
            direction: client_to_server
            action: join
            room: feature
            payload:
              feature_id: {{type: str, min_length: 1, max_length: 128, description: {q}}}
              kind: {{type: str, enum: [{q}, plain], default: {q}}}
          - name: feature:unsubscribe
            direction: client_to_server
            action: leave
            room: feature
            payload:
              feature_id: str
          - name: feature:updated
            description: {q}
            direction: server_to_client
            room: feature
            payload:
              feature_id: str
              data: {{type: dict, description: {q}, default: {{{q}: [{q}]}}}}
              kind: {{type: str, enum: [{q}, plain]}}
            emit:
              helper: notify_feature_update
              from:
                - file: backend/open_webui/routers/features.py
                  function: update_feature
                  after: Features.update_feature
                  args: {{feature_id: feature_id, kind: {_yaml_str(repr(text))}}}
            listener: FeatureUpdates
        """
    )


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(
        tmp_path_factory.mktemp("hostile") / "app", specs={"feature": hostile_spec(H)}, files=TOKEN_APP
    )
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    return project


def test_hostile_spec_generates_once_and_stays_in_sync(hostile_project: Path) -> None:
    before = snapshot(hostile_project)
    assert eventgen(hostile_project, "generate").stdout.startswith("eventgen: nothing to do")
    assert eventgen(hostile_project, "check").exit == 0
    assert snapshot(hostile_project) == before


def test_no_generated_file_holds_an_unsafe_character(hostile_project: Path) -> None:
    for rel in (
        SOCKET_MODULE,
        MODELS_MODULE,
        ROUTER,
        "src/lib/socket/events.ts",
        "src/lib/components/realtime/FeatureUpdates.svelte",
    ):
        text = (hostile_project / rel).read_text(encoding="utf-8")
        bad = sorted({f"U+{ord(ch):04X}" for ch in text if unsafe(ch) and ch not in "\n\t"})
        assert bad == [], f"{rel} holds {bad}"


_PROBE = r"""
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import open_webui.socket.event_models as m
import open_webui.socket.main as socket_main
import open_webui.routers.features as router
sent = []
async def record(event, data, room=None, **kw):
    sent.append([event, data, room])
socket_main.sio.emit = record  # the real server's emit, observed: no client is connected
asyncio.run(router.update_feature("f1", {}))
fields = m.FeatureSubscribePayload.model_fields
print(json.dumps({
    "doc": m.FeatureSubscribePayload.__doc__,
    "handler_doc": socket_main.on_feature_subscribe.__doc__,
    "description": fields["feature_id"].description,
    "enum": list(fields["kind"].annotation.__args__),
    "default": fields["kind"].default,
    "dict_default": m.FeatureUpdatedPayload.model_fields["data"].default,
    "room": m.feature_room(feature_id="ID"),
    "sent": sent,
}))
"""


def test_generated_python_imports_and_keeps_every_string_exact(hostile_project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(hostile_project / "backend")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["doc"] == f"Payload of `feature:subscribe` (client to server). {one_line(H)}"
    assert got["handler_doc"].endswith(one_line(H))
    assert got["description"] == H
    assert got["enum"] == [H, "plain"] and got["default"] == H
    assert got["dict_default"] == {H: [H]}
    assert got["room"] == f"feat {ROOM_TEXT}:ID:end {ROOM_TEXT}"
    assert got["sent"] == [
        ["feature:updated", {"feature_id": "f1", "data": {H: [H]}, "kind": H}, f"feat {ROOM_TEXT}:f1:end {ROOM_TEXT}"]
    ]


@pytest.mark.node
def test_generated_typescript_type_checks_and_keeps_every_string_exact(hostile_project: Path, tmp_path: Path) -> None:
    """tsc --strict accepts events.ts; the enum's literal type is exactly the text; the room builder returns it."""
    events = hostile_project / "src/lib/socket/events.ts"
    check = tmp_path / "check.ts"
    shutil_copy = tmp_path / "events.ts"
    shutil_copy.write_bytes(events.read_bytes())
    check.write_text(
        "import { featureRoom, type FeatureUpdatedPayload } from './events';\n"
        f"const kind: FeatureUpdatedPayload['kind'] = {json.dumps(H)};\n"
        "// @ts-expect-error: any other text is not the enum's literal\n"
        f"const wrong: FeatureUpdatedPayload['kind'] = {json.dumps(H + ' ')};\n"
        "export const out: string[] = [kind, wrong, featureRoom('ID')];\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            *tool("tsc"),
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "--skipLibCheck",
            str(check),
        ],
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    script = (
        "import ts from 'typescript'; import * as fs from 'node:fs';"
        f"const src = fs.readFileSync({json.dumps(str(shutil_copy))}, 'utf8');"
        "const js = ts.transpileModule(src, {compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022}}).outputText;"
        "const mod = await import('data:text/javascript;base64,' + Buffer.from(js).toString('base64'));"
        "process.stdout.write(JSON.stringify(mod.featureRoom('ID')));"
    )
    run = subprocess.run(
        [require_node(), "--input-type=module", "-e", script], capture_output=True, text=True, cwd=NODE_DIR, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == f"feat {ROOM_TEXT}:ID:end {ROOM_TEXT}"


@pytest.mark.node
def test_generated_svelte_listener_compiles_with_one_script_element(hostile_project: Path) -> None:
    component = hostile_project / "src/lib/components/realtime/FeatureUpdates.svelte"
    text = component.read_text(encoding="utf-8")
    # `<script` inside the script is inert; only `</script` would end it, and `<!--` would change how it ends.
    assert text.count("</script") == 1 and text.count("<!--") == 1 and text.startswith("<!-- eventgen:file")
    results = compile_svelte([{"file": str(component), "svelte": "5", "generate": "client"}])
    assert results[0]["error"] is None, results[0]


def test_a_lone_surrogate_anywhere_in_a_spec_is_refused_at_its_position(tmp_path: Path) -> None:
    """YAML's "\\ud800" escape makes text no UTF-8 file can hold (and pydantic cannot build a Literal of)."""
    spec = hostile_spec("plain").replace(
        'description: "plain"', f"description: {_yaml_str(HOSTILE['lone surrogate'])}", 1
    )
    spec = spec.replace('enum: ["plain", plain]', f"enum: [{_yaml_str(HOSTILE['lone surrogate'])}, plain]", 1)
    project = make_project(tmp_path / "app", specs={"feature": spec}, files=TOKEN_APP)
    before = snapshot(project)
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    message = (
        "this text holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not a character; remove it"
    )
    assert run.stderr.splitlines() == [
        f"events/feature.yaml:2:14: description: {message}",
        f"events/feature.yaml:15:32: events[0].payload.kind.enum[0]: {message}",
    ]
    assert snapshot(project) == before


# -- names that would break generated identifiers ---------------------------------

NAME_SPEC = """\
name: names
rooms:
  box: {{pattern: "box:{{box_id}}", access: authenticated}}
events:
  - name: {name}
    direction: server_to_client
    room: box
    payload:
      box_id: str
    emit: {{helper: {helper}}}
"""


@pytest.mark.parametrize(
    ("name", "helper", "expected"),
    [
        (
            "client",
            "send_box",
            "events/names.yaml:5:11: events[0].name: event name 'client' would name its payload model ClientPayload, a base class eventgen generates; choose another name",
        ),
        (
            "Server",
            "send_box",
            "events/names.yaml:5:11: events[0].name: event name 'Server' would name its payload model ServerPayload, a base class eventgen generates; choose another name",
        ),
        ('"a b"', "send_box", "events/names.yaml:5:11:"),
        ('"box:{x}"', "send_box", "events/names.yaml:5:11:"),
        ('"1box"', "send_box", "events/names.yaml:5:11:"),
        ('"b' + "x" * 64 + '"', "send_box", "events/names.yaml:5:11:"),
        ('"box\\u202eevil"', "send_box", "events/names.yaml:5:11:"),
        ('"bóx"', "send_box", "events/names.yaml:5:11:"),
        (
            "box:changed",
            "on_box_changed",
            "events/names.yaml:10:20: events[0].emit.helper: helper 'on_box_changed' may not start with 'on_': generated handlers use those names",
        ),
        (
            "box:changed",
            "eventgen_models",
            "events/names.yaml:10:20: events[0].emit.helper: helper 'eventgen_models' is the name the socket module imports the payload models under",
        ),
        (
            "box:changed",
            "print",
            "events/names.yaml:10:20: events[0].emit.helper: helper 'print' would hide Python's built-in print() in the socket module; choose another name",
        ),
    ],
)
def test_names_that_would_break_identifiers_are_refused_with_a_position(
    tmp_path: Path, name: str, helper: str, expected: str
) -> None:
    project = make_project(
        tmp_path / "app", specs={"names": NAME_SPEC.format(name=name, helper=helper)}, files=TOKEN_APP
    )
    before = snapshot(project)
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    assert run.stderr.startswith(expected), run.stderr
    assert "Traceback" not in run.output and snapshot(project) == before


def test_the_longest_allowed_event_name_generates_working_code(tmp_path: Path) -> None:
    name = "b" + "x:" * 31 + "z"  # 64 characters, the limit
    assert len(name) == 64
    project = make_project(
        tmp_path / "app", specs={"names": NAME_SPEC.format(name=f'"{name}"', helper="send_box")}, files=TOKEN_APP
    )
    run = eventgen(project, "generate")
    assert run.exit == 0, run.output
    compile((project / MODELS_MODULE).read_text(), MODELS_MODULE, "exec")


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("Field", "payload field 'Field' would hide the name Field that the generated models use"),
        ("str", "payload field 'str' would hide the name str that the generated models use"),
        ("json", "payload field 'json' would hide pydantic's BaseModel.json"),
        ("eventgen_models", "payload field 'eventgen_models' would hide the name eventgen_models"),
        ("sio", "payload field 'sio' would hide the Socket.IO server `sio` inside the emit helper send_box()"),
    ],
)
def test_payload_fields_that_would_shadow_generated_names_are_refused(
    tmp_path: Path, field: str, expected: str
) -> None:
    spec = NAME_SPEC.format(name="box:changed", helper="send_box").replace(
        "      box_id: str\n", f"      box_id: str\n      {field}: {{type: str, default: x}}\n"
    )
    project = make_project(tmp_path / "app", specs={"names": spec}, files=TOKEN_APP)
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    assert run.stderr.startswith("events/names.yaml:10:7: ") and expected in run.stderr, run.stderr


def test_room_functions_that_would_collide_across_specs_are_refused(tmp_path: Path) -> None:
    """Spec `c` room `b` and spec `c_b` room `c_b` would both define c_b_room(); one would silently win."""
    one = 'name: c\nrooms:\n  b: {pattern: "secret:{x}", access: self}\nevents:\n  - {name: c:go, direction: client_to_server, action: join, room: b, payload: {x: str}}\n'
    two = 'name: c_b\nrooms:\n  c_b: {pattern: "public:{x}", access: authenticated}\nevents:\n  - {name: cb:go, direction: client_to_server, action: join, room: c_b, payload: {x: str}}\n'
    project = make_project(tmp_path / "app", specs={"c": one, "c_b": two}, files=TOKEN_APP)
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    assert run.stderr.startswith("events/c_b.yaml:3:8: room function 'c_b_room' is already used at events/c.yaml:3"), (
        run.stderr
    )


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("feature_id  # the id", "contains a comment, which would swallow the rest of the call"),
        ("(yield feature_id)", "'yield' would turn the endpoint into a generator"),
        ("*feature_id", "is not a Python expression"),
        ('"a\u202eb"', "contains the control character U+202E"),
        ('"x\x1by"', "contains the control character U+001B"),
        ('"x\x0cy"', "must be a one-line expression"),
        ("a\u2028b", "must be a one-line expression"),
    ],
)
def test_emit_arguments_that_would_break_the_call_are_refused(tmp_path: Path, expr: str, expected: str) -> None:
    spec = hostile_spec("plain").replace(f"kind: {_yaml_str(repr('plain'))}", f"kind: {_yaml_str(expr)}")
    project = make_project(tmp_path / "app", specs={"feature": spec}, files=TOKEN_APP)
    run = eventgen(project, "generate")
    assert run.exit == 2, run.output
    assert run.stderr.startswith("events/feature.yaml:36:") and expected in run.stderr, run.stderr
