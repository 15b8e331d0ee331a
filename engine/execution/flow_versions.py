"""Hot reload: the versions of the flow one execution has seen, and following the newest.

When the YAML is saved while an execution is paused, the tasks not run yet take their
new definitions: a sequence that is running swaps its task list for the newest version
of the same list and goes on after the last task it ran. A list is known by its owner
(the flowable task, or the flow itself) and the property it is under (`tasks`, `errors`,
`finally`...), found by identity among the owner's lists, so nothing is keyed by `id()`
and no old version needs to be kept alive for its lists to stay recognisable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.core.flow_info import FlowInfo
from engine.flow.diff import FlowUpdate, compare_flows
from engine.flow.model import Flow
from engine.tasks.base import Task

ListKey = tuple[str | None, str]
"""A task list: the id of its owner (None for the flow's own lists) and its property name."""


def _flow_lists(flow: Flow) -> tuple[tuple[str, list[Task]], ...]:
    return (("tasks", flow.tasks), ("errors", flow.errors), ("finally", flow.finally_))


def flow_info(flow: Flow) -> FlowInfo:
    return FlowInfo(id=flow.id, namespace=flow.namespace, path=flow.path)


class FlowVersions:
    """The flow as it is now for one execution; `version` counts the reloads."""

    def __init__(self, flow: Flow) -> None:
        self.current = flow
        self.info = flow_info(flow)
        self.version = 0
        self._first = flow   # the flow's own lists the execution started with

    def latest(self, task: Task) -> Task | None:
        """The task's definition in the newest version of the flow (None: removed)."""
        if self.version == 0:
            return task
        return self.current.find_task(task.id)

    def check_same_flow(self, flow: Flow) -> None:
        """Raises ValueError when ``flow`` is another flow than the one running."""
        current = self.current
        if (flow.namespace, flow.id) != (current.namespace, current.id):
            raise ValueError(f"{flow.namespace}.{flow.id} is another flow than "
                             f"{current.namespace}.{current.id}")

    def switch_to(self, flow: Flow, started: Iterable[str]) -> FlowUpdate:
        """Make ``flow`` the newest version; says what changed for the tasks not started yet."""
        self.check_same_flow(flow)
        update = compare_flows(self.current, flow, started)
        self.current = flow
        self.info = flow_info(flow)
        self.version += 1   # last: a sequence that sees the new number finds the new lists
        return update

    def reloaded_list(self, original: Sequence[Task], owner: Task | None, current: Sequence[Task],
                      position: int, last_id: str | None) -> tuple[Sequence[Task], int]:
        """The newest version of a task list, and where to go on in it (after the last task run).

        ``original`` is the list the sequence started with, ``owner`` the flowable task it
        belongs to (None: the flow's own); a list that is not one of its owner's (a Parallel
        branch) or whose owner is gone keeps running as it is.
        """
        key = self._key(original, owner)
        fresh = self._newest(key) if key is not None else None
        if fresh is None:
            return current, position
        ids = [task.id for task in fresh]
        if last_id in ids:
            return fresh, ids.index(last_id) + 1
        return fresh, min(position, len(fresh))

    def _key(self, original: Sequence[Task], owner: Task | None) -> ListKey | None:
        lists = _flow_lists(self._first) if owner is None else owner.child_task_lists()
        for name, children in lists:
            if children is original:
                return (owner.id if owner is not None else None, name)
        return None

    def _newest(self, key: ListKey) -> Sequence[Task] | None:
        owner_id, name = key
        if owner_id is None:
            lists: Iterable[tuple[str, list[Task]]] = _flow_lists(self.current)
        else:
            owner = self.current.find_task(owner_id)
            if owner is None:
                return None
            lists = owner.child_task_lists()
        return next((children for list_name, children in lists if list_name == name), None)
