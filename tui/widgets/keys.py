"""Key bindings several panes share, so a key means the same thing everywhere."""

from __future__ import annotations

from textual.binding import Binding, BindingType

VIM_CURSOR: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]
"""j/k move the cursor in every list and tree, as in lazygit and k9s."""
