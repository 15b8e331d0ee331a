"""Kestra's serdes plugin (engine/tasks/plugins/serdes_*.py) in real executions, on real files.

Avro files are checked with fastavro, Parquet files with DuckDB, workbooks with openpyxl:
each side of a conversion is read by a library other than the task's own code path.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import fastavro
import openpyxl
import pytest
from amazon.ion import simpleion

from engine.core.errors import InvalidFlowError
from engine.tasks.plugins.serdes_ion import to_typed
from engine.tasks.registry import lookup
from tests.conftest import Engine, RunResult


def _flow(tasks: str, inputs: str = "") -> str:
    return f"id: serdes\nnamespace: test.serdes\n{inputs}tasks:\n{tasks}"


def _out(result: RunResult, task_id: str) -> dict[str, Any]:
    return dict(result.run_of(task_id).outputs or {})


def _bytes(engine: Engine, uri: str) -> bytes:
    return engine.runtime.storage.read_bytes(uri)


def _text(engine: Engine, uri: str) -> str:
    return _bytes(engine, uri).decode("utf-8")


def _rows(engine: Engine, uri: str) -> list[Any]:
    return [to_typed(v) for v in simpleion.loads(_text(engine, uri), single_value=False)]


def _write(task_id: str, content: str, extension: str) -> str:
    return (f"  - id: {task_id}\n    type: io.kestra.plugin.core.storage.Write\n"
            f"    extension: {extension}\n    content: {json.dumps(content)}\n")


def _succeeded(result: RunResult) -> RunResult:
    assert result.state == "SUCCESS", result.logs()
    return result


# --- CSV ---------------------------------------------------------------------------

def test_csv_to_ion_reads_rows_keyed_by_the_header_with_strings_and_backslash_n_as_null(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("csv", 'id,name,note\n1,Ada,"a, b"\n2,Bob,\\N\n', ".csv") + """
  - id: read
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{ outputs.csv.uri }}"
""")))
    out = _out(result, "read")
    assert out["size"] == 2
    assert _rows(engine, out["uri"]) == [{"id": "1", "name": "Ada", "note": "a, b"},
                                         {"id": "2", "name": "Bob", "note": None}]


def test_csv_reader_alias_with_a_semicolon_and_header_false_gives_lists(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("csv", "a;b\n1;2\n", ".csv") + """
  - id: read
    type: io.kestra.plugin.serdes.csv.CsvReader
    from: "{{ outputs.csv.uri }}"
    fieldSeparator: ";"
    header: false
""")))
    assert _rows(engine, _out(result, "read")["uri"]) == [["a", "b"], ["1", "2"]]


def test_csv_to_ion_skips_rows_after_the_header_and_empty_rows_when_asked(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("csv", "k\nskipped\n\nx\n\ny\n", ".csv") + """
  - id: read
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{ outputs.csv.uri }}"
    skipRows: 1
    skipEmptyRows: true
""")))
    assert _rows(engine, _out(result, "read")["uri"]) == [{"k": "x"}, {"k": "y"}]


def test_csv_to_ion_fails_on_a_row_with_another_field_count_naming_the_task(engine: Engine) -> None:
    result = engine.run(_flow(_write("csv", "a,b,c\n1,2,3\n4,5\n", ".csv") + """
  - id: strict_read
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{ outputs.csv.uri }}"
"""))
    assert result.state == "FAILED"
    message = " ".join(result.logs("strict_read", "ERROR"))
    assert "task 'strict_read'" in message
    assert "field count mismatch): Expected 3, got 2 fields (line 3)" in message
    assert "Traceback" not in message


def test_csv_to_ion_with_on_bad_lines_warn_drops_the_row_and_warns(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("csv", "a,b\n1,2\n3\n4,5\n", ".csv") + """
  - id: read
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{ outputs.csv.uri }}"
    onBadLines: WARN
