"""Date filters with Java patterns, time zones, dateAdd and timestamps, and now()."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.template import START, render


@pytest.mark.parametrize(("pattern", "expected"), [
    ("yyyy-MM-dd", "2024-01-02"),
    ("HH:mm:ss", "03:04:05"),
    ("yyyy-MM-dd'T'HH:mm:ss.SSSX", "2024-01-02T03:04:05.123Z"),
    ("EEE, MMM d", "Tue, Jan 2"),
    ("EEEE d MMMM yyyy", "Tuesday 2 January 2024"),
    ("yy/M/d h:mm a", "24/1/2 3:04 AM"),
    ("D 'day' 'o''clock'", "2 day o'clock"),
    ("yyyyMMdd", "20240102"),
    ("Q", "1"),
    ("XXX", "Z"),
    ("xx", "+0000"),
    ("iso", "2024-01-02T03:04:05.123000Z"),
    ("iso_sec", "2024-01-02T03:04:05Z"),
    ("sql", "2024-01-02 03:04:05.123000"),
    ("iso_local_date", "2024-01-02"),
    ("iso_instant", "2024-01-02T03:04:05.123Z"),
])
def test_date_formats_execution_start_date_with_java_patterns(pattern, expected):
    assert render("{{ execution.startDate | date(inputs.p) }}", inputs={"p": pattern}) == expected


def test_date_uses_time_zone_argument():
    assert render("{{ execution.startDate | date('yyyy-MM-dd HH:mm XXX', timeZone='Europe/Paris') }}") \
        == "2024-01-02 04:04 +01:00"
    assert render("{{ execution.startDate | date('HH:mm z', timeZone='America/New_York') }}") == "22:04 EST"


def test_date_without_format_writes_kestra_iso():
    assert render("{{ execution.startDate | date }}") == "2024-01-02T03:04:05.123000Z"


def test_date_reads_iso_strings_with_offsets():
    template = '{{ "2013-09-08T16:19:12.123456+01:00" | date("yyyy-MM-dd\'T\'HH:mm:ssX", timeZone="UTC") }}'
    assert render(template) == "2013-09-08T15:19:12Z"
    assert render("{{ '2024-03-05' | date('dd/MM/yyyy') }}") == "05/03/2024"
    assert render("{{ '2024-03-05T10:00:00' | date('HH:mm') }}") == "10:00"


def test_date_reads_epoch_seconds_and_milliseconds():
    assert render("{{ 1700000000 | date('yyyy-MM-dd HH:mm') }}") == "2023-11-14 22:13"
    assert render("{{ 1700000000000 | date('yyyy-MM-dd HH:mm') }}") == "2023-11-14 22:13"


def test_date_reads_strings_with_an_existing_format():
    assert render("{{ '05/03/2024 14:30' | date('yyyy-MM-dd HH:mm', existingFormat='dd/MM/yyyy HH:mm') }}") \
        == "2024-03-05 14:30"
    assert render("{{ '5 Mar 2024' | date('yyyy-MM-dd', existingFormat='d MMM yyyy') }}") == "2024-03-05"


@pytest.mark.parametrize(("amount", "unit", "expected"), [
    (1, "DAYS", "2024-01-03"),
    (-1, "DAYS", "2024-01-01"),
    (2, "WEEKS", "2024-01-16"),
    (1, "MONTHS", "2024-02-02"),
    (1, "YEARS", "2025-01-02"),
    (-3, "HOURS", "2024-01-02"),
    (22, "HOURS", "2024-01-03"),
])
def test_date_add_moves_dates_by_chrono_units(amount, unit, expected):
    template = "{{ execution.startDate | dateAdd(inputs.a, inputs.u) | date('yyyy-MM-dd') }}"
    assert render(template, inputs={"a": amount, "u": unit}) == expected


def test_date_add_clamps_to_the_end_of_month_and_formats():
    assert render("{{ '2024-01-31T00:00:00Z' | dateAdd(1, 'MONTHS', format='yyyy-MM-dd') }}") == "2024-02-29"
    assert render("{{ execution.startDate | dateAdd(30, 'MINUTES') }}") == "2024-01-02T03:34:05.123000Z"


def test_date_add_keeps_wall_clock_days_across_daylight_saving():
    template = "{{ '2024-03-30T12:00:00+01:00[Europe/Paris]' | dateAdd(1, 'DAYS', format='HH:mm XXX', timeZone='Europe/Paris') }}"
    assert render(template) == "12:00 +02:00"


def test_timestamps():
    assert render("{{ execution.startDate | timestamp }}") == str(int(START.timestamp()))
    assert render("{{ execution.startDate | timestampMilli }}") == "1704164645123"
    assert render("{{ execution.startDate | timestampMicro }}") == "1704164645123000"
    assert render("{{ execution.startDate | timestampNano }}") == "1704164645123000000"


def test_now_is_the_current_time_in_a_zone():
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    printed = render("{{ now() }}")
    assert printed.endswith("Z")
    assert dt.datetime.fromisoformat(printed) >= before
    assert render("{{ now(timeZone='Europe/Paris') | date('XXX', timeZone='Europe/Paris') }}") in ("+01:00", "+02:00")
    assert render("{{ now(format='yyyy') }}") == str(dt.datetime.now(dt.UTC).year)


def test_unknown_zone_and_unit_are_errors():
    from tests.template import error_of

    assert error_of("{{ execution.startDate | date('yyyy', timeZone='Mars/Base') }}") == "unknown time zone 'Mars/Base'"
    assert "unknown time unit 'FORTNIGHTS'" in error_of("{{ execution.startDate | dateAdd(1, 'FORTNIGHTS') }}")
    assert "unknown pattern letter 'b'" in error_of("{{ execution.startDate | date('b') }}")
