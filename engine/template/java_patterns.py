"""Java `DateTimeFormatter` patterns (`yyyy-MM-dd'T'HH:mm:ss.SSSX`) for Python datetimes.

Kestra's `date` filter hands its pattern to `DateTimeFormatter.ofPattern`, so users
paste Java patterns, not strftime ones. This module formats and parses the pattern
letters of that class with an English locale: quoted literals (`'T'`, `''`),
optional sections (`[...]`, always printed), and the letters G y u Y M L d D E e c
a h H k K m s S n N A Q q w W X x Z z O V.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from engine.template.errors import TemplateError

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ORDINALS = ("1st", "2nd", "3rd", "4th")
_LETTERS = set("GyuYMLdDEecahHkKmsSnNAQqwWXxZzOVv")
_ZONE_NAMES = {"UTC": "Coordinated Universal Time", "Etc/UTC": "Coordinated Universal Time",
               "GMT": "Greenwich Mean Time", "Z": "Coordinated Universal Time"}


def pattern_parts(pattern: str) -> Iterator[tuple[str, int] | str]:
    """Split a pattern into literal strings and (letter, count) fields."""
    index, size = 0, len(pattern)
    while index < size:
        char = pattern[index]
        if char == "'":
            if pattern.startswith("''", index):
                yield "'"
                index += 2
                continue
            end, literal = index + 1, []
            while end < size:
                if pattern[end] == "'":
                    if pattern.startswith("''", end):
                        literal.append("'")
                        end += 2
                        continue
                    break
                literal.append(pattern[end])
                end += 1
            else:
                raise TemplateError(f"date pattern '{pattern}' has an unclosed quote")
            yield "".join(literal)
            index = end + 1
        elif char in "[]":
            index += 1
        elif ("a" <= char <= "z") or ("A" <= char <= "Z"):
            end = index
            while end < size and pattern[end] == char:
                end += 1
            if char not in _LETTERS:
                raise TemplateError(f"date pattern '{pattern}': unknown pattern letter '{char}'")
            yield (char, end - index)
            index = end
        elif char in "{}#":
            raise TemplateError(f"date pattern '{pattern}': '{char}' is reserved")
        else:
            yield char
            index += 1


def format_pattern(value: dt.datetime, pattern: str) -> str:
    """`value` written with a Java pattern."""
    out = []
    for part in pattern_parts(pattern):
        out.append(part if isinstance(part, str) else _field(value, part[0], part[1], pattern))
    return "".join(out)


def _number(value: int, count: int, pattern: str, widest: int = 19) -> str:
    if count > widest:
        raise TemplateError(f"date pattern '{pattern}': too many pattern letters")
    return str(value).zfill(count)


def _text(full: str, count: int) -> str:
    if count <= 3:
        return full[:3]
    return full if count == 4 else full[0]


def _field(value: dt.datetime, letter: str, count: int, pattern: str) -> str:
    if letter in "yu":
        return f"{value.year % 100:02d}" if count == 2 else _number(value.year, count, pattern)
    if letter == "Y":
        year = value.isocalendar()[0]
        return f"{year % 100:02d}" if count == 2 else _number(year, count, pattern)
    if letter in "ML":
        return _number(value.month, count, pattern, 2) if count <= 2 else _text(MONTHS[value.month - 1], count)
    if letter == "d":
        return _number(value.day, count, pattern, 2)
    if letter == "D":
        return _number(value.timetuple().tm_yday, count, pattern, 3)
    if letter == "E":
        return _text(DAYS[value.weekday()], count)
    if letter in "ec":
        if count <= 2:
            return _number(value.isoweekday() % 7 + 1, count, pattern, 2)
        return _text(DAYS[value.weekday()], count)
    if letter == "a":
        return "AM" if value.hour < 12 else "PM"
    if letter in "hHkK":
        hour = {"H": value.hour, "k": value.hour or 24, "K": value.hour % 12,
                "h": value.hour % 12 or 12}[letter]
        return _number(hour, count, pattern, 2)
    if letter == "m":
        return _number(value.minute, count, pattern, 2)
    if letter == "s":
        return _number(value.second, count, pattern, 2)
    if letter == "S":
        if count > 9:
            raise TemplateError(f"date pattern '{pattern}': too many pattern letters")
        return f"{value.microsecond:06d}000"[:count]
    if letter == "n":
        return _number(value.microsecond * 1000, count, pattern)
    if letter == "N":
        return _number(_micros_of_day(value) * 1000, count, pattern)
    if letter == "A":
        return _number(_micros_of_day(value) // 1000, count, pattern)
    if letter in "Qq":
        quarter = (value.month - 1) // 3 + 1
        if count <= 2:
            return _number(quarter, count, pattern, 2)
        return f"Q{quarter}" if count == 3 else f"{_ORDINALS[quarter - 1]} quarter"
    if letter == "w":
        return _number(value.isocalendar()[1], count, pattern, 2)
    if letter == "W":
        return str((value.day + value.replace(day=1).weekday()) // 7 + 1)
    if letter == "G":
        return "AD" if count <= 3 else ("Anno Domini" if count == 4 else "A")
    return _zone_field(value, letter, count, pattern)


def _micros_of_day(value: dt.datetime) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _zone_field(value: dt.datetime, letter: str, count: int, pattern: str) -> str:
    offset = value.utcoffset() or dt.timedelta(0)
    seconds = int(offset.total_seconds())
    if letter in "Xx":
        if letter == "X" and seconds == 0:
            return "Z"
        return _offset(seconds, count, colon=count in (3, 5), optional_minutes=count == 1)
    if letter == "Z":
        if count <= 3:
            return _offset(seconds, 4, colon=False)
        if count == 4:
            return "GMT" if seconds == 0 else "GMT" + _offset(seconds, 3, colon=True)
        return "Z" if seconds == 0 else _offset(seconds, 3, colon=True)
    if letter == "O":
        if seconds == 0:
            return "GMT"
        if count == 4:
            return "GMT" + _offset(seconds, 3, colon=True)
        sign, rest = ("-" if seconds < 0 else "+"), abs(seconds)
        hours, minutes = rest // 3600, rest % 3600 // 60
        return f"GMT{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
    zone_id = zone_id_of(value)
    if letter == "V":
        if count != 2:
            raise TemplateError(f"date pattern '{pattern}': 'V' must be written 'VV'")
        return zone_id
    # z and v: names
    if count == 4:
        return _ZONE_NAMES.get(zone_id, zone_id)
    name = value.tzname() or zone_id
    return "UTC" if name in ("UTC+00:00", "Etc/UTC") else name


def zone_id_of(value: dt.datetime) -> str:
    """Java's zone id: `Europe/Paris`, `UTC`, or `Z` / `+01:00` for fixed offsets."""
    tz = value.tzinfo
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = value.utcoffset() or dt.timedelta(0)
    seconds = int(offset.total_seconds())
    return "Z" if seconds == 0 else _offset(seconds, 3, colon=True)


