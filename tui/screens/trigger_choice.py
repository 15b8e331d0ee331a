"""``r`` on a flow with triggers: run it, or simulate one of its triggers firing.

A short list, so the plain run stays one key away (``r`` then ``enter``) and each trigger says
what simulating it takes. Types Roost does not run are listed, disabled, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from tui.engine_port import TriggerChoice

__all__ = ["RUN", "RunChoiceScreen"]

RUN = ""
"""What the screen is dismissed with for a plain run (a trigger id means: simulate it)."""


class RunChoiceScreen(ModalScreen[str | None]):
    """Dismissed with ``RUN``, a trigger id to simulate, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    RunChoiceScreen { align: center middle; }
    RunChoiceScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 80%;
                                 border: round $accent; background: $surface; padding: 0 1; }
    RunChoiceScreen OptionList { height: auto; max-height: 20; border: none; }
    RunChoiceScreen #choice-help { color: $text-muted; }
    """

    def __init__(self, flow_key: str, choices: list[TriggerChoice]) -> None:
        super().__init__()
        self.flow_key = flow_key
        self.choices = choices

    def compose(self) -> ComposeResult:
        options = [Option(Text.assemble(("Run", "bold"), "  the flow as it is"), id="run")]
        for choice in self.choices:
            label = Text.assemble(("Simulate ", "bold"), (choice.id, "bold #5fafff"),
                                  (f"  {choice.short_type}", "dim"), f"  {choice.hint}")
            options.append(Option(label, id=f"simulate:{choice.id}", disabled=not choice.runnable))
        with Vertical():
            yield Static(Text.assemble(("Run ", "bold"), (self.flow_key, "bold #5fafff")))
            yield OptionList(*options, id="choice-list")
            yield Static("enter chooses · esc cancels", id="choice-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or "run"
        self.dismiss(RUN if option_id == "run" else option_id.removeprefix("simulate:"))

    def action_cancel(self) -> None:
        self.dismiss(None)
