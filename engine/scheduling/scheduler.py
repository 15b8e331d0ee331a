"""TriggerScheduler: runs the triggers of a set of flows, and the small API a panel drives.

```python
scheduler = TriggerScheduler(runtime, executor=executor)   # the workbench passes its executor
scheduler.bus.subscribe(on_trigger_event)                  # TriggerStatusChanged, TriggerLog, TriggerFired
scheduler.set_flows(flows)                                 # again whenever flows change on disk
scheduler.start()
scheduler.statuses()                                       # next poll/fire, last result, paused...
scheduler.pause(key); scheduler.resume(key); scheduler.fire_now(key)
scheduler.stop()                                           # cancels the executions it started
```
Executions run in this process through the executor, so their events reach the same
consumers (history, CLI, workbench) as any other run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from engine.core.records import utcnow
from engine.execution.runtime import RunOptions
from engine.flow.plugin_defaults import apply_plugin_defaults
from engine.scheduling.events import (
    TriggerBus,
    TriggerFired,
    TriggerLog,
    TriggerStatus,
    TriggerStatusChanged,
)
from engine.scheduling.flow_listeners import FlowListeners
from engine.scheduling.slots import TriggerSlot
from engine.scheduling.trigger_context import PollContext, TriggerServices
from engine.triggers.base import FLOW, WEBHOOK, TriggerContext, TriggerFiring, TriggerKey
from engine.triggers.properties import TriggerError, as_text
from engine.triggers.registry import trigger_class
from engine.triggers.state import KeyValueStore, TriggerState

if TYPE_CHECKING:
    from datetime import timedelta

    from engine.core.events import Event
    from engine.execution.executor import ExecutionHandle, Executor
    from engine.execution.runtime import Runtime
    from engine.flow.model import Flow
    from engine.scheduling.webhook_server import WebhookResponse, WebhookServer
    from engine.triggers.webhook import WebhookRequest


class TriggerScheduler:
    """Owns one slot per trigger of the loaded flows and the executions they start."""

    def __init__(self, runtime: Runtime, executor: Executor | None = None, *,
                 options: RunOptions | None = None, webhook_host: str = "127.0.0.1",
                 webhook_port: int | None = None) -> None:
        from engine.execution.executor import Executor

        self.runtime = runtime
        self.executor = executor or Executor(runtime)
        self.options = options or RunOptions()
        self.bus = TriggerBus()
        self.webhook_host = webhook_host
        self.webhook_port = runtime.config.webhook_port if webhook_port is None else webhook_port
        self.webhook_server: WebhookServer | None = None
        self._kv = KeyValueStore(runtime.history)
        self._lock = threading.RLock()
        self._slots: dict[TriggerKey, TriggerSlot] = {}
        self._flows: dict[str, Flow] = {}
        self._by_execution: dict[str, TriggerSlot] = {}
        self._handles: dict[str, ExecutionHandle] = {}
        self._started = False
        self._flow_listeners = FlowListeners(self, self._kv)
        self._unsubscribe = self.executor.bus.subscribe(self._on_execution_event, batches=True)

    # --- the panel's API ---------------------------------------------------------------------
    def statuses(self) -> list[TriggerStatus]:
        with self._lock:
            return [slot.status() for slot in sorted(self._slots.values(), key=lambda s: s.key)]

    def status(self, key: TriggerKey) -> TriggerStatus:
        return self._slot(key).status()

    def pause(self, key: TriggerKey) -> None:
        self._set_paused(self._slot(key), True)

    def resume(self, key: TriggerKey) -> None:
        self._set_paused(self._slot(key), False)

    def fire_now(self, key: TriggerKey) -> None:
        """Poll now (polling), fire with now's date (schedule), or fire with an empty request (webhook)."""
        slot = self._slot(key)
        if not slot.runnable:
            raise TriggerError(f"trigger {key} is {slot.state.lower()}: it cannot fire")
        if slot.kind == FLOW:
            raise TriggerError(f"trigger {key} fires when another flow's execution changes state: "
                               "run that flow instead")
        if slot.kind == WEBHOOK:
            from engine.triggers.webhook import WebhookRequest

            threading.Thread(target=self.handle_webhook_slot, args=(slot, WebhookRequest("POST")),
                             name=f"fire-{key}", daemon=True).start()
            return
        self.log(slot, "INFO", "fire now requested")
        slot.poke(force=True)

    def set_trigger_enabled(self, namespace: str, flow_id: str, trigger_id: str, enabled: bool) -> str:
        """The Toggle task (engine.tasks.trigger_switch.TriggerSwitch): resume or pause a trigger."""
        from engine.core.errors import TaskFailure

        with self._lock:
            known_flow = any((f.namespace, f.id) == (namespace, flow_id) for f in self._flows.values())
            slot = self._slots.get(TriggerKey(namespace, flow_id, trigger_id))
        if not known_flow:
            raise TaskFailure(f"Unable to find flow {namespace}.{flow_id}. Make sure the flow exists and "
                              "the current execution is authorized to access it.")
        if slot is None:
            raise TaskFailure(f"Unable to find trigger {trigger_id} for the flow {namespace}.{flow_id}")
        self._set_paused(slot, not enabled)
        note = "" if slot.runnable else " (it stays off: the flow or the trigger says disabled: true)"
        return f"trigger {slot.key} {'enabled' if enabled else 'disabled'}{note}"

    def trigger_slots(self) -> list[TriggerSlot]:
        with self._lock:
            return list(self._slots.values())

    def running_executions(self) -> list[ExecutionHandle]:
        with self._lock:
            return [h for h in self._handles.values() if not h.done]

    # --- flows -------------------------------------------------------------------------------
    def set_flows(self, flows: Iterable[Flow]) -> None:
        """Load (or reload) these flows: changed ones get new slots; removed ones stop."""
        incoming: dict[str, Flow] = {}
        seen_keys: dict[str, str] = {}
        for flow in flows:
            if flow.key in seen_keys:
                self._log_key(TriggerKey(flow.namespace, flow.id, "-"), "WARN",
                              f"{flow.path} defines {flow.key} again (first in {seen_keys[flow.key]}); ignored")
                continue
            seen_keys[flow.key] = flow.path
            incoming[flow.path] = flow
        with self._lock:
            changed = [path for path, old in self._flows.items()
                       if path not in incoming or incoming[path].text != old.text]
            old_slots = {k: s for k, s in self._slots.items() if s.flow.path in changed}
            for key in old_slots:
                del self._slots[key]
            added = [flow for path, flow in incoming.items() if path not in self._flows or path in changed]
            self._flows = incoming
            new_slots = [slot for flow in added for slot in self._make_slots(flow)]
        for slot in old_slots.values():
            slot.stop()
        for key, slot in old_slots.items():
            slot.join(5)
            if key not in {s.key for s in new_slots}:
                self.publish_removed(slot)
        for slot in new_slots:
            previous = old_slots.get(slot.key)
            if previous is not None:  # a reload keeps what the panel shows and the lock
                slot.running, slot.last_poll = previous.running, previous.last_poll
                slot.last_result, slot.last_execution_id = previous.last_result, previous.last_execution_id
                with self._lock:
                    for execution_id, owner in self._by_execution.items():
                        if owner is previous:
                            self._by_execution[execution_id] = slot
            with self._lock:
                self._slots[slot.key] = slot
            if self._started:
                self._start_slot(slot)
            self.publish(slot)

    def _make_slots(self, flow: Flow) -> list[TriggerSlot]:
        defaults = [*flow.plugin_defaults, *self.runtime.config.plugin_defaults]
        slots = []
        for raw in flow.triggers:
            props = apply_plugin_defaults(raw, defaults)
            type_name, trigger_id = str(props.get("type")), str(props.get("id"))
            cls = trigger_class(type_name)
            trigger = cls(trigger_id, type_name, props) if cls is not None else None
            error = None if cls is not None else f"{type_name} triggers are not run by Roost"
            slot = TriggerSlot(self, flow, type_name, trigger, trigger_id, error)
            slot.paused = self._kv.get(f"trigger-paused:{slot.key}") == "1"
            slots.append(slot)
        return slots

    def publish_removed(self, slot: TriggerSlot) -> None:
        from dataclasses import replace

        self.bus.publish(TriggerStatusChanged(replace(slot.status(), state="STOPPED", next_fire=None)))

    # --- running -----------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            self._started = True
            slots = list(self._slots.values())
        self.runtime.trigger_switch = self  # Toggle tasks of any execution switch these live
        for slot in slots:
            self._start_slot(slot)

    def stop(self, *, cancel_running: bool = True, timeout: float = 30.0) -> None:
        """Stop every trigger; cancel (or let finish) the executions they started, then wait."""
        with self._lock:
            self._started = False
            slots = list(self._slots.values())
        if self.runtime.trigger_switch is self:
            self.runtime.trigger_switch = None
        for slot in slots:
            slot.stop()
        for slot in slots:
            slot.join(5)
        self._flow_listeners.stop()
        if self.webhook_server is not None:
            self.webhook_server.stop()
            self.webhook_server = None
        # An execution a poll started while stopping is cancelled too: it stays in the history as
        # KILLED with its trigger payload, so `roost run --trigger` can replay it.
        handles = self.running_executions()
        for handle in handles:
            if cancel_running:
                handle.cancel()
        for handle in handles:
            handle.wait(timeout)
        self._unsubscribe()

    def _start_slot(self, slot: TriggerSlot) -> None:
        if slot.kind == WEBHOOK and slot.runnable:
            self._register_webhook(slot)
        slot.start()

    def make_context(self, slot: TriggerSlot) -> PollContext:
        assert slot.trigger is not None
        return PollContext(self.runtime, slot.flow, slot.trigger,
                           lambda level, message: self.log(slot, level, message),
                           self._state, slot.stopped)

    def _state(self, key: str, ttl: timedelta | None) -> TriggerState:
        return TriggerState(self._kv, key, ttl)

    def start_execution(self, slot: TriggerSlot, firing: TriggerFiring,
                        ctx: TriggerContext | None) -> ExecutionHandle | None:
        """Create and start the execution of one firing; None (logged) when its inputs are refused."""
        from engine.flow.inputs import InputError

        try:
            handle = self.executor.prepare(slot.flow, firing.inputs, trigger=firing.variables,
                                           options=self.options, execution_id=firing.execution_id)
        except Exception as exc:  # refused inputs, or a file input that cannot be stored
            if ctx is not None:
                ctx.discard_files()
            message = exc.message if isinstance(exc, InputError) else repr(exc)
            slot.error = slot.last_result = f"inputs refused: {message}"
            self.log(slot, "ERROR", f"no execution started: {message}")
            self.publish(slot)
            return None
        with self._lock:
            slot.running = handle
            slot.last_execution_id = handle.execution_id
            slot.last_result = f"started execution {handle.execution_id}"
            self._by_execution[handle.execution_id] = slot
            self._handles[handle.execution_id] = handle
        self.log(slot, "INFO", f"starting execution {handle.execution_id}")
        self.bus.publish(TriggerFired(slot.key, handle.execution_id, firing.summary))
        self.executor.start(handle)
        self.publish(slot)
        return handle

    def _on_execution_event(self, event: Event) -> None:
        from engine.core.events import ExecutionChanged

        if not isinstance(event, ExecutionChanged):
            return
        if self._started:  # Flow triggers see every state change, on their own thread
            self._flow_listeners.observe(event.execution)
        if not event.execution.state.is_terminal:
            return
        execution = event.execution
        with self._lock:
            slot = self._by_execution.pop(execution.id, None)
            self._handles.pop(execution.id, None)
        if slot is None:
            return
        if slot.running is not None and slot.running.execution_id == execution.id:
            slot.running = None
        slot.last_result = f"execution {execution.id} {execution.state.value}"
        self.log(slot, "INFO", f"execution {execution.id} ended {execution.state.value}")
        if slot.trigger is not None and execution.state.value in slot.trigger.stop_after:
            self.log(slot, "WARN", f"paused: stopAfter {execution.state.value}")
            self._set_paused(slot, True)
        slot.poke()
        self.publish(slot)

    # --- webhooks ----------------------------------------------------------------------------
    def _register_webhook(self, slot: TriggerSlot) -> None:
        ctx = self.make_context(slot)
        try:
            slot.webhook_key = as_text(ctx.prop("key"), "key", required=True)
        except TriggerError as exc:
            slot.error = exc.message
            self.log(slot, "ERROR", f"webhook not served: {exc.message}")
            return
        server = self._webhook_server(slot)
        if server is not None and slot.webhook_key is not None:
            # A key read from a secret stays masked here too: the panel shows this URL.
            slot.url = self.runtime.masker.mask(server.url(slot.key.namespace, slot.key.flow_id, slot.webhook_key))
            self.log(slot, "INFO", f"webhook: POST/GET/PUT {slot.url}")

    def _webhook_server(self, slot: TriggerSlot) -> WebhookServer | None:
        with self._lock:
            if self.webhook_server is not None:
                return self.webhook_server
            from engine.scheduling.webhook_server import WebhookServer

            try:
                self.webhook_server = WebhookServer(self.handle_webhook, self.webhook_host,
                                                    self.webhook_port).start()
            except OSError as exc:
                slot.error = (f"cannot listen on {self.webhook_host}:{self.webhook_port}: "
                              f"{exc.strerror or exc}")
                self.log(slot, "ERROR", f"webhook server: {slot.error} (set [webhook] port in roost.toml "
                                        f"or --webhook-port)")
                return None
            return self.webhook_server

    def handle_webhook(self, namespace: str, flow_id: str, key: str, request: WebhookRequest) -> WebhookResponse:
        """Kestra's answers: 404 unknown flow or key, 422 refused inputs, 200 with the execution."""
        from engine.scheduling.webhook_server import not_found

        with self._lock:
            slots = [s for s in self._slots.values()
                     if s.key.namespace == namespace and s.key.flow_id == flow_id]
        if not slots:
            return not_found("Flow not found")
        slot = next((s for s in slots if s.kind == WEBHOOK and s.webhook_key == key), None)
        if slot is None:
            return not_found("Webhook not found")
        if not slot.runnable or slot.paused:
            return not_found("Flow is disabled" if slot.flow.disabled else "Webhook trigger is disabled")
        return self.handle_webhook_slot(slot, request)

    def handle_webhook_slot(self, slot: TriggerSlot, request: WebhookRequest) -> WebhookResponse:
        from engine.core.ids import new_id
        from engine.scheduling.webhook_server import WebhookResponse
        from engine.triggers.webhook import WebhookTrigger, execution_response, request_variables

        trigger = slot.trigger
        assert isinstance(trigger, WebhookTrigger)
        variables = request_variables(request)
        slot.last_poll = utcnow()
        self.log(slot, "INFO", f"webhook call: {request.method}")
        try:
            inputs = self._webhook_inputs(slot, variables)
        except TriggerError as exc:
            self.log(slot, "ERROR", f"webhook inputs: {exc.message}")
            return WebhookResponse(422, {"message": exc.message})
        handle = self.start_execution(slot, TriggerFiring(variables, new_id(), inputs, "webhook call"), None)
        if handle is None:
            return WebhookResponse(422, {"message": slot.error})
        if not trigger.wait:
            return WebhookResponse(200, execution_response(handle.execution.to_json([]), trigger))
        execution = handle.wait()
        code = 500 if execution.state.value in ("FAILED", "KILLED") else 200
        if "responseCode" in trigger.props:
            code = int(str(self.make_context(slot).prop("responseCode")))
        if trigger.return_outputs:
            content_type = str(trigger.props.get("responseContentType") or "application/json")
            return WebhookResponse(code, execution.outputs, content_type)
        return WebhookResponse(code, execution_response(execution.to_json([]), trigger, execution.outputs))

    def _webhook_inputs(self, slot: TriggerSlot, variables: dict[str, Any]) -> dict[str, Any]:
        assert slot.trigger is not None
        inputs = slot.trigger.props.get("inputs")
        if not isinstance(inputs, dict):
            return {}
        from engine.template import TemplateError

        ctx = self.make_context(slot)
        try:
            rendered = self.runtime.templates.render_value(
                inputs, {**ctx.variables(), "trigger": variables}, TriggerServices(self.runtime))
        except TemplateError as exc:
            raise TriggerError(f"inputs: {exc.message}") from None
        return dict(rendered)

    # --- status, logs, state --------------------------------------------------------------------
    def _slot(self, key: TriggerKey) -> TriggerSlot:
        with self._lock:
            slot = self._slots.get(key)
        if slot is None:
            raise TriggerError(f"no trigger {key} is loaded")
        return slot

    def _set_paused(self, slot: TriggerSlot, paused: bool) -> None:
        slot.paused = paused
        self._kv.set(f"trigger-paused:{slot.key}", "1" if paused else "0")
        self.log(slot, "INFO", "paused" if paused else "resumed")
        slot.poke()
        self.publish(slot)

    def publish(self, slot: TriggerSlot) -> None:
        self.bus.publish(TriggerStatusChanged(slot.status()))

    def log(self, slot: TriggerSlot, level: str, message: str) -> None:
        self._log_key(slot.key, level, message)

    def _log_key(self, key: TriggerKey, level: str, message: str) -> None:
        self.bus.publish(TriggerLog(key, level, self.runtime.masker.mask(message), utcnow()))

    def get_value(self, key: str) -> str | None:
        return self._kv.get(key)

    def set_value(self, key: str, value: str) -> None:
        self._kv.set(key, value)
