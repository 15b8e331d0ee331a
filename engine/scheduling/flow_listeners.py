"""Flow triggers in the scheduler: each execution state change offered to every Flow trigger.

The executor's bus calls `observe` on its own threads, sometimes while it holds the
execution's state; starting an execution from there could deadlock. So `observe` only
notes a new state (the same state published twice is one change) and queues it; one
worker thread evaluates the loaded Flow triggers and starts what they fire.
"""

from __future__ import annotations

import queue
import threading
import traceback
from typing import TYPE_CHECKING, Protocol

from engine.core.records import Execution, utcnow
from engine.triggers.base import FLOW, TriggerContext, TriggerFiring
from engine.triggers.flow_conditions import Upstream, ValueStore
from engine.triggers.flow_trigger import FlowTrigger
from engine.triggers.properties import TriggerError

if TYPE_CHECKING:
    from engine.execution.executor import ExecutionHandle
    from engine.scheduling.slots import TriggerSlot

SEEN_LIMIT = 10_000  # executions whose last state is remembered (oldest forgotten first)


class ListenerHost(Protocol):
    """What the Flow triggers need from the scheduler that owns their slots."""

    def trigger_slots(self) -> list[TriggerSlot]: ...
    def make_context(self, slot: TriggerSlot) -> TriggerContext: ...
    def start_execution(self, slot: TriggerSlot, firing: TriggerFiring,
                        ctx: TriggerContext | None) -> ExecutionHandle | None: ...
    def log(self, slot: TriggerSlot, level: str, message: str) -> None: ...
    def publish(self, slot: TriggerSlot) -> None: ...


class FlowListeners:
    """Queues execution state changes and fires the Flow triggers they match, on one thread."""

    def __init__(self, host: ListenerHost, store: ValueStore) -> None:
        self._host = host
        self._store = store
        self._queue: queue.Queue[Execution | None] = queue.Queue()
        self._seen: dict[str, str] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def observe(self, execution: Execution) -> None:
        """An ExecutionChanged: queue it when its state is new for that execution."""
        state = execution.state.value
        with self._lock:
            if self._seen.get(execution.id) == state:
                return
            self._seen.pop(execution.id, None)
            self._seen[execution.id] = state  # a terminal state published twice is one change
            if len(self._seen) > SEEN_LIMIT:
                del self._seen[next(iter(self._seen))]
            if state == "CREATED":
                return  # Kestra: a Flow trigger reacts to transitions, never to CREATED
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="flow-triggers", daemon=True)
                self._thread.start()
        self._queue.put(execution)

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            execution = self._queue.get()
            if execution is None:
                return
            try:
                self._offer(execution)
            except Exception as exc:  # a Roost bug: keep listening
                for slot in self._flow_slots():
                    self._host.log(slot, "TRACE", traceback.format_exc())
                    self._host.log(slot, "ERROR", f"internal error: {exc!r}")

    def _flow_slots(self) -> list[TriggerSlot]:
        return [s for s in self._host.trigger_slots() if s.kind == FLOW and isinstance(s.trigger, FlowTrigger)]

    def _offer(self, execution: Execution) -> None:
        upstream = Upstream(execution.id, execution.namespace, execution.flow_id, execution.state.value,
                            labels=dict(execution.labels), outputs=dict(execution.outputs or {}),
                            inputs=dict(execution.inputs or {}))
        for slot in self._flow_slots():
            if not slot.runnable or slot.paused:
                continue
            trigger = slot.trigger
            assert isinstance(trigger, FlowTrigger)
            ctx = self._host.make_context(slot)
            try:
                firing = trigger.react(upstream, ctx, self._store, utcnow())
            except TriggerError as exc:
                slot.error = exc.message
                self._host.log(slot, "ERROR", f"execution {execution.id}: {exc.message}")
                self._host.publish(slot)
                continue
            if firing is None:
                continue
            slot.error = None
            slot.last_poll = utcnow()
            self._host.log(slot, "INFO", f"fire: {firing.summary}")
            self._host.start_execution(slot, firing, ctx)
