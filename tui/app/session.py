"""The workbench's side of the engine: runtime, executor, runs, history. No widgets here.

The TUI drives the engine only through this object: control commands go in (run, cancel,
resume), events come out through :class:`~tui.models.run_model.EventInbox` and are folded into
:class:`~tui.models.run_model.ExecutionModel` objects by the UI thread. The engine types it
holds come from :mod:`tui.engine_port`, like everywhere else in ``tui/``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.engine_port import RoostConfig, RoostHome, RunOptions, Runtime
from tui.models.log_entry import LogEntry
from tui.models.run_model import EventInbox, ExecutionModel

if TYPE_CHECKING:
    from tui.engine_port import (
        Execution,
        ExecutionHandle,
        Executor,
        Flow,
        PreparedReplay,
        TaskRun,
        TriggerEvent,
        TriggerScheduler,
    )

__all__ = ["WorkbenchSession"]

_HISTORY_LOG_BATCH = 20_000


class WorkbenchSession:
    """One runtime and executor for the whole workbench; several executions may run at once."""

    def __init__(self, path: Path, *, home: RoostHome | None = None,
                 config: RoostConfig | None = None, environ: Mapping[str, str] | None = None,
                 options: RunOptions | None = None) -> None:
        self.path = path
        self.config = config if config is not None else RoostConfig.find_and_load(path)
        self.home = home if home is not None else RoostHome.from_environment()
        self.runtime = Runtime.create(self.home, self.config, environ=environ)
        self.options = options or RunOptions()
        if path.is_dir() and path not in self.options.flow_dirs:   # subflows are looked up under PATH too
            self.options = dataclasses.replace(self.options, flow_dirs=(*self.options.flow_dirs, path))
        self.inbox = EventInbox()
        self.inbox.backlog = self._history_backlog
        self._executor: Executor | None = None
        self.models: dict[str, ExecutionModel] = {}
        self.handles: dict[str, ExecutionHandle] = {}
        self.triggers: TriggerScheduler | None = None
        """The trigger scheduler while the user has triggers running (None when off)."""
        self._trigger_flows: dict[tuple[str, str], Flow] = {}
        self._trigger_listener: Callable[[TriggerEvent], None] | None = None
        self._adopted: deque[tuple[ExecutionModel, ExecutionHandle]] = deque()

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            from tui.engine_port import Executor

            self._executor = Executor(self.runtime)
            self._executor.bus.subscribe(self.inbox, batches=True)
        return self._executor

    def _history_backlog(self) -> int:
        """Events the history writer has not written yet: the inbox holds a flooding task back
        while the writer catches up, so a key press is not queued behind it (EventInbox.backlog)."""
        history = self.runtime.history
        return history.backlog if history is not None else 0

    # -- runs ----------------------------------------------------------------------------------

    def start(self, flow: Flow, inputs: dict[str, Any] | None = None, *,
              options: RunOptions | None = None) -> ExecutionModel:
        """Prepare and start a run; raises ``InputError`` for a bad input (nothing runs then).
        ``options`` replaces the session's for this run (breakpoints, step mode)."""
        handle = self.executor.prepare(flow, dict(inputs or {}), options=options or self.options)
        return self.start_prepared(handle, flow, inputs)

    def start_prepared(self, handle: ExecutionHandle, flow: Flow,
                       inputs: dict[str, Any] | None = None) -> ExecutionModel:
        """Start an execution prepared on this session's executor (a test case's: see
        ``prepare_case``), folded and shown like any run."""
        model = ExecutionModel(handle.execution, flow, live=True, inputs=inputs)
        self.models[model.id] = model
        self.handles[model.id] = handle
        self.inbox.register(model)
        self.executor.start(handle)
        return model

    def plan_replay(self, execution_id: str, task_id: str) -> PreparedReplay:
        """Read the flow file again and plan a replay of ``execution_id`` from ``task_id``
        (blocking: waits for the history to hold the execution's end). Raises ``ReplayError``
        and ``InvalidFlowError``."""
        from tui.engine_port import prepare_replay

        if self.runtime.history is not None:
            self.runtime.history.flush(timeout=10)
        return prepare_replay(self.runtime, execution_id, task_id)

    def replay(self, execution_id: str, task_id: str, *, options: RunOptions | None = None,
               prepared: PreparedReplay | None = None) -> ExecutionModel:
        """Start a new execution reusing what ran before ``task_id`` in ``execution_id`` and
        restoring its working directory (``prepared``: a plan made by ``plan_replay``).
        Raises ``ReplayError``, ``InvalidFlowError`` and ``InputError``; nothing runs then."""
        prepared = prepared or self.plan_replay(execution_id, task_id)
        original = self.models.get(execution_id)
        trigger = original.execution.trigger if original is not None else None
        executor = self.executor
        handle = executor.prepare(
            prepared.flow, prepared.inputs, trigger=trigger, original_id=execution_id,
            options=dataclasses.replace(options or self.options, replay=prepared.plan))
        model = ExecutionModel(handle.execution, prepared.flow, live=True, inputs=prepared.inputs)
        self.models[model.id] = model
        self.handles[model.id] = handle
        self.inbox.register(model)
        executor.start(handle)
        return model

    def cancel(self, execution_id: str) -> bool:
        handle = self.handles.get(execution_id)
        if handle is None or handle.done:
            return False
        handle.cancel()
        return True

    def resume(self, execution_id: str) -> bool:
        handle = self.handles.get(execution_id)
        if handle is None or handle.done:
            return False
        handle.resume()
        return True

    def running(self) -> list[ExecutionModel]:
        return [self.models[eid] for eid, handle in self.handles.items() if not handle.done]

    def is_running(self, execution_id: str) -> bool:
        handle = self.handles.get(execution_id)
        return handle is not None and not handle.done

    def fold_events(self) -> set[str]:
        """Apply queued events to their models (UI thread); returns the executions touched."""
        # Adopted before the drain: their first events may be queued already.
        touched: set[str] = {model.id for model in self.adopt_trigger_executions()}
        for event in self.inbox.drain():
            execution_id = _execution_id_of(event)
            model = self.models.get(execution_id) if execution_id else None
            if model is None:
                continue
            model.apply(event)
            touched.add(model.id)
        for execution_id, handle in list(self.handles.items()):
            model = self.models.get(execution_id)
            if handle.done and model is not None and model.live and not self.inbox.pending:
                # The execution thread is over and every event is folded: freeze the model.
                model.live = False
                model.logs.flush()
                self.inbox.unregister(execution_id)
                touched.add(execution_id)
        return touched

    # -- triggers ------------------------------------------------------------------------------

    def start_triggers(self, flows: Iterable[Flow],
                       listener: Callable[[TriggerEvent], None]) -> TriggerScheduler:
        """Run the triggers of ``flows`` through this session's executor, so the executions
        they start are folded and shown like any run. ``listener`` gets every trigger event on
        the scheduler's threads."""
        from tui.engine_port import TriggerScheduler

        if self.triggers is not None:
            return self.triggers
        scheduler = TriggerScheduler(self.runtime, executor=self.executor, options=self.options)
        self._trigger_listener = listener
        scheduler.bus.subscribe(self._on_trigger_event)
        self.triggers = scheduler
        self.set_trigger_flows(flows)
        scheduler.start()
        return scheduler

    def set_trigger_flows(self, flows: Iterable[Flow]) -> None:
        """Give the scheduler the current flows (after a reload); only changed ones restart."""
        if self.triggers is None:
            return
        flows = list(flows)
        self._trigger_flows = {(f.namespace, f.id): f for f in flows}
        self.triggers.set_flows(flows)

    def stop_triggers(self, *, wait: bool = True) -> None:
        """Stop every trigger; the executions they started run on (``close`` cancels them).
        ``wait=False`` stops in a thread, so the UI does not wait for the trigger threads."""
        scheduler, self.triggers = self.triggers, None
        if scheduler is None:
            return
        if wait:
            scheduler.stop(cancel_running=False, timeout=0)
        else:
            threading.Thread(target=scheduler.stop, kwargs={"cancel_running": False, "timeout": 0},
                             name="stop-triggers", daemon=True).start()

    def adopt_trigger_executions(self) -> list[ExecutionModel]:
        """Take in the executions triggers started since the last call (UI thread)."""
        adopted: list[ExecutionModel] = []
        while self._adopted:
            model, handle = self._adopted.popleft()
            self.models[model.id] = model
            self.handles[model.id] = handle
            adopted.append(model)
        return adopted

    def _on_trigger_event(self, event: TriggerEvent) -> None:
        """On the scheduler's threads. A fired execution is registered before it starts (the
        scheduler publishes TriggerFired first), so none of its events is lost."""
        from tui.engine_port import TriggerFired

        scheduler = self.triggers
        if isinstance(event, TriggerFired) and scheduler is not None:
            handle = next((h for h in scheduler.running_executions()
                           if h.execution_id == event.execution_id), None)
            flow = self._trigger_flows.get((event.key.namespace, event.key.flow_id))
            if handle is not None:
                model = ExecutionModel(handle.execution, flow, live=True,
                                       inputs=handle.execution.inputs)
                self.inbox.register(model)
                self._adopted.append((model, handle))
        listener = self._trigger_listener
        if listener is not None:
            listener(event)

    # -- history -------------------------------------------------------------------------------

    def list_executions(self, limit: int = 200) -> list[Execution]:
        history = self.runtime.history
        if history is None:
            return []
        return history.list_executions(limit=limit)

    def load_execution(self, execution_id: str, flow: Flow | None) -> ExecutionModel | None:
        """A past execution as a model (blocking: call from a worker thread)."""
        if execution_id in self.models:
            return self.models[execution_id]
        history = self.runtime.history
        if history is None:
            return None
        execution = history.get_execution(execution_id)
        if execution is None:
            return None
        model = ExecutionModel(execution, flow, live=False, inputs=execution.inputs)
        model.load_task_runs(history.task_runs(execution.id))
        model.task_files.update(history.task_files(execution.id))
        after = 0
        while True:
            records = history.logs(execution.id, after_id=after, limit=_HISTORY_LOG_BATCH)
            if not records:
                break
            model.logs.extend(LogEntry(_parse_date(r.date), r.level, r.task_run_id, r.task_id,
                                       r.message) for r in records)
            after = records[-1].id
            if len(records) < _HISTORY_LOG_BATCH:
                break
        model.logs_loaded = True
        return model

    def adopt(self, model: ExecutionModel) -> ExecutionModel:
        """Keep a model loaded from history (the UI thread owns it from now on)."""
        return self.models.setdefault(model.id, model)

    # -- files ---------------------------------------------------------------------------------

    def execution_workdir(self, model: ExecutionModel) -> Path:
        from tui.engine_port import flow_folder

        execution = model.execution
        return flow_folder(self.home.workdirs, execution.namespace, execution.flow_id) / execution.id

    def workdir_of(self, model: ExecutionModel, task_run: TaskRun | None) -> Path | None:
        """The folder a task run worked in: its shared working directory, else its own."""
        if task_run is None:
            return None
        if task_run.id in model.workdirs:
            return Path(model.workdirs[task_run.id])
        if task_run.working_dir:
            return Path(task_run.working_dir)
        return _own_workdir(self.execution_workdir(model), task_run)

    def resolve_uri(self, uri: str) -> Path:
        return self.runtime.storage.open_existing(uri)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the triggers, cancel what still runs, wait a little for it to stop, flush history."""
        self.stop_triggers()
        for handle in self.handles.values():
            if not handle.done:
                handle.cancel()
        for handle in self.handles.values():
            if not handle.done:
                handle.wait(timeout)
        for model in self.models.values():
            model.close()
        self.runtime.close()


def _own_workdir(folder: Path, task_run: TaskRun) -> Path | None:
    """The directory a task made for itself: ``<task>`` or ``<task>-N`` (a ForEach runs the
    same task several times); the one created while this run ran, else the first."""
    candidates = [p for p in (folder.iterdir() if folder.is_dir() else ())
                  if p.is_dir() and (p.name == task_run.task_id
                                     or p.name.startswith(task_run.task_id + "-")
                                     and p.name[len(task_run.task_id) + 1:].isdigit())]
    if not candidates:
        return None
    start, end = task_run.start_date, task_run.end_date
    if start is not None:
        low = start.timestamp() - 0.01
        high = end.timestamp() + 0.01 if end is not None else float("inf")
        for path in candidates:
            try:
                created = path.stat().st_ctime
            except OSError:
                continue
            if low <= created <= high:
                return path
    exact = folder / task_run.task_id
    return exact if exact in candidates else candidates[0]


def _execution_id_of(event: Any) -> str | None:
    execution = getattr(event, "execution", None)
    if execution is not None:
        return str(execution.id)
    task_run = getattr(event, "task_run", None)
    if task_run is not None:
        return str(task_run.execution_id)
    return getattr(event, "execution_id", None)


def _parse_date(text: str) -> Any:
    from datetime import datetime

    from tui.engine_port import parse_iso

    try:
        return parse_iso(text) or datetime.min
    except ValueError:
        return datetime.min
