"""Real processes for the runtime tests (issue 5) and benchmarks/bench_load.py.

An app under test is a temporary copy of examples/openwebui-mini with the extra
spec in tests/runtime_specs/ generated into it by `eventgen generate`, served by
uvicorn in a subprocess on a socket this process pre-binds on 127.0.0.1 and hands
over with `--fd` (no window in which another process can take the port). Redis is
Debian's `redis-server` on a free loopback port with persistence off. Clients are
real python-socketio `AsyncClient`s on the websocket transport (a polling client
takes ~30 s to notice a disconnect) and a Node socket.io-client script.

Test modules load this file with `pytest_plugins = ["support.runtime"]`, so the
session fixtures (one app, one server, one Redis) are shared by every module.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import socketio

from support import REPO, TESTS
from support.marks import needs

EXAMPLE = REPO / "examples" / "openwebui-mini"
RUNTIME_SPECS = TESTS / "runtime_specs"
NODE_TOOLCHAIN = TESTS / "node"
NODE_CLIENT = TESTS / "node_client"

SOCKET_PATH = "ws/socket.io"
SECRET = "eventgen-runtime-tests-secret"
USERS = ("alice", "bob", "carol")
ACK_TIMEOUT = 5.0  # seconds; a healthy ack on loopback takes about a millisecond
START_TIMEOUT = 30.0
# A valid payload for every client_to_server event of the example and the runtime spec.
VALID_PAYLOADS: dict[str, dict[str, Any]] = {
    "feature:subscribe": {"feature_id": "f1"},
    "feature:unsubscribe": {"feature_id": "f1"},
    "board:join": {"feature_id": "f1"},
    "board:leave": {"feature_id": "f1"},
    "board:say": {"feature_id": "f1", "text": "hello"},
    "board:compute": {"x": 3},
    "mailbox:watch": {"user_id": "alice"},
    "lobby:join": {"lobby_id": "l1"},
}
ERROR_CODES = frozenset(
    {
        "unauthenticated",
        "invalid_payload",
        "forbidden",
        "internal",
        "timeout",
        "limit_exceeded",
        "payload_too_large",
        "rate_limited",
    }
)

# The root logger prints every record with its level, so a test can find ERROR lines;
# uvicorn's own loggers propagate to it instead of using their own handlers.
_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
        "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "uvicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}

T = TypeVar("T")


# ---------------------------------------------------------------- the app under test


def build_app(dest: Path, specs: tuple[Path, ...] = (RUNTIME_SPECS / "board.yaml",)) -> Path:
    """Copy the example app to dest, add the runtime specs and their handler, run `eventgen generate`."""
    from generator.cli import main  # the entry point the `eventgen` script calls

    shutil.copytree(
        EXAMPLE,
        dest,
        ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".svelte-kit", "build", ".pytest_cache"),
    )
    for spec in specs:
        shutil.copy2(spec, dest / "events" / spec.name)
    for handlers in sorted(RUNTIME_SPECS.glob("*_handlers.py")):
        shutil.copy2(handlers, dest / "backend/open_webui/socket" / handlers.name)
    # A test-only entry point (ServerProcess(target="open_webui.drop_acks:app")); generated code never imports it.
    shutil.copy2(RUNTIME_SPECS / "drop_acks.py", dest / "backend/open_webui/drop_acks.py")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-C", str(dest), "generate"])
    if code != 0:
        raise RuntimeError(f"eventgen generate exited {code} in {dest}:\n{out.getvalue()}{err.getvalue()}")
    return dest


def app_env(app: Path, **extra: str) -> dict[str, str]:
    """Environment for a process that imports the app's backend (server, worker, token minting)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBSOCKET_", "PYTHONPATH"))}
    env.update(
        PYTHONPATH=str(app / "backend"),
        PYTHONUNBUFFERED="1",
        WEBUI_SECRET_KEY=SECRET,
        CORS_ALLOW_ORIGINS="http://127.0.0.1",
    )
    env.update(extra)
    return env


