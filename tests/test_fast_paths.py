"""The performance shortcuts (issue 7) give the same answers as the slow paths they replace.

Each shortcut is compared with the code it stands in for, on inputs chosen to
sit where the two could part: statement shapes libcst and `ast` model
differently, line endings, regions in the file.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst
import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.cli import eventgen
from support.project import SOCKET_MODULE
from support.specs import FEATURE_SPEC_NO_CALL_SITES
from support.tree import snapshot, write_tree

from generator.markers import normalize_python
from generator.read.server import find_server_name
from generator.read.server_cst import find_server
from generator.render import html, js_str, one_line, py_str
from generator.text_safety import UNSAFE, unsafe

REGION = (
    "# eventgen:begin feature sha=0123456789ab -- generated from events/feature.yaml\n"
    '@sio.on("feature:subscribe")\n'
    "async def on_feature_subscribe(sid, data=None):\n"
    "    other = socketio.AsyncServer()\n"
    "    return None\n"
    "# eventgen:end feature\n"
)

# (id, source, name the user's code defines or None when there is no server to find)
SHAPES: list[tuple[str, str, str | None]] = [
    ("module level", "import socketio\nsio = socketio.AsyncServer(async_mode='asgi')\n", "sio"),
    ("bare name", "from socketio import AsyncServer\nserver = AsyncServer()\n", "server"),
    ("annotated", "import socketio\nsio: socketio.AsyncServer = socketio.AsyncServer()\n", "sio"),
    ("chained targets", "import socketio\na = b = socketio.AsyncServer()\n", "a"),
    ("tuple target first", "import socketio\nx, y = socketio.AsyncServer(), 1\nsio = socketio.AsyncServer()\n", "sio"),
    ("semicolons", "import socketio\nx = 1; sio = socketio.AsyncServer()\n", "sio"),
    ("parenthesized", "import socketio\nsio = (\n    socketio.AsyncServer()\n)\n", "sio"),
    (
        "if/else",
        "import socketio\nif M == 'redis':\n    mgr = 1\n    sio = socketio.AsyncServer(client_manager=mgr)\nelse:\n    sio = socketio.AsyncServer()\n",
        "sio",
    ),
    ("else only", "import socketio\nif M:\n    pass\nelse:\n    srv = socketio.AsyncServer()\n", "srv"),
    ("elif", "import socketio\nif A:\n    pass\nelif B:\n    s2 = socketio.AsyncServer()\n", "s2"),
    (
        "elif chain to else",
        "import socketio\nif A:\n    pass\nelif B:\n    pass\nelse:\n    s3 = socketio.AsyncServer()\n",
        "s3",
    ),
    (
        "if nested in else is not a branch",
        "import socketio\nif A:\n    pass\nelse:\n    if B:\n        s4 = socketio.AsyncServer()\n",
        None,
    ),
    ("one-line suite is skipped", "import socketio\nif A: s5 = socketio.AsyncServer()\n", None),
    ("one-line else is skipped", "import socketio\nif A:\n    pass\nelse: s6 = socketio.AsyncServer()\n", None),
    (
        "try body",
        "import socketio\ntry:\n    sio = socketio.AsyncServer()\nexcept ImportError:\n    sio = None\n",
        "sio",
    ),
    (
        "except handler",
        "import socketio\ntry:\n    import x\nexcept ImportError:\n    fb = socketio.AsyncServer()\n",
        "fb",
    ),
    (
        "try else",
        "import socketio\ntry:\n    import x\nexcept ImportError:\n    pass\nelse:\n    te = socketio.AsyncServer()\n",
        "te",
    ),
    (
        "finally is not searched",
        "import socketio\ntry:\n    import x\nfinally:\n    fin = socketio.AsyncServer()\n",
        None,
    ),
    (
        "nested deeper is not searched",
        "import socketio\nif A:\n    if B:\n        deep = socketio.AsyncServer()\n",
        None,
    ),
    (
        "in a function is not searched",
        "import socketio\ndef make():\n    sio = socketio.AsyncServer()\n    return sio\n",
        None,
    ),
    ("factory", "import socketio\nsio = make_server()\n", None),
    ("other class", "import socketio\nsio = socketio.Server()\n", None),
    ("attribute target", "import socketio\nstate.sio = socketio.AsyncServer()\n", None),
    (
        "first of two wins",
        "import socketio\nfirst = socketio.AsyncServer()\nsecond = socketio.AsyncServer()\n",
        "first",
    ),
    ("CRLF", "import socketio\r\nif A:\r\n    pass\r\nelse:\r\n    crlf = socketio.AsyncServer()\r\n", "crlf"),
    ("CR only", "import socketio\rif A:\r    pass\relse:\r    cr = socketio.AsyncServer()\r", "cr"),
    ("form feed", "import socketio\n\x0c\nif A:\n    pass\nelse:\n    ff = socketio.AsyncServer()\n", "ff"),
    ("tabs", "import socketio\nif A:\n\tpass\nelse:\n\ttab = socketio.AsyncServer()\n", "tab"),
    ("non-ASCII before", "import socketio\nif ü:\n    pass\nelse:\n    ü2 = socketio.AsyncServer()\n", "ü2"),
    ("no final newline", "import socketio\nsio = socketio.AsyncServer()", "sio"),
    (
        "after regions",
        "import socketio\n" + REGION + "sio = socketio.AsyncServer()\n" + REGION.replace("feature", "other"),
        "sio",
    ),
]


@pytest.mark.parametrize("source, expected", [(s, e) for _, s, e in SHAPES], ids=[i for i, _, _ in SHAPES])
def test_server_name_matches_libcst(source: str, expected: str | None) -> None:
    slow = find_server(libcst.parse_module(source))
    fast = find_server_name(source, "main.py")
    assert (slow[0] if slow else None) == expected
    # None hands the decision to libcst; a name must be libcst's name.
    assert fast == expected


def test_generated_regions_do_not_count() -> None:
    """Code inside regions is generated, never the user's server: only the user's code is searched."""
    region = "# eventgen:begin x sha=0123456789ab -- generated\ninner = socketio.AsyncServer()\n# eventgen:end x\n"
    source = "import socketio\n" + region + "sio = socketio.AsyncServer()\n"
    assert find_server(libcst.parse_module(source))[0] == "inner"
    assert find_server_name(source, "main.py") == "sio"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import socketio\nsio = socketio.AsyncServer(\n", id="syntax error"),
        pytest.param(
            "import socketio\n# eventgen:begin x sha=0123456789ab\nsio = socketio.AsyncServer()\n",
            id="unbalanced marker",
        ),
        pytest.param("import socketio\nsio = socketio.AsyncServer()\x00\n", id="NUL byte"),
        pytest.param("import socketio\nprint 'py2'\nsio = socketio.AsyncServer()\n", id="python 2"),
    ],
)
def test_undecidable_files_go_to_libcst(source: str) -> None:
    assert find_server_name(source, "main.py") is None


# -- regions recognised as unchanged by their text (patch/regions.py) -----------------------

SINGLE_QUOTED = """\
import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode='asgi', cors_allowed_origins='*')


