"""Kestra's storage tasks (engine/tasks/storage_tasks.py, storage_items.py) run in real executions."""

from __future__ import annotations

from typing import Any

from engine.core.ion import read_value
from tests.conftest import Engine, RunResult


def _text(engine: Engine, uri: str) -> str:
    return engine.runtime.storage.read_bytes(uri).decode("utf-8")


def _outputs(result: RunResult, task_id: str) -> dict[str, Any]:
    return dict(result.run_of(task_id).outputs or {})


def _flow(tasks: str, flow_id: str = "storage") -> str:
    return f"id: {flow_id}\nnamespace: test.storage\ntasks:\n{tasks}"


WRITE_NUMBERS = """
  - id: numbers
    type: io.kestra.plugin.core.storage.Write
    content: "1\\n2\\n3\\n4\\n5\\n"
    extension: .csv
"""


def test_write_stores_rendered_content_with_its_extension(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "hello {{ flow.id }}"
    extension: .txt
"""))
    assert result.state == "SUCCESS"
    uri = _outputs(result, "write")["uri"]
    assert uri.startswith("kestra:///test/storage/storage/executions/") and uri.endswith(".txt")
    assert _text(engine, uri) == "hello storage"


def test_concat_joins_a_list_of_files_with_the_separator_after_each(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: a
    type: io.kestra.plugin.core.storage.Write
    content: first
  - id: b
    type: io.kestra.plugin.core.storage.Write
    content: second
  - id: concat
    type: io.kestra.core.tasks.storages.Concat
    files:
      - "{{ outputs.a.uri }}"
      - "{{ outputs.b.uri }}"
    separator: "\\n"
    extension: .yml
"""))
    assert result.state == "SUCCESS", result.logs()
    uri = _outputs(result, "concat")["uri"]
    assert uri.endswith(".yml")
    assert _text(engine, uri) == "first\nsecond\n"


def test_concat_reads_files_from_a_json_array_string(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: a
    type: io.kestra.plugin.core.storage.Write
    content: x
  - id: concat
    type: io.kestra.plugin.core.storage.Concat
    files: '["{{ outputs.a.uri }}", "{{ outputs.a.uri }}"]'
"""))
    assert result.state == "SUCCESS", result.logs()
    assert _text(engine, _outputs(result, "concat")["uri"]) == "xx"


def test_concat_refuses_a_file_of_another_execution(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: concat
    type: io.kestra.plugin.core.storage.Concat
    files: ["kestra:///other/flow/executions/abc/tasks/t/r/file.txt"]
"""))
    assert result.state == "FAILED"
    assert any("does not belong to this execution" in line for line in result.logs("concat"))


def test_split_by_rows_makes_chunks_of_that_many_rows(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: split
    type: io.kestra.plugin.core.storage.Split
    from: "{{ outputs.numbers.uri }}"
    rows: 2
"""))
    assert result.state == "SUCCESS", result.logs()
    uris = _outputs(result, "split")["uris"]
    assert [_text(engine, u) for u in uris] == ["1\n2\n", "3\n4\n", "5\n"]
    assert all(u.endswith(".csv") for u in uris)


def test_split_by_partitions_deals_rows_round_robin(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: split
    type: io.kestra.core.tasks.storages.Split
    from: "{{ outputs.numbers.uri }}"
    partitions: 2
"""))
    assert result.state == "SUCCESS", result.logs()
    assert [_text(engine, u) for u in _outputs(result, "split")["uris"]] == ["1\n3\n5\n", "2\n4\n"]


def test_split_by_partitions_drops_partitions_left_empty(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: split
    type: io.kestra.plugin.core.storage.Split
    from: "{{ outputs.numbers.uri }}"
    partitions: 8
"""))
    assert len(_outputs(result, "split")["uris"]) == 5


def test_split_by_bytes_starts_a_new_file_once_the_size_is_reached(engine: Engine) -> None:
    # Rows of 4 bytes ("abc\n"); a file is full once it holds >= 1KB: 256 rows, then the rest.
    result = engine.run(_flow("""
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    content: "{% for i in range(1, 300) %}abc\\n{% endfor %}"
  - id: split
    type: io.kestra.plugin.core.storage.Split
    from: "{{ outputs.rows.uri }}"
    bytes: 1KB
"""))
    assert result.state == "SUCCESS", result.logs()
    texts = [_text(engine, u) for u in _outputs(result, "split")["uris"]]
    assert [len(t) for t in texts] == [1024, 300 * 4 - 1024]  # Pebble's range includes its end
    assert "".join(texts) == "abc\n" * 300


def test_split_with_a_custom_separator_joins_rows_with_it(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    content: "a\\r\\nb\\rc"
  - id: split
    type: io.kestra.plugin.core.storage.Split
    from: "{{ outputs.rows.uri }}"
    rows: 10
    separator: ";"
"""))
    assert [_text(engine, u) for u in _outputs(result, "split")["uris"]] == ["a;b;c;"]


