"""`roost compare`: two real executions, what differs between them (and nothing that does not)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.store.execution_compare import compare_executions
from engine.store.file_compare import compare_files
from tests.test_cli import roost

FLOW = """
id: cmp
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: Ada
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.who }}"
  - id: build
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["people.csv"]
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - printf 'id,name\\n1,Ada\\n2,{{ inputs.who }}\\n' > people.csv
          - "{% if inputs.who == 'Grace' %}touch grace.txt{% endif %}"
  - id: same
    type: io.kestra.plugin.core.debug.Return
    format: constant
outputs:
  - id: greeting
    type: STRING
    value: "{{ inputs.who }}"
"""


def report_of(engine, first_inputs, second_inputs, second_flow=FLOW):
    first = engine.run(FLOW, first_inputs)
    second = engine.run(second_flow, second_inputs)
    engine.runtime.history.flush()
    return compare_executions(engine.runtime.history, engine.runtime.storage,
                              first.execution.id, second.execution.id)


def task(report, key):
    return next(t for t in report.tasks if t.key == key)


def test_the_same_flow_run_twice_alike_differs_in_nothing_but_timing(engine):
    report = report_of(engine, {}, {})
    assert report.inputs == [] and report.flow_changed is False and report.flow_outputs == []
    assert not any(t.differs for t in report.tasks)
    assert all(diff.identical for diff in task(report, "build").files.values())


def test_inputs_rendered_properties_outputs_and_flow_outputs_that_differ_are_listed(engine):
    report = report_of(engine, {}, {"who": "Grace"})
    assert [(c.key, c.left, c.right) for c in report.inputs] == [("who", "Ada", "Grace")]
    hello = task(report, "hello")
    assert [(c.key, c.left, c.right) for c in hello.rendered] == [("message", "Hello Ada", "Hello Grace")]
    assert [(c.key, c.left, c.right) for c in report.flow_outputs] == [("greeting", "Ada", "Grace")]
    assert not task(report, "same").differs


def test_a_csv_output_is_compared_as_a_table_row_by_row(engine):
    report = report_of(engine, {}, {"who": "Grace"})
    diff = task(report, "build").files["outputFiles.people.csv"]
    assert not diff.identical and diff.table_diff is not None
    table = diff.table_diff
    assert (table.rows_left, table.rows_right, table.only_left, table.only_right) == (2, 2, 1, 1)
    assert table.sample_left == [["2", "Ada"]] and table.sample_right == [["2", "Grace"]]


def test_working_directory_changes_per_task_are_compared(engine):
    report = report_of(engine, {}, {"who": "Grace"})
    changes = {c.key: (c.left, c.right) for c in task(report, "make").workdir}
    assert changes["grace.txt"][1] == "added"


def test_a_changed_flow_yaml_is_shown_as_a_diff(engine):
    report = report_of(engine, {}, {}, FLOW.replace("Hello {{", "Hi {{"))
    assert report.flow_changed is True
    assert '-    message: "Hello {{ inputs.who }}"' in report.flow_diff
    assert '+    message: "Hi {{ inputs.who }}"' in report.flow_diff


def test_a_task_that_failed_and_retried_differs_by_state_and_attempts(engine):
    flaky = """
    id: flaky
    namespace: company.team
    inputs:
      - id: fail
        type: BOOLEAN
        defaults: false
    tasks:
      - id: step
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{ inputs.fail }}"
        retry:
          type: constant
          interval: PT0.01S
          maxAttempts: 2
    """
    first, second = engine.run(flaky), engine.run(flaky, {"fail": True})
    engine.runtime.history.flush()
    report = compare_executions(engine.runtime.history, engine.runtime.storage,
                                first.execution.id, second.execution.id)
    step = task(report, "step")
    assert step.differs and step.left.state == "SUCCESS" and step.right.state == "FAILED"
    assert step.right.attempts == 2


def test_text_files_get_a_unified_diff_and_binary_ones_a_hash(tmp_path: Path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one\ntwo\n")
    b.write_text("one\nthree\n")
    diff = compare_files("notes.txt", a, b)
    assert "-two" in diff.text_diff and "+three" in diff.text_diff
    a.write_bytes(b"\xff\x00\x01")
    b.write_bytes(b"\xff\x00\x02")
    binary = compare_files("blob.bin", a, b)
    assert binary.note == "binary: compared by hash" and binary.left.sha256 != binary.right.sha256


def test_parquet_outputs_are_compared_by_rows_and_columns(tmp_path: Path):
    import duckdb

    left, right = tmp_path / "l.parquet", tmp_path / "r.parquet"
    duckdb.connect().execute(f"COPY (SELECT i AS id FROM range(5) t(i)) TO '{left}' (FORMAT parquet)")
    duckdb.connect().execute(f"COPY (SELECT i AS id, i * 2 AS twice FROM range(1, 6) t(i)) TO '{right}' "
                             "(FORMAT parquet)")
    table = compare_files("x.parquet", left, right).table_diff
    assert table is not None
    assert table.columns_added == ["twice"] and table.columns_removed == []
    assert (table.only_left, table.only_right) == (1, 1)  # 0 gone, 5 new


def test_roost_compare_prints_a_table_and_json_and_exits_0(tmp_path: Path):
    home = tmp_path / "home"
    flow = tmp_path / "cmp.yml"
    flow.write_text(FLOW)
    ids = []
    for who in ("Ada", "Grace"):
        run = roost("run", str(flow), "-i", f"who={who}", "--json", home=home)
        assert run.returncode == 0, run.stderr
        ids.append(json.loads(run.stdout)["id"])
    text = roost("compare", *ids, home=home)
    assert text.returncode == 0, text.stderr
    assert "who  Ada  →  Grace" in text.stdout and "flow: same YAML" in text.stdout
    assert "1 only left; 1 only right" in text.stdout
    as_json = json.loads(roost("compare", *ids, "--json", home=home).stdout)
    assert as_json["inputs"] == [{"key": "who", "left": "Ada", "right": "Grace", "onlyLeft": False,
                                  "onlyRight": False}]
    unknown = roost("compare", ids[0], "nope", home=home)
    assert unknown.returncode == 2 and "no execution 'nope'" in unknown.stderr


def test_a_replay_is_compared_with_its_original(engine):
    from engine.execution.executor import Executor
    from engine.execution.replay import prepare_replay
    from engine.execution.runtime import RunOptions

    original = engine.run(FLOW)
    engine.runtime.history.flush()
    prepared = prepare_replay(engine.runtime, original.execution.id, "same")
    executor = Executor(engine.runtime)
    handle = executor.prepare(prepared.flow, prepared.inputs, options=RunOptions(replay=prepared.plan),
                              original_id=original.execution.id)
    executor.start(handle)
    handle.wait(60)
    engine.runtime.history.flush()
    report = compare_executions(engine.runtime.history, engine.runtime.storage,
                                original.execution.id, handle.execution.id)
    assert report.replay_of and report.inputs == []
