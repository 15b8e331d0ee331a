"""One flow input value turned into its Kestra type, and checked against its type's rules.

The per-type half of Kestra's `FlowInputOutput.parseType` and of its `Input` classes'
`validate`, apart from where the values come from: both the load-time check of a definition's
`defaults` and bounds (:mod:`engine.flow.inputs`) and the run-time typing of the values given
(:mod:`engine.flow.input_values`) come here, so a value is judged by the same rules at both
times. INT is a 32-bit integer, DATETIME is an instant (it needs `Z` or an offset and comes back
in UTC), DURATION is a `java.time.Duration`, URI uses Kestra's own pattern; where Kestra would
silently coerce a typo (BOOLEAN `yes` is `false` there) this refuses instead.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from engine.core.durations import DurationError, format_duration, parse_duration

__all__ = [
    "InvalidValue",
    "StoreFile",
    "as_text",
    "bool_option",
    "check_constraints",
    "convert",
    "has_template",
    "keep_path",
    "option_values",
    "quoted",
    "typed_value",
]

StoreFile = Callable[[str, Path], str]
"""Moves a FILE input's file into storage: (input id, local path) -> its storage URI."""

_INT_TEXT = re.compile(r"[-+]?[0-9]{1,40}", re.ASCII)
_FLOAT_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?P<offset>[Zz]|[-+]\d{2}:\d{2}(?::\d{2})?)?",
    re.ASCII,
)
_DATE_TEXT = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME_TEXT = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?", re.ASCII)
# FlowInputOutput.URI_PATTERN, verbatim: a lowercase scheme, `://` and a dotted host.
_URI = re.compile(
    r"^[a-z]+:\/\/(?:www\.)?[-a-zA-Z0-9@:%._\+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"(?:[-a-zA-Z0-9()@:%_\+.~#?&\/=]*)$",
    re.ASCII,
)
# EmailInput.EMAIL_PATTERN (without its empty-string alternative).
_EMAIL = re.compile(r"[a-zA-Z0-9_!#$%&’*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+")
_PASSED_THROUGH_SCHEMES = ("kestra://", "nsfile://")


class InvalidValue(Exception):
    """A value problem, worded without the input's name (the caller adds it)."""


def typed_value(kind: str, value: Any, input_id: str, options: Mapping[str, Any],
                store_file: StoreFile) -> Any:
    """`value` as input type `kind` with `options`, checked against the type's constraints;
    raises InvalidValue."""
    try:
        typed = convert(kind, value, input_id, options, store_file)
        check_constraints(kind, input_id, options, typed)
        return typed
    except RecursionError:
        raise InvalidValue("the value is nested too deeply") from None


def convert(type_name: str, value: Any, input_id: str, options: Mapping[str, Any],
             store_file: StoreFile) -> Any:
    """FlowInputOutput.parseType: one value (a string or already typed) to its Kestra type."""
    if type_name in ("STRING", "SECRET", "SELECT", "ENUM"):
        return as_text(value)
    if type_name == "EMAIL":
        text = as_text(value)
        if not _EMAIL.fullmatch(text):
            raise InvalidValue(f"{quoted(text)} is not an email address such as ada@example.com")
        return text
    if type_name == "INT":
        return _to_int(value)
    if type_name == "FLOAT":
        return _to_float(value)
    if type_name in ("BOOLEAN", "BOOL"):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidValue(f"{quoted(value)} is not a boolean; use true or false")
    if type_name == "DATETIME":
        return _to_instant(value)
    if type_name == "DATE":
        return _to_date(value)
    if type_name == "TIME":
        return _to_time(value)
    if type_name == "DURATION":
        if isinstance(value, datetime.timedelta):
            return value
        if not isinstance(value, str):
            raise InvalidValue(
                f"{quoted(value)} is not an ISO-8601 duration such as PT30S, PT5M or P1D"
            )
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise InvalidValue(str(exc)) from None
    if type_name == "URI":
        text = as_text(value)
        if not _URI.match(text):
            raise InvalidValue(
                f"{quoted(text)} is not an absolute URI such as https://example.com/data.csv"
            )
        return text
    if type_name == "JSON":
        return _to_json(value)
    if type_name == "YAML":
        return _to_yaml(value)
    if type_name == "FILE":
        return _to_file(value, input_id, options, store_file)
    if type_name in ("ARRAY", "MULTISELECT"):
        return _to_list(type_name, value, input_id, options, store_file)
    raise InvalidValue(f"type {type_name} is not supported")


def check_constraints(kind: str, input_id: str, options: Mapping[str, Any], typed: Any) -> None:
    """The per-type `validate` of Kestra's Input classes (bounds are inclusive)."""
    secret = kind == "SECRET"
    shown = "the value" if secret else quoted(typed)
    if kind in ("STRING", "SECRET") and isinstance(options.get("validator"), str):
        pattern = options["validator"]
        try:
            matched = re.fullmatch(pattern, typed) is not None
        except re.error as exc:
            raise InvalidValue(
                f"its validator `{pattern}` is not a valid regular expression: {exc}"
            ) from None
        if not matched:
            raise InvalidValue(f"{shown} does not match the pattern `{pattern}`")
    if kind in ("INT", "FLOAT", "DURATION"):
        low, high = (_bound(kind, input_id, options, key) for key in ("min", "max"))
        if low is not None and typed < low:
            raise InvalidValue(f"{shown} is less than the minimum {quoted(low)}")
        if high is not None and typed > high:
            raise InvalidValue(f"{shown} is more than the maximum {quoted(high)}")
    if kind in ("DATETIME", "DATE", "TIME"):
        after, before = (_bound(kind, input_id, options, key) for key in ("after", "before"))
        if after is not None and typed < after:
            raise InvalidValue(f"{shown} is before {quoted(after)}; it must be after it")
        if before is not None and typed > before:
            raise InvalidValue(f"{shown} is after {quoted(before)}; it must be before it")
    if kind in ("SELECT", "ENUM", "MULTISELECT"):
        listed = options.get("values", options.get("options"))
        custom = any(bool_option(options.get(k), False) for k in ("allowCustomValue", "allowInput"))
        if isinstance(listed, list) and not (custom and kind != "ENUM"):
            choices = option_values(listed)
            for item in typed if kind == "MULTISELECT" else [typed]:
                if as_text(item) not in choices:
                    raise InvalidValue(f"{quoted(item)} is not one of: {', '.join(choices)}")
    if kind == "FILE" and isinstance(options.get("allowedFileExtensions"), list):
        allowed = [str(e).lower() for e in options["allowedFileExtensions"]]
        name = str(typed).rsplit("/", 1)[-1]
        extension = name[name.rfind("."):].lower() if "." in name else ""
        if extension not in allowed:
            raise InvalidValue(
                f"{quoted(name)} is not an accepted file type ({', '.join(allowed)})"
            )


def _bound(kind: str, input_id: str, options: Mapping[str, Any], key: str) -> Any:
    raw = options.get(key)
    if raw is None:
        return None
    try:
        return convert(kind, raw, input_id, {}, keep_path)
    except InvalidValue as bad:
        raise InvalidValue(f"its '{key}' is invalid: {bad}") from None


def bool_option(value: Any, default: bool) -> bool | None:
    """A true/false option as Kestra reads it (`"true"` too); None if it is neither."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def has_template(value: Any) -> bool:
    """Whether a value (or anything inside it) is a Pebble expression, to be rendered first."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False


def option_values(listed: list[Any]) -> list[str]:
    """The choice values, as strings (Kestra's ValueOption: a scalar or {label, value})."""
    out = []
    for entry in listed:
        raw = entry.get("value") if isinstance(entry, Mapping) else entry
        out.append(as_text(raw))
    return out


def keep_path(input_id: str, path: Path) -> str:
    """A `store_file` that stores nothing: for checking values when no run exists yet."""
    return str(path)


def as_text(value: Any) -> str:
    """Java's `toString()` of a value, as Kestra applies to STRING and SELECT inputs."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return format_duration(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def quoted(value: Any) -> str:
    """A value quoted for a message, cut at 80 characters (UTC instants end in Z)."""
    if isinstance(value, datetime.datetime) and value.utcoffset() == datetime.timedelta(0):
        text = value.isoformat().replace("+00:00", "Z")
    else:
        text = as_text(value)
    return "'" + (text if len(text) <= 80 else text[:77] + "...") + "'"


def quoted_path(value: Any) -> str:
    """A path quoted for a message: whole up to 240 characters, else its middle cut, so the
    file's name at the end is always there."""
    text = as_text(value)
    return "'" + (text if len(text) <= 240 else text[:80] + "..." + text[-157:]) + "'"


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidValue(f"{quoted(value)} is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INT_TEXT.fullmatch(value):
        number = int(value)
    elif isinstance(value, str | float) and _FLOAT_TEXT.fullmatch(as_text(value)):
        raise InvalidValue(f"{quoted(value)} is not an integer; INT takes whole numbers (use FLOAT "
                           f"for decimals)")
    else:
        raise InvalidValue(f"{quoted(value)} is not an integer")
    if not _INT_MIN <= number <= _INT_MAX:
        raise InvalidValue(f"{quoted(value)} is outside the INT range {_INT_MIN} to {_INT_MAX}")
    return number


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidValue(f"{quoted(value)} is not a number")
    numeric = isinstance(value, int | float)
    if not numeric and not (isinstance(value, str) and _FLOAT_TEXT.fullmatch(value)):
        raise InvalidValue(f"{quoted(value)} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidValue(f"{quoted(value)} is not a finite number")
    return number


def _fraction_micros(digits: str | None) -> int:
    return int((digits or "")[:6].ljust(6, "0"))  # Java keeps nanoseconds; Python micro


def _to_instant(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        if value.utcoffset() is None:
            raise InvalidValue(f"{quoted(value)} has no time zone; add 'Z' or an offset such as "
                               f"+02:00 (Kestra takes an instant)")
        return value.astimezone(datetime.UTC)
    text = value if isinstance(value, str) else None
    match = _INSTANT.fullmatch(text) if text is not None else None
    if match is None:
        if text is not None and _DATE_TEXT.fullmatch(text):
            raise InvalidValue(f"{quoted(value)} is a date without a time; DATETIME takes an "
                               f"instant such as {text}T00:00:00Z")
        raise InvalidValue(
            f"{quoted(value)} is not an ISO-8601 date-time such as 2024-01-31T10:15:30Z"
        )
    offset_text = match.group("offset")
    if offset_text is None:
        raise InvalidValue(f"{quoted(value)} has no time zone; add 'Z' or an offset such as +02:00 "
                           f"(Kestra takes an instant)")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        if offset_text in ("Z", "z"):
            zone = datetime.UTC
        else:
            sign = -1 if offset_text[0] == "-" else 1
            parts = [int(p) for p in offset_text[1:].split(":")] + [0]
            zone = datetime.timezone(sign * datetime.timedelta(hours=parts[0], minutes=parts[1],
                                                               seconds=parts[2]))
        moment = datetime.datetime(year, month, day, hour, minute, second,
                                   _fraction_micros(match.group(7)), tzinfo=zone)
        return moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidValue(f"{quoted(value)} is not a valid date-time: {exc}") from None


def _to_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    match = _DATE_TEXT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidValue(f"{quoted(value)} is not a date such as 2024-01-31")
    try:
        return datetime.date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise InvalidValue(f"{quoted(value)} is not a valid date: {exc}") from None


def _to_time(value: Any) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    match = _TIME_TEXT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidValue(f"{quoted(value)} is not a time such as 10:15 or 10:15:30")
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    try:
        return datetime.time(hour, minute, second, _fraction_micros(match.group(4)))
    except ValueError as exc:
        raise InvalidValue(f"{quoted(value)} is not a valid time: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _to_json(value: Any) -> Any:
    if not isinstance(value, str):
        return _plain(value)
    try:
        return json.loads(value, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise InvalidValue(f"{quoted(value)} is not valid JSON: {exc}") from None


def _to_yaml(value: Any) -> Any:
    if not isinstance(value, str):
        return _plain(value)
    from engine.core.errors import InvalidFlowError
    from engine.core.yaml_source import load_yaml

    try:
        return _plain(load_yaml(value, "<input>"))
    except InvalidFlowError as exc:
        detail = exc.errors[0].message if exc.errors else "invalid YAML"
        raise InvalidValue(f"{quoted(value)} is not valid YAML: {detail}") from None
    except yaml.YAMLError as exc:  # raised before load_yaml's own handling (bad characters)
        raise InvalidValue(f"{quoted(value)} is not valid YAML: {exc}") from None


def _plain(value: Any) -> Any:
    """Plain dicts and lists (YAML loading returns position-carrying subclasses)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _to_list(type_name: str, value: Any, input_id: str, options: Mapping[str, Any],
             store_file: StoreFile) -> list[Any]:
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                loaded = json.loads(stripped, parse_constant=_refuse_constant)
            except ValueError as exc:
                raise InvalidValue(f"{quoted(value)} is not a valid JSON array: {exc}") from None
            if not isinstance(loaded, list):
                raise InvalidValue(f"{quoted(value)} is not a JSON array such as [\"a\", \"b\"]")
            items = loaded
        elif type_name == "MULTISELECT":
            items = [part.strip() for part in value.split(",")] if stripped else []
        else:
            raise InvalidValue(f"{quoted(value)} is not a JSON array such as [\"a\", \"b\"]")
    else:
        raise InvalidValue(f"{quoted(value)} is not a list")
    item_type = options.get("itemType")
    if item_type is None:
        item_type = "STRING" if type_name == "MULTISELECT" else None
    if item_type is None:
        return [_plain(item) for item in items]
    converted = []
    for position, item in enumerate(items, start=1):
        if item is None:
            raise InvalidValue(f"item {position} is empty (null)")
        try:
            converted.append(convert(str(item_type), item, input_id, {}, store_file))
        except InvalidValue as bad:
            raise InvalidValue(f"item {position}: {bad}") from None
    return converted


def _to_file(value: Any, input_id: str, options: Mapping[str, Any],
             store_file: StoreFile) -> str:
    if isinstance(value, str) and value.startswith(_PASSED_THROUGH_SCHEMES):
        return value  # already in storage (a subflow's output, a namespace file)
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str) and value:
        path = Path(value[len("file://"):] if value.startswith("file://") else value)
    else:
        raise InvalidValue(f"{quoted(value)} is not a file path")
    try:
        path = path.expanduser()
        if not path.exists():
            raise InvalidValue(f"{quoted_path(value)} does not exist")
        if not path.is_file():
            raise InvalidValue(f"{quoted_path(value)} is not a file")
    except (OSError, ValueError, RuntimeError) as exc:
        raise InvalidValue(f"{quoted_path(value)} cannot be read: {exc}") from None
    try:
        return store_file(input_id, path)
    except OSError as exc:
        raise InvalidValue(f"{quoted_path(value)} could not be stored: {exc}") from None
