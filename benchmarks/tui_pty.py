"""Helpers for the workbench benchmarks: run a program in a pseudo-terminal like a user's
terminal (or an SSH session) would, keep its output drained, and read its CPU time."""

from __future__ import annotations

import codecs
import fcntl
import functools
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
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ROOST = str(Path(sys.executable).parent / "roost")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")
_SEQUENCE = re.compile(r"\x1b(?:\[([0-9;?<>=]*)([ -/]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-B]|[=>78])")
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_SUPPORTED = b"\x1b[?2026;2$y"
"""What a terminal with synchronized output (kitty, WezTerm, iTerm2, foot...) answers to the
query: the app then wraps every frame in begin/end marks, so a frame is read whole."""
SYNC_END = "\x1b[?2026l"


class TerminalScreen:
    """The cells a terminal shows (character and background), fed the program's output.

    Just enough of a VT emulator for Textual's output (cursor moves, SGR colours, text):
    a frame counts once it is on the screen, i.e. at its synchronized-output end mark (or at
    the end of a read, for a program that does not use the marks).
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.backgrounds: list[list[str | None]] = [[None] * width for _ in range(height)]
        self._row = self._column = 0
        self._background: str | None = None
        self._pending = ""
        self._in_sync = False

    def feed(self, text: str, on_frame: Callable[[], None]) -> None:
        """Apply output; ``on_frame`` is called each time a whole frame is on the screen."""
        text = self._pending + text
        self._pending = ""
        position = 0
        while position < len(text):
            escape = text.find("\x1b", position)
            end = len(text) if escape < 0 else escape
            if end > position:
                self._write(text[position:end])
            if escape < 0:
                break
            match = _SEQUENCE.match(text, escape)
            if match is None:
                if len(text) - escape < 64:  # a sequence cut by the read: wait for the rest
                    self._pending = text[escape:]
                    break
                position = escape + 1
                continue
            position = match.end()
            if match.group(3):
                self._control(match.group(1), match.group(3), on_frame)
        if not self._in_sync:
            on_frame()

    def _control(self, parameters: str, final: str, on_frame: Callable[[], None]) -> None:
        if final == "H":
            row, _, column = parameters.partition(";")
            self._row = min(self.height - 1, max(0, int(row or 1) - 1))
            self._column = min(self.width - 1, max(0, int(column or 1) - 1))
        elif final == "m":
            self._sgr(parameters)
        elif parameters == "?2026" and final in "hl":
            self._in_sync = final == "h"
            if final == "l":
                on_frame()
        elif final == "J" and parameters == "2":
            for row in range(self.height):
                self.chars[row] = [" "] * self.width
                self.backgrounds[row] = [None] * self.width

    def _sgr(self, parameters: str) -> None:
        codes = parameters.split(";") if parameters else ["0"]
        index = 0
        while index < len(codes):
            code = codes[index]
            if code in ("0", "", "49"):
                self._background = None
            elif code in ("38", "48"):
                kind = codes[index + 1] if index + 1 < len(codes) else ""
                size = 3 if kind == "2" else 1
                if code == "48":
                    self._background = ";".join(codes[index + 1:index + 2 + size])
                index += 1 + size
            elif code.isdigit() and (40 <= int(code) <= 47 or 100 <= int(code) <= 107):
                self._background = code
            index += 1

    def _write(self, text: str) -> None:
        if text.isascii() and text.isprintable():  # the common case, one slice per run
            row, column = self._row, self._column
            count = min(len(text), self.width - column)
            if count > 0:
                self.chars[row][column:column + count] = text[:count]
                self.backgrounds[row][column:column + count] = [self._background] * count
            self._column = min(self.width, column + len(text))
            return
        for char in text:
            if char == "\r":
                self._column = 0
            elif char == "\n":
                self._row = min(self.height - 1, self._row + 1)
            elif char >= " ":
                cells = 2 if unicodedata.east_asian_width(char) in "WF" else 1
                if self._column < self.width:
                    self.chars[self._row][self._column] = char
                    self.backgrounds[self._row][self._column] = self._background
                    if cells == 2 and self._column + 1 < self.width:
                        self.chars[self._row][self._column + 1] = ""
                        self.backgrounds[self._row][self._column + 1] = self._background
                self._column = min(self.width, self._column + cells)

    def line(self, row: int) -> str:
        return "".join(self.chars[row])

    def find(self, needle: str) -> tuple[int, int] | None:
        """(row, column) of the first cell of ``needle`` on the screen."""
        for row in range(self.height):
            column = self.line(row).find(needle)
            if column >= 0:
                return row, column
        return None



def _take_terminal() -> None:
    """In the child, after setsid: the pty becomes its controlling terminal, as a shell or
    sshd makes it, so the child gets SIGHUP when this harness (the master) goes away."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)

class PtyProcess:
    """A child on a pty of ``size``; its output is read continuously (a terminal would)."""

    def __init__(self, argv: Sequence[str], *, size: tuple[int, int] = (120, 40),
                 env: dict[str, str] | None = None, cwd: Path | None = None,
                 on_frame: Callable[[TerminalScreen, float], None] | None = None) -> None:
        """``on_frame``: called on the reader thread with the screen and the time each frame
        is whole on it (the terminal then answers the synchronized-output query)."""
        self.started = time.monotonic()
        self.screen = TerminalScreen(*size)
        self._on_frame = on_frame
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        master, slave = pty.openpty()
        width, height = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        environment = dict(os.environ if env is None else env)
        environment.setdefault("TERM", "xterm-256color")
        self.process = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave,
                                        env=environment, cwd=cwd, start_new_session=True,
                                        close_fds=True, preexec_fn=_take_terminal)
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
            read_at = time.monotonic()
            with self._seen:
                if self._on_frame is None:
                    self._output.extend(data)
                else:
                    if SYNC_QUERY in data:
                        os.write(self.master, SYNC_SUPPORTED)
                    self.screen.feed(self._decoder.decode(data),
                                     functools.partial(self._on_frame, self.screen, read_at))
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

    def wait_for_screen(self, *needles: str, timeout: float = 30) -> float:
        """Like :meth:`wait_for_text`, on the emulated screen (``on_frame`` given)."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                if all(self.screen.find(n) is not None for n in needles):
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
    # The workbench is measured, not a Docker daemon: script tasks on the process runner
    # (ROOST_RUNNER=auto in the caller's environment measures the container path instead).
    env.setdefault("ROOST_RUNNER", "process")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{REPO}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env
