"""Kestra's SQLite Query and Queries (engine/tasks/plugins/jdbc_sqlite.py) on real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from engine.core.ion import read_lines
from tests.conftest import Engine, RunResult


def _flow(tasks: str) -> str:
    return f"id: lite\nnamespace: test.jdbc\ntasks:\n{tasks}"


def _outputs(result: RunResult, task_id: str) -> dict[str, Any]:
    assert result.state == "SUCCESS", result.logs()
    return dict(result.run_of(task_id).outputs or {})


@pytest.fixture
def birds_db(tmp_path: Path) -> Path:
    """A SQLite file with typed columns, as a user's existing database would be."""
    path = tmp_path / "birds.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE birds (id INTEGER, name TEXT, seen DATE, at DATETIME, time_of_day TIME,
                                weight REAL, photo BLOB);
            INSERT INTO birds VALUES (1, 'robin', '2024-03-01', '2024-03-01 07:15:00', '07:15:00', 18.5, x'0102');
            INSERT INTO birds VALUES (2, 'wren', '2024-03-02', '2024-03-02T08:00:00Z', '08:00:00', 9.25, NULL);
        """)
    db.close()
    return path


def test_sqlite_query_fetch_maps_declared_types_as_kestra_does(engine: Engine, birds_db: Path) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:{birds_db}
    timeZoneId: Europe/Paris
    sql: SELECT * FROM birds ORDER BY id
    fetchType: FETCH
""")), "q")
    assert outputs["size"] == 2
    assert outputs["rows"] == [
        {"id": 1, "name": "robin", "seen": "2024-03-01", "at": "2024-03-01T06:15:00Z",
         "time_of_day": "07:15:00", "weight": 18.5, "photo": "AQI="},
        {"id": 2, "name": "wren", "seen": "2024-03-02", "at": "2024-03-02T08:00:00Z",
         "time_of_day": "08:00:00", "weight": 9.25, "photo": None},
    ]


def test_sqlite_query_fetch_one_with_named_parameters(engine: Engine, birds_db: Path) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:{birds_db}
    sql: SELECT name FROM birds WHERE weight < :limit AND name <> :skip
    parameters:
      limit: 20
      skip: "robin"
    fetchType: FETCH_ONE
""")), "q")
    assert outputs["row"] == {"name": "wren"} and outputs["size"] == 1


def test_sqlite_query_store_writes_rows_to_an_ion_file(engine: Engine, birds_db: Path) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:{birds_db}
    sql: SELECT id, name, at FROM birds ORDER BY id
    fetchType: STORE
""")), "q")
    text = engine.runtime.storage.read_bytes(outputs["uri"]).decode()
    assert text.splitlines()[1] == '{"id":2,"name":"wren","at":2024-03-02T08:00:00.000Z}'
    rows = list(read_lines(iter(text.splitlines())))
    assert [r["name"] for r in rows] == ["robin", "wren"] and outputs["size"] == 2


def test_sqlite_query_none_runs_the_statement_and_returns_no_rows(engine: Engine, birds_db: Path) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:{birds_db}
    sql: DELETE FROM birds WHERE name = 'wren'
""")), "q")
    assert outputs == {"row": None}
    with sqlite3.connect(birds_db) as db:
        assert db.execute("SELECT count(*) FROM birds").fetchone() == (1,)


def test_sqlite_output_db_file_then_sqlite_file_carries_the_database_on(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: create
    type: io.kestra.plugin.jdbc.sqlite.Queries
    url: jdbc:sqlite:myfile.db
    outputDbFile: true
    sql: |
      CREATE TABLE notes (body TEXT);
      INSERT INTO notes VALUES ('first');
  - id: add
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:myfile.db
    sqliteFile: "{{ outputs.create.databaseUri }}"
    outputDbFile: true
    sql: INSERT INTO notes VALUES ('second')
  - id: read
    type: io.kestra.plugin.jdbc.sqlite.Query
    sqliteFile: "{{ outputs.add.databaseUri }}"
    sql: SELECT group_concat(body, ',') AS bodies FROM notes
    fetchType: FETCH_ONE
"""))
    assert _outputs(result, "create")["databaseUri"].endswith("/myfile.db")
    assert _outputs(result, "read")["row"] == {"bodies": "first,second"}


