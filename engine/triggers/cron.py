"""Cron expressions as Kestra's Schedule reads them: 5 fields, 6 with `withSeconds`, nicknames.

Checking syntax is done here in plain Python so `roost validate` never imports a cron
library; computing fire times uses croniter (imported on first use), which agrees with
Kestra's cron-utils on the UNIX definition: day-of-month and day-of-week are OR-ed when
both are restricted, 0 and 7 are Sunday, `L`, `W` and `#` work as in Quartz.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

NICKNAMES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# name, lowest, highest, names (index 0 is `lowest`)
_FIELDS = (
    ("second", 0, 59, ()), ("minute", 0, 59, ()), ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()), ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS),
)
_RANGE = re.compile(r"^(?P<start>[A-Za-z0-9]+)(?:-(?P<end>[A-Za-z0-9]+))?(?:/(?P<step>\d+))?$")


class CronError(ValueError):
    """A cron expression Kestra (or Roost) would refuse; the message says why."""


def normalise(expression: str, with_seconds: bool) -> tuple[str, bool]:
    """(expression for croniter, has a seconds field); raises CronError."""
    text = " ".join(str(expression).split())
    if text.startswith("@"):
        if text.lower() not in NICKNAMES:
            raise CronError(f"unknown cron nickname '{text}' (use one of {', '.join(NICKNAMES)})")
        return NICKNAMES[text.lower()], False
    fields = text.split(" ") if text else []
    expected = 6 if with_seconds else 5
    if len(fields) != expected:
        hint = ("; with withSeconds: true the first field is the second" if with_seconds
                else "; set withSeconds: true for a seconds field" if len(fields) == 6 else "")
        raise CronError(f"cron '{text}' has {len(fields)} fields, expected {expected}{hint}")
    specs = _FIELDS if with_seconds else _FIELDS[1:]
    for value, (name, low, high, names) in zip(fields, specs, strict=True):
        problem = _field_problem(value, name, low, high, names)
        if problem:
            raise CronError(f"cron '{text}': {name} '{value}' {problem}")
    return text, with_seconds


def _field_problem(value: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    for part in value.split(","):
        if not part:
            return "has an empty list item"
        if part in ("*", "?") or re.fullmatch(r"[*?]/\d+", part):
            if part.startswith("?") and name not in ("day of month", "day of week"):
                return "may use '?' only for day of month or day of week"
            if "/" in part and int(part.split("/")[1]) == 0:
                return "has a step of 0"
            continue
        if name == "day of month" and re.fullmatch(r"L|LW|\d{1,2}W|L-\d{1,2}", part, re.IGNORECASE):
            continue
        if name == "day of week":
            hash_match = re.fullmatch(r"([0-7]|[A-Za-z]{3})#([1-5])", part)
            if hash_match:
                problem = _number_problem(hash_match.group(1), low, high, names)
                if problem:
                    return problem
                continue
            if re.fullmatch(r"[0-7]?L", part, re.IGNORECASE):
                return "uses 'L', which Roost's scheduler does not support in day of week"
        match = _RANGE.match(part)
        if match is None:
            return f"is not valid cron syntax (expected a number {low}-{high}, a range, a list or '*')"
        start = match.group("start")
        end = match.group("end")
        for bound in (start, end):
            if bound is not None:
                problem = _number_problem(bound, low, high, names)
                if problem:
                    return problem
        if end is not None and _number(end, names, low) < _number(start, names, low):
            return f"has a range {start}-{end} that goes backwards"
        if match.group("step") is not None and int(match.group("step")) == 0:
            return "has a step of 0"
    return None


def _number(token: str, names: tuple[str, ...], low: int) -> int:
    if token.isdigit():
        return int(token)
    return names.index(token.upper()) + low


def _number_problem(token: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    if token.isdigit():
        if not low <= int(token) <= high:
            return f"is out of range ({low}-{high})"
        return None
    if token.upper() in names:
        return None
    allowed = f" or a name ({names[0]}-{names[-1]})" if names else ""
    return f"uses '{token}', which is not a number{allowed}"


class CronSchedule:
    """Fire times of one cron expression in one time zone."""

    def __init__(self, expression: str, with_seconds: bool, zone: tzinfo) -> None:
        self.expression, self.with_seconds = normalise(expression, with_seconds)
        self.zone = zone

    def _iterator(self, start: datetime) -> Any:
        from croniter import croniter

        try:
            return croniter(self.expression, start.astimezone(self.zone),
                            second_at_beginning=self.with_seconds)
        except (ValueError, KeyError) as exc:
            raise CronError(f"cron '{self.expression}': {exc}") from None

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`."""
        result: datetime = self._iterator(moment).get_next(datetime)
        return result

    def previous_before(self, moment: datetime) -> datetime:
        """The last fire time strictly before `moment`."""
        result: datetime = self._iterator(moment).get_prev(datetime)
        return result
