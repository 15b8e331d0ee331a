"""Replay from a task (``P``): a new execution of the shown one's flow, read again from its file,
that reuses the recorded outputs of the tasks before the task selected in Tasks and restores
its working directory as that task found it.

The plan is made in a thread (it waits for the history to hold the execution and reads the
flow file); the execution starts on the UI thread and becomes the shown one. When the engine
says a replay is impossible but a whole run is (no snapshot, masked SECRET inputs), a modal
asks whether to run the whole flow again with the original inputs.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from tui.app.host import report_error
from tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.live_updates import LiveUpdates
    from tui.app.runs import Runs
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace
    from tui.engine_port import PreparedReplay, ReplayError

__all__ = ["ReplayControl"]


class ReplayControl:
    """``P``: replay the shown execution from the selected task."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 live: LiveUpdates, runs: Runs) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._live = live
        self._runs = runs

    def replay_from_selected_task(self) -> None:
        host = self._host
        session, model = self._workspace.session, self._selection.shown
        if session is None:
            host.notify(self._workspace.unavailable, severity="error")
            return
        if model is None:
            host.notify("Nothing to replay: run the flow or open an execution from History",
                        severity="warning", timeout=3)
            return
        item = self._selection.selected_item
        if item is None or item.kind != "task" or not item.task_id:
            host.notify("Select a task in Tasks, then P replays the execution from it",
                        severity="warning", timeout=3)
            return
        if model.live or not model.finished or session.is_running(model.id):
            host.notify(f"{model.execution.flow_id} {model.id[:8]} is still "
                        f"{model.execution.state.value}: replay it once it has finished",
                        severity="warning", timeout=4)
            return
        host.notify(f"Replaying {model.id[:8]} from '{item.task_id}'…", timeout=2)
        host.run_worker(partial(self._plan_in_thread, model.id, item.task_id),
                        name="plan-replay", group="replay", exclusive=True, thread=True)

    def _plan_in_thread(self, execution_id: str, task_id: str) -> None:
        from tui.engine_port import InvalidFlowError, ReplayError

        host = self._host
        session = self._workspace.session
        assert session is not None
        try:
            prepared = session.plan_replay(execution_id, task_id)
        except ReplayError as exc:
            host.call_from_thread(self._refused, execution_id, task_id, exc)
            return
        except InvalidFlowError as exc:
            first = exc.errors[0] if exc.errors else None
            where = f"{first.line}:{first.column} {first.message}" if first else str(exc)
            host.call_from_thread(host.notify, f"Cannot replay: the flow file has errors, fix "
                                  f"them first ({where})", severity="error", timeout=8)
            return
        except Exception as exc:
            host.call_from_thread(report_error, host, "could not prepare the replay", exc)
            return
        host.call_from_thread(self._start, execution_id, task_id, prepared)

    def _start(self, execution_id: str, task_id: str, prepared: PreparedReplay) -> None:
        from tui.engine_port import InputError

        session = self._workspace.session
        assert session is not None
        try:
            model = session.replay(execution_id, task_id, prepared=prepared,
                                   options=self._workspace.run_options_for(prepared.flow))
        except InputError as exc:
            self._host.notify(f"Cannot replay: {exc.message}", severity="error", timeout=8)
            return
        except Exception as exc:
            report_error(self._host, "could not start the replay", exc)
            return
        plan = prepared.plan
        restored = ", working directory restored" if plan.restore else ""
        self._host.notify(f"Replaying {execution_id[:8]} from '{task_id}': {len(plan.reused)} "
                          f"task run(s) reused{restored}", timeout=4)
        self._live.ensure_ticking()
        self._selection.show_new_execution(model, select_its_flow=True)

    def _refused(self, execution_id: str, task_id: str, error: ReplayError) -> None:
        if not error.full_rerun_possible:
            self._host.notify(f"Cannot replay: {error.message}", severity="error", timeout=8)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_whole_flow_again(execution_id)

        self._host.push_screen(ConfirmScreen(f"Cannot replay from '{task_id}': {error.message}",
                                             "Run the whole flow again? (y/n)"), answered)

    def _run_whole_flow_again(self, execution_id: str) -> None:
        """A normal run of the execution's flow (as the catalog has it now) with its inputs."""
        session = self._workspace.session
        model = session.models.get(execution_id) if session is not None else None
        if model is None:
            return
        entry = self._workspace.entry_for_key(model.flow_key)
        if entry is not None and (entry.errors or entry.flow is None):
            self._host.notify(f"{entry.path.name} has errors; fix them first", severity="error")
            return
        flow = entry.flow if entry is not None else model.flow
        if flow is None:
            self._host.notify(f"the flow of {execution_id[:8]} is not loaded", severity="error")
            return
        self._runs.start(flow, dict(model.raw_inputs))
