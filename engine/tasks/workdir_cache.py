"""WorkingDirectory `cache`: files matching `patterns` kept between executions for `ttl`.

Kestra uses it for dependency folders (node_modules, venvs): the first run
fills them, later runs start with them restored. One tar per flow task.
"""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path
from typing import Any

from engine.core.durations import DurationError, parse_duration
from engine.core.errors import TaskFailure
from engine.store.files.java_glob import match_output_files
from engine.tasks.base import Task
from engine.tasks.context import TaskContext


def _cache_paths(ctx: TaskContext[Task]) -> tuple[Path, Path]:
    folder = ctx.home.cache / "workdirs" / f"{ctx.flow.namespace}.{ctx.flow.id}"
    return folder / f"{ctx.task.id}.tar", folder / f"{ctx.task.id}.json"


def _ttl_seconds(config: dict[str, Any]) -> float | None:
    ttl = config.get("ttl")
    if ttl is None:
        return None
    try:
        return parse_duration(str(ttl)).total_seconds()
    except DurationError as exc:
        raise TaskFailure(f"cache.ttl: {exc}") from None


def restore_cache(ctx: TaskContext[Task], directory: Path, config: dict[str, Any]) -> int:
    archive, meta = _cache_paths(ctx)
    if not archive.is_file() or not meta.is_file():
        ctx.debug("no cache to restore yet")
        return 0
    created = json.loads(meta.read_text()).get("created", 0)
    ttl = _ttl_seconds(config)
    if ttl is not None and time.time() - created > ttl:
        ctx.info("cache expired (ttl); starting without it")
        archive.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        return 0
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        tar.extractall(directory, members=members, filter="data")
    ctx.info(f"restored {len(members)} cached file(s)")
    return len(members)


def save_cache(ctx: TaskContext[Task], directory: Path, config: dict[str, Any]) -> int:
    patterns = [str(p) for p in config.get("patterns", [])]
    files = match_output_files(directory, patterns)
    archive, meta = _cache_paths(ctx)
    archive.parent.mkdir(parents=True, exist_ok=True)
    if archive.is_file() and meta.is_file():
        ttl = _ttl_seconds(config)
        created = json.loads(meta.read_text()).get("created", 0)
        if ttl is None or time.time() - created <= ttl:
            return 0  # still fresh: keep the original creation time, as Kestra does
    partial = archive.with_suffix(".partial")
    try:
        with tarfile.open(partial, "w") as tar:
            for path in files:
                tar.add(path, arcname=path.relative_to(directory).as_posix())
        partial.replace(archive)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise TaskFailure(f"cannot write the cache: {exc.strerror or exc}") from None
    meta.write_text(json.dumps({"created": time.time(), "files": len(files)}))
    ctx.info(f"cached {len(files)} file(s) matching {', '.join(patterns)}")
    return len(files)
