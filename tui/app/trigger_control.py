"""Triggers in the workbench: ``T`` runs them (never on its own), the Triggers pane shows the
selected flow's, ``p`` pauses or resumes one, ``F`` fires it now.

The scheduler runs through the session's executor, so an execution a trigger starts is folded
and shown like any run. Its events arrive on the scheduler's threads; they only set a flag and
post one :class:`TriggersChanged` at a time, and the UI thread re-reads the statuses then.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.message import Message
from textual.screen import Screen

from engine.scheduling.events import TriggerEvent, TriggerFired
from engine.triggers.properties import TriggerError
from tui.screens.main import DetailTabs
from tui.widgets.flow_list import FlowList
from tui.widgets.triggers_pane import TriggerRow, TriggersPane
from tui.app.workbench import WorkbenchCore

if TYPE_CHECKING:
    from engine.flow.model import Flow

__all__ = ["TriggerControlMixin", "TriggersChanged"]


class TriggersChanged(Message):
    """Trigger events arrived (posted from the scheduler's threads, at most one pending)."""


class TriggerControlMixin(WorkbenchCore):
    """The workbench's triggers (mixed into :class:`~tui.app.roost_app.RoostApp`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trigger_lock = threading.Lock()
        self._trigger_posted = False
        self._fired: list[TriggerFired] = []

    # -- the switch ----------------------------------------------------------------------------

    def _triggers_running(self) -> bool:
        return self.session is not None and self.session.triggers is not None

    def action_toggle_triggers(self) -> None:
        session = self.session
        if session is None:
            self.notify(self.startup_error or "the engine is not available", severity="error")
            return
        if session.triggers is not None:
            session.stop_triggers(wait=False)
            self.notify("Triggers off", timeout=2)
        else:
            try:
                session.start_triggers(self._valid_flows(), self._on_trigger_event)
            except Exception as exc:
                self._report_error("could not start the triggers", exc)
                return
            self.notify("Triggers on: schedules, polls and webhooks run until T or q", timeout=3)
        self._update_status()
        self._refresh_triggers()

    def _valid_flows(self) -> list[Flow]:
        catalog = self.catalog
        if catalog is None:
            return []
        return [e.flow for e in catalog.sorted_entries() if e.flow is not None]

    def _flows_reloaded(self) -> None:
        session = self.session
        if session is not None and session.triggers is not None:
            try:
                session.set_trigger_flows(self._valid_flows())
            except Exception as exc:
                self._report_error("reloading the triggers failed", exc)
        self._refresh_triggers()

    # -- events --------------------------------------------------------------------------------

    def _on_trigger_event(self, event: TriggerEvent) -> None:
        """On the scheduler's threads: note a firing, post one wake-up for the UI."""
        with self._trigger_lock:
            if isinstance(event, TriggerFired):
                self._fired.append(event)
            if self._trigger_posted:
                return
            self._trigger_posted = True
        self.post_message(TriggersChanged())

    def on_triggers_changed(self, _message: TriggersChanged) -> None:
        with self._trigger_lock:
            self._trigger_posted = False
            fired, self._fired = self._fired, []
        for event in fired:
            self._show_fired(event)
        self._refresh_triggers()

    def _show_fired(self, event: TriggerFired) -> None:
        """A trigger started an execution: it becomes its flow's latest, like a run with r."""
        session = self.session
        if session is None:
            return
        session.adopt_trigger_executions()  # the tick folds its events
        model = session.models.get(event.execution_id)
        if model is None:
            return
        flow_key = f"{event.key.namespace}.{event.key.flow_id}"
        self.latest[flow_key] = model.id
        self._ensure_ticking()
        entry = self.selected_entry
        shown = self.shown
        if entry is not None and entry.key == flow_key and (shown is None or not shown.live):
            self.show_execution(model)
        self.main.query_one(FlowList).set_states(self._flow_states())

    # -- the pane ------------------------------------------------------------------------------

    def _refresh_triggers(self) -> None:
        pane = self.main.query_one(TriggersPane)
        entry = self.selected_entry
        scheduler = self.session.triggers if self.session is not None else None
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

    def on_triggers_pane_pause_toggled(self, event: TriggersPane.PauseToggled) -> None:
        self._act_on_trigger(event.row, "pause")

    def on_triggers_pane_fire_requested(self, event: TriggersPane.FireRequested) -> None:
        self._act_on_trigger(event.row, "fire")

    def action_toggle_trigger_pause(self) -> None:
        self._act_on_trigger(self.main.query_one(TriggersPane).table.selected, "pause")

    def action_fire_trigger(self) -> None:
        self._act_on_trigger(self.main.query_one(TriggersPane).table.selected, "fire")

    def _act_on_trigger(self, row: TriggerRow | None, what: str) -> None:
        scheduler = self.session.triggers if self.session is not None else None
        if row is None:
            self.notify("Select a trigger in the Triggers pane (6)", severity="warning", timeout=3)
            return
        if scheduler is None or row.key is None:
            self.notify("Triggers are off: press T to run them", severity="warning", timeout=3)
            return
        try:
            if what == "fire":
                scheduler.fire_now(row.key)
                self.notify(f"Firing {row.trigger_id}…", timeout=2)
            elif row.state == "PAUSED":
                scheduler.resume(row.key)
            else:
                scheduler.pause(row.key)
        except TriggerError as exc:
            self.notify(exc.message, severity="error", timeout=4)
            return
        self._refresh_triggers()
        if self.main.query_one(DetailTabs).active != "triggers":
            self.main.focus_pane("triggers")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Toggle triggers", "Run the flows' triggers, or stop them (T)",
                            self.action_toggle_triggers)
        yield SystemCommand("Pause or resume trigger",
                            "Pause or resume the trigger selected in Triggers (p)",
                            self.action_toggle_trigger_pause)
        yield SystemCommand("Fire trigger now", "Fire the trigger selected in Triggers now (F)",
                            self.action_fire_trigger)
