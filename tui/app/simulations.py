"""Simulated trigger firings from the workbench: ``r`` → "Simulate <trigger>", and ``S`` again.

The engine builds the firing (engine/scheduling/simulate.py, shared with ``roost run --fire``):
the trigger's own variables, files stored under the new execution. Here it is only asked for,
started on the session's executor like any run (so it shows live), and remembered per flow in
the history (:class:`~tui.models.simulations.SimulationStore`) for ``S``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.app.host import report_error
from tui.models.simulations import SimulationRequest, SimulationStore
from tui.screens.trigger_choice import RUN, RunChoiceScreen

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.live_updates import LiveUpdates
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace
    from tui.engine_port import Flow, TriggerChoice
    from tui.models.run_model import ExecutionModel

__all__ = ["Simulations"]


class Simulations:
    """Asks which trigger to simulate and what it found, starts it, remembers it for ``S``."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 live: LiveUpdates, run_plain: Callable[[Flow], None]) -> None:
        self._host = host
        self._run_plain = run_plain
        """A plain run of a flow (the inputs form first when it has inputs): Runs' own."""
        self._workspace = workspace
        self._selection = selection
        self._live = live
        self._store: SimulationStore | None = None

    @property
    def store(self) -> SimulationStore:
        """Kept in the history (in memory without a session), made once the session is open."""
        if self._store is None:
            session = self._workspace.session
            self._store = SimulationStore(session.runtime.history if session is not None else None)
        return self._store

    def offer(self, flow: Flow, run: Callable[[], None]) -> None:
        """``r`` on a flow with triggers: "Run" calls ``run``; "Simulate <id>" asks what it found."""
        from tui.engine_port import trigger_choices

        choices = trigger_choices(flow)

        def chosen(answer: str | None) -> None:
            if answer == RUN:
                run()
            elif answer is not None:
                self.ask(flow, answer, choices)

        self._host.push_screen(RunChoiceScreen(flow.key, choices), chosen)

    def choose(self) -> None:
        """The palette's "Simulate trigger": the choice list, its "Run" running the flow plainly."""
        flow = self._selected_flow()
        if flow is None:
            return
        if not flow.triggers:
            self._host.notify(f"{flow.id} has no triggers to simulate", severity="warning")
            return
        self.offer(flow, lambda: self._run_plain(flow))

    def ask(self, flow: Flow, trigger_id: str, choices: list[TriggerChoice]) -> None:
        """The simulate form for ``trigger_id`` (prefilled from the flow's last simulation)."""
        choice = next(c for c in choices if c.id == trigger_id)
        previous = self.store.last(flow.key)

        def submitted(request: SimulationRequest | None) -> None:
            if request is not None:
                self.start(flow, request)

        from tui.screens.simulate_form import SimulateScreen  # on first use: not in the first paint

        self._host.push_screen(SimulateScreen(flow.key, choice, previous), submitted)

    def start(self, flow: Flow, request: SimulationRequest) -> ExecutionModel | None:
        """Start the simulated run; a refused choice or option becomes a notification."""
        from tui.engine_port import FireArgs, InputError, UsageError, simulated_firing

        session = self._workspace.session
        if session is None:
            self._host.notify(self._workspace.unavailable, severity="error")
            return None
        args = FireArgs(files=tuple(Path(f) for f in request.files), body=request.body, date=request.date)
        try:
            firing = simulated_firing(flow, request.trigger_id, args, session.runtime)
            handle = session.executor.prepare(
                flow, firing.inputs, trigger=firing.variables, execution_id=firing.execution_id,
                options=self._workspace.run_options_for(flow))
        except (UsageError, InputError) as exc:
            message = exc.message if isinstance(exc, InputError) else str(exc)
            self._host.notify(f"{flow.id}: {message}", severity="error", timeout=8)
            return None
        except Exception as exc:
            report_error(self._host, f"could not simulate {request.trigger_id}", exc)
            return None
        model = session.start_prepared(handle, flow, firing.inputs)
        self.store.remember(flow.key, request)
        self._live.ensure_ticking()
        self._selection.show_new_execution(model)
        self._host.notify(f"Simulating {request.trigger_id}: {firing.summary}", timeout=4)
        return model

    def repeat(self) -> None:
        """``S``: the selected flow's last simulation again, with what it was given."""
        flow = self._selected_flow()
        if flow is None:
            return
        request = self.store.last(flow.key)
        if request is None:
            self._host.notify(f"No simulation of {flow.id} yet: press r and choose Simulate",
                              severity="warning")
            return
        self.start(flow, request)

    def _selected_flow(self) -> Flow | None:
        """The selected flow when it can run (else None, the reason notified)."""
        entry = self._selection.selected_entry
        if entry is None or self._workspace.session is None:
            self._host.notify("No flow selected", severity="warning")
            return None
        if entry.errors or entry.flow is None:
            self._host.notify(f"{entry.path.name} has errors; fix them first", severity="error")
            return None
        return entry.flow
