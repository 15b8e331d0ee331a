"""Kestra's log tasks beside Log: Fetch and PurgeLogs."""

from __future__ import annotations

import pytest

from engine.core.errors import InvalidFlowError
from tests.conftest import Engine, RunResult

TALKATIVE = """
    id: talkative
    namespace: roost.logs
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: one
      - id: second
        type: io.kestra.plugin.core.log.Log
        level: WARN
        message: [two, three]
      - id: quiet
        type: io.kestra.plugin.core.log.Log
        level: DEBUG
        message: four
"""


def _fetched_lines(engine: Engine, result: RunResult, task_id: str) -> list[str]:
    uri = result.run_of(task_id).outputs["uri"]
    return engine.runtime.storage.read_bytes(uri).decode().splitlines()


def test_fetch_writes_this_executions_logs_at_info_and_above_as_ion_lines(engine: Engine) -> None:
    result = engine.run(TALKATIVE + """
      - id: fetch
        type: io.kestra.plugin.core.log.Fetch
    """)
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("fetch").outputs["size"] == 3
    lines = _fetched_lines(engine, result, "fetch")
    assert len(lines) == 3
    first_run = result.run_of("first").id
    assert lines[0].startswith('{namespace:"roost.logs",flowId:"talkative",taskId:"first",'
                               f'executionId:"{result.execution.id}",taskRunId:"{first_run}",timestamp:')
    assert lines[0].endswith(',level:"INFO",message:"one"}')
    assert [line.rsplit("message:", 1)[1] for line in lines] == ['"one"}', '"two"}', '"three"}']
    assert result.run_of("fetch").outputs["uri"].endswith(".ion")


def test_fetch_filters_by_minimum_level_and_task_ids(engine: Engine) -> None:
    result = engine.run(TALKATIVE + """
      - id: warnings
        type: io.kestra.core.tasks.log.Fetch
        level: WARN
      - id: only_first_and_quiet
        type: io.kestra.plugin.core.log.Fetch
        level: DEBUG
        tasksId: [quiet, first]
    """)
    assert result.run_of("warnings").outputs["size"] == 2
    assert result.run_of("only_first_and_quiet").outputs["size"] == 2
    lines = _fetched_lines(engine, result, "only_first_and_quiet")
    assert ['taskId:"quiet"' in lines[0], 'taskId:"first"' in lines[1]] == [True, True]


def test_fetch_reads_another_execution_by_id(engine: Engine) -> None:
    earlier = engine.run(TALKATIVE)
    result = engine.run("""
        id: reader
        namespace: roost.tests
        inputs:
          - id: target
            type: STRING
        tasks:
          - id: fetch
            type: io.kestra.plugin.core.log.Fetch
            executionId: "{{ inputs.target }}"
            namespace: roost.logs
            flowId: talkative
    """, {"target": earlier.execution.id})
    assert result.run_of("fetch").outputs["size"] == 3
    assert all(f'executionId:"{earlier.execution.id}"' in line for line in _fetched_lines(engine, result, "fetch"))


def test_fetch_of_another_flows_execution_without_its_namespace_finds_nothing_and_says_why(engine: Engine) -> None:
    earlier = engine.run(TALKATIVE)
    result = engine.run(f"""
        id: reader_same_flow
        namespace: roost.tests
        tasks:
          - id: fetch
            type: io.kestra.plugin.core.log.Fetch
            executionId: {earlier.execution.id}
    """)
    assert result.state == "SUCCESS"
    assert result.run_of("fetch").outputs["size"] == 0
    assert result.logs("fetch") == [f"execution {earlier.execution.id} belongs to roost.logs.talkative, not "
                                    "roost.tests.reader_same_flow; set `namespace` and `flowId` to fetch its logs"]


def test_fetch_refuses_an_unknown_level_at_load_time(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="'level' must be one of TRACE, DEBUG, INFO, WARN, ERROR, not 'LOUD'"):
        engine.load("""
            id: bad_fetch
            namespace: roost.tests
            tasks:
              - id: fetch
                type: io.kestra.plugin.core.log.Fetch
                level: LOUD
        """)


def test_fetch_keeps_secrets_masked(engine: Engine) -> None:
    engine.runtime.masker.add("s3cr3t-value")
    result = engine.run("""
        id: secretive
        namespace: roost.tests
        tasks:
          - id: leak
            type: io.kestra.plugin.core.log.Log
            message: "token s3cr3t-value"
          - id: fetch
            type: io.kestra.plugin.core.log.Fetch
    """)
    text = "\n".join(_fetched_lines(engine, result, "fetch"))
    assert "s3cr3t-value" not in text and "token" in text


def test_purge_logs_deletes_by_flow_and_level_and_counts_them(engine: Engine) -> None:
    target = engine.run(TALKATIVE)
    result = engine.run("""
        id: purger
        namespace: roost.tests
        tasks:
          - id: purge_warnings
            type: io.kestra.plugin.core.log.PurgeLogs
            namespace: roost.logs
            flowId: talkative
            logLevels: [WARN]
            endDate: "{{ now() }}"
    """)
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("purge_warnings").outputs == {"count": 2}
    history = engine.runtime.history
    assert history is not None
    assert [r.message for r in history.logs(target.execution.id)] == ["one", "four"]


def test_purge_logs_by_execution_id_and_namespace_prefix_leaves_others(engine: Engine) -> None:
    first = engine.run(TALKATIVE)
    second = engine.run(TALKATIVE)
    result = engine.run(f"""
        id: purger_exec
        namespace: roost.tests
        tasks:
          - id: purge_one
            type: io.kestra.plugin.core.log.PurgeLogs
            namespace: roost
            executionId: {first.execution.id}
            endDate: "{{{{ now() }}}}"
    """)
    assert result.run_of("purge_one").outputs == {"count": 4}
    history = engine.runtime.history
    assert history is not None
    assert history.count_logs(first.execution.id) == 0
    assert history.count_logs(second.execution.id) == 4


def test_purge_logs_with_a_start_date_after_the_logs_deletes_nothing(engine: Engine) -> None:
    target = engine.run(TALKATIVE)
    result = engine.run("""
        id: purger_dates
        namespace: roost.tests
        tasks:
          - id: purge_future
            type: io.kestra.plugin.core.log.PurgeLogs
            startDate: "{{ now() | dateAdd(1, 'HOURS') }}"
            endDate: "{{ now() | dateAdd(2, 'HOURS') }}"
    """)
    assert result.run_of("purge_future").outputs == {"count": 0}
    history = engine.runtime.history
    assert history is not None
    assert history.count_logs(target.execution.id) == 4
