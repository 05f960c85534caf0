"""Drive a command through a pseudo-terminal (stdlib pty): what a person at a terminal sees and types."""

from __future__ import annotations

import os
import pty
import select
import signal
import time
from pathlib import Path


class Terminal:
    """A child process whose stdin, stdout and stderr are one terminal."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                # Ctrl-C must reach the command however the test run was started: a blocked mask
                # and an ignored SIGINT (a background job without job control) survive exec.
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.seen = ""  # everything the terminal showed
        self._pos = 0  # what expect() has consumed

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.seen += data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return True

    def expect(self, text: str, timeout: float = 30) -> str:
        """Wait until `text` shows after what was already expected; returns what came before it."""
        deadline = time.monotonic() + timeout
        while True:
            at = self.seen.find(text, self._pos)
            if at >= 0:
                before = self.seen[self._pos : at]
                self._pos = at + len(text)
                return before
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {text!r} (timeout); the terminal showed:\n{self.seen[self._pos :]}")
            if not self._read(0.2) and self.seen.find(text, self._pos) < 0:
                raise AssertionError(
                    f"never saw {text!r} (the command ended); the terminal showed:\n{self.seen[self._pos :]}"
                )

    def answer(self, prompt: str, line: str) -> None:
        """Wait for a question, then type an answer and Enter."""
        self.expect(prompt)
        os.write(self.fd, line.encode() + b"\r")

    def interrupt(self) -> None:
        """Ctrl-C, as a person presses it: again if the first one is lost. CPython's readline
        prompt loses a SIGINT that lands after it printed the prompt and before it waits in
        select() (the handler only sets a flag, and nothing wakes the select) — a test that
        presses Ctrl-C the instant the prompt shows hits that window now and then."""
        for _ in range(10):
            os.kill(self.pid, signal.SIGINT)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                if not self._read(0.1):
                    return  # the terminal closed: the command ended
            if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                raise AssertionError("the command ended without closing its terminal")

    def finish(self, timeout: float = 60) -> int:
        """Read to the end; the exit code."""
        deadline = time.monotonic() + timeout
        while self._read(0.2):
            if time.monotonic() > deadline:
                os.kill(self.pid, 9)
                raise AssertionError(f"the command did not finish; the terminal showed:\n{self.seen[self._pos :]}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)