""")))
    assert _rows(engine, _out(result, "read")["uri"]) == [{"a": "1", "b": "2"}, {"a": "4", "b": "5"}]
    assert any("Expected 2, got 1" in line for line in result.logs("read", "WARN"))


def test_csv_to_ion_decodes_the_file_with_its_charset(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("ville\nMontréal\n".encode("latin-1"))
    result = _succeeded(engine.run(_flow("""
  - id: read
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{ inputs.file }}"
    charset: ISO-8859-1
""", "inputs:\n  - id: file\n    type: FILE\n"), {"file": str(source)}))
    assert _rows(engine, _out(result, "read")["uri"]) == [{"ville": "Montréal"}]


ION_TYPED = ('{id:1,name:"Ada, L.",score:1.5e0,price:12.50,ok:true,day:2024-01-02,'
             'at:2024-01-02T10:20:30.123Z,none:null}\n'
             '{id:2,name:"Bob \\"B\\"",score:2.0e0,price:3.00,ok:false,day:2024-02-03,'
             'at:2024-02-03T00:00:01.000Z,none:null}\n')


def test_ion_to_csv_writes_a_header_and_quotes_only_fields_that_need_it(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", ION_TYPED, ".ion") + """
  - id: csv
    type: io.kestra.plugin.serdes.csv.IonToCsv
    from: "{{ outputs.ion.uri }}"
""")))
    out = _out(result, "csv")
    assert out["size"] == 2 and out["uri"].endswith(".csv")
    assert _text(engine, out["uri"]).splitlines() == [
        "id,name,score,price,ok,day,at,none",
        '1,"Ada, L.",1.5,12.50,true,2024-01-02,2024-01-02T10:20:30.123Z,',
        '2,"Bob ""B""",2.0,3.00,false,2024-02-03,2024-02-03T00:00:01.000Z,',
    ]


