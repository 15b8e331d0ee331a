"""Typed input values for one run: what was given (or the defaults), checked and nested.

Kestra's `FlowInputOutput.readExecutionInputs`: every declared input gets a value (given,
default, rendered default, or None when optional), typed by :mod:`engine.flow.input_coercion`,
and ids with dots come back nested. Apart from :mod:`engine.flow.inputs` because it runs at
execution time with a run's storage and renderer, where the definitions were checked at load.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from engine.flow.input_coercion import InvalidValue, StoreFile, has_template, quoted, typed_value
from engine.flow.inputs import InputDefinition, InputError

__all__ = ["resolve_inputs", "unknown_input_message"]


def resolve_inputs(
    definitions: list[InputDefinition],
    provided: Mapping[str, Any],
    *,
    store_file: StoreFile,
    render: Callable[[Any], Any] | None = None,
    on_unknown: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Typed values for every input; raises one InputError naming every bad or missing input.

    `provided` values may be CLI strings or already-typed values (a trigger, a subflow).
    `render`, when given, evaluates defaults written as expressions (`{{ now() }}`).
    Ids with dots come back nested, as in Kestra: `a.b` is `result["a"]["b"]`.
    Values for inputs the flow does not declare are dropped, as Kestra drops them; each one
    is told to `on_unknown` (a WARN line) with the closest declared id, as a typo is likely.
    """
    declared = [d.id for d in definitions]
    for key in provided:
        if key not in declared and on_unknown is not None:
            on_unknown(unknown_input_message(str(key), declared))
    values: dict[str, Any] = {}
    problems: list[InputError] = []  # every missing and invalid input, told at once
    for definition in definitions:
        try:
            values[definition.id] = _value_of(definition, provided.get(definition.id), store_file, render)
        except InputError as problem:
            problems.append(problem)
    if problems:
        raise InputError.of_all(problems)
    return _nest(values)


def _value_of(definition: InputDefinition, value: Any, store_file: StoreFile,
              render: Callable[[Any], Any] | None) -> Any:
    """One input's typed value (its default when none is given); raises InputError."""
    if value is None and definition.has_default:
        value = definition.defaults
        if has_template(value):
            if render is None:
                raise InputError(definition.id, f"input '{definition.id}': its defaults "
                                 f"{quoted(value)} is an expression, which cannot be "
                                 f"evaluated here; pass a value instead")
            try:
                value = render(value)
            except Exception as exc:  # a template error is the flow's mistake, not a crash
                raise InputError(definition.id, f"input '{definition.id}': its defaults "
                                 f"expression failed: {exc}") from None
    if value is None:
        if definition.required:
            raise InputError(definition.id, f"input '{definition.id}' is required and has no default")
        return None
    try:
        return typed_value(definition.type, value, definition.id, definition.options, store_file)
    except InvalidValue as bad:
        raise InputError(definition.id, f"input '{definition.id}': {bad}") from None


def unknown_input_message(key: str, declared: list[str]) -> str:
    """The warning for a value given to an input the flow does not declare."""
    close = difflib.get_close_matches(key, declared, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean '{close[0]}'?"
    else:
        hint = f"the flow declares: {', '.join(declared)}" if declared else "the flow declares no inputs"
    return f"input '{key}' is not declared by the flow and is ignored; {hint}"


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
