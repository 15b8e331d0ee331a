"""Task fixtures on real runs: the task never runs, its state and outputs stand in for it."""

from __future__ import annotations

import sqlite3

from engine.core.states import State
from engine.store.history import History
from engine.testing.runner import CaseStatus


def runs_of(suites, result):
    """The task runs of a case's execution as the history holds them, by task id and value."""
    history = History(suites.home.history_db)
    try:
        return {(r.task_id, r.value): r for r in history.task_runs(result.execution_id)}
    finally:
        history.close()


MARKER_FLOW = """
id: side_effects
namespace: company.team
inputs:
  - id: marker
    type: STRING
tasks:
  - id: notify
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - touch "{{ inputs.marker }}"
      - echo '::{"outputs":{"sent":"for real"}}::'
  - id: report
    type: io.kestra.plugin.core.debug.Return
    format: "notify says {{ outputs.notify.vars.sent ?? outputs.notify.sent }}"
"""


def test_a_mocked_task_never_runs_while_the_same_task_unmocked_does(suites, tmp_path):
    mocked_marker, real_marker = tmp_path / "mocked.marker", tmp_path / "real.marker"
    results = suites.run_suite(MARKER_FLOW, f"""
        id: side_effects_test
        namespace: company.team
        flowId: side_effects
        testCases:
          - id: mocked
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              inputs:
                marker: "{mocked_marker}"
              tasks:
                - id: notify
                  outputs:
                    sent: by the fixture
            assertions:
              - value: "{{{{ outputs.report.value }}}}"
                equalTo: notify says by the fixture
          - id: real
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              inputs:
                marker: "{real_marker}"
            assertions:
              - value: "{{{{ outputs.report.value }}}}"
                equalTo: notify says for real
        """)
    assert results["mocked"].status is CaseStatus.PASSED, results["mocked"]
    assert results["real"].status is CaseStatus.PASSED, results["real"]
    assert real_marker.exists()            # the command does write its marker when it runs
    assert not mocked_marker.exists()      # ... and never ran under the fixture
    mocked = runs_of(suites, results["mocked"])[("notify", None)]
    assert mocked.mocked and mocked.state is State.SUCCESS and mocked.outputs == {"sent": "by the fixture"}
    assert mocked.runner is None and mocked.attempts == 0
    assert not runs_of(suites, results["real"])[("notify", None)].mocked


FAIL_FLOW = """
id: guarded
namespace: company.team
tasks:
  - id: extract
    type: io.kestra.plugin.core.debug.Return
    format: "42 rows"
  - id: check
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: the real check fails
    allowFailure: true
  - id: load
    type: io.kestra.plugin.core.debug.Return
    format: "loaded {{ outputs.extract.value }}"
errors:
  - id: alert
    type: io.kestra.plugin.core.debug.Return
    format: "alerted"
"""

FAIL_SUITE = """
id: guarded_test
namespace: company.team
flowId: guarded
testCases:
  - id: check_passes
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      tasks:
        - id: check
    assertions:
      - value: "{{ outputs.load.value }}"
        equalTo: loaded 42 rows
      - value: "{{ outputs.check | json }}"
        equalTo: "{}"
  - id: check_fails
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      tasks:
        - id: check
          state: FAILED
          outputs:
            reason: mocked failure
    assertions:
      - value: "{{ outputs.alert.value }}"
        equalTo: alerted
      - value: "{{ outputs.load is defined }}"
        equalTo: false
      - value: "{{ outputs.check.reason }}"
        equalTo: mocked failure
"""


def test_a_fixture_with_no_outputs_skips_the_task_as_success_with_empty_outputs(suites):
    result = suites.run_suite(FAIL_FLOW, FAIL_SUITE)["check_passes"]
    assert result.status is CaseStatus.PASSED, result
    assert result.execution_state is State.SUCCESS
    runs = runs_of(suites, result)
    assert (runs[("check", None)].state, runs[("check", None)].outputs) == (State.SUCCESS, {})
    assert ("alert", None) not in runs


def test_a_failed_fixture_sends_the_flow_into_its_errors_branch_and_ignores_allow_failure(suites):
    result = suites.run_suite(FAIL_FLOW, FAIL_SUITE)["check_fails"]
    assert result.status is CaseStatus.PASSED, result
    assert result.execution_state is State.FAILED
    runs = runs_of(suites, result)
    assert runs[("check", None)].state is State.FAILED and runs[("check", None)].mocked
    assert runs[("alert", None)].state is State.SUCCESS
    assert ("load", None) not in runs
    # a mocked task that failed has no log lines of its own to show
    assert [log.task_id for log in result.failed_task_logs] == ["check"]


