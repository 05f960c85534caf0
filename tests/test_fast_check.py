"""Issue 19: the fast path of check and generate (the run stamp) never hides drift.

Every test generates the example app in a temporary copy, changes something, and compares
the fast path's verdict with the full path's (EVENTGEN_FULL_CHECK=1) on the same tree:
where the fast path answers, the full path must say exactly the same.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import eventgen, eventgen_process

import generator.stamps
from generator.fast_check import FULL_PATH_ENV, in_sync

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"
SPEC = "events/feature.yaml"
SOCKET = "backend/open_webui/socket/main.py"
ROUTER = "backend/open_webui/routers/features.py"
MODELS = "backend/open_webui/socket/event_models.py"
TYPES = "src/lib/socket/events.ts"
COMPONENT = "src/lib/components/realtime/FeatureUpdates.svelte"


def _copy(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", ".svelte-kit", "__pycache__"))
    return dest


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as generate leaves it, with a fresh stamp (one generate per module)."""
    root = _copy(tmp_path_factory.mktemp("pristine") / "app")
    _unstamp(root)  # the committed stamp is stale after any change to eventgen's code: a fresh one
    assert eventgen(root, "generate").exit == 0
    assert in_sync(root) is not None
    return root


@pytest.fixture
def app(pristine: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine, tmp_path / "app"))


def check(root: Path, *, full: bool, fmt: str = "text") -> tuple[int, str]:
    run = eventgen(root, "check", "--no-diff", "--format", fmt, env={FULL_PATH_ENV: "1" if full else ""})
    return run.exit, run.stdout


def same_verdict(root: Path) -> int:
    """Both paths agree (exit code and report); the exit code."""
    full = check(root, full=True)
    fast = check(root, full=False)
    assert fast == full
    if in_sync(root) is not None:
        assert full[0] == 0, full[1]
    return full[0]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_in_sync_answers_fast_with_the_full_paths_words(app: Path) -> None:
    assert in_sync(app) is not None
    for fmt in ("text", "json", "github"):
        assert check(app, full=False, fmt=fmt) == check(app, full=True, fmt=fmt)


def test_new_mtimes_stay_in_sync(app: Path) -> None:
    for path in app.rglob("*"):
        if path.is_file():
            os.utime(path, (1_000_000_000, 1_000_000_000))
    assert in_sync(app) is not None


@pytest.mark.parametrize(
    ("rel", "old", "new", "code"),
    [
        (SPEC, "description: A feature was changed.", "description: A feature changed.", 1),  # a changed spec byte
        (SPEC, "name: feature\n", "name: feature\n# a comment\n", 0),  # changes nothing generated
        (SOCKET, "await eventgen_models.", "await  eventgen_models.", 0),  # a formatter's kind of change
        (SOCKET, "feature_id", "feature_ref", 1),  # a hand edit inside a region
        (
            ROUTER,
            "# eventgen:begin feature/",
            "pass\n    # eventgen:begin feature/",
            1,
        ),  # the call no longer follows its anchor
        (TYPES, "export", "export /* edited */", 1),  # a whole generated file changed
        (COMPONENT, "<script", "<!-- x -->\n<script", 1),
        (MODELS, "class ", "class  ", 0),
    ],
    ids=[
        "spec-byte",
        "spec-comment",
        "formatter",
        "hand-edit",
        "moved-call",
        "types-file",
        "component",
        "models-spacing",
    ],
)
def test_edits_fall_back_to_the_full_path(app: Path, rel: str, old: str, new: str, code: int) -> None:
    edit(app, rel, old, new)
    assert in_sync(app) is None
    assert same_verdict(app) == code


def test_config_change_is_drift(app: Path) -> None:
    (app / "eventgen.toml").write_text("max_bytes = 1024\n", encoding="utf-8")
    assert in_sync(app) is None
    assert same_verdict(app) == 1