def test_split_without_bytes_partitions_or_rows_is_refused_at_load(engine: Engine) -> None:
    from engine.core.errors import InvalidFlowError

    try:
        engine.load(_flow("""
  - id: split
    type: io.kestra.plugin.core.storage.Split
    from: kestra:///x.txt
"""))
    except InvalidFlowError as exc:
        assert "one of 'bytes', 'partitions' or 'rows' is required" in str(exc)
    else:
        raise AssertionError("a Split without a way to split loaded")


def test_split_refuses_an_unreadable_size(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: split
    type: io.kestra.plugin.core.storage.Split
    from: "{{ outputs.numbers.uri }}"
    bytes: ten megabytes
"""))
    assert result.state == "FAILED"
    assert any("invalid size 'ten megabytes'" in line for line in result.logs("split"))


def test_size_gives_the_file_size_in_bytes(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: size
    type: io.kestra.core.tasks.storages.Size
    uri: "{{ outputs.numbers.uri }}"
"""))
    assert _outputs(result, "size") == {"size": 10}


def test_delete_removes_the_file_and_says_so(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: delete
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.numbers.uri }}"
  - id: again
    type: io.kestra.core.tasks.storages.Delete
    uri: "{{ outputs.numbers.uri }}"
"""))
    assert result.state == "SUCCESS", result.logs()
    uri = _outputs(result, "numbers")["uri"]
    assert _outputs(result, "delete") == {"uri": uri, "deleted": True}
    assert _outputs(result, "again") == {"uri": uri, "deleted": False}
    assert not engine.runtime.storage.exists(uri)


def test_delete_with_error_on_missing_fails_on_a_missing_file(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: delete
    type: io.kestra.plugin.core.storage.Delete
    uri: "{{ outputs.numbers.uri }}.missing"
    errorOnMissing: true
"""))
    assert result.state == "FAILED"
    assert any("Unable to find file" in line for line in result.logs("delete"))


def test_delete_refuses_a_file_outside_this_execution(engine: Engine) -> None:
    victim = engine.runtime.storage.root / "other" / "file.txt"
    victim.parent.mkdir(parents=True)
    victim.write_text("keep me")
    result = engine.run(_flow("""
  - id: delete
    type: io.kestra.plugin.core.storage.Delete
    uri: kestra:///other/file.txt
"""))
    assert result.state == "FAILED"
    assert any("not a file of this execution" in line for line in result.logs("delete"))
    assert victim.read_text() == "keep me"


def test_reverse_writes_the_lines_last_first(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: reverse
    type: io.kestra.core.tasks.storages.Reverse
    from: "{{ outputs.numbers.uri }}"
"""))
    uri = _outputs(result, "reverse")["uri"]
    assert uri.endswith(".csv")
    assert _text(engine, uri) == "5\n4\n3\n2\n1\n"


def test_reverse_joins_lines_with_the_separator(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: reverse
    type: io.kestra.plugin.core.storage.Reverse
    from: "{{ outputs.numbers.uri }}"
    separator: ","
"""))
    assert _text(engine, _outputs(result, "reverse")["uri"]) == "5,4,3,2,1,"


def test_reverse_refuses_an_unknown_charset(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: reverse
    type: io.kestra.plugin.core.storage.Reverse
    from: "{{ outputs.numbers.uri }}"
    charset: NOT-A-CHARSET
"""))
    assert result.state == "FAILED"
    assert any("'NOT-A-CHARSET' is not a known charset" in line for line in result.logs("reverse"))


def test_purge_current_execution_files_deletes_every_file_of_the_execution(engine: Engine) -> None:
    result = engine.run(_flow(WRITE_NUMBERS + """
  - id: other
    type: io.kestra.plugin.core.storage.Write
    content: more
  - id: purge
    type: io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles
"""))
    assert result.state == "SUCCESS", result.logs()
    written = {_outputs(result, "numbers")["uri"], _outputs(result, "other")["uri"]}
    assert set(_outputs(result, "purge")["uris"]) == written
    assert not any(engine.runtime.storage.exists(u) for u in written)


def test_purge_execution_legacy_name_succeeds_with_nothing_to_purge(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: purge
    type: io.kestra.core.tasks.storages.PurgeExecution
"""))
    assert result.state == "SUCCESS"
    assert _outputs(result, "purge") == {"uris": []}


# --- Ion row files: FilterItems and DeduplicateItems --------------------------------------

ION_ROWS = """
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    extension: .ion
    content: |
      {key:"k1",value:1}
      {key:"k2",value:2}
      {key:"k3",value:"three"}
      {key:"k4",value:4}
"""


def _rows(engine: Engine, uri: str) -> list[Any]:
    return [read_value(line) for line in _text(engine, uri).splitlines()]


def test_filter_items_includes_rows_matching_the_condition(engine: Engine) -> None:
    result = engine.run(_flow(ION_ROWS + """
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: "{{ key in ['k2', 'k4'] }}"
"""))
    assert result.state == "SUCCESS", result.logs()
    out = _outputs(result, "filter")
    assert (out["processedItemsTotal"], out["droppedItemsTotal"]) == (4, 2)
    assert _rows(engine, out["uri"]) == [{"key": "k2", "value": 2}, {"key": "k4", "value": 4}]


