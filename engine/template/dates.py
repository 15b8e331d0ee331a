"""Kestra's date filters and `now()`: conversions, named formats, `dateAdd`, timestamps.

Inputs follow Kestra's `AbstractDate.convert`: a datetime, an ISO string (zoned,
local, or a bare date), epoch seconds (Roost also takes epoch milliseconds: any
integer from 10^11 on, which as seconds would be past the year 5000), or a string
read with `existingFormat`. Output is written in `timeZone`, or UTC when none is
given (Kestra uses the server's zone, which is UTC in its images).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Undefined

from engine.template.errors import TemplateError
from engine.template.java_patterns import (
    DAYS,
    MONTHS,
    format_pattern,
    parse_pattern,
    zone_id_of,
)
from engine.template.values import describe_type, is_number

UTC = ZoneInfo("UTC")
_MILLIS_FROM = 10**11
_ZONE_SUFFIX = re.compile(r"\[([^\]]+)\]$")
_OFFSET_ZONE = re.compile(r"^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$")

#: Kestra's named formats (AbstractDate.FORMATTERS) that are plain patterns.
NAMED_PATTERNS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso8601": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
    "iso_local_date": "yyyy-MM-dd",
    "iso_ordinal_date": "yyyy-DDDXXX",
    "iso_week_date": "YYYY-'W'ww-eXXX",
    "rfc_1123_date_time": "EEE, d MMM yyyy HH:mm:ss 'GMT'",
}
#: Java's localized styles for an English locale (approximations of FormatStyle).
STYLES = {
    "short": "M/d/yy, h:mm a",
    "medium": "MMM d, yyyy, h:mm:ss a",
    "long": "MMMM d, yyyy 'at' h:mm:ss a z",
    "full": "EEEE, MMMM d, yyyy 'at' h:mm:ss a zzzz",
}
CHRONO_UNITS = ("NANOS", "MICROS", "MILLIS", "SECONDS", "MINUTES", "HOURS", "HALF_DAYS",
                "DAYS", "WEEKS", "MONTHS", "YEARS", "DECADES", "CENTURIES", "MILLENNIA")
_EXACT_UNITS = {"NANOS": 1e-3, "MICROS": 1, "MILLIS": 1e3, "SECONDS": 1e6, "MINUTES": 60e6,
                "HOURS": 3600e6, "HALF_DAYS": 43200e6}
_MONTH_UNITS = {"MONTHS": 1, "YEARS": 12, "DECADES": 120, "CENTURIES": 1200, "MILLENNIA": 12000}


def zone(name: Any) -> dt.tzinfo:
    """A Java zone id (`Europe/Paris`, `UTC`, `+02:00`) as a tzinfo; UTC when None."""
    if name is None:
        return UTC
    if not isinstance(name, str):
        raise TemplateError(f"a time zone must be a string, got {describe_type(name)}")
    if name in ("Z", "UTC", "GMT", "UT", "Etc/UTC"):
        return UTC
    if match := _OFFSET_ZONE.match(name):
        sign = -1 if match.group(1) == "-" else 1
        delta = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return dt.timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TemplateError(f"unknown time zone '{name}'") from None


def to_datetime(value: Any, tz: dt.tzinfo, existing_format: str | None = None) -> dt.datetime:
    """An aware datetime from whatever a date filter receives."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(12), tz)
    if is_number(value):
        seconds = value / 1000 if abs(value) >= _MILLIS_FROM else value
        try:
            return dt.datetime.fromtimestamp(float(seconds), UTC).astimezone(tz)
        except (OverflowError, OSError, ValueError):
            raise TemplateError(f"{value} is not a valid epoch time") from None
    if isinstance(value, str):
        return _parse(value, tz, existing_format)
    raise TemplateError(f"a date filter needs a date, a string or a number, got {describe_type(value)}")


def _parse(text: str, tz: dt.tzinfo, existing_format: str | None) -> dt.datetime:
    if existing_format:
        return _parse_with_pattern(text, tz, existing_format)
    raw = text.strip()
    zone_name = None
    if suffix := _ZONE_SUFFIX.search(raw):
        zone_name, raw = suffix.group(1), raw[:suffix.start()]
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise TemplateError(f"'{text}' is not an ISO date; give its format with existingFormat") from None
    if zone_name is not None:
        parsed = parsed.astimezone(zone(zone_name)) if parsed.tzinfo else parsed.replace(tzinfo=zone(zone_name))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _parse_with_pattern(text: str, tz: dt.tzinfo, pattern: str) -> dt.datetime:
    fields = parse_pattern(text, _pattern_of(pattern))
    year = 1970
    if "year" in fields:
        year = int(fields["year"])
    elif "year2" in fields:
        year = 2000 + int(fields["year2"])  # Java reads 'yy' in the 2000-2099 window
    month = int(fields.get("month", 1))
    if "monthname" in fields:
        month = _month_number(fields["monthname"])
    hour = int(fields.get("hour", 0))
    if "hour12" in fields:
        hour = int(fields["hour12"]) % 12 + (12 if fields.get("ampm", "AM").upper() == "PM" else 0)
    micros = int((fields.get("fraction", "0") + "000000")[:6])
    when_tz: dt.tzinfo = tz
    if "offset" in fields:
        when_tz = zone(fields["offset"].replace("GMT", "") or "UTC")
    elif "zone" in fields:
        when_tz = zone(fields["zone"])
    try:
        base = dt.datetime(year, month, int(fields.get("day", 1)), hour, int(fields.get("minute", 0)),
                           int(fields.get("second", 0)), micros, when_tz)
    except ValueError as exc:
        raise TemplateError(f"'{text}' is not a valid date: {exc}") from None
    if "yday" in fields:
        base = base.replace(month=1, day=1) + dt.timedelta(days=int(fields["yday"]) - 1)
    return base


