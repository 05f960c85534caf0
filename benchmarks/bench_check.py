"""Benchmark `eventgen generate` and `eventgen check` against the floor, at several project sizes.

Every timed command runs in a fresh Python process, as in a pre-commit hook or
CI step: that is what users pay. For each size N a copy of examples/openwebui-mini
gets N synthetic specs (see synth.py); then, median of --repeat runs each:

  generate (first)  on a fresh copy, writing every new spec's code
  generate (no-op)  right after, when there is nothing to do
  check             on the generated project (in sync): the fast path (issue 19)
  check, full path  the same with EVENTGEN_FULL_CHECK=1: what check cost before issue 19
  floor             floor.py: imports + yaml.safe_load of every spec + libcst
                    parse/print of the socket module + reading the other targets
  stamp floor       floor.py --stamp: start Python, read every spec and every generated
                    or patched file, hash them; the least a check trusting digests can do
  ruff format       `ruff format --check` on the same Python target files, for reference
  black --check     on the same Python target files, for reference: one run with an
                    empty cache (black caches only files it finds formatted; generated
                    code is not black-formatted, so a warm cache would not skip them)

Peak RSS is the child's ru_maxrss (os.wait4). Also: `eventgen --help` against
`python -c "import click"`, and the marginal cost of one more spec.

The ratios to the floors are medians of per-run ratios: each repeat runs every column
once, back to back (paired), so a burst of load on this shared machine hits both sides.
CPU time (user + system) is what the targets are stated in; the load average is printed.
`--scale N` also times `generate` from scratch at N specs (wall, CPU, peak RSS).

Usage: python benchmarks/bench_check.py [--sizes 1,10,50,200,500] [--repeat 5] [--no-black] [--scale 1000] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import ROUTER, synthesize  # a sibling helper, not a package

REPO = Path(__file__).resolve().parent.parent
FLOOR = Path(__file__).resolve().parent / "floor.py"
SOCKET = "backend/open_webui/socket/main.py"
MODELS = "backend/open_webui/socket/event_models.py"
TYPES = "src/lib/socket/events.ts"
COMPONENTS = "src/lib/components/realtime"
ROUTERS = ("backend/open_webui/routers/features.py", ROUTER)


@dataclass(frozen=True)
class Sample:
    seconds: float  # wall time
    cpu: float  # user + system seconds of the process: steadier than wall time on a busy machine
    rss_mb: float
    rc: int
    output: str


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    @property
    def ms(self) -> float:
        return statistics.median(s.seconds for s in self.samples) * 1000

    @property
    def cpu_ms(self) -> float:
        return statistics.median(s.cpu for s in self.samples) * 1000

    @property
    def rss(self) -> float:
        return max(s.rss_mb for s in self.samples)


# Set in main(): compiled bytecode goes to the benchmark's temp folder, not the checkout.
PYCACHE: Path | None = None


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    drop = ("GITHUB_ACTIONS", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(PYTHONPATH=str(REPO), NO_COLOR="1")  # the checkout's code, not an installed copy
    # An installed tool runs from compiled bytecode; without it every run would pay for compiling.
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra or {})
    return env


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run one process; wall time from spawn to reap, peak RSS from its own rusage."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env or _env(), stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return Sample(
        elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, text
    )  # ru_maxrss is in KiB on Linux


def eventgen(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "generator.cli", "-C", str(project), *args]


def expect(sample: Sample, rc: int, what: str) -> Sample:
    if sample.rc != rc:
        raise SystemExit(f"bench: {what} exited {sample.rc}, expected {rc}:\n{sample.output[-3000:]}")
    return sample


def targets(project: Path) -> dict[str, list[str]]:
    """The files check reads, by role, relative to the project."""
    components = sorted(p.relative_to(project).as_posix() for p in (project / COMPONENTS).glob("*.svelte"))
    others = [MODELS, TYPES, *ROUTERS, *components]
    return {
        "specs": sorted(p.relative_to(project).as_posix() for p in (project / "events").glob("*.yaml")),
        "socket": SOCKET,
        "others": [rel for rel in others if (project / rel).is_file()],
    }


def snapshot(project: Path) -> dict[str, bytes]:
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*") if p.is_file()}


@dataclass
class SizeResult:
    size: int
    socket_lines: int = 0
    gen_first: Series = field(default_factory=Series)
    gen_noop: Series = field(default_factory=Series)
    check: Series = field(default_factory=Series)
    full: Series = field(default_factory=Series)
    floor: Series = field(default_factory=Series)
    stamp: Series = field(default_factory=Series)
    ruff: Series = field(default_factory=Series)
    black: Series = field(default_factory=Series)

    def paired(self, a: str, b: str) -> float:
        """Median over repeats of a's CPU time / b's, each pair measured back to back."""
        pairs = zip(getattr(self, a).samples, getattr(self, b).samples)
        return statistics.median(x.cpu / y.cpu for x, y in pairs if y.cpu > 0)


def bench_size(work: Path, size: int, repeat: int, with_black: bool) -> SizeResult:
    result = SizeResult(size)
    pristine = synthesize(work / f"n{size}-pristine", size)
    project = pristine
    for r in range(repeat):
        project = work / f"n{size}-run{r}"
        shutil.copytree(pristine, project)
        result.gen_first.add(expect(run(eventgen(project, "generate"), cwd=work), 0, f"generate (N={size})"))
        if r < repeat - 1:
            shutil.rmtree(project)
    expect(run(eventgen(project, "check"), cwd=work), 0, f"check after generate (N={size})")
    before = snapshot(project)
    manifest = work / f"n{size}-manifest.json"
    manifest.write_text(json.dumps({"root": str(project), **targets(project)}), encoding="utf-8")
    python_targets = [str(project / rel) for rel in (SOCKET, MODELS, *ROUTERS) if (project / rel).is_file()]
    # Interleaved, so that drift in the machine's speed hits every column alike.
    ruff = shutil.which("ruff")
    for r in range(repeat):
        result.gen_noop.add(expect(run(eventgen(project, "generate"), cwd=work), 0, f"no-op generate (N={size})"))
        result.check.add(expect(run(eventgen(project, "check"), cwd=work), 0, f"check (N={size})"))
        result.stamp.add(
            expect(run([sys.executable, str(FLOOR), "--stamp", str(manifest)], cwd=work), 0, f"stamp floor (N={size})")
        )
        if ruff:  # exit 1 when it would reformat: only its time matters
            result.ruff.add(run([ruff, "format", "--check", "--no-cache", "-q", *python_targets], cwd=work))
        result.full.add(
            expect(
                run(eventgen(project, "check"), cwd=work, env=_env({"EVENTGEN_FULL_CHECK": "1"})),
                0,
                f"full check (N={size})",
            )
        )
        result.floor.add(expect(run([sys.executable, str(FLOOR), str(manifest)], cwd=work), 0, f"floor (N={size})"))
    if with_black:
        # black exits 1 when it would reformat; only its time matters here.
        result.black.add(
            run(
                [sys.executable, "-m", "black", "--check", "-q", *python_targets],
                cwd=work,
                env=_env({"BLACK_CACHE_DIR": str(work / f"n{size}-black")}),
            )
        )
    if snapshot(project) != before:
        raise SystemExit(f"bench: a no-op generate or check changed files (N={size})")
    result.socket_lines = (project / SOCKET).read_text(encoding="utf-8").count("\n")
    return result


def ensure_black() -> bool:
    """black is a reference point only: install it for this benchmark when it is missing."""
    probe = subprocess.run([sys.executable, "-m", "black", "--version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return True
    print("bench: installing black (reference column) ...", file=sys.stderr)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "black"], capture_output=True, text=True, check=False
    )
    if install.returncode != 0:
        print(f"bench: could not install black, skipping its column:\n{install.stderr[-1000:]}", file=sys.stderr)
        return False
    return True


def warm_up(work: Path, with_black: bool) -> None:
    """One untimed run of every command, so bytecode and the OS page cache are warm for every column."""
    project = synthesize(work / "warmup", 1)
    expect(run(eventgen(project, "generate"), cwd=work), 0, "warm-up generate")
    expect(run(eventgen(project, "check"), cwd=work), 0, "warm-up check")
    manifest = work / "warmup-manifest.json"
    manifest.write_text(json.dumps({"root": str(project), **targets(project)}), encoding="utf-8")
    expect(run([sys.executable, str(FLOOR), str(manifest)], cwd=work), 0, "warm-up floor")
    expect(run([sys.executable, "-m", "generator.cli", "--help"], cwd=work), 0, "warm-up --help")
    if with_black:
        run(
            [sys.executable, "-m", "black", "--check", "-q", str(project / SOCKET)],
            cwd=work,
            env=_env({"BLACK_CACHE_DIR": str(work / "warmup-black")}),
        )


def startup(work: Path, repeat: int) -> tuple[Series, Series]:
    helps, clicks = Series(), Series()
    for _ in range(repeat):
        helps.add(expect(run([sys.executable, "-m", "generator.cli", "--help"], cwd=work), 0, "eventgen --help"))
        clicks.add(expect(run([sys.executable, "-c", "import click"], cwd=work), 0, "import click"))
    return helps, clicks


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares ms per spec."""
    if len(points) < 2:
        return float("nan")
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for dist in ("click", "jinja2", "pydantic", "libcst", "pyyaml", "black"):
        with contextlib.suppress(PackageNotFoundError):  # a missing distribution is just not listed
            versions.append(f"{dist} {version(dist)}")
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({sys.executable}); {', '.join(versions)}",
    ]


