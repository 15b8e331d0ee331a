"""Helpers for the workbench benchmarks: run a program in a pseudo-terminal like a user's
terminal (or an SSH session) would, keep its output drained, and read its CPU time."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ROOST = str(Path(sys.executable).parent / "roost")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")


class PtyProcess:
    """A child on a pty of ``size``; its output is read continuously (a terminal would)."""

    def __init__(self, argv: Sequence[str], *, size: tuple[int, int] = (120, 40),
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.started = time.monotonic()
        master, slave = pty.openpty()
        width, height = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        environment = dict(os.environ if env is None else env)
        environment.setdefault("TERM", "xterm-256color")
        self.process = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave,
                                        env=environment, cwd=cwd, start_new_session=True,
                                        close_fds=True)
        os.close(slave)
        self.master = master
        self._output = bytearray()
        self._lock = threading.Lock()
        self._seen = threading.Condition(self._lock)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if not ready:
                    if self.process.poll() is not None:
                        return
                    continue
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._seen:
                self._output.extend(data)
                self._seen.notify_all()

    def plain_output(self) -> bytes:
        with self._lock:
            return _ANSI.sub(b"", bytes(self._output))

    def wait_for_text(self, *needles: str, timeout: float = 30) -> float:
        """Seconds since start when every needle has appeared in the (escape-stripped) output."""
        deadline = time.monotonic() + timeout
        wanted = [n.encode() for n in needles]
        with self._seen:
            while True:
                plain = _ANSI.sub(b"", bytes(self._output))
                if all(w in plain for w in wanted):
                    return time.monotonic() - self.started
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{needles} not on screen after {timeout}s")
                self._seen.wait(min(remaining, 0.05))

    def send(self, data: bytes) -> float:
        """Write keys to the terminal; returns the monotonic time of the write."""
        os.write(self.master, data)
        return time.monotonic()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the child (all its threads) so far."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self, timeout: float = 10) -> int | None:
        if self.process.poll() is None:
            try:
                os.write(self.master, b"q")
                self.process.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        try:
            os.close(self.master)
        except OSError:
            pass
        return self.process.returncode


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ROOST_HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{REPO}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env
