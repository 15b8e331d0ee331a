"""`roost compare A B [--json]`: what differs between two executions, as a readable table.

The comparison itself is engine.store.execution_compare; this module prints it. Ids may be
given by a unique prefix, as `roost execution` takes them. Exit 0 whatever differs (a
difference is the answer, not an error); 2 for an unknown id.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from engine.core.errors import UsageError

if TYPE_CHECKING:  # `roost --help` builds this command's parser: it imports nothing heavy
    from engine.store.execution_compare import CompareReport, TaskComparison, ValueChange
    from engine.store.file_compare import FileDiff

EXIT_OK = 0
VALUE_WIDTH = 48


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("compare", help="what differs between two executions (inputs, flow, tasks, outputs, files)")
    parser.add_argument("left", help="an execution id (or a unique prefix)")
    parser.add_argument("right", help="the execution to compare it with")
    parser.add_argument("--json", action="store_true", help="the comparison as JSON")


def cmd_compare(args: argparse.Namespace) -> int:
    from engine.core.config import RoostHome
    from engine.store.execution_compare import compare_executions
    from engine.store.history import History
    from engine.store.storage import InternalStorage

    home = RoostHome.from_environment()
    if not home.history_db.exists():
        raise UsageError("no history yet: run a flow first (`roost run FLOW`)")
    history = History(home.history_db)
    try:
        report = compare_executions(history, InternalStorage(home.storage), args.left, args.right)
    finally:
        history.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        print(render_report(report))
    return EXIT_OK


def _short(value: Any) -> str:
    from engine.store.execution_compare import MISSING

    if value is MISSING:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _change_lines(changes: list[ValueChange], indent: str) -> list[str]:
    width = max((len(c.key) for c in changes), default=0)
    return [f"{indent}{c.key.ljust(width)}  {_short(c.left)}  →  {_short(c.right)}" for c in changes]


def _side(task: TaskComparison, which: str) -> str:
    side = task.left if which == "left" else task.right
    if side is None:
        return "—"
    seconds = f"{side.seconds:.2f}s" if side.seconds is not None else "…"
    return f"{side.state} {seconds} ×{side.attempts or 1}"


def _file_lines(name: str, diff: FileDiff, indent: str) -> list[str]:
    def size(side: Any) -> str:
        return f"{side.size:,} B {side.sha256[:10]}" if side else "—"

    if diff.identical:
        return [f"{indent}{name}: same content ({size(diff.left)})"]
    lines = [f"{indent}{name}: {size(diff.left)}  →  {size(diff.right)}"]
    table = diff.table_diff
    if table is not None:
        parts = [f"rows {table.rows_left:,} → {table.rows_right:,}",
                 f"{table.only_left:,} only left", f"{table.only_right:,} only right"]
        if table.columns_added:
            parts.append("columns added: " + ", ".join(table.columns_added))
        if table.columns_removed:
            parts.append("columns removed: " + ", ".join(table.columns_removed))
        lines.append(f"{indent}  " + "; ".join(parts))
        lines += [f"{indent}  - {', '.join(row)}" for row in table.sample_left]
        lines += [f"{indent}  + {', '.join(row)}" for row in table.sample_right]
    lines += [f"{indent}  {line}" for line in diff.text_diff]
    if diff.text_diff_omitted:
        lines.append(f"{indent}  … {diff.text_diff_omitted} more diff lines (--json has them all)")
    if diff.note:
        lines.append(f"{indent}  ({diff.note})")
    return lines


def render_report(report: CompareReport) -> str:
    left, right = report.left, report.right
    relation = " (a replay of it)" if right.original_id == left.id else (
        " (its original)" if left.original_id == right.id else "")
    lines = [f"compare {left.namespace}.{left.flow_id} {left.id} {left.state.value}  →  "
             f"{right.namespace}.{right.flow_id} {right.id} {right.state.value}{relation}"]
    lines.append("inputs: same" if not report.inputs else "inputs:")
    lines += _change_lines(report.inputs, "  ")
    if report.flow_changed is None:
        lines.append("flow: not compared (one execution was recorded before Roost kept the YAML it ran)")
    elif report.flow_changed:
        lines.append("flow: the YAML changed")
        lines += [f"  {line}" for line in report.flow_diff]
    else:
        lines.append("flow: same YAML")
    differing = [t for t in report.tasks if t.differs]
    lines.append(f"tasks: {len(report.tasks) - len(differing)} of {len(report.tasks)} alike")
    width = max((len(t.key) for t in report.tasks), default=4)
    for task in report.tasks:
        mark = "≠" if task.differs else "="
        lines.append(f"  {mark} {task.key.ljust(width)}  {_side(task, 'left'):<24}  {_side(task, 'right')}")
        if task.rendered:
            lines.append("      rendered properties:")
            lines += _change_lines(task.rendered, "        ")
        if task.outputs:
            lines.append("      outputs:")
            lines += _change_lines(task.outputs, "        ")
        for name, diff in task.files.items():
            lines += _file_lines(name, diff, "      ")
        if task.workdir:
            lines.append("      working directory:")
            lines += _change_lines(task.workdir, "        ")
    lines.append("outputs: same" if not report.flow_outputs else "outputs:")
    lines += _change_lines(report.flow_outputs, "  ")
    return "\n".join(lines)

