"""What a simulated trigger found: files (S3, local files), a body (webhook, HTTP, Flow) or a date.

The same choices `roost run --fire` takes, one editor per kind: a path Input that completes
from the file system (enter adds the file; Browse… picks one with a directory tree), a JSON
body TextArea whose mistakes are shown at line and column, or an ISO date Input (now, by
default). Enter (ctrl+s in the body editor) runs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Input, Static, TextArea

from tui.engine_port import UsageError
from tui.models.simulations import SimulationRequest
from tui.screens.inputs_form import FilePickerScreen

if TYPE_CHECKING:
    from tui.engine_port import TriggerChoice

__all__ = ["PathSuggester", "SimulateScreen"]


class PathSuggester(Suggester):
    """Completes a typed path with the first matching entry of its folder (→ accepts it)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        path = Path(value).expanduser()
        folder, stem = (path, "") if value.endswith("/") else (path.parent, path.name)
        try:
            names = sorted(entry.name for entry in folder.iterdir() if entry.name.startswith(stem))
        except OSError:
            return None
        if not names:
            return None
        text = value[: len(value) - len(stem)] + names[0]
        return text + "/" if (folder / names[0]).is_dir() else text


class SimulateScreen(ModalScreen[SimulationRequest | None]):
    """Dismissed with what to simulate, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "run", "Simulate", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    DEFAULT_CSS = """
    SimulateScreen { align: center top; }
    SimulateScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                                margin-top: 2; border: round $accent; background: $surface;
                                padding: 0 1; }
    SimulateScreen #simulate-hint { color: $text-muted; }
    SimulateScreen #simulate-error { color: $text-error; }
    SimulateScreen Horizontal { height: auto; }
    SimulateScreen #simulate-path { width: 1fr; }
    SimulateScreen TextArea { height: 10; }
    SimulateScreen #simulate-buttons { align-horizontal: right; padding-top: 1; }
    SimulateScreen #simulate-buttons Button { margin-left: 2; }
    """

    def __init__(self, flow_key: str, choice: TriggerChoice,
                 previous: SimulationRequest | None = None) -> None:
        super().__init__()
        self.flow_key = flow_key
        self.choice = choice
        same = previous if previous is not None and previous.trigger_id == choice.id else None
        self.files: list[str] = list(same.files) if same else []
        self._body = same.body if same and same.body is not None else ""
        self._date = same.date if same and same.date else (
            datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))

    def compose(self) -> ComposeResult:
        takes = self.choice.takes
        with Vertical():
            yield Static(Text.assemble(("Simulate ", "bold"), (self.choice.label, "bold #5fafff"),
                                       ("  of ", "dim"), (self.flow_key, "bold")))
            yield Static(self.choice.hint, id="simulate-hint")
            if takes == "files":
                with Horizontal():
                    yield Input(placeholder="a file path (→ completes); enter adds it",
                                suggester=PathSuggester(), id="simulate-path")
                    yield Button("Browse…", id="simulate-browse", compact=True)
                yield Static(self._files_text(), id="simulate-files")
            elif takes == "body":
                yield TextArea(self._body, language="json", id="simulate-body",
                               show_line_numbers=True, soft_wrap=True)
            elif takes == "date":
                yield Input(self._date, placeholder="ISO date-time, e.g. 2025-01-31T09:00:00Z",
                            id="simulate-date")
            yield Static("", id="simulate-error")
            with Horizontal(id="simulate-buttons"):
                yield Button("Cancel", id="simulate-cancel")
                yield Button("Simulate  ctrl+s", id="simulate-run", variant="primary")

    def on_mount(self) -> None:
        for selector in ("#simulate-path", "#simulate-body", "#simulate-date"):
            found = self.query(selector)
            if found:
                found.first().focus()

    def _files_text(self) -> Text:
        if not self.files:
            return Text("no file yet: type a path and press enter", style="dim")
        return Text("\n".join(f"• {name}" for name in self.files))

    def _error(self, message: str | None) -> None:
        self.query_one("#simulate-error", Static).update(Text(f"✘ {message}" if message else ""))

    def _add_file(self, text: str) -> bool:
        path = Path(text.strip()).expanduser()
        if not path.is_file():
            self._error(f"no such file: {text.strip()}")
            return False
        self.files.append(str(path.absolute()))
        self.query_one("#simulate-files", Static).update(self._files_text())
        self._error(None)
        return True

    @on(Input.Submitted, "#simulate-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            if self._add_file(event.value):
                event.input.value = ""
        else:
            self.action_run()

    @on(Input.Submitted, "#simulate-date")
    def _date_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    @on(Button.Pressed, "#simulate-browse")
    def _browse(self) -> None:
        typed = self.query_one("#simulate-path", Input).value
        start = Path(typed).expanduser() if typed else Path.cwd()

        def picked(path: Path | None) -> None:
            if path is not None:
                self._add_file(str(path))

        self.app.push_screen(FilePickerScreen(start), picked)

    @on(Button.Pressed, "#simulate-run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#simulate-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def request(self) -> SimulationRequest | None:
        """What the form holds, or None with the mistake shown under it."""
        takes = self.choice.takes
        if takes == "files":
            pending = self.query_one("#simulate-path", Input)
            if pending.value.strip() and not self._add_file(pending.value):
                return None
            pending.value = ""
            if self.choice.required and not self.files:
                self._error("add at least one file: type its path and press enter")
                return None
            return SimulationRequest(self.choice.id, files=tuple(self.files))
        if takes == "body":
            body = self.query_one("#simulate-body", TextArea).text
            problem = self._body_problem(body)
            if problem:
                self._error(problem)
                return None
            return SimulationRequest(self.choice.id, body=body if body.strip() else None)
        if takes == "date":
            from tui.engine_port import parse_date

            date = self.query_one("#simulate-date", Input).value.strip()
            try:
                if date:
                    parse_date(date, UTC)
            except UsageError as exc:
                self._error(str(exc).removeprefix("--date "))
                return None
            return SimulationRequest(self.choice.id, date=date or None)
        return SimulationRequest(self.choice.id)

    def _body_problem(self, body: str) -> str | None:
        """A body that is meant as JSON (or a Flow trigger's) must parse: the mistake at line:col."""
        from tui.engine_port import json_problem

        needs_json = self.choice.required or body.lstrip().startswith(("{", "["))
        if not body.strip():
            return "the body is required: " + self.choice.hint if self.choice.required else None
        problem = json_problem(body) if needs_json else None
        return f"invalid JSON at {problem}" if problem else None

    def action_run(self) -> None:
        request = self.request()
        if request is not None:
            self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)
