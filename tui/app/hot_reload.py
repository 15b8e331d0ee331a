"""Hot reload: watchfiles watches PATH; saved flow files are re-parsed, the tree follows.

A file that stops validating keeps its last good flow on screen, with the error in the banner
and in Source; new and deleted files come and go; namespace-file changes are announced; with
auto-run on, a saved flow runs again. A valid save also applies to the flow's live executions
(the tasks they have not run yet: a paused one runs the new definition next).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from tui.app.host import report_error
from tui.models.flow_catalog import ReloadKind, ReloadResult, is_flow_file, is_yaml_file
from tui.widgets.banner import ErrorBanner

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.runs import Runs
    from tui.app.selection import Selection
    from tui.app.tests_control import TestsControl
    from tui.app.trigger_control import TriggerControl
    from tui.app.workspace import Workspace

__all__ = ["FlowFilesChanged", "HotReload"]


class FlowFilesChanged(Message):
    """watchfiles saw changes under PATH (posted from the watcher thread). ``catch_up``: the
    watcher has just started, so what changed between the first scan and its start is
    unknown: every flow file is read again (those unchanged are no-ops)."""

    def __init__(self, paths: list[Path], *, catch_up: bool = False) -> None:
        super().__init__()
        self.paths = paths
        self.catch_up = catch_up


class HotReload:
    """Watches PATH in a thread and applies what changed on the UI thread."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection, runs: Runs,
                 triggers: TriggerControl, tests: TestsControl) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._runs = runs
        self._triggers = triggers
        self._tests = tests
        self._stop = threading.Event()
        self.reload_count = 0
        """Hot reloads applied (tests and benchmarks wait on it)."""

    def start_watching(self) -> None:
        catalog = self._workspace.catalog
        if catalog is None:
            return
        self._host.run_worker(partial(self._watch, catalog.folder), name="flow-watcher",
                              group="flow-watch", exit_on_error=False, thread=True)

    def stop_watching(self) -> None:
        self._stop.set()

    def _watch(self, folder: Path) -> None:
        """The watcher thread: one :class:`FlowFilesChanged` per debounced batch of changes."""
        from watchfiles import watch

        session = self._workspace.session
        home = session.home.root if session is not None else None
        catalog = self._workspace.catalog
        root = catalog.root if catalog is not None else folder
        stop = self._stop

        def relevant(_change: Any, name: str) -> bool:
            path = Path(name)
            if home is not None and (path == home or home in path.parents):
                return False
            return is_yaml_file(root, path) or _is_namespace_file(folder, path)

        caught_up = False
        try:
            # yield_on_timeout: the first yield (a batch, or a quiet second) says the watch is
            # set up; a file saved before that, after the first scan, is caught up with then.
            for changes in watch(folder, watch_filter=relevant, stop_event=stop, debounce=400,
                                 step=20, rust_timeout=1000, yield_on_timeout=True,
                                 raise_interrupt=False):
                if stop.is_set():
                    return
                if changes or not caught_up:
                    self._host.post_message(FlowFilesChanged(sorted({Path(p) for _c, p in changes}),
                                                             catch_up=not caught_up))
                caught_up = True
        except Exception as exc:  # no inotify, too many watches...: the workbench still works
            self._host.call_from_thread(self._host.notify, f"hot reload is off: {exc}",
                                        severity="warning")

    def files_changed(self, paths: list[Path], *, catch_up: bool = False) -> None:
        """The watcher's batch, on the UI thread."""
        catalog = self._workspace.catalog
        if catalog is None:
            return
        if catch_up:
            paths = sorted({*paths, *catalog.files_on_disk(), *catalog.entries})
        try:
            self.apply(paths)
        except Exception as exc:
            report_error(self._host, "reloading flows failed", exc)

    def apply(self, paths: Iterable[Path]) -> None:
        """Re-parse changed flow files (test suites: the Tests pane reads them again); report
        namespace-file changes."""
        catalog = self._workspace.catalog
        assert catalog is not None
        host, selection = self._host, self._selection
        namespace_changes: list[Path] = []
        yaml_changes: list[Path] = []
        results = []
        for path in paths:
            if is_flow_file(catalog.root, path) or catalog.get(path) is not None:
                results.append(catalog.reload(path))
            elif _is_namespace_file(catalog.folder, path):
                namespace_changes.append(path)
            if is_yaml_file(catalog.root, path):
                yaml_changes.append(path)
        if yaml_changes:
            self._tests.files_changed(yaml_changes)
        if namespace_changes:
            names = ", ".join(_namespace_label(catalog.folder, p) for p in namespace_changes[:3])
            more = f" (+{len(namespace_changes) - 3})" if len(namespace_changes) > 3 else ""
            host.notify(f"Namespace files changed: {names}{more}", timeout=3)
        changed = [r for r in results if r.kind is not ReloadKind.UNCHANGED]
        if not changed:
            return
        self._update_live_executions(changed)
        selection.show_flows(catalog.sorted_entries())
        for result in changed:
            if result.kind is ReloadKind.ADDED:
                host.notify(f"New flow: {result.entry.path.name}", timeout=2)
            elif result.kind is ReloadKind.DELETED:
                host.notify(f"Flow removed: {result.entry.path.name}", timeout=2)
        selected = selection.selected_entry
        if selected is None:
            if catalog.entries:
                selection.show_flows(catalog.sorted_entries())
            else:
                selection.selected_path = None
                selection.show_execution(None)
                selection.refresh_tree(force=True)
                host.main.query_one(ErrorBanner).show_message(
                    f"no flows under {self._workspace.path}")
        elif any(r.entry.path == selected.path for r in changed):
            selection.refresh_tree(force=True)
            selection.refresh_flow_panes()
            self._runs.run_again_on_save(selected)
        self._triggers.flows_reloaded()
        self.reload_count += 1
        selection.refresh_status()

    def _update_live_executions(self, changed: Iterable[ReloadResult]) -> None:
        """A flow saved without errors applies to its live executions' tasks not run yet (a
        paused one runs the new definition next); the notification says what changed."""
        session = self._workspace.session
        if session is None:
            return
        for result in changed:
            flow = result.entry.flow
            if result.kind is not ReloadKind.CHANGED or flow is None or result.entry.errors:
                continue
            for execution_id, handle in list(session.handles.items()):
                model = session.models.get(execution_id)
                if model is None or model.flow_key != flow.key or handle.done:
                    continue
                try:
                    update = handle.update_flow(flow)
                except Exception as exc:
                    report_error(self._host, f"could not apply {result.entry.path.name}", exc)
                    continue
                model.flow = flow
                self._host.notify(f"{flow.id} {execution_id[:8]}: {update.describe()}",
                                  timeout=8, markup=False)


def _is_namespace_file(folder: Path, path: Path) -> bool:
    try:
        parts = path.relative_to(folder).parts
    except ValueError:
        return False
    return "namespaces" in parts[:-1]


def _namespace_label(folder: Path, path: Path) -> str:
    parts = path.relative_to(folder).parts
    index = parts.index("namespaces")
    return "/".join(parts[index + 1 :])
