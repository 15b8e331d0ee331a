"""Errors that reach users: each one carries where it happened, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowError:
    """A mistake in a flow file, located at file:line:col (1-based)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        # One error, one line: a value quoted in the message may hold a newline or an escape.
        return f"{self.path}:{self.line}:{self.column}: {self.message.translate(_CONTROL_ESCAPES)}"


_CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(32), *range(127, 160))} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class InvalidFlowError(Exception):
    """Raised when a flow cannot be loaded; holds every problem found, in file order."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.path, e.line, e.column))
        super().__init__("\n".join(str(e) for e in self.errors))


class TaskFailure(Exception):
    """A task failed for a reason the user can act on; the message is logged as is."""

    def __init__(self, message: str, outputs: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.outputs = outputs or {}


class UsageError(Exception):
    """Bad command-line usage or configuration (exit status 2)."""
