"""What a paused task looks like: its properties rendered, its YAML source, its variables.

Rendering here is a preview: an error in one property is shown beside it instead of
failing anything, and every value goes through the secret masker before it leaves the
engine, so a secret rendered into a property never reaches a screen or a prompt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.store.secrets import Masker

# Children are tasks of their own (each gets its own pause); id and type are shown apart.
_NOT_RENDERED = frozenset({"id", "type", "tasks", "errors", "finally", "then", "else", "cases",
                           "defaults"})


def render_properties(source: Mapping[str, Any], render: Callable[[Any], Any],
                      masker: Masker) -> tuple[dict[str, Any], dict[str, str]]:
    """Each property of a task rendered on its own; returns (values, errors by property)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in source.items():
        if key in _NOT_RENDERED:
            continue
        try:
            values[key] = json_safe(masker.mask_value(render(raw)))
        except Exception as exc:
            errors[key] = masker.mask(str(getattr(exc, "message", exc)))
    return values, errors


def masked_variables(variables: Mapping[str, Any], masker: Masker) -> dict[str, Any]:
    """The variables in scope, masked and reduced to JSON types for browsing."""
    return {key: json_safe(masker.mask_value(value)) for key, value in variables.items()}


def json_safe(value: Any, depth: int = 0) -> Any:
    """Maps, lists, strings, numbers, booleans and None; anything else as its text."""
    if depth > 40:
        return "…"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, depth + 1) for v in value]
    return str(value)


def task_source_block(flow_text: str, line: int, column: int) -> str:
    """The lines of a task's YAML mapping, from its first key to the first line indented less.

    ``line``/``column`` are where the mapping starts (1-based), as the loader records them.
    """
    lines = flow_text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    indent = column - 1
    block = [lines[line - 1]]
    for text in lines[line:]:
        stripped = text.lstrip(" ")
        if stripped and not stripped.startswith("#") and len(text) - len(stripped) < indent:
            break
        block.append(text)
    while block and not block[-1].strip():
        block.pop()
    return "\n".join(block)
