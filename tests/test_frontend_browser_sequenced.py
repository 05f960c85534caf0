"""A generated listener of a sequenced room (CONTRACT 8) in headless Chromium: mounted, forced
offline while the router emits 20 updates, back online, it shows all 20 in order (the runes
component and the Svelte 4 syntax one, on Svelte 5), with no duplicate."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
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
from test_frontend_browser import PAGE, SECRET, logged, steps, token, update

pytestmark = [pytest.mark.node, pytest.mark.browser]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = copy_example(tmp_path_factory.mktemp("app") / "openwebui-mini")
    spec = root / "events/feature.yaml"
    spec.write_text(spec.read_text().replace(
        "    access: open_webui.socket.access:can_read_feature\n",
        "    access: open_webui.socket.access:can_read_feature\n    delivery: sequenced\n    history: {size: 100, ttl_s: 600}\n",
    ))  # fmt: skip
    assert eventgen(root, "generate").exit == 0
    assert "SequencedRoom" in (root / "src/lib/components/realtime/FeatureUpdates.svelte").read_text()
    legacy = legacy_listener(root)
    kit_sync(root)
    www = root / "www"
    assert vite_build(PAGE, www / "5", {"$lib": root / "src/lib", "$legacy": legacy}) == []
    with static_server(www) as page:
        env = {"CORS_ALLOW_ORIGINS": page, "WEBUI_SECRET_KEY": SECRET, "WEBSOCKET_MANAGER": ""}
        with uvicorn_server(root / "backend", "open_webui.main:app", env) as api:
            yield page, api


def test_offline_listener_gets_all_20_updates_in_order_when_back(served: tuple[str, str], browser: Browser) -> None:
    page, api = served
    browser.open(f"{page}/5/?api={api}&a=f1&b=f1")
    browser.eval(f"harness.connect({json.dumps(token('carol'))})")
    joined = "document.querySelector('#runes-joined').textContent === 'true' && document.querySelector('#legacy-joined').textContent === 'true'"
    browser.wait(joined)
    update(api, "f1", "carol", {"step": 0})
    browser.wait("document.querySelector('#runes-latest').textContent.includes('\"step\":0')")
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('\"step\":0')")

    browser.eval("harness.goOffline()")
    browser.wait("!harness.connected()")
    for step in range(1, 21):
        update(api, "f1", "carol", {"step": step})
    browser.eval("harness.goOnline()")
    browser.wait(joined, timeout=15)
    browser.wait("document.querySelector('#runes-latest').textContent.includes('\"step\":20')", timeout=15)
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('\"step\":20')", timeout=15)

    for component in ("runes", "legacy"):
        values = logged(browser, component, "callback")
        assert steps(values) == list(range(21)), component
        assert [v["seq"] for v in values] == list(range(1, 22)), component
    # Live again: the next update follows, once.
    update(api, "f1", "carol", {"step": 21})
    browser.wait("document.querySelector('#runes-latest').textContent.includes('\"step\":21')")
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('\"step\":21')")
    assert steps(logged(browser, "runes", "callback")) == list(range(22))
    assert browser.errors() == []
