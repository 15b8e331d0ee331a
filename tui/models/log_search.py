"""The search a log view repeats with ``n``/``N``: its term, finding it from the cursor with
wrap-around, and marking it in a row.

The store does the scanning (:meth:`tui.models.log_store.LogStore.search`, rows of a filter
view); this adds what a reader of a pager expects on top of it, without Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tui.models.log_filter import LogFilterView
from tui.models.log_store import LogStore

__all__ = ["LogSearch"]

StyleT = TypeVar("StyleT")


class LogSearch:
    """The current search term ("" before the first search) and how it is applied."""

    def __init__(self) -> None:
        self.term = ""

    def find(
        self, store: LogStore, view: LogFilterView, cursor: int, *, backwards: bool
    ) -> int | None:
        """The row of the next match after (before) ``cursor``, wrapping around the view once;
        None if the term is empty or nowhere in the view."""
        if not self.term:
            return None
        start = cursor - 1 if backwards else cursor + 1
        found = store.search(self.term, start, backwards, view=view)
        total = len(view)
        if found is None and total:
            wrap_start = total - 1 if backwards else 0
            found = store.search(self.term, wrap_start, backwards, view=view)
        return found

    def highlight(
        self, parts: list[tuple[str, StyleT]], mark: Callable[[StyleT], StyleT]
    ) -> list[tuple[str, StyleT]]:
        """Split the last (message) part around case-insensitive matches of the term, each
        match styled ``mark(style)``; unchanged if nothing matches (or lower-casing changes the
        text's length, which would misplace the marks)."""
        text, message_style = parts[-1]
        term = self.term.lower()
        lowered = text.lower()
        if not term or term not in lowered or len(lowered) != len(text):
            return parts
        matched = mark(message_style)
        pieces: list[tuple[str, StyleT]] = []
        position = 0
        while (found := lowered.find(term, position)) != -1:
            if found > position:
                pieces.append((text[position:found], message_style))
            pieces.append((text[found : found + len(term)], matched))
            position = found + len(term)
        if position < len(text):
            pieces.append((text[position:], message_style))
        return parts[:-1] + pieces
