"""io.kestra.plugin.core.trigger.Schedule: real time, seconds-level crons, bounded windows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.core.records import parse_iso, utcnow
from engine.triggers.schedule import ScheduleTrigger

EVERY_SECOND = """
id: ticker
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: nobody
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.who }} at {{ trigger.date }}"
triggers:
  - id: tick
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "*/1 * * * * *"
    withSeconds: true
    timezone: UTC
    inputs:
      who: the scheduler
"""


def test_a_seconds_cron_fires_once_per_second_in_a_bounded_window(harness):
    flow = harness.engine.load(EVERY_SECOND)
    started = utcnow()
    harness.start(flow)
    harness.wait_executions(3, timeout=60)
    harness.stop()
    stopped = utcnow()
    dates = [parse_iso(e.trigger["date"]) for e in harness.finished]
    dates = sorted(d for d in dates if d is not None)
    # One execution per second boundary, all inside the window: none replayed from before the
    # start, none after the stop, none skipped, none twice. (Which boundary comes first, and
    # whether the last ones before the stop have run, depends on how busy the machine is.)
    assert started < dates[0] and dates[-1] <= stopped
    assert all(d.microsecond == 0 for d in dates)
    assert [b - a for a, b in zip(dates, dates[1:], strict=False)] == [timedelta(seconds=1)] * (len(dates) - 1)
    assert len(dates) <= int(stopped.timestamp()) - int(started.timestamp())
    first = min(harness.finished, key=lambda e: e.trigger["date"])
    assert first.trigger["date"].endswith("Z") and ".000" not in first.trigger["date"]
    assert parse_iso(first.trigger["next"]) == dates[0] + timedelta(seconds=1)
    assert parse_iso(first.trigger["previous"]) == dates[0] - timedelta(seconds=1)
    assert first.inputs == {"who": "the scheduler"}
    assert all(e.state.value == "SUCCESS" for e in harness.finished)


def test_dates_are_in_the_trigger_time_zone():
    trigger = ScheduleTrigger("t", "io.kestra.plugin.core.trigger.Schedule",
                              {"cron": "0 9 * * MON-FRI", "timezone": "Europe/Paris"})
    friday_evening = datetime(2024, 3, 29, 18, 0, tzinfo=UTC)
    firing = trigger.firing(trigger.next_after(friday_evening))
    assert firing.variables == {"date": "2024-04-01T09:00:00+02:00", "next": "2024-04-02T09:00:00+02:00",
                                "previous": "2024-03-29T09:00:00+01:00"}


def test_nicknames_and_missed_dates_follow_recover_missed_schedules():
    now = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
    last = now - timedelta(days=3, hours=1)

    def missed(policy: str | None) -> list[str]:
        props = {"cron": "@daily", "timezone": "UTC"}
        if policy:
            props["recoverMissedSchedules"] = policy
        trigger = ScheduleTrigger("t", "io.kestra.plugin.core.trigger.Schedule", props)
        return [d.date().isoformat() for d in trigger.missed(last, now)]

    assert missed(None) == []  # Roost's default: a machine that was off does not replay
    assert missed("NONE") == []
    assert missed("LAST") == ["2024-01-10"]
    assert missed("ALL") == ["2024-01-08", "2024-01-09", "2024-01-10"]


def test_missed_minutes_are_replayed_at_start_when_asked(harness):
    flow = harness.engine.load(EVERY_SECOND.replace('"*/1 * * * * *"', '"* * * * *"')
                               .replace("withSeconds: true", "recoverMissedSchedules: ALL"))
    key = harness.key(flow, "tick")
    now = utcnow()
    last = now.replace(second=0, microsecond=0) - timedelta(minutes=3)
    harness.scheduler.set_value(f"trigger-schedule:{key}", last.isoformat())
    harness.start(flow)
    harness.wait_executions(3)
    time.sleep(0.3)
    replayed = sorted(e.trigger["date"] for e in harness.finished if parse_iso(e.trigger["date"]) <= now)
    assert [parse_iso(d) for d in replayed] == [last + timedelta(minutes=n) for n in (1, 2, 3)]


def test_fire_now_pause_and_resume(harness):
    flow = harness.engine.load(EVERY_SECOND.replace('"*/1 * * * * *"', '"0 0 1 1 *"')
                               .replace("    withSeconds: true\n", "").replace("UTC", "Europe/Paris"))
    scheduler = harness.start(flow)
    key = harness.key(flow, "tick")
    harness.wait_for(lambda: scheduler.status(key).next_fire is not None, what="the next date")
    status = scheduler.status(key)
    assert status.state == "ACTIVE" and status.kind == "schedule"
    assert status.next_fire.astimezone(ZoneInfo("Europe/Paris")).strftime("%m-%d %H:%M") == "01-01 00:00"
    before = utcnow().replace(microsecond=0)
    scheduler.fire_now(key)
    [execution] = harness.wait_executions(1)
    assert before <= parse_iso(execution.trigger["date"]) <= utcnow()
    assert scheduler.status(key).last_execution_id == execution.id
    scheduler.pause(key)
    paused = scheduler.status(key)
    assert paused.state == "PAUSED" and paused.next_fire is None
    scheduler.resume(key)
    harness.wait_for(lambda: scheduler.status(key).next_fire is not None, what="the next date again")
    assert scheduler.status(key).state == "ACTIVE"


def test_refused_inputs_are_logged_and_start_nothing(harness):
    flow = harness.engine.load("""
        id: needs
        namespace: company.team
        inputs:
          - id: n
            type: INT
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: "{{ inputs.n }}"
        triggers:
          - id: tick
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "*/1 * * * * *"
            withSeconds: true
            inputs:
              n: not a number
        """)
    scheduler = harness.start(flow)
    harness.wait_for(lambda: any("no execution started" in line for line in harness.logs("ERROR")),
                     what="the refusal")
    assert harness.finished == []
    assert "inputs refused" in (scheduler.status(harness.key(flow, "tick")).error or "")
