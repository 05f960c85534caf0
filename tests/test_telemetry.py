"""CONTRACT 10, telemetry: with `telemetry = "opentelemetry"` the generated handlers and emit helpers
record one span each (messaging semantic conventions) and a duration histogram; off, the generated
code imports nothing of OpenTelemetry. Driven through a real python-socketio AsyncServer
(tests/support/golden_runtime_probe.py) with the OpenTelemetry SDK's in-memory exporter and reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import eventgen
from support.golden import materialise_input, run_probe

pytest.importorskip("opentelemetry.sdk", reason="the test extra installs opentelemetry-sdk")


def _project(tmp_path: Path, telemetry: bool) -> Path:
    root = tmp_path / "app"
    materialise_input("fresh_insert", root)
    if telemetry:
        (root / "eventgen.toml").write_text('telemetry = "opentelemetry"\n')
    run = eventgen(root, "generate")
    assert run.exit == 0, run.output
    return root


SCENARIO = """
    import asyncio, json
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

    from support.golden_runtime_probe import Harness

    async def scenario(h):
        alice = await h.connect("alice-token")
        stranger = await h.connect(None)
        acks = [
            await h.call(alice, "feature:subscribe", {"feature_id": "f1"}),
            await h.call(alice, "feature:subscribe", {"feature_id": "secret"}),
            await h.call(stranger, "feature:subscribe", {"feature_id": "f1"}),
            await h.call(alice, "feature:unsubscribe", {"feature_id": 7}),
        ]
        from open_webui.socket.main import notify_feature_update
        await notify_feature_update(feature_id="f1", data={"x": 1})
        return acks

    acks = []

    async def main():
        async def run(h):
            acks.extend(await scenario(h))
        await Harness.run(run)

    asyncio.run(main())
    spans = [
        {"name": s.name, "kind": s.kind.name, "status": s.status.status_code.name, "attributes": dict(s.attributes)}
        for s in exporter.get_finished_spans()
    ]
    names = sorted(
        metric.name
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )
    print(json.dumps({"acks": acks, "spans": spans, "metrics": names}))
"""


def test_one_span_per_handled_event_and_per_emit_with_the_conventions(tmp_path: Path) -> None:
    root = _project(tmp_path, telemetry=True)
    proc = run_probe(root / "backend", SCENARIO)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    codes = [None if a["ok"] else a["error"]["code"] for a in result["acks"]]
    assert codes == [None, "forbidden", "unauthenticated", "invalid_payload"], result["acks"]
    spans = result["spans"]
    process = [s for s in spans if s["name"].startswith("process ")]
    send = [s for s in spans if s["name"].startswith("send ")]
    assert len(process) == 4 and len(send) == 1, [s["name"] for s in spans]
    assert {s["name"] for s in process} == {"process feature:{feature_id}"}  # the template, never the room
    for span in process:
        attributes = span["attributes"]
        assert span["kind"] == "CONSUMER"
        assert attributes["messaging.system"] == "socket.io" and attributes["messaging.operation.type"] == "process"
        assert attributes["messaging.destination.template"] == "feature:{feature_id}"
        assert attributes["messaging.message.body.size"] > 0
    granted, refused, stranger, invalid = process
    assert (
        granted["attributes"]["messaging.destination.name"] == "feature:f1"
        and "error.type" not in granted["attributes"]
    )
    assert granted["status"] == "UNSET"
    assert refused["attributes"]["error.type"] == "forbidden" and refused["status"] == "ERROR"
    assert stranger["attributes"]["error.type"] == "unauthenticated"
    assert invalid["attributes"]["error.type"] == "invalid_payload"
    (emit,) = send
    assert emit["kind"] == "PRODUCER" and emit["name"] == "send feature:{feature_id}"
    assert emit["attributes"]["messaging.operation.type"] == "send"
    assert emit["attributes"]["messaging.destination.name"] == "feature:f1"
    assert emit["attributes"]["messaging.operation.name"] == "feature:updated"
    assert {"messaging.process.duration", "messaging.client.operation.duration"} <= set(result["metrics"])


def test_off_the_generated_code_imports_nothing_of_opentelemetry(tmp_path: Path) -> None:
    root = _project(tmp_path, telemetry=False)
    generated = (root / "backend/open_webui/socket/event_models.py").read_text() + (
        root / "backend/open_webui/socket/main.py"
    ).read_text()
    assert "opentelemetry" not in generated and "traced" not in generated
    # python-socketio itself imports opentelemetry when it is installed: after it has, forget those
    # modules and refuse any new import of them, then import the app.
    script = (
        "import sys, socketio\n"
        "for name in [m for m in sys.modules if m.split('.')[0] == 'opentelemetry']:\n"
        "    del sys.modules[name]\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'opentelemetry':\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import open_webui.socket.main\n"
        "print('imported')\n"
    )
    proc = run_probe(root / "backend", script)
    assert proc.returncode == 0 and proc.stdout.strip() == "imported", proc.stdout + proc.stderr
    on = run_probe(_project(tmp_path / "on", telemetry=True) / "backend", script)
    assert on.returncode != 0 and "blocked: opentelemetry" in on.stderr, (
        on.stdout + on.stderr
    )  # the check sees an import


def test_a_telemetry_value_other_than_opentelemetry_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "app"
    materialise_input("fresh_insert", root)
    (root / "eventgen.toml").write_text('telemetry = "zipkin"\n')
    run = eventgen(root, "generate")
    assert (
        run.exit == 2
        and "eventgen.toml:1:1: 'telemetry' must be \"opentelemetry\" or \"\" (off), not 'zipkin'" in run.output
    ), run.output


def test_a_client_payload_field_named_like_a_trace_key_is_refused_with_telemetry_on(tmp_path: Path) -> None:
    root = tmp_path / "app"
    materialise_input("fresh_insert", root)
    spec = root / "events" / "feature.yaml"
    spec.write_text(
        spec.read_text().replace(
            "feature_id: {type: str", "traceparent: {type: str, required: false}\n      feature_id: {type: str", 1
        )
    )
    assert eventgen(root, "generate").exit == 0  # off: an ordinary field name
    (root / "eventgen.toml").write_text('telemetry = "opentelemetry"\n')
    run = eventgen(root, "generate")
    assert (
        run.exit != 0
        and "'traceparent' is where a client sends its W3C trace context while telemetry is on" in run.output
    ), run.output
