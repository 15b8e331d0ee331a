"""Kestra's Avro serdes tasks: IonToAvro and AvroToIon (fastavro), and the options IonToParquet shares.

IonToAvro converts each Ion row to a record of the given `schema` (or of one inferred
from the rows), as Kestra's AvroConverter does; `onBadLines` decides whether a row
that does not fit fails the task (ERROR), is logged and dropped (WARN) or dropped
(SKIP). AvroToIon reads an Avro data file back: logical types become typed Ion values
(dates, timestamps, decimals), so a round trip keeps them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import fastavro
import fastavro.validation

from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.serdes_avro_convert import (
    FALSE_VALUES,
    NULL_VALUES,
    TRUE_VALUES,
    AvroConverter,
    CellError,
)
from engine.tasks.plugins.serdes_avro_schema import SchemaError, infer_schema, parse_schema
from engine.tasks.plugins.serdes_common import (
    ON_BAD_LINES,
    SERDES,
    Problems,
    SerdesTask,
    check_char,
    check_choice,
    check_pattern,
    literal,
)
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.storage_tasks import OutputWriter


@dataclass
class Converted:
    """What an Avro conversion produced: the schema used and how many rows it wrote or dropped."""

    schema: dict[str, Any]
    written: int = 0
    dropped: int = 0


@dataclass(kw_only=True, eq=False)
class AvroConverterTask(SerdesTask):
    """Kestra's AbstractAvroConverter: the schema and the options that turn Ion cells into Avro values."""

    schema: Any = prop(None, kind=Kind.MAP_OR_STRING)
    number_of_rows_to_scan: Any = prop(100, kind=Kind.INT)
    true_values: Any = prop(factory=lambda: list(TRUE_VALUES), kind=Kind.LIST)
    false_values: Any = prop(factory=lambda: list(FALSE_VALUES), kind=Kind.LIST)
    null_values: Any = prop(factory=lambda: list(NULL_VALUES), kind=Kind.LIST)
    date_format: Any = prop("yyyy-MM-dd[XXX]", kind=Kind.STRING)
    time_format: Any = prop("HH:mm[:ss][.SSSSSS][XXX]", kind=Kind.STRING)
    datetime_format: Any = prop("yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]", kind=Kind.STRING)
    decimal_separator: Any = prop(".", kind=Kind.STRING)
    strict_schema: Any = prop(False, kind=Kind.BOOL)
    infer_all_fields: Any = prop(False, kind=Kind.BOOL)
    time_zone_id: Any = prop(None, kind=Kind.STRING)
    on_bad_lines: Any = prop("ERROR", kind=Kind.STRING)

    def validate(self) -> Problems:
        problems = (check_pattern(self.date_format, "dateFormat") + check_pattern(self.time_format, "timeFormat")
                    + check_pattern(self.datetime_format, "datetimeFormat")
                    + check_char(self.decimal_separator, "decimalSeparator")
                    + check_choice(self.on_bad_lines, ON_BAD_LINES, "onBadLines"))
        if self.schema is not None and (isinstance(self.schema, dict) or literal(self.schema)):
            try:
                parse_schema(self._schema_text(self.schema))
            except SchemaError as exc:
                problems.append(("schema", f"'schema': {exc}"))
        return problems

    @staticmethod
    def _schema_text(value: Any) -> str:
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    def _schema(self, ctx: TaskContext[Task], path: Path, uri: str) -> dict[str, Any]:
        try:
            if self.schema is None:
                limit = ctx.render_int(self.number_of_rows_to_scan, "numberOfRowsToScan") or 100
                if ctx.render_bool(self.infer_all_fields, "inferAllFields"):
                    limit = 2**62
                if limit < 1:
                    raise self.fail("property 'numberOfRowsToScan' must be greater than 0")
                return infer_schema(self.rows(path, uri), limit)
            rendered = ctx.render(self.schema, "schema")
            return parse_schema(self._schema_text(rendered))
        except SchemaError as exc:
            raise self.fail(f"property 'schema': {exc}") from None

    def converter(self, ctx: TaskContext[Task], schema: dict[str, Any]) -> AvroConverter:
        return AvroConverter(
            schema=schema,
            dates=self.pattern(ctx, self.date_format, "dateFormat"),
            times=self.pattern(ctx, self.time_format, "timeFormat"),
            date_times=self.pattern(ctx, self.datetime_format, "datetimeFormat"),
            zone=self.zone(ctx, self.time_zone_id),
            true_values=[str(v) for v in ctx.render_list(self.true_values, "trueValues")],
            false_values=[str(v) for v in ctx.render_list(self.false_values, "falseValues")],
            null_values=[str(v) for v in ctx.render_list(self.null_values, "nullValues")],
            decimal_separator=self.char(ctx, self.decimal_separator, "decimalSeparator"),
            strict_schema=ctx.render_bool(self.strict_schema, "strictSchema"),
            infer_all_fields=ctx.render_bool(self.infer_all_fields, "inferAllFields"),
        )

    def avro_records(self, ctx: TaskContext[Task]) -> tuple[Converted, Iterator[dict[str, Any]]]:
        """The schema and the Avro records of the `from` rows, bad rows handled per onBadLines."""
        uri, path = self.input_file(ctx)
        on_bad = self.choice(ctx, self.on_bad_lines, "onBadLines", ON_BAD_LINES)
        schema = self._schema(ctx, path, uri)
        converter = self.converter(ctx, schema)
        parsed = fastavro.parse_schema(schema)
        result = Converted(schema)

        def records() -> Iterator[dict[str, Any]]:
            for number, row in enumerate(self.rows(path, uri), start=1):
                try:
                    record, problems = converter.record(row, lenient=on_bad != "ERROR")
                except CellError as exc:
                    if on_bad == "ERROR":
                        raise self.fail(f"row {number} does not fit the Avro schema: {exc} (set onBadLines "
                                        f"to WARN or SKIP to drop such rows)") from None
                    record, problems = {}, [str(exc)]
                if problems and not fastavro.validation.validate(record, parsed, raise_errors=False):
                    result.dropped += 1
                    if on_bad == "WARN":
                        ctx.warn(f"row {number} skipped (onBadLines=WARN): {'; '.join(problems)}")
                    continue
                if problems and on_bad == "WARN":
                    ctx.warn(f"row {number}: {'; '.join(problems)}; written as null")
                result.written += 1
                yield record

        return result, records()


