"""Hot reload: watchfiles watches PATH; saved flow files are re-parsed, the tree follows.

A file that stops validating keeps its last good flow on screen, with the error in the banner
and in Source; new and deleted files come and go; namespace-file changes are announced; with
auto-run on, a saved flow runs again. A valid save also applies to the flow's live executions
(the tasks they have not run yet: a paused one runs the new definition next).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual import work
from textual.message import Message

from tui.models.flow_catalog import ReloadKind, ReloadResult, is_flow_file
from tui.widgets.banner import ErrorBanner
from tui.widgets.flow_list import FlowList
from tui.app.workbench import WorkbenchCore

__all__ = ["FlowFilesChanged", "HotReloadMixin"]


class FlowFilesChanged(Message):
    """watchfiles saw changes under PATH (posted from the watcher thread)."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths


class HotReloadMixin(WorkbenchCore):
    """The workbench's hot reload (mixed into :class:`~tui.app.roost_app.RoostApp`)."""

    def _watch_flows(self, folder: Path, stop: threading.Event) -> None:
        self._flow_watcher(folder, stop)

    @work(thread=True, group="flow-watch", exit_on_error=False)
    def _flow_watcher(self, folder: Path, stop: threading.Event) -> None:
        from watchfiles import watch

        home = self._home_root()
        root = self.catalog.root if self.catalog is not None else folder

        def relevant(_change: Any, name: str) -> bool:
            path = Path(name)
            if home is not None and (path == home or home in path.parents):
                return False
            return is_flow_file(root, path) or _is_namespace_file(folder, path)

        try:
            for changes in watch(folder, watch_filter=relevant, stop_event=stop, debounce=400,
                                 step=20, rust_timeout=1000, yield_on_timeout=False,
                                 raise_interrupt=False):
                if stop.is_set():
                    return
                self.post_message(FlowFilesChanged(sorted({Path(p) for _c, p in changes})))
        except Exception as exc:  # no inotify, too many watches...: the workbench still works
            self.call_from_thread(self.notify, f"hot reload is off: {exc}", severity="warning")

    def _home_root(self) -> Path | None:
        if self.session is not None:
            return self.session.home.root
        return None

    def on_flow_files_changed(self, event: FlowFilesChanged) -> None:
        catalog = self.catalog
        if catalog is None:
            return
        try:
            self.apply_file_changes(event.paths)
        except Exception as exc:
            self._report_error("reloading flows failed", exc)

    def apply_file_changes(self, paths: Iterable[Path]) -> None:
        """Re-parse changed flow files; report namespace-file changes."""
        catalog = self.catalog
        assert catalog is not None
        namespace_changes: list[Path] = []
        results = []
        for path in paths:
            if is_flow_file(catalog.root, path):
                results.append(catalog.reload(path))
            elif _is_namespace_file(catalog.folder, path):
                namespace_changes.append(path)
        if namespace_changes:
            names = ", ".join(_namespace_label(catalog.folder, p) for p in namespace_changes[:3])
            more = f" (+{len(namespace_changes) - 3})" if len(namespace_changes) > 3 else ""
            self.notify(f"Namespace files changed: {names}{more}", timeout=3)
        changed = [r for r in results if r.kind is not ReloadKind.UNCHANGED]
        if not changed:
            return
        self._update_live_executions(changed)
        main = self.main
        main.query_one(FlowList).set_entries(catalog.sorted_entries(), self._flow_states())
        for result in changed:
            if result.kind is ReloadKind.ADDED:
                self.notify(f"New flow: {result.entry.path.name}", timeout=2)
            elif result.kind is ReloadKind.DELETED:
                self.notify(f"Flow removed: {result.entry.path.name}", timeout=2)
        selected = self.selected_entry
        if selected is None:
            if catalog.entries:
                main.query_one(FlowList).set_entries(catalog.sorted_entries(), None)
            else:
                self.selected_path = None
                self.show_execution(None)
                self._refresh_tree(force=True)
                main.query_one(ErrorBanner).show_message(f"no flows under {self.path}")
        elif any(r.entry.path == selected.path for r in changed):
            self._refresh_tree(force=True)
            self._refresh_flow_panes()
            if self.auto_run and selected.valid and selected.flow is not None:
                self.start_run(selected.flow, self.last_inputs.get(selected.key, {}))
        self._flows_reloaded()
        self.reload_count += 1
        self._update_status()

    def _update_live_executions(self, changed: Iterable[ReloadResult]) -> None:
        """A flow saved without errors applies to its live executions' tasks not run yet (a
        paused one runs the new definition next); the notification says what changed."""
        session = self.session
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
                    self._report_error(f"could not apply {result.entry.path.name}", exc)
                    continue
                model.flow = flow
                self.notify(f"{flow.id} {execution_id[:8]}: {update.describe()}", timeout=8,
                            markup=False)


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