def test_csv_writer_alias_always_delimits_with_semicolons_crlf_and_no_header(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", '{a:1,b:"x"}\n', ".ion") + """
  - id: csv
    type: io.kestra.plugin.serdes.csv.CsvWriter
    from: "{{ outputs.ion.uri }}"
    header: false
    fieldSeparator: ";"
    lineDelimiter: "\\r\\n"
    alwaysDelimitText: true
""")))
    assert _text(engine, _out(result, "csv")["uri"]) == '"1";"x"\r\n'


def test_ion_to_csv_prints_dates_with_the_java_patterns_in_the_time_zone(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", ION_TYPED, ".ion") + """
  - id: csv
    type: io.kestra.plugin.serdes.csv.IonToCsv
    from: "{{ outputs.ion.uri }}"
    dateFormat: dd/MM/yyyy
    dateTimeFormat: "yyyy-MM-dd HH:mm:ss"
    quoteMode: NON_NUMERIC
""")))
    lines = _text(engine, _out(result, "csv")["uri"]).splitlines()
    assert lines[1] == '1,"Ada, L.",1.5,12.50,"true","02/01/2024","2024-01-02 10:20:30",'


# --- JSON --------------------------------------------------------------------------

def test_json_to_ion_reads_json_lines_keeping_numbers_booleans_nulls_and_nesting(engine: Engine) -> None:
    lines = '{"n":1,"f":2.5,"b":true,"z":null,"s":"x","o":{"l":[1,"two"]}}\n{"n":2}\n'
    result = _succeeded(engine.run(_flow(_write("json", lines, ".jsonl") + """
  - id: read
    type: io.kestra.plugin.serdes.json.JsonToIon
    from: "{{ outputs.json.uri }}"
""")))
    out = _out(result, "read")
    assert out["size"] == 2
    first, second = _rows(engine, out["uri"])
    assert first == {"n": 1, "f": 2.5, "b": True, "z": None, "s": "x", "o": {"l": [1, "two"]}}
    assert isinstance(first["f"], float) and isinstance(first["n"], int) and second == {"n": 2}


def test_json_reader_alias_with_new_line_false_reads_an_array_as_rows(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("json", '[\n {"a": 1},\n {"a": 2}\n]', ".json") + """
  - id: read
    type: io.kestra.plugin.serdes.json.JsonReader
    from: "{{ outputs.json.uri }}"
    newLine: false
""")))
    assert _rows(engine, _out(result, "read")["uri"]) == [{"a": 1}, {"a": 2}]


def test_json_to_ion_fails_on_a_line_that_is_not_json_naming_the_line(engine: Engine) -> None:
    result = engine.run(_flow(_write("json", '{"a": 1}\n{"a": \n', ".jsonl") + """
  - id: read
    type: io.kestra.plugin.serdes.json.JsonToIon
    from: "{{ outputs.json.uri }}"
"""))
    assert result.state == "FAILED"
    message = " ".join(result.logs("read", "ERROR"))
    assert "task 'read'" in message and "line 2 of" in message and "newLine: false" in message


def test_ion_to_json_writes_json_lines_with_dates_as_iso_text(engine: Engine) -> None:
    ion = ('{d:2024-01-02,i:2024-01-02T10:20:30.123Z,z:2024-01-02T10:20:30+02:00,'
           'l:LocalDateTime::"2024-01-02T10:20:30",p:12.50,f:1.5e0}\n')
    result = _succeeded(engine.run(_flow(_write("ion", ion, ".ion") + """
  - id: json
    type: io.kestra.plugin.serdes.json.IonToJson
    from: "{{ outputs.ion.uri }}"
    timeZoneId: UTC
""")))
    out = _out(result, "json")
    assert out["uri"].endswith(".jsonl") and out["size"] == 1
    assert _text(engine, out["uri"]) == (
        '{"d":"2024-01-02","i":"2024-01-02T10:20:30.123Z","z":"2024-01-02T08:20:30Z",'
        '"l":"2024-01-02T10:20:30","p":12.50,"f":1.5}\n')


def test_json_writer_alias_with_new_line_false_writes_one_array(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", '{a:1}\n{a:"é"}\n', ".ion") + """
  - id: json
    type: io.kestra.plugin.serdes.json.JsonWriter
    from: "{{ outputs.ion.uri }}"
    newLine: false
""")))
    out = _out(result, "json")
    assert out["uri"].endswith(".json")
    assert _text(engine, out["uri"]) == '[{"a":1},{"a":"é"}]'


# --- Avro --------------------------------------------------------------------------

SCHEMA = json.dumps({
    "type": "record", "name": "Row", "namespace": "test",
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "name", "type": ["null", "string"], "default": None},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "ok", "type": "boolean"},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ratio", "type": "double"},
    ],
})
CSV_TYPED = "id,name,price,ok,day,at,ratio\n1,Ada,12.5,yes,2024-01-02,2024-01-02T10:20:30Z,0.25\n2,,3,0,2024-02-03,2024-02-03T01:02,1\n"


def _avro_records(engine: Engine, uri: str) -> list[dict[str, Any]]:
    reader: Any = fastavro.reader(io.BytesIO(_bytes(engine, uri)))
    return list(reader)


def test_ion_to_avro_converts_csv_strings_to_the_schema_types(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("csv", CSV_TYPED, ".csv") + f"""
  - id: ion
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{{{ outputs.csv.uri }}}}"
  - id: avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{{{ outputs.ion.uri }}}}"
    timeZoneId: UTC
    schema: '{SCHEMA}'
