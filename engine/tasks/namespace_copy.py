"""Copying namespace files into a working directory, with Kestra's namespaceFiles options."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from engine.core.errors import TaskFailure
from engine.store.files.namespace_filter import NamespaceFileFilter, list_namespace_files
from engine.store.files.safe_paths import UnsafePathError, safe_join
from engine.tasks.base import Task
from engine.tasks.context import TaskContext

IF_EXISTS = ("OVERWRITE", "FAIL", "WARN", "IGNORE")


def copy_namespace_files(ctx: TaskContext[Task], directory: Path, raw: Any, prop: str = "namespaceFiles") -> int:
    """Copy the configured namespaces' files; returns how many were copied."""
    if raw is None:
        return 0
    config = ctx.render_map(raw, prop)
    if not _enabled(config.get("enabled", True)):
        return 0
    file_filter = NamespaceFileFilter(
        include=tuple(str(p) for p in _as_list(config.get("include"))),
        exclude=tuple(str(p) for p in _as_list(config.get("exclude"))),
    )
    namespaces = [str(n) for n in _as_list(config.get("namespaces"))] or [ctx.flow.namespace]
    per_namespace = _enabled(config.get("folderPerNamespace", False))
    if_exists = str(config.get("ifExists", "OVERWRITE")).upper()
    if if_exists not in IF_EXISTS:
        raise TaskFailure(f"property '{prop}.ifExists' must be one of {', '.join(IF_EXISTS)}")
    copied = 0
    for namespace in namespaces:
        root = ctx.namespace_dir(namespace)
        if root is None or not root.is_dir():
            ctx.warn(f"namespace '{namespace}' has no files folder: looked for "
                     f"--namespace-files {namespace}=DIR, roost.toml [namespaces] and "
                     f"namespaces/{namespace}/ beside the flow")
            continue
        target_root = directory / namespace if per_namespace else directory
        for relative in list_namespace_files(root, file_filter):
            try:
                target = safe_join(target_root, relative)
                source = safe_join(root, relative)
            except UnsafePathError as exc:
                raise TaskFailure(f"namespace file '{relative}': {exc}") from None
            if target.exists():
                if if_exists == "FAIL":
                    raise TaskFailure(f"namespace file '{relative}' already exists in the working directory (ifExists: FAIL)")
                if if_exists == "IGNORE":
                    continue
                if if_exists == "WARN":
                    ctx.warn(f"namespace file '{relative}' already exists; overwriting")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied += 1
    ctx.debug(f"copied {copied} namespace file(s) from {', '.join(namespaces)}")
    return copied


def _enabled(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
