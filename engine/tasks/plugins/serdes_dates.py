"""Java `DateTimeFormatter` patterns (`yyyy-MM-dd'T'HH:mm[:ss][XXX]`), parsed and printed in Python.

The serdes plugin's date options (`dateFormat`, `timeFormat`, `datetimeFormat`...) are
Java patterns; flows copied from Kestra keep them, so Roost reads them as Java does
instead of asking for strftime codes. The common subset is supported: years, months
(numbers and English names), days, hours (24 and 12 with `a`), minutes, seconds,
fractions (`S`), offsets (`X`, `x`, `Z`), day names (`E`), quoted literals and
`[optional]` sections. Any other letter is refused with a message naming it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LETTERS = set("yuMdHhmsSaXxZE")


class PatternError(ValueError):
    """A pattern Roost cannot read, or a text the pattern does not match."""


@dataclass(frozen=True)
class _Token:
    kind: str            # "lit", "field" or "opt"
    text: str = ""       # literal text, or the field letter
    count: int = 0
    inner: tuple[_Token, ...] = ()


def _tokens(pattern: str, start: int = 0, closing: bool = False) -> tuple[tuple[_Token, ...], int]:
    out: list[_Token] = []
    i = start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            inner, i = _tokens(pattern, i + 1, closing=True)
            out.append(_Token("opt", inner=inner))
            continue
        if ch == "]":
            if not closing:
                raise PatternError(f"unbalanced ']' in date pattern '{pattern}'")
            return tuple(out), i + 1
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise PatternError(f"unclosed quote in date pattern '{pattern}'")
            out.append(_Token("lit", "'" if end == i + 1 else pattern[i + 1:end]))
            i = end + 1
            continue
        if ch.isalpha():
            if ch not in _LETTERS:
                raise PatternError(f"date pattern letter '{ch}' (in '{pattern}') is not supported; "
                                   f"use y M d H h m s S a X x Z E and 'quoted' text")
            count = 1
            while i + count < len(pattern) and pattern[i + count] == ch:
                count += 1
            out.append(_Token("field", ch, count))
            i += count
            continue
        out.append(_Token("lit", ch))
        i += 1
    if closing:
        raise PatternError(f"unclosed '[' in date pattern '{pattern}'")
    return tuple(out), i


def _regex(token: _Token, names: dict[str, int]) -> str:
    if token.kind == "lit":
        return re.escape(token.text)
    if token.kind == "opt":
        return "(?:" + "".join(_regex(t, names) for t in token.inner) + ")?"
    letter, count = token.text, token.count
    index = names.get(letter, 0)
    names[letter] = index + 1
    name = f"{'u' if letter == 'y' else letter}{ord(letter)}_{index}"
    if letter in "yu":
        body = r"\d{2}" if count == 2 else r"[+-]?\d{4,9}"
    elif letter == "M" and count >= 3:
        body = "[A-Za-z]+"
    elif letter == "S":
        body = rf"\d{{{count}}}"
    elif letter == "a":
        body = "(?i:AM|PM)"
    elif letter in "XxZ":
        body = r"Z|[+-]\d{2}(?::?\d{2})?"
    elif letter == "E":
        body = "[A-Za-z]+"
    else:
        body = r"\d{1,2}" if count == 1 else rf"\d{{{count}}}"
    return f"(?P<{name}>{body})"


class JavaPattern:
    """One compiled Java pattern: `parse` a text into its fields, `format` a value back."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._tokens, _ = _tokens(pattern)
        self._regex = re.compile("".join(_regex(t, {}) for t in self._tokens))

    def fields(self, text: str) -> dict[str, str]:
        """Letter -> matched text; raises PatternError when the whole text does not match."""
        match = self._regex.fullmatch(text.strip())
        if match is None:
            raise PatternError(f"'{text}' does not match the date pattern '{self.pattern}'")
        found: dict[str, str] = {}
        for key, value in match.groupdict().items():
            if value is not None:
                found.setdefault(chr(int(key.split("_")[0][1:])), value)
        return found

    def parse_date(self, text: str) -> date:
        f = self.fields(text)
        if not ({"y", "u"} & f.keys()) or "M" not in f or "d" not in f:
            raise PatternError(f"'{text}' has no full date in the pattern '{self.pattern}'")
        return date(_year(f), _month(f["M"]), int(f["d"]))

    def parse_time(self, text: str) -> time:
        """A local time (an offset in the text is read and dropped, as LocalTime.parse does)."""
        f = self.fields(text)
        if "H" not in f and "h" not in f:
            raise PatternError(f"'{text}' has no hour in the pattern '{self.pattern}'")
        return _time_of(f)

    def parse_datetime(self, text: str, zone: tzinfo) -> datetime:
        """An aware datetime: the text's offset when it has one, else `zone` (Kestra's timeZoneId)."""
        f = self.fields(text)
        if not ({"y", "u"} & f.keys()) or "M" not in f or "d" not in f:
            raise PatternError(f"'{text}' has no full date in the pattern '{self.pattern}'")
        day = date(_year(f), _month(f["M"]), int(f["d"]))
        clock = _time_of(f) if ("H" in f or "h" in f) else time(0)
        offset = f.get("X") or f.get("x") or f.get("Z")
        tz = _offset(offset) if offset else zone
        return datetime.combine(day, clock).replace(tzinfo=tz)

    def format(self, value: date | time) -> str:
        return "".join(_format(t, value) for t in self._tokens)


