"""Which cases run, and how their results come back: disabled ones, selections, many at once."""

from __future__ import annotations

import threading

from engine.execution.executor import Executor
from engine.store.history import History
from engine.testing.runner import CaseStatus, prepare_case, run_cases, run_suite
from engine.testing.suite import find_flow

FLOW = """
id: quick
namespace: company.team
inputs:
  - id: n
    type: INT
    defaults: 1
tasks:
  - id: double
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.n * 2 }}"
"""


def case(case_id: str, n: int, *, disabled: bool = False) -> str:
    return f"""
  - id: {case_id}
    type: io.kestra.core.tests.flow.UnitTest
    disabled: {str(disabled).lower()}
    fixtures:
      inputs:
        n: {n}
    assertions:
      - value: "{{{{ outputs.double.value }}}}"
        equalTo: {n * 2}
"""


SUITE = "id: quick_test\nnamespace: company.team\nflowId: quick\ntestCases:" + "".join(
    case(f"n{n}", n) for n in range(1, 7)) + case("off", 9, disabled=True)


def test_disabled_cases_are_skipped_without_an_execution(suites):
    results = suites.run_suite(FLOW, SUITE)
    assert results["off"].status is CaseStatus.SKIPPED and results["off"].execution_id is None
    history = History(suites.home.history_db)
    try:
        ran = {e.id for e in history.list_executions(include_tests=True)}
    finally:
        history.close()
    assert ran == {r.execution_id for r in results.values() if r.status is CaseStatus.PASSED}


def test_a_disabled_suite_skips_every_case(suites):
    results = suites.run_suite(FLOW, SUITE.replace("flowId: quick\n", "flowId: quick\ndisabled: true\n"))
    assert {r.status for r in results.values()} == {CaseStatus.SKIPPED}


def test_cases_run_side_by_side_come_back_in_suite_order_and_each_is_heard_once(suites):
    suite = suites.load_suite(FLOW, SUITE)
    flow = find_flow(suite, [suites.flow_dir])
    heard: list[str] = []
    lock = threading.Lock()

    def on_result(result):
        with lock:
            heard.append(result.case_id)

    results = run_suite(Executor(suites.runtime), suite, flow, workers=3, on_result=on_result)
    assert [r.case_id for r in results] == [c.id for c in suite.test_cases]
    assert sorted(heard) == sorted(c.id for c in suite.test_cases)
    assert all(r.status is CaseStatus.PASSED for r in results if r.case_id != "off")
    assert len({r.execution_id for r in results if r.execution_id}) == 6     # one execution per case


def test_select_keeps_only_the_chosen_cases(suites):
    suite = suites.load_suite(FLOW, SUITE)
    flow = find_flow(suite, [suites.flow_dir])
    results = run_suite(Executor(suites.runtime), suite, flow, select=lambda _s, c: c.id in ("n2", "n5"))
    assert [r.case_id for r in results] == ["n2", "n5"]


def test_cancelled_runs_start_no_new_case(suites):
    suite = suites.load_suite(FLOW, SUITE)
    flow = find_flow(suite, [suites.flow_dir])
    cancel = threading.Event()
    cancel.set()
    results = run_cases(Executor(suites.runtime), [(suite, c, flow) for c in suite.test_cases], cancel=cancel)
    assert {r.status for r in results} == {CaseStatus.ERROR} and all(r.execution_id is None for r in results)


def test_a_prepared_case_is_started_by_its_caller_and_evaluated_after(suites):
    """The workbench's way: prepare, start on its own executor (and bus), evaluate."""
    suite = suites.load_suite(FLOW, SUITE)
    flow = find_flow(suite, [suites.flow_dir])
    executor = Executor(suites.runtime)
    seen = []
    executor.bus.subscribe(seen.append)
    prepared = prepare_case(executor, suite, suite.test_cases[2], flow)
    assert not prepared.handle.done and seen == []          # created, not started
    executor.start(prepared.handle)
    execution = prepared.handle.wait(60)
    result = prepared.evaluate(execution, prepared.handle.task_runs())
    assert (result.name, result.status, result.execution_id) == (
        "quick_test.n3", CaseStatus.PASSED, prepared.handle.execution_id)
    assert execution.labels == {"system.test": "true"}
    assert seen   # its events went to that executor's bus
