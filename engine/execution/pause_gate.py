"""Breakpoints and stepping for one execution: where it pauses and what the user answers.

The executor asks :meth:`Debugger.gate` before every task. When the task has a
breakpoint, or step mode is on, the calling thread waits there until a command
arrives from another thread (the workbench, the headless prompt, a test). Parallel
branches and ForEach iterations may reach the gate at the same time; they take turns,
so the user always answers one pause at a time and a ``continue`` lets the others
through without stopping them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from engine.core.debug import DebugCommand, PauseInspection


class Debugger:
    """Breakpoints, step mode and the pause hand-off of one execution; thread-safe."""

    def __init__(self, breakpoints: Iterable[str] = (), step: bool = False) -> None:
        self._breakpoints = frozenset(breakpoints)
        self._step = step
        self._cond = threading.Condition()
        self._current: PauseInspection | None = None
        self._command: DebugCommand | None = None
        self._woken = False

    # --- settings (any thread) --------------------------------------------------------
    @property
    def breakpoints(self) -> frozenset[str]:
        return self._breakpoints

    def set_breakpoints(self, task_ids: Iterable[str]) -> None:
        with self._cond:
            self._breakpoints = frozenset(task_ids)

    @property
    def stepping(self) -> bool:
        return self._step

    def set_stepping(self, step: bool) -> None:
        with self._cond:
            self._step = step

    @property
    def active(self) -> bool:
        """Whether any task could pause; the executor skips all of this when not."""
        return self._step or bool(self._breakpoints)

    def wants_pause(self, task_id: str) -> bool:
        return self._step or task_id in self._breakpoints

    # --- the pause (any thread) --------------------------------------------------------
    @property
    def paused(self) -> PauseInspection | None:
        """The pause waiting for an answer, if any."""
        return self._current

    def send(self, command: DebugCommand) -> bool:
        """Answer the current pause; False when nothing is paused (the command is dropped)."""
        with self._cond:
            if self._current is None or self._command is not None:
                return False
            self._command = command
            self._cond.notify_all()
            return True

    def refresh(self, info: PauseInspection) -> bool:
        """Show a new inspection of the same pause (the flow was edited); False if it is over."""
        with self._cond:
            current = self._current
            if current is None or self._command is not None or current.task_run_id != info.task_run_id:
                return False
            self._current = info
            return True

    def wake(self) -> None:
        """Release every waiting thread (the execution is being cancelled)."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    # --- the executor's side -----------------------------------------------------------
    def gate(self, task_id: str, inspect: Callable[[], PauseInspection],
             on_pause: Callable[[PauseInspection], None],
             cancelled: Callable[[], bool]) -> DebugCommand | None:
        """Pause before ``task_id`` when it should; None when it does not pause.

        ``inspect`` builds what is shown (called only when pausing, outside the lock, so
        rendering a slow template never blocks a command); ``on_pause`` publishes it.
        """
        with self._cond:
            while self._current is not None and not (self._woken or cancelled()):
                self._cond.wait(0.5)  # another branch is paused: wait for its answer first
            if self._woken or cancelled():
                return DebugCommand.ABORT if self.wants_pause(task_id) else None
            if not self.wants_pause(task_id):
                return None
            self._current = _placeholder(task_id)  # hold the turn while inspecting
        try:
            info = inspect()
        except Exception as exc:  # showing the pause must never lose it
            info = PauseInspection(execution_id="", task_id=task_id, task_run_id="", task_type="",
                                   reason="step", property_errors={"*": f"cannot inspect: {exc!r}"})
        with self._cond:
            self._current = info
        on_pause(info)
        with self._cond:
            while self._command is None and not (self._woken or cancelled()):
                self._cond.wait(0.5)
            command = self._command or DebugCommand.ABORT
            self._current = None
            self._command = None
            if command is DebugCommand.CONTINUE:
                self._step = False
            elif command in (DebugCommand.NEXT, DebugCommand.SKIP, DebugCommand.RERUN):
                self._step = True
            self._cond.notify_all()
        return command


def _placeholder(task_id: str) -> PauseInspection:
    return PauseInspection(execution_id="", task_id=task_id, task_run_id="", task_type="", reason="")
