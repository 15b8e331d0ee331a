"""Task types by their Kestra names, legacy aliases included."""

from __future__ import annotations

import difflib
import importlib

from engine.tasks.base import Task

_TYPES: dict[str, type[Task]] = {}
_BUILTIN_MODULES = (
    "engine.tasks.core",
    "engine.tasks.flowable",
    "engine.tasks.working_directory",
    "engine.tasks.scripts",
    "engine.tasks.local_files",
    "engine.tasks.git",
)
_loaded = False


def register(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task class reachable by every name in its TYPES."""
    for name in cls.TYPES:
        if name in _TYPES and _TYPES[name] is not cls:
            raise ValueError(f"task type {name} registered twice")
        _TYPES[name] = cls
    return cls


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def lookup(type_name: str) -> type[Task] | None:
    _load_builtins()
    return _TYPES.get(type_name)


def known_type_names() -> list[str]:
    _load_builtins()
    return sorted(_TYPES)


def suggest(type_name: str, limit: int = 3) -> list[str]:
    """The closest known names; compares the last segment too so `log.Logg` finds `...log.Log`."""
    names = known_type_names()
    short = type_name.rsplit(".", 1)[-1].lower()

    def tail_ratio(name: str) -> float:
        return difflib.SequenceMatcher(None, short, name.rsplit(".", 1)[-1].lower()).ratio()

    # A long shared prefix (`io.kestra.plugin.core.`) makes every name look close: the class
    # name, the last segment, must look close too.
    close = [n for n in difflib.get_close_matches(type_name, names, n=limit * 2, cutoff=0.6)
             if tail_ratio(n) >= 0.5]
    close += sorted((n for n in names if n not in close and tail_ratio(n) > 0.75),
                    key=tail_ratio, reverse=True)
    canonical: list[str] = []
    for name in close:  # one name per class: its current Kestra name, not a legacy alias
        primary = _TYPES[name].TYPES[0]
        if primary not in canonical:
            canonical.append(primary)
    return canonical[:limit]
