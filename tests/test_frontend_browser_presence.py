"""A generated listener of a presence room (CONTRACT 9) in headless Chromium: mounted, it shows the
member list, which changes when a second user joins (with two tabs: one member, two connections) and
leaves (one tab by its leave event, the other by disconnecting). The runes component (snippet state) and
the Svelte 4 syntax one (slot prop and its `members` store), on Svelte 5."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio
from support.cli import eventgen
from support.frontend import (
    Browser,
    copy_example,
    kit_sync,
    legacy_listener,
    static_server,
    uvicorn_server,
    vite_build,
)
from support.runtime import LoopThread
from test_frontend_browser import PAGE, SECRET, token

pytestmark = [pytest.mark.node, pytest.mark.browser]

HARNESSES = Path(__file__).resolve().parent / "presence_page"
SHOWN = ("#runes-members", "#legacy-members", "#legacy-store")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = copy_example(tmp_path_factory.mktemp("app") / "openwebui-mini")
    spec = root / "events/feature.yaml"
    spec.write_text(spec.read_text().replace(
        "    access: open_webui.socket.access:can_read_feature\n",
        "    access: open_webui.socket.access:can_read_feature\n    presence: true\n",
    ))  # fmt: skip
    assert eventgen(root, "generate").exit == 0
    assert "PresenceState" in (root / "src/lib/components/realtime/FeatureUpdates.svelte").read_text()
    legacy = legacy_listener(root)
    page = root / "page"
    shutil.copytree(PAGE, page)  # the listener harness, with harnesses that show the members
    for harness in HARNESSES.glob("*.svelte"):
        shutil.copy2(harness, page / harness.name)
    kit_sync(root)
    www = root / "www"
    assert vite_build(page, www / "5", {"$lib": root / "src/lib", "$legacy": legacy}) == []
    with static_server(www) as site:
        env = {"CORS_ALLOW_ORIGINS": site, "WEBUI_SECRET_KEY": SECRET, "WEBSOCKET_MANAGER": ""}
        with uvicorn_server(root / "backend", "open_webui.main:app", env) as api:
            yield site, api


def _shows(browser: Browser, members: str) -> None:
    browser.wait(
        " && ".join(f"document.querySelector({json.dumps(s)}).textContent === {json.dumps(members)}" for s in SHOWN)
    )


async def _tab(api: str, user: str) -> socketio.AsyncClient:
    """Another user's tab: a python-socketio client on the websocket transport, in the room."""
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(api, socketio_path="/ws/socket.io", transports=["websocket"], auth={"token": token(user)})
    ack = await client.call("feature:subscribe", {"feature_id": "f1"}, timeout=5)
    assert ack["ok"] and "alice" in [m["id"] for m in ack["members"]], ack
    return client


def test_member_list_follows_a_second_user(served: tuple[str, str], browser: Browser) -> None:
    page, api = served
    browser.open(f"{page}/5/?api={api}&a=f1&b=f1")
    browser.eval(f"harness.connect({json.dumps(token('carol'))})")
    _shows(browser, "carol:1")  # both listeners share the page's one socket: one connection
    with LoopThread() as loop:
        first = loop.run(_tab(api, "alice"))
        _shows(browser, "alice:1,carol:1")
        second = loop.run(_tab(api, "alice"))
        _shows(browser, "alice:2,carol:1")  # two tabs, one member
        assert loop.run(second.call("feature:unsubscribe", {"feature_id": "f1"}, timeout=5))["ok"]
        _shows(browser, "alice:1,carol:1")
        loop.run(first.disconnect())  # no leave event: the disconnect is the leave
        _shows(browser, "carol:1")
        loop.run(second.disconnect())
    assert browser.text("#runes-joined") == "true"
    assert browser.errors() == []
