"""Tests: the selected flow's test suites, each case's last result, and why a case failed.

``enter`` runs the case under the cursor (live, like any run), ``A`` runs every case of the
flow's suites, ``g`` goes to the task of the case's first failed assertion in Tasks. Below the
cases, the highlighted case's assertions: expression, operator, expected vs actual, message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.models.case_results import CaseKey, CaseRow, shown_value
from tui.models.formatting import STATE_STYLES, format_duration
from tui.widgets.fitted_table import FittedTable
from tui.widgets.keys import VIM_CURSOR

if TYPE_CHECKING:
    from tui.engine_port import AssertionResult, CaseResult

__all__ = ["CaseTable", "TestsPane"]

VERDICT_STYLES: dict[str, str] = {
    "PASSED": STATE_STYLES["SUCCESS"],
    "FAILED": STATE_STYLES["FAILED"],
    "ERROR": STATE_STYLES["FAILED"],
    "SKIPPED": "dim",
    "RUNNING": STATE_STYLES["RUNNING"],
    "": "dim",
}
_LABEL = "bold #87afd7"


class CaseTable(FittedTable):
    """One row per case; the pane's keys are its keys (the focus is here)."""

    COLUMNS = (("symbol", "", 2), ("result", "result", None), ("case", "case", None),
               ("suite", "suite", None), ("description", "description", None))

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run_case", "Run case"),
        Binding("A", "run_all", "Run all tests"),
        Binding("g", "go_to_task", "Go to task"),
        *VIM_CURSOR,
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.rows_shown: list[CaseRow] = []

    def show(self, rows: Sequence[CaseRow]) -> None:
        """Replace the rows, keeping the cursor on the same case."""
        if list(rows) == self.rows_shown:
            return
        keep = self.selected.key if self.selected is not None else None
        self.rows_shown = list(rows)
        cells = []
        for row in rows:
            symbol, word = row.verdict
            style = VERDICT_STYLES.get(row.outcome, "")
            if row.disabled and row.outcome in ("", "SKIPPED"):
                symbol, word, style = "↷", "skipped (disabled)", "dim"
            cells.append((f"{row.key.suite_path}\0{row.case_id}", (
                Text(symbol, style=style),
                Text(word, style=style),
                Text(row.case_id, style="bold"),
                Text(row.suite_id),
                Text(row.case.description or "", style="dim"),
            )))
        self.replace_rows(cells)
        keys = [row.key for row in rows]
        if keep in keys:
            self.move_cursor(row=keys.index(keep))

    @property
    def selected(self) -> CaseRow | None:
        if not self.rows_shown or not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    def action_run_case(self) -> None:
        self.post_message(TestsPane.RunCase(self.selected))

    def action_run_all(self) -> None:
        self.post_message(TestsPane.RunAll())

    def action_go_to_task(self) -> None:
        self.post_message(TestsPane.GoToTask(self.selected))

    def _on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # a click on a row highlights it; enter is the binding above

    def _on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(TestsPane.CaseHighlighted())


