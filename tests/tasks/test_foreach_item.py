"""Kestra's ForEachItem: the items file split into batches, one subflow execution per batch."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.core.errors import InvalidFlowError
from engine.core.states import State
from engine.tasks.item_batches import BatchRule, parse_size, split_file
from tests.conftest import Engine, RunResult

BATCH_CHILD = """
    id: batch
    namespace: roost.sub
    inputs:
      - id: items
        type: STRING
      - id: iteration
        type: INT
        defaults: 0
    tasks:
      - id: check
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{ read(inputs.items) contains 'bad' }}"
        errorMessage: a bad row
      - id: echo
        type: io.kestra.plugin.core.debug.Return
        format: "{{ read(inputs.items) }}"
    outputs:
      - id: rows
        type: STRING
        value: "{{ outputs.echo.value }}"
      - id: iteration
        type: INT
        value: "{{ inputs.iteration }}"
      - id: uri
        type: STRING
        value: "{{ inputs.items }}"
"""


def parent(batch: str = "", extra: str = "") -> str:
    return f"""
        id: parent
        namespace: roost.tests
        inputs:
          - id: file
            type: FILE
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEachItem
            items: "{{{{ inputs.file }}}}"
{textwrap.indent(textwrap.dedent(batch), " " * 12)}
            namespace: roost.sub
            flowId: batch
            inputs:
              items: "{{{{ taskrun.items }}}}"
              iteration: "{{{{ taskrun.iteration }}}}"
{textwrap.indent(textwrap.dedent(extra), " " * 12)}
    """


def run_items(engine: Engine, tmp_path: Path, lines: list[str], batch: str = "", extra: str = "") -> RunResult:
    (engine.flow_dir / "batch.yml").write_text(textwrap.dedent(BATCH_CHILD))
    items = tmp_path / "items.txt"
    items.write_text("".join(f"{line}\n" for line in lines))
    return engine.run(parent(batch, extra), {"file": str(items)})


def merged(engine: Engine, result: RunResult) -> list[dict[str, Any]]:
    uri = result.run_of("each_merge").outputs["subflowOutputs"]
    return [json.loads(line) for line in engine.runtime.storage.read_bytes(uri).decode().splitlines()]


def test_foreach_item_runs_one_subflow_per_row_by_default(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, ["a", "b", "c"])
    assert result.state == "SUCCESS"
    assert [r.task_id for r in result.task_runs] == ["each", "each_split", "each_items", "each_merge"]
    items = result.run_of("each_items").outputs
    assert items["numberOfBatches"] == 3
    assert items["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 3}
    assert [row["rows"] for row in merged(engine, result)] == ["a\n", "b\n", "c\n"]


def test_foreach_item_internal_tasks_are_children_of_the_foreach_item_run(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, ["a"])
    owner = result.run_of("each")
    for task_id, suffix in (("each_split", "ForEachItemSplit"), ("each_items", "ForEachItemExecutable"),
                            ("each_merge", "ForEachItemMergeOutputs")):
        run = result.run_of(task_id)
        assert run.parent_task_run_id == owner.id
        assert run.task_type == f"io.kestra.plugin.core.flow.ForEachItem${suffix}"


def test_foreach_item_batches_by_rows(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, [str(n) for n in range(1, 11)], "batch:\n  rows: 4")
    assert result.run_of("each_items").outputs["numberOfBatches"] == 3
    assert [row["rows"] for row in merged(engine, result)] == ["1\n2\n3\n4\n", "5\n6\n7\n8\n", "9\n10\n"]


def test_foreach_item_batches_by_bytes(engine: Engine, tmp_path: Path) -> None:
    # 5 bytes a line: a batch is full once it holds 12 bytes or more, so 3 lines each.
    result = run_items(engine, tmp_path, ["abcd"] * 7, "batch:\n  bytes: '12'")
    assert [row["rows"].count("\n") for row in merged(engine, result)] == [3, 3, 1]


def test_foreach_item_batches_by_partitions_deal_rows_round_robin(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, [str(n) for n in range(1, 8)], "batch:\n  partitions: 3")
    assert [row["rows"] for row in merged(engine, result)] == ["1\n4\n7\n", "2\n5\n", "3\n6\n"]


def test_foreach_item_inputs_see_the_batch_uri_and_the_iteration(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, ["x", "y"])
    rows = merged(engine, result)
    assert [row["iteration"] for row in rows] == [1, 2]
    split_run = result.run_of("each_split")
    prefix = (f"kestra:///roost/tests/parent/executions/{result.execution.id}/tasks/each_split/"
              f"{split_run.id}/")
    assert all(row["uri"].startswith(prefix) and row["uri"].endswith(".txt") for row in rows)
    splits = engine.runtime.storage.read_bytes(split_run.outputs["splits"]).decode().splitlines()
    assert splits == [row["uri"] for row in rows]


def test_foreach_item_failed_batch_fails_the_task_and_skips_the_merge(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, ["ok", "bad", "ok"])
    assert result.state == "FAILED"
    items = result.run_of("each_items")
    assert items.state is State.FAILED
    assert items.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 2, "FAILED": 1}
    assert "each_merge" not in result.states()
    assert any("1 of 3 subflow execution(s) ended FAILED" in line for line in result.logs("each_items"))


def test_foreach_item_failed_batch_is_not_transmitted_when_transmit_failed_is_false(
        engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, ["bad", "ok"], extra="transmitFailed: false")
    assert result.state == "SUCCESS"
    assert result.run_of("each_items").outputs["iterations"]["FAILED"] == 1


def test_foreach_item_without_wait_counts_every_batch_as_started(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, ["a", "b", "c"], extra="wait: false")
    assert result.state == "SUCCESS"
    items = result.run_of("each_items").outputs
    assert items["iterations"] == {"RUNNING": 0, "SUCCESS": 3}
    assert items["numberOfBatches"] == 3
    assert result.run_of("each_merge").outputs == {}   # no outputs were waited for


def test_foreach_item_with_no_items_starts_no_subflow(engine: Engine, tmp_path: Path) -> None:
    result = run_items(engine, tmp_path, [])
    assert result.state == "SUCCESS"
    assert result.run_of("each_items").outputs == {}
    assert result.run_of("each_merge").outputs == {}


def test_foreach_item_items_must_be_an_internal_storage_uri(engine: Engine) -> None:
    (engine.flow_dir / "batch.yml").write_text(textwrap.dedent(BATCH_CHILD))
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEachItem
            items: /etc/hosts
            namespace: roost.sub
            flowId: batch
    """)
    assert result.state == "FAILED"
    assert any("Unable to split the items from /etc/hosts, this is not an internal storage URI" in line
               for line in result.logs("each_split"))


