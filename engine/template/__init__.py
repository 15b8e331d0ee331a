"""Kestra's Pebble templates, rendered by a sandboxed Jinja environment.

`TemplateEngine.render_value` renders task properties; `TemplateError.message`
is the sentence shown to the user. See docs/pebble.md for what is supported.
"""

from engine.template.errors import TemplateError
from engine.template.renderer import TemplateEngine

__all__ = ["TemplateEngine", "TemplateError"]