""")))
    out = _out(result, "avro")
    assert out["size"] == 2 and out["uri"].endswith(".avro")
    first, second = _avro_records(engine, out["uri"])
    assert first == {"id": 1, "name": "Ada", "price": Decimal("12.50"), "ok": True, "day": date(2024, 1, 2),
                     "at": datetime(2024, 1, 2, 10, 20, 30, tzinfo=UTC), "ratio": 0.25}
    assert second["name"] is None and second["ok"] is False and second["price"] == Decimal("3.00")
    assert second["at"] == datetime(2024, 2, 3, 1, 2, tzinfo=UTC)


def test_avro_writer_alias_infers_a_schema_from_typed_rows(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", '{n:1,s:"a",d:2024-01-02}\n{n:2,s:null,d:null}\n', ".ion") + """
  - id: avro
    type: io.kestra.plugin.serdes.avro.AvroWriter
    from: "{{ outputs.ion.uri }}"
""")))
    uri = _out(result, "avro")["uri"]
    reader: Any = fastavro.reader(io.BytesIO(_bytes(engine, uri)))
    schema: Any = reader.writer_schema
    fields = {f["name"]: f["type"] for f in schema["fields"]}
    assert fields["n"] == ["null", "int"] and fields["s"] == ["null", "string"]
    assert list(reader) == [{"n": 1, "s": "a", "d": date(2024, 1, 2)}, {"n": 2, "s": None, "d": None}]


def test_avro_to_ion_reads_a_fastavro_file_keeping_logical_types(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "in.avro"
    with source.open("wb") as handle:
        fastavro.writer(handle, fastavro.parse_schema(json.loads(SCHEMA)), [
            {"id": 7, "name": None, "price": Decimal("1.25"), "ok": True, "day": date(2020, 5, 6),
             "at": datetime(2020, 5, 6, 7, 8, 9, 123000, tzinfo=UTC), "ratio": 0.5}])
    result = _succeeded(engine.run(_flow("""
  - id: read
    type: io.kestra.plugin.serdes.avro.AvroReader
    from: "{{ inputs.file }}"
""", "inputs:\n  - id: file\n    type: FILE\n"), {"file": str(source)}))
    line = _text(engine, _out(result, "read")["uri"]).strip()
    assert line == ('{"id":7,"name":null,"price":1.25,"ok":true,"day":2020-05-06,'
                    '"at":2020-05-06T07:08:09.123Z,"ratio":0.5e0}')


def test_ion_to_avro_with_an_invalid_schema_is_refused_at_load_naming_the_task(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError) as refused:
        engine.load(_flow("""
  - id: bad_schema
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "kestra:///x.ion"
    schema: '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "integr"}]}'
"""))
    message = str(refused.value)
    assert "bad_schema" in message and "invalid Avro schema" in message and "integr" in message


def test_ion_to_avro_with_a_rendered_schema_that_is_not_json_fails_naming_the_task(engine: Engine) -> None:
    result = engine.run(_flow(_write("ion", "{a:1}\n", ".ion") + """
  - id: bad_schema
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ outputs.ion.uri }}"
    schema: "{{ 'not json' }}"
"""))
    assert result.state == "FAILED"
    message = " ".join(result.logs("bad_schema", "ERROR"))
    assert "task 'bad_schema'" in message and "invalid Avro schema: not JSON" in message


def test_ion_to_avro_fails_on_a_cell_the_schema_type_refuses_naming_row_and_field(engine: Engine) -> None:
    result = engine.run(_flow(_write("ion", '{id:"x1"}\n', ".ion") + """
  - id: avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ outputs.ion.uri }}"
    schema: '{"type": "record", "name": "R", "fields": [{"name": "id", "type": "int"}]}'
"""))
    assert result.state == "FAILED"
    message = " ".join(result.logs("avro", "ERROR"))
    assert "row 1" in message and "field 'id'" in message and "'x1'" in message


def test_ion_to_avro_with_on_bad_lines_skip_drops_rows_that_do_not_fit(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", '{id:"1"}\n{id:"x"}\n{id:"3"}\n', ".ion") + """
  - id: avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ outputs.ion.uri }}"
    onBadLines: SKIP
    schema: '{"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}]}'
