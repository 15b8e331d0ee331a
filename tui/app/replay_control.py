"""Replay from a task (``P``): a new execution of the shown one's flow, read again from its file,
that reuses the recorded outputs of the tasks before the task selected in Tasks and restores
its working directory as that task found it.

The plan is made in a thread (it waits for the history to hold the execution and reads the
flow file); the execution starts on the UI thread and becomes the shown one. When the engine
says a replay is impossible but a whole run is (no snapshot, masked SECRET inputs), a modal
asks whether to run the whole flow again with the original inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from engine.core.errors import InvalidFlowError
from engine.execution.replay import ReplayError
from tui.screens.confirm import ConfirmScreen
from tui.screens.main import DetailTabs
from tui.widgets.flow_list import FlowList
from tui.app.workbench import WorkbenchCore

if TYPE_CHECKING:
    from engine.execution.replay import PreparedReplay
    from tui.models.run_model import ExecutionModel

__all__ = ["ReplayControlMixin"]


class ReplayControlMixin(WorkbenchCore):
    """``P``: replay the shown execution from the selected task (mixed into
    :class:`~tui.app.roost_app.RoostApp`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("P", "replay", "Replay from task", show=False),
    ]

    def action_replay(self) -> None:
        session, model = self.session, self.shown
        if session is None:
            self.notify(self.startup_error or "the engine is not available", severity="error")
            return
        if model is None:
            self.notify("Nothing to replay: run the flow or open an execution from History",
                        severity="warning", timeout=3)
            return
        item = self.selected_item
        if item is None or item.kind != "task" or not item.task_id:
            self.notify("Select a task in Tasks, then P replays the execution from it",
                        severity="warning", timeout=3)
            return
        if model.live or not model.finished or session.is_running(model.id):
            self.notify(f"{model.execution.flow_id} {model.id[:8]} is still "
                        f"{model.execution.state.value}: replay it once it has finished",
                        severity="warning", timeout=4)
            return
        self.notify(f"Replaying {model.id[:8]} from '{item.task_id}'…", timeout=2)
        self._plan_replay(model.id, item.task_id)

    @work(thread=True, exclusive=True, group="replay")
    def _plan_replay(self, execution_id: str, task_id: str) -> None:
        session = self.session
        assert session is not None
        try:
            prepared = session.plan_replay(execution_id, task_id)
        except ReplayError as exc:
            self.call_from_thread(self._replay_refused, execution_id, task_id, exc)
            return
        except InvalidFlowError as exc:
            first = exc.errors[0] if exc.errors else None
            where = f"{first.line}:{first.column} {first.message}" if first else str(exc)
            self.call_from_thread(self.notify, f"Cannot replay: the flow file has errors, fix "
                                  f"them first ({where})", severity="error", timeout=8)
            return
        except Exception as exc:
            self.call_from_thread(self._report_error, "could not prepare the replay", exc)
            return
        self.call_from_thread(self._start_replay, execution_id, task_id, prepared)

    def _start_replay(self, execution_id: str, task_id: str, prepared: PreparedReplay) -> None:
        from engine.flow.inputs import InputError

        session = self.session
        assert session is not None
        try:
            model = session.replay(execution_id, task_id, prepared=prepared,
                                   options=self._run_options_for(prepared.flow))
        except InputError as exc:
            self.notify(f"Cannot replay: {exc.message}", severity="error", timeout=8)
            return
        except Exception as exc:
            self._report_error("could not start the replay", exc)
            return
        plan = prepared.plan
        restored = ", working directory restored" if plan.restore else ""
        self.notify(f"Replaying {execution_id[:8]} from '{task_id}': {len(plan.reused)} task "
                    f"run(s) reused{restored}", timeout=4)
        self._show_new_execution(model)

    def _show_new_execution(self, model: ExecutionModel) -> None:
        """Make a just-started execution the shown one (its flow selected), as ``r`` does."""
        key = model.flow_key
        self.latest[key] = model.id
        self._ensure_ticking()
        main = self.main
        entry = self.catalog.by_key(key) if self.catalog is not None else None
        if entry is not None and entry.path != self.selected_path:
            self.selected_path = entry.path
            main.query_one(FlowList).select_path(entry.path)
            self._refresh_flow_panes()
        self.show_execution(model)
        detail = main.query_one(DetailTabs)
        if detail.active in ("source", "history"):
            detail.active = "logs"
        main.query_one(FlowList).set_states(self._flow_states())

    def _replay_refused(self, execution_id: str, task_id: str, error: ReplayError) -> None:
        if not error.full_rerun_possible:
            self.notify(f"Cannot replay: {error.message}", severity="error", timeout=8)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_whole_flow_again(execution_id)

        self.push_screen(ConfirmScreen(f"Cannot replay from '{task_id}': {error.message}",
                                       "Run the whole flow again? (y/n)"), answered)

    def _run_whole_flow_again(self, execution_id: str) -> None:
        """A normal run of the execution's flow (as the catalog has it now) with its inputs."""
        session = self.session
        model = session.models.get(execution_id) if session is not None else None
        if model is None:
            return
        entry = self.catalog.by_key(model.flow_key) if self.catalog is not None else None
        if entry is not None and (entry.errors or entry.flow is None):
            self.notify(f"{entry.path.name} has errors; fix them first", severity="error")
            return
        flow = entry.flow if entry is not None else model.flow
        if flow is None:
            self.notify(f"the flow of {execution_id[:8]} is not loaded", severity="error")
            return
        self.start_run(flow, dict(model.raw_inputs))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Replay from task",
                            "Replay the shown execution from the task selected in Tasks (P)",
                            self.action_replay)
