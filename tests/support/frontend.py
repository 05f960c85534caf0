"""Helpers for the frontend tests: the pinned Node toolchain under tests/node, Chromium, live servers.

A missing tool fails the test with what to install: CI runs scripts/test.sh, which installs all
of them, so a silent skip there would hide a broken frontend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import REPO
from support.marks import needs

NODE_DIR = REPO / "tests" / "node"
EXAMPLE = REPO / "examples" / "openwebui-mini"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


MIN_NODE = (20, 19)  # Vite 8's floor (tests/node/package.json "engines")


def require_node() -> str:
    needs("node", "node")
    return _node()


@functools.lru_cache(maxsize=1)
def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not installed: the frontend tests compile with the real Svelte and TypeScript compilers (Node >= 20.19 and npm)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    if (major, minor) < MIN_NODE:
        pytest.fail(f"node {version} is too old for the frontend toolchain (Vite 8): install Node >= 20.19")
    if not (NODE_DIR / "node_modules" / "svelte" / "package.json").is_file():
        pytest.fail("tests/node/node_modules is missing: run `npm ci` in tests/node (scripts/test.sh does)")
    return node


def require_chromium() -> str:
    needs("browser", "Chromium")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install chromium (scripts/test.sh does), or set CHROMIUM"
        )
    return CHROMIUM


def node_run(
    script: str, *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    node = require_node()
    return subprocess.run(
        [node, str(NODE_DIR / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=timeout,
        check=False,
    )


def copy_example(dest: Path) -> Path:
    """A private copy of examples/openwebui-mini (sources only) to generate into."""
    shutil.copytree(
        EXAMPLE,
        dest,
        ignore=shutil.ignore_patterns("node_modules", ".svelte-kit", "__pycache__", ".ruff_cache", "dist"),
    )
    return dest


def link_node_modules(folder: Path) -> None:
    """Let files outside tests/node import the pinned packages (svelte, socket.io-client)."""
    link = folder / "node_modules"
    if not link.exists():
        link.symlink_to(NODE_DIR / "node_modules", target_is_directory=True)


def compile_svelte(jobs: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Compile each job ({file, svelte: "4"|"5", generate: "client"|"server"}) in one Node process."""
    proc = node_run("compile.mjs", stdin=json.dumps({"jobs": jobs}))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["results"]


def tool(name: str) -> list[str]:
    """A CLI from the pinned toolchain, run with node (no reliance on .bin symlinks)."""
    require_node()
    bins = {
        "tsc": NODE_DIR / "node_modules" / "typescript" / "bin" / "tsc",
        "svelte-check": NODE_DIR / "node_modules" / "svelte-check" / "bin" / "svelte-check",
    }
    return [shutil.which("node") or "node", str(bins[name])]


def vite_build(
    root: Path,
    out: Path,
    alias: dict[str, Path],
    *,
    ssr: str | None = None,
    page: str = "index.html",
    svelte: str = "5",
) -> list[str]:
    """Bundle with Vite (Svelte 5 through the official plugin, or Svelte 4); returns the warnings, compiler ones included."""
    options = {
        "root": str(root),
        "outDir": str(out),
        "alias": {k: str(v) for k, v in alias.items()},
        "ssr": ssr,
        "input": page,
        "svelte": svelte,
    }
    proc = node_run("build.mjs", json.dumps(options))
    assert proc.returncode == 0, f"vite build failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout)["warnings"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status < 500:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def uvicorn_server(app_dir: Path, app: str, env: dict[str, str]) -> Iterator[str]:
    """Serve an ASGI app for real with uvicorn in a child process; yields its base URL."""
    port = free_port()
    log = app_dir / f"uvicorn-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=app_dir,
            env={**os.environ, **env, "PYTHONPATH": str(app_dir)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(base + "/health")
        except OSError:
            proc.kill()
            pytest.fail(f"uvicorn did not start:\n{log.read_text()[-4000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """Serve a built page from its own origin, as Vite's dev server would beside the backend."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Browser:
    """Headless Chromium behind tests/node/browser.mjs; one JSON command per line."""

    def __init__(self, user_data_dir: Path) -> None:
        needs("browser", "Chromium")
        require_chromium()
        node = require_node()
        self._proc = subprocess.Popen(
            [node, str(NODE_DIR / "browser.mjs"), str(user_data_dir)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )
        self._next = 0
        first = self._read()
        if not first.get("ready"):
            raise RuntimeError(f"browser driver did not start: {first}")

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            pytest.fail(f"browser driver exited:\n{err[-4000:]}")
        return json.loads(line)

    def _call(self, **cmd: Any) -> Any:
        assert self._proc.stdin is not None
        self._next += 1
        cmd["id"] = self._next
        self._proc.stdin.write(json.dumps(cmd) + "\n")
        self._proc.stdin.flush()
        answer = self._read()
        if not answer.get("ok"):
            raise AssertionError(f"browser {cmd['op']} failed: {answer.get('error')}")
        return answer.get("value")

    def open(self, url: str, page: str = "main") -> None:
        self._call(op="open", page=page, url=url)

    def eval(self, expr: str, page: str = "main") -> Any:
        return self._call(op="eval", page=page, expr=expr)

    def wait(self, expr: str, page: str = "main", timeout: float = 10) -> Any:
        """Wait until a JavaScript expression is truthy in the page."""
        return self._call(op="wait", page=page, expr=expr, timeout=int(timeout * 1000))

    def text(self, selector: str, page: str = "main") -> str:
        return str(self.eval(f"document.querySelector({json.dumps(selector)})?.textContent ?? null", page))

    def errors(self, page: str = "main") -> list[str]:
        return list(self._call(op="errors", page=page))

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(json.dumps({"op": "close"}) + "\n")
                self._proc.stdin.flush()
                self._proc.wait(timeout=15)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self._proc.kill()


def legacy_listener(root: Path) -> Path:
    """The project's listener in Svelte 4 syntax, written as generate would with svelte = "4", in root/legacy/."""
    from generator.apply.files import render_file
    from generator.pipeline import load_project
    from generator.plan.frontend.files import frontend_files
    from generator.sources import Sources

    config, specs = load_project(root)
    edits = frontend_files(specs, dataclasses.replace(config, svelte="4"), Sources(config.root))
    legacy = root / "legacy"
    legacy.mkdir()
    (legacy / "FeatureUpdates.svelte").write_text(render_file(next(f for f in edits if f.kind == "svelte")))
    return legacy


def kit_sync(root: Path) -> None:
    """What `svelte-kit sync` writes and the example's tsconfig.json extends; the toolchain linked in."""
    (root / ".svelte-kit").mkdir()
    paths = {"$lib": ["../src/lib"], "$lib/*": ["../src/lib/*"]}
    (root / ".svelte-kit/tsconfig.json").write_text(
        json.dumps({"compilerOptions": {"paths": paths, "verbatimModuleSyntax": True}})
    )
    link_node_modules(root)
