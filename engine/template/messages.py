"""Sentences for missing values: which variable, which key, what was there instead.

The placeholder only knows the container that lacked a key. To name the full path
(`outputs.inner['b'].value`) the engine searches the render context for that
container, which costs nothing on the happy path since it only runs on errors.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from jinja2.runtime import LoopContext

from engine.template.lookups import ROOT, MissingValueError
from engine.template.values import describe_type

_IDENTIFIER = re.compile(r"^[^\W\d]\w*$")
_MAX_SEARCHED = 50_000
_MAX_LISTED_KEYS = 12


def format_path(keys: tuple[Any, ...] | list[Any]) -> str:
    """`inputs.name`, `outputs['my-task'].value`, `rows[0]`: how a user would write it."""
    text = ""
    for position, key in enumerate(keys):
        if isinstance(key, int) and not isinstance(key, bool):
            text += f"[{key}]"
        elif isinstance(key, str) and _IDENTIFIER.match(key):
            text += key if position == 0 else f".{key}"
        else:
            text += f"[{_shown(key)}]"
    return text


def _shown(key: Any) -> str:
    """A key as written; a list or map used as a key is named by its kind, not its Python repr."""
    if key is None or isinstance(key, str | int | float | bool):
        return repr(key)
    return f"({describe_type(key)})"


def find_path(context: dict[str, Any], target: Any) -> tuple[Any, ...] | None:
    """The shortest key path from the context to `target` (by identity), if any."""
    queue: deque[tuple[Any, tuple[Any, ...]]] = deque([(context, ())])
    searched = 0
    while queue and searched < _MAX_SEARCHED:
        node, path = queue.popleft()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            searched += 1
            if value is target:
                return (*path, key)
            if isinstance(value, dict | list) and value:
                queue.append((value, (*path, key)))
    return None


def missing_message(error: MissingValueError, context: dict[str, Any]) -> str:
    """The user-facing sentence for a missing value used in a template."""
    keys = error.keys
    if error.container is ROOT:
        return f"variable '{format_path(keys)}' is not defined"
    base = find_path(context, error.container)
    if base is None:
        detail = _detail(error.container, keys[0], None)
        return f"'{format_path(keys)}' is not defined: {detail}"
    return f"variable '{format_path(base + keys)}' is not defined: {_detail(error.container, keys[0], base)}"


def _detail(container: Any, key: Any, base: tuple[Any, ...] | None) -> str:
    if isinstance(container, LoopContext):
        return f"'loop' has no attribute {_shown(key)} (it has index, first, last, length, revindex)"
    where = f"'{format_path(base)}'" if base else "the value"
    if isinstance(container, dict):
        if not container:
            return f"{where} is an empty map"
        names = [str(k) for k in list(container)[:_MAX_LISTED_KEYS]]
        more = ", ..." if len(container) > _MAX_LISTED_KEYS else ""
        return f"{where} has no key {_shown(key)} (its keys: {', '.join(names)}{more})"
    if isinstance(container, list | tuple):
        return f"{where} is a list of {len(container)} items, which has no item {_shown(key)}"
    return f"{where} is {describe_type(container)}, which has no attribute {_shown(key)}"
