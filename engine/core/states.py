"""Kestra's execution and task-run states, and how a group of states combines."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class State(StrEnum):
    """A state as Kestra names it; the string value is what JSON and the database hold."""

    CREATED = "CREATED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    SKIPPED = "SKIPPED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_failure(self) -> bool:
        return self in (State.FAILED, State.KILLED)


TERMINAL_STATES = frozenset(
    {State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.SKIPPED}
)

# Worse states win when children are combined into their parent's state.
_SEVERITY = {
    State.SKIPPED: 0,
    State.SUCCESS: 1,
    State.WARNING: 2,
    State.FAILED: 3,
    State.KILLED: 4,
}


def combine_states(states: Iterable[State]) -> State:
    """The state a parent ends in from its children's: the worst one; SUCCESS when all skipped."""
    worst = State.SUCCESS
    for state in states:
        if _SEVERITY.get(state, 1) > _SEVERITY[worst]:
            worst = state
    return worst
