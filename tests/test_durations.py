"""ISO-8601 durations read as Kestra's `java.time.Duration.parse` reads them, and written back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1S", timedelta(seconds=1)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT0,5S", timedelta(milliseconds=500)),
        ("PT1M30S", timedelta(minutes=1, seconds=30)),
        ("PT2H", timedelta(hours=2)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1D", timedelta(days=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("P1W2D", timedelta(days=9)),
        ("+PT1S", timedelta(seconds=1)),
        ("PT0.000001S", timedelta(microseconds=1)),
        ("PT0.123456789S", timedelta(microseconds=123456)),
    ],
)
def test_parse_duration_accepts_kestra_forms(text, expected):
    assert parse_duration(text) == expected


def test_parse_duration_is_case_insensitive():
    assert parse_duration("pt5m") == timedelta(minutes=5)
    assert parse_duration("p1dt2h") == timedelta(days=1, hours=2)


def test_parse_duration_accepts_a_leading_or_per_part_minus():
    assert parse_duration("-PT5S") == timedelta(seconds=-5)
    assert parse_duration("PT-5S") == timedelta(seconds=-5)
    assert parse_duration("PT-0.5S") == timedelta(milliseconds=-500)
    assert parse_duration("-PT-5S") == timedelta(seconds=5)
    assert parse_duration("PT1H-10M") == timedelta(minutes=50)


def test_parse_duration_takes_numbers_as_seconds():
    assert parse_duration(90) == timedelta(seconds=90)
    assert parse_duration(0.25) == timedelta(milliseconds=250)


@pytest.mark.parametrize(
    "text", ["PT1X", "", "P", "PT", "P1DT", "1h", "PT1.5M", "PT1H 30M", " PT1S", "PT.5S",
             "PT0.1234567891S", "5 minutes", "P1S"],
)
def test_parse_duration_refuses_what_java_refuses(text):
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert str(info.value) == (
        f"'{text}' is not an ISO-8601 duration such as PT30S, PT5M, PT1H30M or P1D"
    )


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M3D", "p2m", "P1MT1H"])
def test_parse_duration_refuses_years_and_months_as_not_fixed_length(text):
    with pytest.raises(DurationError, match="years or months, which have no fixed length"):
        parse_duration(text)


def test_parse_duration_refuses_booleans_infinities_and_other_objects():
    for value in (True, float("inf"), float("nan"), None, [1]):
        with pytest.raises(DurationError):
            parse_duration(value)  # type: ignore[arg-type]


def test_duration_error_is_a_value_error():
    assert issubclass(DurationError, ValueError)


def test_parse_duration_too_large_is_a_duration_error():
    with pytest.raises(DurationError):
        parse_duration("P99999999999D")
    with pytest.raises(DurationError):
        parse_duration(1e30)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(seconds=90), "PT1M30S"),
        (timedelta(milliseconds=250), "PT0.25S"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(days=14), "P14D"),
        (timedelta(hours=1, seconds=0.5), "PT1H0.5S"),
        (timedelta(seconds=-5), "-PT5S"),
        (timedelta(microseconds=1), "PT0.000001S"),
    ],
)
def test_format_duration_writes_iso(value, text):
    assert format_duration(value) == text


@settings(max_examples=40)
@given(st.timedeltas(min_value=timedelta(days=-10**6), max_value=timedelta(days=10**6)))
def test_format_then_parse_gives_back_the_same_duration(value):
    assert parse_duration(format_duration(value)) == value
