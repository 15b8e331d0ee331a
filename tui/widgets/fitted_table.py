"""A DataTable whose rows are replaced with every column measured first: no frame is cramped.

Textual's DataTable measures auto-width columns when it is next idle, after a frame may
already have painted (and cached) the new rows at the old widths; nothing invalidates those
lines until the cursor moves. Here the widths come from the cells themselves, before any row
is added, so the first frame with the rows is the right one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

__all__ = ["FittedTable"]


class FittedTable(DataTable[Text]):
    """Subclasses name their columns in ``COLUMNS`` and fill the table with ``replace_rows``."""

    COLUMNS: ClassVar[tuple[tuple[str, str, int | None], ...]] = ()
    """(key, label, width) per column; a width of None fits the column to its widest cell."""

    def on_mount(self) -> None:
        self.replace_rows([])

    def replace_rows(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Show exactly ``rows`` ((row key, cells) each), the columns as wide as they need."""
        self.clear(columns=True)
        for index, (key, label, width) in enumerate(self.COLUMNS):
            if width is None:
                width = max([cell_len(label), *(cells[index].cell_len for _key, cells in rows)])
            self.add_column(label, key=key, width=width)
        for key, cells in rows:
            self.add_row(*cells, key=key)
