"""The flows found under PATH: namespace / id, valid or not, and their last execution's state."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.models.flow_catalog import FlowEntry
from tui.models.formatting import STATE_STYLES, STATE_SYMBOLS
from tui.widgets.keys import VIM_CURSOR

__all__ = ["FlowList"]


class FlowList(OptionList):
    """One row per flow file; the highlighted row is the flow the other panes show."""

    ALLOW_MAXIMIZE = True

    BINDINGS: ClassVar[list[BindingType]] = VIM_CURSOR

    class FlowSelected(Message):
        """The highlighted flow changed (cursor, mouse, or a reload that moved it)."""

        def __init__(self, flow_list: FlowList, path: Path) -> None:
            super().__init__()
            self.flow_list = flow_list
            self.path = path

        @property
        def control(self) -> FlowList:
            return self.flow_list

    class FlowOpened(Message):
        """Enter (or a click) on a flow: the user wants to work on it."""

        def __init__(self, flow_list: FlowList, path: Path) -> None:
            super().__init__()
            self.flow_list = flow_list
            self.path = path

        @property
        def control(self) -> FlowList:
            return self.flow_list

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._entries: list[FlowEntry] = []
        self._states: dict[str, str] = {}
        self._prompts: dict[str, Text] = {}
        self._selected: Path | None = None

    @property
    def selected_path(self) -> Path | None:
        return self._selected

    def set_entries(self, entries: list[FlowEntry], states: dict[str, str] | None = None,
                    select: Path | None = None) -> None:
        """Show these flows grouped by namespace, keeping the highlighted one (by path)."""
        if states is not None:
            self._states = dict(states)
        keep = select or self._selected
        self._entries = list(entries)
        self._prompts = {}
        options: list[Option] = []
        namespace = None
        for entry in entries:
            if entry.namespace != namespace:
                namespace = entry.namespace
                options.append(Option(Text(namespace, style="bold #8787af"), disabled=True))
            prompt = self._prompt(entry)
            self._prompts[str(entry.path)] = prompt
            options.append(Option(prompt, id=str(entry.path)))
        self.set_options(options)
        if not entries:
            self._selected = None
            return
        paths = [e.path for e in entries]
        target = keep if keep in paths else paths[0]
        self.highlighted = self.get_option_index(str(target))
        if self._selected != target:
            self._selected = target
            self.post_message(self.FlowSelected(self, target))

    def set_states(self, states: dict[str, str]) -> None:
        """Update the state badges (flow key -> execution state) without rebuilding the list."""
        if states == self._states:
            return
        self._states = dict(states)
        for entry in self._entries:
            prompt = self._prompt(entry)
            if self._prompts.get(str(entry.path)) != prompt:
                self._prompts[str(entry.path)] = prompt
                self.replace_option_prompt(str(entry.path), prompt)

    def select_path(self, path: Path) -> None:
        if any(e.path == path for e in self._entries):
            self.highlighted = self.get_option_index(str(path))

    def _prompt(self, entry: FlowEntry) -> Text:
        if entry.errors and entry.flow is None:
            badge = Text("✘ ", style=STATE_STYLES["FAILED"])
        elif entry.errors:
            badge = Text("! ", style=STATE_STYLES["WARNING"])
        else:
            state = self._states.get(entry.key)
            symbol = STATE_SYMBOLS.get(state, "·") if state else "·"
            badge = Text(f"{symbol} ", style=STATE_STYLES.get(state or "PENDING", "dim"))
        text = Text.assemble(" ", badge)
        text.append(entry.flow_id, style="bold" if entry.valid else "")
        if entry.errors:
            error = entry.errors[0]
            text.append(f"  {error.line}:{error.column} {error.message}", style="#ff875f")
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_id is None:
            return
        path = Path(event.option_id)
        if path != self._selected:
            self._selected = path
            self.post_message(self.FlowSelected(self, path))

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(self.FlowOpened(self, Path(event.option_id)))
