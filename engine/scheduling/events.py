"""What the trigger scheduler tells its consumers: statuses, log lines, firings.

`roost triggers` prints them; a workbench panel keeps the latest `TriggerStatus` per
key (next poll or fire time, last result, paused) and shows the log lines beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from engine.core.events import FanOut
from engine.triggers.base import TriggerKey

ACTIVE, PAUSED, DISABLED, UNSUPPORTED, STOPPED = "ACTIVE", "PAUSED", "DISABLED", "UNSUPPORTED", "STOPPED"


@dataclass(frozen=True)
class TriggerStatus:
    """One trigger as a panel shows it; a new snapshot is published on every change."""

    key: TriggerKey
    type: str
    kind: str  # polling | schedule | webhook | unsupported
    flow_path: str
    state: str  # ACTIVE | PAUSED | DISABLED | UNSUPPORTED | STOPPED
    next_fire: datetime | None = None  # next poll or scheduled date; None for webhooks and when paused
    last_poll: datetime | None = None  # last poll, fire or webhook call
    last_result: str | None = None  # "nothing new", "started execution ...", "execution ... SUCCESS"
    last_execution_id: str | None = None
    running_execution_id: str | None = None
    error: str | None = None  # the last failure, cleared by the next success
    url: str | None = None  # a webhook's URL, once the server listens


@dataclass(frozen=True)
class TriggerStatusChanged:
    status: TriggerStatus


@dataclass(frozen=True)
class TriggerLog:
    """A line about a trigger (poll, firing, failure), already masked."""

    key: TriggerKey
    level: str
    message: str
    date: datetime


@dataclass(frozen=True)
class TriggerFired:
    """An execution was started by a trigger."""

    key: TriggerKey
    execution_id: str
    summary: str


TriggerEvent = TriggerStatusChanged | TriggerLog | TriggerFired
TriggerSubscriber = Callable[[TriggerEvent], None]


class TriggerBus(FanOut[TriggerEvent]):
    """Trigger statuses, logs and firings, fanned out like the executor's events."""