def test_an_upgrade_of_eventgen_takes_the_full_path(app: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A new version, or new templates, may generate other text: the stamp no longer vouches."""
    monkeypatch.setattr(generator.stamps, "__version__", "99.0.0")
    assert in_sync(app) is None
    monkeypatch.undo()
    templates = Path(shutil.copytree(generator.stamps._templates_dir(), tmp_path / "templates"))
    (templates / "ts" / "events.ts.j2").write_text(
        (templates / "ts" / "events.ts.j2").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    monkeypatch.setattr(generator.stamps, "_templates_dir", lambda: templates)
    assert in_sync(app) is None
    assert same_verdict(app) == 0  # this change to the template changes no output


@pytest.mark.parametrize("rel", [TYPES, COMPONENT, MODELS], ids=["types", "component", "models"])
def test_a_deleted_generated_file_is_missing(app: Path, rel: str) -> None:
    (app / rel).unlink()
    assert in_sync(app) is None
    assert same_verdict(app) == 1


def test_a_moved_generated_file_is_drift(app: Path) -> None:
    (app / COMPONENT).rename(app / "src/lib/FeatureUpdates.svelte")
    assert in_sync(app) is None
    assert same_verdict(app) == 1


def test_specs_added_removed_or_renamed(app: Path) -> None:
    spec = app / SPEC
    text = spec.read_text(encoding="utf-8")
    (app / "events/other.yaml").write_text(
        text.replace("name: feature\n", "name: other\n", 1).replace("feature:", "other:"), encoding="utf-8"
    )
    assert in_sync(app) is None
    assert same_verdict(app) in (1, 2)
    (app / "events/other.yaml").unlink()
    assert in_sync(app) is not None  # the same tree as before: the stamp holds again
    spec.rename(app / "events/feature.yml")
    assert in_sync(app) is None
    assert same_verdict(app) == 1  # the generated code names its spec file
    (app / "events/feature.yml").unlink()
    assert in_sync(app) is None
    assert same_verdict(app) == 1  # every generated item is an orphan now


def test_leftovers_of_a_killed_run_are_drift(app: Path) -> None:
    (app / "backend/open_webui/socket/.main.py.eventgen-tmp").write_text("x", encoding="utf-8")
    assert in_sync(app) is None
    assert same_verdict(app) == 1


def test_a_clashing_handler_in_another_module_is_seen(app: Path) -> None:
    """The user's own code decides too: a module that may reach the socket module is covered."""
    (app / "backend/open_webui/extra.py").write_text(
        'from open_webui.socket.main import sio\n\n\n@sio.on("feature:subscribe")\nasync def mine(sid, data):\n    return None\n',
        encoding="utf-8",
    )
    assert in_sync(app) is None
    assert same_verdict(app) == 2


def test_an_unrelated_module_keeps_the_fast_path(app: Path) -> None:
    (app / "backend/open_webui/unrelated.py").write_text("import os\n", encoding="utf-8")
    assert in_sync(app) is not None


def test_generate_writes_nothing_for_a_change_in_user_code_alone(app: Path) -> None:
    """No churn: the stamp goes stale (check takes the full path) until generate writes anyway."""
    edit(app, SOCKET, "\nimport socketio\n", "\nimport socketio  # the user's comment\n")
    models = (app / MODELS).read_bytes()
    assert eventgen(app, "generate").exit == 0
    assert (app / MODELS).read_bytes() == models
    assert in_sync(app) is None
    edit(app, SPEC, "description: A feature was changed.", "description: A feature changed.")
    assert eventgen(app, "generate").exit == 0
    assert in_sync(app) is not None


def test_a_stamp_without_tool_or_from_another_eventgen_is_rewritten(app: Path) -> None:
    """Markers of older versions take the full path; the next generate adds the stamp."""
    path = app / MODELS
    first, rest = path.read_text(encoding="utf-8").split("\n", 1)
    path.write_text(generator.stamps.strip_stamp(first) + "\n" + rest, encoding="utf-8")
    assert in_sync(app) is None
    assert eventgen(app, "generate").exit == 0
    assert in_sync(app) is not None


def test_a_sunset_reached_takes_the_full_path(app: Path) -> None:
    path = app / MODELS
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"( n=\d+)", r"\1 until=2000-01-01", text, count=1), encoding="utf-8")
    assert in_sync(app) is None