def fast_table(results: list[SizeResult], repeat: int) -> list[str]:
    """Issue 19's targets: CPU ms, medians of paired runs."""
    with_ruff = all(r.ruff.samples for r in results)
    lines = [
        f"CPU time (user + system), ms, median of {repeat} paired runs; ratios are medians of per-run ratios.",
        "",
        "| specs | check (fast path) | check, full path (before) | stamp floor | check / stamp floor |"
        + (" ruff format --check | check / ruff |" if with_ruff else "")
        + " no-op generate | peak RSS check (MB) |",
        "|---:|---:|---:|---:|---:|" + ("---:|---:|" if with_ruff else "") + "---:|---:|",
    ]
    for r in results:
        row = f"| {r.size} | {r.check.cpu_ms:.0f} | {r.full.cpu_ms:.0f} | {r.stamp.cpu_ms:.0f} | {r.paired('check', 'stamp'):.2f} |"
        if with_ruff:
            row += f" {r.ruff.cpu_ms:.0f} | {r.paired('check', 'ruff'):.2f} |"
        row += f" {r.gen_noop.cpu_ms:.0f} | {r.check.rss:.0f} |"
        lines.append(row)
    return lines


def scale(work: Path, size: int) -> list[str]:
    """generate from scratch at a large size: is the full path still linear?"""
    project = synthesize(work / f"scale{size}", size)
    sample = expect(run(eventgen(project, "generate"), cwd=work), 0, f"generate (N={size})")
    check = expect(
        run(eventgen(project, "check"), cwd=work, env=_env({"EVENTGEN_FULL_CHECK": "1"})), 0, f"full check (N={size})"
    )
    fast = expect(run(eventgen(project, "check"), cwd=work), 0, f"check (N={size})")
    return [
        f"- generate from scratch, {size} specs: {sample.seconds:.1f} s wall, {sample.cpu:.1f} s CPU, peak RSS {sample.rss_mb:.0f} MB",
        f"- check, full path, {size} specs: {check.seconds:.1f} s wall, {check.cpu:.1f} s CPU, peak RSS {check.rss_mb:.0f} MB",
        f"- check, fast path, {size} specs: {fast.seconds * 1000:.0f} ms wall, {fast.cpu * 1000:.0f} ms CPU, peak RSS {fast.rss_mb:.0f} MB",
    ]


