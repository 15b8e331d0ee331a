"""Which property values hold a template, answered without importing Jinja.

Most task properties are literal (`commands: ["echo hi"]`, `env: {A: b}`); rendering them
built the task's variables and imported Jinja (85 ms on the first one) to give back the same
text. `literal_copy` answers whether a value needs the template engine at all and, when it
does not, the value exactly as rendering would have returned it.
"""

from __future__ import annotations

from typing import Any


def is_template_text(text: str) -> bool:
    """`{{` or `{%` makes a string a template; a lone `{#` (`${#array[@]}` in a shell script) does not."""
    return "{{" in text or "{%" in text


class _HoldsTemplate(Exception):
    """Raised inside `_copy` on the first template found: the value must be rendered."""


NEEDS_RENDERING: Any = object()
"""What `literal_copy` answers for a value with a template somewhere inside it."""


def literal_copy(value: Any) -> Any:
    """`value` as `TemplateEngine.render_value` would return it when no string in it (keys
    included) is a template: maps and lists copied as plain dicts and lists, the rest as is;
    NEEDS_RENDERING when one is."""
    if isinstance(value, str):
        return NEEDS_RENDERING if "{{" in value or "{%" in value else value
    try:
        return _copy(value)
    except _HoldsTemplate:
        return NEEDS_RENDERING


def _copy(value: Any) -> Any:
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            raise _HoldsTemplate
        return value
    if isinstance(value, dict):
        return {_copy(k): _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
