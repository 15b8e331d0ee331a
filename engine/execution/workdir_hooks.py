"""Working directories of one execution: creating them, tracking changes, cleaning up.

A task in a shared directory (a WorkingDirectory's) gets a manifest and a snapshot of
the directory before it runs and its changes after, for the Changes pane and for
replay from that task. None of this may fail a task: a tracking problem is a WARN line.
At the end the keep policy applies to the directories and old snapshots are pruned.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.errors import TaskFailure
from engine.execution.run_state import RunState
from engine.execution.runtime import Runtime

if TYPE_CHECKING:
    from engine.workdir.tracking import WorkdirTracker


class WorkdirHooks:
    """The working directories of one execution and the tracker of their changes."""

    def __init__(self, runtime: Runtime, state: RunState, namespace: str, flow_id: str,
                 keep: bool | None) -> None:
        self._runtime = runtime
        self._state = state
        self._namespace = namespace
        self._flow_id = flow_id
        self._keep = keep                      # RunOptions.keep_workdir: None keeps the last run's
        self._created = False
        self._tracker: WorkdirTracker | None = None   # made by the first task in a shared directory
        self._tracker_lock = threading.Lock()

    def create(self, task_id: str, task_run_id: str) -> Path:
        """A new directory under ROOST_HOME/workdirs for a task run; recorded on the task run."""
        from engine.workdir.directories import create_workdir

        self._created = True
        root = self._runtime.home.workdirs
        try:
            path = create_workdir(root, self._namespace, self._flow_id, self._state.execution.id, task_id)
        except OSError as exc:  # a full disk, a read-only ROOST_HOME, a name too long for the disk
            raise TaskFailure(f"cannot create a working directory under {root}: "
                              f"{exc.strerror or exc}") from None
        self._state.update_task_run(task_run_id, working_dir=str(path))
        return path

    def before_task(self, task_run_id: str, task_id: str, directory: Path) -> None:
        self._track(True, task_run_id, task_id, directory)

    def after_task(self, task_run_id: str, task_id: str, directory: Path) -> None:
        self._track(False, task_run_id, task_id, directory)

    def mark_touched(self, directory: Path) -> None:
        """After a pause: someone may have changed the directory from a shell."""
        if self._tracker is not None:
            self._tracker.mark_touched(directory)

    def _track(self, before: bool, task_run_id: str, task_id: str, directory: Path) -> None:
        """Manifest (and snapshot) around a task in a shared directory; never fails the task."""
        try:
            tracker = self._workdir_tracker()
            if before:
                tracker.before(task_run_id, task_id, directory)
            else:
                tracker.after(task_run_id, task_id, directory)
        except Exception as exc:
            self._state.log(task_run_id, task_id, "WARN", f"recording the working directory's changes "
                                                          f"failed: {exc!r}")

    def _workdir_tracker(self) -> WorkdirTracker:
        with self._tracker_lock:
            if self._tracker is None:
                from engine.workdir.tracking import WorkdirTracker

                state = self._state
                self._tracker = WorkdirTracker(self._runtime.home.snapshots, state.execution.id,
                                               self._runtime.config.snapshot_cap_bytes,
                                               state.bus.publish, state.log)
            return self._tracker

    def finish(self) -> None:
        """End of the execution: the keep policy, then old executions' snapshots pruned."""
        if self._tracker is not None:
            try:
                self._tracker.close()  # its watches, before the directories they watch go
            except OSError as exc:
                self._state.log(None, None, "WARN", f"closing the working directory watch failed: {exc}")
        self._finish_workdirs()
        self._prune_snapshots()

    def _finish_workdirs(self) -> None:
        if not self._created:
            return
        from engine.workdir.directories import directory_size, finish_execution, human_size

        log = self._state.log
        try:
            kept = finish_execution(self._runtime.home.workdirs, self._namespace, self._flow_id,
                                    self._state.execution.id, self._keep)
        except OSError as exc:
            log(None, None, "WARN", f"cleaning working directories failed: {exc}")
            return
        if kept is not None:
            files, size = directory_size(kept)
            log(None, None, "INFO", f"working directories kept at {kept} ({files} files, {human_size(size)})")

    def _prune_snapshots(self) -> None:
        if self._tracker is None:
            return
        from engine.workdir.snapshots import prune_snapshots

        root = self._runtime.home.snapshots
        try:
            folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                             reverse=True)
            keep = {p.name for p in folders[:max(self._runtime.config.snapshot_keep_executions, 1)]}
            prune_snapshots(root, keep | {self._state.execution.id})
        except OSError as exc:
            self._state.log(None, None, "WARN", f"pruning old snapshots failed: {exc}")
