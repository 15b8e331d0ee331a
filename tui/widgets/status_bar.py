"""The top line: where the workbench looks, what runs, the auto-run and triggers switches."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widget import Widget

from tui.models.formatting import format_duration, state_text

__all__ = ["StatusBar", "StatusInfo"]


@dataclass(frozen=True)
class StatusInfo:
    where: str = ""
    flows: int = 0
    execution: str | None = None
    state: str | None = None
    seconds: float | None = None
    auto_run: bool = False
    running: int = 0
    triggers: bool = False
    debug: str | None = None
    """While the shown execution is paused before a task: where, and the keys that answer."""


class StatusBar(Widget):
    """``Roost  sample_flows · 10 flows      ▶ hello RUNNING 1.2s  auto-run off``."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = StatusInfo()

    def set_info(self, **changes: object) -> None:
        info = replace(self.info, **changes)  # type: ignore[arg-type]
        if info != self.info:
            self.info = info
            self.refresh()

    def render(self) -> Text:
        info = self.info
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" Roost ", style="bold #1c1c1c on #5fafff")
        text.append(f" {info.where}", style="bold")
        text.append(f" · {info.flows} flow{'s' if info.flows != 1 else ''}", style="dim")
        right = Text()
        if info.execution is not None and info.state is not None:
            right.append_text(state_text(info.state, with_name=True))
            right.append(f" {info.execution}", style="bold")
            if info.seconds is not None:
                right.append(f" {format_duration(info.seconds)}", style="dim")
        if info.debug:
            right.append(f"  {info.debug}", style="bold #d7af00")
        if info.running > 1:
            right.append(f"  ({info.running} running)", style="#5fafff")
        if info.triggers:  # said only when on: triggers never run unless the user asked
            right.append("  ⏰ triggers on", style="bold #5fd75f")
        if info.auto_run or not info.debug:  # while paused the keys need the room
            right.append("  ")
            right.append("⟳ auto-run on" if info.auto_run else "auto-run off",
                         style="bold #5fd75f" if info.auto_run else "dim")
        right.append(" ")
        if info.debug and text.cell_len + right.cell_len + 1 > self.size.width:
            # while paused the keys matter more than the folder: the folder gives way
            text.truncate(max(8, self.size.width - right.cell_len - 1), overflow="ellipsis")
        gap = max(1, self.size.width - text.cell_len - right.cell_len)
        text.append(" " * gap)
        text.append_text(right)
        return text
