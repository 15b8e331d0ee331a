"""Runs started from the workbench: run (``r``, with the inputs form when the flow has
inputs; on a flow with triggers, a choice: run or simulate a trigger), cancel (``x``), re-run
with the same inputs (``R``), repeat the last simulation (``S``), resume a Pause task (``u``),
and auto-run on save (``a``).

Bad inputs and engine errors become notifications; a started run becomes its flow's latest
execution and, when its flow is selected, the shown one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.app.host import report_error
from tui.app.simulations import Simulations

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.live_updates import LiveUpdates
    from tui.app.selection import Selection
    from tui.app.workspace import WorkbenchSettings, Workspace
    from tui.engine_port import Flow
    from tui.models.flow_catalog import FlowEntry
    from tui.models.run_model import ExecutionModel

__all__ = ["RunKeys", "Runs"]


class RunKeys:
    """The app's actions for simulated trigger firings, mixed into ``RoostApp`` (its module is
    at its size limit): the key, the palette and the action stay one code path."""

    _runs: Runs

    def action_simulate(self) -> None:
        self._runs.simulations.choose()

    def action_simulate_again(self) -> None:
        self._runs.simulations.repeat()


class Runs:
    """Starts, cancels and resumes executions; remembers each flow's last inputs."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 live: LiveUpdates, settings: WorkbenchSettings) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._live = live
        self._settings = settings
        self.last_inputs: dict[str, dict[str, Any]] = {}
        """Flow key -> the inputs of its last run here (the form starts from them)."""
        self.simulations = Simulations(host, workspace, selection, live, self._run_flow)
        """``r`` → "Simulate <trigger>" on a flow with triggers, and ``S``."""

    def run_selected(self, *, step: bool = False) -> None:
        """``r`` (``step``: pausing before every task): the selected flow, through the inputs
        form when it declares inputs."""
        entry = self._selection.selected_entry
        if entry is None or self._workspace.session is None:
            self._host.notify("No flow selected", severity="warning")
            return
        if entry.errors or entry.flow is None:
            first = entry.first_error
            where = f" ({first.line}:{first.column} {first.message})" if first else ""
            self._host.notify(f"{entry.path.name} has errors; fix them first{where}",
                              severity="error")
            return
        flow = entry.flow
        if flow.triggers and not step:  # run it, or simulate one of its triggers firing
            self.simulations.offer(flow, lambda: self._run_flow(flow))
            return
        self._run_flow(flow, step=step)

    def _run_flow(self, flow: Flow, *, step: bool = False) -> None:
        """A plain run, through the inputs form when the flow declares inputs."""
        if flow.inputs:
            previous = self.last_inputs.get(flow.key)

            def submitted(values: dict[str, Any] | None) -> None:
                if values is not None:
                    self.start(flow, values, step=step)

            from tui.screens.inputs_form import InputsScreen  # on first use: not in the first paint

            self._host.push_screen(InputsScreen(flow, previous), submitted)
            return
        self.start(flow, {}, step=step)

    def start(self, flow: Flow, inputs: dict[str, Any], *,
              step: bool = False) -> ExecutionModel | None:
        """Start ``flow`` (``step``: pausing before every task); bad inputs and engine errors
        become notifications."""
        from tui.engine_port import InputError

        session = self._workspace.session
        if session is None:
            self._host.notify(self._workspace.unavailable, severity="error")
            return None
        try:
            model = session.start(flow, inputs,
                                  options=self._workspace.run_options_for(flow, step=step))
        except InputError as exc:
            self._host.notify(f"{flow.id}: {exc.message}", severity="error", timeout=6)
            return None
        except Exception as exc:
            report_error(self._host, f"could not start {flow.id}", exc)
            return None
        self.last_inputs[flow.key] = dict(inputs)
        self._live.ensure_ticking()
        self._selection.show_new_execution(model)
        return model

    def run_again_on_save(self, entry: FlowEntry) -> None:
        """Auto-run: a flow saved without errors runs again with its last inputs."""
        if self._settings.auto_run and entry.valid and entry.flow is not None:
            self.start(entry.flow, self.last_inputs.get(entry.key, {}))

    def can_cancel(self) -> bool:
        """For the footer: ``x`` shows only while something runs."""
        session = self._workspace.session
        return session is not None and bool(session.running())

    def cancel(self) -> None:
        """``x``: the shown execution if it runs, else the last one started."""
        session = self._workspace.session
        if session is None:
            return
        model = self._selection.shown
        if model is None or not session.is_running(model.id):
            running = session.running()
            if not running:
                self._host.notify("Nothing is running", severity="warning", timeout=2)
                return
            model = running[-1]
        session.cancel(model.id)
        self._host.notify(f"Cancelling {model.execution.flow_id}…", timeout=2)

    def resume(self) -> None:
        """``u``: the shown execution, paused by a Pause task."""
        session = self._workspace.session
        model = self._selection.shown
        if session is None or model is None or model.execution.state.value != "PAUSED":
            self._host.notify("Nothing is paused", severity="warning", timeout=2)
            return
        session.resume(model.id)
        self._host.notify(f"Resuming {model.execution.flow_id}…", timeout=2)

    def rerun(self) -> None:
        """``R``: the selected flow again, with the shown execution's inputs; when that
        execution was started by a trigger and the flow has a simulation, that simulation again."""
        entry = self._selection.selected_entry
        if entry is None or self._workspace.session is None:
            return
        model = self._selection.shown
        if model is None:
            self._host.notify("Nothing to re-run yet: press r to run the flow",
                              severity="warning")
            return
        if entry.errors or entry.flow is None:
            self._host.notify(f"{entry.path.name} has errors; fix them first", severity="error")
            return
        simulated = self.simulations.store.last(entry.flow.key) if model.execution.trigger else None
        if simulated is not None:  # a simulated firing again, files and body as given then
            self.simulations.start(entry.flow, simulated)
            return
        self.start(entry.flow, dict(model.raw_inputs))

    def toggle_auto_run(self) -> None:
        settings = self._settings
        settings.auto_run = not settings.auto_run
        self._host.notify("Auto-run on save: on" if settings.auto_run else
                          "Auto-run on save: off", timeout=2)
        self._selection.refresh_status()
