"""The socket module in every shape Open WebUI has had (DESIGN.md, "facts the patcher must survive").

Each shape goes through the whole life cycle with the real CLI:
generate -> the file parses, every original line is still there in order, the
generated code is written in the file's own quote style, indentation and line
endings; a second generate and `check` find nothing to do; `remove` gives the
original bytes back.
"""

from __future__ import annotations

import ast
import codecs
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import eventgen
from support.project import SOCKET_MODULE
from support.specs import FEATURE_SPEC_NO_CALL_SITES
from support.tree import byte_lines, is_subsequence, region_lines, write_tree

ACCESS = "def can_read_feature(user, feature_id):\n    return True\n"


@dataclass(frozen=True)
class Shape:
    id: str
    source: bytes
    quote: str = '"'
    indent: str = "    "
    newline: bytes = b"\n"


def _src(text: str) -> bytes:
    return text.encode("utf-8")


SERVER_THEN_APP = """\
import socketio

SESSION_POOL = {}

sio = socketio.AsyncServer(cors_allowed_origins=[], async_mode="asgi")
app = socketio.ASGIApp(sio, socketio_path="/ws/socket.io")


@sio.event
async def connect(sid, environ, auth):
    SESSION_POOL[sid] = {"id": "u1"}


@sio.event
async def disconnect(sid):
    SESSION_POOL.pop(sid, None)
"""

SERVER_IN_IF_ELSE = """\
import socketio

from open_webui.env import WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL

if WEBSOCKET_MANAGER == "redis":
    mgr = socketio.AsyncRedisManager(WEBSOCKET_REDIS_URL)
    sio = socketio.AsyncServer(
        cors_allowed_origins=[],
        async_mode="asgi",
        always_connect=True,
        client_manager=mgr,
    )
else:
    sio = socketio.AsyncServer(
        cors_allowed_origins=[],
        async_mode="asgi",
        always_connect=True,
    )


app = socketio.ASGIApp(sio, socketio_path="/ws/socket.io")
SESSION_POOL = {}


@sio.on("user-list")
async def user_list(sid, data=None):
    return {"ok": True}


def get_session_user(sid):
    return SESSION_POOL.get(sid)
"""

HELPERS_BEFORE_SERVER = """\
import logging

import socketio

log = logging.getLogger(__name__)
SESSION_POOL = {}


def get_user_room(user_id: str) -> str:
    return f"user:{user_id}"


async def periodic_cleanup():
    while True:
        break


sio = socketio.AsyncServer(async_mode="asgi")


@sio.on("usage:ping")
async def usage_ping(sid, data=None):
    return {"ok": True}


def get_active_user_ids():
    return sorted(SESSION_POOL)
"""

SINGLE_QUOTES_FUTURE = """\
from __future__ import annotations

import socketio

SESSION_POOL: dict[str, dict] = {}

sio = socketio.AsyncServer(cors_allowed_origins=[], async_mode='asgi')
app = socketio.ASGIApp(sio, socketio_path='/ws/socket.io')


@sio.on('heartbeat')
async def heartbeat(sid, data=None):
    return {'ok': True, 'sid': sid}


@sio.on('chat:typing')
async def chat_typing(sid, data=None):
    await sio.emit('chat:typing', {'sid': sid}, skip_sid=sid)
"""

COMMENTS_ON_DECORATORS = """\
import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode="asgi")


# Connection life cycle.
@sio.event  # connect: authenticate with the token
async def connect(sid, environ, auth):
    pass


@sio.on("usage")  # legacy name
# kept for the old sidebar
@sio.on("usage:ping")  # the current name
async def usage(sid, data=None):
    return {"ok": True}
    # a note at the end of the handler, indented like its body

# a comment that belongs to the next definition
def helper():
    return 1
"""

DOCSTRING_BEFORE_IMPORTS = '''\
"""The Socket.IO server of the app.

Handlers live below; helpers at the end.
"""

import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode="asgi")


@sio.event
async def connect(sid, environ, auth):
    pass
'''

NO_HANDLERS = """\
import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode="asgi")
app = socketio.ASGIApp(sio)
"""

TWO_SPACES = """\
import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode="asgi")


@sio.on("ping")
async def ping(sid, data=None):
  if data:
    return {"ok": True}
  return {"ok": False}
"""

ALIGNED_CONTINUATIONS = """\
import socketio

SESSION_POOL = {}
sio = socketio.AsyncServer(async_mode="asgi",
  cors_allowed_origins=[])
SETTINGS = {
  "ping_interval": 25,
}


@sio.on("ping")
async def ping(sid, data=None):
    if data:
        return {"ok": True}
    return {"ok": False}
"""

