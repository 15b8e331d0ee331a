"""Runs a command as its own process group and streams its lines (Kestra's Process runner).

What a task run leaves behind dies with it. The command starts in a new session
(its own process group) with `ROOST_TASK_RUN=<task run id>` in its environment,
which every descendant inherits. When the command ends, whatever is left of its
group is killed, and so is any process carrying the marker (a daemon that left
the group with `setsid`). When `stop` is set (timeout, cancel) the group gets
SIGTERM, then SIGKILL after TERM_GRACE_SECONDS.

If Roost itself dies (even `kill -9`), an `OrphanGuard` process kills every
process its task runs started (see orphans.py).
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.core.process_waits import process_wait_begins
from engine.runners.line_splitter import MAX_CHUNK, LinesHandler, LineSplitter, one_by_one
from engine.runners.orphans import (
    MARKER_VARIABLE,
    OWNER_VARIABLE,
    OrphanGuard,
    _candidate_pids,
    kill_marked_processes,
    shared_guard,
)
from engine.runners.spawn import Child, spawn

__all__ = ["MARKER_VARIABLE", "MAX_CHUNK", "OWNER_VARIABLE", "OrphanGuard", "ProcessResult", "ProcessRunner",
           "ProcessSpec", "ProcessStartError", "kill_marked_processes"]

TERM_GRACE_SECONDS = 2.0
DRAIN_SECONDS = 1.0  # how long pipes held open by killed orphans may take to close
_READ_SIZE = 1 << 16
_STOP_CHECK_SECONDS = 0.05


class ProcessStartError(Exception):
    """The command could not start: a missing or non-executable program, a bad directory."""


@dataclass(frozen=True)
class ProcessSpec:
    """A command line, its directory and environment; `marker` is the task run id."""

    args: list[str]
    cwd: Path
    env: dict[str, str]
    marker: str


@dataclass(frozen=True)
class ProcessResult:
    """How the command ended; `stopped` when Roost killed it because `stop` was set."""

    exit_code: int
    stopped: bool = False


class ProcessRunner:
    """Runs one command to its end, streaming stdout and stderr lines as they are written."""

    def __init__(self, guard: OrphanGuard | None = None) -> None:
        self._guard = guard if guard is not None else shared_guard()

    def run(self, spec: ProcessSpec, on_line: Callable[[str, str], None],
            stop: threading.Event, on_lines: LinesHandler | None = None) -> ProcessResult:
        """Run `spec`, calling `on_line(stream, text)` for each line; kill it when `stop` is set.

        With `on_lines`, the lines of each read go to it as one list instead (same order)."""
        if not spec.args:
            raise ProcessStartError("cannot start a command: no program given")
        self._guard.ensure_running()
        env = dict(spec.env)
        env[MARKER_VARIABLE] = spec.marker
        env[OWNER_VARIABLE] = self._guard.owner
        try:
            proc = spawn(spec.args, spec.cwd, env, _dev_null())
        except (OSError, ValueError) as exc:
            raise ProcessStartError(_start_message(spec, exc)) from None
        return _Supervision(proc, spec.marker, self._guard.owner, on_lines or one_by_one(on_line),
                            stop).run()


_DEV_NULL: list[int] = []
_DEV_NULL_LOCK = threading.Lock()


def _dev_null() -> int:
    """One /dev/null descriptor for every task's stdin (subprocess.DEVNULL opens one per call)."""
    if not _DEV_NULL:
        with _DEV_NULL_LOCK:
            if not _DEV_NULL:
                _DEV_NULL.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
    return _DEV_NULL[0]


def _start_message(spec: ProcessSpec, exc: Exception) -> str:
    program = spec.args[0]
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        if exc.filename is not None and str(exc.filename) == str(spec.cwd) != program:
            return f"cannot start '{program}' in '{spec.cwd}': {reason}"
        return f"cannot start '{program}': {reason}"
    return f"cannot start '{program}': {exc}"


class _Supervision:
    """One running command: reads both pipes and watches its exit and `stop`, in one thread.

    Exit is seen through a pidfd in the same poll as the pipes, so a command whose
    orphans keep the pipes open still ends the task, and the happy path never sleeps.
    """

    def __init__(self, proc: Child, marker: str, owner: str,
                 on_lines: LinesHandler, stop: threading.Event) -> None:
        self.proc = proc
        self.marker = marker
        self.owner = owner
        self.stop = stop
        self.started = time.monotonic()
        self.splitters = {proc.stdout_fd: LineSplitter("stdout", on_lines),
                          proc.stderr_fd: LineSplitter("stderr", on_lines)}
        self.poller = select.poll()
        for fd in self.splitters:
            self.poller.register(fd, select.POLLIN)
        self.pidfd = _open_pidfd(proc.pid)
        if self.pidfd is not None:
            self.poller.register(self.pidfd, select.POLLIN)

    def run(self) -> ProcessResult:
        stopped = False
        try:
            process_wait_begins()
            stopped = self._until_exit()
            # The main process is a zombie, not reaped: its group id cannot be reused yet.
            _signal_group(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
            kill_marked_processes([self.marker], _candidate_pids(self.proc.pid, self.started),
                                  owner=self.owner)
            self._drain(time.monotonic() + DRAIN_SECONDS)
        finally:
            if self.proc.returncode is None:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                kill_marked_processes([self.marker], None, owner=self.owner)
            self._close()
        return ProcessResult(128 - code if code < 0 else code, stopped)

    def _until_exit(self) -> bool:
        stopped = False
        kill_at: float | None = None
        while True:
            if not stopped and self.stop.is_set():
                stopped = True
                _signal_group(self.proc.pid, signal.SIGTERM)
                kill_at = time.monotonic() + TERM_GRACE_SECONDS
            timeout = _STOP_CHECK_SECONDS if self.pidfd is not None else 0.01
            if kill_at is not None:
                left = kill_at - time.monotonic()
                if left <= 0:
                    _signal_group(self.proc.pid, signal.SIGKILL)
                    kill_at = None
                else:
                    timeout = min(timeout, left)
            for fd, _ in self.poller.poll(timeout * 1000):
                if fd == self.pidfd:
                    return stopped
                self._read(fd)
            if self.pidfd is None and _has_exited(self.proc.pid):
                return stopped

    def _read(self, fd: int) -> None:
        data = os.read(fd, _READ_SIZE)
        if data:
            self.splitters[fd].feed(data)
        else:
            self.poller.unregister(fd)
            self.splitters.pop(fd).finish()

    def _drain(self, deadline: float) -> None:
        """Read what is left; orphans were killed, so the pipes close soon, but never wait long."""
        if self.pidfd is not None:
            self.poller.unregister(self.pidfd)
        while self.splitters:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for fd, _ in self.poller.poll(left * 1000):
                self._read(fd)
        for splitter in self.splitters.values():
            splitter.finish()
        self.splitters.clear()

    def _close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
        self.proc.close_pipes()


def _open_pidfd(pid: int) -> int | None:
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        return int(pidfd_open(pid))
    except OSError:  # kernel older than 5.3
        return None


def _has_exited(pid: int) -> bool:
    """Whether the child exited, without reaping it (WNOWAIT keeps its group id reserved)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
