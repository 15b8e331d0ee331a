"""Kestra flow inputs: check the definitions when a flow loads, type the values when it runs.

The rules follow Kestra's `Input` classes and `FlowInputOutput.parseType`, so a
value Roost accepts is one a Kestra server accepts too: `required` defaults to
true, INT is a 32-bit integer, DATETIME is an instant (it needs `Z` or an offset
and comes back in UTC), DURATION is a `java.time.Duration`, URI uses Kestra's own
pattern, and ids with dots nest (`a.b` is `inputs.a.b`). Where Kestra would
silently coerce a typo (BOOLEAN `yes` is `false` there) Roost refuses instead, so
a mistake shows up before the run rather than inside it.
"""

from __future__ import annotations

import datetime
import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.core.durations import DurationError, format_duration, parse_duration

__all__ = [
    "INPUT_TYPES",
    "InputDefinition",
    "InputError",
    "parse_input_definitions",
    "resolve_inputs",
]

# Kestra's `Type` enum (ENUM is the deprecated SELECT, BOOL the newer BOOLEAN).
INPUT_TYPES: tuple[str, ...] = (
    "STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "SELECT", "MULTISELECT", "ENUM", "ARRAY",
    "JSON", "YAML", "DATETIME", "DATE", "TIME", "DURATION", "URI", "FILE", "EMAIL", "SECRET",
)
# Kestra's ArrayInputValidator refuses these as `itemType`.
_NOT_ITEM_TYPES = frozenset({"ARRAY", "MULTISELECT", "SECRET", "ENUM", "SELECT"})

_ID = re.compile(r"[a-zA-Z0-9][.a-zA-Z0-9_-]*")
_COMMON_KEYS = ("id", "name", "type", "description", "displayName", "required", "defaults",
                "prefill", "dependsOn")
_TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "STRING": ("validator",),
    "SECRET": ("validator",),
    "INT": ("min", "max"),
    "FLOAT": ("min", "max"),
    "DURATION": ("min", "max"),
    "DATETIME": ("after", "before"),
    "DATE": ("after", "before"),
    "TIME": ("after", "before"),
    "SELECT": ("values", "expression", "allowCustomValue", "allowInput", "isRadio",
               "autoSelectFirst"),
    "ENUM": ("values",),
    "MULTISELECT": ("values", "options", "expression", "itemType", "allowCustomValue",
                    "allowInput"),
    "ARRAY": ("itemType",),
    "FILE": ("allowedFileExtensions", "extension"),
}
_ALL_KEYS = frozenset(_COMMON_KEYS).union(*_TYPE_KEYS.values())

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


@dataclass(frozen=True)
class InputDefinition:
    """One entry of a flow's `inputs:` list, checked; `options` holds every other key as written."""

    id: str
    type: str
    required: bool
    defaults: Any
    description: str | None
    display_name: str | None
    options: dict[str, Any]

    @property
    def has_default(self) -> bool:
        return self.defaults is not None


class InputError(ValueError):
    """One bad input value: .input_id and .message ('input 'n': '12x' is not an integer')."""

    def __init__(self, input_id: str, message: str) -> None:
        super().__init__(message)
        self.input_id = input_id
        self.message = message


class _Bad(Exception):
    """A value problem, worded without the input's name (the caller adds it)."""


# ---------------------------------------------------------------- definitions


def parse_input_definitions(raw: list[Any]) -> tuple[list[InputDefinition], list[tuple[int, str]]]:
    """Check every definition as Kestra's flow validation would; bad ones are left out and reported."""
    definitions: list[InputDefinition] = []
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        definition, item_problems = _parse_definition(index, item)
        if definition is not None:
            if definition.id in seen:
                item_problems.append(f"input '{definition.id}' is declared twice")
            else:
                clash = next((other for other in seen if _nest_clash(definition.id, other)), None)
                if clash is not None:
                    item_problems.append(
                        f"input '{definition.id}' clashes with input '{clash}': an id with dots "
                        f"nests under its prefix, so one cannot be both a value and a group"
                    )
            seen.add(definition.id)
        problems.extend((index, p) for p in item_problems)
        if definition is not None and not item_problems:
            definitions.append(definition)
    return definitions, problems