def table(results: list[SizeResult], repeat: int, with_black: bool) -> list[str]:
    head = (
        "| specs | socket module lines | generate, first (ms) | generate, no-op (ms) | check (ms) | floor (ms) | check / floor "
        "| check / floor, CPU time | peak RSS check (MB) | peak RSS generate (MB) |"
    )
    rule = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if with_black:
        head += " black --check (ms, 1 run) |"
        rule += "---:|"
    lines = [
        f"Wall time, median of {repeat} runs, each a fresh process (CPU time: user + system of the process).",
        "",
        head,
        rule,
    ]
    for r in results:
        row = (
            f"| {r.size} | {r.socket_lines} | {r.gen_first.ms:.0f} | {r.gen_noop.ms:.0f} | {r.check.ms:.0f} | {r.floor.ms:.0f} "
            f"| {r.check.ms / r.floor.ms:.2f} | {r.check.cpu_ms / r.floor.cpu_ms:.2f} | {r.check.rss:.0f} | {max(r.gen_first.rss, r.gen_noop.rss):.0f} |"
        )
        if with_black:
            row += f" {r.black.ms:.0f} |"
        lines.append(row)
    return lines


def marginal(results: list[SizeResult]) -> list[str]:
    lines = []
    picks: tuple[tuple[str, Callable[[SizeResult], float]], ...] = (
        ("check", lambda r: r.check.ms),
        ("check, CPU time", lambda r: r.check.cpu_ms),
        ("check, full path, CPU time", lambda r: r.full.cpu_ms),
        ("stamp floor, CPU time", lambda r: r.stamp.cpu_ms),
        ("generate, no-op", lambda r: r.gen_noop.ms),
        ("generate, first", lambda r: r.gen_first.ms),
        ("floor", lambda r: r.floor.ms),
        ("floor, CPU time", lambda r: r.floor.cpu_ms),
    )
    for label, pick in picks:
        steps = [
            f"{a.size}->{b.size}: {(pick(b) - pick(a)) / (b.size - a.size):.2f}" for a, b in itertools.pairwise(results)
        ]
        fit = slope([(r.size, pick(r)) for r in results])
        lines.append(f"- {label}: {fit:.2f} ms per added spec (least squares); per step {', '.join(steps) or '-'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,50,200,500", help="comma-separated spec counts (default: %(default)s)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per measurement; the median is reported (default: %(default)s)"
    )
    parser.add_argument("--no-black", action="store_true", help="skip the black --check reference column")
    parser.add_argument("--json", type=Path, help="also write the raw samples here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects (their path is printed)")
    parser.add_argument(
        "--scale", type=int, default=0, help="also time generate from scratch at this many specs (e.g. 1000)"
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    with_black = not args.no_black and ensure_black()

    global PYCACHE
    work = Path(tempfile.mkdtemp(prefix="eventgen-bench-"))
    PYCACHE = work / "pycache"
    try:
        warm_up(work, with_black)
        results = []
        for size in sizes:
            print(f"bench: {size} spec(s) ...", file=sys.stderr, flush=True)
            results.append(bench_size(work, size, args.repeat, with_black))
        helps, clicks = startup(work, max(args.repeat, 10))
        scaled = scale(work, args.scale) if args.scale else []
    finally:
        if args.keep:
            print(f"bench: projects kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    out = ["## eventgen benchmark", "", *machine(), f"- load average at the end (1, 5, 15 min): {load}", ""]
    out += [*fast_table(results, args.repeat), "", *table(results, args.repeat, with_black), ""]
    if scaled:
        out += ["Scale:", *scaled, ""]
    out += ["Marginal cost of one more spec:", *marginal(results), ""]
    paired = statistics.median(h.cpu / c.cpu for h, c in zip(helps.samples, clicks.samples) if c.cpu > 0)
    out.append(
        f'Start-up: eventgen --help {helps.ms:.0f} ms, python -c "import click" {clicks.ms:.0f} ms: '
        f"ratio {helps.ms / clicks.ms:.2f} wall, {paired:.2f} CPU (median of {len(helps.samples)} paired runs)"
    )
    print("\n".join(out))
    if args.json:
        raw = {
            "sizes": {
                r.size: {
                    name: [s.__dict__ | {"output": ""} for s in getattr(r, name).samples]
                    for name in ("gen_first", "gen_noop", "check", "full", "floor", "stamp", "ruff", "black")
                }
                for r in results
            },
            "help": [s.seconds for s in helps.samples],
            "import_click": [s.seconds for s in clicks.samples],
        }
        args.json.write_text(json.dumps(raw, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
