"""io.kestra.plugin.core.trigger.Toggle: a running flow switches a trigger off or on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.core.records import Execution
from tests.triggers.conftest import Harness

TARGET = """
id: nightly
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: schedule
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "@daily"
"""


def toggler(task: str, flow_id: str = "switcher") -> str:
    lines = "".join(f"    {line}\n" for line in task.strip().splitlines())
    return f"""
id: {flow_id}
namespace: company.team
tasks:
  - id: toggle
    type: io.kestra.plugin.core.trigger.Toggle
{lines}"""


@pytest.fixture
def harness(engine) -> Iterator[Harness]:
    instance = Harness(engine)
    instance.events = []  # type: ignore[attr-defined]  # the executions' log lines
    instance.scheduler.executor.bus.subscribe(instance.events.append)  # type: ignore[attr-defined]
    yield instance
    instance.stop()


def run_in_scheduler(harness: Harness, text: str, name: str = "switcher.yml") -> Execution:
    flow = harness.engine.load(text, name)
    executor = harness.scheduler.executor
    handle = executor.prepare(flow, {}, options=harness.scheduler.options)
    executor.start(handle)
    return handle.wait(60)


def schedule_state(harness: Harness) -> str:
    return harness.scheduler.status(harness.key(harness.engine.load(TARGET, "nightly.yml"), "schedule")).state


def test_toggle_disables_another_flows_trigger_in_the_running_scheduler(harness):
    harness.start(harness.engine.load(TARGET, "nightly.yml"))
    assert schedule_state(harness) == "ACTIVE"
    execution = run_in_scheduler(harness, toggler("flowId: nightly\ntrigger: schedule\nenabled: false"))
    assert execution.state.value == "SUCCESS"
    assert schedule_state(harness) == "PAUSED"


def test_toggle_enabled_true_turns_it_back_on_and_the_default_turns_it_off(harness):
    harness.start(harness.engine.load(TARGET, "nightly.yml"))
    run_in_scheduler(harness, toggler("namespace: company.team\nflowId: nightly\ntrigger: schedule"))
    assert schedule_state(harness) == "PAUSED"  # Kestra's default: enabled false
    run_in_scheduler(harness, toggler("flowId: nightly\ntrigger: \"{{ 'sched' ~ 'ule' }}\"\nenabled: true"))
    assert schedule_state(harness) == "ACTIVE"


def test_flow_id_and_namespace_default_to_the_current_flow(harness):
    own = TARGET.replace("    message: hi\n", "    message: hi\n  - id: off\n"
                                                "    type: io.kestra.core.tasks.trigger.Toggle\n"
                                                "    trigger: schedule\n")
    flow = harness.engine.load(own, "nightly.yml")
    harness.start(flow)
    executor = harness.scheduler.executor
    handle = executor.prepare(flow, {}, options=harness.scheduler.options)
    executor.start(handle)
    assert handle.wait(60).state.value == "SUCCESS"
    assert schedule_state(harness) == "PAUSED"


def test_an_unknown_trigger_or_flow_fails_with_kestra_message(harness):
    harness.start(harness.engine.load(TARGET, "nightly.yml"))
    bad_trigger = run_in_scheduler(harness, toggler("flowId: nightly\ntrigger: hourly"))
    assert bad_trigger.state.value == "FAILED"
    assert any("Unable to find trigger hourly for the flow company.team.nightly" in e.message
               for e in _logs(harness))
    bad_flow = run_in_scheduler(harness, toggler("flowId: daily\ntrigger: schedule"))
    assert bad_flow.state.value == "FAILED"
    assert any("Unable to find flow company.team.daily" in e.message for e in _logs(harness))


def _logs(harness: Harness) -> list:
    from engine.core.events import LogLine

    return [e for e in harness.events if isinstance(e, LogLine)]


def test_without_a_scheduler_the_state_is_stored_for_the_next_start(engine):
    result = engine.run(toggler("flowId: nightly\ntrigger: schedule\nenabled: false"))
    assert result.state == "SUCCESS"
    assert any("not loaded here" in line for line in result.logs("toggle"))
    harness = Harness(engine)
    try:
        harness.start(engine.load(TARGET, "nightly.yml"))
        assert schedule_state(harness) == "PAUSED"
    finally:
        harness.stop()


def test_without_a_scheduler_an_unknown_trigger_of_the_own_flow_fails(engine):
    result = engine.run(toggler("trigger: nothing"))
    assert result.state == "FAILED"
    assert any("Unable to find trigger nothing for the flow company.team.switcher" in line
               for line in result.logs("toggle", "ERROR"))


def test_trigger_is_required_at_load(engine):
    from engine.core.errors import InvalidFlowError

    with pytest.raises(InvalidFlowError, match="trigger"):
        engine.load(toggler("flowId: nightly"))
