"""Kestra's Parquet serdes tasks: IonToParquet and ParquetToIon, through DuckDB (no pyarrow needed).

IonToParquet shares IonToAvro's options: rows become records of an Avro schema
(given or inferred), exactly as Kestra's AvroParquetWriter is fed; the Avro types are
then mapped to DuckDB column types (decimal -> DECIMAL, timestamp-millis ->
TIMESTAMPTZ, local-timestamp -> TIMESTAMP, record -> STRUCT, array -> LIST...) and
DuckDB writes the file with the chosen codec and format version. ParquetToIon reads
any Parquet file back into typed Ion rows.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.serdes_avro import AvroConverterTask
from engine.tasks.plugins.serdes_avro_schema import base_kind, named_types
from engine.tasks.plugins.serdes_common import SERDES, Problems, SerdesTask, check_choice
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

CODECS = ("UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD")
VERSIONS = ("V1", "V2")
_PRIMITIVE_SQL = {"null": "INTEGER", "boolean": "BOOLEAN", "int": "INTEGER", "long": "BIGINT",
                  "float": "FLOAT", "double": "DOUBLE", "bytes": "BLOB", "string": "VARCHAR",
                  "enum": "VARCHAR", "fixed": "BLOB"}
_LOGICAL_SQL = {"date": "DATE", "time-millis": "TIME", "time-micros": "TIME",
                "timestamp-millis": "TIMESTAMPTZ", "timestamp-micros": "TIMESTAMPTZ",
                "local-timestamp-millis": "TIMESTAMP", "local-timestamp-micros": "TIMESTAMP",
                "uuid": "VARCHAR"}
_BATCH = 2000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _SqlTypes:
    """Avro types as DuckDB column types (named types resolved, nullable unions unwrapped)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._names = named_types(schema)

    def of(self, avro_type: Any) -> str:
        if isinstance(avro_type, str) and avro_type in self._names:
            avro_type = self._names[avro_type]
        if isinstance(avro_type, list):
            branches = [b for b in avro_type if b != "null"]
            return self.of(branches[0]) if branches else "INTEGER"
        if isinstance(avro_type, dict):
            logical = avro_type.get("logicalType")
            if logical == "decimal":
                precision = min(int(avro_type.get("precision", 38)), 38)
                return f"DECIMAL({precision},{int(avro_type.get('scale', 0))})"
            if logical in _LOGICAL_SQL:
                return _LOGICAL_SQL[str(logical)]
            kind = base_kind(avro_type)
            if kind == "record":
                inner = ", ".join(f"{_quote(f['name'])} {self.of(f['type'])}" for f in avro_type["fields"])
                return f"STRUCT({inner})"
            if kind == "array":
                return self.of(avro_type["items"]) + "[]"
            if kind == "map":
                return f"MAP(VARCHAR, {self.of(avro_type['values'])})"
            if isinstance(avro_type.get("type"), dict | list):
                return self.of(avro_type["type"])
            return _PRIMITIVE_SQL.get(kind, "VARCHAR")
        return _PRIMITIVE_SQL.get(str(avro_type), "VARCHAR")


def _connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB: one thread (the machine is shared), UTC for TIMESTAMPTZ."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET threads=1")
    connection.execute("SET TimeZone='UTC'")
    return connection


@register
@dataclass(kw_only=True, eq=False)
class IonToParquet(AvroConverterTask):
    """Writes an Ion row file as Parquet, typed by an Avro `schema` (inferred from the rows when not given)."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "parquet.IonToParquet", SERDES + "parquet.ParquetWriter")

    compression_codec: Any = prop("GZIP", kind=Kind.STRING)
    parquet_version: Any = prop("V2", kind=Kind.STRING)
    row_group_size: Any = prop(128 * 1024 * 1024, kind=Kind.INT)
    page_size: Any = prop(1024 * 1024, kind=Kind.INT)
    dictionary_page_size: Any = prop(1024 * 1024, kind=Kind.INT)

    def validate(self) -> Problems:
        return (super().validate() + check_choice(self.compression_codec, CODECS, "compressionCodec")
                + check_choice(self.parquet_version, VERSIONS, "parquetVersion"))

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        codec = self.choice(ctx, self.compression_codec, "compressionCodec", CODECS)
        version = self.choice(ctx, self.parquet_version, "parquetVersion", VERSIONS)
        row_group = ctx.render_int(self.row_group_size, "rowGroupSize") or 128 * 1024 * 1024
        result, records = self.avro_records(ctx)
        fields = result.schema["fields"]
        types = _SqlTypes(result.schema)
        columns = ", ".join(f"{_quote(f['name'])} {types.of(f['type'])}" for f in fields)
        insert = f"INSERT INTO rows VALUES ({', '.join('?' for _ in fields)})"
        with tempfile.TemporaryDirectory(prefix="roost-parquet-") as folder:
            target = Path(folder) / (ctx.task_id + ".parquet")
            connection = _connect()
            try:
                connection.execute(f"CREATE TABLE rows ({columns})")
                batch: list[tuple[Any, ...]] = []
                for record in records:
                    batch.append(tuple(record.get(f["name"]) for f in fields))
                    if len(batch) >= _BATCH:
                        connection.executemany(insert, batch)
                        batch = []
                if batch:
                    connection.executemany(insert, batch)
                connection.execute(
                    f"COPY rows TO '{str(target).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, "
                    f"COMPRESSION {codec.lower()}, PARQUET_VERSION {version}, "
                    f"ROW_GROUP_SIZE_BYTES {int(row_group)})")
            except duckdb.Error as exc:
                raise self.fail(f"cannot write the rows as Parquet: {_first_line(exc)}") from None
            finally:
                connection.close()
            return {"uri": ctx.store_output_file(target.name, target, move=True), "size": result.written}


@register
@dataclass(kw_only=True, eq=False)
class ParquetToIon(SerdesTask):
    """Reads a Parquet file into an Ion row file, one struct per row with the file's column types."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "parquet.ParquetToIon", SERDES + "parquet.ParquetReader")

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        connection = _connect()
        try:
            try:
                cursor = connection.execute("SELECT * FROM read_parquet(?)", [str(path)])
            except duckdb.Error as exc:
                raise self.fail(f"{uri} is not a Parquet file DuckDB can read: {_first_line(exc)}") from None
            names = [d[0] for d in cursor.description or ()]
            return self.store_rows(ctx, self._rows(cursor, names, uri))
        finally:
            connection.close()

    def _rows(self, cursor: duckdb.DuckDBPyConnection, names: list[str], uri: str) -> Iterator[Any]:
        while True:
            try:
                batch = cursor.fetchmany(_BATCH)
            except duckdb.Error as exc:
                raise self.fail(f"cannot read {uri}: {_first_line(exc)}") from None
            if not batch:
                return
            for values in batch:
                yield {name: _plain(value) for name, value in zip(names, values, strict=True)}


def _first_line(exc: Exception) -> str:
    """DuckDB's message without the SQL excerpt it appends (the query is ours, not the user's)."""
    return str(exc).strip().split("\n", 1)[0]


def _plain(value: Any) -> Any:
    """DuckDB's Python values as Ion row values (UUIDs as strings, maps as structs)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        if set(value) == {"key", "value"} and isinstance(value["key"], list):
            return {str(k): _plain(v) for k, v in zip(value["key"], value["value"], strict=False)}
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
