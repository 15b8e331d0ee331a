"""The Toggle task without a running scheduler: the pause state stored for `roost triggers`.

`roost run` has no trigger scheduler; a Toggle there writes the same `trigger-paused:` entry
the scheduler reads when it loads a flow, so `roost triggers` starts with the trigger off
(or on). Only the running flow's own triggers can be checked here: another flow is not
loaded by `roost run`, so its trigger is switched unchecked and the log line says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.errors import TaskFailure
from engine.triggers.state import KeyValueStore

if TYPE_CHECKING:
    from engine.flow.model import Flow
    from engine.store.history import History

PAUSED_KEY = "trigger-paused:{namespace}.{flow_id}.{trigger_id}"  # as TriggerScheduler keeps it


class StoredTriggerSwitch:
    """Satisfies engine.tasks.trigger_switch.TriggerSwitch from the history database's kv table."""

    def __init__(self, history: History | None, current: Flow) -> None:
        self._store = KeyValueStore(history)
        self._history = history
        self._current = current

    def set_trigger_enabled(self, namespace: str, flow_id: str, trigger_id: str, enabled: bool) -> str:
        own = (namespace, flow_id) == (self._current.namespace, self._current.id)
        if own and trigger_id not in {str(raw.get("id")) for raw in self._current.triggers}:
            raise TaskFailure(f"Unable to find trigger {trigger_id} for the flow {namespace}.{flow_id}")
        if self._history is None:
            raise TaskFailure("Toggle needs the history database (it keeps the trigger's state): "
                              "run without --no-history")
        self._store.set(PAUSED_KEY.format(namespace=namespace, flow_id=flow_id, trigger_id=trigger_id),
                        "0" if enabled else "1")
        what = "enabled" if enabled else "disabled"
        note = "" if own else f" (flow {namespace}.{flow_id} is not loaded here: not checked)"
        return (f"trigger {trigger_id} of {namespace}.{flow_id} {what}{note}; "
                "`roost triggers` applies it when it loads the flow")
