"""inputFiles in, outputFiles out: the file traffic between a working directory and storage.

Shared by WorkingDirectory, LocalFiles and the script tasks, which Kestra gives
the same semantics: keys and values are templates; a `kestra://` value is copied
from internal storage, anything else is written verbatim; captured files are
moved into storage (they leave the directory).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from engine.core.errors import TaskFailure
from engine.store.files.java_glob import match_output_files
from engine.store.files.safe_paths import UnsafePathError, safe_join
from engine.tasks.base import Task
from engine.tasks.context import TaskContext


def render_input_files(ctx: TaskContext[Task], raw: Any, prop: str) -> dict[str, str]:
    """The rendered name -> content/URI map; a string must render to a JSON object."""
    if raw is None:
        return {}
    rendered = ctx.render(raw, prop)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered)
        except json.JSONDecodeError as exc:
            raise TaskFailure(f"property '{prop}' must be a map of file names to contents, "
                              f"or a string rendering to a JSON object ({exc.msg})") from None
    if not isinstance(rendered, dict):
        raise TaskFailure(f"property '{prop}' must be a map of file names to contents")
    return {str(name): _content_text(value) for name, value in rendered.items()}


def _content_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_input_files(ctx: TaskContext[Task], directory: Path, files: dict[str, str], prop: str) -> list[Path]:
    """Write each file into `directory`; names that would escape it are refused."""
    written = []
    for name, content in files.items():
        try:
            target = safe_join(directory, name)
        except UnsafePathError as exc:
            raise TaskFailure(f"property '{prop}': {exc}") from None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.is_dir():
                raise TaskFailure(f"property '{prop}': '{name}' exists and is not a regular file")
            if ctx.storage.is_uri(content.strip()):
                source = ctx.storage_path(content.strip())
                shutil.copyfile(source, target)
            else:
                target.write_text(content, encoding="utf-8")
        except OSError as exc:  # a file where a folder is needed, a full disk...
            raise TaskFailure(f"property '{prop}': cannot write '{name}': "
                              f"{exc.strerror or exc}") from None
        written.append(target)
    if written:
        ctx.debug(f"wrote {len(written)} input file(s): {', '.join(sorted(files))}")
    return written


def capture_output_files(ctx: TaskContext[Task], directory: Path, patterns: list[str],
                         *, base: Path | None = None) -> dict[str, str]:
    """Move every file matching the Java-glob patterns into storage; name (relative path) -> URI."""
    if not patterns or not directory.is_dir():
        return {}
    captured: dict[str, str] = {}
    for path in match_output_files(directory, patterns):
        name = path.relative_to(base or directory).as_posix()
        captured[name] = ctx.store_output_file(name, path, move=True)
    if captured:
        ctx.info(f"captured {len(captured)} output file(s): {', '.join(captured)}")
    return captured


def render_patterns(ctx: TaskContext[Task], raw: Any, prop: str) -> list[str]:
    return [str(p) for p in ctx.render_list(raw, prop)] if raw is not None else []