SHAPES = [
    Shape("server-then-app", _src(SERVER_THEN_APP)),
    Shape("server-in-if-else", _src(SERVER_IN_IF_ELSE)),
    Shape("helpers-before-server", _src(HELPERS_BEFORE_SERVER)),
    Shape("single-quotes-future-annotations", _src(SINGLE_QUOTES_FUTURE), quote="'"),
    Shape("comments-on-decorators", _src(COMMENTS_ON_DECORATORS)),
    Shape("crlf", _src(SERVER_IN_IF_ELSE.replace("\n", "\r\n")), newline=b"\r\n"),
    Shape("tabs", _src(HELPERS_BEFORE_SERVER.replace("    ", "\t")), indent="\t"),
    Shape("two-spaces", _src(TWO_SPACES), indent="  "),
    Shape("no-trailing-newline", _src(SERVER_THEN_APP.rstrip("\n"))),
    Shape("no-trailing-newline-no-handlers", _src(NO_HANDLERS.rstrip("\n"))),
    Shape("bom", codecs.BOM_UTF8 + _src(SERVER_THEN_APP)),
    Shape(
        "bom-crlf-single-quotes",
        codecs.BOM_UTF8 + _src(SINGLE_QUOTES_FUTURE.replace("\n", "\r\n")),
        quote="'",
        newline=b"\r\n",
    ),
    Shape("docstring-before-imports", _src(DOCSTRING_BEFORE_IMPORTS)),
    # Two-space aligned continuation lines in a four-space file: blocks still indent by four.
    Shape("aligned-continuations", _src(ALIGNED_CONTINUATIONS)),
    # One stray CRLF line in an LF file: the majority decides.
    Shape("one-stray-crlf", _src(SERVER_THEN_APP.replace("SESSION_POOL = {}\n", "SESSION_POOL = {}\r\n"))),
    Shape("no-handlers", _src(NO_HANDLERS)),
    # A form feed is a line break for str.splitlines but not for Python: line numbers must not drift.
    Shape(
        "form-feed",
        _src(
            SERVER_THEN_APP.replace("\n\n@sio.event\nasync def disconnect", "\n\x0c\n@sio.event\nasync def disconnect")
        ),
    ),
]


def _project(tmp_path: Path, shape: Shape) -> Path:
    root = tmp_path / "app"
    write_tree(
        root,
        {
            SOCKET_MODULE: shape.source,
            "backend/open_webui/socket/access.py": ACCESS,
            "events/feature.yaml": FEATURE_SPEC_NO_CALL_SITES,
        },
    )
    return root


