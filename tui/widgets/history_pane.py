"""Past executions from the history database: state, flow, start, duration; enter opens one,
``m`` marks up to two and ``=`` compares them (or a replay with its original)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from tui.models.formatting import format_duration, format_time, state_text
from tui.widgets.fitted_table import FittedTable
from tui.widgets.keys import VIM_CURSOR

if TYPE_CHECKING:
    from tui.engine_port import Execution

__all__ = ["HistoryPane"]


class HistoryPane(FittedTable):
    """Executions newest first; ``enter`` (or a double click) opens one like a live run."""

    ALLOW_MAXIMIZE = True
    COLUMNS = (("state", "", 2), ("name", "state", None), ("flow", "flow", None),
               ("start", "started", None), ("duration", "duration", None), ("id", "execution", None))

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_execution", "Open"),
        Binding("m", "mark", "Mark"),
        Binding("equals_sign", "compare", "Compare"),
        *VIM_CURSOR,
    ]

    class CompareRequested(Message):
        """Compare `left` (the older) with `right`."""

        def __init__(self, pane: HistoryPane, left: str, right: str) -> None:
            super().__init__()
            self.pane = pane
            self.left = left
            self.right = right

        @property
        def control(self) -> HistoryPane:
            return self.pane

    class ExecutionOpened(Message):
        def __init__(self, pane: HistoryPane, execution_id: str) -> None:
            super().__init__()
            self.pane = pane
            self.execution_id = execution_id

        @property
        def control(self) -> HistoryPane:
            return self.pane

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id, classes=classes)
        self._ids: list[str] = []
        self._signature: tuple[tuple[str, str], ...] = ()
        self._originals: dict[str, str] = {}  # a replay's id -> the execution it replays
        self.marked: list[str] = []
        self._executions: list[Execution] = []
        self._current_flow: str | None = None

    def show(self, executions: list[Execution], current_flow: str | None = None) -> None:
        """Replace the rows (keeps the cursor on the same execution)."""
        signature = (*((e.id, e.state.value) for e in executions), ("marked", ",".join(self.marked)))
        if signature == self._signature:
            return
        self._signature = signature
        self._executions, self._current_flow = executions, current_flow
        self._originals = {e.id: e.original_id for e in executions if e.original_id}
        keep = self._ids[self.cursor_row] if self._ids and 0 <= self.cursor_row < len(self._ids) else None
        rows = []
        for execution in executions:
            state = execution.state.value
            key = f"{execution.namespace}.{execution.flow_id}"
            start, end = execution.start_date, execution.end_date
            seconds = (end - start).total_seconds() if start and end else None
            rows.append((execution.id, (
                state_text(state),
                Text(state, style=state_text(state).style),
                Text(("◆ " if execution.id in self.marked else "") + key,
                     style="bold" if key == current_flow else ""),
                Text(format_time(start, with_date=True)),
                Text(format_duration(seconds) if seconds is not None else "…", justify="right"),
                Text(execution.id, style="dim"),
            )))
        self.replace_rows(rows)
        self._ids = [execution.id for execution in executions]
        if keep in self._ids:
            self.move_cursor(row=self._ids.index(keep))

    @property
    def selected_execution_id(self) -> str | None:
        if not self._ids or not 0 <= self.cursor_row < len(self._ids):
            return None
        return self._ids[self.cursor_row]

    def action_mark(self) -> None:
        """Mark (or unmark) the execution under the cursor; the third mark drops the first."""
        execution_id = self.selected_execution_id
        if execution_id is None:
            return
        if execution_id in self.marked:
            self.marked.remove(execution_id)
        else:
            self.marked = [*self.marked, execution_id][-2:]
        self.show(self._executions, self._current_flow)
        self.notify(f"{len(self.marked)} marked: press = to compare" if self.marked else "no mark",
                    timeout=2)

    def action_compare(self) -> None:
        pair = self.compare_pair()
        if pair is None:
            self.notify("Mark two executions with m, then press = (a replay compares with its "
                        "original without marks)", severity="warning", timeout=4)
            return
        self.post_message(self.CompareRequested(self, *pair))

    def compare_pair(self) -> tuple[str, str] | None:
        """Two marked; one marked and the cursor's; else the cursor's replay and its original.
        The older one first (the list is newest first)."""
        cursor = self.selected_execution_id
        if len(self.marked) == 2:
            pair = self.marked
        elif len(self.marked) == 1 and cursor is not None and cursor != self.marked[0]:
            pair = [self.marked[0], cursor]
        elif cursor is not None and cursor in self._originals:
            return self._originals[cursor], cursor
        else:
            return None
        order = {execution_id: index for index, execution_id in enumerate(self._ids)}
        older, newer = sorted(pair, key=lambda i: order.get(i, 0), reverse=True)
        return older, newer

    def action_open_execution(self) -> None:
        execution_id = self.selected_execution_id
        if execution_id is not None:
            self.post_message(self.ExecutionOpened(self, execution_id))

    def _on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_execution()