def test_filter_items_exclude_drops_rows_matching_the_condition(engine: Engine) -> None:
    result = engine.run(_flow(ION_ROWS + """
  - id: filter
    type: io.kestra.core.tasks.storages.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: " {{ key == 'k1' }} "
    filterType: EXCLUDE
"""))
    out = _outputs(result, "filter")
    assert [r["key"] for r in _rows(engine, out["uri"])] == ["k2", "k3", "k4"]
    assert out["droppedItemsTotal"] == 1


def test_filter_items_fails_on_a_row_the_condition_cannot_evaluate(engine: Engine) -> None:
    result = engine.run(_flow(ION_ROWS + """
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: "{{ value % 2 == 0 }}"
"""))
    assert result.state == "FAILED"
    assert any("errorOrNullBehavior" in line and "three" in line for line in result.logs("filter"))


def test_filter_items_error_or_null_include_keeps_unevaluable_rows(engine: Engine) -> None:
    result = engine.run(_flow(ION_ROWS + """
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: "{{ value % 2 == 0 }}"
    errorOrNullBehavior: INCLUDE
"""))
    out = _outputs(result, "filter")
    assert [r["key"] for r in _rows(engine, out["uri"])] == ["k2", "k3", "k4"]


def test_filter_items_error_or_null_exclude_drops_unevaluable_rows(engine: Engine) -> None:
    result = engine.run(_flow(ION_ROWS + """
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: "{{ value % 2 == 0 }}"
    errorOrNullBehavior: EXCLUDE
"""))
    out = _outputs(result, "filter")
    assert [r["key"] for r in _rows(engine, out["uri"])] == ["k2", "k4"]
    assert out["droppedItemsTotal"] == 2


def test_filter_items_treats_non_boolean_values_by_kestra_truthiness(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    content: |
      {n:0}
      {n:5}
      {n:""}
      {n:"x"}
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: "{{ n }}"
"""))
    assert _rows(engine, _outputs(result, "filter")["uri"]) == [{"n": 5}, {"n": "x"}]


def test_filter_items_refuses_an_unknown_filter_type_at_load(engine: Engine) -> None:
    from engine.core.errors import InvalidFlowError

    try:
        engine.load(_flow("""
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: kestra:///x.ion
    filterCondition: "{{ true }}"
    filterType: KEEP
"""))
    except InvalidFlowError as exc:
        assert "'filterType' must be one of INCLUDE, EXCLUDE" in str(exc)
    else:
        raise AssertionError("filterType KEEP loaded")


def test_filter_items_names_the_line_that_is_not_ion(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    content: "{a:1}\\n{broken\\n"
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: "{{ true }}"
"""))
    assert result.state == "FAILED"
    assert any("line 2 of" in line and "not an Ion value" in line for line in result.logs("filter"))


def test_deduplicate_items_keeps_the_last_row_of_each_key(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    content: |
      {key:"k1",value:"v1"}
      {key:"k2",value:"v1"}
      {key:"k1",value:"v2"}
      {key:"k2",value:null}
      {key:"k3",value:"v1"}
  - id: dedup
    type: io.kestra.plugin.core.storage.DeduplicateItems
    from: "{{ outputs.rows.uri }}"
    expr: " {{ key }} "
"""))
    assert result.state == "SUCCESS", result.logs()
    out = _outputs(result, "dedup")
    assert (out["numKeys"], out["processedItemsTotal"], out["droppedItemsTotal"]) == (3, 5, 2)
    assert _rows(engine, out["uri"]) == [{"key": "k1", "value": "v2"}, {"key": "k2", "value": None},
                                         {"key": "k3", "value": "v1"}]


def test_deduplicate_items_builds_composite_keys(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    content: |
      {a:"x",b:1,c:"first"}
      {a:"x",b:2,c:"second"}
      {a:"x",b:1,c:"third"}
  - id: dedup
    type: io.kestra.core.tasks.storages.DeduplicateItems
    from: "{{ outputs.rows.uri }}"
    expr: "{{ a }}-{{ b }}"
"""))
    out = _outputs(result, "dedup")
    assert [r["c"] for r in _rows(engine, out["uri"])] == ["second", "third"]
    assert out["numKeys"] == 2


def test_filter_items_reads_kestra_ion_floats_decimals_and_timestamps_as_plain_values(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: rows
    type: io.kestra.plugin.core.storage.Write
    content: |
      {id:1,score:1.5e0,price:2.50,at:2024-01-01T10:00:00Z,tags:[a,"b"]}
      {id:2,score:0.5e0,price:9.99,at:2023-06-01T10:00:00Z,tags:[]}
  - id: filter
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.rows.uri }}"
    filterCondition: "{{ score > 1 and price < 3 and at contains '2024-01' and tags | length == 2 }}"
"""))
    assert result.state == "SUCCESS", result.logs()
    assert [r["id"] for r in _rows(engine, _outputs(result, "filter")["uri"])] == [1]
