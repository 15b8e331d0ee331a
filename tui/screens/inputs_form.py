"""The inputs form: one typed field per flow input, defaults filled, errors shown inline.

Values are checked with the engine's own rules (``resolve_inputs``) as they are typed and again
on submit, so what the form accepts is what the run accepts. FILE inputs take a path, typed or
picked with a file browser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import yaml
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Button,
    DirectoryTree,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
    Switch,
    TextArea,
)

from tui.engine_port import InputError, resolve_inputs

if TYPE_CHECKING:
    from tui.engine_port import Flow, InputDefinition

__all__ = ["FilePickerScreen", "InputsScreen", "field_id"]

_PLACEHOLDERS = {
    "INT": "an integer, e.g. 42",
    "FLOAT": "a number, e.g. 3.14",
    "DATETIME": "an instant, e.g. 2024-05-01T12:00:00Z",
    "DATE": "a date, e.g. 2024-05-01",
    "TIME": "a time, e.g. 12:30:00",
    "DURATION": "an ISO-8601 duration, e.g. PT5M",
    "URI": "e.g. https://example.com/data.csv",
    "EMAIL": "e.g. ada@example.com",
    "ARRAY": 'a JSON list, e.g. ["a", "b"]',
    "FILE": "path to a local file",
}
_TEXT_AREA_TYPES = ("JSON", "YAML")


def field_id(input_id: str) -> str:
    """A widget id for an input id (ids may hold dots, which CSS ids cannot)."""
    return "input-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in input_id)


def _no_store(_input_id: str, path: Path) -> str:
    return str(path)


def _choices(definition: InputDefinition) -> list[tuple[str, str]]:
    listed = definition.options.get("values") or definition.options.get("options") or []
    choices = []
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, dict):
            value = str(entry.get("value"))
            choices.append((str(entry.get("label", value)), value))
        else:
            value = "true" if entry is True else "false" if entry is False else str(entry)
            choices.append((value, value))
    return choices


def _has_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _default_text(definition: InputDefinition, value: Any) -> str:
    if value is None:
        return ""
    if definition.type == "JSON" and not isinstance(value, str):
        return json.dumps(value, indent=2, default=str)
    if definition.type == "YAML" and not isinstance(value, str):
        return yaml.safe_dump(value, sort_keys=False).rstrip()
    if definition.type == "ARRAY" and isinstance(value, list):
        return json.dumps(value, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class InputField(Vertical):
    """Label, description, the typed editor, and an inline error line for one input."""

    DEFAULT_CSS = """
    InputField { height: auto; margin-bottom: 1; }
    InputField > .field--label { color: $text; text-style: bold; }
    InputField > .field--description { color: $text-muted; }
    InputField > .field--error { color: $text-error; display: none; }
    InputField.-invalid > .field--error { display: block; }
    InputField.-invalid Input, InputField.-invalid TextArea { border: tall $error; }
    InputField Horizontal { height: auto; }
    InputField Horizontal > Input { width: 1fr; }
    InputField TextArea { height: 6; }
    InputField SelectionList { height: auto; max-height: 8; }
    """

    def __init__(self, definition: InputDefinition, value: Any) -> None:
        super().__init__(id=field_id(definition.id) + "-field")
        self.definition = definition
        self.initial = value

    def compose(self) -> ComposeResult:
        definition = self.definition
        name = definition.display_name or definition.id
        label = Text.assemble((name, "bold"), (f"  {definition.type}", "dim"))
        if definition.required and not definition.has_default:
            label.append("  required", style="#ff875f")
        yield Label(label, classes="field--label")
        if definition.description:
            yield Static(definition.description.strip(), classes="field--description")
        yield self._editor()
        yield Static("", classes="field--error")

    def _editor(self) -> Widget:
        definition = self.definition
        kind = definition.type
        wid = field_id(definition.id)
        value = self.initial
        template_default = _has_template(definition.defaults) and value == definition.defaults
        if template_default:
            value = None
        if kind in ("BOOLEAN", "BOOL"):
            checked = value is True or (isinstance(value, str) and value.lower() == "true")
            return Switch(value=checked, id=wid)
        if kind in ("SELECT", "ENUM"):
            choices = _choices(definition)
            current = _default_text(definition, value) if value is not None else None
            if current is not None and current not in [v for _l, v in choices]:
                choices.append((current, current))
            return Select([(label, v) for label, v in choices], value=current or Select.BLANK,
                          allow_blank=not definition.required or current is None, id=wid)
        if kind == "MULTISELECT":
            chosen = set()
            if isinstance(value, list):
                chosen = {str(v) for v in value}
            elif isinstance(value, str) and value:
                chosen = {v.strip() for v in value.split(",")}
            return SelectionList[str](*((label, v, v in chosen) for label, v in _choices(definition)),
                                      id=wid)
        if kind in _TEXT_AREA_TYPES:
            area = TextArea(_default_text(definition, value), language=kind.lower(), id=wid,
                            show_line_numbers=False, soft_wrap=True)
            return area
        placeholder = _PLACEHOLDERS.get(kind, "")
        if template_default:
            placeholder = f"its default {definition.defaults} is evaluated by Kestra; type a value"
        input_type: Literal["integer", "number", "text"] = (
            "integer" if kind == "INT" else "number" if kind == "FLOAT" else "text")
        field = Input(_default_text(definition, value), placeholder=placeholder, id=wid,
                      type=input_type, password=kind == "SECRET", valid_empty=True)
        if kind == "FILE":
            return Horizontal(field, Button("Browse…", id=wid + "-browse", compact=True))
        return field

    def value(self) -> Any:
        """The raw value for ``resolve_inputs`` (None: not given)."""
        wid = "#" + field_id(self.definition.id)
        widget = self.query_one(wid)
        if isinstance(widget, Switch):
            return widget.value
        if isinstance(widget, Select):
            return None if widget.value is Select.BLANK else str(widget.value)
        if isinstance(widget, SelectionList):
            selected = list(widget.selected)
            return selected if selected else None
        if isinstance(widget, TextArea):
            return widget.text if widget.text.strip() else None
        if isinstance(widget, Input):
            return widget.value if widget.value.strip() else None
        return None

    def set_error(self, message: str | None) -> None:
        self.set_class(bool(message), "-invalid")
        self.query_one(".field--error", Static).update(Text(f"✘ {message}" if message else ""))

    def focus_editor(self) -> None:
        self.query_one("#" + field_id(self.definition.id)).focus()


class InputsScreen(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the raw values (input id -> value) to run with, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,ctrl+r", "run", "Run", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    DEFAULT_CSS = """
    /* Top-aligned: an error line appearing under a field must not move the fields above it
       (a centred dialog would shift under the mouse between press and release). */
    InputsScreen { align: center top; }
    InputsScreen > #inputs-dialog {
        width: 90%; max-width: 100; height: auto; max-height: 90%; margin-top: 2;
        border: round $accent; background: $surface; padding: 0 1;
    }
    InputsScreen #inputs-title { text-style: bold; }
    InputsScreen #inputs-description { color: $text-muted; max-height: 3; }
    InputsScreen #inputs-fields { margin-top: 1; }
    InputsScreen #inputs-fields { height: auto; max-height: 1fr; }
    InputsScreen #inputs-buttons { height: auto; align-horizontal: right; padding-top: 1; }
    InputsScreen #inputs-buttons Button { margin-left: 2; }
    """

    def __init__(self, flow: Flow, previous: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.flow = flow
        self.previous = previous or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="inputs-dialog"):
            yield Static(Text.assemble(("Run ", "bold"), (self.flow.key, "bold #5fafff"),
                                       ("  inputs", "dim")), id="inputs-title")
            if self.flow.description:
                yield Static(Text(self.flow.description.strip(), style="italic"),
                             id="inputs-description")
            with VerticalScroll(id="inputs-fields"):
                for definition in self.flow.inputs:
                    value = self.previous.get(definition.id, definition.defaults)
                    yield InputField(definition, value)
            with Horizontal(id="inputs-buttons"):
                yield Button("Cancel", id="inputs-cancel")
                yield Button("Run  ctrl+s", id="inputs-run", variant="primary")

    def on_mount(self) -> None:
        fields = list(self.query(InputField).results(InputField))
        if fields:
            fields[0].focus_editor()

    def fields(self) -> list[InputField]:
        return list(self.query(InputField).results(InputField))

    def values(self) -> dict[str, Any]:
        return {f.definition.id: v for f in self.fields() if (v := f.value()) is not None}

    def validate(self) -> bool:
        """Check every field with the engine's rules; errors go under their field."""
        ok = True
        first_bad: InputField | None = None
        for field in self.fields():
            message = self._check(field)
            field.set_error(message)
            if message and first_bad is None:
                first_bad = field
                ok = False
        if first_bad is not None:
            first_bad.focus_editor()
        return ok

    def _check(self, field: InputField) -> str | None:
        definition = field.definition
        value = field.value()
        provided = {definition.id: value} if value is not None else {}
        try:
            resolve_inputs([definition], provided, store_file=_no_store)
        except InputError as exc:
            return exc.message
        except Exception as exc:  # an engine bug in one converter must not close the form
            return f"cannot check this value: {exc}"
        return None

    def _field_of(self, widget: Widget) -> InputField | None:
        for ancestor in widget.ancestors_with_self:
            if isinstance(ancestor, InputField):
                return ancestor
        return None

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Switch.Changed)
    def _revalidate(self, event: Any) -> None:
        field = self._field_of(event.control)
        if field is not None and field.has_class("-invalid"):
            field.set_error(self._check(field))

    @on(Input.Blurred)
    def _check_on_blur(self, event: Input.Blurred) -> None:
        field = self._field_of(event.control)
        if field is not None and field.is_mounted:
            field.set_error(self._check(field))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    @on(Button.Pressed, "#inputs-run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#inputs-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed)
    def _browse(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        if not button_id.endswith("-browse"):
            return
        target = self.query_one("#" + button_id.removesuffix("-browse"), Input)
        start = Path(target.value).expanduser() if target.value else Path.cwd()

        def picked(path: Path | None) -> None:
            if path is not None:
                target.value = str(path)
                target.focus()

        self.app.push_screen(FilePickerScreen(start), picked)

    def action_run(self) -> None:
        if self.validate():
            self.dismiss(self.values())

    def action_cancel(self) -> None:
        self.dismiss(None)


class FilePickerScreen(ModalScreen[Path | None]):
    """Pick a file for a FILE input: a directory tree; enter on a file picks it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    FilePickerScreen { align: center middle; }
    FilePickerScreen > Vertical { width: 80%; height: 80%; border: round $accent;
                                  background: $surface; }
    FilePickerScreen DirectoryTree { height: 1fr; }
    """

    def __init__(self, start: Path) -> None:
        super().__init__()
        folder = start if start.is_dir() else start.parent
        self.start = folder if folder.is_dir() else Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text.assemble(("Pick a file  ", "bold"), (str(self.start), "dim")))
            yield DirectoryTree(self.start)

    def on_mount(self) -> None:
        self.query_one(DirectoryTree).focus()

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(event.path)

    def action_cancel(self) -> None:
        self.dismiss(None)
