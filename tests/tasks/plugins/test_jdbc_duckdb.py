"""Kestra's DuckDB Query and Queries (engine/tasks/plugins/jdbc_duckdb.py) on real DuckDB databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from engine.core.errors import InvalidFlowError
from engine.core.events import MetricRecorded
from engine.core.ion import read_lines
from tests.conftest import Engine, RunResult


def _flow(tasks: str) -> str:
    return f"id: duck\nnamespace: test.jdbc\ntasks:\n{tasks}"


def _outputs(result: RunResult, task_id: str) -> dict[str, Any]:
    assert result.state == "SUCCESS", result.logs()
    return dict(result.run_of(task_id).outputs or {})


def _text(engine: Engine, uri: str) -> str:
    return engine.runtime.storage.read_bytes(uri).decode("utf-8")


SEASONS = """
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: >
      SELECT * FROM (VALUES (1, 'spring'), (2, 'summer'), (3, 'autumn')) AS t(id, season) ORDER BY id
    fetchType: {fetch}
"""


def test_duckdb_query_fetch_returns_every_row_and_the_size(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow(SEASONS.format(fetch="FETCH"))), "q")
    assert outputs["rows"] == [{"id": 1, "season": "spring"}, {"id": 2, "season": "summer"},
                               {"id": 3, "season": "autumn"}]
    assert outputs["size"] == 3


def test_duckdb_query_fetch_one_returns_the_first_row(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow(SEASONS.format(fetch="FETCH_ONE"))), "q")
    assert outputs["row"] == {"id": 1, "season": "spring"}
    assert outputs["size"] == 1
    assert "rows" not in outputs


def test_duckdb_query_none_keeps_no_rows_but_a_null_row(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow(SEASONS.format(fetch="NONE"))), "q")
    assert outputs["row"] is None
    assert "rows" not in outputs and "size" not in outputs and "uri" not in outputs


def test_duckdb_query_store_writes_an_ion_file_read_back_row_by_row(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow(SEASONS.format(fetch="STORE"))), "q")
    assert outputs["size"] == 3 and outputs["uri"].endswith(".ion")
    rows = list(read_lines(iter(_text(engine, outputs["uri"]).splitlines())))
    assert rows == [{"id": 1, "season": "spring"}, {"id": 2, "season": "summer"}, {"id": 3, "season": "autumn"}]


def test_duckdb_query_legacy_fetch_one_boolean_still_selects_fetch_one(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: SELECT 42 AS answer
    fetchOne: true
""")), "q")
    assert outputs["row"] == {"answer": 42}


def test_duckdb_query_named_parameters_are_bound_not_pasted(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: SELECT :name AS greeting, :n + 1 AS next, ':name' AS literal
    parameters:
      name: "it's {{ flow.id }}"
      n: 41
    fetchType: FETCH_ONE
""")), "q")
    assert outputs["row"] == {"greeting": "it's duck", "next": 42, "literal": ":name"}


def test_duckdb_query_maps_values_the_way_kestra_does(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    timeZoneId: Europe/Paris
    sql: >
      SELECT DATE '2024-01-02' AS d, TIMESTAMP '2024-01-02 03:04:05' AS ts,
             TIMESTAMPTZ '2024-01-02 03:04:05+01' AS tstz, TIME '10:30:00' AS t,
             12.50::DECIMAL(5,2) AS price, 'ab'::BLOB AS bytes, [1, 2] AS list,
             {'k': 'v'} AS struct, '{"x": 1}'::JSON AS doc, 170141183460469231731687303715884105727::HUGEINT AS big
    fetchType: FETCH_ONE
""")), "q")
    assert outputs["row"] == {
        "d": "2024-01-02", "ts": "2024-01-02T03:04:05+01:00", "tstz": "2024-01-02T02:04:05Z",
        "t": "10:30:00", "price": 12.5, "bytes": "YWI=", "list": [1, 2], "struct": {"k": "v"},
        "doc": {"x": 1}, "big": "170141183460469231731687303715884105727"}


def test_duckdb_store_writes_java_time_values_as_kestra_ion_does(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    timeZoneId: UTC
    sql: SELECT DATE '2024-01-02' AS d, TIMESTAMP '2024-01-02 03:04:05' AS ts, 12.50::DECIMAL(5,2) AS price
    fetchType: STORE
""")), "q")
    line = _text(engine, outputs["uri"]).strip()
    assert line == '{"d":2024-01-02,"ts":ZonedDateTime::"2024-01-02T03:04:05Z[UTC]","price":12.50}'


def test_duckdb_query_reads_an_input_csv_by_name_from_the_working_dir(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      data.csv: |
        city,people
        Lyon,3
        Nantes,5
    sql: SELECT city, people * 2 AS doubled, '{{ workingDir }}' <> '' AS has_dir FROM read_csv_auto('data.csv') ORDER BY city
    fetchType: FETCH
""")), "q")
    assert outputs["rows"] == [{"city": "Lyon", "doubled": 6, "has_dir": True},
                               {"city": "Nantes", "doubled": 10, "has_dir": True}]


