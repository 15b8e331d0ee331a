"""Declaring task properties: a dataclass field plus what the validator needs to know.

Properties are declared in snake_case and read from YAML in Kestra's camelCase
(`run_if` <- `runIf`, `finally_` <- `finally`) so a task class reads like its
Kestra counterpart while staying idiomatic Python.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from enum import Enum
from typing import Any


class Kind(Enum):
    """The YAML shape a property accepts before rendering."""

    ANY = "any value"
    STRING = "a string"
    INT = "an integer"
    NUMBER = "a number"
    BOOL = "a boolean"
    DURATION = "an ISO-8601 duration such as PT30S"
    LIST = "a list"
    MAP = "a map"
    TASKS = "a list of tasks"
    TASK = "a task"
    STRING_LIST = "a list of strings"
    LIST_OR_STRING = "a list or a string"
    MAP_OR_STRING = "a map or a string"
    MAP_OF_TASKS = "a map of task lists"
    DEPENDENT_TASKS = "a list of {task, dependsOn} items"


@dataclass(frozen=True)
class PropSpec:
    """What the loader checks for one property."""

    yaml_name: str
    kind: Kind
    required: bool
    dynamic: bool
    deprecated: str | None = None


def camel_case(name: str) -> str:
    """`before_commands` -> `beforeCommands`; a trailing underscore (`finally_`) is dropped."""
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def prop(
    default: Any = None,
    *,
    kind: Kind = Kind.ANY,
    required: bool = False,
    dynamic: bool = True,
    name: str | None = None,
    factory: Any = MISSING,
    deprecated: str | None = None,
) -> Any:
    """A task property; `dynamic` ones may hold Pebble templates, so their kind is checked only when literal."""
    metadata = {
        "roost": {
            "kind": kind,
            "required": required,
            "dynamic": dynamic,
            "name": name,
            "deprecated": deprecated,
        }
    }
    if factory is not MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


_SPECS: dict[type, dict[str, tuple[str, PropSpec]]] = {}


def property_specs(cls: type) -> dict[str, tuple[str, PropSpec]]:
    """YAML name -> (python attribute, spec) for every declared property of a task class;
    worked out once per class (a flow loads many tasks of the same few types). Read-only."""
    specs = _SPECS.get(cls)
    if specs is None:
        specs = _SPECS[cls] = _property_specs(cls)
    return specs


def _property_specs(cls: type) -> dict[str, tuple[str, PropSpec]]:
    specs: dict[str, tuple[str, PropSpec]] = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("roost")
        if meta is None:
            continue
        yaml_name = meta["name"] or camel_case(f.name)
        specs[yaml_name] = (
            f.name,
            PropSpec(yaml_name, meta["kind"], meta["required"], meta["dynamic"], meta["deprecated"]),
        )
    return specs
