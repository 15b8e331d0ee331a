"""Kestra's KV tasks: Set, Get, GetKeys and Delete on a namespace's key-value store.

The store itself (typed values, ttl, key rules) is `engine.store.kv_store`, reached through
`TaskContext.kv_store`; these classes render their properties, call it, and turn its errors
into task failures worded as Kestra words them. `namespace` defaults to the flow's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.store.kv_store import KEY_PATTERN, KvError, KvType, typed_value, validate_key
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

_TEMPLATE_MARKS = ("{{", "{%")


def _literal(value: Any) -> bool:
    return isinstance(value, str) and not any(mark in value for mark in _TEMPLATE_MARKS)


def _key_problems(key: Any) -> list[tuple[str | Position, str]]:
    """A literal key checked at load time with Kestra's rule, so the mistake shows before a run."""
    if _literal(key) and not KEY_PATTERN.fullmatch(key):
        try:
            validate_key(key)
        except KvError as exc:
            return [("key", exc.message)]
    return []


@dataclass(kw_only=True, eq=False)
class _KvTask(Task):
    """What the four KV tasks share: the key's namespace, rendered, the flow's by default."""

    namespace: Any = prop(None, kind=Kind.STRING)

    def target_namespace(self, ctx: TaskContext[Task]) -> str:
        if self.namespace is None:
            return ctx.flow.namespace
        rendered = ctx.render_str(self.namespace, "namespace").strip()
        if not rendered:
            raise TaskFailure(f"task '{self.id}' property 'namespace' rendered empty: give a namespace "
                              "or leave it out for the flow's")
        return rendered

    def rendered_key(self, ctx: TaskContext[Task], key: Any) -> str:
        rendered = ctx.render_str(key, "key")
        try:
            validate_key(rendered)
        except KvError as exc:
            raise TaskFailure(f"task '{self.id}' property 'key' ('{rendered}'): {exc.message}") from None
        return rendered


def _as_text(value: Any) -> Any:
    """Kestra's `value` is a string property: a YAML number or boolean arrives as its text
    (kvType then says what it is); a map or a list, which Kestra would refuse, is kept as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


def _missing(key: str, namespace: str) -> TaskFailure:
    return TaskFailure(f"No value found for key '{key}' in namespace '{namespace}' and `errorOnMissing` "
                       "is set to true")


@register
@dataclass(kw_only=True, eq=False)
class KvSet(_KvTask):
    """Stores a value under a key, typed (kvType), with an optional ttl; overwrite=false protects it."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.kv.Set",)

    key: Any = prop(kind=Kind.STRING, required=True)
    value: Any = prop(kind=Kind.ANY, required=True)
    overwrite: Any = prop(True, kind=Kind.BOOL)
    ttl: Any = prop(None, kind=Kind.DURATION)
    kv_type: Any = prop(None, kind=Kind.STRING)
    kv_description: Any = prop(None, kind=Kind.STRING)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = _key_problems(self.key)
        if _literal(self.kv_type):
            try:
                KvType.parse(self.kv_type)
            except KvError as exc:
                problems.append(("kvType", exc.message))
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = self.target_namespace(ctx)
        key = self.rendered_key(ctx, self.key)
        value = ctx.render_typed(_as_text(self.value), "value")
        kv_type = None
        if self.kv_type is not None:
            try:
                kv_type = KvType.parse(ctx.render_str(self.kv_type, "kvType"))
            except KvError as exc:
                raise TaskFailure(f"task '{self.id}' property 'kvType': {exc.message}") from None
            try:
                typed_value(value, kv_type)
            except KvError as exc:
                raise TaskFailure(f"task '{self.id}' property 'value' (kvType {kv_type.value}): "
                                  f"{exc.message}") from None
        ttl = ctx.render_duration(self.ttl, "ttl")
        if ttl is not None and ttl < timedelta(0):
            raise TaskFailure(f"task '{self.id}' property 'ttl': ttl cannot be negative")
        description = ctx.render_optional_str(self.kv_description, "kvDescription")
        try:
            ctx.kv_store.put(namespace, key, value, kv_type=kv_type, ttl=ttl,
                             overwrite=ctx.render_bool(self.overwrite, "overwrite"), description=description)
        except KvError as exc:  # overwrite: false on an existing key, in Kestra's words
            raise TaskFailure(exc.message) from None
        ctx.debug(f"KV '{key}' set in namespace '{namespace}'")
        return {}


@register
@dataclass(kw_only=True, eq=False)
class KvGet(_KvTask):
    """Reads a key's value (`outputs.<id>.value`, typed as stored); None when missing unless errorOnMissing."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.kv.Get",)

    key: Any = prop(kind=Kind.STRING, required=True)
    error_on_missing: Any = prop(False, kind=Kind.BOOL)

    def validate(self) -> list[tuple[str | Position, str]]:
        return _key_problems(self.key)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = self.target_namespace(ctx)
        key = self.rendered_key(ctx, self.key)
        entry = ctx.kv_store.get(namespace, key)
        if entry is None and ctx.render_bool(self.error_on_missing, "errorOnMissing"):
            raise _missing(key, namespace)
        return {"value": None if entry is None else entry.value}


@register
@dataclass(kw_only=True, eq=False)
class KvGetKeys(_KvTask):
    """Lists a namespace's live keys (`outputs.<id>.keys`), those starting with `prefix` if given."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.kv.GetKeys",)

    prefix: Any = prop(None, kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = self.target_namespace(ctx)
        prefix = ctx.render_optional_str(self.prefix, "prefix")
        return {"keys": [entry.key for entry in ctx.kv_store.entries(namespace, prefix=prefix)]}


@register
@dataclass(kw_only=True, eq=False)
class KvDelete(_KvTask):
    """Deletes a key (`outputs.<id>.deleted` says whether it was there); errorOnMissing fails instead."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.kv.Delete",)

    key: Any = prop(kind=Kind.STRING, required=True)
    error_on_missing: Any = prop(False, kind=Kind.BOOL)

    def validate(self) -> list[tuple[str | Position, str]]:
        return _key_problems(self.key)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = self.target_namespace(ctx)
        key = self.rendered_key(ctx, self.key)
        deleted = ctx.kv_store.delete(namespace, key)
        if not deleted and ctx.render_bool(self.error_on_missing, "errorOnMissing"):
            raise _missing(key, namespace)
        return {"deleted": deleted}
