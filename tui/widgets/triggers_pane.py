"""The selected flow's triggers: state, next fire or poll, last result; pause, resume, fire now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from tui.models.formatting import format_time
from tui.widgets.fitted_table import FittedTable
from tui.widgets.keys import VIM_CURSOR

if TYPE_CHECKING:
    from tui.engine_port import TriggerKey, TriggerStatus

__all__ = ["TriggerRow", "TriggerTable", "TriggersPane"]

TRIGGER_STATES: dict[str, tuple[str, str]] = {
    "ACTIVE": ("●", "bold #5fd75f"),
    "PAUSED": ("⏸", "bold #d7af00"),
    "DISABLED": ("○", "dim"),
    "UNSUPPORTED": ("⊘", "#ff5f5f"),
    "STOPPED": ("■", "dim"),
    "OFF": ("·", "dim"),
}
"""A trigger's state as the panel shows it; OFF: the workbench is not running triggers."""


@dataclass(frozen=True)
class TriggerRow:
    """One row: a scheduler status, or a trigger declared in the flow while triggers are off."""

    trigger_id: str
    type: str
    state: str
    key: TriggerKey | None = None
    next_fire: datetime | None = None
    last_result: str | None = None
    last_execution_id: str | None = None
    error: str | None = None
    url: str | None = None

    @classmethod
    def from_status(cls, status: TriggerStatus) -> TriggerRow:
        return cls(status.key.trigger_id, status.type, status.state, status.key, status.next_fire,
                   status.last_result, status.last_execution_id, status.error, status.url)


def short_type(type_name: str) -> str:
    """``io.kestra.plugin.core.trigger.Schedule`` → ``Schedule``."""
    return type_name.rsplit(".", 1)[-1]


class TriggerTable(FittedTable):
    """The rows; ``p`` pauses or resumes the trigger under the cursor, ``F`` fires it now."""

    COLUMNS = (("symbol", "", 2), ("id", "trigger", None), ("type", "type", None),
               ("state", "state", None), ("next", "next", None), ("result", "last result", None),
               ("execution", "execution", None))

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("F", "fire_now", "Fire now"),
        *VIM_CURSOR,
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.rows_shown: list[TriggerRow] = []

    def show(self, rows: list[TriggerRow]) -> None:
        """Replace the rows, keeping the cursor on the same trigger."""
        if rows == self.rows_shown:
            return
        keep = self.selected.trigger_id if self.selected is not None else None
        if bool(rows) != bool(self.rows_shown):
            self.refresh_bindings()
        self.rows_shown = list(rows)
        cells = []
        for row in rows:
            symbol, style = TRIGGER_STATES.get(row.state, ("?", ""))
            result = row.error or row.last_result or ("" if row.url is None else row.url)
            cells.append((row.trigger_id, (
                Text(symbol, style=style),
                Text(row.trigger_id, style="bold"),
                Text(short_type(row.type)),
                Text(row.state, style=style),
                Text(format_time(row.next_fire, with_date=True) if row.next_fire else "-"),
                Text(result, style="#ff5f5f" if row.error else ""),
                Text(row.last_execution_id or "", style="dim"),
            )))
        self.replace_rows(cells)
        ids = [row.trigger_id for row in rows]
        if keep in ids:
            self.move_cursor(row=ids.index(keep))

    @property
    def selected(self) -> TriggerRow | None:
        if not self.rows_shown or not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``p``/``F`` need a trigger under the cursor: dimmed in the footer without one."""
        if action in ("toggle_pause", "fire_now"):
            return True if self.rows_shown else None
        return True

    def action_toggle_pause(self) -> None:
        self.post_message(TriggersPane.PauseToggled(self.selected))

    def action_fire_now(self) -> None:
        self.post_message(TriggersPane.FireRequested(self.selected))


class TriggersPane(Vertical):
    """A hint line (triggers off, no triggers) over the table of the selected flow's triggers."""

    ALLOW_MAXIMIZE = True

    class PauseToggled(Message):
        """``p`` on a row (``row`` is None when the table is empty)."""

        def __init__(self, row: TriggerRow | None) -> None:
            super().__init__()
            self.row = row

    class FireRequested(Message):
        """``F`` on a row (``row`` is None when the table is empty)."""

        def __init__(self, row: TriggerRow | None) -> None:
            super().__init__()
            self.row = row

    def compose(self) -> ComposeResult:
        yield Static("", id="triggers-hint")
        yield TriggerTable(id="trigger-table")

    @property
    def table(self) -> TriggerTable:
        return self.query_one(TriggerTable)

    def show(self, rows: list[TriggerRow], hint: str) -> None:
        """The hint, and the table only when it has rows: a header over nothing reads as a
        table that failed to load. (The empty table stays focusable, without its header.)"""
        self.table.show(rows)
        if self.table.show_header != bool(rows):
            self.table.show_header = bool(rows)
        label = self.query_one("#triggers-hint", Static)
        if str(label.content) != hint:
            label.update(hint)