def _year(f: dict[str, str]) -> int:
    text = f.get("y") or f["u"]
    return 2000 + int(text) if len(text) == 2 else int(text)


def _month(text: str) -> int:
    if text.isdigit():
        return int(text)
    for number, name in enumerate(_MONTHS, start=1):
        if name.lower().startswith(text.lower()) and len(text) >= 3:
            return number
    raise PatternError(f"'{text}' is not a month")


def _time_of(f: dict[str, str]) -> time:
    hour = int(f.get("H") or f.get("h") or 0)
    if "h" in f and "a" in f:
        hour = hour % 12 + (12 if f["a"].upper() == "PM" else 0)
    fraction = f.get("S", "")
    micros = int((fraction + "000000")[:6]) if fraction else 0
    return time(hour, int(f.get("m", 0)), int(f.get("s", 0)), micros)


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return timezone(sign * timedelta(minutes=minutes))


def _available(token: _Token, value: date | time) -> bool:
    if token.kind == "lit":
        return True
    if token.kind == "opt":
        return all(_available(t, value) for t in token.inner)
    letter = token.text
    if letter in "yuMdE":
        return isinstance(value, date)
    if letter in "XxZ":
        return isinstance(value, datetime | time) and value.utcoffset() is not None
    return isinstance(value, time | datetime)


def _format(token: _Token, value: date | time) -> str:
    if token.kind == "lit":
        return token.text
    if token.kind == "opt":
        return "".join(_format(t, value) for t in token.inner) if _available(token, value) else ""
    if not _available(token, value):
        raise PatternError(f"a {type(value).__name__} has no '{token.text}' field to print")
    return _field(token.text, token.count, value)


def _field(letter: str, count: int, v: Any) -> str:
    if letter in "yu":
        return f"{v.year % 100:02d}" if count == 2 else f"{v.year:0{count}d}"
    if letter == "M":
        if count >= 3:
            name = _MONTHS[v.month - 1]
            return name[:3] if count == 3 else name
        return f"{v.month:0{count}d}"
    if letter == "E":
        name = _DAYS[v.weekday()]
        return name if count >= 4 else name[:3]
    if letter == "d":
        return f"{v.day:0{count}d}"
    if letter == "H":
        return f"{v.hour:0{count}d}"
    if letter == "h":
        return f"{(v.hour % 12) or 12:0{count}d}"
    if letter == "a":
        return "AM" if v.hour < 12 else "PM"
    if letter == "m":
        return f"{v.minute:0{count}d}"
    if letter == "s":
        return f"{v.second:0{count}d}"
    if letter == "S":
        return (f"{v.microsecond:06d}" + "000")[:count]
    seconds = int(v.utcoffset().total_seconds())
    if seconds == 0 and letter == "X":
        return "Z"
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    if letter == "Z" or count == 2:
        return f"{sign}{hours:02d}{minutes:02d}"
    if count == 1:
        return f"{sign}{hours:02d}" + (f"{minutes:02d}" if minutes else "")
    return f"{sign}{hours:02d}:{minutes:02d}"


def zone_of(name: str) -> tzinfo:
    """A Java ZoneId (`Europe/Paris`, `UTC`, `+02:00`, `Z`) as a tzinfo; PatternError when unknown."""
    text = name.strip()
    if text in ("Z", "UTC", "GMT", "UT"):
        return UTC
    offset = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?", text)
    if offset:
        sign, hours, minutes = offset.groups()
        try:
            return timezone((-1 if sign == "-" else 1) * timedelta(hours=int(hours), minutes=int(minutes or 0)))
        except ValueError:
            raise PatternError(f"'{name}' is not a valid offset (at most 23:59)") from None
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise PatternError(f"'{name}' is not a known time zone (use e.g. UTC, Europe/Paris, +02:00)") from None


def system_zone_name() -> str:
    """The machine's zone, Kestra's default `timeZoneId` (ZoneId.systemDefault()); UTC if unnamed."""
    key = getattr(datetime.now().astimezone().tzinfo, "key", None)
    if isinstance(key, str):
        return key
    try:
        return os.readlink("/etc/localtime").split("zoneinfo/", 1)[1]
    except (OSError, IndexError):
        return "UTC"