def test_duckdb_query_output_files_written_by_copy_land_in_storage(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    outputFiles:
      - report
    sql: COPY (SELECT 1 AS a, 'x' AS b) TO '{{ outputFiles.report }}' (HEADER, DELIMITER ',')
""")), "q")
    assert set(outputs["outputFiles"]) == {"report"}
    assert _text(engine, outputs["outputFiles"]["report"]).splitlines() == ["a,b", "1,x"]


def test_duckdb_output_db_file_is_reopened_by_the_next_task_through_database_uri(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: create
    type: io.kestra.plugin.jdbc.duckdb.Queries
    outputDbFile: true
    sql: |
      CREATE TABLE birds (name VARCHAR);
      INSERT INTO birds VALUES ('robin'), ('wren');
  - id: read
    type: io.kestra.plugin.jdbc.duckdb.Query
    databaseUri: "{{ outputs.create.databaseUri }}"
    sql: SELECT count(*) AS n FROM birds
    fetchType: FETCH_ONE
"""))
    assert _outputs(result, "create")["outputs"] == []
    assert _outputs(result, "read")["row"] == {"n": 2}


def test_duckdb_queries_gives_one_output_per_statement_with_rows(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: qs
    type: io.kestra.plugin.jdbc.duckdb.Queries
    sql: |
      CREATE TABLE t (a INTEGER);
      INSERT INTO t VALUES (1), (2), (3);
      SELECT a FROM t ORDER BY a;
      SELECT count(*) AS n FROM t;
    fetchType: FETCH
""")), "qs")
    assert outputs["outputs"] == [{"row": None, "rows": [{"a": 1}, {"a": 2}, {"a": 3}], "size": 3},
                                  {"row": None, "rows": [{"n": 3}], "size": 1}]


def test_duckdb_queries_rolls_back_every_statement_when_one_fails(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "kept.db"
    with duckdb.connect(str(database)) as setup:
        setup.execute("CREATE TABLE t (a INTEGER)")
    result = engine.run(_flow(f"""
  - id: qs
    type: io.kestra.plugin.jdbc.duckdb.Queries
    url: jdbc:duckdb:{database}
    sql: |
      INSERT INTO t VALUES (1);
      INSERT INTO missing_table VALUES (2);
"""))
    assert result.state == "FAILED"
    with duckdb.connect(str(database)) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_duckdb_queries_without_transaction_keeps_what_ran_before_the_failure(engine: Engine,
                                                                               tmp_path: Path) -> None:
    database = tmp_path / "kept.db"
    with duckdb.connect(str(database)) as setup:
        setup.execute("CREATE TABLE t (a INTEGER)")
    result = engine.run(_flow(f"""
  - id: qs
    type: io.kestra.plugin.jdbc.duckdb.Queries
    url: jdbc:duckdb:{database}
    transaction: false
    sql: |
      INSERT INTO t VALUES (1);
      INSERT INTO missing_table VALUES (2);
"""))
    assert result.state == "FAILED"
    with duckdb.connect(str(database)) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_duckdb_sql_error_fails_naming_the_task_and_the_statement(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: broken
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: SELECT nope FROM nowhere
"""))
    assert result.state == "FAILED"
    message = "\n".join(result.logs("broken", min_level="ERROR"))
    assert "task 'broken'" in message and "DuckDB error" in message
    assert "in statement: SELECT nope FROM nowhere" in message
    assert "Traceback" not in message


def test_duckdb_query_refuses_several_statements(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: SELECT 1; SELECT 2
"""))
    assert result.state == "FAILED"
    assert any("Use the Queries task" in line for line in result.logs("q", min_level="ERROR"))


def test_duckdb_after_sql_runs_in_the_same_transaction(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "queue.db"
    with duckdb.connect(str(database)) as setup:
        setup.execute("CREATE TABLE jobs (id INTEGER, done BOOLEAN); INSERT INTO jobs VALUES (1, false), (2, false)")
    outputs = _outputs(engine.run(_flow(f"""
  - id: take
    type: io.kestra.plugin.jdbc.duckdb.Query
    url: jdbc:duckdb:{database}
    sql: SELECT id FROM jobs WHERE NOT done ORDER BY id
    afterSQL: UPDATE jobs SET done = true
    fetchType: FETCH
""")), "take")
    assert outputs["rows"] == [{"id": 1}, {"id": 2}]
    with duckdb.connect(str(database)) as check:
        assert check.execute("SELECT count(*) FROM jobs WHERE done").fetchone() == (2,)


def test_duckdb_unknown_fetch_type_is_refused_when_the_flow_loads(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="task 'q': 'fetchType' must be one of FETCH, FETCH_ONE"):
        engine.load(_flow(SEASONS.format(fetch="EVERYTHING")))


def test_duckdb_query_counts_fetched_rows_in_the_fetch_size_metric(engine: Engine) -> None:
    result = engine.run(_flow(SEASONS.format(fetch="STORE")))
    metric = next(e for e in result.events if isinstance(e, MetricRecorded) and e.task_id == "q")
    assert (metric.name, metric.type, metric.value) == ("fetch.size", "counter", 3.0)
    assert metric.tags == {"fetch": "false", "store": "true"}


def test_duckdb_output_file_entries_that_are_no_file_name_fail_the_task_saying_so(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: slash
    type: io.kestra.plugin.jdbc.duckdb.Query
    outputFiles:
      - reports/2024
    sql: SELECT 1
"""))
    assert result.state == "FAILED"
    message = "\n".join(result.logs("slash", min_level="ERROR"))
    assert "property 'outputFiles': 'reports/2024' is not a file name" in message
    nested = engine.run(_flow("""
  - id: nested
    type: io.kestra.plugin.jdbc.duckdb.Query
    outputFiles:
      - {name: report}
    sql: SELECT 1
"""))
    assert "property 'outputFiles': each entry is a file name, got dict" in "\n".join(
        nested.logs("nested", min_level="ERROR"))
