"""Kestra's log tasks beside Log: Fetch (an execution's logs as a file) and PurgeLogs.

Fetch writes what Kestra's FileSerde writes: one Amazon Ion struct per line, so the file
reads back with Kestra's ion readers (and line by line as text). PurgeLogs deletes log
lines from history.db in bulk. Both reach history through `ctx.history`.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.store.history_queries import LEVELS, LogFilter
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.execution_tasks import execution_reference_errors, parse_date, require_history
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

_ION_SYMBOL = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def ion_value(value: Any) -> str:
    """One scalar in Ion text: strings double-quoted (JSON's escapes are Ion's), null, numbers."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def ion_struct(fields: dict[str, Any], timestamps: frozenset[str] = frozenset()) -> str:
    """A flat struct in Ion text; fields named in `timestamps` are written as bare Ion timestamps."""
    parts = []
    for name, value in fields.items():
        if value is None:   # Kestra's Ion mapper leaves null fields out
            continue
        key = name if _ION_SYMBOL.fullmatch(name) else json.dumps(name)
        parts.append(f"{key}:{value if name in timestamps else ion_value(value)}")
    return "{" + ",".join(parts) + "}"


def _check_level(level: Any, prop_name: str) -> list[tuple[str | Position, str]]:
    if isinstance(level, str) and level.upper() not in LEVELS:
        return [(prop_name, f"'{prop_name}' must be one of {', '.join(LEVELS)}, not '{level}'")]
    return []


@register
@dataclass(kw_only=True, eq=False)
class Fetch(Task):
    """Writes the logs of this execution (or of `executionId`) to an Ion file in storage."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.log.Fetch", "io.kestra.core.tasks.log.Fetch")

    namespace: Any = prop(kind=Kind.STRING)
    flow_id: Any = prop(kind=Kind.STRING)
    execution_id: Any = prop(kind=Kind.STRING)
    tasks_id: Any = prop(kind=Kind.STRING_LIST, dynamic=False)
    level: str = prop("INFO", kind=Kind.STRING, dynamic=False)

    def validate(self) -> list[tuple[str | Position, str]]:
        return _check_level(self.level, "level") + execution_reference_errors(
            self.namespace, self.flow_id, self.execution_id)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        history = require_history(ctx, self)
        execution_id = ctx.render_optional_str(self.execution_id, "executionId") or ctx.execution_id
        namespace = ctx.render_optional_str(self.namespace, "namespace") or ctx.flow.namespace
        flow_id = ctx.render_optional_str(self.flow_id, "flowId") or ctx.flow.id
        found = history.execution_flow(execution_id)
        records = []
        if found is None:
            ctx.warn(f"no execution {execution_id} in history: no log fetched")
        elif found != (namespace, flow_id):
            # Kestra looks the logs up by namespace and flow too, and so finds none.
            ctx.warn(f"execution {execution_id} belongs to {found[0]}.{found[1]}, not {namespace}.{flow_id}; "
                     "set `namespace` and `flowId` to fetch its logs")
        else:
            task_ids = [str(t) for t in self.tasks_id] if self.tasks_id is not None else None
            records = history.fetch_logs(execution_id, str(self.level).upper(), task_ids)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".ion", delete=False) as handle:
            for record in records:
                handle.write(ion_struct({
                    "namespace": found[0] if found else namespace, "flowId": found[1] if found else flow_id,
                    "taskId": record.task_id, "executionId": record.execution_id,
                    "taskRunId": record.task_run_id, "timestamp": record.date, "level": record.level,
                    "message": record.message,
                }, timestamps=frozenset({"timestamp"})) + "\n")
            path = Path(handle.name)
        try:
            uri = ctx.store_output_file(f"{ctx.task_run_id}.ion", path)
        finally:
            path.unlink(missing_ok=True)
        return {"uri": uri, "size": len(records)}


@register
@dataclass(kw_only=True, eq=False)
class PurgeLogs(Task):
    """Deletes log lines from history by namespace, flow, execution, level and date."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.log.PurgeLogs",)

    namespace: Any = prop(kind=Kind.STRING)
    flow_id: Any = prop(kind=Kind.STRING)
    execution_id: Any = prop(kind=Kind.STRING)
    log_levels: Any = prop(kind=Kind.STRING_LIST, dynamic=False)
    start_date: Any = prop(kind=Kind.STRING)
    end_date: Any = prop(kind=Kind.STRING, required=True)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = []
        for level in self.log_levels if isinstance(self.log_levels, list) else []:
            problems += _check_level(str(level), "logLevels")
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        history = require_history(ctx, self)
        levels = tuple(str(level).upper() for level in self.log_levels or [])
        unknown = [level for level in levels if level not in LEVELS]
        if unknown:
            raise TaskFailure(f"property 'logLevels': unknown level(s) {', '.join(unknown)}")
        selection = LogFilter(
            namespace=ctx.render_optional_str(self.namespace, "namespace"),
            flow_id=ctx.render_optional_str(self.flow_id, "flowId"),
            execution_id=ctx.render_optional_str(self.execution_id, "executionId"),
            levels=levels,
            start_date=parse_date(ctx.render_str(self.start_date, "startDate"), "startDate")
            if self.start_date else None,
            end_date=parse_date(ctx.render_str(self.end_date, "endDate"), "endDate"),
        )
        return {"count": history.purge_logs(selection)}