""")))
    out = _out(result, "avro")
    assert out["size"] == 2
    assert _avro_records(engine, out["uri"]) == [{"id": 1}, {"id": 3}]


# --- Parquet -----------------------------------------------------------------------

def test_round_trip_csv_ion_parquet_ion_json_keeps_values_and_types(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("csv", CSV_TYPED, ".csv") + f"""
  - id: ion
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{{{ outputs.csv.uri }}}}"
  - id: parquet
    type: io.kestra.plugin.serdes.parquet.IonToParquet
    from: "{{{{ outputs.ion.uri }}}}"
    timeZoneId: UTC
    schema: '{SCHEMA}'
  - id: back
    type: io.kestra.plugin.serdes.parquet.ParquetToIon
    from: "{{{{ outputs.parquet.uri }}}}"
  - id: json
    type: io.kestra.plugin.serdes.json.IonToJson
    from: "{{{{ outputs.back.uri }}}}"
    timeZoneId: UTC
""")))
    assert _out(result, "parquet")["size"] == 2 and _out(result, "back")["size"] == 2
    first = _rows(engine, _out(result, "back")["uri"])[0]
    assert first == {"id": 1, "name": "Ada", "price": Decimal("12.50"), "ok": True, "day": date(2024, 1, 2),
                     "at": datetime(2024, 1, 2, 10, 20, 30, tzinfo=UTC), "ratio": 0.25}
    assert _text(engine, _out(result, "json")["uri"]).splitlines() == [
        '{"id":1,"name":"Ada","price":12.50,"ok":true,"day":"2024-01-02","at":"2024-01-02T10:20:30Z","ratio":0.25}',
        '{"id":2,"name":null,"price":3.00,"ok":false,"day":"2024-02-03","at":"2024-02-03T01:02:00Z","ratio":1.0}',
    ]


def test_parquet_writer_alias_writes_the_compression_codec_and_infers_a_schema(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", '{a:1,b:"x",c:{d:2.5e0}}\n{a:2,b:"y",c:{d:3.5e0}}\n', ".ion") + """
  - id: parquet
    type: io.kestra.plugin.serdes.parquet.ParquetWriter
    from: "{{ outputs.ion.uri }}"
    compressionCodec: ZSTD
""")))
    uri = _out(result, "parquet")["uri"]
    path = engine.runtime.storage.path_of(uri)
    connection = duckdb.connect(":memory:")
    try:
        codecs = {row[0] for row in connection.execute(
            "SELECT DISTINCT compression FROM parquet_metadata(?)", [str(path)]).fetchall()}
        rows = connection.execute("SELECT a, b, c FROM read_parquet(?) ORDER BY a", [str(path)]).fetchall()
    finally:
        connection.close()
    assert codecs == {"ZSTD"}
    assert rows == [(1, "x", {"d": 2.5}), (2, "y", {"d": 3.5})]


def test_parquet_reader_alias_reads_a_file_written_by_duckdb(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    connection = duckdb.connect(":memory:")
    try:
        connection.execute(
            "COPY (SELECT 1::BIGINT AS n, 'a' AS s, DATE '2021-03-04' AS d, 1.50::DECIMAL(4,2) AS p, "
            f"TIMESTAMP '2021-03-04 05:06:07' AS t, [1, 2] AS l) TO '{source}' (FORMAT parquet)")
    finally:
        connection.close()
    result = _succeeded(engine.run(_flow("""
  - id: read
    type: io.kestra.plugin.serdes.parquet.ParquetReader
    from: "{{ inputs.file }}"
""", "inputs:\n  - id: file\n    type: FILE\n"), {"file": str(source)}))
    assert _rows(engine, _out(result, "read")["uri"]) == [
        {"n": 1, "s": "a", "d": date(2021, 3, 4), "p": Decimal("1.50"), "t": datetime(2021, 3, 4, 5, 6, 7),
         "l": [1, 2]}]


# --- Excel -------------------------------------------------------------------------

def test_ion_to_excel_writes_a_header_and_typed_cells(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", ION_TYPED, ".ion") + """
  - id: xlsx
    type: io.kestra.plugin.serdes.excel.IonToExcel
    from: "{{ outputs.ion.uri }}"
    sheetsTitle: Data
