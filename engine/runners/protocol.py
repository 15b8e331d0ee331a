"""Kestra's output protocol: a script line `::{json}::` carries outputs, metrics and logs.

A line matching exactly `^::(\\{.*})::$` is not a log line. Its JSON object may hold
`outputs` (an object merged into the task's `vars`), `metrics` (a list of
`{name, type: counter|timer|gauge, value, tags}`) and `logs` (a list of
`{level, message}`). This is what Kestra's own helper libraries print, e.g. the
`kestra` Python package's `Kestra.outputs`, `Kestra.counter`, `Kestra.timer` and
`Kestra.logger()`. Like Kestra (which ignores unknown properties), keys it does not
know are ignored; `assets` is Kestra's and has no meaning locally.

A line that looks like the protocol but is not valid JSON, or has the wrong shape,
is ignored as a whole (as Kestra does) and answered with a warning that says why.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from engine.core.durations import DurationError, parse_duration

__all__ = ["METRIC_TYPES", "Metric", "ProtocolMessage", "parse_protocol_line"]

METRIC_TYPES = ("counter", "timer", "gauge")
_QUOTE_LIMIT = 120


@dataclass(frozen=True)
class Metric:
    """One metric sent by a script; a timer's value is in seconds."""

    name: str
    type: str
    value: float
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProtocolMessage:
    """What one `::{...}::` line says; `warning` is set when the line was ignored."""

    outputs: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    logs: tuple[tuple[str, str], ...] = ()
    warning: str | None = None


class _ShapeError(ValueError):
    """The JSON is valid but not the shape the protocol expects."""


def parse_protocol_line(text: str) -> ProtocolMessage | None:
    """The message a protocol line carries, or None for an ordinary log line. Never raises."""
    # Same as Kestra's `^::(\{.*})::$` on one line, without a regex on every log line.
    if not (text.startswith("::{") and text.endswith("}::")):
        return None
    try:
        data = json.loads(text[2:-2], parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return _ignored(text, f"not valid JSON at column {exc.colno + 2}: {exc.msg}")
    except (ValueError, RecursionError) as exc:
        return _ignored(text, f"not valid JSON: {exc}")
    try:
        return _message(data)
    except _ShapeError as exc:
        return _ignored(text, str(exc))


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON: Kestra's parser refuses them, so does Roost.
    raise ValueError(f"{name} is not a JSON value")


def _ignored(text: str, reason: str) -> ProtocolMessage:
    quoted = text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "…"
    return ProtocolMessage(warning=f"ignored an invalid ::{{...}}:: output line ({reason}): {quoted}")


def _message(data: Any) -> ProtocolMessage:
    if not isinstance(data, dict):
        raise _ShapeError("the JSON is not an object")
    outputs = data.get("outputs")
    if outputs is not None and not isinstance(outputs, dict):
        raise _ShapeError(f"'outputs' must be an object, not {_kind(outputs)}")
    metrics = tuple(_metric(entry, i) for i, entry in enumerate(_list(data, "metrics")))
    logs = tuple(_log(entry, i) for i, entry in enumerate(_list(data, "logs")))
    return ProtocolMessage(outputs=outputs or {}, metrics=metrics, logs=logs)


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _ShapeError(f"'{key}' must be a list, not {_kind(value)}")
    return value


def _metric(entry: Any, index: int) -> Metric:
    where = f"metrics[{index}]"
    if not isinstance(entry, dict):
        raise _ShapeError(f"{where} must be an object, not {_kind(entry)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise _ShapeError(f"{where} needs a 'name' string")
    kind = entry.get("type")
    if kind not in METRIC_TYPES:
        raise _ShapeError(f"{where} 'type' must be counter, timer or gauge, not {json.dumps(kind)}")
    return Metric(name, kind, _metric_value(entry.get("value"), kind, where),
                  _tags(entry.get("tags"), where))


def _metric_value(value: Any, kind: str, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if kind == "timer" and isinstance(value, str):
        # Kestra reads a timer as a java Duration, so "PT1.5S" is as good as 1.5.
        try:
            seconds = parse_duration(value).total_seconds()
        except DurationError as exc:
            raise _ShapeError(f"{where} 'value': {exc}") from None
        if math.isfinite(seconds):
            return seconds
    raise _ShapeError(f"{where} 'value' must be a number, not {_kind(value)}")


def _tags(tags: Any, where: str) -> tuple[tuple[str, str], ...]:
    if tags is None:
        return ()
    if not isinstance(tags, dict):
        raise _ShapeError(f"{where} 'tags' must be an object, not {_kind(tags)}")
    pairs = []
    for key, value in tags.items():
        if isinstance(value, (dict, list)) or value is None:
            raise _ShapeError(f"{where} tag '{key}' must be a string, not {_kind(value)}")
        # Kestra's tags are strings; Jackson turns scalars into their JSON text.
        pairs.append((key, value if isinstance(value, str) else json.dumps(value)))
    return tuple(pairs)


def _log(entry: Any, index: int) -> tuple[str, str]:
    where = f"logs[{index}]"
    if not isinstance(entry, dict):
        raise _ShapeError(f"{where} must be an object, not {_kind(entry)}")
    level = entry.get("level", "INFO")
    if not isinstance(level, str):
        raise _ShapeError(f"{where} 'level' must be a string, not {_kind(level)}")
    if "message" not in entry:
        raise _ShapeError(f"{where} needs a 'message'")
    message = entry["message"]
    if isinstance(message, (dict, list)):
        raise _ShapeError(f"{where} 'message' must be a string, not {_kind(message)}")
    if not isinstance(message, str):
        message = "null" if message is None else json.dumps(message)
    return level.upper(), message


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
