"""Benchmark `eventgen validate` on synthetic projects of N specs (default 200).

Each spec is a typical feature: a room with access, join/leave events, a relay
event, and a server event with long-form fields and an emit helper (5 events,
11 payload fields). Reported, median of --repeat runs:

  process   `python -m generator.cli validate` in a fresh process, as a pre-commit hook or CI pays it
  startup   `python -m generator.cli --help` (imports + click), the floor of any command
  in-proc   load_specs() alone, split into YAML (parse + positions), models (pydantic) and rules
  invalid   the same N specs each with one error: every error reported, exit 2

Usage: python benchmarks/bench_validate.py [--specs 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SPEC = """\
# yaml-language-server: $schema=../schemas/event-spec.schema.json
name: {name}
description: Synthetic spec {i} for the validate benchmark.

rooms:
  {name}:
    pattern: "{name}:{{item_id}}"
    access: open_webui.socket.access:can_read_{name}

events:
  - name: {name}:subscribe
    direction: client_to_server
    action: join
    room: {name}
    payload:
      item_id: {{type: str, min_length: 1, max_length: 128}}

  - name: {name}:unsubscribe
    direction: client_to_server
    action: leave
    room: {name}
    payload:
      item_id: str

  - name: {name}:typing
    direction: client_to_server
    action: relay
    room: {name}
    payload:
      item_id: str
      typing: bool

  - name: {name}:updated
    description: Item {i} changed.
    direction: server_to_client
    room: {name}
    payload:
      item_id: str
      data: dict[str, any]
      version: {{type: int, ge: 0}}
      tags: {{type: "list[str]", max_length: 20, required: false}}
      kind: {{type: str, enum: [created, updated, deleted], default: updated}}
    emit:
      helper: notify_{name}_updated
    listener: Live{component}

  - name: {name}:reset
    direction: server_to_client
    broadcast: true
    payload:
      reason: str | None
"""


def write_project(root: Path, n: int, *, broken: bool = False) -> None:
    events = root / "events"
    events.mkdir(parents=True)
    for i in range(n):
        name = f"feature_{i:04d}"
        text = SPEC.format(name=name, i=i, component=f"Feature{i:04d}")
        if broken:
            text = text.replace(
                "direction: server_to_client\n    broadcast: true", "direction: server_to_client\n    broadcast: yes"
            )
        (events / f"{name}.yaml").write_text(text)


def timed_process(args: list[str], repeat: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "generator.cli", *args], cwd=REPO, capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def in_process(root: Path, repeat: int) -> dict[str, float]:
    from generator.spec.load import load_specs
    from generator.spec.models import Spec
    from generator.spec.rules import check_specs
    from generator.spec.yaml_source import load_yaml

    files = sorted((root / "events").glob("*.yaml"))
    phases: dict[str, list[float]] = {"total": [], "yaml": [], "models": [], "rules": []}
    for _ in range(repeat):
        start = time.perf_counter()
        loaded = load_specs(files, root)
        phases["total"].append(time.perf_counter() - start)

        texts = [f.read_text() for f in files]
        start = time.perf_counter()
        docs = [load_yaml(t, "x.yaml")[0] for t in texts]
        phases["yaml"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for doc in docs:
            Spec.model_validate(doc)
        phases["models"].append(time.perf_counter() - start)
        start = time.perf_counter()
        check_specs(loaded)
        phases["rules"].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in phases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    n = opts.specs

    with tempfile.TemporaryDirectory() as tmp:
        good, bad = Path(tmp) / "good", Path(tmp) / "bad"
        write_project(good, n)
        write_project(bad, n, broken=True)
        size = sum(f.stat().st_size for f in (good / "events").glob("*.yaml"))

        startup, _ = timed_process(["--help"], opts.repeat)
        process, ok = timed_process(["-C", str(good), "validate"], opts.repeat)
        assert ok.returncode == 0, ok.stderr
        invalid, failed = timed_process(["-C", str(bad), "validate"], opts.repeat)
        assert failed.returncode == 2, failed.stderr
        errors = len(failed.stderr.splitlines())
        phases = in_process(good, opts.repeat)

    print(
        f"eventgen validate, {n} specs ({5 * n} events, {size / 1024:.0f} KiB of YAML), median of {opts.repeat}, Python {sys.version.split()[0]}"
    )
    print(f"  process  {process * 1000:8.1f} ms   fresh `python -m generator.cli validate`: {ok.stdout.strip()}")
    print(f"  startup  {startup * 1000:8.1f} ms   `--help` (imports + click)")
    print(f"  in-proc  {phases['total'] * 1000:8.1f} ms   load_specs() = {phases['total'] / n * 1000:.2f} ms per spec")
    print(f"    yaml   {phases['yaml'] * 1000:8.1f} ms   parse + positions + duplicate/YAML 1.1 checks")
    print(f"    models {phases['models'] * 1000:8.1f} ms   pydantic validation")
    print(f"    rules  {phases['rules'] * 1000:8.1f} ms   cross-spec rules")
    print(
        f"  invalid  {invalid * 1000:8.1f} ms   every spec with one error: exit {failed.returncode}, {errors} errors reported"
    )


if __name__ == "__main__":
    main()
