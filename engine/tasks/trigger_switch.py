"""What the Toggle task asks of the engine: switch one trigger of one flow on or off.

Kestra's Toggle rewrites the trigger's `disabled` flag in its trigger table; Roost's
equivalent is the pause state `roost triggers` and the workbench's `p` keep per trigger.
The running scheduler implements this (the change shows at once); without one, the
execution layer stores the state for the next `roost triggers`.
"""

from __future__ import annotations

from typing import Protocol


class TriggerSwitch(Protocol):
    """Enables or disables (pauses) a trigger by its key."""

    def set_trigger_enabled(self, namespace: str, flow_id: str, trigger_id: str, enabled: bool) -> str:
        """Switch it; returns a sentence for the task's log.

        Raises TaskFailure with Kestra's message when the flow or the trigger is unknown."""
        ...
