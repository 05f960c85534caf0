"""An access callable of the project's own that does not exist is invalid input: the generated
imports would stop the server from starting. One from an installed package cannot be checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import eventgen
from support.tree import snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "openwebui-mini"
ACCESS = "open_webui.socket.access:can_read_feature"


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    return root


@pytest.mark.parametrize(
    ("access", "message"),
    [
        (
            "open_webui.socket.access:can_read_featur",
            "'can_read_featur' is not defined at the top level of backend/open_webui/socket/access.py",
        ),
        (
            "open_webui.socket.acces:can_read_feature",
            "access module 'open_webui.socket.acces' not found (looked for backend/open_webui/socket/acces.py)",
        ),
    ],
)
def test_a_missing_project_access_callable_is_exit_2_at_the_spec(app: Path, capsys, access: str, message: str) -> None:
    spec = app / "events" / "feature.yaml"
    spec.write_text(spec.read_text().replace(ACCESS, access))
    before = snapshot(app)
    for command in ("check", "generate"):
        run = eventgen(app, command)
        assert run.exit == 2 and f"events/feature.yaml:8:13: {message}" in run.stderr
    assert snapshot(app) == before


def test_an_installed_package_callable_is_taken_on_trust(app: Path) -> None:
    spec = app / "events" / "feature.yaml"
    spec.write_text(spec.read_text().replace(ACCESS, "some_installed_pkg.rules:can_read"))
    assert eventgen(app, "generate").exit == 0
    assert "from some_installed_pkg.rules import can_read" in (app / "backend/open_webui/socket/main.py").read_text()