def mint_tokens(app: Path, users: tuple[str, ...] = USERS) -> dict[str, str]:
    """Tokens from the app's own `create_token`, run in a child so this process never imports the app."""
    code = "import json, sys\nfrom open_webui.utils.auth import create_token\nprint(json.dumps({u: create_token(u) for u in sys.argv[1:]}))"
    done = subprocess.run(
        [sys.executable, "-c", code, *users],
        cwd=app / "backend",
        env=app_env(app),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


# ---------------------------------------------------------------- processes


def bound_socket(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 with a port the kernel picked (or `port`, for a restart)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # uvicorn wraps a socket passed with --fd as AF_UNIX, so asyncio never sets TCP_NODELAY on its
    # connections, and Nagle would hold the second of two small frames sent back to back ~40 ms.
    # Accepted sockets inherit it from the listening one (Linux): served as `--host/--port` serves.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


def free_port() -> int:
    """A port that was free a moment ago, for programs that cannot take a socket (redis-server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT, grace: float = 10.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")


@dataclass
class ServerProcess:
    """`uvicorn open_webui.main:app` serving an app copy; stdout and stderr go to log_path."""

    app: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    log_level: str = "INFO"
    target: str = "open_webui.main:app"  # the ASGI app uvicorn serves
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> ServerProcess:
        config = dict(_LOG_CONFIG, root={"level": self.log_level, "handlers": ["stderr"]})
        config_path = self.log_path.with_suffix(".logging.json")
        config_path.write_text(json.dumps(config))
        sock = bound_socket(self.port)  # a restart keeps the port, so clients reconnect to the same URL
        self.port = int(sock.getsockname()[1])
        cmd = [
            sys.executable, "-m", "uvicorn", self.target,
            "--fd", str(sock.fileno()), "--log-config", str(config_path), "--no-access-log",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.app / "backend",
                env=app_env(self.app, **self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
            )
        sock.close()  # the child holds its own descriptor of the listening socket
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited {self.proc.returncode} before it was ready:\n{self.log()}")
            try:
                # The socket is listening already, so this waits in the backlog until the app has started.
                if httpx.get(f"{self.url}/health", timeout=2.0).json() == {"status": True}:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)  # polling a starting process: there is no event to await
        self.stop()
        raise RuntimeError(f"uvicorn not ready within {START_TIMEOUT}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def mark(self) -> int:
        """Where the log ends now; `log_since(mark)` reads what came after."""
        return self.log_path.stat().st_size

    def log_since(self, mark: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")


@dataclass
class RedisProcess:
    """Debian's redis-server on a free loopback port, no persistence, data dir in a temp folder."""

    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        needs("redis", "redis-server")
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed: run scripts/test.sh (it apt-installs it) or apt-get install redis-server"
            )
        # redis-server cannot take a pre-bound socket: pick a free port, and try again if another process won the race.
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.workdir), "--logfile", str(self.workdir / f"redis-{self.port}.log")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready():
                return self
        raise RuntimeError(f"redis-server did not start; see {self.workdir}")

    def _wait_ready(self) -> bool:
        import redis

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            try:
                with redis.Redis(port=self.port, host="127.0.0.1", socket_timeout=1) as client:
                    if client.ping():
                        return True
            except redis.ConnectionError:
                time.sleep(0.02)  # polling a starting process: there is no event to await
        return False

    def numsub(self, channel: str = "socketio") -> int:
        import redis

        with redis.Redis(port=self.port, host="127.0.0.1", socket_timeout=2) as client:
            return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))

    def wait_subscribers(self, count: int, channel: str = "socketio", timeout: float = 10.0) -> None:
        """Wait until `count` processes listen on the manager's channel (a server subscribes after its first connect)."""
        deadline = time.monotonic() + timeout
        while (seen := self.numsub(channel)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {seen} of {count} servers subscribed to {channel!r} after {timeout}s")
            time.sleep(0.02)  # Redis offers no notification for subscriptions

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc, signal.SIGTERM)


# ---------------------------------------------------------------- clients


