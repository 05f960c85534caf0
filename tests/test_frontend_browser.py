"""Generated listeners in a real browser against the example app served for real.

The example app (examples/openwebui-mini) is copied, generated into with eventgen and served by
uvicorn; a page bundled by Vite mounts the generated FeatureUpdates listener twice (the runes
version, and the Svelte 4 syntax version running on Svelte 5 as Open WebUI runs its components)
and headless Chromium loads it. A second page runs the Svelte 4 syntax version on Svelte 4 itself.
The tests change features over HTTP and read the DOM.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.cli import eventgen
from support.frontend import (
    NODE_DIR,
    Browser,
    copy_example,
    kit_sync,
    legacy_listener,
    link_node_modules,
    require_node,
    static_server,
    uvicorn_server,
    vite_build,
)

pytestmark = [pytest.mark.node, pytest.mark.browser]

SECRET = "browser-test-secret"
PAGE = NODE_DIR / "page"


def token(user_id: str) -> str:
    """The example app's demo token (open_webui.utils.auth.create_token) for our secret."""
    return f"{user_id}.{hmac.new(SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()}"


@dataclasses.dataclass
class Site:
    root: Path
    www: Path  # /5/: the Svelte 5 page, /4/: the Svelte 4 page
    ssr: Path
    legacy: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = copy_example(tmp_path_factory.mktemp("app") / "openwebui-mini")
    assert eventgen(root, "generate").exit == 0
    assert (root / "src/lib/components/realtime/FeatureUpdates.svelte").is_file()

    # The same spec in Svelte 4 syntax, written as generate would with svelte = "4".
    legacy = legacy_listener(root)

    kit_sync(root)
    alias = {"$lib": root / "src/lib", "$legacy": legacy}
    www, ssr = root / "www", root / "dist-ssr"
    assert vite_build(PAGE, www / "5", alias) == []
    assert vite_build(PAGE, www / "4", alias, page="svelte4.html", svelte="4") == []
    assert vite_build(PAGE, ssr, alias, ssr="ssr.ts") == []
    return Site(root, www, ssr, legacy)


@pytest.fixture(scope="module")
def served(site: Site) -> Iterator[tuple[str, str]]:
    """(page origin, backend URL): two origins, as Vite's dev server and the backend are."""
    with static_server(site.www) as page:
        env = {"CORS_ALLOW_ORIGINS": page, "WEBUI_SECRET_KEY": SECRET, "WEBSOCKET_MANAGER": ""}
        with uvicorn_server(site.root / "backend", "open_webui.main:app", env) as api:
            yield page, api


