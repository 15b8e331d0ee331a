"""Kestra's legacy state store tasks: state.Set, state.Get and state.Delete.

Since Kestra 0.18 a state is a KV entry of the flow's namespace, a JSON map under the key
`<flow slug>_states_tasks-states_<name>[_<hash of taskrun.value>]` (Kestra's StateStore);
Roost writes the same keys into the same KV store (`engine.store.kv_store`), so `roost kv
list` shows them. A state belongs to its flow (`namespace: true` shares it across the
namespace) and, inside a ForEach, to the iteration (`taskrunValue: false` shares it across
iterations). Set merges `data` into what is there, the way Kestra's MapUtils.merge does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.murmur3 import hash_to_string
from engine.store.kv_store import KvError, KvType, validate_key
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

STATE_NAME = "tasks-states"
"""The state name Kestra's state tasks all use; the task's `name` is its sub-name."""


def slugify(text: str) -> str:
    """Kestra's Slugify.of: what a flow id becomes in a state key."""
    slug = re.sub(r"\s", "-", text)
    slug = unicodedata.normalize("NFD", slug)
    slug = re.sub(r"[^A-Za-z0-9_-]", "", slug).replace("_", "-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug.strip("-").lower()


def state_key(flow_id: str | None, name: str, taskrun_value: str | None) -> str:
    """Kestra's StateStore key for a flow-scoped (flow_id given) or namespace-wide state."""
    key = (f"{slugify(flow_id)}_" if flow_id else "") + f"states_{STATE_NAME}_{name}"
    return key if taskrun_value is None else f"{key}_{hash_to_string(taskrun_value)}"


def merge(current: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Kestra's MapUtils.merge: maps merge deeply, lists concatenate, a null keeps what was there."""
    merged = dict(current)
    for key, value in new.items():
        original = merged.get(key)
        if value is None:
            merged[key] = original
        elif isinstance(value, dict) and isinstance(original, dict):
            merged[key] = merge(original, value)
        elif isinstance(value, list) and isinstance(original, list):
            merged[key] = [*original, *value]
        else:
            merged[key] = value
    return merged


@dataclass(kw_only=True, eq=False)
class _StateTask(Task):
    """Kestra's AbstractState: which state (name, flow or namespace, iteration) a task reads."""

    name: Any = prop("default", kind=Kind.STRING)
    namespace: Any = prop(False, kind=Kind.BOOL)
    taskrun_value: Any = prop(True, kind=Kind.BOOL)

    def rendered_name(self, ctx: TaskContext[Task]) -> str:
        return ctx.render_str(self.name, "name")

    def key(self, ctx: TaskContext[Task]) -> str:
        shared = ctx.render_bool(self.namespace, "namespace")
        value = ctx.task_run.value if ctx.render_bool(self.taskrun_value, "taskrunValue") else None
        key = state_key(None if shared else ctx.flow.id, self.rendered_name(ctx), value)
        try:
            validate_key(key)
        except KvError as exc:
            raise TaskFailure(f"task '{self.id}' property 'name': the state is kept under the KV key "
                              f"'{key}', which is not valid: {exc.message}") from None
        return key

    def current(self, ctx: TaskContext[Task], key: str) -> dict[str, Any] | None:
        entry = ctx.kv_store.get(ctx.flow.namespace, key)
        if entry is None:
            return None
        if not isinstance(entry.value, dict):
            raise TaskFailure(f"task '{self.id}': the KV entry '{key}' of namespace '{ctx.flow.namespace}' "
                              "is not a state (a JSON map); delete it or use another `name`")
        return entry.value


@register
@dataclass(kw_only=True, eq=False)
class StateSet(_StateTask):
    """Merges `data` into the state; outputs its `count` of properties and its KV `key`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.state.Set", "io.kestra.core.tasks.states.Set")

    data: Any = prop(None, kind=Kind.MAP_OR_STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        key = self.key(ctx)
        merged = merge(self.current(ctx, key) or {}, ctx.render_map(self.data, "data"))
        ctx.kv_store.put(ctx.flow.namespace, key, merged, kv_type=KvType.JSON)
        return {"count": len(merged), "key": key}


@register
@dataclass(kw_only=True, eq=False)
class StateGet(_StateTask):
    """Reads the state: `data` and its `count`; empty when missing unless errorOnMissing."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.state.Get", "io.kestra.core.tasks.states.Get")

    error_on_missing: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        key = self.key(ctx)
        data = self.current(ctx, key)
        if data is None:
            if ctx.render_bool(self.error_on_missing, "errorOnMissing"):
                raise TaskFailure(f"State {key} not found")
            data = {}
        return {"count": len(data), "data": data}


@register
@dataclass(kw_only=True, eq=False)
class StateDelete(_StateTask):
    """Deletes the state; `deleted` says whether it was there, errorOnMissing fails instead."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.state.Delete",
                                        "io.kestra.core.tasks.states.Delete")

    error_on_missing: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        deleted = ctx.kv_store.delete(ctx.flow.namespace, self.key(ctx))
        if not deleted and ctx.render_bool(self.error_on_missing, "errorOnMissing"):
            raise TaskFailure(f"Unable to find the state file '{self.rendered_name(ctx)}'")
        return {"deleted": deleted}
