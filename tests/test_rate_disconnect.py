"""Config `rate_limit_disconnect_after` / `rate_limit_disconnect_window_s` (CONTRACT 10, issue 16):
the keys' checks, what is generated, and the generated counter driven with a fake clock and server
(the served behaviour is tests/test_runtime_rate_disconnect.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.cli import eventgen
from support.golden import materialise_input

from generator.config import config_from_text
from generator.errors import EventgenError

GOLDEN = Path(__file__).resolve().parent / "golden"
POLICIES = Path(__file__).resolve().parent / "runtime_specs" / "policies"


def _app(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "app"
    materialise_input("fresh_insert", root)
    shutil.copy2(POLICIES / "policies.yaml", root / "events" / "policies.yaml")
    (root / "eventgen.toml").write_text(config)
    run = eventgen(root, "generate")
    assert run.exit == 0, run.output
    return root


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rate_limit_disconnect_after = -1\n", "'rate_limit_disconnect_after' must be between 0 and 100000, not -1"),
        (
            "rate_limit_disconnect_after = 2.5\n",
            "'rate_limit_disconnect_after' must be a whole number, not the number 2.5",
        ),
        ('rate_limit_disconnect_after = "3"\n', "'rate_limit_disconnect_after' must be a whole number, not a str"),
        (
            "rate_limit_disconnect_window_s = 0\n",
            "'rate_limit_disconnect_window_s' must be between 0.001 and 3600, not 0",
        ),
        (
            "rate_limit_disconnect_window_s = true\n",
            "'rate_limit_disconnect_window_s' must be a number of seconds, not the boolean true",
        ),
    ],
)
def test_the_keys_are_checked(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(EventgenError) as caught:
        config_from_text(tmp_path, text)
    assert [d.message for d in caught.value.diagnostics] == [message]


def test_the_keys_are_read() -> None:
    config = config_from_text(Path("."), "rate_limit_disconnect_after = 3\nrate_limit_disconnect_window_s = 2\n")
    assert (config.rate_limit_disconnect_after, config.rate_limit_disconnect_window_s) == (3, 2.0)
    assert config_from_text(Path("."), "").rate_limit_disconnect_after == 0  # off by default


def test_nothing_is_generated_when_off_or_without_rate_limits(tmp_path: Path) -> None:
    off = _app(tmp_path / "off", "rate_limit_disconnect_window_s = 2\n")
    assert "RATE_DISCONNECT" not in (off / "backend/open_webui/socket/event_models.py").read_text()
    without_limits = tmp_path / "plain"
    materialise_input("fresh_insert", without_limits)
    (without_limits / "eventgen.toml").write_text("rate_limit_disconnect_after = 3\n")
    assert eventgen(without_limits, "generate").exit == 0
    assert "RATE_DISCONNECT" not in (without_limits / "backend/open_webui/socket/event_models.py").read_text()


# The generated counter with a fake clock and a fake server: a sliding window of the last N refusals
# per socket, a disconnect when they fit in the window, and memory pruned of quiet and gone sockets.
DRIVER = """
import asyncio, json
from open_webui.socket import event_models as m

now = [0.0]
m.time = type("Clock", (), {"monotonic": staticmethod(lambda: now[0])})
gone = set()
disconnected = []

class Manager:
    def is_connected(self, sid, namespace):
        return sid not in gone

class Server:
    manager = Manager()
    async def disconnect(self, sid, namespace=None, ignore_queue=False):
        disconnected.append([sid, ignore_queue])

async def main():
    server = Server()
    async def refuse(sid, at):
        now[0] = at
        m._count_refusal(server, sid)
        await asyncio.sleep(0.01)
    for at in (0, 3, 6):  # three refusals, but never three within 5 s
        await refuse("spread", at)
    spread = list(disconnected)
    await refuse("spread", 7.5)  # 3, 6, 7.5: three within 5 s
    after_window = list(disconnected)
    await refuse("spread", 8)  # counting starts afresh for a socket that reconnected under this sid
    for i in range(3000):
        m._count_refusal(server, f"once-{i}")
    gone.update(f"once-{i}" for i in range(1500, 3000))
    now[0] = 9  # all within the window: only the gone sockets may go
    for i in range(1100):  # past the next doubling (4096): a prune
        m._count_refusal(server, f"fill-{i}")
    once_left = [k for k in m._refusals if k.startswith("once-")]
    now[0] = 200  # everything so far is older than the window
    for i in range(3000):
        m._count_refusal(server, f"later-{i}")
    old_left = [k for k in m._refusals if not k.startswith("later-")]
    print(json.dumps({"spread": spread, "after_window": after_window, "once_left": len(once_left), "gone_left": len(gone.intersection(once_left)), "old_left": len(old_left), "size": len(m._refusals)}))

asyncio.run(main())
"""


def test_the_generated_counter_slides_over_the_window_and_prunes(tmp_path: Path) -> None:
    root = _app(tmp_path, "rate_limit_disconnect_after = 3\nrate_limit_disconnect_window_s = 5\n")
    backend = root / "backend"
    env = {**os.environ, "PYTHONPATH": str(backend), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DRIVER)],
        cwd=backend,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["spread"] == []
    assert result["after_window"] == [["spread", True]]  # disconnected here only, without the message queue
    # Pruned when the table doubled: the gone sockets went, the live ones within the window stayed;
    # later, everything older than the window went. Memory follows the sockets refused lately.
    assert (result["once_left"], result["gone_left"]) == (1500, 0)
    assert result["old_left"] == 0 and result["size"] <= 3000