@pytest.mark.parametrize(
    ("sunset", "fast", "code"), [("2999-01-01", True, 0), ("2001-01-01", False, 1)], ids=["future", "past"]
)
def test_old_names_date_the_stamp(app: Path, sunset: str, fast: bool, code: int) -> None:
    """check reports an old name once its sunset has come, with no file changed: the stamp
    carries the first sunset and stops vouching on that day."""
    edit(
        app,
        SPEC,
        "  - name: feature:updated\n",
        f"  - name: feature:updated\n    renamed_from: [feature:changed]\n    sunset: {sunset}\n",
    )
    assert eventgen(app, "generate").exit == 0
    assert f" until={sunset}" in (app / MODELS).read_text(encoding="utf-8").split("\n", 1)[0]
    assert (in_sync(app) is not None) is fast
    assert same_verdict(app) == code


# -- random edits: the fast path's verdict is always the full path's -------------------------

_TARGETS = [
    SPEC,
    SOCKET,
    ROUTER,
    MODELS,
    TYPES,
    COMPONENT,
    "package.json",
    "backend/open_webui/socket/access.py",
    "README.md",
    "src/app.html",
    "backend/open_webui/models/users.py",
]


@st.composite
def _edits(draw: st.DrawFn) -> list[tuple[str, str, int, str]]:
    ops = st.tuples(
        st.sampled_from(["insert", "delete", "unlink", "touch"]),
        st.sampled_from(_TARGETS),
        st.integers(min_value=0, max_value=10_000),
        st.sampled_from([" ", "\n", "x", "#", "'", '"', "1"]),
    )
    return draw(st.lists(ops, min_size=1, max_size=3))


def _apply(root: Path, op: str, rel: str, at: int, char: str) -> None:
    path = root / rel
    if not path.is_file():
        return
    data = path.read_bytes()
    i = at % (len(data) + 1)
    if op == "insert":
        path.write_bytes(data[:i] + char.encode() + data[i:])
    elif op == "delete" and data:
        path.write_bytes(data[: min(i, len(data) - 1)] + data[min(i, len(data) - 1) + 1 :])
    elif op == "unlink":
        path.unlink()
    else:
        os.utime(path, None)


@settings(max_examples=40)  # each example runs both paths: keep the suite quick
@given(edits=_edits())
def test_random_edits_never_split_the_verdicts(
    pristine: Path, tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, str, int, str]]
) -> None:
    root = Path(shutil.copytree(pristine, tmp_path_factory.mktemp("random") / "app"))
    for op in edits:
        _apply(root, *op)
    same_verdict(root)
    shutil.rmtree(root)


def test_no_op_generate_says_what_the_full_path_says(app: Path) -> None:
    before = {p: p.read_bytes() for p in app.rglob("*") if p.is_file()}
    outputs = []
    for full in ("1", ""):
        run = eventgen(app, "generate", env={FULL_PATH_ENV: full})
        assert run.exit == 0, run.output
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert {p: p.read_bytes() for p in app.rglob("*") if p.is_file()} == before


# Edits with a meaning, to random places: each one the full path has a verdict on.
_CLASH = 'from open_webui.socket.main import sio\n\n\n@sio.on("feature:subscribe")\nasync def mine(sid, data):\n    return None\n'
_PY_PLACES = [
    "backend/open_webui/extra.py",
    "backend/open_webui/models/users.py",
    "backend/open_webui/utils/auth.py",
    ROUTER,
]
_FRONT_PLACES = ["src/lib/Copy.svelte", "src/lib/components/realtime/Copy.svelte", "src/lib/socket/copy.ts"]


