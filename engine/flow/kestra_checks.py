"""Flow rules Kestra's validators enforce beyond the shape of tasks: listeners, worker
groups, system labels.

Kestra OSS refuses a `workerGroup` with a key ("an Enterprise Edition functionality") and
`system.` labels other than `system.readOnly` (Kestra sets those itself). Listeners are
deprecated but still part of a flow: their tasks are validated like the flow's, count for
duplicate ids, and Roost warns that it does not run them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.core.yaml_source import Position, YamlList, YamlMap
from engine.flow.task_builder import TaskBuilder
from engine.tasks.base import Task

ErrorSink = Callable[[Position, str], None]

#: Kestra's Label.SYSTEM_PREFIX and the one system label a flow may set (Label.READ_ONLY).
SYSTEM_PREFIX = "system."
READ_ONLY_LABEL = "system.readOnly"
WORKER_GROUP_MESSAGE = "Worker Group is an Enterprise Edition functionality"
LISTENER_KEYS = ("description", "conditions", "tasks")
LISTENERS_WARNING = ("'listeners' are deprecated in Kestra (use a Flow trigger or afterExecution); "
                     "Roost validates their tasks but does not run them")


def read_listeners(raw: YamlMap, builder: TaskBuilder, error: ErrorSink) -> list[Task]:
    """Every listener's tasks, built (and checked) like the flow's own; problems go to `error`."""
    listeners = raw.get("listeners")
    if listeners is None:
        return []
    if not isinstance(listeners, list):
        error(raw.position_of("listeners"), "'listeners' must be a list of {conditions, tasks}")
        return []
    tasks: list[Task] = []
    for index, listener in enumerate(listeners):
        where = f"listeners[{index}]"
        position = listeners.position_of(index) if isinstance(listeners, YamlList) else raw.position
        if not isinstance(listener, YamlMap):
            error(position, f"{where} must be a map with 'tasks' (and optional 'conditions')")
            continue
        for key in listener:
            if key not in LISTENER_KEYS:
                error(listener.key_position(key), f"{where}: unknown property '{key}'; "
                                                  f"a listener has {', '.join(LISTENER_KEYS)}")
        conditions = listener.get("conditions")
        if conditions is not None and not isinstance(conditions, list):
            error(listener.position_of("conditions"), f"{where}.conditions must be a list of conditions")
        listener_tasks = listener.get("tasks")
        if not listener_tasks:  # Kestra's @NotEmpty: missing, null or []
            error(listener.position_of("tasks") if "tasks" in listener else position,
                  f"{where}.tasks: must not be empty")
            continue
        tasks.extend(builder.build_list(listener_tasks, listener.position_of("tasks"), f"'{where}.tasks'"))
    return tasks


def worker_group_problems(tasks: Iterable[Task], triggers: Iterable[YamlMap]) -> list[tuple[Position, str]]:
    """A `workerGroup` with a `key` on any task or trigger, refused as Kestra OSS refuses it."""
    problems: list[tuple[Position, str]] = []
    advice = "Roost, like Kestra OSS, runs every task on its one worker: remove 'workerGroup'"
    for task in tasks:
        if _has_key(task.worker_group):
            problems.append((task.source.key_position("workerGroup"),
                             f"task '{task.id}': workerGroup: {WORKER_GROUP_MESSAGE}; {advice}"))
    for trigger in triggers:
        if _has_key(trigger.get("workerGroup")):
            problems.append((trigger.key_position("workerGroup"),
                             f"trigger '{trigger.get('id')}': workerGroup: {WORKER_GROUP_MESSAGE}; {advice}"))
    return problems


def _has_key(worker_group: Any) -> bool:
    """Kestra's WorkerGroupValidator passes a missing group and one without a key."""
    return isinstance(worker_group, Mapping) and worker_group.get("key") is not None


def system_label_problems(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label key, Kestra's FlowValidator message) for each `system.` label a flow sets itself."""
    return [(key, f"System labels can only be set by Kestra itself, offending label: {key}={value}; "
                  f"remove it or use a key without the '{SYSTEM_PREFIX}' prefix")
            for key, value in labels.items() if key.startswith(SYSTEM_PREFIX) and key != READ_ONLY_LABEL]


def walk(tasks: Iterable[Task]) -> list[Task]:
    """The tasks and all their children, depth first (listener tasks are outside Flow.walk_tasks)."""
    found: list[Task] = []
    pending = list(tasks)[::-1]
    while pending:
        task = pending.pop()
        found.append(task)
        pending.extend(list(task.all_children())[::-1])
    return found
