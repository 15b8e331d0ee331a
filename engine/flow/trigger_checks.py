"""Trigger definitions checked when a flow loads: type, required and known properties, values.

Called lazily by the flow loader, so `roost validate` and `roost run` report a bad
cron, an unknown property or a MOVE without `moveTo` as file:line:col, before
anything polls. Plugin defaults (the flow's and roost.toml's) are applied first, as a
Kestra server applies them, so a `bucket` or `endpointOverride` given there counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.core.errors import FlowError
from engine.core.yaml_source import YamlMap
from engine.flow.plugin_defaults import apply_plugin_defaults
from engine.triggers.properties import check_properties
from engine.triggers.registry import trigger_class, unknown_type_problem


def flow_plugin_defaults(flow_raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The well-formed entries of a flow's pluginDefaults/taskDefaults (the loader reports the rest)."""
    entries: list[Mapping[str, Any]] = []
    for key in ("pluginDefaults", "taskDefaults"):
        value = flow_raw.get(key)
        if isinstance(value, list):
            entries.extend(item for item in value if isinstance(item, dict)
                           and isinstance(item.get("type"), str) and isinstance(item.get("values"), dict))
    return entries


def trigger_errors(triggers: Iterable[YamlMap], flow_raw: Mapping[str, Any], path: str,
                   extra_defaults: Iterable[Mapping[str, Any]] = ()) -> list[FlowError]:
    """Every problem in the flow's triggers, located in the flow file."""
    defaults = [*flow_plugin_defaults(flow_raw), *extra_defaults]
    errors: list[FlowError] = []
    for raw in triggers:
        label = f"trigger '{raw.get('id')}'"
        type_name = str(raw.get("type"))
        cls = trigger_class(type_name)
        if cls is None:
            problem = unknown_type_problem(type_name)
            if problem:
                position = raw.position_of("type")
                errors.append(FlowError(path, position.line, position.column, f"{label}: {problem}"))
            continue
        merged = apply_plugin_defaults(raw, defaults)

        def report(key: str, message: str, at_key: bool, raw: YamlMap = raw, label: str = label) -> None:
            if key and key in raw:
                position = raw.key_position(key) if at_key else raw.position_of(key)
            else:
                position = raw.position
            errors.append(FlowError(path, position.line, position.column, f"{label}: {message}"))

        check_properties(merged, set(raw), cls.PROPERTIES, report, cls.TYPES[0])
        cls.check(merged, report)
    return errors