""")))
    out = _out(result, "xlsx")
    assert out["size"] == 2 and out["uri"].endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(_bytes(engine, out["uri"])))
    sheet = book["Data"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("id", "name", "score", "price", "ok", "day", "at", "none")
    assert rows[1][:6] == (1, "Ada, L.", 1.5, 12.5, True, datetime(2024, 1, 2))
    assert sheet["F2"].number_format == "yyyy-MM-dd" and rows[1][7] is None


def test_ion_to_excel_with_a_map_from_writes_one_sheet_per_file(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("a", "{x:1}\n", ".ion") + _write("b", '{y:"z"}\n{y:"w"}\n', ".ion") + """
  - id: xlsx
    type: io.kestra.plugin.serdes.excel.IonToExcel
    from:
      first: "{{ outputs.a.uri }}"
      second: "{{ outputs.b.uri }}"
""")))
    out = _out(result, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(_bytes(engine, out["uri"])))
    assert book.sheetnames == ["first", "second"] and out["size"] == 3
    assert list(book["second"].iter_rows(values_only=True)) == [("y",), ("z",), ("w",)]


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "People"
    sheet.append(["Report"])
    sheet.append(["name", "age", "born", "active"])
    sheet.append(["Ada", 36, datetime(2000, 1, 1), True])
    sheet.append(["Bob", 41.5, None, False])
    other = book.create_sheet("Other")
    other.append(["k"])
    other.append(["v"])
    book.save(path)


def test_excel_to_ion_reads_the_chosen_sheet_with_numbers_as_doubles_and_dates_as_iso(
        engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "people.xlsx"
    _workbook(source)
    result = _succeeded(engine.run(_flow("""
  - id: read
    type: io.kestra.plugin.serdes.excel.ExcelToIon
    from: "{{ inputs.file }}"
    sheetsTitle: [People]
    skipRows: 1
""", "inputs:\n  - id: file\n    type: FILE\n"), {"file": str(source)}))
    out = _out(result, "read")
    assert set(out["uris"]) == {"People"} and out["size"] == 2
    rows = _rows(engine, out["uris"]["People"])
    assert rows == [{"name": "Ada", "age": 36.0, "born": "2000-01-01", "active": True},
                    {"name": "Bob", "age": 41.5, "born": None, "active": False}]
    assert isinstance(rows[0]["age"], float)


def test_excel_to_ion_without_header_gives_lists_for_every_sheet(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "people.xlsx"
    _workbook(source)
    result = _succeeded(engine.run(_flow("""
  - id: read
    type: io.kestra.plugin.serdes.excel.ExcelToIon
    from: "{{ inputs.file }}"
    header: false
    dateTimeRender: SERIAL_NUMBER
""", "inputs:\n  - id: file\n    type: FILE\n"), {"file": str(source)}))
    out = _out(result, "read")
    assert set(out["uris"]) == {"People", "Other"}
    assert _rows(engine, out["uris"]["Other"]) == [["k"], ["v"]]
    people = _rows(engine, out["uris"]["People"])
    assert people[0] == ["Report"] and people[2][:2] == ["Ada", 36.0]
    assert people[2][2:] == [36526.0, True]  # 2000-01-01 as an Excel serial day number


# --- XML ---------------------------------------------------------------------------

BOOKS = """<?xml version="1.0"?>
<catalog>
  <book id="bk101"><author>Gambardella</author><price>44.95</price><stock>3</stock></book>
  <magazine><title>skip me</title></magazine>
  <book id="bk102"><author>Ralls</author><price>5.95</price><tag>a</tag><tag>b</tag></book>
