"""The headless debugger: `roost run FLOW --break T` / `--step` without the workbench.

A line prompt on stderr (stdout stays the execution JSON of ``--json``), read from stdin,
so it works in any plain terminal, over SSH, in tmux or a CI log. Commands (gdb-like
abbreviations; an empty line repeats the last of next/skip):

    n, next        run this task, pause before the next one
    c, continue    run on to the next breakpoint
    s, k, skip     do not run this task (SKIPPED)
    r, ., rerun    run the task that finished last again, then pause here again
    sh, !, shell   open $SHELL in the working directory
    e, :, eval X   evaluate a Pebble expression (`outputs.t1.value`, `{{ inputs.x }}`)
    p, print [X]   the task's rendered properties, or the value of X
    vars           the variables in scope
    b, break T     toggle a breakpoint on task T
    a, x, abort    kill the execution
    h, ?, help     this list
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.core.debug import DebugCommand, PauseInspection
from engine.core.events import Event, PausedAtTask

if TYPE_CHECKING:
    from engine.execution.executor import ExecutionHandle
    from engine.flow.model import Flow

HELP = __doc__.split("Commands", 1)[1].split("\n", 1)[1].rstrip() if __doc__ else ""

_COMMANDS: dict[str, str] = {
    "n": "next", "next": "next", "c": "continue", "continue": "continue", "cont": "continue",
    "s": "skip", "k": "skip", "skip": "skip", "r": "rerun", ".": "rerun", "rerun": "rerun",
    "sh": "shell", "!": "shell", "shell": "shell", "e": "eval", ":": "eval", "eval": "eval",
    "p": "print", "print": "print", "vars": "vars", "b": "break", "break": "break",
    "a": "abort", "x": "abort", "abort": "abort", "q": "abort", "quit": "abort",
    "h": "help", "?": "help", "help": "help",
}


@dataclass(frozen=True)
class PromptLine:
    """A parsed prompt line: the command's full name and the rest of the line."""

    command: str
    argument: str


def parse_line(line: str) -> PromptLine | None:
    """`n`, `eval outputs.a`, `:outputs.a`, `!` ...; None for an unknown command."""
    text = line.strip()
    if not text:
        return PromptLine("", "")
    if text[0] in ":!":  # `:outputs.a`, `!` need no space after them
        head, rest = text[0], text[1:].strip()
    else:
        head, _, rest = text.partition(" ")
        rest = rest.strip()
    name = _COMMANDS.get(head.lower())
    return PromptLine(name, rest) if name else None


