"""Kestra flow inputs as a flow declares them: the definitions, checked when a flow loads.

The rules follow Kestra's `Input` classes and its flow validation, so a definition Roost accepts
is one a Kestra server accepts too: `required` defaults to true, ids with dots nest (`a.b` is
`inputs.a.b`), each type takes only its own properties, and `defaults` and bounds must be valid
values of the type (:mod:`engine.flow.input_coercion`). Turning the values given to a run into
typed inputs is :func:`engine.flow.input_values.resolve_inputs`; its :class:`InputError` lives
here, beside :class:`InputDefinition`, as the two input types callers hold.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.flow.input_coercion import (
    InvalidValue,
    as_text,
    bool_option,
    convert,
    has_template,
    keep_path,
    option_values,
    typed_value,
)

__all__ = [
    "INPUT_TYPES",
    "InputDefinition",
    "InputError",
    "parse_input_definitions",
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

    def __init__(self, input_id: str, message: str, problems: tuple[InputError, ...] = ()) -> None:
        super().__init__(message)
        self.input_id = input_id
        self.message = message
        self.problems = problems or (self,)
        """Every bad input when several are told at once (the first is `input_id`)."""

    @classmethod
    def of_all(cls, problems: list[InputError]) -> InputError:
        """One error for every missing and invalid input, so a user fixes them in one go."""
        if len(problems) == 1:
            return problems[0]
        listed = "; ".join(problem.message for problem in problems)
        return cls(problems[0].input_id, f"{len(problems)} inputs need a value or a fix: {listed}",
                   tuple(problems))


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
        bad_id = (f"input id '{shown}' is invalid: it must start with a letter or digit and "
                  f"contain only letters, digits, '.', '_' and '-'")
        return None, [bad_id, *_type_problems(f"input '{shown}'", item.get("type"))]  # Kestra reports both
    label = f"input '{input_id}'"
    raw_type = item.get("type")
    if type_problems := _type_problems(label, raw_type):
        return None, type_problems
    type_name = str(raw_type)

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

    required = bool_option(item.get("required"), True)
    if required is None:
        problems.append(f"{label}: 'required' must be true or false")
        required = True
    texts: dict[str, str | None] = {}
    for key in ("description", "displayName"):
        value = item.get(key)
        if isinstance(value, Mapping | list):
            problems.append(f"{label}: '{key}' must be text")
        texts[key] = None if value is None else as_text(value)  # Jackson reads scalars as text

    options = {k: v for k, v in item.items()
               if k not in ("id", "name", "type", "description", "displayName", "required",
                            "defaults")}
    problems.extend(f"{label}: {p}" for p in _check_options(type_name, options))
    defaults = item.get("defaults")
    if defaults is not None and type_name == "FILE":  # Kestra's FileInputValidator
        problems.append(f"{label}: no `defaults` can be set for inputs of type 'FILE'; "
                        "give the file when the flow runs")
    if defaults is not None and options.get("prefill") is not None:
        problems.append(f"{label}: an input with 'defaults' cannot also have a 'prefill'")
    if (defaults is None and type_name == "SELECT" and bool_option(options.get("autoSelectFirst"), False)
            and isinstance(options.get("values"), list) and options["values"]):
        defaults = option_values(options["values"])[0]  # SelectInput.getDefaults()
    definition = InputDefinition(
        id=input_id, type=type_name, required=required, defaults=defaults,
        description=texts["description"], display_name=texts["displayName"], options=options,
    )
    if not problems and defaults is not None and not has_template(defaults) and type_name != "FILE":
        try:
            typed_value(type_name, defaults, input_id, options, keep_path)
        except InvalidValue as bad:
            problems.append(f"{label}: its defaults value is invalid: {bad}")
    return definition, problems


# Names from other languages that spelling alone would map to the wrong type (NUMBER -> ENUM).
_TYPE_SYNONYMS = {"NUMBER": ["INT", "FLOAT"], "DECIMAL": ["FLOAT"], "DOUBLE": ["FLOAT"], "LONG": ["INT"],
                  "TEXT": ["STRING"], "LIST": ["ARRAY"], "OBJECT": ["JSON"], "MAP": ["JSON"]}


def _type_problems(label: str, raw_type: Any) -> list[str]:
    """What is wrong with an input's `type`, if anything: missing or not one of INPUT_TYPES."""
    if raw_type is None:
        return [f"{label} has no 'type'; one of {', '.join(INPUT_TYPES)}"]
    if str(raw_type) not in INPUT_TYPES:
        return [f"{label}: {_unknown_type(str(raw_type))}"]
    return []


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
        if key in options and bool_option(options[key], False) is None:
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
                convert(type_name, options[key], "", {}, keep_path)
            except InvalidValue as bad:
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