def test_fixture_outputs_are_rendered_with_the_execution_variables_when_the_task_would_run(suites):
    results = suites.run_suite("""
        id: rendered
        namespace: company.team
        inputs:
          - id: name
            type: STRING
        tasks:
          - id: first
            type: io.kestra.plugin.core.debug.Return
            format: "{{ inputs.name | upper }}"
          - id: second
            type: io.kestra.plugin.core.debug.Return
            format: never rendered
        """, """
        id: rendered_test
        namespace: company.team
        flowId: rendered
        testCases:
          - id: sees_inputs_and_earlier_outputs
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              inputs:
                name: ada
              tasks:
                - id: second
                  outputs:
                    value: "{{ outputs.first.value }} via {{ task.id }} in {{ execution.id }}"
            assertions:
              - value: "{{ outputs.second.value }}"
                startsWith: ADA via second in
        """)
    result = results["sees_inputs_and_earlier_outputs"]
    assert result.status is CaseStatus.PASSED, result
    assert result.assertions[0].actual == f"ADA via second in {result.execution_id}"


def test_a_fixture_with_a_value_stands_in_for_that_foreach_iteration_only(suites):
    results = suites.run_suite("""
        id: loop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["a", "b", "c"]
            tasks:
              - id: inner
                type: io.kestra.plugin.core.debug.Return
                format: "real {{ taskrun.value }}"
        """, """
        id: loop_test
        namespace: company.team
        flowId: loop
        testCases:
          - id: one_iteration
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              tasks:
                - id: inner
                  value: b
                  outputs:
                    value: mocked b
            assertions:
              - value: "{{ outputs.inner['a'].value }}"
                equalTo: real a
              - value: "{{ outputs.inner['b'].value }}"
                equalTo: mocked b
        """)
    result = results["one_iteration"]
    assert result.status is CaseStatus.PASSED, result
    runs = runs_of(suites, result)
    assert [runs[("inner", v)].mocked for v in "abc"] == [False, True, False]


def test_a_task_run_is_marked_mocked_in_json_only_when_it_was(suites):
    result = suites.run_suite(FAIL_FLOW, FAIL_SUITE)["check_passes"]
    runs = runs_of(suites, result)
    assert runs[("check", None)].to_json()["mocked"] is True
    assert "mocked" not in runs[("extract", None)].to_json()


OLD_TASK_RUNS = """
CREATE TABLE task_runs (
    id TEXT PRIMARY KEY, execution_id TEXT NOT NULL, seq INTEGER NOT NULL, task_id TEXT NOT NULL,
    task_type TEXT, parent_task_run_id TEXT, value TEXT, value_path TEXT, state TEXT NOT NULL,
    histories TEXT NOT NULL, outputs TEXT, attempts INTEGER, runner TEXT, working_dir TEXT, metrics TEXT
);
INSERT INTO task_runs VALUES ('old', 'e1', 1, 'a', 'x', NULL, NULL, '[]', 'SUCCESS',
                              '[["SUCCESS", "2024-01-01T00:00:00.000Z"]]', '{}', 1, NULL, NULL, '[]');
"""


def test_a_history_db_from_before_mocked_runs_gains_the_column_and_keeps_its_rows(tmp_path, suites):
    database = tmp_path / "old" / "history.db"
    database.parent.mkdir()
    with sqlite3.connect(database) as connection:
        connection.executescript(OLD_TASK_RUNS)
    history = History(database)
    try:
        columns = {row[1] for row in sqlite3.connect(database).execute("PRAGMA table_info(task_runs)")}
        assert "mocked" in columns
        (old,) = history.task_runs("e1")
        assert old.task_id == "a" and old.mocked is False
    finally:
        history.close()
    History(database).close()   # opening it again (the column is there now) changes nothing


PLUGIN_FLOW = """
id: plugin_flow
namespace: company.team
tasks:
  - id: notify
    type: io.kestra.plugin.slack.SlackIncomingWebhook
    url: https://hooks.slack.com/services/x
  - id: report
    type: io.kestra.plugin.core.debug.Return
    format: "sent={{ outputs.notify.status ?? 'none' }}"
"""


def test_a_fixture_stands_in_for_a_task_roost_cannot_run_and_without_one_it_fails(suites):
    results = suites.run_suite(PLUGIN_FLOW, """
        id: plugin_flow_test
        namespace: company.team
        flowId: plugin_flow
        testCases:
          - id: with_fixture
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              tasks:
                - id: notify
                  outputs:
                    status: 200
            assertions:
              - value: "{{ outputs.report.value }}"
                equalTo: sent=200
          - id: without_fixture
            type: io.kestra.core.tests.flow.UnitTest
            assertions:
              - value: "{{ execution.state }}"
                equalTo: FAILED
        """)
    by_id = results
    assert by_id["with_fixture"].status is CaseStatus.PASSED
    assert runs_of(suites, by_id["with_fixture"])[("notify", None)].mocked
    assert by_id["without_fixture"].status is CaseStatus.PASSED
    assert runs_of(suites, by_id["without_fixture"])[("notify", None)].state is State.FAILED