def _strings(code: str) -> list[str]:
    """Plain string literals of a block (docstrings and f-strings aside)."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.STRING and not tok.string.startswith(('"""', "'''")):
            out.append(tok.string)
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
def test_shape_life_cycle(tmp_path: Path, shape: Shape) -> None:
    root = _project(tmp_path, shape)
    target = root / SOCKET_MODULE
    original = shape.source

    first = eventgen(root, "generate")
    assert first.exit == 0, first.output
    patched = target.read_bytes()

    # It parses, as the file it is (BOM and all).
    ast.parse(patched.decode("utf-8-sig"))
    assert patched.startswith(codecs.BOM_UTF8) == original.startswith(codecs.BOM_UTF8)

    # Nothing of the user's was lost or moved; a file without a final newline keeps lacking one.
    kept, got = byte_lines(original), byte_lines(patched)
    assert is_subsequence(kept[:-1], got)
    assert is_subsequence([line.rstrip(b"\r\n") for line in kept], [line.rstrip(b"\r\n") for line in got])
    if not original.endswith((b"\n", b"\r")):
        assert not patched.endswith((b"\n", b"\r"))

    # The generated code is written the way the file is written.
    regions = region_lines(patched)
    assert set(regions) == {"imports", "feature"}
    for rid, lines in regions.items():
        for line in lines:
            if not original.endswith((b"\n", b"\r")) and patched.endswith(line) and line == got[-1]:
                continue  # the file's last line: it had no line ending, and still has none
            assert line.endswith(shape.newline), f"{rid}: {line!r}"
            if shape.newline == b"\n":
                assert not line.endswith(b"\r\n"), f"{rid}: {line!r}"
    handler_body = b"".join(regions["feature"]).decode("utf-8")
    indents = {line[: len(line) - len(line.lstrip(" \t"))] for line in handler_body.splitlines() if line.strip()}
    body_lines = [line for line in handler_body.splitlines() if line.strip()]
    first_level = {
        body_lines[i + 1][: len(body_lines[i + 1]) - len(body_lines[i + 1].lstrip(" \t"))]
        for i, line in enumerate(body_lines)
        if line.startswith("async def ")
    }
    assert first_level == {shape.indent}, first_level
    assert all(set(ind) <= set(shape.indent) for ind in indents), indents
    literals = _strings(handler_body.replace("\r\n", "\n"))
    assert literals, "the handlers region has string literals"
    assert all(lit[0] == shape.quote for lit in literals), literals

    # The handlers come after the server exists, and after the file's own handlers.
    tree = ast.parse(patched.decode("utf-8-sig"))
    top = [n for n in tree.body]
    generated = [
        i for i, n in enumerate(top) if isinstance(n, ast.AsyncFunctionDef) and n.name.startswith("on_feature_")
    ]
    assert generated
    server_at = next(i for i, n in enumerate(top) if "AsyncServer" in ast.unparse(n))
    own_handlers = [
        i
        for i, n in enumerate(top)
        if isinstance(n, ast.AsyncFunctionDef)
        and not n.name.startswith(("on_feature_", "notify_"))
        and any(ast.unparse(d).startswith("sio.") for d in n.decorator_list)
    ]
    assert min(generated) > server_at
    assert min(generated) > max(own_handlers, default=-1)

    # Idempotent, and in sync.
    second = eventgen(root, "generate")
    assert second.exit == 0, second.output
    assert "nothing to do" in second.stdout
    assert target.read_bytes() == patched
    check = eventgen(root, "check")
    assert check.exit == 0, check.output

    # Remove gives back the original bytes.
    removed = eventgen(root, "remove", "feature")
    assert removed.exit == 0, removed.output
    assert target.read_bytes() == original
    assert not (root / "backend/open_webui/socket/event_models.py").exists()
    assert not (root / "events/feature.yaml").exists()


@pytest.mark.parametrize(
    "shape", [s for s in SHAPES if s.id in ("single-quotes-future-annotations", "tabs", "crlf")], ids=lambda s: s.id
)
def test_reformatted_region_is_not_a_hand_edit(tmp_path: Path, shape: Shape) -> None:
    """Restyling generated code (quotes, line wrapping, comments) keeps its syntax tree: still in sync."""
    root = _project(tmp_path, shape)
    assert eventgen(root, "generate").exit == 0
    target = root / SOCKET_MODULE
    text = target.read_bytes().decode("utf-8-sig")
    nl = "\r\n" if shape.newline == b"\r\n" else "\n"
    restyled = text.replace(
        "return eventgen_models.ok(room=room)",
        f"return eventgen_models.ok(  # formatted{nl}{shape.indent * 2}room=room,{nl}{shape.indent})",
    )
    assert restyled != text
    target.write_bytes(
        (codecs.BOM_UTF8 if shape.source.startswith(codecs.BOM_UTF8) else b"") + restyled.encode("utf-8")
    )
    check = eventgen(root, "check")
    assert check.exit == 0, check.output


def test_server_name_from_config(tmp_path: Path) -> None:
    """An unusual server name is found by parsing; `server_name` names one made by a factory."""
    root = tmp_path / "app"
    write_tree(
        root,
        {
            SOCKET_MODULE: "import socketio\n\nfrom .factory import make_server\n\nSESSION_POOL = {}\nserver = make_server()\n",
            "backend/open_webui/socket/access.py": ACCESS,
            "events/feature.yaml": FEATURE_SPEC_NO_CALL_SITES,
        },
    )
    missing = eventgen(root, "generate")
    assert missing.exit == 2
    assert f"{SOCKET_MODULE}: no python-socketio server found" in missing.stderr
    (root / "eventgen.toml").write_text('server_name = "server"\n')
    done = eventgen(root, "generate")
    assert done.exit == 0, done.output
    text = (root / SOCKET_MODULE).read_text()
    assert '@server.on("feature:subscribe")' in text
    assert text.index("server = make_server()") < text.index("# eventgen:begin feature ")


def test_indented_comment_after_last_handler_stays_with_it(tmp_path: Path) -> None:
    shape = next(s for s in SHAPES if s.id == "comments-on-decorators")
    root = _project(tmp_path, shape)
    assert eventgen(root, "generate").exit == 0
    text = (root / SOCKET_MODULE).read_text()
    assert (
        '    return {"ok": True}\n    # a note at the end of the handler, indented like its body\n\n\n# eventgen:begin feature '
        in text
    )