def _meaningful(root: Path, op: str, place: int, line: int) -> None:
    if op == "clash":
        path = root / _PY_PLACES[place % len(_PY_PLACES)]
        path.write_text((path.read_text(encoding="utf-8") if path.exists() else "") + "\n" + _CLASH, encoding="utf-8")
    elif op == "copy-region":
        text = (root / ROUTER).read_text(encoding="utf-8")
        region = (
            text[text.index("# eventgen:begin imports") : text.index("# eventgen:end imports")]
            + "# eventgen:end imports\n"
        )
        path = root / _PY_PLACES[place % 3]
        path.write_text((path.read_text(encoding="utf-8") if path.exists() else "") + region, encoding="utf-8")
    elif op == "copy-generated":
        (root / _FRONT_PLACES[place % len(_FRONT_PLACES)]).write_bytes((root / COMPONENT).read_bytes())
    elif op == "unrelated":
        (root / f"backend/open_webui/unrelated_{place}.py").write_text("import os\n", encoding="utf-8")
    elif op == "config":
        (root / "eventgen.toml").write_text(
            ["max_bytes = 1024\n", "timeout_s = 10.0\n", "svelte = 4\n", 'telemetry = ""\n'][place % 4],
            encoding="utf-8",
        )
    else:  # drop one line of a file eventgen writes or reads
        path = root / _TARGETS[place % len(_TARGETS)]
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if lines:
            del lines[line % len(lines)]
            path.write_text("".join(lines), encoding="utf-8")


@settings(max_examples=30)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["clash", "copy-region", "copy-generated", "unrelated", "config", "drop-line"]),
            st.integers(0, 50),
            st.integers(0, 10_000),
        ),
        min_size=1,
        max_size=2,
    )
)
def test_meaningful_edits_never_split_the_verdicts(
    pristine: Path, tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int, int]]
) -> None:
    root = Path(shutil.copytree(pristine, tmp_path_factory.mktemp("meaning") / "app"))
    for op in ops:
        _meaningful(root, *op)
    if all(op == "unrelated" for op, *_ in ops):
        assert in_sync(root) is not None  # the fast path is not merely always declining
    same_verdict(root)
    shutil.rmtree(root)


