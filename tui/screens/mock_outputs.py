"""The pause before a task Roost cannot run: type its outputs (JSON), skip it, or abort.

A plugin Roost does not implement cannot run here; rather than fail the run, the workbench
pauses before it and asks what the task would have produced. The outputs are checked as a
JSON object while they are typed; "save as mock" also writes them to roost.toml so the next
run does not ask again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static, TextArea

__all__ = ["MockChoice", "MockOutputsScreen", "parse_outputs"]


@dataclass(frozen=True)
class MockChoice:
    """What the user chose: `outputs` (the typed ones), `skip` (SUCCESS, none) or `abort`."""

    action: Literal["outputs", "skip", "abort"]
    outputs: dict[str, Any] = field(default_factory=dict)
    save: bool = False


def parse_outputs(text: str) -> tuple[dict[str, Any] | None, str]:
    """The outputs typed, or None and why they are not a JSON object."""
    if not text.strip():
        return {}, ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if not isinstance(value, dict):
        return None, 'the outputs must be a JSON object, e.g. {"rows": 3}'
    return value, ""


class MockOutputsScreen(ModalScreen[MockChoice | None]):
    """Returns the choice, or None (escape: the run stays paused, the debugger keys answer)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "use_outputs", "Use outputs", priority=True),
        Binding("ctrl+k", "skip", "Skip", priority=True),
        Binding("ctrl+x", "abort", "Abort run", priority=True),
        Binding("escape", "close", "Close"),
    ]

    DEFAULT_CSS = """
    MockOutputsScreen { align: center middle; }
    MockOutputsScreen > Vertical { width: 100; max-width: 95%; height: auto; max-height: 90%;
                                   border: round $warning; background: $surface; padding: 0 1; }
    MockOutputsScreen TextArea { height: 12; }
    MockOutputsScreen #mock-status { height: 1; }
    MockOutputsScreen .-invalid { color: $error; }
    MockOutputsScreen #mock-hint { color: $text-muted; }
    MockOutputsScreen Horizontal { height: auto; }
    MockOutputsScreen Button { margin: 0 1 0 0; }
    """

    def __init__(self, task_id: str, task_type: str, prefill: dict[str, Any] | None = None,
                 config_path: str = "roost.toml") -> None:
        super().__init__()
        self.task_id = task_id
        self.task_type = task_type
        self.prefill = prefill or {}
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text.assemble(("Mock ", "bold"), (self.task_id, "bold"),
                                       (f"  {self.task_type}", "dim")), id="mock-title")
            yield Static(f"{self.task_type} is not available locally: type the outputs it "
                         "would give (a JSON object), skip it (SUCCESS, no outputs) or abort "
                         "the run.", id="mock-explain")
            yield TextArea(json.dumps(self.prefill, indent=2, ensure_ascii=False),
                           language="json", id="mock-outputs")
            yield Static("", id="mock-status")
            yield Checkbox(f"save as mock in {self.config_path}", id="mock-save")
            with Horizontal():
                yield Button("Use outputs", variant="primary", id="mock-use")
                yield Button("Skip", id="mock-skip")
                yield Button("Abort run", variant="error", id="mock-abort")
            yield Static("ctrl+s use outputs · ctrl+k skip · ctrl+x abort · esc close (the run "
                         "stays paused)", id="mock-hint")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        if not self.prefill:  # `{}`: typing starts between the braces
            area.move_cursor((0, 1))
        self._check()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._check()

    def _check(self) -> dict[str, Any] | None:
        outputs, problem = parse_outputs(self.query_one(TextArea).text)
        status = self.query_one("#mock-status", Static)
        status.update(f"✘ invalid JSON: {problem}" if outputs is None else "✔ valid JSON object")
        status.set_class(outputs is None, "-invalid")
        self.query_one("#mock-use", Button).disabled = outputs is None
        return outputs

    @property
    def _save(self) -> bool:
        return self.query_one(Checkbox).value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {"mock-use": self.action_use_outputs, "mock-skip": self.action_skip,
                   "mock-abort": self.action_abort}
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def action_use_outputs(self) -> None:
        outputs = self._check()
        if outputs is None:
            self.notify("The outputs are not a JSON object yet", severity="warning", timeout=3)
            return
        self.dismiss(MockChoice("outputs", outputs, self._save))

    def action_skip(self) -> None:
        self.dismiss(MockChoice("skip", {}, self._save))

    def action_abort(self) -> None:
        self.dismiss(MockChoice("abort"))

    def action_close(self) -> None:
        self.dismiss(None)
