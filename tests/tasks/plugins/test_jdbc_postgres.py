"""Kestra's PostgreSQL tasks (engine/tasks/plugins/jdbc_postgres*.py) against a real server.

The server is the cluster tests/services/start.sh starts: 127.0.0.1:54329, postgres/roost,
database roost_test. Each test works in its own schema, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from engine.core.ion import read_lines
from tests.conftest import Engine, RunResult, require_in_ci

HOST, PORT, USER, PASSWORD, DATABASE = "127.0.0.1", 54329, "postgres", "roost", "roost_test"
URL = f"jdbc:postgresql://{HOST}:{PORT}/{DATABASE}"


@pytest.fixture(scope="module")
def server() -> Iterator[psycopg.Connection[Any]]:
    try:
        connection = psycopg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DATABASE,
                                     autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require_in_ci(f"no PostgreSQL on {HOST}:{PORT} (run tests/services/start.sh): {exc}")
    with connection:
        yield connection


@pytest.fixture
def schema(server: psycopg.Connection[Any], request: pytest.FixtureRequest) -> Iterator[str]:
    name = "t_" + request.node.name.removeprefix("test_")[:50]
    server.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    server.execute(f"CREATE SCHEMA {name}")
    server.execute(f"CREATE TABLE {name}.birds (id int PRIMARY KEY, name text, weight numeric(6,2))")
    server.execute(f"INSERT INTO {name}.birds VALUES (1, 'robin', 18.50), (2, 'wren', 9.25)")
    yield name
    server.execute(f"DROP SCHEMA {name} CASCADE")


def _flow(tasks: str) -> str:
    return ("id: pg\nnamespace: test.jdbc\ntasks:\n" + tasks
            + f"pluginDefaults:\n  - type: io.kestra.plugin.jdbc.postgresql\n"
              f"    values:\n      url: {URL}\n      username: {USER}\n      password: {PASSWORD}\n")


def _outputs(result: RunResult, task_id: str) -> dict[str, Any]:
    assert result.state == "SUCCESS", result.logs()
    return dict(result.run_of(task_id).outputs or {})


def test_postgres_query_fetch_returns_rows_with_decimals(engine: Engine, schema: str) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.postgresql.Query
    sql: SELECT id, name, weight FROM {schema}.birds ORDER BY id
    fetchType: FETCH
""")), "q")
    assert outputs["rows"] == [{"id": 1, "name": "robin", "weight": 18.5}, {"id": 2, "name": "wren", "weight": 9.25}]
    assert outputs["size"] == 2


def test_postgres_query_fetch_one_binds_named_parameters(engine: Engine, schema: str) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.postgresql.Query
    sql: SELECT name, :id::int * 10 AS tens, '100%' AS pct FROM {schema}.birds WHERE id = :id
    parameters:
      id: 2
    fetchType: FETCH_ONE
""")), "q")
    assert outputs["row"] == {"name": "wren", "tens": 20, "pct": "100%"}


def test_postgres_query_maps_values_the_way_kestra_does(engine: Engine, schema: str) -> None:
    outputs = _outputs(engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.postgresql.Query
    timeZoneId: Europe/Paris
    sql: >
      SELECT DATE '2024-01-02' AS d, TIMESTAMP '2024-01-02 03:04:05' AS ts,
             TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tstz, TIME '10:30:00' AS t,
             INTERVAL '1 day 2 hours 3 minutes' AS span, '{"a": [1, 2]}'::jsonb AS doc,
             ARRAY['x', 'y'] AS tags, '\\x0102'::bytea AS raw, '1.2.3.4'::inet AS ip
    fetchType: FETCH_ONE
""")), "q")
    assert outputs["row"] == {
        "d": "2024-01-02", "ts": "2024-01-02T03:04:05", "tstz": "2024-01-02T04:04:05+01:00",
        "t": "10:30:00", "span": "P0Y0M1DT2H3M0S", "doc": {"a": [1, 2]}, "tags": ["x", "y"],
        "raw": "AQI=", "ip": "1.2.3.4"}


def test_postgres_query_store_writes_an_ion_file(engine: Engine, schema: str) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: q
    type: io.kestra.plugin.jdbc.postgresql.Query
    sql: SELECT id, name, weight FROM {schema}.birds ORDER BY id
    fetchType: STORE
""")), "q")
    text = engine.runtime.storage.read_bytes(outputs["uri"]).decode()
    assert text.splitlines()[0] == '{"id":1,"name":"robin","weight":18.50}'
    assert [r["name"] for r in read_lines(iter(text.splitlines()))] == ["robin", "wren"]
    assert outputs["size"] == 2


def test_postgres_queries_commit_together_and_give_one_output_per_select(engine: Engine, schema: str,
                                                                           server: psycopg.Connection[Any]) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: qs
    type: io.kestra.plugin.jdbc.postgresql.Queries
    sql: |
      INSERT INTO {schema}.birds VALUES (3, 'owl', 1200);
      SELECT count(*) AS n FROM {schema}.birds;
      UPDATE {schema}.birds SET name = upper(name) WHERE id = 3 RETURNING name;
    fetchType: FETCH_ONE
""")), "qs")
    assert outputs["outputs"] == [{"row": {"n": 3}, "size": 1}, {"row": {"name": "OWL"}, "size": 1}]
    assert server.execute(f"SELECT name FROM {schema}.birds WHERE id = 3").fetchone() == ("OWL",)


