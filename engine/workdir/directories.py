"""Working directories under ROOST_HOME/workdirs: created per run, the last one kept per flow.

Kestra deletes a working directory when its task ends. Roost keeps the most
recent execution's directories of each flow so a user can open them after the
run (or while paused), and prunes older executions' ones; `--keep-workdir`
keeps everything, `--clean-workdir` keeps nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ACTIVE_MARKER = ".roost-active"


def flow_folder(root: Path, namespace: str, flow_id: str) -> Path:
    return root / f"{namespace}.{flow_id}"


def create_workdir(root: Path, namespace: str, flow_id: str, execution_id: str, task_id: str) -> Path:
    """A fresh directory for one task run, marked active with this process's pid."""
    folder = flow_folder(root, namespace, flow_id) / execution_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ACTIVE_MARKER).write_text(str(os.getpid()))
    # ForEach and Parallel branches create theirs at the same moment: mkdir decides who gets a name.
    suffix = 1
    while True:
        path = folder / (task_id if suffix == 1 else f"{task_id}-{suffix}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            suffix += 1


def directory_size(path: Path) -> tuple[int, int]:
    """(file count, total bytes) without following symlinks."""
    files = size = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            try:
                size += os.lstat(os.path.join(dirpath, name)).st_size
                files += 1
            except OSError:
                pass
    return files, size


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _alive(marker: Path) -> bool:
    try:
        pid = int(marker.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def finish_execution(root: Path, namespace: str, flow_id: str, execution_id: str,
                     keep: bool | None) -> Path | None:
    """Apply the keep policy at the end of an execution; returns the kept folder, if any."""
    folder = flow_folder(root, namespace, flow_id)
    current = folder / execution_id
    (current / ACTIVE_MARKER).unlink(missing_ok=True)
    if keep is False:
        shutil.rmtree(current, ignore_errors=True)
        return None
    if keep is None and folder.is_dir():
        for other in folder.iterdir():
            if other.name == execution_id or not other.is_dir():
                continue
            if (other / ACTIVE_MARKER).exists() and _alive(other / ACTIVE_MARKER):
                continue
            shutil.rmtree(other, ignore_errors=True)
    return current if current.is_dir() else None
