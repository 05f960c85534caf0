"""CONTRACT 10, telemetry (issue 16): a client's W3C trace context parents the handler's span.

The example app with `telemetry = "opentelemetry"`, served by uvicorn with the OpenTelemetry SDK
(a span processor that writes every finished span to a JSON-lines file), called by real
python-socketio clients. A client sends `traceparent` / `tracestate` as keys of an event's payload
object, or as headers of its handshake; the payload's win. Malformed, oversized or non-string
values are ignored as if not sent (the span's parent is then the current context: the connection's
span that this FastAPI's own ASGI telemetry records, or none), and the handler still runs and acks.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from support.cli import eventgen
from support.runtime import ACK_TIMEOUT, EXAMPLE, SOCKET_PATH, LogWatch, ServerProcess, mint_tokens, run_async

pytest_plugins = ["support.runtime"]
pytest.importorskip("opentelemetry.sdk", reason="the test extra installs opentelemetry-sdk")

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
HANDSHAKE_TRACE, HANDSHAKE_PARENT = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
PAYLOAD = {"feature_id": "f1"}  # feature:subscribe, a join the example grants every signed-in user

# Serves the app with an SDK tracer provider; every finished span is one JSON line in $SPANS_FILE.
TRACED_APP = """
import json, os
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult


class FileExporter(SpanExporter):
    def export(self, spans):
        with open(os.environ["SPANS_FILE"], "a") as out:
            for s in spans:
                out.write(json.dumps({
                    "name": s.name,
                    "trace_id": format(s.context.trace_id, "032x"),
                    "parent_id": format(s.parent.span_id, "016x") if s.parent else None,
                    "tracestate": s.context.trace_state.to_header(),
                    "attributes": dict(s.attributes),
                }) + "\\n")
        return SpanExportResult.SUCCESS


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(FileExporter()))
trace.set_tracer_provider(provider)

from open_webui.main import app  # noqa: E402
"""


@pytest.fixture(scope="module")
def traced_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path, dict[str, str]]]:
    app = tmp_path_factory.mktemp("trace") / "app"
    shutil.copytree(
        EXAMPLE,
        app,
        ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build", ".pytest_cache"),
    )
    (app / "eventgen.toml").write_text('telemetry = "opentelemetry"\n')
    run = eventgen(app, "generate")
    assert run.exit == 0, run.output
    (app / "backend" / "traced_app.py").write_text(TRACED_APP)
    spans = app / "spans.jsonl"
    proc = ServerProcess(app, app / "server.log", env={"SPANS_FILE": str(spans)}, target="traced_app:app").start()
    try:
        yield proc, spans, mint_tokens(app)
    finally:
        proc.stop()


async def _client(url: str, token: str, headers: dict[str, str] | None = None) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        url,
        socketio_path=SOCKET_PATH,
        transports=["websocket"],
        auth={"token": token},
        headers=headers or {},
        wait_timeout=ACK_TIMEOUT,
    )
    return client


def _process_spans(spans: Path, since: int) -> list[dict[str, Any]]:
    lines = spans.read_text().splitlines()[since:] if spans.exists() else []
    return [span for span in map(json.loads, lines) if span["name"].startswith("process ")]


def _seen(spans: Path) -> int:
    return len(spans.read_text().splitlines()) if spans.exists() else 0


async def _handled(client: socketio.AsyncClient, spans: Path, payload: Any) -> dict[str, Any]:
    """Send feature:subscribe with this payload; it must be acked ok. Its one process span."""
    before = _seen(spans)
    reply = await client.call("feature:subscribe", payload, timeout=ACK_TIMEOUT)
    assert reply == {"ok": True, "room": "feature:f1"}, reply
    (span,) = _process_spans(spans, before)  # exported when it ended, before the ack left
    return span


@run_async()
async def test_a_payload_traceparent_parents_the_handler_span_and_is_not_user_data(
    traced_server: tuple[ServerProcess, Path, dict[str, str]],
) -> None:
    server, spans, tokens = traced_server
    watch = LogWatch([server])
    client = await _client(server.url, tokens["alice"])
    try:
        span = await _handled(client, spans, {**PAYLOAD, "traceparent": TRACEPARENT, "tracestate": "vendor=abc"})
        assert (span["trace_id"], span["parent_id"]) == (TRACE_ID, PARENT_ID)
        assert span["tracestate"] == "vendor=abc"
        # The trace keys are not the payload: the model (extra keys forbidden) accepted it, and the size is the user's data.
        assert span["attributes"]["messaging.message.body.size"] == len(json.dumps(PAYLOAD, separators=(",", ":")))
        # Without trace keys the current context parents it: none, or the connection's span when an
        # ASGI instrumentation made one (this FastAPI's own telemetry does). Never the last event's.
        plain = await _handled(client, spans, PAYLOAD)
        assert plain["parent_id"] != PARENT_ID and plain["trace_id"] != TRACE_ID
    finally:
        await client.disconnect()
    watch.check()


@run_async()
async def test_a_handshake_traceparent_is_the_fallback_and_a_payload_one_wins(
    traced_server: tuple[ServerProcess, Path, dict[str, str]],
) -> None:
    server, spans, tokens = traced_server
    client = await _client(
        server.url, tokens["bob"], headers={"traceparent": f"00-{HANDSHAKE_TRACE}-{HANDSHAKE_PARENT}-01"}
    )
    try:
        span = await _handled(client, spans, PAYLOAD)
        assert (span["trace_id"], span["parent_id"]) == (HANDSHAKE_TRACE, HANDSHAKE_PARENT)
        span = await _handled(client, spans, {**PAYLOAD, "traceparent": TRACEPARENT})
        assert (span["trace_id"], span["parent_id"]) == (TRACE_ID, PARENT_ID)
    finally:
        await client.disconnect()


BAD_TRACE_CONTEXTS: list[dict[str, Any]] = [
    {"traceparent": "00-not-a-trace-01"},
    {"traceparent": f"00-{'0' * 32}-{PARENT_ID}-01"},  # an all-zero trace id is invalid
    {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01-extra"},  # version 00 has exactly four fields
    {"traceparent": f"01-{TRACE_ID}-{PARENT_ID}-01-" + "f" * 300},  # a future version, but longer than accepted
    {"traceparent": 12345},
    {"traceparent": [TRACEPARENT]},
    {"traceparent": None, "tracestate": "x" * 100_000},
    {"tracestate": "vendor=abc"},  # a tracestate alone says nothing
]


@run_async()
async def test_malformed_or_oversized_trace_context_starts_a_new_trace_and_the_handler_answers(
    traced_server: tuple[ServerProcess, Path, dict[str, str]],
) -> None:
    server, spans, tokens = traced_server
    watch = LogWatch([server])
    client = await _client(server.url, tokens["carol"])
    try:
        plain = await _handled(client, spans, PAYLOAD)
        for bad in BAD_TRACE_CONTEXTS:
            span = await _handled(client, spans, {**PAYLOAD, **bad})
            assert span["parent_id"] == plain["parent_id"] and span["trace_id"] != TRACE_ID, (bad, span)
            assert "error.type" not in span["attributes"], (bad, span)
        assert client.connected
    finally:
        await client.disconnect()
    # A malformed handshake header is ignored the same way.
    client = await _client(server.url, tokens["carol"], headers={"traceparent": "garbage"})
    try:
        span = await _handled(client, spans, PAYLOAD)
        assert span["parent_id"] not in (PARENT_ID, HANDSHAKE_PARENT) and span["trace_id"] not in (
            TRACE_ID,
            HANDSHAKE_TRACE,
        )
    finally:
        await client.disconnect()
    watch.check()