@sio.on('usage:ping')
async def usage_ping(sid, data=None):
    return {'ok': True, 'who': 'me'}
"""


def _single_quoted_project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    write_tree(
        root,
        {
            SOCKET_MODULE: SINGLE_QUOTED,
            "backend/open_webui/socket/access.py": "def can_read_feature(user, feature_id):\n    return True\n",
            "events/feature.yaml": FEATURE_SPEC_NO_CALL_SITES,
        },
    )
    assert eventgen(root, "generate").exit == 0
    return root


def test_style_guess_that_misses_still_finds_regions_in_sync(tmp_path: Path) -> None:
    """The user's own code turns to double quotes after generation: the guess (from the user's
    code) no longer matches the regions' text, so the parse decides, and it finds them in sync."""
    root = _single_quoted_project(tmp_path)
    socket = root / SOCKET_MODULE
    text = socket.read_text(encoding="utf-8")
    assert "@sio.on('feature:subscribe')" in text  # written in the file's style
    user_part = text.split("# eventgen:begin feature ")[0].replace("'asgi'", '"asgi"').replace("'*'", '"*"')
    text = user_part + "# eventgen:begin feature " + text.split("# eventgen:begin feature ", 1)[1]
    text = text.replace("@sio.on('usage:ping')", '@sio.on("usage:ping")').replace(
        "{'ok': True, 'who': 'me'}", '{"ok": True, "who": "me"}'
    )
    socket.write_text(text, encoding="utf-8")
    before = snapshot(root)
    check = eventgen(root, "check")
    assert check.exit == 0, check.output
    assert eventgen(root, "generate").exit == 0
    assert snapshot(root) == before


def test_region_with_the_right_text_but_a_wrong_sha_is_not_unchanged(tmp_path: Path) -> None:
    """The text shortcut also requires the marker's hash: a region whose body is right but whose
    hash is not is rewritten (out of date), as before the shortcut."""
    root = _single_quoted_project(tmp_path)
    socket = root / SOCKET_MODULE
    text = socket.read_text(encoding="utf-8")
    sha = re.search(r"# eventgen:begin feature sha=([0-9a-f]{12})", text).group(1)
    wrong = "0" * 12 if sha != "0" * 12 else "1" * 12
    socket.write_text(text.replace(f"begin feature sha={sha}", f"begin feature sha={wrong}"), encoding="utf-8")
    check = eventgen(root, "check")
    assert check.exit == 1, check.output
    assert "out of date" in check.output
    assert eventgen(root, "generate").exit == 0
    assert socket.read_text(encoding="utf-8") == text


