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
    "engine.tasks.flow_control",
    "engine.tasks.dag",
    "engine.tasks.subflow",
    "engine.tasks.foreach_item",
    "engine.tasks.execution_tasks",
    "engine.tasks.log_tasks",
    "engine.tasks.kv",
    "engine.tasks.state_store",
    "engine.tasks.storage_tasks",
    "engine.tasks.storage_items",
    "engine.tasks.namespace_files",
    "engine.tasks.http",
    "engine.tasks.trigger_toggle",
    "engine.tasks.templated",
    "engine.tasks.plugins.aws_s3",
    "engine.tasks.plugins.aws_s3_listing",
    "engine.tasks.plugins.docker_build",
    "engine.tasks.plugins.cli_tools",
    "engine.tasks.plugins.serdes_csv",
    "engine.tasks.plugins.serdes_json",
    "engine.tasks.plugins.serdes_avro",
    "engine.tasks.plugins.serdes_parquet",
    "engine.tasks.plugins.serdes_excel",
    "engine.tasks.plugins.serdes_xml",
    "engine.tasks.plugins.notifications",
    "engine.tasks.plugins.notifications_execution",
    "engine.tasks.plugins.email",
    "engine.tasks.plugins.jdbc_duckdb",
    "engine.tasks.plugins.jdbc_sqlite",
    "engine.tasks.plugins.jdbc_postgres",
    "engine.tasks.plugins.jdbc_postgres_copy",
)
_loaded = False


def register(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task class reachable by every name in its TYPES."""
    for name in cls.TYPES:
        if name in _TYPES and _TYPES[name] is not cls:
            raise ValueError(f"task type {name} registered twice")
        _TYPES[name] = cls
    return cls


def _import_builtin(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise


def load_all() -> None:
    """Import every builtin task module (tests and tools that walk all classes)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        _import_builtin(module)


def scan_builtins() -> dict[str, tuple[str, str]]:
    """Every registered name -> (module, current name): what scripts/write_type_index.py writes."""
    load_all()
    return {name: (cls.__module__, cls.TYPES[0]) for name, cls in _TYPES.items()}


def lookup(type_name: str) -> type[Task] | None:
    """The class for a type name, importing only the module that defines it."""
    found = _TYPES.get(type_name)
    if found is not None:
        return found
    from engine.tasks.type_index import TYPE_INDEX

    entry = TYPE_INDEX.get(type_name)
    if entry is not None:
        _import_builtin(entry[0])
    return _TYPES.get(type_name)


def known_type_names() -> list[str]:
    from engine.tasks.type_index import TYPE_INDEX

    return sorted(set(TYPE_INDEX) | set(_TYPES))


def canonical_name(type_name: str) -> str:
    """A known type's current Kestra name (an alias gives the name it stands for)."""
    registered = _TYPES.get(type_name)
    if registered is not None and registered.TYPES:
        return registered.TYPES[0]
    from engine.tasks.type_index import TYPE_INDEX

    entry = TYPE_INDEX.get(type_name)
    return entry[1] if entry is not None else type_name


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
    if close:  # a near-exact match (a typo) hides the merely similar names behind it
        ratios = {n: difflib.SequenceMatcher(None, type_name, n).ratio() for n in close}
        best = max(ratios.values())
        if best >= 0.9:
            close = [n for n in close if ratios[n] >= best - 0.05]
    canonical: list[str] = []
    for name in close:  # one name per class: its current Kestra name, not a legacy alias
        primary = canonical_name(name)
        if primary not in canonical:
            canonical.append(primary)
    return canonical[:limit]