@register
@dataclass(kw_only=True, eq=False)
class IonToAvro(AvroConverterTask):
    """Writes an Ion row file as an Avro data file of `schema` (inferred from the rows when not given)."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "avro.IonToAvro", SERDES + "avro.AvroWriter")

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        result, records = self.avro_records(ctx)
        writer = OutputWriter(ctx, ctx.task_id + ".avro")
        try:
            fastavro.writer(writer.handle, fastavro.parse_schema(result.schema), records)
        except (ValueError, TypeError, OverflowError) as exc:
            writer.discard()
            raise self.fail(f"cannot write the rows as Avro: {exc}") from None
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "size": result.written}


@register
@dataclass(kw_only=True, eq=False)
class AvroToIon(SerdesTask):
    """Reads an Avro data file into an Ion row file; logical types (dates, decimals...) stay typed."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "avro.AvroToIon", SERDES + "avro.AvroReader")

    on_bad_lines: Any = prop("ERROR", kind=Kind.STRING)

    def validate(self) -> Problems:
        return check_choice(self.on_bad_lines, ON_BAD_LINES, "onBadLines")

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        on_bad = self.choice(ctx, self.on_bad_lines, "onBadLines", ON_BAD_LINES)
        with path.open("rb") as handle:
            try:
                reader = fastavro.reader(handle)
            except (ValueError, EOFError, TypeError, KeyError) as exc:
                raise self.fail(f"{uri} is not an Avro data file ({exc})") from None
            schema = reader.writer_schema
            return self.store_rows(ctx, self._rows(ctx, reader, schema, uri, on_bad))

    def _rows(self, ctx: TaskContext[Task], reader: Any, schema: Any, uri: str, on_bad: str) -> Iterator[Any]:
        unwrap = (isinstance(schema, dict) and schema.get("name", "").rsplit(".", 1)[-1] == "root"
                  and len(schema.get("fields", [])) == 1 and schema["fields"][0]["name"] == "value"
                  and isinstance(schema["fields"][0]["type"], dict)
                  and schema["fields"][0]["type"].get("type") == "array")
        iterator = iter(reader)
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                return
            except (ValueError, EOFError, TypeError, KeyError, OverflowError) as exc:
                message = f"Failed to read Avro record of {uri}: {exc}"
                if on_bad == "ERROR":
                    raise self.fail(message) from None
                if on_bad == "WARN":
                    ctx.warn(message)
                return
            yield _plain(record["value"] if unwrap else record)


def _plain(value: Any) -> Any:
    """fastavro's values as Kestra's AvroDeserializer gives them (UUIDs as strings)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
