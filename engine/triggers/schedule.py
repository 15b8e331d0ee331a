"""io.kestra.plugin.core.trigger.Schedule: a cron expression in a time zone.

Each fire starts one execution whose `trigger.date` is the scheduled date (not the
moment the thread woke up), with `trigger.next` and `trigger.previous` beside it.
The last scheduled date is kept in the history database; when `roost triggers`
starts again, the dates missed meanwhile follow `recoverMissedSchedules`: NONE (Roost's
default: a laptop that was off does not replay its night), LAST or ALL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from engine.core.ids import new_id
from engine.triggers.base import SCHEDULE, Trigger, TriggerFiring
from engine.triggers.cron import CronError, CronSchedule, normalise
from engine.triggers.properties import Prop, Report, TriggerError, as_duration, as_enum

RECOVERY = ("ALL", "LAST", "NONE")
DEFAULT_RECOVERY = "NONE"
MAX_RECOVERED = 1000  # ALL after a long stop: never start more than this at once


class ScheduleTrigger(Trigger):
    TYPES = ("io.kestra.plugin.core.trigger.Schedule", "io.kestra.core.models.triggers.types.Schedule")
    KIND = SCHEDULE
    PROPERTIES = {
        "cron": Prop(required=True, dynamic=False),
        "withSeconds": Prop("bool", dynamic=False),
        "timezone": Prop(dynamic=False),
        "inputs": Prop("map"),
        "recoverMissedSchedules": Prop("enum", choices=RECOVERY, dynamic=False),
        "lateMaximumDelay": Prop("duration", dynamic=False),
        "scheduleConditions": Prop("list"),
        "backfill": Prop("any"),
        "interval": Prop("any"),  # an old Kestra property, ignored there too
    }

    def __init__(self, trigger_id: str, type_name: str, props: Mapping[str, Any]) -> None:
        super().__init__(trigger_id, type_name, props)
        self._schedule: CronSchedule | None = None

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        cron = props.get("cron")
        if isinstance(cron, str):
            try:
                normalise(cron, props.get("withSeconds") in (True, "true"))
            except CronError as exc:
                report("cron", str(exc), False)
        elif cron is not None:
            report("cron", "'cron' must be a string such as '0 9 * * *'", False)
        zone = props.get("timezone")
        if zone is not None:
            try:
                zone_of(str(zone))
            except TriggerError as exc:
                report("timezone", exc.message, False)

    @property
    def zone(self) -> tzinfo:
        value = self.props.get("timezone")
        return zone_of(str(value)) if value is not None else local_zone()

    @property
    def schedule(self) -> CronSchedule:
        if self._schedule is None:
            try:
                self._schedule = CronSchedule(str(self.props.get("cron")),
                                              self.props.get("withSeconds") in (True, "true"), self.zone)
            except CronError as exc:
                raise TriggerError(str(exc)) from None
        return self._schedule

    @property
    def recovery(self) -> str:
        return as_enum(self.props.get("recoverMissedSchedules"), "recoverMissedSchedules", RECOVERY,
                       DEFAULT_RECOVERY)

    @property
    def late_maximum_delay(self) -> timedelta | None:
        return as_duration(self.props.get("lateMaximumDelay"), "lateMaximumDelay", None)

    @property
    def schedule_conditions(self) -> list[Any]:
        """`conditions` (and the older `scheduleConditions`): tested on each date before it fires."""
        found: list[Any] = []
        for name in ("conditions", "scheduleConditions"):
            value = self.props.get(name)
            if isinstance(value, list):
                found.extend(value)
        return found

    def next_after(self, moment: datetime) -> datetime:
        return self.schedule.next_after(moment)

    def missed(self, last: datetime | None, now: datetime) -> list[datetime]:
        """The dates to fire for the time Roost was not running, per `recoverMissedSchedules`."""
        if last is None or self.recovery == "NONE":
            return []
        dates: list[datetime] = []
        moment = last
        while len(dates) < MAX_RECOVERED:
            moment = self.next_after(moment)
            if moment > now:
                break
            dates.append(moment)
        return dates[-1:] if self.recovery == "LAST" else dates

    def firing(self, date: datetime) -> TriggerFiring:
        """The execution for scheduled `date`: trigger.date/next/previous and the trigger's inputs."""
        date = date.astimezone(self.zone)
        variables = {
            "date": format_date(date),
            "next": format_date(self.next_after(date)),
            "previous": format_date(self.schedule.previous_before(date)),
        }
        inputs = self.props.get("inputs")
        return TriggerFiring(variables, new_id(), inputs=dict(inputs) if isinstance(inputs, dict) else {},
                             summary=f"scheduled for {variables['date']}")


def format_date(moment: datetime) -> str:
    """A ZonedDateTime as Kestra's JSON shows it: ISO-8601 with the offset, Z for UTC."""
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def zone_of(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TriggerError(f"unknown time zone '{name}' (use an IANA name such as Europe/Paris)") from None


def local_zone() -> tzinfo:
    """The machine's zone, as a Kestra server uses its own when a Schedule names none."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as source:
            return ZoneInfo.from_file(source, key="localtime")
    except OSError:
        return UTC