def _nest_clash(a: str, b: str) -> bool:
    return a.startswith(b + ".") or b.startswith(a + ".")


def _parse_definition(index: int, item: Any) -> tuple[InputDefinition | None, list[str]]:
    if not isinstance(item, Mapping):
        return None, [f"input #{index + 1} must be a mapping with 'id' and 'type'"]
    raw_id = item.get("id", item.get("name"))
    if raw_id is None:
        return None, [f"input #{index + 1} has no 'id'"]
    input_id = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    if input_id is None or not _ID.fullmatch(input_id):
        shown = raw_id if input_id is None else input_id
        return None, [f"input id '{shown}' is invalid: it must start with a letter or digit and "
                      f"contain only letters, digits, '.', '_' and '-'"]
    label = f"input '{input_id}'"
    raw_type = item.get("type")
    if raw_type is None:
        return None, [f"{label} has no 'type'; one of {', '.join(INPUT_TYPES)}"]
    type_name = str(raw_type)
    if type_name not in INPUT_TYPES:
        return None, [f"{label}: {_unknown_type(type_name)}"]

    problems: list[str] = []
    allowed = set(_COMMON_KEYS) | set(_TYPE_KEYS.get(type_name, ()))
    for key in item:
        if key in allowed:
            continue
        key_text = str(key)
        if key_text in _ALL_KEYS:
            problems.append(f"{label}: property '{key_text}' does not apply to {type_name} inputs")
        else:
            close = difflib.get_close_matches(key_text, sorted(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"{label}: unknown property '{key_text}'{hint}")

    required = _bool_option(item.get("required"), True)
    if required is None:
        problems.append(f"{label}: 'required' must be true or false")
        required = True
    texts: dict[str, str | None] = {}
    for key in ("description", "displayName"):
        value = item.get(key)
        if isinstance(value, Mapping | list):
            problems.append(f"{label}: '{key}' must be text")
        texts[key] = None if value is None else _text(value)  # Jackson reads scalars as text

    options = {k: v for k, v in item.items()
               if k not in ("id", "name", "type", "description", "displayName", "required",
                            "defaults")}
    problems.extend(f"{label}: {p}" for p in _check_options(type_name, options))
    defaults = item.get("defaults")
    if defaults is not None and options.get("prefill") is not None:
        problems.append(f"{label}: an input with 'defaults' cannot also have a 'prefill'")
    if (defaults is None and type_name == "SELECT" and _bool_option(options.get("autoSelectFirst"), False)
            and isinstance(options.get("values"), list) and options["values"]):
        defaults = _option_values(options["values"])[0]  # SelectInput.getDefaults()
    definition = InputDefinition(
        id=input_id, type=type_name, required=required, defaults=defaults,
        description=texts["description"], display_name=texts["displayName"], options=options,
    )
    if not problems and defaults is not None and not _has_template(defaults) and type_name != "FILE":
        try:
            _parse_value(definition, defaults, _no_store)
        except _Bad as bad:
            problems.append(f"{label}: its defaults value is invalid: {bad}")
    return definition, problems


# Names from other languages that spelling alone would map to the wrong type (NUMBER -> ENUM).
_TYPE_SYNONYMS = {"NUMBER": ["INT", "FLOAT"], "DECIMAL": ["FLOAT"], "DOUBLE": ["FLOAT"], "LONG": ["INT"],
                  "TEXT": ["STRING"], "LIST": ["ARRAY"], "OBJECT": ["JSON"], "MAP": ["JSON"]}


def _unknown_type(type_name: str) -> str:
    if type_name.upper() in INPUT_TYPES:
        return f"unknown type '{type_name}'; types are upper case: '{type_name.upper()}'"
    if type_name.upper() == "FORM":
        return "type FORM (grouped inputs) is not supported by Roost yet"
    close = _TYPE_SYNONYMS.get(type_name.upper()) or difflib.get_close_matches(
        type_name.upper(), INPUT_TYPES, n=2, cutoff=0.5)
    if close:
        return f"unknown type '{type_name}'; did you mean {' or '.join(repr(c) for c in close)}?"
    return f"unknown type '{type_name}'; the input types are {', '.join(INPUT_TYPES)}"


def _check_options(type_name: str, options: dict[str, Any]) -> list[str]:
    """Type-specific properties, refused where Kestra's validation would refuse them."""
    problems: list[str] = []
    for key in ("allowCustomValue", "allowInput", "isRadio", "autoSelectFirst"):
        if key in options and _bool_option(options[key], False) is None:
            problems.append(f"'{key}' must be true or false")
    if type_name in ("STRING", "SECRET") and options.get("validator") is not None:
        validator = options["validator"]
        if not isinstance(validator, str):
            problems.append("'validator' must be a regular expression")
        else:
            try:
                re.compile(validator)
            except re.error as exc:
                problems.append(f"'validator' is not a valid regular expression: {exc}")
    bounds = {"INT": ("min", "max"), "FLOAT": ("min", "max"), "DURATION": ("min", "max"),
              "DATETIME": ("after", "before"), "DATE": ("after", "before"),
              "TIME": ("after", "before")}.get(type_name, ())
    for key in bounds:
        if options.get(key) is not None:
            try:
                _convert(type_name, options[key], "", {}, _no_store)
            except _Bad as bad:
                problems.append(f"'{key}' is invalid: {bad}")
    if type_name in ("SELECT", "ENUM", "MULTISELECT"):
        problems.extend(_check_values(type_name, options))
    if type_name in ("ARRAY", "MULTISELECT"):
        item_type = options.get("itemType")
        if item_type is None and type_name == "ARRAY":
            problems.append("ARRAY inputs need an 'itemType', e.g. itemType: STRING")
        elif item_type is not None:
            if item_type not in INPUT_TYPES:
                problems.append(f"'itemType': {_unknown_type(str(item_type))}")
            elif item_type in _NOT_ITEM_TYPES:
                problems.append(f"'itemType' cannot be {item_type}")
    if type_name == "FILE":
        extensions = options.get("allowedFileExtensions")
        if extensions is not None and (
            not isinstance(extensions, list)
            or not all(isinstance(e, str) and e.startswith(".") for e in extensions)
        ):
            problems.append("'allowedFileExtensions' must be a list such as ['.csv', '.txt']")
    depends_on = options.get("dependsOn")
    if depends_on is not None:
        inputs = depends_on.get("inputs") if isinstance(depends_on, Mapping) else None
        condition = depends_on.get("condition") if isinstance(depends_on, Mapping) else None
        if (not isinstance(depends_on, Mapping)
                or not isinstance(inputs, list | type(None))
                or not all(isinstance(i, str) for i in inputs or [])
                or not isinstance(condition, str | type(None))
                or set(depends_on) - {"inputs", "condition"}):
            problems.append("'dependsOn' must be a mapping with 'inputs' (a list of input ids) "
                            "and an optional 'condition'")
    return problems


def _check_values(type_name: str, options: dict[str, Any]) -> list[str]:
    values, legacy = options.get("values"), options.get("options")
    if values is not None and legacy is not None:
        return ["you can't define both `values` and `options`"]
    listed = values if values is not None else legacy
    if listed is None:
        if options.get("expression") is not None and type_name != "ENUM":
            return []
        return [f"{type_name} inputs need 'values', the list of choices"]
    if not isinstance(listed, list):
        return ["'values' must be a list of choices"]
    for entry in listed:
        if isinstance(entry, Mapping):
            if entry.get("value") is None:
                return ["a choice written as a mapping needs a 'value' (and may have a 'label')"]
        elif entry is None or isinstance(entry, list):
            return ["each choice in 'values' must be a value or a {label, value} mapping"]
    return []


def _bool_option(value: Any, default: bool) -> bool | None:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _option_values(listed: list[Any]) -> list[str]:
    """The choice values, as strings (Kestra's ValueOption: a scalar or {label, value})."""
    out = []
    for entry in listed:
        raw = entry.get("value") if isinstance(entry, Mapping) else entry
        out.append(_text(raw))
    return out


def _no_store(input_id: str, path: Path) -> str:
    return str(path)


# ---------------------------------------------------------------------- values


def resolve_inputs(
    definitions: list[InputDefinition],
    provided: Mapping[str, Any],
    *,
    store_file: Callable[[str, Path], str],
    render: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Typed values for every input; raises InputError naming the first bad or missing input.

    `provided` values may be CLI strings or already-typed values (a trigger, a subflow).
    `render`, when given, evaluates defaults written as expressions (`{{ now() }}`).
    Ids with dots come back nested, as in Kestra: `a.b` is `result["a"]["b"]`.
    """
    declared = [d.id for d in definitions]
    for key in provided:
        if key not in declared:
            listed = ", ".join(declared) if declared else "no inputs"
            raise InputError(str(key), f"unknown input '{key}'; the flow declares: {listed}")
    values: dict[str, Any] = {}
    for definition in definitions:
        value = provided.get(definition.id)
        if value is None and definition.has_default:
            value = definition.defaults
            if _has_template(value):
                if render is None:
                    raise InputError(definition.id, f"input '{definition.id}': its defaults "
                                     f"{_show(value)} is an expression, which cannot be "
                                     f"evaluated here; pass a value instead")
                try:
                    value = render(value)
                except Exception as exc:  # a template error is the flow's mistake, not a crash
                    raise InputError(definition.id, f"input '{definition.id}': its defaults "
                                     f"expression failed: {exc}") from None
        if value is None:
            if definition.required:
                raise InputError(definition.id,
                                 f"input '{definition.id}' is required and has no default")
            values[definition.id] = None
            continue
        try:
            values[definition.id] = _parse_value(definition, value, store_file)
        except _Bad as bad:
            raise InputError(definition.id, f"input '{definition.id}': {bad}") from None
    return _nest(values)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Kestra's MapUtils.flattenToNestedMap: `a.b` becomes {"a": {"b": ...}}."""
    result: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        target = result
        for part in parents:
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                target = result
                leaf = key  # clashing ids: keep the flat key rather than lose a value
                break
            target = child
        target[leaf] = value
    return result


def _parse_value(definition: InputDefinition, value: Any,
                 store_file: Callable[[str, Path], str]) -> Any:
    try:
        typed = _convert(definition.type, value, definition.id, definition.options, store_file)
        _check_constraints(definition, typed)
        return typed
    except RecursionError:
        raise _Bad("the value is nested too deeply") from None


def _convert(type_name: str, value: Any, input_id: str, options: Mapping[str, Any],
             store_file: Callable[[str, Path], str]) -> Any:
    """FlowInputOutput.parseType: one value (a string or already typed) to its Kestra type."""
    if type_name in ("STRING", "SECRET", "SELECT", "ENUM"):
        return _text(value)
    if type_name == "EMAIL":
        text = _text(value)
        if not _EMAIL.fullmatch(text):
            raise _Bad(f"{_show(text)} is not an email address such as ada@example.com")
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
        raise _Bad(f"{_show(value)} is not a boolean; use true or false")
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
            raise _Bad(f"{_show(value)} is not an ISO-8601 duration such as PT30S, PT5M or P1D")
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise _Bad(str(exc)) from None
    if type_name == "URI":
        text = _text(value)
        if not _URI.match(text):
            raise _Bad(f"{_show(text)} is not an absolute URI such as https://example.com/data.csv")
        return text
    if type_name == "JSON":
        return _to_json(value)
    if type_name == "YAML":
        return _to_yaml(value)
    if type_name == "FILE":
        return _to_file(value, input_id, options, store_file)
    if type_name in ("ARRAY", "MULTISELECT"):
        return _to_list(type_name, value, input_id, options, store_file)
    raise _Bad(f"type {type_name} is not supported")


def _check_constraints(definition: InputDefinition, typed: Any) -> None:
    """The per-type `validate` of Kestra's Input classes (bounds are inclusive)."""
    kind, options = definition.type, definition.options
    secret = kind == "SECRET"
    shown = "the value" if secret else _show(typed)
    if kind in ("STRING", "SECRET") and isinstance(options.get("validator"), str):
        pattern = options["validator"]
        try:
            matched = re.fullmatch(pattern, typed) is not None
        except re.error as exc:
            raise _Bad(f"its validator `{pattern}` is not a valid regular expression: {exc}") from None
        if not matched:
            raise _Bad(f"{shown} does not match the pattern `{pattern}`")
    if kind in ("INT", "FLOAT", "DURATION"):
        low, high = _bound(definition, "min"), _bound(definition, "max")
        if low is not None and typed < low:
            raise _Bad(f"{shown} is less than the minimum {_show(low)}")
        if high is not None and typed > high:
            raise _Bad(f"{shown} is more than the maximum {_show(high)}")
    if kind in ("DATETIME", "DATE", "TIME"):
        after, before = _bound(definition, "after"), _bound(definition, "before")
        if after is not None and typed < after:
            raise _Bad(f"{shown} is before {_show(after)}; it must be after it")
        if before is not None and typed > before:
            raise _Bad(f"{shown} is after {_show(before)}; it must be before it")
    if kind in ("SELECT", "ENUM", "MULTISELECT"):
        listed = options.get("values", options.get("options"))
        custom = any(_bool_option(options.get(k), False) for k in ("allowCustomValue", "allowInput"))
        if isinstance(listed, list) and not (custom and kind != "ENUM"):
            choices = _option_values(listed)
            for item in typed if kind == "MULTISELECT" else [typed]:
                if _text(item) not in choices:
                    raise _Bad(f"{_show(item)} is not one of: {', '.join(choices)}")
    if kind == "FILE" and isinstance(options.get("allowedFileExtensions"), list):
        allowed = [str(e).lower() for e in options["allowedFileExtensions"]]
        name = str(typed).rsplit("/", 1)[-1]
        extension = name[name.rfind("."):].lower() if "." in name else ""
        if extension not in allowed:
            raise _Bad(f"{_show(name)} is not an accepted file type ({', '.join(allowed)})")


def _bound(definition: InputDefinition, key: str) -> Any:
    raw = definition.options.get(key)
    if raw is None:
        return None
    try:
        return _convert(definition.type, raw, definition.id, {}, _no_store)
    except _Bad as bad:
        raise _Bad(f"its '{key}' is invalid: {bad}") from None


def _text(value: Any) -> str:
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


def _show(value: Any) -> str:
    if isinstance(value, datetime.datetime) and value.utcoffset() == datetime.timedelta(0):
        text = value.isoformat().replace("+00:00", "Z")
    else:
        text = _text(value)
    return "'" + (text if len(text) <= 80 else text[:77] + "...") + "'"


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad(f"{_show(value)} is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INT_TEXT.fullmatch(value):
        number = int(value)
    elif isinstance(value, str | float) and _FLOAT_TEXT.fullmatch(_text(value)):
        raise _Bad(f"{_show(value)} is not an integer; INT takes whole numbers (use FLOAT "
                   f"for decimals)")
    else:
        raise _Bad(f"{_show(value)} is not an integer")
    if not _INT_MIN <= number <= _INT_MAX:
        raise _Bad(f"{_show(value)} is outside the INT range {_INT_MIN} to {_INT_MAX}")
    return number


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise _Bad(f"{_show(value)} is not a number")
    numeric = isinstance(value, int | float)
    if not numeric and not (isinstance(value, str) and _FLOAT_TEXT.fullmatch(value)):
        raise _Bad(f"{_show(value)} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise _Bad(f"{_show(value)} is not a finite number")
    return number


def _fraction_micros(digits: str | None) -> int:
    return int((digits or "")[:6].ljust(6, "0"))  # Java keeps nanoseconds; Python micro


def _to_instant(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        if value.utcoffset() is None:
            raise _Bad(f"{_show(value)} has no time zone; add 'Z' or an offset such as +02:00 "
                       f"(Kestra takes an instant)")
        return value.astimezone(datetime.UTC)
    text = value if isinstance(value, str) else None
    match = _INSTANT.fullmatch(text) if text is not None else None
    if match is None:
        if text is not None and _DATE_TEXT.fullmatch(text):
            raise _Bad(f"{_show(value)} is a date without a time; DATETIME takes an instant "
                       f"such as {text}T00:00:00Z")
        raise _Bad(f"{_show(value)} is not an ISO-8601 date-time such as 2024-01-31T10:15:30Z")
    offset_text = match.group("offset")
    if offset_text is None:
        raise _Bad(f"{_show(value)} has no time zone; add 'Z' or an offset such as +02:00 "
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
        raise _Bad(f"{_show(value)} is not a valid date-time: {exc}") from None


def _to_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    match = _DATE_TEXT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _Bad(f"{_show(value)} is not a date such as 2024-01-31")
    try:
        return datetime.date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise _Bad(f"{_show(value)} is not a valid date: {exc}") from None


def _to_time(value: Any) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    match = _TIME_TEXT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _Bad(f"{_show(value)} is not a time such as 10:15 or 10:15:30")
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    try:
        return datetime.time(hour, minute, second, _fraction_micros(match.group(4)))
    except ValueError as exc:
        raise _Bad(f"{_show(value)} is not a valid time: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _to_json(value: Any) -> Any:
    if not isinstance(value, str):
        return _plain(value)
    try:
        return json.loads(value, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise _Bad(f"{_show(value)} is not valid JSON: {exc}") from None


def _to_yaml(value: Any) -> Any:
    if not isinstance(value, str):
        return _plain(value)
    from engine.core.errors import InvalidFlowError
    from engine.core.yaml_source import load_yaml

    try:
        return _plain(load_yaml(value, "<input>"))
    except InvalidFlowError as exc:
        detail = exc.errors[0].message if exc.errors else "invalid YAML"
        raise _Bad(f"{_show(value)} is not valid YAML: {detail}") from None
    except yaml.YAMLError as exc:  # raised before load_yaml's own handling (bad characters)
        raise _Bad(f"{_show(value)} is not valid YAML: {exc}") from None


def _plain(value: Any) -> Any:
    """Plain dicts and lists (YAML loading returns position-carrying subclasses)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _to_list(type_name: str, value: Any, input_id: str, options: Mapping[str, Any],
             store_file: Callable[[str, Path], str]) -> list[Any]:
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                loaded = json.loads(stripped, parse_constant=_refuse_constant)
            except ValueError as exc:
                raise _Bad(f"{_show(value)} is not a valid JSON array: {exc}") from None
            if not isinstance(loaded, list):
                raise _Bad(f"{_show(value)} is not a JSON array such as [\"a\", \"b\"]")
            items = loaded
        elif type_name == "MULTISELECT":
            items = [part.strip() for part in value.split(",")] if stripped else []
        else:
            raise _Bad(f"{_show(value)} is not a JSON array such as [\"a\", \"b\"]")
    else:
        raise _Bad(f"{_show(value)} is not a list")
    item_type = options.get("itemType")
    if item_type is None:
        item_type = "STRING" if type_name == "MULTISELECT" else None
    if item_type is None:
        return [_plain(item) for item in items]
    converted = []
    for position, item in enumerate(items, start=1):
        if item is None:
            raise _Bad(f"item {position} is empty (null)")
        try:
            converted.append(_convert(str(item_type), item, input_id, {}, store_file))
        except _Bad as bad:
            raise _Bad(f"item {position}: {bad}") from None
    return converted


def _to_file(value: Any, input_id: str, options: Mapping[str, Any],
             store_file: Callable[[str, Path], str]) -> str:
    if isinstance(value, str) and value.startswith(_PASSED_THROUGH_SCHEMES):
        return value  # already in storage (a subflow's output, a namespace file)
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str) and value:
        path = Path(value[len("file://"):] if value.startswith("file://") else value)
    else:
        raise _Bad(f"{_show(value)} is not a file path")
    try:
        path = path.expanduser()
        if not path.exists():
            raise _Bad(f"{_show(value)} does not exist")
        if not path.is_file():
            raise _Bad(f"{_show(value)} is not a file")
    except (OSError, ValueError, RuntimeError) as exc:
        raise _Bad(f"{_show(value)} cannot be read: {exc}") from None
    try:
        return store_file(input_id, path)
    except OSError as exc:
        raise _Bad(f"{_show(value)} could not be stored: {exc}") from None
