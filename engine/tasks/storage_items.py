"""Kestra's row-file tasks: FilterItems and DeduplicateItems, over Ion files (one row a line).

Each row is parsed (engine/core/ion.py) only to give the expression its fields as
variables, the way Kestra merges the row into the run's variables; the row is
written out exactly as read, so nothing is lost or reformatted on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.ion import IonError, read_value
from engine.core.truth import is_truthy
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.storage_tasks import OutputWriter, read_lines

FILTER_TYPES = ("INCLUDE", "EXCLUDE")
ERROR_OR_NULL = ("FAIL", "INCLUDE", "EXCLUDE")


def _rows(path: Path, uri: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(raw line, parsed struct) for each non-blank line; a line that is no Ion struct fails the task."""
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            value = read_value(line)
        except IonError as exc:
            raise TaskFailure(f"line {number} of {uri} is not an Ion value ({exc})") from None
        if not isinstance(value, dict):
            raise TaskFailure(f"line {number} of {uri} is not an Ion struct (a row of fields), "
                              f"so its fields cannot be used in the expression")
        yield line, value


@contextmanager
def _row_variables(ctx: TaskContext[Task], row: dict[str, Any]) -> Iterator[None]:
    """The row's fields as top-level variables for one rendering, then the task's own again."""
    saved = dict(ctx.extra_variables)
    ctx.extra_variables.update(row)
    try:
        yield
    finally:
        ctx.extra_variables.clear()
        ctx.extra_variables.update(saved)


def _choice(value: Any, allowed: tuple[str, ...], prop_name: str) -> list[tuple[str | Position, str]]:
    if isinstance(value, str) and value.upper() in allowed:
        return []
    return [(prop_name, f"'{prop_name}' must be one of {', '.join(allowed)}, not '{value}'")]


@register
@dataclass(kw_only=True, eq=False)
class FilterItems(Task):
    """Keeps (INCLUDE) or drops (EXCLUDE) the rows of an Ion file whose `filterCondition` is truthy."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.storage.FilterItems", "io.kestra.core.tasks.storages.FilterItems",
    )

    from_: Any = prop(kind=Kind.STRING, required=True, name="from")
    filter_condition: str = prop(kind=Kind.STRING, required=True, dynamic=False)
    filter_type: str = prop("INCLUDE", kind=Kind.STRING, dynamic=False)
    error_or_null_behavior: str = prop("FAIL", kind=Kind.STRING, dynamic=False)

    def validate(self) -> list[tuple[str | Position, str]]:
        return (_choice(self.filter_type, FILTER_TYPES, "filterType")
                + _choice(self.error_or_null_behavior, ERROR_OR_NULL, "errorOrNullBehavior"))

    def _matches(self, ctx: TaskContext[Task], line: str, row: dict[str, Any]) -> bool | None:
        """Whether the condition holds on the row; None when it cannot be evaluated (FAIL raises)."""
        try:
            with _row_variables(ctx, row):
                rendered = ctx.render_str(self.filter_condition, "filterCondition")
        except TaskFailure as exc:
            if self.error_or_null_behavior.upper() == "FAIL":
                raise TaskFailure(f"{exc} (on item {line}; set errorOrNullBehavior to INCLUDE or "
                                  f"EXCLUDE to keep going)") from None
            return None
        return is_truthy(rendered.strip())

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri = ctx.render_str(self.from_, "from").strip()
        source = ctx.storage_path(uri)
        include = self.filter_type.upper() == "INCLUDE"
        on_error = self.error_or_null_behavior.upper()
        processed = dropped = 0
        writer = OutputWriter(ctx, ctx.task_id + ".ion")
        try:
            for line, row in _rows(source, uri):
                match = self._matches(ctx, line, row)
                keep = (on_error == "INCLUDE") if match is None else (match == include)
                if keep:
                    writer.write((line + "\n").encode("utf-8"))
                else:
                    dropped += 1
                processed += 1
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "processedItemsTotal": processed, "droppedItemsTotal": dropped}


@register
@dataclass(kw_only=True, eq=False)
class DeduplicateItems(Task):
    """Keeps, for each key `expr` renders on a row, only the last row with that key, in file order."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.storage.DeduplicateItems", "io.kestra.core.tasks.storages.DeduplicateItems",
    )

    from_: Any = prop(kind=Kind.STRING, required=True, name="from")
    expr: str = prop(kind=Kind.STRING, required=True, dynamic=False)

    def _key(self, ctx: TaskContext[Task], row: dict[str, Any]) -> str:
        with _row_variables(ctx, row):
            return ctx.render_str(self.expr, "expr")

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri = ctx.render_str(self.from_, "from").strip()
        source = ctx.storage_path(uri)
        # Two passes, as Kestra does: the last offset of every key, then the rows at those offsets.
        last: dict[str, int] = {}
        for offset, (_line, row) in enumerate(_rows(source, uri)):
            last[self._key(ctx, row)] = offset
        kept = set(last.values())
        processed = 0
        writer = OutputWriter(ctx, ctx.task_id + ".ion")
        try:
            for offset, line in enumerate(line for line in read_lines(source) if line.strip()):
                if offset in kept:
                    writer.write((line + "\n").encode("utf-8"))
                processed += 1
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "numKeys": len(last), "processedItemsTotal": processed,
                "droppedItemsTotal": processed - len(kept)}