def test_foreach_item_children_inherit_labels_and_carry_the_correlation_id(engine: Engine, tmp_path: Path) -> None:
    (engine.flow_dir / "batch.yml").write_text(textwrap.dedent(BATCH_CHILD).replace(
        "outputs:\n", "outputs:\n  - id: labels\n    type: JSON\n    value: \"{{ labels }}\"\n", 1))
    items = tmp_path / "items.txt"
    items.write_text("one\n")
    text = parent(extra="inheritLabels: true\nlabels:\n  batchLabel: yes-it-is").replace(
        "namespace: roost.tests\n",
        "namespace: roost.tests\n        labels:\n          parentLabel: p\n", 1)
    result = engine.run(text, {"file": str(items)})
    (row,) = merged(engine, result)
    labels = row["labels"] if isinstance(row["labels"], dict) else json.loads(row["labels"])
    assert labels["parentLabel"] == "p" and labels["batchLabel"] == "yes-it-is"
    assert labels["system.correlationId"] == result.execution.id


def test_foreach_item_unknown_batch_property_is_refused_when_the_flow_loads(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="unknown 'batch' property 'size'"):
        engine.load(parent("batch:\n  size: 3"))


def test_foreach_item_calling_its_own_flow_is_refused_when_the_flow_loads(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match=r"Recursive call to flow \[roost.sub.batch\]"):
        engine.load("""
            id: batch
            namespace: roost.sub
            tasks:
              - id: each
                type: io.kestra.plugin.core.flow.ForEachItem
                items: "{{ inputs.file }}"
                namespace: roost.sub
                flowId: batch
        """)


def test_split_file_reads_lines_as_java_does_and_writes_the_separator(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"a\r\nb\rc\nd")
    batches = split_file(source, BatchRule(rows=2, separator=";"), tmp_path, ".csv")
    assert [path.read_bytes() for path in batches] == [b"a;b;", b"c;d;"]
    assert [path.name for path in batches] == ["batch-1.csv", "batch-2.csv"]


def test_batch_bytes_read_sizes_as_micronaut_does() -> None:
    assert [parse_size(text) for text in ("512", "2KB", "1mb", "1GB")] == [512, 2048, 1024 ** 2, 1024 ** 3]
    with pytest.raises(ValueError, match="Invalid size"):
        parse_size("10 megabytes")


def test_foreach_item_inside_a_foreach_finds_its_own_batches_per_value(engine: Engine, tmp_path: Path) -> None:
    (engine.flow_dir / "batch.yml").write_text(textwrap.dedent(BATCH_CHILD))
    items = tmp_path / "items.txt"
    items.write_text("1\n2\n3\n")
    result = engine.run("""
        id: parent
        namespace: roost.tests
        inputs:
          - id: file
            type: FILE
        tasks:
          - id: loop
            type: io.kestra.plugin.core.flow.ForEach
            values: ["x", "y"]
            concurrencyLimit: 2
            tasks:
              - id: each
                type: io.kestra.plugin.core.flow.ForEachItem
                items: "{{ inputs.file }}"
                batch:
                  rows: 2
                namespace: roost.sub
                flowId: batch
                inputs:
                  items: "{{ taskrun.items }}"
                  iteration: "{{ taskrun.iteration }}"
              - id: count
                type: io.kestra.plugin.core.debug.Return
                format: "{{ taskrun.value }}:{{ outputs.each_items[taskrun.value].numberOfBatches }}"
    """, {"file": str(items)})
    assert result.state == "SUCCESS"
    assert sorted(run.outputs["value"] for run in result.runs_of("count")) == ["x:2", "y:2"]
    assert len(result.runs_of("each_items")) == 2