</catalog>
"""


def test_xml_to_ion_with_a_query_gives_each_element_as_a_typed_row(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("xml", BOOKS, ".xml") + """
  - id: read
    type: io.kestra.plugin.serdes.xml.XmlToIon
    from: "{{ outputs.xml.uri }}"
    query: /catalog/book
""")))
    out = _out(result, "read")
    assert out["size"] == 2
    assert _rows(engine, out["uri"]) == [
        {"id": "bk101", "author": "Gambardella", "price": Decimal("44.95"), "stock": 3},
        {"id": "bk102", "author": "Ralls", "price": Decimal("5.95"), "tag": ["a", "b"]},
    ]


def test_xml_reader_alias_unwraps_an_items_document_and_forces_lists(engine: Engine) -> None:
    xml = "<items><item><a>1</a><n>x</n></item><item><a>true</a></item></items>"
    result = _succeeded(engine.run(_flow(_write("xml", xml, ".xml") + """
  - id: read
    type: io.kestra.plugin.serdes.xml.XmlReader
    from: "{{ outputs.xml.uri }}"
    parserConfiguration:
      forceList: [n]
""")))
    assert _rows(engine, _out(result, "read")["uri"]) == [{"a": 1, "n": ["x"]}, {"a": True}]


def test_xml_to_ion_keeps_a_whole_document_with_attributes_and_content(engine: Engine) -> None:
    xml = '<db:book xmlns:db="urn:db" version="5.0"><db:title lang="en">Hi</db:title><db:para/></db:book>'
    result = _succeeded(engine.run(_flow(_write("xml", xml, ".xml") + """
  - id: read
    type: io.kestra.plugin.serdes.xml.XmlToIon
    from: "{{ outputs.xml.uri }}"
""")))
    assert _rows(engine, _out(result, "read")["uri"]) == [{"db:book": {
        "xmlns:db": "urn:db", "version": Decimal("5.0"),
        "db:title": {"lang": "en", "content": "Hi"}, "db:para": ""}}]


def test_xml_to_ion_fails_on_malformed_xml_naming_the_task_and_line(engine: Engine) -> None:
    result = engine.run(_flow(_write("xml", "<a>\n<b></a>\n", ".xml") + """
  - id: read_xml
    type: io.kestra.plugin.serdes.xml.XmlToIon
    from: "{{ outputs.xml.uri }}"
"""))
    assert result.state == "FAILED"
    message = " ".join(result.logs("read_xml", "ERROR"))
    assert "task 'read_xml'" in message and "not well-formed XML" in message and "line 2" in message


def test_ion_to_xml_writes_each_row_as_an_item_under_the_root_name(engine: Engine) -> None:
    ion = '{id:"bk101",price:44.95,tags:["a","b"],at:2021-05-05T10:21:12.123Z,none:null,t:"<&>"}\n{id:"bk102"}\n'
    result = _succeeded(engine.run(_flow(_write("ion", ion, ".ion") + """
  - id: xml
    type: io.kestra.plugin.serdes.xml.XmlWriter
    from: "{{ outputs.ion.uri }}"
    rootName: books
""")))
    out = _out(result, "xml")
    assert out["size"] == 2 and out["uri"].endswith(".xml")
    assert _text(engine, out["uri"]) == (
        "<?xml version='1.0' encoding='UTF-8'?>\n<books>\n  <item>\n    <id>bk101</id>\n"
        "    <price>44.95</price>\n    <tags>a</tags>\n    <tags>b</tags>\n"
        "    <at>2021-05-05T10:21:12.123Z</at>\n    <none/>\n    <t>&lt;&amp;&gt;</t>\n  </item>\n"
        "  <item>\n    <id>bk102</id>\n  </item>\n</books>\n")


# --- checks and less common options ----------------------------------------------------

def test_serdes_options_are_checked_at_load_naming_the_task_and_the_property(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError) as refused:
        engine.load(_flow("""
  - id: picky
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "kestra:///x.csv"
    onBadLines: MAYBE
    fieldSeparator: ";;"