def update(api: str, feature: str, user: str, data: dict[str, Any]) -> None:
    resp = httpx.put(
        f"{api}/api/v1/features/{feature}",
        json={"data": data},
        headers={"Authorization": f"Bearer {token(user)}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text


def logged(browser: Browser, component: str, kind: str, page: str = "main") -> list[Any]:
    return browser.eval(
        f"harness.log.filter(e => e.component === {json.dumps(component)} && e.kind === {json.dumps(kind)}).map(e => e.value)",
        page,
    )


def steps(values: list[Any]) -> list[Any]:
    return [v["data"]["data"].get("step") for v in values]


def wait_until_left(browser: Browser, api: str, old: str, new: str, page: str = "main") -> int:
    """Update `old` then `new` until an update of `old` no longer reaches the page's own handler.

    A socket.io connection delivers in order, so once the `new` marker has arrived, an `old`
    update sent before it would have arrived too, had the socket still been in the room.
    The leave is asynchronous on the server, hence a few attempts; returns the last one.
    """
    deadline = time.monotonic() + 10
    attempt = 0
    while True:
        attempt += 1
        update(api, old, "carol", {"step": f"after-leave-{attempt}"})
        update(api, new, "carol", {"step": f"marker-{attempt}"})
        browser.wait(f"harness.raw.some(p => p.data.data.step === 'marker-{attempt}')", page)
        raw_steps = browser.eval("harness.raw.map(p => p.data.data.step)", page)
        if f"after-leave-{attempt}" not in raw_steps:
            return attempt
        assert time.monotonic() < deadline, f"the socket never left {old}: {raw_steps}"


def test_listener_follows_store_reconnects_and_room_changes(served: tuple[str, str], browser: Browser) -> None:
    page, api = served
    browser.open(f"{page}/5/?api={api}&a=f1&b=f1")

    # Mounted while the socket store is still null: nothing joined, nothing thrown.
    assert browser.text("#runes-joined") == "false"
    assert browser.text("#legacy-joined") == "false"

    # The store becomes non-null after mount (as +layout.svelte does): both listeners join.
    browser.eval(f"harness.connect({json.dumps(token('carol'))})")
    browser.wait(
        "document.querySelector('#runes-joined').textContent === 'true' && document.querySelector('#legacy-joined').textContent === 'true'"
    )

    update(api, "f1", "carol", {"step": "one"})
    browser.wait("document.querySelector('#runes-latest').textContent.includes('\"step\":\"one\"')")
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('\"step\":\"one\"')")
    assert steps(logged(browser, "runes", "callback")) == ["one"]
    assert steps(logged(browser, "legacy", "callback")) == ["one"]
    assert steps(logged(browser, "legacy", "dispatched")) == ["one"]

    # A dropped connection: socket.io reconnects with a new session that is in no room until re-joined.
    first_sid = browser.eval("harness.socketId()")
    browser.eval("harness.dropConnection()")
    browser.wait(f"harness.connected() && harness.socketId() !== {json.dumps(first_sid)}", timeout=15)
    browser.wait(
        "document.querySelector('#runes-joined').textContent === 'true' && document.querySelector('#legacy-joined').textContent === 'true'"
    )
    update(api, "f1", "carol", {"step": "two"})
    browser.wait("document.querySelector('#runes-latest').textContent.includes('\"step\":\"two\"')")
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('\"step\":\"two\"')")

    # The room prop changes: the runes listener moves to f2; the legacy one stays in f1.
    browser.eval("harness.setRoom('a', 'f2')")
    browser.wait(
        "document.querySelector('#runes-room').textContent === 'f2' && document.querySelector('#runes-joined').textContent === 'true'"
    )
    assert browser.text("#runes-latest") == ""  # the old room's payload is not shown as the new room's
    update(api, "f1", "carol", {"step": "three"})
    update(api, "f2", "carol", {"step": "uno"})
    browser.wait("document.querySelector('#runes-latest').textContent.includes('\"step\":\"uno\"')")
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('\"step\":\"three\"')")
    # f1 events reach the socket (the legacy listener still holds f1) but not the runes listener.
    assert steps(logged(browser, "runes", "callback")) == ["one", "two", "uno"]
    assert steps(logged(browser, "legacy", "callback")) == ["one", "two", "three"]

    # The last holder of f1 goes away: the socket leaves f1 on the server, and the page's own
    # `feature:updated` handler is still attached (listeners remove only their own handlers).
    browser.eval("harness.unmountLegacy()")
    attempt = wait_until_left(browser, api, "f1", "f2")
    assert browser.eval("harness.listenerCount('feature:updated')") == 2  # the runes listener's and the page's
    assert browser.eval("harness.ownHandlerAttached()") is True
    assert steps(logged(browser, "runes", "callback"))[-1] == f"marker-{attempt}"
    assert browser.errors() == []


def test_svelte_4_syntax_listener_on_svelte_4(served: tuple[str, str], browser: Browser) -> None:
    """The legacy output on Svelte 4's own runtime: store after mount, reconnect, room change, destroy."""
    page, api = served
    tab = "svelte4"
    browser.open(f"{page}/4/svelte4.html?api={api}&b=f1", page=tab)
    assert browser.eval("typeof harness.unmountLegacy", tab) == "function"
    assert browser.text("#legacy-joined", tab) == "false"

    browser.eval(f"harness.connect({json.dumps(token('carol'))})", tab)
    browser.wait("document.querySelector('#legacy-joined').textContent === 'true'", tab)
    update(api, "f1", "carol", {"step": "s4-one"})
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('s4-one')", tab)

    first_sid = browser.eval("harness.socketId()", tab)
    browser.eval("harness.dropConnection()", tab)
    browser.wait(f"harness.connected() && harness.socketId() !== {json.dumps(first_sid)}", tab, timeout=15)
    browser.wait("document.querySelector('#legacy-joined').textContent === 'true'", tab)
    update(api, "f1", "carol", {"step": "s4-two"})
    browser.wait("document.querySelector('#legacy-latest').textContent.includes('s4-two')", tab)

    # The only holder of f1 moves to f2: it leaves f1 on the server, and f1 updates stop.
    browser.eval("harness.setRoom('b', 'f2')", tab)
    browser.wait(
        "document.querySelector('#legacy-room').textContent === 'f2' && document.querySelector('#legacy-joined').textContent === 'true'",
        tab,
    )
    attempt = wait_until_left(browser, api, "f1", "f2", tab)
    browser.wait(f"document.querySelector('#legacy-latest').textContent.includes('marker-{attempt}')", tab)
    seen = steps(logged(browser, "legacy", "callback", tab))
    assert seen[:2] == ["s4-one", "s4-two"] and not any(str(step).startswith("after-leave") for step in seen)
    assert steps(logged(browser, "legacy", "dispatched", tab)) == seen

    # Destroyed: exactly its own handlers are gone; the page's handler stays attached.
    counts = {
        e: browser.eval(f"harness.listenerCount('{e}')", tab) for e in ("feature:updated", "connect", "disconnect")
    }
    browser.eval("harness.unmountLegacy()", tab)
    assert {e: browser.eval(f"harness.listenerCount('{e}')", tab) for e in counts} == {
        e: n - 1 for e, n in counts.items()
    }
    assert browser.eval("harness.ownHandlerAttached()", tab) is True
    assert browser.errors(tab) == []


def test_refused_join_reaches_onerror_and_the_error_event(served: tuple[str, str], browser: Browser) -> None:
    page, api = served
    # alice reads f1 but not f2 (open_webui.socket.access.can_read_feature).
    browser.open(f"{page}/5/?api={api}&a=f2&b=f2", page="alice")
    browser.eval(f"harness.connect({json.dumps(token('alice'))})", page="alice")
    browser.wait("document.querySelector('#runes-error').textContent === 'forbidden'", page="alice")
    browser.wait("document.querySelector('#legacy-error').textContent === 'forbidden'", page="alice")
    assert browser.text("#runes-joined", page="alice") == "false"
    for component, kind in (("runes", "error"), ("legacy", "error"), ("legacy", "error-dispatched")):
        (entry,) = logged(browser, component, kind, page="alice")
        assert entry["event"] == "feature:subscribe"
        assert entry["ack"] == {"ok": False, "error": {"code": "forbidden", "message": "access denied"}}

    # Moving to a room alice may read clears the error and joins.
    browser.eval("harness.setRoom('a', 'f1')", page="alice")
    browser.wait(
        "document.querySelector('#runes-joined').textContent === 'true' && document.querySelector('#runes-error').textContent === ''",
        page="alice",
    )
    update(api, "f1", "alice", {"step": "alice-one"})
    browser.wait("document.querySelector('#runes-latest').textContent.includes('alice-one')", page="alice")
    assert browser.errors(page="alice") == []


def test_server_side_rendering_never_touches_the_socket(site: Site) -> None:
    proc = subprocess.run(
        [require_node(), str(site.ssr / "entry.mjs")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["touched"] == []
    assert len(result["bodies"]) == 2


def test_server_side_rendering_trap_catches_a_socket_touch(site: Site, tmp_path: Path) -> None:
    """The check above can fail: a component that reads the socket while rendering trips the trap."""
    unsafe = tmp_path / "unsafe"
    unsafe.mkdir()
    (unsafe / "FeatureUpdates.svelte").write_text(
        '<script lang="ts">\n\timport { socket } from "$lib/stores";\n\texport let featureId: string;\n'
        "\t$: connected = Boolean($socket?.connected) && featureId !== '';\n</script>\n\n<p>{connected}</p>\n"
    )
    link_node_modules(tmp_path)
    assert vite_build(PAGE, tmp_path / "ssr", {"$lib": site.root / "src/lib", "$legacy": unsafe}, ssr="ssr.ts") == []
    proc = subprocess.run(
        [require_node(), str(tmp_path / "ssr" / "entry.mjs")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode != 0
    assert "server-side rendering touched socket.connected" in proc.stderr
