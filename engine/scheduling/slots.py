"""One running trigger: its thread, its timing, its lock, its status.

A polling trigger polls at once, then every `interval`, and sooner when woken (fire
now, or its folder changed). A schedule sleeps until its next date. While an execution
a trigger started is still running, the trigger waits for it before polling or firing
again, as Kestra locks a trigger until its execution ends (unless `allowConcurrent`).
A failing poll is logged and retried at the next interval; it never ends the thread.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from engine.core.records import parse_iso, utcnow
from engine.scheduling.events import ACTIVE, DISABLED, PAUSED, UNSUPPORTED, TriggerStatus
from engine.triggers.base import (
    FLOW,
    POLLING,
    WEBHOOK,
    Trigger,
    TriggerContext,
    TriggerFiring,
    TriggerKey,
)
from engine.triggers.properties import TriggerError

if TYPE_CHECKING:
    from engine.execution.executor import ExecutionHandle
    from engine.flow.model import Flow
    from engine.scheduling.folder_watch import FolderWatch
    from engine.triggers.schedule import ScheduleTrigger

CATCH_UP_LIMIT = timedelta(seconds=60)  # later than this, a schedule's missed dates follow its recovery rule
WATCH_SETTLE_SECONDS = 0.5


class SlotHost(Protocol):
    """What a slot needs from the scheduler that owns it."""

    def make_context(self, slot: TriggerSlot) -> TriggerContext: ...
    def start_execution(self, slot: TriggerSlot, firing: TriggerFiring,
                        ctx: TriggerContext | None) -> ExecutionHandle | None: ...
    def log(self, slot: TriggerSlot, level: str, message: str) -> None: ...
    def publish(self, slot: TriggerSlot) -> None: ...
    def get_value(self, key: str) -> str | None: ...
    def set_value(self, key: str, value: str) -> None: ...


class TriggerSlot:
    """A trigger of a loaded flow, with the state a panel shows and the thread that runs it."""

    def __init__(self, host: SlotHost, flow: Flow, type_name: str, trigger: Trigger | None,
                 trigger_id: str, error: str | None = None) -> None:
        self.host = host
        self.flow = flow
        self.key = TriggerKey(flow.namespace, flow.id, trigger_id)
        self.type = type_name
        self.trigger = trigger
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.force = False
        self.paused = False
        self.thread: threading.Thread | None = None
        self.watch: FolderWatch | None = None
        self.running: ExecutionHandle | None = None
        self.next_fire: datetime | None = None
        self.last_poll: datetime | None = None
        self.last_result: str | None = None
        self.last_execution_id: str | None = None
        self.error = error
        self.url: str | None = None
        self.webhook_key: str | None = None

    # --- what a panel shows ---------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.trigger.KIND if self.trigger is not None else "unsupported"

    @property
    def runnable(self) -> bool:
        return self.trigger is not None and not self.trigger.disabled and not self.flow.disabled

    @property
    def state(self) -> str:
        if self.trigger is None:
            return UNSUPPORTED
        if not self.runnable:
            return DISABLED
        return PAUSED if self.paused else ACTIVE

    def status(self) -> TriggerStatus:
        running = self.running
        return TriggerStatus(
            key=self.key, type=self.type, kind=self.kind, flow_path=self.flow.path, state=self.state,
            next_fire=None if self.paused or not self.runnable else self.next_fire,
            last_poll=self.last_poll, last_result=self.last_result,
            last_execution_id=self.last_execution_id,
            running_execution_id=running.execution_id if running is not None and not running.done else None,
            error=self.error, url=self.url,
        )

    # --- control ---------------------------------------------------------------------------
    def start(self) -> None:
        if not self.runnable or self.kind in (WEBHOOK, FLOW) or self.thread is not None:
            return
        target: Callable[[], None] = self._polling_loop if self.kind == POLLING else self._schedule_loop
        if self.kind == POLLING:
            self.next_fire = utcnow()  # the first poll is at once
        else:
            try:
                self.next_fire = self.trigger.next_after(utcnow())  # type: ignore[union-attr]
            except TriggerError:
                pass  # the loop reports it
        self.thread = threading.Thread(target=self._guarded(target), name=f"trigger-{self.key}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        if self.watch is not None:
            self.watch.stop(0)

    def join(self, timeout: float) -> None:
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)
        if self.watch is not None:
            self.watch.stop(timeout)

    def poke(self, *, force: bool = False) -> None:
        if force:
            self.force = True
        self.wake.set()

    @property
    def locked(self) -> bool:
        running = self.running
        if running is None or running.done:
            return False
        return self.trigger is None or not self.trigger.allow_concurrent

    def _guarded(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                loop()
            except Exception as exc:  # a Roost bug: say so, keep the process alive
                self.error = f"internal error: {exc!r}"
                self.host.log(self, "ERROR", f"trigger stopped after an internal error: {exc!r}")
                self.host.log(self, "TRACE", traceback.format_exc())
                self.host.publish(self)

        return run

    def _wait(self, timeout: float | None) -> bool:
        """Sleep until woken or `timeout` (None: until woken); False once stopped."""
        if timeout is None or timeout > 0:
            self.wake.wait(timeout)
        self.wake.clear()
        return not self.stopped.is_set()

    # --- polling -----------------------------------------------------------------------------
    def _polling_loop(self) -> None:
        assert self.trigger is not None
        next_at = time.monotonic()
        while True:
            if self.locked:
                timeout: float | None = None  # the execution's end wakes us
            elif self.force:
                timeout = 0
            elif self.paused:
                timeout = None
            else:
                timeout = next_at - time.monotonic()
            if not self._wait(timeout):
                return
            if self.locked or (self.paused and not self.force):
                continue
            if not self.force and time.monotonic() < next_at:
                continue
            self.force = False
            retry = self._poll_once()
            delay = retry if retry is not None else self.trigger.interval.total_seconds()
            next_at = time.monotonic() + delay
            self.next_fire = utcnow() + timedelta(seconds=delay)
            self.host.publish(self)

    def _poll_once(self) -> float | None:
        assert self.trigger is not None
        ctx = self.host.make_context(self)
        self.last_poll = utcnow()
        # Watch first, then list: a file landing in between is seen by one or the other.
        watch_started = self._ensure_watch(ctx)
        try:
            firing = self.trigger.evaluate(ctx)
        except TriggerError as exc:
            self._poll_failed(ctx, exc.message)
            return None
        except Exception as exc:
            self.host.log(self, "TRACE", traceback.format_exc())
            self._poll_failed(ctx, f"internal error: {exc!r}")
            return None
        if watch_started:  # watchfiles settles in the background: look once more shortly
            ctx.retry_after = min(ctx.retry_after or WATCH_SETTLE_SECONDS, WATCH_SETTLE_SECONDS)
        self.error = None
        if firing is None:
            self.last_result = "nothing new"
            self.host.log(self, "INFO", "poll: nothing new")
            return ctx.retry_after
        self.host.log(self, "INFO", f"poll: {firing.summary}")
        self.host.start_execution(self, firing, ctx)
        return ctx.retry_after

    def _poll_failed(self, ctx: TriggerContext, message: str) -> None:
        ctx.discard_files()
        self.error = message
        self.last_result = f"poll failed: {message}"
        assert self.trigger is not None
        self.host.log(self, "ERROR", f"poll failed: {message} (retrying in "
                                     f"{self.trigger.interval.total_seconds():g}s)")

    def _ensure_watch(self, ctx: TriggerContext) -> bool:
        """Local-file triggers: watch `from` so a new file wakes the trigger at once; True if started."""
        folder_of = getattr(self.trigger, "folder", None)
        if folder_of is None or self.stopped.is_set() or (self.watch is not None and self.watch.alive):
            return False
        try:
            folder, recursive = folder_of(ctx)
        except TriggerError:
            return False
        if not folder.is_dir():
            return False
        from engine.scheduling.folder_watch import FolderWatch

        self.watch = FolderWatch(folder, lambda _paths: self.poke(force=True), recursive=recursive,
                                 name=f"watch-{self.key}").start()
        return True

    # --- schedule ----------------------------------------------------------------------------
    def _schedule_loop(self) -> None:
        trigger: ScheduleTrigger = self.trigger  # type: ignore[assignment]
        try:
            trigger.schedule  # noqa: B018 (a bad cron or zone fails here, once, with its message)
        except TriggerError as exc:
            self.error = exc.message
            self.host.log(self, "ERROR", exc.message)
            self.host.publish(self)
            return
        now = utcnow()
        for date in trigger.missed(self._last_date(), now):
            if not self._fire_scheduled(trigger, date, recovered=True):
                return
        next_date = trigger.next_after(now)
        while True:
            self.next_fire = next_date
            self.host.publish(self)
            seconds = (next_date - utcnow()).total_seconds()
            if self.locked or (self.paused and not self.force):
                timeout: float | None = None
            elif self.force:
                timeout = 0
            else:
                timeout = min(max(seconds, 0), 30.0)  # re-read the clock now and then
            if not self._wait(timeout):
                return
            if self.force and not self.locked:
                self.force = False
                self._fire_scheduled(trigger, utcnow().replace(microsecond=0), manual=True)
                continue
            if self.paused:
                next_date = trigger.next_after(utcnow())  # what passed while paused is not replayed
                continue
            now = utcnow()
            if self.locked or now < next_date:
                continue
            if now - next_date > CATCH_UP_LIMIT:
                for date in trigger.missed(next_date - timedelta(microseconds=1), now):
                    if not self._fire_scheduled(trigger, date, recovered=True):
                        return
                next_date = trigger.next_after(now)
                continue
            late = trigger.late_maximum_delay
            if late is not None and now - next_date > late:
                self.host.log(self, "WARN", f"skipped {next_date.isoformat()}: later than lateMaximumDelay")
            else:
                self._fire_scheduled(trigger, next_date)
            next_date = trigger.next_after(next_date)

    def _fire_scheduled(self, trigger: ScheduleTrigger, date: datetime, *, recovered: bool = False,
                        manual: bool = False) -> bool:
        """Fire for `date` once any execution it started has ended; False once stopped."""
        while self.locked:
            if not self._wait(None):
                return False
        self.last_poll = utcnow()
        firing = trigger.firing(date)
        if not manual:
            self.host.set_value(self._date_key, date.isoformat())
            if not self._conditions_allow(trigger, firing):
                return not self.stopped.is_set()
        why = " (missed while Roost was stopped)" if recovered else " (fire now)" if manual else ""
        self.host.log(self, "INFO", f"fire: {firing.summary}{why}")
        self.host.start_execution(self, firing, None)
        return not self.stopped.is_set()

    def _conditions_allow(self, trigger: ScheduleTrigger, firing: TriggerFiring) -> bool:
        """Kestra's schedule conditions on the date about to fire (a fire-now skips them)."""
        conditions = trigger.schedule_conditions
        if not conditions:
            return True
        from engine.triggers.schedule_conditions import schedule_allows

        ctx = self.host.make_context(self)
        extra = {"trigger": {**firing.variables}}
        try:
            allowed = schedule_allows(conditions, lambda value, name: ctx.render(value, name, extra))
        except TriggerError as exc:
            self.host.log(self, "ERROR", f"skipped {firing.variables.get('date')}: {exc.message}")
            return False
        if not allowed:
            self.host.log(self, "INFO", f"skipped {firing.variables.get('date')}: its conditions are false")
        return allowed

    @property
    def _date_key(self) -> str:
        return f"trigger-schedule:{self.key}"

    def _last_date(self) -> datetime | None:
        text = self.host.get_value(self._date_key)
        try:
            return parse_iso(text) if text else None
        except ValueError:
            return None
