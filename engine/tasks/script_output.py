"""A script's streamed lines turned into log events, outputs (`vars`) and metrics.

Lines come one by one (a tool's own log reader in between) or a whole pipe read at a time.
A read's ordinary lines become one log event; Kestra's `::{...}::` protocol lines are still
read one by one, in their place among the others, so order is kept per stream.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.runners.protocol import parse_protocol_line
from engine.tasks.base import Task
from engine.tasks.context import TaskContext

__all__ = ["LEVELS", "OutputCollector"]

LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}


class OutputCollector:
    """Turns streamed lines into log events, outputs (`vars`) and metrics."""

    def __init__(self, ctx: TaskContext[Task]) -> None:
        self.ctx = ctx
        self.vars: dict[str, Any] = {}
        self.stdout_lines = 0
        self.stderr_lines = 0
        self._lock = threading.Lock()

    def on_line(self, stream: str, text: str) -> None:
        message = parse_protocol_line(text)
        if message is None:
            self._count(stream, 1)
            self.ctx.log("ERROR" if stream == "stderr" else "INFO", text)
            return
        if message.warning:
            self.ctx.warn(message.warning)
        if message.outputs:
            with self._lock:
                self.vars.update(message.outputs)
        for metric in message.metrics:
            self.ctx.metric(metric.name, metric.type, metric.value, dict(metric.tags))
        for level, log_message in message.logs:
            level = level.upper().replace("WARNING", "WARN")
            self.ctx.log(level if level in LEVELS else "INFO", log_message)

    def on_lines(self, stream: str, lines: list[str]) -> None:
        """The lines of one read: ordinary ones as one event, protocol lines in their place."""
        if "::{" in "\n".join(lines):  # one C scan; the per-line check only when it may matter
            start = 0
            for index, text in enumerate(lines):
                if text.startswith("::{") and text.endswith("}::"):
                    self._plain(stream, lines[start:index])
                    self.on_line(stream, text)
                    start = index + 1
            lines = lines[start:]
        self._plain(stream, lines)

    def _plain(self, stream: str, lines: list[str]) -> None:
        if lines:
            self._count(stream, len(lines))
            self.ctx.log_lines("ERROR" if stream == "stderr" else "INFO", lines)

    def _count(self, stream: str, count: int) -> None:
        with self._lock:
            if stream == "stderr":
                self.stderr_lines += count
            else:
                self.stdout_lines += count
