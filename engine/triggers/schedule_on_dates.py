"""io.kestra.plugin.core.trigger.ScheduleOnDates: fire on a list of dates instead of a cron.

It is a Schedule whose fire times come from `dates` (ISO-8601 date-times, in `timezone`
when they name no offset), so the scheduler's loop, missed-date recovery and the trigger
variables (`trigger.date`, `next`, `previous`) are the Schedule's. As in Kestra, a date is
truncated to the second, and after the last date the next evaluation is a year away.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from typing import Any

from engine.triggers.properties import Prop, Report, TriggerError
from engine.triggers.schedule import RECOVERY, ScheduleTrigger, zone_of


class DateList:
    """Fire times of a sorted list of dates: the `CronSchedule` interface the scheduler uses."""

    def __init__(self, dates: list[dt.datetime]) -> None:
        self.dates = sorted(dates)

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        index = bisect_right(self.dates, moment)
        if index < len(self.dates):
            return self.dates[index]
        return moment + dt.timedelta(days=365)  # Kestra: "a date or the trigger keeps being evaluated"

    def previous_before(self, moment: dt.datetime) -> dt.datetime:
        index = bisect_left(self.dates, moment)
        return self.dates[index - 1] if index > 0 else moment


def parse_dates(value: Any, zone: dt.tzinfo) -> list[dt.datetime]:
    """`dates` as aware datetimes; raises TriggerError naming the first bad entry."""
    if not isinstance(value, list) or not value:
        raise TriggerError("'dates' must be a non-empty list of date-times such as 2025-01-31T09:00:00Z")
    dates = []
    for index, item in enumerate(value):
        if isinstance(item, dt.datetime):
            moment = item
        elif isinstance(item, dt.date):
            moment = dt.datetime(item.year, item.month, item.day)
        elif isinstance(item, str) and "{{" not in item:
            try:
                moment = dt.datetime.fromisoformat(item.replace("Z", "+00:00"))
            except ValueError:
                raise TriggerError(f"'dates[{index}]': '{item}' is not an ISO-8601 date-time "
                                   "such as 2025-01-31T09:00:00Z") from None
        else:
            raise TriggerError(f"'dates[{index}]': Roost reads literal date-times only "
                               f"(got {item!r}); write the date out, e.g. 2025-01-31T09:00:00Z")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        dates.append(moment.replace(microsecond=0))
    return dates


class ScheduleOnDatesTrigger(ScheduleTrigger):
    TYPES = ("io.kestra.plugin.core.trigger.ScheduleOnDates",)  # type: ignore[assignment]
    PROPERTIES = {
        "dates": Prop("list", required=True),
        "timezone": Prop(dynamic=False),
        "inputs": Prop("map"),
        "recoverMissedSchedules": Prop("enum", choices=RECOVERY, dynamic=False),
        "interval": Prop("any"),
    }

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        try:
            zone = zone_of(str(props["timezone"])) if props.get("timezone") is not None else dt.UTC
            parse_dates(props.get("dates"), zone)
        except TriggerError as exc:
            report("dates" if "dates" in exc.message else "timezone", exc.message, False)

    def __init__(self, trigger_id: str, type_name: str, props: Mapping[str, Any]) -> None:
        super().__init__(trigger_id, type_name, props)
        self._dates: DateList | None = None

    @property
    def schedule(self) -> DateList:  # type: ignore[override]
        if self._dates is None:
            self._dates = DateList(parse_dates(self.props.get("dates"), self.zone))
        return self._dates

    @property
    def late_maximum_delay(self) -> dt.timedelta | None:
        return None