class Inbox:
    """Everything a client received, by event name, in arrival order; awaitable."""

    def __init__(self) -> None:
        self.events: dict[str, list[Any]] = {}
        self._arrived = asyncio.Condition()

    def attach(self, client: socketio.AsyncClient, *events: str) -> None:
        for event in events:
            self.events.setdefault(event, [])
            # A coroutine handler, awaited by the client's message task in arrival order.
            client.on(event, functools.partial(self._record, event))

    async def _record(self, event: str, *args: Any) -> None:
        async with self._arrived:
            self.events[event].append(args[0] if len(args) == 1 else list(args))
            self._arrived.notify_all()

    async def wait(self, event: str, count: int = 1, timeout: float = ACK_TIMEOUT) -> list[Any]:
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.events[event]) >= count), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(
                    f"{event!r}: received {len(self.events[event])} of {count} within {timeout}s"
                ) from None
            return list(self.events[event])


@dataclass
class Peer:
    """A connected python-socketio client and what it received."""

    client: socketio.AsyncClient
    inbox: Inbox
    name: str

    async def ack(self, event: str, *args: Any, timeout: float = ACK_TIMEOUT) -> dict[str, Any]:
        """Emit with exactly these arguments and return the ack; a missing ack fails the test."""
        try:
            # A tuple is sent as the argument list, so a list or None payload stays one argument.
            reply = await self.client.call(event, tuple(args), timeout=timeout)
        except socketio.exceptions.TimeoutError:
            raise AssertionError(f"{self.name}: no ack for {event!r} within {timeout}s") from None
        assert_ack_shape(reply)
        return reply

    async def barrier(self) -> None:
        """A round trip through the server: whatever it queued for this socket earlier has arrived once this returns.

        One socket's packets leave the server in order and the client handles them in order,
        so an event emitted before this ack cannot arrive after it. (Single server only: through
        Redis, an emit reaches the other process asynchronously.)
        """
        await self.ack("usage:ping")  # answers with or without a session

    def received(self, event: str) -> list[Any]:
        return list(self.inbox.events[event])

    async def close(self) -> None:
        await self.client.disconnect()


def assert_ack_shape(reply: Any) -> None:
    """CONTRACT.md section 3: one dict, ok true, or ok false with a known code and a message."""
    assert isinstance(reply, dict), f"ack is not a dict: {reply!r}"
    assert reply.get("ok") in (True, False), f"ack without a boolean 'ok': {reply!r}"
    if reply["ok"] is False:
        error = reply.get("error")
        assert isinstance(error, dict) and error.get("code") in ERROR_CODES, f"bad error ack: {reply!r}"
        assert isinstance(error.get("message"), str) and error["message"], f"error ack without a message: {reply!r}"
        if error["code"] == "invalid_payload":
            assert isinstance(error.get("details"), list) and error["details"], (
                f"invalid_payload without details: {reply!r}"
            )


async def connect(url: str, token: str | None, *listen: str, name: str = "client") -> Peer:
    client = socketio.AsyncClient(reconnection=False)
    inbox = Inbox()
    inbox.attach(client, *listen)
    await client.connect(
        url,
        socketio_path=SOCKET_PATH,
        transports=["websocket"],
        auth={"token": token} if token is not None else None,
        wait_timeout=ACK_TIMEOUT,
    )
    return Peer(client, inbox, name)


class Peers(contextlib.AsyncExitStack):
    """Clients that are all disconnected when the block ends, even when a test fails."""

    def __init__(self, url: str, tokens: dict[str, str], listen: tuple[str, ...]) -> None:
        super().__init__()
        self.url, self.tokens, self.listen = url, tokens, listen

    async def user(self, user: str | None, name: str | None = None) -> Peer:
        token = self.tokens[user] if user is not None else None
        return await self.add(token, name or user or "anonymous")

    async def add(self, token: str | None, name: str) -> Peer:
        peer = await connect(self.url, token, *self.listen, name=name)
        self.push_async_callback(peer.close)
        return peer


async def put_feature(url: str, token: str, feature_id: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=ACK_TIMEOUT) as http:
        return await http.put(
            f"{url}/api/v1/features/{feature_id}", json=body, headers={"Authorization": f"Bearer {token}"}
        )


def run_async(timeout: float = 60.0) -> Callable[[Callable[..., Coroutine[Any, Any, T]]], Callable[..., T]]:
    """Run an async test function to completion in a fresh event loop, bounded by `timeout` seconds."""

    def decorate(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), timeout))

        return wrapper

    return decorate


