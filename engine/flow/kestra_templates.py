"""Kestra's deprecated templates (id, namespace, tasks) found in files beside a flow.

Kestra kept templates in its database; locally the only place they can be is a YAML file
next to the flow (or in a `templates/` folder beside it). The Template task asks for one by
namespace and id when it runs; a template that is broken fails that task, naming the file.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.errors import InvalidFlowError, TaskFailure
from engine.core.yaml_source import YamlMap, load_yaml
from engine.flow.task_builder import TaskBuilder
from engine.tasks.base import Task

TemplateTasks = tuple[list[Task], list[Task]]
"""A template's `tasks` and `errors`."""


def find_template(flow_path: str, namespace: str, template_id: str) -> TemplateTasks | None:
    """The template `namespace`.`template_id` from a file beside the flow; None when there is none."""
    if not flow_path:
        return None
    flow_file = Path(flow_path)
    folder = flow_file.parent
    candidates = [*sorted(folder.glob("*.y*ml")), *sorted((folder / "templates").glob("*.y*ml"))]
    for path in candidates:
        if path.resolve() == flow_file.resolve() or path.suffix not in (".yml", ".yaml"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if template_id not in text:  # most files beside a flow are other flows: skip them unparsed
            continue
        try:
            raw = load_yaml(text, str(path))
        except InvalidFlowError:
            continue
        if (isinstance(raw, YamlMap) and raw.get("id") == template_id and raw.get("namespace") == namespace
                and "tasks" in raw and "triggers" not in raw):
            return _build(raw, str(path))
    return None


def _build(raw: YamlMap, path: str) -> TemplateTasks:
    builder = TaskBuilder(path, ())
    tasks = builder.build_list(raw.get("tasks"), raw.position_of("tasks"), "template 'tasks'")
    errors = builder.build_list(raw.get("errors"), raw.position_of("errors"), "template 'errors'")
    if builder.errors:
        raise TaskFailure(f"template '{raw.get('namespace')}.{raw.get('id')}' is invalid: "
                          + "; ".join(str(error) for error in builder.errors[:5]))
    if not tasks:
        raise TaskFailure(f"template '{raw.get('namespace')}.{raw.get('id')}' in {path} has no tasks")
    return tasks, errors
