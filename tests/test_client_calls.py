"""Issue 17 without Node or a server: the new spec keys, `check` past a sunset, `list`, AsyncAPI, the models helpers."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.cli import eventgen

from generator.spec.models import EventSpec

REPO = Path(__file__).resolve().parent.parent
SPECS = Path(__file__).resolve().parent / "runtime_specs"


def event(**extra: Any) -> dict[str, Any]:
    return {"name": "calls:echo", "direction": "client_to_server", "action": "handle", "handler": "app.h:echo", **extra}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"action": "join", "room": "r", "handler": None, "idempotent": True}, "'idempotent' is for action 'handle'"),
        ({"renamed_from": ["calls:echo"]}, "is the event's current name"),
        ({"sunset": "2027-01-01"}, "'sunset' dates the old names"),
        ({"renamed_from": ["echo", "echo"]}, "listed twice"),
        ({"renamed_from": ["connect"]}, "reserved by Socket.IO"),
        ({"renamed_from": ["echo"], "sunset": "next year"}, "is not a date"),
        ({"timeout_ms": 0}, "greater than or equal to 1"),
        ({"idempotent": True, "payload": {"idempotency_key": "str"}}, "the key an idempotent event's retries carry"),
    ],
)
def test_new_keys_refuse_what_cannot_work(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EventSpec.model_validate({k: v for k, v in event(**extra).items() if v is not None})


def test_a_single_old_name_and_a_quoted_date_are_read() -> None:
    e = EventSpec.model_validate(event(renamed_from="echo", sunset="2027-01-31", timeout_ms=500, idempotent=True))
    assert e.renamed_from == ["echo"] and str(e.sunset) == "2027-01-31" and e.effective_timeout_ms == 500


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(
        REPO / "examples/openwebui-mini", root, ignore=shutil.ignore_patterns("node_modules", "__pycache__")
    )
    shutil.copy2(SPECS / "calls.yaml", root / "events/calls.yaml")
    shutil.copy2(SPECS / "calls_handlers.py", root / "backend/open_webui/socket/calls_handlers.py")
    assert eventgen(root, "generate").exit == 0
    return root


def test_check_fails_once_a_sunset_has_come_naming_each_old_name(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert eventgen(app, "check").exit == 0
    spec = app / "events/calls.yaml"
    spec.write_text(
        spec.read_text().replace(
            "sunset: 2099-01-01\n    payload:\n      text: str", "sunset: 2020-01-01\n    payload:\n      text: str"
        )
    )
    assert eventgen(app, "generate").exit == 0
    run = eventgen(app, "check")
    assert run.exit == 1
    out = run.stdout
    line = spec.read_text().splitlines().index("    renamed_from: [echo]") + 1
    assert (
        f"events/calls.yaml:{line}: old name 'echo' of event 'calls:echo' (sunset 2020-01-01 has passed; remove 'echo' from renamed_from)"
        in out
    )
    assert out.rstrip().endswith("eventgen: drift: 1 old event name past its sunset: remove it from renamed_from")
    run = eventgen(app, "check", "--format", "json")
    assert run.exit == 1
    doc = json.loads(run.stdout)
    assert [p["kind"] for p in doc["problems"]] == ["expired"]


def test_list_and_asyncapi_show_old_names_as_deprecated(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = eventgen(app, "list", "--format", "json")
    assert run.exit == 0
    entries = {e["name"]: e for e in json.loads(run.stdout)["events"]}
    assert entries["desk.note"]["renamed_to"] == "desk:note" and entries["desk.note"]["sunset"] == "2099-01-01"
    assert entries["desk.note"]["managed"] and entries["desk:note"]["renamed_to"] is None
    # The generated @sio.on("echo") is the spec's, not a hand-written handler.
    assert entries["echo"]["managed"] and entries["echo"]["found"] == []
    run = eventgen(app, "list")
    assert run.exit == 0
    assert "note: echo is an old name of calls:echo (deprecated), served until 2099-01-01" in run.stdout
    run = eventgen(app, "export", "asyncapi", "--format", "json")
    assert run.exit == 0
    doc = json.loads(run.stdout)
    old = {m["name"]: m for m in doc["components"]["messages"].values() if m.get("deprecated")}
    assert set(old) == {"echo", "desk-enter", "desk-chat", "desk-note", "desk.note"}
    assert old["desk.note"]["x-eventgen-renamed-to"] == "desk:note"
    new = [m for m in doc["components"]["messages"].values() if m.get("name") == "desk:note"]
    assert new and not new[0].get("deprecated")


def load_models(app: Path) -> ModuleType:
    path = app / "backend/open_webui/socket/event_models.py"
    spec = importlib.util.spec_from_file_location(f"models_{id(app)}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_old_names_are_emitted_before_the_sunset_only(app: Path) -> None:
    models = load_models(app)
    assert models.before_sunset(("a", "b"), "2099-01-01") == ("a", "b")
    assert models.before_sunset(("a", "b"), "2020-01-01") == ()


def test_once_in_memory_runs_once_per_key_and_forgets_a_failure(app: Path) -> None:
    models = load_models(app)
    runs: list[str] = []

    async def scenario() -> None:
        async def charge(tag: str, fail: bool = False) -> Any:
            runs.append(tag)
            await asyncio.sleep(0.05)
            if fail:
                raise RuntimeError("boom")
            return {"tag": tag}

        payload = models.CallsChargePayload.model_validate({"amount": 1, "idempotency_key": "k"})
        assert payload.model_dump() == {"amount": 1, "ms": 0}  # the key never reaches a handler's dump
        user = {"id": "alice"}
        first, second = await asyncio.gather(
            models.once(None, "calls:charge", user, payload, lambda: charge("first"), wait_s=2),
            models.once(None, "calls:charge", user, payload, lambda: charge("second"), wait_s=2),
        )
        assert first == second == {"tag": "first"} and runs == ["first"]
        # Another user with the same key is another call; a waiter that runs out of time is told so.
        other = await models.once(None, "calls:charge", {"id": "bob"}, payload, lambda: charge("bob"), wait_s=2)
        assert other == {"tag": "bob"}
        slow = models.CallsChargePayload.model_validate({"amount": 1, "idempotency_key": "slow"})
        task = asyncio.create_task(models.once(None, "calls:charge", user, slow, lambda: charge("slow"), wait_s=2))
        await asyncio.sleep(0.01)
        with pytest.raises(models.Refused) as refused:
            await models.once(None, "calls:charge", user, slow, lambda: charge("never"), wait_s=0.01)
        assert refused.value.code == "timeout"
        await task
        # A first call that raised leaves nothing behind: the retry runs.
        broken = models.CallsChargePayload.model_validate({"amount": 1, "idempotency_key": "broken"})
        with pytest.raises(RuntimeError):
            await models.once(None, "calls:charge", user, broken, lambda: charge("broken", fail=True), wait_s=2)
        assert await models.once(None, "calls:charge", user, broken, lambda: charge("again"), wait_s=2) == {
            "tag": "again"
        }
        # Without a key nothing is remembered.
        bare = models.CallsChargePayload.model_validate({"amount": 1})
        await models.once(None, "calls:charge", user, bare, lambda: charge("bare1"), wait_s=2)
        await models.once(None, "calls:charge", user, bare, lambda: charge("bare2"), wait_s=2)

    asyncio.run(scenario())
    assert runs == ["first", "bob", "slow", "broken", "again", "bare1", "bare2"]
