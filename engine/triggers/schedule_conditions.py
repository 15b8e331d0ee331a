"""A Schedule's `conditions`: the dates Kestra's schedule conditions let through.

Kestra tests each of a Schedule's conditions on the date it is about to fire for (each
condition's `date`, `{{ trigger.date }}` by default) and starts no execution when one is
false: `DayWeek`, `DayWeekInMonth`, `Weekend`, `TimeBetween`, `DateTimeBetween`,
`PublicHoliday` (the `holidays` package's calendars standing in for Jollyday's), and
`Expression`, `Not`, `Or` around them. A condition Roost does not know is a TriggerError
(logged, the date skipped), never a silent pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.core.records import parse_iso
from engine.core.truth import is_truthy
from engine.triggers.properties import TriggerError

_P = "io.kestra.plugin.core.condition."
_L = "io.kestra.core.models.conditions.types."


def _names(kind: str, legacy: str | None = None) -> tuple[str, ...]:
    legacy = legacy or f"{kind}Condition"
    return (_P + kind, _L + legacy, _P + legacy)


SCHEDULE_CONDITION_TYPES: dict[str, tuple[str, ...]] = {
    "DayWeek": _names("DayWeek"), "DayWeekInMonth": _names("DayWeekInMonth"),
    "Weekend": _names("Weekend"), "TimeBetween": _names("TimeBetween"),
    "DateTimeBetween": _names("DateTimeBetween"), "PublicHoliday": _names("PublicHoliday"),
    "Expression": (_P + "Expression", _L + "VariableCondition", _P + "ExpressionCondition"),
    "Not": _names("Not"), "Or": _names("Or"),
}
_KIND_OF = {name: kind for kind, names in SCHEDULE_CONDITION_TYPES.items() for name in names}
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
ORDINALS = {"FIRST": 0, "SECOND": 1, "THIRD": 2, "FOURTH": 3}

Render = Callable[[Any, str], Any]
"""Render a condition property with the firing's variables (`trigger.date`...)."""


def schedule_allows(conditions: Sequence[Any], render: Render) -> bool:
    """True when every condition holds for the date being fired; raises TriggerError."""
    return all(_test(condition, render, f"conditions[{index}]")
               for index, condition in enumerate(conditions))


def _test(condition: Any, render: Render, where: str) -> bool:
    if not isinstance(condition, Mapping):
        raise TriggerError(f"{where}: a condition is a map with a 'type'")
    type_name = str(condition.get("type", ""))
    kind = _KIND_OF.get(type_name)
    if kind is None:
        raise TriggerError(f"{where}: Roost does not evaluate the condition type '{type_name}' on a "
                           "Schedule (it evaluates DayWeek, DayWeekInMonth, Weekend, TimeBetween, "
                           "DateTimeBetween, PublicHoliday, Expression, Not and Or)")
    if kind in ("Not", "Or"):
        children = condition.get("conditions")
        if not isinstance(children, list) or not children:
            raise TriggerError(f"{where}.conditions: {kind} needs a non-empty list of conditions")
        results = [_test(child, render, f"{where}.conditions[{i}]") for i, child in enumerate(children)]
        return not any(results) if kind == "Not" else any(results)
    if kind == "Expression":
        return is_truthy(render(condition.get("expression"), f"{where}.expression"))
    moment = _date(render(condition.get("date", "{{ trigger.date }}"), f"{where}.date"), where)
    if kind == "DayWeek":
        return DAYS[moment.weekday()] == _day(condition, where)
    if kind == "DayWeekInMonth":
        return _is_day_in_month(moment.date(), _day(condition, where), condition.get("dayInMonth"), where)
    if kind == "Weekend":
        return moment.weekday() >= 5
    if kind == "PublicHoliday":
        return _is_holiday(moment.date(), render(condition.get("country"), f"{where}.country"),
                           render(condition.get("subDivision"), f"{where}.subDivision"), where)
    return _between(kind, moment, condition, where)


def _date(value: Any, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    parsed = parse_iso(str(value)) if value is not None else None
    if parsed is None:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise TriggerError(f"{where}.date: '{value}' is not a date") from None
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return parsed


def _day(condition: Mapping[str, Any], where: str) -> str:
    day = str(condition.get("dayOfWeek", "")).upper()
    if day not in DAYS:
        raise TriggerError(f"{where}.dayOfWeek: must be one of {', '.join(DAYS)}")
    return day


def _is_day_in_month(day: dt.date, weekday: str, which: Any, where: str) -> bool:
    which = str(which or "").upper()
    wanted = DAYS.index(weekday)
    same = [d for d in range(1, 32) if _valid(day.year, day.month, d)
            and dt.date(day.year, day.month, d).weekday() == wanted]
    if which == "LAST":
        return day.day == same[-1]
    if which not in ORDINALS:
        raise TriggerError(f"{where}.dayInMonth: must be one of FIRST, SECOND, THIRD, FOURTH, LAST")
    return day.day == same[ORDINALS[which]]


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _between(kind: str, moment: dt.datetime, condition: Mapping[str, Any], where: str) -> bool:
    after, before = condition.get("after"), condition.get("before")
    if after is None and before is None:
        raise TriggerError(f"{where}: Invalid condition with no before nor after")
    if kind == "TimeBetween":
        now = moment.timetz()
        low = _time(after, f"{where}.after", moment) if after is not None else None
        high = _time(before, f"{where}.before", moment) if before is not None else None
        return (low is None or now > low) and (high is None or now < high)
    low_moment = _date(after, f"{where}.after") if after is not None else None
    high_moment = _date(before, f"{where}.before") if before is not None else None
    return (low_moment is None or moment > low_moment) and (high_moment is None or moment < high_moment)


def _time(value: Any, where: str, moment: dt.datetime) -> dt.time:
    """An OffsetTime (`09:00:00+02:00`); with no offset, the fired date's own."""
    try:
        parsed = value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise TriggerError(f"{where}: '{value}' is not a time such as 09:00:00+02:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=moment.tzinfo)
    # Compare on one day, in the fired date's offset, as OffsetTime does.
    day = moment.date()
    as_moment = dt.datetime.combine(day, parsed).astimezone(moment.tzinfo)
    return as_moment.timetz()


def _is_holiday(day: dt.date, country: Any, subdivision: Any, where: str) -> bool:
    import holidays

    code = str(country or "").upper()
    if not code:
        raise TriggerError(f"{where}.country: give an ISO 3166-1 country code such as FR "
                           "(Roost does not guess one from the machine's locale)")
    sub = str(subdivision).upper().removeprefix(f"{code}-") if subdivision else None
    try:
        calendar = holidays.country_holidays(code, subdiv=sub, years=day.year)
    except NotImplementedError:
        raise TriggerError(f"{where}: no public holiday calendar for country '{code}'"
                           f"{f' and subdivision {sub}' if sub else ''}") from None
    return day in calendar
