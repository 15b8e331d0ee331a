"""A Schedule's `conditions` (Kestra's schedule conditions) decide which dates start an execution."""

from __future__ import annotations

from typing import Any

import pytest

from engine.core.records import parse_iso
from engine.triggers.properties import TriggerError
from engine.triggers.schedule_conditions import schedule_allows

C = "io.kestra.plugin.core.condition."


def on(date: str):
    """A renderer as the scheduler's: `{{ trigger.date }}` is the date being fired."""
    def render(value: Any, _name: str) -> Any:
        return date if value == "{{ trigger.date }}" else value
    return render


def allows(date: str, *conditions: dict[str, Any]) -> bool:
    return schedule_allows(list(conditions), on(date))


def test_day_week_lets_only_that_day_through():
    monday = {"type": C + "DayWeek", "dayOfWeek": "MONDAY"}
    assert allows("2024-03-11T09:00:00Z", monday)
    assert not allows("2024-03-12T09:00:00Z", monday)


def test_day_week_in_month_finds_the_first_and_the_last_such_day():
    first_monday = {"type": C + "DayWeekInMonth", "dayOfWeek": "MONDAY", "dayInMonth": "FIRST"}
    last_friday = {"type": C + "DayWeekInMonth", "dayOfWeek": "FRIDAY", "dayInMonth": "LAST"}
    assert allows("2024-03-04T09:00:00Z", first_monday)
    assert not allows("2024-03-11T09:00:00Z", first_monday)
    assert allows("2024-03-29T09:00:00Z", last_friday)
    assert not allows("2024-03-22T09:00:00Z", last_friday)


def test_weekend_and_not_weekend_split_the_week():
    weekend = {"type": C + "Weekend"}
    workday = {"type": C + "Not", "conditions": [weekend]}
    assert allows("2024-03-09T09:00:00Z", weekend) and not allows("2024-03-09T09:00:00Z", workday)
    assert allows("2024-03-11T09:00:00Z", workday)


def test_time_between_compares_the_time_of_day_strictly():
    office = {"type": C + "TimeBetween", "after": "08:00:00Z", "before": "18:00:00Z"}
    assert allows("2024-03-11T09:30:00Z", office)
    assert not allows("2024-03-11T18:00:00Z", office)
    assert not allows("2024-03-11T07:59:59Z", office)


def test_date_time_between_bounds_the_schedule():
    spring = {"type": C + "DateTimeBetween", "after": "2024-03-01T00:00:00Z", "before": "2024-06-01T00:00:00Z"}
    assert allows("2024-04-01T00:00:00Z", spring) and not allows("2024-07-01T00:00:00Z", spring)


def test_or_is_true_when_one_condition_is_and_legacy_names_work():
    either = {"type": "io.kestra.core.models.conditions.types.OrCondition", "conditions": [
        {"type": "io.kestra.core.models.conditions.types.DayWeekCondition", "dayOfWeek": "MONDAY"},
        {"type": C + "DayWeek", "dayOfWeek": "TUESDAY"}]}
    assert allows("2024-03-12T09:00:00Z", either) and not allows("2024-03-13T09:00:00Z", either)


def test_public_holiday_uses_the_countrys_calendar():
    holiday = {"type": C + "PublicHoliday", "country": "FR"}
    assert allows("2024-07-14T09:00:00Z", holiday) and not allows("2024-07-15T09:00:00Z", holiday)


def test_a_condition_with_no_bound_or_of_another_kind_is_an_error_not_a_pass():
    with pytest.raises(TriggerError, match="no before nor after"):
        allows("2024-03-11T09:00:00Z", {"type": C + "TimeBetween"})
    with pytest.raises(TriggerError, match="does not evaluate the condition type"):
        allows("2024-03-11T09:00:00Z", {"type": C + "ExecutionStatus", "in": ["FAILED"]})


def test_a_schedule_fires_only_the_dates_its_conditions_allow(harness):
    flow = harness.engine.load("""
    id: even_seconds
    namespace: company.team
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "{{ trigger.date }}"
    triggers:
      - id: tick
        type: io.kestra.plugin.core.trigger.Schedule
        cron: "*/1 * * * * *"
        withSeconds: true
        timezone: UTC
        conditions:
          - type: io.kestra.plugin.core.condition.Expression
            expression: "{{ (trigger.date | date('s') | number) % 2 == 0 }}"
    """)
    harness.start(flow)
    harness.wait_executions(2, timeout=60)
    harness.wait_for(lambda: any("its conditions are false" in line for line in harness.logs()),
                     what="a skipped odd second")
    harness.stop()
    seconds = [parse_iso(e.trigger["date"]).second for e in harness.finished]  # type: ignore[union-attr]
    assert seconds and all(second % 2 == 0 for second in seconds)
