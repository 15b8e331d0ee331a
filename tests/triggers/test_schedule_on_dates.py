"""io.kestra.plugin.core.trigger.ScheduleOnDates: a Schedule whose fire times are a list of dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.core.records import parse_iso, utcnow
from engine.triggers.schedule_on_dates import ScheduleOnDatesTrigger

TYPE = "io.kestra.plugin.core.trigger.ScheduleOnDates"


def on_dates(*dates: str, **props: object) -> ScheduleOnDatesTrigger:
    return ScheduleOnDatesTrigger("dates", TYPE, {"dates": list(dates), **props})


def test_next_date_is_the_first_listed_date_after_the_moment_whatever_the_order():
    trigger = on_dates("2030-03-01T10:00:00Z", "2030-01-01T10:00:00Z", "2030-02-01T10:00:00.750Z")
    assert trigger.next_after(datetime(2029, 12, 31, tzinfo=UTC)) == datetime(2030, 1, 1, 10, tzinfo=UTC)
    # truncated to the second, as Kestra's nextDate does
    assert trigger.next_after(datetime(2030, 1, 1, 10, tzinfo=UTC)) == datetime(2030, 2, 1, 10, tzinfo=UTC)


def test_after_the_last_date_the_next_evaluation_is_a_year_away():
    trigger = on_dates("2030-01-01T10:00:00Z")
    moment = datetime(2031, 1, 1, tzinfo=UTC)
    assert trigger.next_after(moment) == moment + timedelta(days=365)


def test_dates_without_offset_are_in_the_trigger_time_zone_and_variables_are_the_schedules():
    trigger = on_dates("2030-06-01T09:00:00", "2030-06-02T09:00:00", timezone="Europe/Paris")
    first = trigger.next_after(datetime(2030, 1, 1, tzinfo=UTC))
    assert first.utcoffset() == timedelta(hours=2)
    firing = trigger.firing(first)
    assert firing.variables["date"] == "2030-06-01T09:00:00+02:00"
    assert firing.variables["next"] == "2030-06-02T09:00:00+02:00"


def test_a_date_that_is_not_iso_is_refused_at_validation(engine):
    import pytest

    from engine.core.errors import InvalidFlowError

    with pytest.raises(InvalidFlowError, match=r"dates\[1\].*not an ISO-8601"):
        engine.load(f"""
        id: on_dates
        namespace: company.team
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: hi
        triggers:
          - id: dates
            type: {TYPE}
            dates: ["2030-01-01T10:00:00Z", "next tuesday"]
        """)


def test_a_listed_date_fires_one_execution_with_its_trigger_date(harness):
    soon = (utcnow() + timedelta(seconds=2)).replace(microsecond=0)
    flow = harness.engine.load(f"""
    id: on_dates
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "{{{{ trigger.date }}}}"
    triggers:
      - id: dates
        type: {TYPE}
        timezone: UTC
        dates: ["{soon.isoformat().replace('+00:00', 'Z')}"]
    """)
    harness.start(flow)
    harness.wait_executions(1, timeout=60)
    harness.stop()
    assert [parse_iso(e.trigger["date"]) for e in harness.finished] == [soon]
    assert harness.finished[0].state.value == "SUCCESS"