"""))
    message = str(refused.value)
    assert "picky" in message and "'onBadLines' must be one of ERROR, WARN, SKIP" in message
    assert "'fieldSeparator' must be a single character" in message


def test_csv_to_ion_strips_a_utf8_byte_order_mark(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "bom.csv"
    source.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    result = _succeeded(engine.run(_flow("""
  - id: read
    type: io.kestra.plugin.serdes.csv.CsvToIon
    from: "{{ inputs.file }}"
""", "inputs:\n  - id: file\n    type: FILE\n"), {"file": str(source)}))
    assert _rows(engine, _out(result, "read")["uri"]) == [{"a": "1", "b": "2"}]


def test_ion_to_avro_with_strict_schema_refuses_fields_the_schema_lacks(engine: Engine) -> None:
    result = engine.run(_flow(_write("ion", '{a:"1",b:"x"}\n', ".ion") + """
  - id: avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ outputs.ion.uri }}"
    strictSchema: true
    schema: '{"type": "record", "name": "R", "fields": [{"name": "b", "type": "string"}]}'
"""))
    assert result.state == "FAILED"
    assert "schema does not declare: a" in " ".join(result.logs("avro", "ERROR"))


def test_ion_to_json_keeps_annotations_when_asked(engine: Engine) -> None:
    result = _succeeded(engine.run(_flow(_write("ion", '{a:unit::"kg",b:1}\n', ".ion") + """
  - id: json
    type: io.kestra.plugin.serdes.json.IonToJson
    from: "{{ outputs.ion.uri }}"
    shouldKeepAnnotations: true
""")))
    assert _text(engine, _out(result, "json")["uri"]) == '{"a":{"ion_annotations":["unit"],"value":"kg"},"b":1}\n'


def test_parquet_to_ion_fails_on_a_file_that_is_not_parquet_naming_the_task(engine: Engine) -> None:
    result = engine.run(_flow(_write("txt", "not parquet", ".parquet") + """
  - id: read_pq
    type: io.kestra.plugin.serdes.parquet.ParquetToIon
    from: "{{ outputs.txt.uri }}"
"""))
    assert result.state == "FAILED"
    message = " ".join(result.logs("read_pq", "ERROR"))
    assert "task 'read_pq'" in message and "is not a Parquet file" in message and "SELECT" not in message


# --- names ---------------------------------------------------------------------------

@pytest.mark.parametrize(("alias", "current"), [
    ("csv.CsvReader", "csv.CsvToIon"), ("csv.CsvWriter", "csv.IonToCsv"),
    ("json.JsonReader", "json.JsonToIon"), ("json.JsonWriter", "json.IonToJson"),
    ("avro.AvroReader", "avro.AvroToIon"), ("avro.AvroWriter", "avro.IonToAvro"),
    ("parquet.ParquetReader", "parquet.ParquetToIon"), ("parquet.ParquetWriter", "parquet.IonToParquet"),
    ("xml.XmlReader", "xml.XmlToIon"), ("xml.XmlWriter", "xml.IonToXml"),
])
def test_every_legacy_serdes_alias_names_the_current_task(alias: str, current: str) -> None:
    task = lookup("io.kestra.plugin.serdes." + alias)
    assert task is not None and task.TYPES[0] == "io.kestra.plugin.serdes." + current


def test_time_values_round_trip_through_ion_rows() -> None:
    from engine.tasks.plugins.serdes_ion import row_line
    value = {"t": time(10, 11, 12), "l": datetime(2024, 1, 2, 3, 4, 5)}
    assert row_line(value) == '{"t":LocalTime::"10:11:12","l":LocalDateTime::"2024-01-02T03:04:05"}'
    assert to_typed(simpleion.loads(row_line(value))) == value