# -- the normal form behind every hash (markers.py) -------------------------------------------

REPO = Path(__file__).resolve().parent.parent


def _corpus() -> list[Path]:
    """Real code of every shape eventgen meets: its own modules and the example app's."""
    return sorted([*REPO.glob("generator/**/*.py"), *REPO.glob("examples/openwebui-mini/backend/**/*.py")])


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="ast.dump changed its output in 3.12 and 3.13")
@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_normal_form_is_what_ast_dump_wrote(path: Path) -> None:
    """On 3.10 and 3.11 the normal form is ast.dump's text, so every hash written so far still holds."""
    code = path.read_text(encoding="utf-8")
    assert normalize_python(code) == ast.dump(ast.parse(textwrap.dedent(code)))


_VERIFY = """
import json, sys
from generator.markers import FILE_MARK, digest, normalize_python, scan_regions
from generator.apply.regions import split_lines
bad = []
for path in json.loads(sys.argv[1]):
    text = open(path, encoding="utf-8").read()
    mark = FILE_MARK.search(text.split("\\n", 1)[0])
    if mark:
        if digest(normalize_python(text.split("\\n", 1)[1])) != mark.group(2):
            bad.append(path)
        continue
    for region in scan_regions(split_lines(text), path):
        if digest(normalize_python(region.body)) != region.sha:
            bad.append(f"{path}:{region.line}")
print(json.dumps(bad))
"""


def _other_pythons() -> list[str]:
    """Other CPython 3.10-3.14 on this machine: on PATH, or installed by pyenv."""
    found = []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in range(10, 15):
        if sys.version_info[:2] == (3, minor):
            continue
        candidates = [
            shutil.which(f"python3.{minor}"),
            *sorted(str(p) for p in pyenv.glob(f"3.{minor}.*/bin/python3.{minor}")),
        ]
        for exe in filter(None, candidates):
            # A pyenv shim of a version that is not selected exits non-zero: not usable.
            if subprocess.run([exe, "-c", "import ast"], capture_output=True, check=False).returncode == 0:
                found.append(exe)
                break
    return found


@pytest.mark.parametrize(
    "python",
    _other_pythons() or [pytest.param(None, marks=pytest.mark.skip(reason="no other Python 3.10-3.14 installed"))],
)
def test_hashes_hold_under_every_python(tmp_path: Path, python: str) -> None:
    """Generated here, checked there: every region and file hash verifies under another Python,
    so a team whose machines and CI run different versions never sees drift that is not there."""
    root = _single_quoted_project(tmp_path)
    files = [str(p) for p in root.rglob("*.py") if "eventgen:" in p.read_text(encoding="utf-8")]
    assert len(files) >= 2  # the socket module's regions and the generated models file
    done = subprocess.run(
        [python, "-c", _VERIFY, json.dumps(files)],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# -- escaping filters: whole-string regex instead of a lookup per character (text_safety.py) ----


def test_unsafe_pattern_is_the_unsafe_predicate_on_every_code_point() -> None:
    by_pattern = {c for c in range(0x110000) if UNSAFE.match(chr(c))}
    by_predicate = {c for c in range(0x110000) if unsafe(chr(c))}
    assert by_pattern == by_predicate


# The filters as they were written per character: the references the faster ones must equal.
def _py_str_per_char(value: str) -> str:
    named = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    out = []
    for ch in value:
        if ch in named:
            out.append(named[ch])
        elif unsafe(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _js_str_per_char(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    text = "".join(f"\\u{ord(ch):04x}" if unsafe(ch) else ch for ch in text)
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _one_line_per_char(value: str) -> str:
    return " ".join("".join(" " if unsafe(ch) else ch for ch in value).split())


def _html_per_char(value: str) -> str:
    text = "".join(" " if unsafe(ch) and ch not in "\t\n\r" else ch for ch in value)
    escaped = str(markupsafe.escape(text)).replace("--", "&#45;&#45;")
    return escaped.replace("{", "&#123;").replace("}", "&#125;")


_HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(sorted(chr(c) for c in range(0x110000) if unsafe(chr(c)))),
        st.sampled_from('"\\<!-/{}*'),
    )
)


@given(_HOSTILE)
def test_filters_equal_their_per_character_definitions(value: str) -> None:
    assert py_str(value) == _py_str_per_char(value)
    assert js_str(value) == _js_str_per_char(value)
    assert one_line(value) == _one_line_per_char(value)
    assert html(value) == _html_per_char(value)