def test_the_first_generate_after_an_upgrade_writes_the_stamp(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade changes no generated code here, yet the stamp must follow it, once."""
    monkeypatch.setattr(generator.stamps, "__version__", "99.0.0")
    assert in_sync(app) is None
    models = (app / MODELS).read_bytes()
    assert eventgen(app, "generate").exit == 0
    assert (app / MODELS).read_bytes() != models  # the first line, only
    assert (app / MODELS).read_bytes().split(b"\n", 1)[1] == models.split(b"\n", 1)[1]
    assert in_sync(app) is not None
    stamped = (app / MODELS).read_bytes()
    assert eventgen(app, "generate").exit == 0
    assert (app / MODELS).read_bytes() == stamped


# -- review of the fast path: what it read blindly, and inputs its digest missed ---------------


def _both_in_a_process(root: Path) -> tuple[tuple[int, str], tuple[int, str]]:
    """fast and full verdicts in fresh interpreters with a timeout: a blocking read fails the test
    instead of hanging the suite."""
    runs = [eventgen_process(root, "check", "--no-diff", env={FULL_PATH_ENV: full}, timeout=30) for full in ("", "1")]
    return (runs[0].exit, runs[0].stdout), (runs[1].exit, runs[1].stdout)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    "rel", ["backend/open_webui/pipe.py", "src/lib/pipe.ts", "events/pipe.yaml", "src/package.json"]
)
def test_a_fifo_never_blocks_the_fast_path(app: Path, rel: str) -> None:
    os.mkfifo(app / rel)
    fast, full = _both_in_a_process(app)
    assert fast == full


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_not_read_to_its_end(app: Path) -> None:
    (app / "backend/open_webui/zero.py").symlink_to("/dev/zero")
    fast, full = _both_in_a_process(app)
    assert fast == full


def _forge(root: Path, reads: str | None = None) -> None:
    """Recompute the stamp's run= for the tree as it is (what anyone can do with eventgen's own
    functions), optionally with another reads= list."""
    from generator.config import load_config
    from generator.stamps import covered_files, read_disk, run_digest, spec_files, tool_digest

    path = root / MODELS
    first, rest = path.read_text(encoding="utf-8").split("\n", 1)
    if reads is not None:
        first = re.sub(r" reads=\S+", f" reads={reads}", first)
    found = generator.stamps.STAMP.search(first)
    assert found is not None
    config = load_config(root)
    read = read_disk(root)
    listed = found.group(5).split(",") if found.group(5) else []
    digest = run_digest(
        config,
        tool_digest(),
        covered_files(config),
        [(rel, read(rel)) for rel in spec_files(config)],
        [(rel, b"" if ".." in rel else read(rel)) for rel in listed],
        int(found.group(3)),
        found.group(4),
    )
    path.write_text(first.replace(found.group(1), digest, 1) + "\n" + rest, encoding="utf-8")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_reads_outside_the_project_are_refused(app: Path) -> None:
    first = (app / MODELS).read_text(encoding="utf-8").split("\n", 1)[0]
    listed = re.search(r" reads=(\S+)", first)
    assert listed is not None
    _forge(app, reads=listed.group(1) + ",../../../../../../dev/zero")
    assert not generator.stamps.plain_path("../x") and not generator.stamps.plain_path("/dev/zero")
    fast, full = _both_in_a_process(app)
    assert fast == full


def test_check_full_ignores_a_forged_stamp(app: Path) -> None:
    """The stamp is a cache, not tamper-evidence: `check --full` is for gates that must not trust it."""
    edit(app, SOCKET, "feature_id", "feature_ref")  # a hand edit inside a region
    _forge(app)
    assert in_sync(app) is not None  # forged: the fast path believes it
    full = eventgen(app, "check", "--no-diff", "--full")
    assert (full.exit, full.stdout) == check(app, full=True)
    assert full.exit == 1


def test_another_python_takes_the_full_path(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's version decides some verdicts (stdlib module names, what ast parses)."""
    monkeypatch.setattr(generator.stamps.sys, "version_info", (3, 99, 0, "final", 0))
    assert in_sync(app) is None


def test_a_change_to_eventgens_code_takes_the_full_path(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator.stamps, "code_digest", lambda: "0" * 64)
    assert in_sync(app) is None


def test_a_handler_module_turned_package_is_seen(app: Path) -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "handler-patterns.md").read_text(encoding="utf-8")
    spec = doc.split("# events/poll.yaml\n", 1)[1].split("```", 1)[0]
    (app / "events/poll.yaml").write_text(spec, encoding="utf-8")
    assert eventgen(app, "generate").exit == 0
    (app / "backend/open_webui/handlers/poll").mkdir()
    assert same_verdict(app) == 2


def test_a_file_name_that_is_not_utf8(app: Path) -> None:
    try:
        (app / os.fsdecode(b"backend/open_webui/caf\xe9.py")).write_bytes(b"from . import x\n")
    except (UnicodeEncodeError, OSError):
        pytest.skip("the file system takes UTF-8 names only")
    _unstamp(app)  # the next run writes the stamp: its digest covers that name
    assert eventgen(app, "diff").exit == 0
    assert same_verdict(app) == 0
    assert eventgen(app, "generate").exit == 0
    assert in_sync(app) is not None
    assert same_verdict(app) == 0


