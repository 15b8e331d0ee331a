"""Renders a :mod:`tui.models.previews` preview: a table, a JSON tree, highlighted text, a description."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static, Tree

from tui.models.formatting import format_size
from tui.models.previews import (
    BinaryPreview,
    ImagePreview,
    JsonPreview,
    MessagePreview,
    Preview,
    TablePreview,
    TextPreview,
)
from tui.models.table_profile import TableProfile

__all__ = ["PreviewView"]

_JSON_EXPAND_NODES = 200


class PreviewView(Widget):
    """Shows one preview at a time; ``show(None)`` shows a hint."""

    ALLOW_MAXIMIZE = True

    BINDINGS: ClassVar[list[BindingType]] = [Binding("w", "toggle_wrap", "Wrap", show=False)]

    DEFAULT_CSS = """
    PreviewView { height: 1fr; }
    PreviewView > .preview--caption { height: 1; color: $text-muted; padding: 0 1; }
    PreviewView > .preview--message { padding: 1 2; color: $text-muted; }
    PreviewView > .preview--message.-warning { color: $text-warning; }
    PreviewView > .preview--message.-error { color: $text-error; }
    PreviewView DataTable { height: 1fr; }
    PreviewView .preview--table-and-profile { height: 1fr; }
    PreviewView .preview--table-and-profile > .preview--table { width: 1fr; }
    PreviewView .preview--profile { width: auto; max-width: 56; height: 1fr; border-left: vkey $panel; }
    PreviewView.-stacked .preview--table-and-profile { layout: vertical; }
    PreviewView.-stacked .preview--table-and-profile > .preview--table { min-height: 4; }
    PreviewView.-stacked .preview--profile { width: 1fr; max-width: 100%; height: auto; max-height: 45%;
                                             border-left: none; border-top: hkey $panel; }
    PreviewView .preview--profile > Static { height: 1; color: $text-muted; padding: 0 1; }
    PreviewView Tree { height: 1fr; }
    PreviewView VerticalScroll { height: 1fr; }
    """

    def __init__(self, hint: str = "Select a file to preview it", *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.hint = hint
        self.preview: Preview | None = None
        self.title = ""

    def compose(self) -> ComposeResult:
        yield Static(self.hint, classes="preview--message")

    STACK_BELOW = 90
    """Narrower than this, the profile goes under the table instead of beside it."""

    def on_resize(self) -> None:
        self.set_class(self.size.width < self.STACK_BELOW, "-stacked")

    def show(self, preview: Preview | None, title: str = "") -> None:
        """Replace what is shown."""
        self.preview = preview
        self.title = title
        self.remove_children()
        self.mount_all(list(self._widgets(preview, title)))
        if isinstance(preview, TablePreview) and preview.path is not None:
            self._profile(preview, preview.path)

    @work(thread=True, exclusive=True, group="profile")
    def _profile(self, preview: TablePreview, path: Path) -> None:
        """SUMMARIZE scans the whole file: off the UI thread, shown when done (if still wanted)."""
        from tui.models.table_profile import profile_table

        try:
            profile: TableProfile | str = profile_table(path, preview.kind)
        except Exception as exc:  # DuckDB cannot read it whole: the table preview stays
            profile = f"no profile: {str(exc).splitlines()[0]}"
        self.app.call_from_thread(self._show_profile, preview, profile)

    def _show_profile(self, preview: TablePreview, profile: TableProfile | str) -> None:
        if self.preview is not preview:
            return  # another file was selected meanwhile
        for box in self.query(".preview--profile").results(Vertical):
            box.remove_children()
            if isinstance(profile, str):
                box.mount(Static(profile))
                continue
            table: DataTable[str] = DataTable(zebra_stripes=True, cursor_type="row")
            for heading in ("column", "type", "nulls", "distinct", "min", "max"):
                table.add_column(Text(heading, "bold"))
            for column in profile.columns:
                table.add_row(column.name, column.type, f"{column.nulls:,}", f"{column.distinct:,}",
                              _cell(column.minimum), _cell(column.maximum))
            box.mount_all([Static(f"profile · {profile.rows:,} rows"), table])

    def _widgets(self, preview: Preview | None, title: str) -> list[Widget]:
        if preview is None:
            return [Static(self.hint, classes="preview--message")]
        if isinstance(preview, MessagePreview):
            return [Static(Text(preview.message), classes=f"preview--message -{preview.severity}")]
        if isinstance(preview, TablePreview):
            return self._table(preview, title)
        if isinstance(preview, JsonPreview):
            tree: Tree[object] = Tree(title or "JSON", classes="preview--json")
            tree.add_json(preview.value)
            tree.root.expand()
            _expand_some(tree)
            caption = f"JSON · {format_size(preview.size)}"
            return [Static(caption, classes="preview--caption"), tree]
        if isinstance(preview, TextPreview):
            syntax = Syntax(preview.text, preview.lexer or "text", theme="ansi_dark",
                            line_numbers=True, word_wrap=False, indent_guides=False)
            more = " · first 64 KB" if preview.truncated else ""
            caption = f"{preview.lexer or 'text'} · {format_size(preview.size)}{more}"
            return [Static(caption, classes="preview--caption"),
                    VerticalScroll(Static(syntax, expand=True), classes="preview--text")]
        if isinstance(preview, ImagePreview):
            dims = (f"{preview.width} × {preview.height} px" if preview.width is not None
                    else "size unknown")
            text = Text.assemble(("image ", "bold"), f"{preview.format} · {dims} · ",
                                 format_size(preview.size),
                                 ("\nimages are described, not drawn: open it with o", "dim"))
            return [Static(text, classes="preview--message")]
        if isinstance(preview, BinaryPreview):
            caption = f"binary · {format_size(preview.size)} · first {len(preview.hex_lines) * 16} bytes"
            return [Static(caption, classes="preview--caption"),
                    VerticalScroll(Static("\n".join(preview.hex_lines)), classes="preview--hex")]
        return [Static(repr(preview), classes="preview--message")]

    def _table(self, preview: TablePreview, title: str) -> list[Widget]:
        table: DataTable[str] = DataTable(zebra_stripes=True, cursor_type="row",
                                          classes="preview--table")
        for name, kind in zip(preview.columns, preview.types, strict=False):
            table.add_column(Text.assemble((name, "bold"), (f" {kind}", "dim italic")))
        table.add_rows(preview.rows)
        shown = len(preview.rows)
        if preview.total_rows is not None and preview.total_rows > shown:
            rows = f"first {shown} of {preview.total_rows} rows"
        elif preview.truncated:
            rows = f"first {shown} rows"
        else:
            rows = f"{shown} rows"
        caption = (f"{preview.kind.upper()} · {len(preview.columns)} columns · {rows} · "
                   f"{format_size(preview.size)}")
        if preview.path is None:
            return [Static(caption, classes="preview--caption"), table]
        profile = Vertical(Static("profiling…"), classes="preview--profile")
        return [Static(caption, classes="preview--caption"),
                Horizontal(table, profile, classes="preview--table-and-profile")]

    def action_toggle_wrap(self) -> None:
        for static in self.query(".preview--text Static").results(Static):
            renderable = static.content
            if isinstance(renderable, Syntax):
                renderable.word_wrap = not renderable.word_wrap
                static.update(renderable)


def _cell(value: str | None, width: int = 24) -> str:
    if value is None:
        return ""
    return value if len(value) <= width else value[: width - 1] + "…"


def _expand_some(tree: Tree[object]) -> None:
    """Open the first levels of a JSON tree, up to a budget of nodes (big documents stay fast)."""
    budget = _JSON_EXPAND_NODES
    queue = [tree.root]
    while queue and budget > 0:
        node = queue.pop(0)
        node.expand()
        budget -= len(node.children)
        queue.extend(child for child in node.children if child.allow_expand)


class TreeAndPreview(Horizontal):
    """A tree beside a preview; below it (class -narrow) when the pane is too narrow for both."""

    NARROW_BELOW = 90

    @property
    def preview(self) -> PreviewView:
        return self.query_one(PreviewView)

    def on_resize(self) -> None:
        self.set_class(self.size.width < self.NARROW_BELOW, "-narrow")