def test_sqlite_queries_rolls_back_when_a_statement_fails(engine: Engine, birds_db: Path) -> None:
    result = engine.run(_flow(f"""
  - id: qs
    type: io.kestra.plugin.jdbc.sqlite.Queries
    url: jdbc:sqlite:{birds_db}
    sql: |
      DELETE FROM birds;
      INSERT INTO no_such_table VALUES (1);
"""))
    assert result.state == "FAILED"
    assert any("rolled back" in line for line in result.logs("qs", min_level="WARN"))
    with sqlite3.connect(birds_db) as db:
        assert db.execute("SELECT count(*) FROM birds").fetchone() == (2,)


def test_sqlite_queries_outputs_each_select_in_order(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: qs
    type: io.kestra.plugin.jdbc.sqlite.Queries
    sql: |
      CREATE TABLE t (a INTEGER);
      INSERT INTO t VALUES (1), (2);
      SELECT max(a) AS top FROM t;
      SELECT min(a) AS low FROM t;
    fetchType: FETCH_ONE
""")), "qs")
    assert outputs["outputs"] == [{"row": {"top": 2}, "size": 1}, {"row": {"low": 1}, "size": 1}]
    assert "outputFiles" not in outputs and "databaseUri" not in outputs


def test_sqlite_sql_error_fails_naming_the_task_and_the_statement(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: bad
    type: io.kestra.plugin.jdbc.sqlite.Query
    sql: SELEC 1
"""))
    assert result.state == "FAILED"
    message = "\n".join(result.logs("bad", min_level="ERROR"))
    assert "task 'bad': SQLite error" in message and "in statement: SELEC 1" in message


def test_sqlite_output_files_are_captured_after_the_sql(engine: Engine, birds_db: Path) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:{birds_db}
    outputFiles: [dump]
    sql: SELECT '{{{{ outputFiles.dump }}}}' LIKE '%dump_%' AS named
    fetchType: FETCH_ONE
""")), "q")
    assert outputs["row"] == {"named": 1}
    assert set(outputs["outputFiles"]) == {"dump"}
    assert engine.runtime.storage.read_bytes(outputs["outputFiles"]["dump"]) == b""


def test_sqlite_relative_url_is_one_file_for_the_tasks_of_a_working_directory(engine: Engine) -> None:
    result = engine.run(_flow("""
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: create
        type: io.kestra.plugin.jdbc.sqlite.Queries
        url: jdbc:sqlite:shared.db
        sql: CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7);
      - id: read
        type: io.kestra.plugin.jdbc.sqlite.Query
        url: jdbc:sqlite:shared.db
        sql: SELECT a, '{{ workingDir }}' AS dir FROM t
        fetchType: FETCH_ONE
"""))
    row = _outputs(result, "read")["row"]
    assert row["a"] == 7
    assert (Path(row["dir"]) / "shared.db").is_file()


def test_sqlite_queries_keep_a_trigger_body_with_semicolons_as_one_statement(engine: Engine) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: qs
    type: io.kestra.plugin.jdbc.sqlite.Queries
    sql: |
      CREATE TABLE t (a INTEGER, note TEXT);
      CREATE TABLE audit (n INTEGER);
      CREATE TRIGGER count_rows AFTER INSERT ON t
      BEGIN
        INSERT INTO audit VALUES (NEW.a);
        UPDATE t SET note = CASE WHEN NEW.a > 1 THEN 'big; really' ELSE 'small' END WHERE a = NEW.a;
      END;
      INSERT INTO t (a) VALUES (1), (5); -- a comment; with a semicolon
      SELECT (SELECT count(*) FROM audit) AS audited, group_concat(note, '|') AS notes FROM t;
    fetchType: FETCH_ONE
""")), "qs")
    assert outputs["outputs"] == [{"row": {"audited": 2, "notes": "small|big; really"}, "size": 1}]
