"""The YAML highlighting colours without the highlighting theme's background.

Rich's ``Syntax(..., background_color="default")`` paints "the terminal's default background"
behind every token, which is not the Textual theme's: in the workbench it showed as dark boxes
behind the text of Source and Debug. This theme keeps a Pygments theme's token colours and
drops every background, so the text sits on the pane's own (theme) background.
"""

from __future__ import annotations

from functools import cache

from pygments.token import _TokenType
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme, SyntaxTheme

__all__ = ["SYNTAX_THEME_NAME", "ThemeBackgroundSyntax", "syntax_theme"]

SYNTAX_THEME_NAME = "monokai"


class ThemeBackgroundSyntax(SyntaxTheme):
    """A Pygments theme's token colours and weights, no background anywhere."""

    def __init__(self, name: str) -> None:
        self._pygments = PygmentsSyntaxTheme(name)
        self._styles: dict[_TokenType, Style] = {}

    def get_style_for_token(self, token_type: _TokenType) -> Style:
        style = self._styles.get(token_type)
        if style is None:
            full = self._pygments.get_style_for_token(token_type)
            style = Style(color=full.color, bold=full.bold, italic=full.italic,
                          underline=full.underline)
            self._styles[token_type] = style
        return style

    def get_background_style(self) -> Style:
        return Style.null()


@cache
def syntax_theme(name: str = SYNTAX_THEME_NAME) -> ThemeBackgroundSyntax:
    """One shared theme per name (token styles are cached on it)."""
    return ThemeBackgroundSyntax(name)
