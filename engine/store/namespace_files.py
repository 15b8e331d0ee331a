"""Where a namespace's files live locally, and safe access to them.

Kestra keeps namespace files on the server; Roost reads them from a folder:
`--namespace-files NS=DIR`, then roost.toml's [namespaces], then the first
`namespaces/<namespace>/` found in the flow's folder or one of its parents.
Callers pass those two mappings and the flow's path as plain values: the store
knows nothing of executions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def namespace_dir(namespace: str, flow_path: str, *, explicit: Mapping[str, Path],
                  configured: Mapping[str, Path]) -> Path | None:
    """The local folder of a namespace's files, or None when it has none.

    ``explicit`` are the run's `--namespace-files` folders, ``configured`` roost.toml's.
    """
    chosen = explicit.get(namespace)
    if chosen is None:
        chosen = configured.get(namespace)
    if chosen is not None:
        return Path(chosen)
    start = Path(flow_path).absolute().parent if flow_path else Path.cwd()
    for folder in (start, *start.parents):
        candidate = folder / "namespaces" / namespace
        if candidate.is_dir():
            return candidate
    return None


def namespace_file_path(namespace: str, flow_path: str, relative: str, *,
                        explicit: Mapping[str, Path], configured: Mapping[str, Path]) -> Path:
    """A file of ``namespace``'s folder, never outside it (raises FileNotFoundError, UnsafePathError)."""
    from engine.store.files.safe_paths import safe_join

    root = namespace_dir(namespace, flow_path, explicit=explicit, configured=configured)
    if root is None:
        raise FileNotFoundError(f"namespace '{namespace}' has no files folder "
                                f"(create namespaces/{namespace}/ beside the flow)")
    return safe_join(root, relative.lstrip("/"))