def test_postgres_queries_roll_back_when_a_statement_fails(engine: Engine, schema: str,
                                                           server: psycopg.Connection[Any]) -> None:
    result = engine.run(_flow(f"""
  - id: qs
    type: io.kestra.plugin.jdbc.postgresql.Queries
    sql: |
      DELETE FROM {schema}.birds;
      INSERT INTO {schema}.birds VALUES (1, 'duplicate', 0), (1, 'again', 0);
"""))
    assert result.state == "FAILED"
    message = "\n".join(result.logs("qs", min_level="ERROR"))
    assert "task 'qs': PostgreSQL error" in message and "duplicate key" in message
    assert f"in statement: INSERT INTO {schema}.birds" in message
    assert server.execute(f"SELECT count(*) FROM {schema}.birds").fetchone() == (2,)


def test_postgres_copy_in_loads_a_csv_file_into_the_table(engine: Engine, schema: str,
                                                          server: psycopg.Connection[Any]) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: file
    type: io.kestra.plugin.core.storage.Write
    content: "id;name;weight\\n3;owl;1200.5\\n4;jay;160\\n"
    extension: .csv
  - id: load
    type: io.kestra.plugin.jdbc.postgresql.CopyIn
    from: "{{{{ outputs.file.uri }}}}"
    table: {schema}.birds
    columns: [id, name, weight]
    format: CSV
    header: true
    delimiter: ";"
""")), "load")
    assert outputs == {"rowCount": 2}
    assert server.execute(f"SELECT name, weight::text FROM {schema}.birds WHERE id > 2 ORDER BY id").fetchall() \
        == [("owl", "1200.50"), ("jay", "160.00")]


def test_postgres_copy_out_writes_a_query_as_csv_to_storage(engine: Engine, schema: str) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: dump
    type: io.kestra.plugin.jdbc.postgresql.CopyOut
    sql: SELECT id, name FROM {schema}.birds ORDER BY id
    format: CSV
    header: true
""")), "dump")
    assert outputs["rowCount"] == 2
    assert engine.runtime.storage.read_bytes(outputs["uri"]).decode().splitlines() == ["id,name", "1,robin", "2,wren"]


def test_postgres_copy_out_of_a_table_in_text_format(engine: Engine, schema: str) -> None:
    outputs = _outputs(engine.run(_flow(f"""
  - id: dump
    type: io.kestra.plugin.jdbc.postgresql.CopyOut
    table: {schema}.birds
    columns: [name]
""")), "dump")
    assert engine.runtime.storage.read_bytes(outputs["uri"]).decode() == "robin\nwren\n"


def test_postgres_wrong_password_fails_with_where_it_tried(engine: Engine, schema: str) -> None:
    result = engine.run(_flow("""
  - id: q
    type: io.kestra.plugin.jdbc.postgresql.Query
    password: not-the-password
    sql: SELECT 1
"""))
    assert result.state == "FAILED"
    message = "\n".join(result.logs("q", min_level="ERROR"))
    assert f"task 'q': cannot connect to PostgreSQL at {HOST}:{PORT}/{DATABASE}" in message
    assert "password authentication failed" in message


def test_postgres_jdbc_url_becomes_libpq_settings() -> None:
    from engine.tasks.plugins.jdbc_postgres import _settings_from_url

    assert _settings_from_url("jdbc:postgresql://[::1]:5433,db2/shop?user=u&ssl=true&currentSchema=s") == {
        "host": "::1,db2", "port": "5433,5432", "dbname": "shop", "user": "u", "sslmode": "verify-full",
        "options": "-c search_path=s"}
    assert _settings_from_url("jdbc:postgresql:shop") == {"host": "localhost", "port": "5432", "dbname": "shop"}


def test_postgres_timeout_cancels_the_running_statement_on_the_server(engine: Engine, schema: str) -> None:
    result = engine.run(_flow("""
  - id: slow
    type: io.kestra.plugin.jdbc.postgresql.Query
    timeout: PT0.3S
    sql: SELECT pg_sleep(5)
"""))
    assert result.state == "FAILED"
    # Only a statement the server cancelled ends in the driver's error; one left running would
    # end normally after its 5 s, with no such line.
    assert "task 'slow': the statement was interrupted: SELECT pg_sleep(5)" in result.logs("slow", min_level="ERROR")