class TestsPane(Vertical):
    """A hint line (no suites, suites that do not load), the cases, the highlighted case's
    result."""

    __test__: ClassVar[bool] = False  # a widget, not a pytest class, whatever its name
    ALLOW_MAXIMIZE = True

    class RunCase(Message):
        """``enter`` on a case (``row`` None: the table is empty)."""

        def __init__(self, row: CaseRow | None) -> None:
            super().__init__()
            self.row = row

    class RunAll(Message):
        """``A``: every case of the flow's suites."""

    class GoToTask(Message):
        """``g`` on a case: its failed assertion's task in Tasks."""

        def __init__(self, row: CaseRow | None) -> None:
            super().__init__()
            self.row = row

    class CaseHighlighted(Message):
        """The cursor moved to another case (the detail follows it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._results: Mapping[CaseKey, CaseResult] = {}
        self._detail_shown: object = None

    def compose(self) -> ComposeResult:
        yield Static("", id="tests-hint")
        yield CaseTable(id="case-table")
        with VerticalScroll(id="case-detail-scroll"):
            yield Static("", id="case-detail")

    @property
    def table(self) -> CaseTable:
        return self.query_one(CaseTable)

    def show(self, rows: Sequence[CaseRow], results: Mapping[CaseKey, CaseResult],
             hint: str) -> None:
        """The cases with their results, and the hint line ("" hides it)."""
        self._results = dict(results)
        self.table.show(rows)
        label = self.query_one("#tests-hint", Static)
        label.display = bool(hint)
        if str(label.content) != hint:
            label.update(hint)
        self.refresh_detail()

    def refresh_detail(self) -> None:
        """The highlighted case's result (repainted only when it changed)."""
        row = self.table.selected
        result = self._results.get(row.key) if row is not None else None
        shown = (row, result)
        if shown == self._detail_shown:
            return
        self._detail_shown = shown
        self.query_one("#case-detail", Static).update(
            case_detail(row, result) if row is not None else "")

    def _on_tests_pane_case_highlighted(self, event: TestsPane.CaseHighlighted) -> None:
        event.stop()
        self.refresh_detail()


def case_detail(row: CaseRow, result: CaseResult | None) -> Text:
    """What the highlighted case says: its verdict, each assertion checked (failed ones with
    expected vs actual), why it could not run, and the last lines of tasks that failed."""
    text = Text()
    symbol, word = row.verdict
    style = VERDICT_STYLES.get(row.outcome, "")
    text.append(f"{row.name}  ", style="bold")
    text.append(f"{symbol} {word}", style=style)
    if result is not None and result.execution_id:
        text.append(f"  · execution {result.execution_id}", style="dim")
        if result.duration is not None:
            text.append(f" · {format_duration(result.duration)}", style="dim")
    text.append("\n")
    if row.case.description:
        text.append(f"{row.case.description}\n", style="italic")
    if result is None or row.outcome == "RUNNING":
        mocked = [fixture.id for fixture in row.case.fixtures.tasks]
        if mocked:
            text.append(f"fixtures stand in for: {', '.join(mocked)} (they do not run)\n",
                        style="dim")
        count = len(row.case.assertions)
        hint = ("skipped: the case is disabled" if row.disabled else
                "running…" if row.outcome == "RUNNING" else "enter runs it · A runs all")
        text.append(f"{count} assertion{'s' if count != 1 else ''} · {hint}\n", style="dim")
        return text
    for assertion in sorted(result.assertions, key=lambda a: a.success):
        _assertion_lines(text, assertion)
    if result.error:
        text.append("\nerror  ", style=STATE_STYLES["FAILED"])
        text.append(f"{result.error}\n")
    for log in result.failed_task_logs:
        text.append(f"\n✘ task {log.task_id} failed", style=STATE_STYLES["FAILED"])
        text.append("  (g goes to it)\n" if not result.failed_assertions else "\n", style="dim")
        for line in log.lines:
            text.append(f"    {line}\n", style="#8a8a8a")
    return text


def _assertion_lines(text: Text, assertion: AssertionResult) -> None:
    if assertion.success:
        text.append("✔ ", style=STATE_STYLES["SUCCESS"])
        text.append(f"{assertion.expression}  {assertion.operator} "
                    f"{shown_value(assertion.expected)}", style="dim")
        text.append("\n")
        return
    text.append("✘ ", style=STATE_STYLES["FAILED"])
    text.append(assertion.expression, style="bold")
    text.append(f"  {assertion.operator}", style="bold #d7af00")
    if assertion.task_id:
        text.append(f"  (task {assertion.task_id})", style="dim")
    text.append("\n")
    for label, value in (("expected", shown_value(assertion.expected)),
                         ("actual", shown_value(assertion.actual)),
                         ("message", assertion.error_message or "")):
        if label == "message" and not value:
            continue
        text.append(f"    {label:<9}", style=_LABEL)
        text.append(f"{value}\n", style=STATE_STYLES["FAILED"] if label == "actual" else "")
    if assertion.description:
        text.append(f"    {assertion.description}\n", style="italic dim")
