"""Triggers in the workbench: ``T`` runs them (never on its own), the Triggers pane shows the
selected flow's, ``p`` pauses or resumes one, ``F`` fires it now.

The scheduler runs through the session's executor, so an execution a trigger starts is folded
and shown like any run. Its events arrive on the scheduler's threads; they only set a flag and
post one :class:`TriggersChanged` at a time, and the UI thread re-reads the statuses then.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.message import Message

from tui.app.host import report_error
from tui.engine_port import TriggerError, TriggerEvent, TriggerFired
from tui.screens.main import DetailTabs
from tui.widgets.triggers_pane import TriggerRow, TriggersPane

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.live_updates import LiveUpdates
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace

__all__ = ["TriggerControl", "TriggersChanged"]


class TriggersChanged(Message):
    """Trigger events arrived (posted from the scheduler's threads, at most one pending)."""


class TriggerControl:
    """The triggers switch, the Triggers pane, and the executions triggers start."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 live: LiveUpdates) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._live = live
        self._lock = threading.Lock()
        self._posted = False
        self._fired: list[TriggerFired] = []

    # -- the switch ----------------------------------------------------------------------------

    def toggle(self) -> None:
        """``T``: start the flows' triggers, or stop them (what they started runs on)."""
        session = self._workspace.session
        if session is None:
            self._host.notify(self._workspace.unavailable, severity="error")
            return
        if session.triggers is not None:
            session.stop_triggers(wait=False)
            self._host.notify("Triggers off", timeout=2)
        else:
            try:
                session.start_triggers(self._workspace.valid_flows(), self._on_trigger_event)
            except Exception as exc:
                report_error(self._host, "could not start the triggers", exc)
                return
            self._host.notify("Triggers on: schedules, polls and webhooks run until T or q",
                              timeout=3)
        self._selection.refresh_status()
        self.refresh()

    def flows_reloaded(self) -> None:
        """Flow files changed on disk: running triggers follow (only changed ones restart)."""
        session = self._workspace.session
        if session is not None and session.triggers is not None:
            try:
                session.set_trigger_flows(self._workspace.valid_flows())
            except Exception as exc:
                report_error(self._host, "reloading the triggers failed", exc)
        self.refresh()

    # -- events --------------------------------------------------------------------------------

    def _on_trigger_event(self, event: TriggerEvent) -> None:
        """On the scheduler's threads: note a firing, post one wake-up for the UI."""
        with self._lock:
            if isinstance(event, TriggerFired):
                self._fired.append(event)
            if self._posted:
                return
            self._posted = True
        self._host.post_message(TriggersChanged())

    def changed(self) -> None:
        """The wake-up, on the UI thread: show what fired, re-read the statuses."""
        with self._lock:
            self._posted = False
            fired, self._fired = self._fired, []
        for event in fired:
            self._show_fired(event)
        self.refresh()

    def _show_fired(self, event: TriggerFired) -> None:
        """A trigger started an execution: it becomes its flow's latest, like a run with r,
        and is shown unless the flow's shown execution still runs."""
        session = self._workspace.session
        if session is None:
            return
        session.adopt_trigger_executions()  # the tick folds its events
        model = session.models.get(event.execution_id)
        if model is None:
            return
        selection = self._selection
        flow_key = f"{event.key.namespace}.{event.key.flow_id}"
        selection.latest[flow_key] = model.id
        self._live.ensure_ticking()
        entry = selection.selected_entry
        shown = selection.shown
        if entry is not None and entry.key == flow_key and (shown is None or not shown.live):
            selection.show_execution(model)
        selection.refresh_flow_states()

    # -- the pane ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """The selected flow's triggers: declared ones while off, the scheduler's statuses
        while on."""
        pane = self._host.main.query_one(TriggersPane)
        entry = self._selection.selected_entry
        session = self._workspace.session
        scheduler = session.triggers if session is not None else None
        if entry is None or entry.flow is None:
            pane.show([], "No flow selected." if entry is None else "This flow does not load.")
            return
        flow = entry.flow
        if scheduler is None:
            rows = [TriggerRow(str(raw.get("id")), str(raw.get("type")), "OFF")
                    for raw in flow.triggers]
            hint = "Triggers are off: press T to run them." if rows else ""
        else:
            rows = [TriggerRow.from_status(s) for s in scheduler.statuses()
                    if (s.key.namespace, s.key.flow_id) == (flow.namespace, flow.id)]
            hint = "Triggers on · p pause/resume · F fire now · T turns them off"
        if not rows:
            hint = f"{flow.id} has no triggers."
        pane.show(rows, hint)

    def toggle_pause_of_selected(self) -> None:
        self.act_on(self._host.main.query_one(TriggersPane).table.selected, "pause")

    def fire_selected(self) -> None:
        self.act_on(self._host.main.query_one(TriggersPane).table.selected, "fire")

    def act_on(self, row: TriggerRow | None, what: str) -> None:
        """``what``: "pause" (pause or resume) or "fire" the trigger of ``row``."""
        session = self._workspace.session
        scheduler = session.triggers if session is not None else None
        if row is None:
            self._host.notify("Select a trigger in the Triggers pane (6)", severity="warning",
                              timeout=3)
            return
        if scheduler is None or row.key is None:
            self._host.notify("Triggers are off: press T to run them", severity="warning",
                              timeout=3)
            return
        try:
            if what == "fire":
                scheduler.fire_now(row.key)
                self._host.notify(f"Firing {row.trigger_id}…", timeout=2)
            elif row.state == "PAUSED":
                scheduler.resume(row.key)
            else:
                scheduler.pause(row.key)
        except TriggerError as exc:
            self._host.notify(exc.message, severity="error", timeout=4)
            return
        self.refresh()
        if self._host.main.query_one(DetailTabs).active != "triggers":
            self._host.main.focus_pane("triggers")