class LoopThread:
    """An event loop in a background thread, for sync callers (hypothesis) that drive async clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="runtime-loop", daemon=True)

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        async def bounded() -> T:
            return await asyncio.wait_for(coro, timeout)

        return asyncio.run_coroutine_threadsafe(bounded(), self.loop).result(timeout + 5)

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


# ---------------------------------------------------------------- logs


def tracebacks(log: str) -> list[str]:
    """Each Python traceback in a log, with the line that ends it (the exception)."""
    found: list[str] = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
                j += 1
            found.append("\n".join(lines[i : j + 1]))
    return found


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(("ERROR", "CRITICAL"))]


EXPLOSION_LOG = "ERROR open_webui.socket.event_models: eventgen: handler of board:compute failed"
EXPLOSION = "Exploded: board:compute asked to explode"


@dataclass
class LogWatch:
    """Asserts that servers logged no error and no traceback in a span, except the explosions a test caused."""

    servers: list[ServerProcess]
    marks: list[int] = field(default_factory=list)
    explosions: int = 0
    tolerated: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.marks = [s.mark() for s in self.servers]

    def expect_explosions(self, count: int) -> None:
        self.explosions += count

    def tolerate(self, exception_line: str) -> None:
        """Accept tracebacks ending with this line, and any ERROR line, for a test about a known bug."""
        self.tolerated.append(exception_line)

    def check(self) -> None:
        log = "".join(s.log_since(m) for s, m in zip(self.servers, self.marks))
        found = [tb for tb in tracebacks(log) if not any(t in tb.splitlines()[-1] for t in self.tolerated)]
        strangers = [tb for tb in found if EXPLOSION not in tb.splitlines()[-1]]
        assert not strangers, "unexpected traceback(s) in the server log:\n" + "\n\n".join(strangers)
        assert len(found) == self.explosions, f"{len(found)} traceback(s) logged, {self.explosions} expected"
        if not self.tolerated:
            assert error_lines(log) == [EXPLOSION_LOG] * self.explosions, "\n".join(error_lines(log))


# ---------------------------------------------------------------- node


NODE_TIMEOUT = 120.0


def node_script(script: Path) -> Path:
    """A CLI of the pinned toolchain in tests/node, run with `node` (no reliance on .bin symlinks)."""
    needs("node", f"node {script.name}")
    if not script.is_file():
        pytest.fail(f"{script} is missing: run `npm ci` in tests/node (scripts/test.sh does)")
    return script


def tsc(project: Path) -> subprocess.CompletedProcess[str]:
    """Type-check and compile a TypeScript project with the pinned compiler; the caller judges the result."""
    compiler = node_script(NODE_TOOLCHAIN / "node_modules" / "typescript" / "bin" / "tsc")
    return subprocess.run(
        ["node", str(compiler), "-p", str(project / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        check=False,
        timeout=NODE_TIMEOUT,
    )


def node_project(app: Path, folder: str, source: str | None = None) -> Path:
    """tests/node_client inside an app copy, so its `../src/lib/socket/events.js` is the generated file."""
    project = app / folder
    project.mkdir()
    shutil.copy2(NODE_CLIENT / "tsconfig.json", project / "tsconfig.json")
    (project / "client.ts").write_text(source if source is not None else (NODE_CLIENT / "client.ts").read_text())
    (project / "node_modules").symlink_to(NODE_TOOLCHAIN / "node_modules", target_is_directory=True)
    return project


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def runtime_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated copy of the example app for the whole session (never the committed example)."""
    return build_app(tmp_path_factory.mktemp("runtime") / "app")


@pytest.fixture(scope="session")
def tokens(runtime_app: Path) -> dict[str, str]:
    return mint_tokens(runtime_app)


@pytest.fixture(scope="session")
def server(runtime_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One uvicorn process with the in-memory client manager."""
    proc = ServerProcess(runtime_app, tmp_path_factory.mktemp("logs") / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def clean_log(server: ServerProcess) -> Iterator[LogWatch]:
    """Use it in a module (`pytestmark = pytest.mark.usefixtures("clean_log")`) to check the log after every test."""
    watch = LogWatch([server])
    yield watch
    watch.check()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    proc = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    try:
        yield proc
    finally:
        proc.stop()