def _offset(seconds: int, count: int, colon: bool, optional_minutes: bool = False) -> str:
    sign = "-" if seconds < 0 else "+"
    rest = abs(seconds)
    hours, minutes, secs = rest // 3600, rest % 3600 // 60, rest % 60
    text = f"{sign}{hours:02d}"
    if optional_minutes and not minutes:
        return text
    text += (":" if colon else "") + f"{minutes:02d}"
    if count >= 4 and secs:
        text += (":" if colon else "") + f"{secs:02d}"
    return text


# --- parsing ------------------------------------------------------------------------
_GROUPS = {
    "y": r"(?P<year>[+-]?\d{4,9})", "u": r"(?P<year>[+-]?\d{4,9})",
    "d": r"(?P<day>\d{1,2})", "H": r"(?P<hour>\d{1,2})", "k": r"(?P<hour>\d{1,2})",
    "h": r"(?P<hour12>\d{1,2})", "K": r"(?P<hour12>\d{1,2})", "a": r"(?P<ampm>[AaPp][Mm])",
    "m": r"(?P<minute>\d{1,2})", "s": r"(?P<second>\d{1,2})", "D": r"(?P<yday>\d{1,3})",
    "E": r"(?:[A-Za-z]+)", "e": r"(?:[A-Za-z0-9]+)", "c": r"(?:[A-Za-z0-9]+)",
    "X": r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)", "x": r"(?P<offset>[+-]\d{2}(?::?\d{2})?)",
    "Z": r"(?P<offset>Z|GMT|[+-]\d{2}:?\d{2}|GMT[+-]\d{2}:\d{2})",
    "V": r"(?P<zone>[A-Za-z][A-Za-z0-9_/+-]*)", "z": r"(?P<zone>[A-Za-z][A-Za-z0-9_/+-]*)",
    "G": r"(?:AD|BC|Anno Domini)",
}


def parse_pattern(text: str, pattern: str) -> dict[str, Any]:
    """The fields found in `text` read with a Java pattern (year, month, ..., offset, zone)."""
    regex, seen = [], set()
    for part in pattern_parts(pattern):
        if isinstance(part, str):
            regex.append(re.escape(part))
            continue
        letter, count = part
        group = _parse_group(letter, count)
        name = re.match(r"\(\?P<(\w+)>", group)
        if name and name.group(1) in seen:
            group = "(?:" + group[len(name.group(0)):]
        elif name:
            seen.add(name.group(1))
        regex.append(group)
    match = re.fullmatch("".join(regex), text.strip())
    if match is None:
        raise TemplateError(f"'{text}' does not match the date pattern '{pattern}'")
    return {k: v for k, v in match.groupdict().items() if v is not None}


def _parse_group(letter: str, count: int) -> str:
    if letter in "yu" and count == 2:
        return r"(?P<year2>\d{2})"
    if letter in "ML":
        if count <= 2:
            return r"(?P<month>\d{1,2})"
        return r"(?P<monthname>[A-Za-z]+)"
    if letter in "dHhkKms" and count == 2:
        return _GROUPS[letter].replace(r"\d{1,2}", r"\d{2}")
    if letter == "S":
        return rf"(?P<fraction>\d{{{count}}})"
    if letter not in _GROUPS:
        raise TemplateError(f"the pattern letter '{letter}' cannot be used to read dates")
    return _GROUPS[letter]
