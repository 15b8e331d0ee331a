"""A flow's `outputs:` typed as declared, the way Kestra's `FlowInputOutput.typedOutputs` does.

A template renders to text, so `value: "{{ outputs.sum.value }}"` is "55"; an output declared
`type: INT` is the number 55 in the execution's JSON and history, a BOOLEAN is true/false, a
JSON or ARRAY output is the parsed structure. Types whose Java value Jackson writes as a
string (DATETIME, DATE, TIME, DURATION) are checked and stay ISO text; an output without a
valid value fails the execution, naming the output and its type.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from engine.core.durations import format_duration
from engine.flow.input_coercion import InvalidValue, convert, quoted
from engine.flow.model import FlowOutput

__all__ = ["OutputTypeError", "typed_flow_output"]

_AS_RENDERED = frozenset({"STRING", "SELECT", "ENUM", "EMAIL", "SECRET"})


class OutputTypeError(ValueError):
    """A flow output whose value is not of its declared type; the message names both."""


def typed_flow_output(output: FlowOutput, value: Any) -> Any:
    """`value` (as rendered) as the output's declared type; raises OutputTypeError."""
    kind = output.type.upper()
    if value is None or kind in _AS_RENDERED:
        return value  # Kestra passes these through unchanged (a null stays null)
    try:
        typed = convert(kind, value, output.id, {}, _no_local_files)
    except InvalidValue as bad:
        raise OutputTypeError(f"declared type {kind}: {bad}") from None
    return _json_shape(typed)


def _json_shape(value: Any) -> Any:
    """What Jackson writes for the typed value: instants, dates and durations as ISO text."""
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return format_duration(value)
    if isinstance(value, list):
        return [_json_shape(item) for item in value]
    return value


def _no_local_files(output_id: str, path: Path) -> str:
    raise InvalidValue(f"{quoted(str(path))} is a local path; a FILE output must be a "
                       f"kestra:// URI, such as a task's output file")