def _month_number(name: str) -> int:
    for index, month in enumerate(MONTHS):
        if month.lower().startswith(name.lower()[:3]):
            return index + 1
    raise TemplateError(f"'{name}' is not a month name")


def _pattern_of(name: str) -> str:
    return NAMED_PATTERNS.get(name) or STYLES.get(name) or name


def format_in_zone(value: dt.datetime, format_name: str) -> str:
    """`value` (already in the output zone) written with a pattern or a named format."""
    if not isinstance(format_name, str):
        raise TemplateError(f"a date format must be a string, got {describe_type(format_name)}")
    special = _ISO_WRITERS.get(format_name)
    if special is not None:
        return special(value)
    return format_pattern(value, _pattern_of(format_name))


def _local_time(value: dt.datetime) -> str:
    text = value.strftime("%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text


def _offset_id(value: dt.datetime) -> str:
    offset = value.utcoffset() or dt.timedelta(0)
    return "Z" if not offset else format_pattern(value, "XXX")


def _zoned(value: dt.datetime) -> str:
    text = f"{value.date().isoformat()}T{_local_time(value)}{_offset_id(value)}"
    zone_id = zone_id_of(value)
    return text if zone_id in ("Z", _offset_id(value)) else f"{text}[{zone_id}]"


_ISO_WRITERS = {
    "iso_date_time": _zoned,
    "iso_zoned_date_time": _zoned,
    "iso_offset_date_time": lambda v: f"{v.date().isoformat()}T{_local_time(v)}{_offset_id(v)}",
    "iso_local_date_time": lambda v: f"{v.date().isoformat()}T{_local_time(v)}",
    "iso_date": lambda v: v.date().isoformat() + _offset_id(v),
    "iso_time": lambda v: _local_time(v) + _offset_id(v),
    "iso_offset_time": lambda v: _local_time(v) + _offset_id(v),
    "iso_local_time": _local_time,
    "iso_instant": lambda v: _instant(v),
}


def _instant(value: dt.datetime) -> str:
    from engine.template.values import format_datetime

    return format_datetime(value.astimezone(UTC))


def format_date(value: Any, format: str = "iso", timeZone: Any = None,  # noqa: A002
                existingFormat: str | None = None, locale: Any = None) -> str:
    """The `date` filter: convert, move to the output zone, write."""
    tz = zone(timeZone)
    when = to_datetime(value, tz, existingFormat).astimezone(tz)
    return format_in_zone(when, format)


def date_add(value: Any, amount: Any, unit: Any, format: str = "iso",  # noqa: A002
             timeZone: Any = None, existingFormat: str | None = None, locale: Any = None) -> str:
    """The `dateAdd` filter: `date.plus(amount, ChronoUnit.valueOf(unit))`, then formatted."""
    if not is_number(amount) or not isinstance(unit, str):
        raise TemplateError("dateAdd expects an amount and a unit, e.g. dateAdd(-1, 'DAYS')")
    tz = zone(timeZone)
    moved = add_to_date(to_datetime(value, tz, existingFormat), int(amount), unit)
    return format_in_zone(moved.astimezone(tz), format)


def add_to_date(value: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """Java's `ZonedDateTime.plus`: exact units on the instant, dates on the local calendar."""
    name = unit.upper()
    if name in _EXACT_UNITS:
        delta = dt.timedelta(microseconds=amount * _EXACT_UNITS[name])
        return (value.astimezone(dt.UTC) + delta).astimezone(value.tzinfo)
    if name in ("DAYS", "WEEKS"):
        return _relocal(value, value.replace(tzinfo=None) + dt.timedelta(days=amount * (7 if name == "WEEKS" else 1)))
    if name in _MONTH_UNITS:
        months = value.year * 12 + value.month - 1 + amount * _MONTH_UNITS[name]
        year, month = divmod(months, 12)
        day = min(value.day, calendar.monthrange(year, month + 1)[1])
        return _relocal(value, value.replace(tzinfo=None, year=year, month=month + 1, day=day))
    raise TemplateError(f"unknown time unit '{unit}'; use one of {', '.join(CHRONO_UNITS)}")


def _relocal(original: dt.datetime, local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=original.tzinfo)


def epoch(value: Any, scale: int, timeZone: Any = None, existingFormat: str | None = None) -> int:
    """`timestamp` (scale 1), `timestampMilli` (10^3), `timestampMicro`, `timestampNano`."""
    when = to_datetime(value, zone(timeZone), existingFormat)
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * scale // 1_000_000


def now(timeZone: Any = None, format: str = "iso",  # noqa: A002
        locale: Any = None) -> str:
    """`now()`: the current time in `timeZone` (UTC by default), written as Kestra's NowFunction
    writes it: the `iso` format, always six fraction digits (`2024-01-02T03:04:05.123000Z`)."""
    return format_in_zone(dt.datetime.now(zone(timeZone)), format)


__all__ = ["DAYS", "MONTHS", "add_to_date", "date_add", "epoch", "format_date", "now", "to_datetime", "zone"]
