"""Typed input values for one run: what was given (or the defaults), checked and nested.

Kestra's `FlowInputOutput.readExecutionInputs`: every declared input gets a value (given,
default, rendered default, or None when optional), typed by :mod:`engine.flow.input_coercion`,
and ids with dots come back nested. Apart from :mod:`engine.flow.inputs` because it runs at
execution time with a run's storage and renderer, where the definitions were checked at load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.flow.input_coercion import InvalidValue, StoreFile, has_template, quoted, typed_value
from engine.flow.inputs import InputDefinition, InputError

__all__ = ["resolve_inputs"]


def resolve_inputs(
    definitions: list[InputDefinition],
    provided: Mapping[str, Any],
    *,
    store_file: StoreFile,
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
                raise InputError(definition.id,
                                 f"input '{definition.id}' is required and has no default")
            values[definition.id] = None
            continue
        try:
            values[definition.id] = typed_value(
                definition.type, value, definition.id, definition.options, store_file
            )
        except InvalidValue as bad:
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
