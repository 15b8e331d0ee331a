"""ISO-8601 durations, read the way Kestra (Java's `Duration.parse`) reads them.

Kestra properties such as `timeout`, `retry.interval` or a DURATION input are
`java.time.Duration`s: days, hours, minutes and (fractional) seconds, each part
optionally signed, case-insensitive. Weeks (`P2W`, from `Period`) are accepted too
as a fixed 7 days. Years and months are refused: they have no fixed length, and a
Kestra server refuses them for a `Duration` as well.
"""

from __future__ import annotations

import datetime
import math
import re

__all__ = ["DurationError", "format_duration", "parse_duration"]

_EXAMPLES = "PT30S, PT5M, PT1H30M or P1D"

# Java's Duration pattern plus an optional weeks part; `[.,]` as Java allows both.
_DURATION = re.compile(
    r"(?P<sign>[-+]?)P"
    r"(?:(?P<weeks>[-+]?\d+)W)?"
    r"(?:(?P<days>[-+]?\d+)D)?"
    r"(?P<time>T"
    r"(?:(?P<hours>[-+]?\d+)H)?"
    r"(?:(?P<minutes>[-+]?\d+)M)?"
    r"(?:(?P<seconds>[-+]?\d+)(?:[.,](?P<fraction>\d{0,9}))?S)?"
    r")?",
    re.IGNORECASE | re.ASCII,
)
# A year or month part sits before the `T` (PT1M is one minute, P1M one month).
_CALENDAR = re.compile(r"[-+]?P[^T]*?\d[YM]", re.IGNORECASE | re.ASCII)


class DurationError(ValueError):
    """A value that is not a duration Kestra would accept; the message says what is."""


def _error(text: object) -> DurationError:
    return DurationError(f"'{text}' is not an ISO-8601 duration such as {_EXAMPLES}")


def parse_duration(text: str | int | float) -> datetime.timedelta:
    """`PT1M30S` -> 90 s; a bare number is taken as seconds, as Jackson does for YAML numbers."""
    if isinstance(text, bool):
        raise _error(text)
    if isinstance(text, int | float):
        if isinstance(text, float) and not math.isfinite(text):
            raise _error(text)
        try:
            return datetime.timedelta(seconds=text)
        except OverflowError:
            raise DurationError(f"'{text}' seconds is too long a duration") from None
    if not isinstance(text, str):
        raise _error(text)
    match = _DURATION.fullmatch(text)
    if match is None:
        if _CALENDAR.match(text):
            raise DurationError(
                f"'{text}' uses years or months, which have no fixed length; "
                "write it in days, e.g. P30D or P365D"
            )
        raise _error(text)
    parts = match.groupdict()
    has_time_part = any(parts[k] is not None for k in ("hours", "minutes", "seconds"))
    if parts["time"] and not has_time_part:
        raise _error(text)  # "P1DT": Java requires something after the T
    if not has_time_part and parts["weeks"] is None and parts["days"] is None:
        raise _error(text)  # "P" or "PT" alone
    try:
        result = datetime.timedelta(
            weeks=int(parts["weeks"] or 0),
            days=int(parts["days"] or 0),
            hours=int(parts["hours"] or 0),
            minutes=int(parts["minutes"] or 0),
            seconds=int(parts["seconds"] or 0),
        )
        fraction = parts["fraction"] or ""
        if fraction:
            micros = int(fraction[:6].ljust(6, "0"))  # Java keeps nanoseconds; Python micro
            negative_seconds = (parts["seconds"] or "").startswith("-")
            result += datetime.timedelta(microseconds=-micros if negative_seconds else micros)
        return -result if parts["sign"] == "-" else result
    except OverflowError:
        raise DurationError(f"'{text}' is too long a duration") from None


def format_duration(value: datetime.timedelta) -> str:
    """Back to ISO-8601: `PT1M30S`, `PT0.25S`, `P1DT2H`, `-PT5S`; zero is `PT0S`."""
    if value < datetime.timedelta(0):
        return "-" + format_duration(-value)
    days, seconds, micros = value.days, value.seconds, value.microseconds
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if micros:
        time += f"{seconds}.{micros:06d}".rstrip("0") + "S"
    elif seconds:
        time += f"{seconds}S"
    if not days and not time:
        return "PT0S"
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
