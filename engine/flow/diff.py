"""What changed between two versions of a flow, told from a running execution's point of view.

When the YAML is saved while an execution is paused, the new version applies to the
tasks that have not run yet. The user must know exactly which of their edits take effect
now and which concern tasks that already ran (those only change with a re-run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.flow.model import Flow


@dataclass(frozen=True)
class FlowUpdate:
    """Task ids by what the edit did to them; ``already_ran`` are changed tasks that ran before."""

    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    already_ran: tuple[str, ...] = ()
    variables_changed: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.changed or self.added or self.removed or self.already_ran
                    or self.variables_changed)

    def describe(self) -> str:
        """One line for a notification and the execution's log."""
        if self.is_empty:
            return "flow reloaded: no change to the tasks still to run"
        parts: list[str] = []
        if self.changed:
            parts.append("changed " + ", ".join(self.changed))
        if self.added:
            parts.append("added " + ", ".join(self.added))
        if self.removed:
            parts.append("removed " + ", ".join(self.removed))
        if self.variables_changed:
            parts.append("variables changed")
        text = "flow reloaded; applies to the tasks not run yet: " + ("; ".join(parts) or "nothing")
        if self.already_ran:
            text += (f". Already ran, unchanged in this execution: {', '.join(self.already_ran)}"
                     " (press . / `rerun` to run the last one again)")
        return text


def compare_flows(old: Flow, new: Flow, ran: Iterable[str]) -> FlowUpdate:
    """Compare task definitions by id; ``ran`` holds the ids of tasks that started already."""
    started = set(ran)
    old_tasks = {task.id: task for task in old.walk_tasks()}
    new_tasks = {task.id: task for task in new.walk_tasks()}
    changed: list[str] = []
    already: list[str] = []
    for task_id, task in new_tasks.items():
        before = old_tasks.get(task_id)
        if before is None or _definition(before) == _definition(task):
            continue
        (already if task_id in started else changed).append(task_id)
    return FlowUpdate(
        changed=tuple(changed),
        added=tuple(t for t in new_tasks if t not in old_tasks),
        removed=tuple(t for t in old_tasks if t not in new_tasks),
        already_ran=tuple(already),
        variables_changed=old.variables != new.variables,
    )


def _definition(task: object) -> object:
    """A task's own YAML, children left out (a child's edit is the child's change)."""
    source = getattr(task, "source", {})
    return {key: value for key, value in source.items()
            if key not in ("tasks", "errors", "finally", "then", "else", "cases", "defaults")}
