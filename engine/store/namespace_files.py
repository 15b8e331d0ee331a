"""Where a namespace's files live locally, and safe access to them.

Kestra keeps namespace files on the server; Roost reads them from a folder:
`--namespace-files NS=DIR`, then roost.toml's [namespaces], then the first
`namespaces/<namespace>/` found in the flow's folder or one of its parents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class _RunLike(Protocol):
    flow: Any
    runtime: Any
    options: Any


def namespace_dir(namespace: str, flow_path: str, runtime: Any, options: Any) -> Path | None:
    """The local folder of a namespace's files, or None when it has none."""
    explicit = getattr(options, "namespace_dirs", {}).get(namespace)
    if explicit is not None:
        return Path(explicit)
    configured = runtime.config.namespace_dirs.get(namespace)
    if configured is not None:
        return Path(configured)
    start = Path(flow_path).absolute().parent if flow_path else Path.cwd()
    for folder in (start, *start.parents):
        candidate = folder / "namespaces" / namespace
        if candidate.is_dir():
            return candidate
    return None


def namespace_file_path(run: _RunLike, relative: str) -> Path:
    """A namespace file of the running flow's namespace, never outside its folder."""
    from engine.store.files.safe_paths import safe_join

    root = namespace_dir(run.flow.namespace, run.flow.path, run.runtime, run.options)
    if root is None:
        raise FileNotFoundError(f"namespace '{run.flow.namespace}' has no files folder "
                                f"(create namespaces/{run.flow.namespace}/ beside the flow)")
    return safe_join(root, relative.lstrip("/"))
