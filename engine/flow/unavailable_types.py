"""What a loaded flow uses that Roost cannot run: one notice per task or trigger type.

The flow loads (see engine/tasks/unavailable.py); `roost validate` and `roost run` still
say, once per type, that those tasks need a mock and those triggers do not fire locally, so
nobody mistakes "OK" for "runs here".
"""

from __future__ import annotations

from engine.flow.model import Flow
from engine.tasks.unavailable import UnavailableTask, unavailable_notice
from engine.triggers.registry import trigger_class


def unavailable_tasks(flow: Flow) -> list[UnavailableTask]:
    """The flow's tasks of types Roost does not run, in file order."""
    return [task for task in flow.walk_tasks() if isinstance(task, UnavailableTask)]


def unavailable_notices(flow: Flow) -> list[str]:
    """One line per unavailable task type (naming nested task lists left unchecked), then
    one per trigger type Roost does not run."""
    notices: list[str] = []
    by_type: dict[str, list[UnavailableTask]] = {}
    for task in unavailable_tasks(flow):
        by_type.setdefault(task.type, []).append(task)
    for type_name, tasks in by_type.items():
        notice = unavailable_notice(type_name)
        ids = ", ".join(task.id for task in tasks)
        notice += f"; task(s): {ids}"
        nested = sorted({f"{task.id}.{name}" for task in tasks for name in task.nested_task_properties()})
        if nested:
            notice += (f"; its properties are not checked, nor the tasks nested in "
                       f"{', '.join(nested)}")
        notices.append(notice)
    seen: set[str] = set()
    for raw in flow.triggers:
        type_name = str(raw.get("type"))
        if type_name in seen or trigger_class(type_name) is not None:
            continue
        seen.add(type_name)
        notices.append(unavailable_notice(type_name, "triggers") + f"; trigger: {raw.get('id')}")
    return notices