def _unstamp(root: Path) -> None:
    first, rest = (root / MODELS).read_text(encoding="utf-8").split("\n", 1)
    (root / MODELS).write_text(generator.stamps.strip_stamp(first) + "\n" + rest, encoding="utf-8")


def test_a_router_symlinked_from_outside(app: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    (app / ROUTER).rename(outside)
    (app / ROUTER).symlink_to(outside)
    assert same_verdict(app) == 2


@pytest.mark.parametrize("what", [SPEC, "events"])
def test_specs_symlinked_from_outside(app: Path, tmp_path: Path, what: str) -> None:
    outside = tmp_path / "outside"
    (app / what).rename(outside)
    (app / what).symlink_to(outside)
    same_verdict(app)


def test_a_symlink_loop_is_not_absent(app: Path) -> None:
    (app / "src/package.json").symlink_to("package.json")
    same_verdict(app)


@pytest.mark.parametrize(
    ("name", "data"),
    [("Junk.svelte", b"\xff\xfe<script>\n"), ("old_models.py", None)],
    ids=["not utf-8", "a copied models module"],
)
def test_every_file_in_the_generated_folder_counts(app: Path, name: str, data: bytes | None) -> None:
    folder = Path(COMPONENT).parent
    (app / folder / name).write_bytes(data if data is not None else (app / MODELS).read_bytes())
    assert same_verdict(app) != 0
    again = Path(shutil.copytree(app, app.parent / "again"))
    full = eventgen(app, "generate", env={FULL_PATH_ENV: "1"})
    fast = eventgen(again, "generate", env={FULL_PATH_ENV: ""})
    assert (fast.exit, fast.stdout) == (full.exit, full.stdout)


def test_a_header_past_the_first_kilobyte(app: Path) -> None:
    """A first line longer than the 1024 bytes first read: the stamp reads on to find a header."""
    text = (app / TYPES).read_text(encoding="utf-8")
    (app / TYPES).write_text("/*" + " " * 2000 + "*/ " + text, encoding="utf-8")
    stray = app / "src/lib/old/events.ts"
    stray.parent.mkdir()
    stray.write_text("/*" + " " * 2000 + "*/ " + text, encoding="utf-8")
    same_verdict(app)


def test_until_and_the_count_are_vouched_for(app: Path) -> None:
    edit(
        app,
        SPEC,
        "  - name: feature:updated\n",
        "  - name: feature:updated\n    renamed_from: [feature:changed]\n    sunset: 2001-01-01\n",
    )
    assert eventgen(app, "generate").exit == 0
    edit(app, MODELS, " until=2001-01-01", "")
    assert same_verdict(app) == 1


def test_the_count_is_vouched_for(app: Path) -> None:
    text = (app / MODELS).read_text(encoding="utf-8")
    (app / MODELS).write_text(re.sub(r" n=\d+", " n=999", text, count=1), encoding="utf-8")
    same_verdict(app)


def test_a_symlinked_spec_keeps_its_name_in_generated_code(app: Path, tmp_path: Path) -> None:
    outside = tmp_path / "specs" / "feature.yaml"
    outside.parent.mkdir()
    (app / SPEC).rename(outside)
    (app / SPEC).symlink_to(outside)
    assert eventgen(app, "generate", env={FULL_PATH_ENV: "1"}).exit == 0
    assert str(app) not in (app / SOCKET).read_text(encoding="utf-8") + (app / MODELS).read_text(encoding="utf-8")
    assert same_verdict(app) == 0


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python's ast takes PEP 701 f-strings")
def test_syntax_only_libcst_takes_is_invalid_input(app: Path) -> None:
    """A router libcst parses but this Python's ast does not: a positioned error, not exit 3."""
    with (app / ROUTER).open("a", encoding="utf-8") as f:
        f.write('d = {}\ny = f"{d["k"]}"\n')
    assert same_verdict(app) == 2
    assert "features.py:43:11: cannot parse Python" in eventgen(app, "check", env={FULL_PATH_ENV: "1"}).output
