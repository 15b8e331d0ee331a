"""Mocks: what stands in for a task, from roost.toml [[mocks]], `roost run --mock` or a fixture.

A mock by task id replaces any task; a type glob replaces only tasks Roost cannot run. A mock
without outputs makes the task SUCCESS with none; no mock at all makes an unavailable task
fail with a message that says how to give one. Mocked runs are recorded as mocked.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.core.config import RoostConfig
from engine.core.errors import UsageError
from engine.core.mocks import MockSpec, append_mock

FLOW = textwrap.dedent("""\
    id: mocked
    namespace: company.team
    tasks:
      - id: query
        type: io.kestra.plugin.snowflake.Query
        sql: SELECT count(*) AS n FROM orders
      - id: hello
        type: io.kestra.plugin.core.log.Log
        message: "rows={{ outputs.query.rows ?? 'none' }}"
      - id: result
        type: io.kestra.plugin.core.output.OutputValues
        values:
          rows: "{{ outputs.query.rows ?? 'none' }}"
    """)


def config_with(tmp_path: Path, toml: str) -> RoostConfig:
    path = tmp_path / "roost.toml"
    path.write_text(textwrap.dedent(toml))
    return RoostConfig.load(path)


def test_roost_toml_mock_by_type_glob_gives_an_unavailable_task_its_outputs(engine, tmp_path):
    engine.with_config(config_with(tmp_path, """\
        [[mocks]]
        type = "io.kestra.plugin.snowflake.*"
        outputs = { rows = 42 }
        """))
    result = engine.run(FLOW)
    assert result.state == "SUCCESS"
    query = result.run_of("query")
    assert query.mocked and query.state.value == "SUCCESS" and query.outputs == {"rows": 42}
    assert result.run_of("result").outputs == {"values": {"rows": "42"}}


def test_roost_toml_mock_by_task_id_replaces_an_available_task_too(engine, tmp_path):
    engine.with_config(config_with(tmp_path, """\
        [[mocks]]
        task = "query"
        outputs = { rows = 1 }

        [[mocks]]
        task = "hello"
        state = "WARNING"
        """))
    result = engine.run(FLOW)
    assert result.run_of("hello").mocked and result.run_of("hello").state.value == "WARNING"
    assert result.logs("hello") == []  # it did not run
    assert result.state == "WARNING"


def test_a_type_glob_mock_does_not_replace_a_task_roost_can_run(engine, tmp_path):
    engine.with_config(config_with(tmp_path, """\
        [[mocks]]
        type = "io.kestra.plugin.*"
        outputs = { rows = 7 }
        """))
    result = engine.run(FLOW)
    assert result.run_of("query").mocked
    hello = result.run_of("hello")
    assert not hello.mocked and result.logs("hello") == ["rows=7"]


def test_a_mock_limited_to_another_flow_does_not_apply(engine, tmp_path):
    engine.with_config(config_with(tmp_path, """\
        [[mocks]]
        flow = "company.other"
        task = "query"
        """))
    result = engine.run(FLOW)
    assert result.state == "FAILED" and not result.run_of("query").mocked


def test_a_mock_without_outputs_makes_the_task_success_with_no_outputs(engine, tmp_path):
    engine.with_config(config_with(tmp_path, '[[mocks]]\ntask = "query"\n'))
    result = engine.run(FLOW)
    query = result.run_of("query")
    assert result.state == "SUCCESS" and query.mocked and query.outputs == {}
    assert result.logs("hello") == ["rows=none"]


def test_an_unavailable_task_without_a_mock_fails_saying_how_to_mock_it(engine):
    result = engine.run(FLOW)
    assert result.state == "FAILED"
    assert result.run_of("query").state.value == "FAILED" and not result.run_of("query").mocked
    (message,) = result.logs("query", "ERROR")
    assert message.startswith("task 'query': io.kestra.plugin.snowflake.Query is not available in Roost")
    assert '[[mocks]] task = "query"' in message and "--mock query=" in message
    assert result.runs_of("hello") == []


def test_a_failed_mock_sends_the_flow_to_its_errors_branch(engine, tmp_path):
    engine.with_config(config_with(tmp_path, '[[mocks]]\ntask = "query"\nstate = "FAILED"\n'))
    result = engine.run(FLOW + textwrap.dedent("""\
        errors:
          - id: on_error
            type: io.kestra.plugin.core.log.Log
            message: handled
        """))
    assert result.state == "FAILED" and result.logs("on_error") == ["handled"]


def test_a_mock_stands_in_for_every_iteration_of_a_loop(engine, tmp_path):
    engine.with_config(config_with(tmp_path, '[[mocks]]\ntask = "send"\noutputs = { ok = true }\n'))
    result = engine.run(textwrap.dedent("""\
        id: loop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["a", "b"]
            tasks:
              - id: send
                type: io.kestra.plugin.slack.SlackIncomingWebhook
                url: https://example.invalid
        """))
    assert result.state == "SUCCESS"
    assert [(r.value, r.mocked, r.outputs) for r in result.runs_of("send")] == [
        ("a", True, {"ok": True}), ("b", True, {"ok": True})]


@pytest.mark.parametrize("toml, message", [
    ('[[mocks]]\noutputs = { a = 1 }\n', 'needs either task = "TASK_ID" or type = "GLOB"'),
    ('[[mocks]]\ntask = "q"\nstate = "DONE"\n', "state 'DONE' is not one of FAILED, KILLED, SKIPPED, SUCCESS, WARNING"),
    ('[[mocks]]\ntask = "q"\noutputs = 3\n', "outputs must be a table"),
    ('[[mocks]]\ntask = "q"\noutput = { a = 1 }\n', "unknown key(s) output"),
])
def test_a_malformed_roost_toml_mock_is_a_clear_usage_error(tmp_path, toml, message):
    with pytest.raises(UsageError) as raised:
        config_with(tmp_path, toml)
    assert message in str(raised.value) and "[[mocks]] #1" in str(raised.value)


def test_append_mock_keeps_the_file_and_the_result_reads_back(tmp_path):
    path = tmp_path / "roost.toml"
    path.write_text('[runner]\ndefault = "process"\n')
    append_mock(path, MockSpec(task="query", flow="company.team.mocked",
                               outputs={"rows": 3, "name with space": "é\"x", "list": [1, {"a": False}]}))
    assert path.read_text().startswith('[runner]\ndefault = "process"\n\n[[mocks]]\n')
    config = RoostConfig.load(path)
    assert config.runner == "process"
    (mock,) = config.mocks
    assert (mock.task, mock.flow) == ("query", "company.team.mocked")
    assert mock.outputs == {"rows": 3, "name with space": "é\"x", "list": [1, {"a": False}]}
    with pytest.raises(ValueError, match="null"):
        append_mock(path, MockSpec(task="x", outputs={"a": None}))


# --- roost run --mock, and what the history keeps -----------------------------------------

@pytest.fixture
def flow_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROOST_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "flows" / "mocked.yml"
    path.parent.mkdir()
    path.write_text(FLOW)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code = main(["run", *args, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def test_run_mock_with_inline_json_outputs(flow_file, capsys):
    code, execution, err = run_json(capsys, str(flow_file), "--mock", 'query={"rows": 5}')
    assert code == 0, err
    runs = {r["taskId"]: r for r in execution["taskRunList"]}
    assert runs["query"]["mocked"] is True and runs["query"]["outputs"] == {"rows": 5}
    assert runs["result"]["outputs"] == {"values": {"rows": "5"}}
    assert "notice: io.kestra.plugin.snowflake.Query is not available in Roost" in err


def test_run_mock_with_a_json_file_wins_over_roost_toml(flow_file, capsys):
    (flow_file.parent / "roost.toml").write_text('[[mocks]]\ntask = "query"\noutputs = { rows = 1 }\n')
    outputs = flow_file.parent / "query.json"
    outputs.write_text('{"rows": 9}')
    code, execution, err = run_json(capsys, str(flow_file), "--mock", f"query={outputs}")
    assert code == 0, err
    assert {r["taskId"]: r for r in execution["taskRunList"]}["query"]["outputs"] == {"rows": 9}


def test_run_without_a_mock_exits_1_with_the_way_to_mock_in_the_logs(flow_file, capsys):
    code, execution, err = run_json(capsys, str(flow_file))
    assert code == 1 and execution["state"]["current"] == "FAILED"
    assert "io.kestra.plugin.snowflake.Query is not available in Roost" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("option, message", [
    ("nosuch={}", "--mock nosuch: flow company.team.mocked has no task 'nosuch'"),
    ("query={not json", "--mock query:1:2: invalid JSON"),
    ("query=[1, 2]", "cannot read [1, 2]"),
    ('query={"a": 1} ', None),
])
def test_run_mock_mistakes_are_usage_errors(flow_file, capsys, option, message):
    code = main(["run", str(flow_file), "--mock", option])
    err = capsys.readouterr().err
    if message is None:
        assert code == 0, err
        return
    assert code == 2 and message in err and "Traceback" not in err


def test_history_records_the_mocked_task_and_roost_execution_shows_it(flow_file, capsys):
    code, execution, err = run_json(capsys, str(flow_file), "--mock", "query")
    assert code == 0, err
    assert main(["execution", execution["id"]]) == 0
    shown = capsys.readouterr().out
    query_line = next(line for line in shown.splitlines() if "query" in line)
    assert "(mocked" in query_line
    hello_line = next(line for line in shown.splitlines() if "hello" in line)
    assert "mocked" not in hello_line
