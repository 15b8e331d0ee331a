"""Kestra's pluginDefaults: default property values per task or trigger type.

They come from the flow's `pluginDefaults` and from `roost.toml` (what a Kestra
server's configuration provides), so a flow can be pointed at local services
without editing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.core.yaml_source import YamlMap


def _type_matches(default_type: str, task_type: str) -> bool:
    return task_type == default_type or task_type.startswith(default_type.rstrip(".") + ".")


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_plugin_defaults(raw: YamlMap, defaults: Iterable[Mapping[str, Any]]) -> YamlMap:
    """The task (or trigger) map with matching defaults filled in; `forced` ones win over the task."""
    task_type = raw.get("type")
    if not isinstance(task_type, str):
        return raw
    values: dict[str, Any] = {}
    forced: dict[str, Any] = {}
    for default in defaults:
        default_type = default.get("type")
        default_values = default.get("values")
        if not isinstance(default_type, str) or not isinstance(default_values, Mapping):
            continue
        if not _type_matches(default_type, task_type):
            continue
        target = forced if default.get("forced") else values
        target.update(_deep_merge(target, default_values))
    if not values and not forced:
        return raw
    merged = _deep_merge(_deep_merge(values, raw), forced)
    result = YamlMap(merged)
    result.position = raw.position
    result.key_positions = dict(raw.key_positions)
    result.value_positions = dict(raw.value_positions)
    for key in merged:
        result.key_positions.setdefault(key, raw.position)
        result.value_positions.setdefault(key, raw.position)
    return result
