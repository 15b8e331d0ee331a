"""Declared trigger properties: what `roost validate` checks and what a poll reads.

Each trigger type lists its properties as `Prop`s, the way a Kestra plugin class
declares fields. Validation checks what can be checked before anything runs (required,
kinds, enum values, durations); a value holding a `{{ template }}` is checked again
once rendered, by the `as_*` readers, which raise `TriggerError` with the property name.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.durations import DurationError, parse_duration


class TriggerError(Exception):
    """A trigger that cannot poll or fire; the message is logged as is and retried next time."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Prop:
    """One property of a trigger type."""

    kind: str = "string"  # string | int | bool | duration | enum | map | list | any
    required: bool = False
    choices: tuple[str, ...] = ()
    dynamic: bool = True  # may hold a {{ template }}, rendered at each poll
    minimum: int | None = None


LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")

# Every Kestra trigger has these (io.kestra.core.models.triggers.AbstractTrigger).
COMMON: dict[str, Prop] = {
    "id": Prop(required=True, dynamic=False),
    "type": Prop(required=True, dynamic=False),
    "version": Prop("any"),
    "description": Prop("any"),
    "disabled": Prop("bool", dynamic=False),
    "conditions": Prop("list"),
    "workerGroup": Prop("any"),
    "logLevel": Prop("enum", choices=LOG_LEVELS),
    "minLogLevel": Prop("enum", choices=LOG_LEVELS),
    "logToFile": Prop("bool"),
    "labels": Prop("any"),
    "stopAfter": Prop("list"),
    "failOnTriggerError": Prop("bool"),
    "allowConcurrent": Prop("bool"),
}

# (property, message, at the key rather than the value): "" as property means the trigger itself.
Report = Callable[[str, str, bool], None]


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_properties(props: Mapping[str, Any], own_keys: set[str], spec: Mapping[str, Prop],
                     report: Report, type_name: str) -> None:
    """Unknown keys (only those written in the trigger itself), missing ones, wrong kinds."""
    import difflib

    known = {**COMMON, **spec}
    for key in own_keys:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            report(key, f"unknown property '{key}' for type {type_name}{hint}", True)
    for key, prop in known.items():
        value = props.get(key)
        if value is None:
            if prop.required:
                report("", _missing(key, prop), False)
            continue
        if prop.dynamic and is_template(value):
            continue
        problem = kind_problem(value, prop)
        if problem:
            report(key, f"'{key}' {problem}", False)


def _missing(key: str, prop: Prop) -> str:
    if prop.choices:
        return f"missing required property '{key}' ({', '.join(prop.choices)})"
    return f"missing required property '{key}'"


def kind_problem(value: Any, prop: Prop) -> str | None:
    """Why `value` is not of the property's kind, or None."""
    kind = prop.kind
    if kind == "any":
        return None
    if kind == "string":
        return None if isinstance(value, str | int | float) and not isinstance(value, bool) else "must be a string"
    if kind == "bool":
        if isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false")):
            return None
        return "must be true or false"
    if kind == "int":
        number = _int_or_none(value)
        if number is None:
            return "must be an integer"
        if prop.minimum is not None and number < prop.minimum:
            return f"must be at least {prop.minimum}"
        return None
    if kind == "duration":
        try:
            duration = parse_duration(value)
        except DurationError as exc:
            return f"is invalid: {exc}"
        return "must be a positive duration" if duration <= datetime.timedelta(0) else None
    if kind == "enum":
        if str(value) in prop.choices:
            return None
        return f"must be one of {', '.join(prop.choices)}, not '{value}'"
    if kind == "map":
        return None if isinstance(value, dict) else "must be a map"
    if kind == "list":
        return None if isinstance(value, list) else "must be a list"
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


# --- readers for rendered values (raise TriggerError naming the property) -------------------
def as_text(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise TriggerError(f"property '{name}' is required")
        return None
    if isinstance(value, dict | list):
        raise TriggerError(f"property '{name}' must be a string")
    return str(value)


def as_bool(value: Any, name: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise TriggerError(f"property '{name}' must be true or false, not '{value}'")


def as_int(value: Any, name: str, default: int, minimum: int | None = None) -> int:
    if value is None:
        return default
    number = _int_or_none(value)
    if number is None:
        raise TriggerError(f"property '{name}' must be an integer, not '{value}'")
    if minimum is not None and number < minimum:
        raise TriggerError(f"property '{name}' must be at least {minimum}")
    return number


def as_enum(value: Any, name: str, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    text = str(value)
    if text not in choices:
        raise TriggerError(f"property '{name}' must be one of {', '.join(choices)}, not '{text}'")
    return text


def as_duration(value: Any, name: str, default: datetime.timedelta | None) -> datetime.timedelta | None:
    if value is None:
        return default
    try:
        duration = parse_duration(value)
    except DurationError as exc:
        raise TriggerError(f"property '{name}': {exc}") from None
    if duration <= datetime.timedelta(0):
        raise TriggerError(f"property '{name}' must be a positive duration")
    return duration
