"""The performance shortcuts (issue 7) give the same answers as the slow paths they replace.

Each shortcut is compared with the code it stands in for, on inputs chosen to
sit where the two could part: statement shapes libcst and `ast` model
differently, line endings, regions in the file.
"""

from __future__ import annotations

import libcst
import pytest

from generator.patch.anchors import find_server
from generator.patch.server import find_server_name

REGION = (
    "# eventgen:begin feature sha=0123456789ab -- generated from events/feature.yaml\n"
    "@sio.on(\"feature:subscribe\")\n"
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
    ("elif chain to else", "import socketio\nif A:\n    pass\nelif B:\n    pass\nelse:\n    s3 = socketio.AsyncServer()\n", "s3"),
    ("if nested in else is not a branch", "import socketio\nif A:\n    pass\nelse:\n    if B:\n        s4 = socketio.AsyncServer()\n", None),
    ("one-line suite is skipped", "import socketio\nif A: s5 = socketio.AsyncServer()\n", None),
    ("one-line else is skipped", "import socketio\nif A:\n    pass\nelse: s6 = socketio.AsyncServer()\n", None),
    ("try body", "import socketio\ntry:\n    sio = socketio.AsyncServer()\nexcept ImportError:\n    sio = None\n", "sio"),
    ("except handler", "import socketio\ntry:\n    import x\nexcept ImportError:\n    fb = socketio.AsyncServer()\n", "fb"),
    ("try else", "import socketio\ntry:\n    import x\nexcept ImportError:\n    pass\nelse:\n    te = socketio.AsyncServer()\n", "te"),
    ("finally is not searched", "import socketio\ntry:\n    import x\nfinally:\n    fin = socketio.AsyncServer()\n", None),
    ("nested deeper is not searched", "import socketio\nif A:\n    if B:\n        deep = socketio.AsyncServer()\n", None),
    ("in a function is not searched", "import socketio\ndef make():\n    sio = socketio.AsyncServer()\n    return sio\n", None),
    ("factory", "import socketio\nsio = make_server()\n", None),
    ("other class", "import socketio\nsio = socketio.Server()\n", None),
    ("attribute target", "import socketio\nstate.sio = socketio.AsyncServer()\n", None),
    ("first of two wins", "import socketio\nfirst = socketio.AsyncServer()\nsecond = socketio.AsyncServer()\n", "first"),
    ("CRLF", "import socketio\r\nif A:\r\n    pass\r\nelse:\r\n    crlf = socketio.AsyncServer()\r\n", "crlf"),
    ("CR only", "import socketio\rif A:\r    pass\relse:\r    cr = socketio.AsyncServer()\r", "cr"),
    ("form feed", "import socketio\n\x0c\nif A:\n    pass\nelse:\n    ff = socketio.AsyncServer()\n", "ff"),
    ("tabs", "import socketio\nif A:\n\tpass\nelse:\n\ttab = socketio.AsyncServer()\n", "tab"),
    ("non-ASCII before", "import socketio\nif ü:\n    pass\nelse:\n    ü2 = socketio.AsyncServer()\n", "ü2"),
    ("no final newline", "import socketio\nsio = socketio.AsyncServer()", "sio"),
    ("after regions", "import socketio\n" + REGION + "sio = socketio.AsyncServer()\n" + REGION.replace("feature", "other"), "sio"),
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
        pytest.param("import socketio\n# eventgen:begin x sha=0123456789ab\nsio = socketio.AsyncServer()\n", id="unbalanced marker"),
        pytest.param("import socketio\nsio = socketio.AsyncServer()\x00\n", id="NUL byte"),
        pytest.param("import socketio\nprint 'py2'\nsio = socketio.AsyncServer()\n", id="python 2"),
    ],
)
def test_undecidable_files_go_to_libcst(source: str) -> None:
    assert find_server_name(source, "main.py") is None
