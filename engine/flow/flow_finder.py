"""Finding a flow by namespace + id among flow files, for Subflow and ForEachItem.

Kestra looks a subflow up in its flow repository; Roost's repository is the folders a
project keeps its flows in: the calling flow's own folder first, then the folders the run
was given (the workbench's PATH), then the folder of roost.toml. Each folder is searched
with its subfolders, as `roost validate DIR` does, and the first file declaring that
namespace and id wins. Flows are parsed once per finder; most files are skipped by a text
test before any parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.core.config import RoostConfig
from engine.core.errors import InvalidFlowError
from engine.flow.loader import discover_flow_files, load_flow
from engine.flow.model import Flow
from engine.flow.subflow_graph import recursion_errors, static_calls

_ID = re.compile(r"^id[ \t]*:[ \t]*['\"]?([^'\"\s#]+)", re.MULTILINE)
_NAMESPACE = re.compile(r"^namespace[ \t]*:[ \t]*['\"]?([^'\"\s#]+)", re.MULTILINE)


def flow_roots(flow_path: str, config: RoostConfig, extra: Sequence[Path] = ()) -> list[Path]:
    """Where a flow's subflows are looked for, in order, without repeats."""
    candidates: list[Path] = []
    if flow_path and not flow_path.startswith("<"):
        candidates.append(Path(flow_path).absolute().parent)
    candidates.extend(Path(p).absolute() for p in extra)
    if config.path is not None:
        candidates.append(config.path.absolute().parent)
    roots: list[Path] = []
    for candidate in candidates:
        if candidate not in roots:
            roots.append(candidate)
    return roots


class FlowFinder:
    """Flows by (namespace, id) under some folders; remembers what it found."""

    def __init__(self, roots: Sequence[Path], plugin_defaults: Iterable[Mapping[str, Any]] = ()) -> None:
        self.roots = list(roots)
        self._defaults = list(plugin_defaults)
        self._found: dict[tuple[str, str], Flow | None] = {}
        self._declared: dict[Path, tuple[str, str] | None] | None = None

    @classmethod
    def for_flow(cls, flow: Flow, config: RoostConfig, extra: Sequence[Path] = ()) -> FlowFinder:
        return cls(flow_roots(flow.path, config, extra), config.plugin_defaults)

    def describe_roots(self) -> str:
        return ", ".join(str(root) for root in self.roots) or "no folder (the flow has no file)"

    def find(self, namespace: str, flow_id: str) -> Flow | None:
        """The flow, or None when no file declares it; InvalidFlowError when that file is invalid."""
        key = (namespace, flow_id)
        if key not in self._found:
            self._found[key] = self._load(key)
        return self._found[key]

    def _load(self, key: tuple[str, str]) -> Flow | None:
        for path, declared in self._declarations().items():
            if declared != key:
                continue
            flow = load_flow(path, self._defaults)   # its own mistakes are what the caller reports
            if (flow.namespace, flow.id) == key:
                return flow
        return None

    def _declarations(self) -> dict[Path, tuple[str, str] | None]:
        """Each flow file's top-level (namespace, id), read from its text without parsing it."""
        if self._declared is None:
            declared: dict[Path, tuple[str, str] | None] = {}
            for root in self.roots:
                for path in discover_flow_files(root) if root.is_dir() else []:
                    resolved = path.resolve()
                    if resolved not in declared:
                        declared[resolved] = _declared_key(resolved)
            self._declared = declared
        return self._declared


def _declared_key(path: Path) -> tuple[str, str] | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    flow_id, namespace = _ID.search(text), _NAMESPACE.search(text)
    if flow_id is None or namespace is None:
        return None
    return namespace.group(1), flow_id.group(1)



def check_subflow_calls(flow: Flow, config: RoostConfig, extra: Sequence[Path] = ()) -> list[str]:
    """`roost validate` and `roost run`: raise InvalidFlowError for a recursive chain of subflow
    calls; the warnings name called flows that are not found (yet)."""
    if next(static_calls(flow), None) is None:
        return []   # no Subflow, nothing to search for
    errors, warnings = recursion_errors(flow, FlowFinder.for_flow(flow, config, extra))
    if errors:
        raise InvalidFlowError(errors)
    return warnings