class DebugPrompt:
    """Answers pauses from a line prompt; the executor runs in its own thread meanwhile."""

    def __init__(self, handle: ExecutionHandle, flow: Flow, stdin: IO[str], out: IO[str]) -> None:
        self.handle = handle
        self.flow = flow
        self.stdin = stdin
        self.out = out
        self.pauses: queue.Queue[PauseInspection] = queue.Queue()
        self._repeat = "next"

    def on_event(self, event: Event) -> None:
        """Bus subscriber (executor threads): queue breakpoint and step pauses."""
        if isinstance(event, PausedAtTask) and event.inspection is not None:
            self.pauses.put(event.inspection)

    def next_pause(self, timeout: float) -> PauseInspection | None:
        try:
            return self.pauses.get(timeout=timeout)
        except queue.Empty:
            return None

    # --- one pause ---------------------------------------------------------------------
    def answer(self, pause: PauseInspection) -> None:
        """Show the pause and read commands until one of them lets the execution go on."""
        self.show(pause)
        while True:
            self.write("(roost) ", end="")
            line = self.stdin.readline()
            if not line:  # stdin closed: nobody can answer, so do not leave it hanging
                self.write("\nstdin closed: aborting the execution")
                self.handle.command(DebugCommand.ABORT)
                return
            parsed = parse_line(line)
            if parsed is None:
                self.write(f"unknown command '{line.strip()}'; type help")
                continue
            command = parsed.command or self._repeat
            if self._run(command, parsed.argument, pause):
                return

    def _run(self, command: str, argument: str, pause: PauseInspection) -> bool:
        """Do one command; True when the execution goes on (the pause is answered)."""
        simple = {"next": DebugCommand.NEXT, "continue": DebugCommand.CONTINUE,
                  "skip": DebugCommand.SKIP, "rerun": DebugCommand.RERUN, "abort": DebugCommand.ABORT}
        if command in simple:
            if command in ("next", "skip"):
                self._repeat = command
            if command == "rerun" and pause.previous_task_id is None:
                self.write("no task has finished yet: nothing to re-run")
                return False
            return bool(self.handle.command(simple[command])) or self._gone()
        if command == "help":
            self.write(HELP)
        elif command == "print":
            if argument:
                self._evaluate(argument)
            else:
                self.show_properties(pause)
        elif command == "eval":
            if argument:
                self._evaluate(argument)
            else:
                self.write("eval needs an expression, e.g. eval outputs.taskId.value")
        elif command == "vars":
            self.write(_dump(pause.variables))
        elif command == "shell":
            self.open_shell(pause)
        elif command == "break":
            self._toggle_breakpoint(argument)
        return False

    def _gone(self) -> bool:
        self.write("the execution is no longer paused")
        return True

    def _evaluate(self, expression: str) -> None:
        from engine.execution.expression_eval import EvaluationError

        try:
            value = self.handle.evaluate(expression)
        except EvaluationError as exc:
            self.write(f"error: {exc.message}")
            return
        self.write(value if isinstance(value, str) else _dump(value))

    def _toggle_breakpoint(self, task_id: str) -> None:
        if not task_id:
            listed = ", ".join(sorted(self.handle.debugger.breakpoints)) or "none"
            self.write(f"breakpoints: {listed}")
            return
        if self.flow.find_task(task_id) is None:
            self.write(f"no task '{task_id}' in this flow")
            return
        points = set(self.handle.debugger.breakpoints)
        points.symmetric_difference_update({task_id})
        self.handle.debugger.set_breakpoints(points)
        self.write(f"breakpoint {'set on' if task_id in points else 'removed from'} '{task_id}'")

    def open_shell(self, pause: PauseInspection) -> None:
        directory = pause.working_dir
        if directory is None or not Path(directory).is_dir():
            self.write(f"'{pause.task_id}' does not run in a shared working directory yet: "
                       "nothing to open (tasks outside a WorkingDirectory get theirs when they start)")
            return
        shell = os.environ.get("SHELL") or "/bin/sh"
        self.write(f"opening {shell} in {directory}; exit it to come back to the prompt")
        try:
            subprocess.run(shlex.split(shell), cwd=directory, check=False)
        except OSError as exc:
            self.write(f"cannot start {shell}: {exc.strerror or exc}")

    # --- display -----------------------------------------------------------------------
    def show(self, pause: PauseInspection) -> None:
        where = f"{self.flow.path}:{pause.source_line}" if self.flow.path else f"line {pause.source_line}"
        self.write(f"\n⏸ paused before '{pause.task_id}' ({pause.task_type}), {pause.reason} at {where}")
        self.show_properties(pause)
        if pause.working_dir:
            self.write(f"  working directory: {pause.working_dir}")
        self.write("  n next · c continue · s skip · r re-run last · sh shell · e eval · p print · a abort · h help")

    def show_properties(self, pause: PauseInspection) -> None:
        if not pause.properties and not pause.property_errors:
            self.write("  (no properties to render)")
        for key, value in pause.properties.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines = str(text).splitlines() or [""]
            self.write(f"  {key}: {lines[0]}")
            for more in lines[1:]:
                self.write(f"  {' ' * len(key)}  {more}")
        for key, message in pause.property_errors.items():
            self.write(f"  {key}: ERROR {message}")

    def write(self, text: str, end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
