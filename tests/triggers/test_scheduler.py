"""TriggerScheduler behaviours a panel relies on: listing, locks, stopAfter, reloads, pauses."""

from __future__ import annotations

import time

import pytest

from engine.scheduling.events import TriggerStatusChanged
from engine.triggers.properties import TriggerError
from tests.triggers.conftest import Harness

MIXED = """
id: mixed
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: after
    type: io.kestra.plugin.kafka.Trigger
  - id: off
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "@daily"
    disabled: true
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "@daily"
"""


def test_every_trigger_is_listed_and_only_runnable_ones_run(harness):
    flow = harness.engine.load(MIXED)
    scheduler = harness.start(flow)
    states = {s.key.trigger_id: (s.state, s.kind) for s in scheduler.statuses()}
    assert states == {"after": ("UNSUPPORTED", "unsupported"), "off": ("DISABLED", "schedule"),
                      "daily": ("ACTIVE", "schedule")}
    assert "not run by Roost" in (scheduler.status(harness.key(flow, "after")).error or "")
    assert scheduler.status(harness.key(flow, "daily")).next_fire is not None
    with pytest.raises(TriggerError, match="disabled"):
        scheduler.fire_now(harness.key(flow, "off"))


def test_a_trigger_waits_for_the_execution_it_started_before_polling_again(harness, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "first.txt").write_text("1")
    flow = harness.engine.load(f"""
        id: slow
        namespace: company.team
        tasks:
          - id: wait
            type: io.kestra.plugin.scripts.shell.Commands
            taskRunner:
              type: io.kestra.plugin.core.runner.Process
            commands:
              - sleep 1
        triggers:
          - id: inbox
            type: io.kestra.plugin.fs.local.Trigger
            from: {inbox}
            interval: PT0.2S
            action: DELETE
        """)
    harness.start(flow)
    harness.wait_for(lambda: any("starting execution" in line for line in harness.logs()), what="a start")
    (inbox / "second.txt").write_text("2")
    first, second = harness.wait_executions(2)
    assert second.start_date >= first.end_date
    assert [f["name"] for f in second.trigger["files"]] == ["second.txt"]


def test_stop_after_pauses_the_trigger_when_an_execution_ends_so(harness):
    flow = harness.engine.load("""
        id: failing
        namespace: company.team
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: no
        triggers:
          - id: tick
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "*/1 * * * * *"
            withSeconds: true
            stopAfter: [FAILED]
        """)
    scheduler = harness.start(flow)
    [execution] = harness.wait_executions(1)
    assert execution.state.value == "FAILED"
    harness.wait_for(lambda: scheduler.status(harness.key(flow, "tick")).state == "PAUSED", what="the pause")
    time.sleep(1.5)
    assert len(harness.finished) == 1


def test_reloading_flows_restarts_changed_ones_and_stops_removed_ones(harness):
    one = harness.engine.load(MIXED.replace("mixed", "one"), "one.yml")
    two = harness.engine.load(MIXED.replace("mixed", "two"), "two.yml")
    scheduler = harness.start(one, two)
    assert len(scheduler.statuses()) == 6
    changed = harness.engine.load(MIXED.replace("mixed", "one").replace('"@daily"\n', '"@hourly"\n'), "one.yml")
    scheduler.set_flows([changed])
    assert sorted({s.key.flow_id for s in scheduler.statuses()}) == ["one"]
    stopped = [e.status.key.flow_id for e in harness.trigger_events
               if isinstance(e, TriggerStatusChanged) and e.status.state == "STOPPED"]
    assert sorted(set(stopped)) == ["two"]
    daily = scheduler.status(harness.key(changed, "daily"))
    assert daily.next_fire is not None and daily.next_fire.minute == 0


def test_a_pause_outlives_the_scheduler(engine):
    flow = engine.load(MIXED)
    first = Harness(engine)
    key = first.key(flow, "daily")
    first.start(flow).pause(key)
    first.stop()
    second = Harness(engine)
    try:
        assert second.start(flow).status(key).state == "PAUSED"
    finally:
        second.stop()


def test_a_flow_unchanged_by_one_reload_is_still_restarted_by_the_next(harness):
    ticking = MIXED.replace("mixed", "one").replace('cron: "@daily"\n', 'cron: "* * * * * *"\n    withSeconds: true\n')
    one = harness.engine.load(ticking, "one.yml")
    two = harness.engine.load(MIXED.replace("mixed", "two"), "two.yml")
    scheduler = harness.start(one, two)
    harness.wait_executions(1)
    scheduler.set_flows([harness.engine.load(ticking, "one.yml"),
                         harness.engine.load(MIXED.replace("mixed", "two").replace("hi", "hey"), "two.yml")])
    quiet = harness.engine.load(MIXED.replace("mixed", "one"), "one.yml")
    scheduler.set_flows([quiet, two])
    settled = len(harness.finished)
    time.sleep(2.5)
    assert len(harness.finished) <= settled + 1  # at most one that was already under way
    assert len(scheduler.statuses()) == 6
