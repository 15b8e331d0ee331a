"""Kestra's AvroConverter: one Ion row made into a record of a given Avro schema.

CSV rows are all strings, so a cell is converted to the field's type: numbers are
parsed (with `decimalSeparator`), booleans read from `trueValues`/`falseValues`,
nulls from `nullValues`, dates and times parsed with the Java patterns. Typed Ion
values (ints, decimals, timestamps) convert directly. A cell that fits no type raises
CellError naming the field; the tasks turn it into a failure, a warning or a skip
(`onBadLines`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

from engine.tasks.plugins.serdes_avro_schema import base_kind, named_types
from engine.tasks.plugins.serdes_common import java_string
from engine.tasks.plugins.serdes_dates import JavaPattern, PatternError
from engine.tasks.plugins.serdes_json import iso_text

TRUE_VALUES = ["t", "true", "enabled", "1", "on", "yes"]
FALSE_VALUES = ["f", "false", "disabled", "0", "off", "no", ""]
NULL_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "1.#IND", "1.#QNAN",
               "NA", "n/a", "nan", "null"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CellError(ValueError):
    """A value that does not fit its field's Avro type."""

    def __init__(self, field_name: str, value: Any, expected: str, reason: str = "",
                 message: str | None = None) -> None:
        shown = repr(value) if len(repr(value)) < 120 else repr(value)[:117] + "..."
        super().__init__(message or (f"field '{field_name}': {shown} is not a valid {expected}"
                                     + (f" ({reason})" if reason else "")))
        self.field_name = field_name


@dataclass
class AvroConverter:
    """The options of Kestra's AbstractAvroConverter, applied to rows of one schema."""

    schema: dict[str, Any]
    dates: JavaPattern
    times: JavaPattern
    date_times: JavaPattern
    zone: tzinfo
    true_values: list[str] = field(default_factory=lambda: list(TRUE_VALUES))
    false_values: list[str] = field(default_factory=lambda: list(FALSE_VALUES))
    null_values: list[str] = field(default_factory=lambda: list(NULL_VALUES))
    decimal_separator: str = "."
    strict_schema: bool = False
    infer_all_fields: bool = False

    def __post_init__(self) -> None:
        self._names = named_types(self.schema)
        self._true = {v.lower() for v in self.true_values}
        self._false = {v.lower() for v in self.false_values}
        self._null = {v.lower() for v in self.null_values}

    # --- rows -------------------------------------------------------------------
    def record(self, row: Any, lenient: bool = False) -> tuple[dict[str, Any], list[str]]:
        """The Avro record of a row, and the problems met (lenient: bad cells become null)."""
        fields = self.schema["fields"]
        if isinstance(row, list):
            if len(fields) == 1 and base_kind(self._resolve(fields[0]["type"])) == "array":
                row = {fields[0]["name"]: row}
            else:
                self._check_strict(len(row), len(fields))
                row = {f["name"]: (row[i] if i < len(row) else None) for i, f in enumerate(fields)}
        elif isinstance(row, dict) and row and all(k.startswith("col") and k[3:].isdigit() for k in row):
            self._check_strict(len(row), len(fields))  # CsvToIon's positional colN keys
            row = {f["name"]: row.get(f"col{i}") for i, f in enumerate(fields)}
        elif not isinstance(row, dict):
            raise CellError("(row)", row, "record", "a row must be a struct or a list")
        return self._from_map(self.schema, row, "", lenient)

    def _check_strict(self, data_count: int, schema_count: int) -> None:
        if self.strict_schema and data_count > schema_count:
            raise CellError("(row)", data_count, "row", message=f"strictSchema: the row has {data_count} "
                            f"fields, the schema {schema_count}")

    def _from_map(self, schema: dict[str, Any], data: dict[str, Any], parent: str,
                  lenient: bool) -> tuple[dict[str, Any], list[str]]:
        out: dict[str, Any] = {}
        problems: list[str] = []
        for f in schema["fields"]:
            name = f["name"]
            path = f"{parent}.{name}" if parent else name
            value = data.get(name)
            if value is None:
                value = next((data[a] for a in f.get("aliases", ()) if data.get(a) is not None), None)
            try:
                out[name] = self.convert(f["type"], value, path)
            except CellError as exc:
                if not lenient:
                    raise
                problems.append(str(exc))
                out[name] = None
        if self.strict_schema and len(data) > len(schema["fields"]):
            extra = [k for k in data if k not in {f["name"] for f in schema["fields"]}]
            message = (f"strictSchema: the row has fields the schema does not declare: "
                       f"{', '.join(extra) or len(data)}")
            if not lenient:
                raise CellError(parent or "(row)", sorted(data), "row", message=message)
            problems.append(message)
        return out, problems

    # --- cells ------------------------------------------------------------------
    def _resolve(self, avro_type: Any) -> Any:
        if isinstance(avro_type, str) and avro_type in self._names:
            return self._names[avro_type]
        if isinstance(avro_type, dict) and isinstance(avro_type.get("type"), str) \
                and avro_type["type"] in self._names:
            return self._names[avro_type["type"]]
        return avro_type

    def convert(self, avro_type: Any, data: Any, path: str) -> Any:
        avro_type = self._resolve(avro_type)
        if self.infer_all_fields and isinstance(data, str):
            lowered = data.lower()
            if lowered in self._null:
                data = None
            elif lowered in self._true:
                data = True
            elif lowered in self._false:
                data = False
        kind = base_kind(avro_type)
        logical = avro_type.get("logicalType") if isinstance(avro_type, dict) else None
        try:
            if logical is not None and data is not None:
                converted = self._logical(str(logical), avro_type, data, path)
                if converted is not NotImplemented:
                    return converted
            if kind == "union":
                return self._union(avro_type, data, path)
            if data is None and kind != "null":
                raise CellError(path, data, kind, "null in a field that is not nullable; make its "
                                "type a union with \"null\"")
            return self._plain(kind, avro_type, data, path)
        except CellError:
            raise
        except (ValueError, TypeError, ArithmeticError, PatternError, OverflowError) as exc:
            raise CellError(path, data, str(logical or kind), str(exc)) from None

    def _union(self, branches: list[Any], data: Any, path: str) -> Any:
        reasons = []
        for branch in branches:
            try:
                return self.convert(branch, data, path)
            except CellError as exc:
                reasons.append(str(exc).split(": ", 1)[-1])
        kinds = "|".join(base_kind(self._resolve(b)) for b in branches)
        raise CellError(path, data, kinds, "no branch of the union fits")

    def _plain(self, kind: str, avro_type: Any, data: Any, path: str) -> Any:
        if kind == "null":
            if data is None or (isinstance(data, str) and data.lower() in self._null):
                return None
            raise CellError(path, data, "null")
        if kind == "record":
            if not isinstance(data, dict):
                raise CellError(path, data, "record", "expected a struct")
            return self._from_map(avro_type, data, path, False)[0]
        if kind == "array":
            if not isinstance(data, list):
                raise CellError(path, data, "array", "expected a list")
            return [self.convert(avro_type["items"], item, f"{path}[{i}]") for i, item in enumerate(data)]
        if kind == "map":
            if not isinstance(data, dict):
                raise CellError(path, data, "map", "expected a struct")
            return {str(k): self.convert(avro_type["values"], v, f"{path}[{k}]") for k, v in data.items()}
        if kind == "enum":
            text = str(data)
            if text not in avro_type["symbols"]:
                raise CellError(path, data, "enum", f"expected one of {avro_type['symbols']}")
            return text
        if kind == "fixed":
            raw = self._bytes(data)
            if len(raw) != avro_type["size"]:
                raise CellError(path, data, "fixed", f"{len(raw)} bytes, expected {avro_type['size']}")
            return raw
        if kind == "boolean":
            return self._bool(data, path)
        if kind in ("int", "long"):
            if isinstance(data, str) and not data.strip().lstrip("+-").isdigit():
                raise CellError(path, data, kind, "not a whole number")
            number = int(data) if isinstance(data, str) else data
            if isinstance(number, bool) or not isinstance(number, int):
                raise CellError(path, data, kind)
            limit = 2**31 if kind == "int" else 2**63
            if not -limit <= number < limit:
                raise CellError(path, data, kind, "out of range")
            return number
        if kind in ("float", "double"):
            if isinstance(data, str):
                return float(self._point(data))
            if isinstance(data, bool) or not isinstance(data, int | float | Decimal):
                raise CellError(path, data, kind)
            return float(data)
        if kind == "string":
            return self._string(data)
        if kind == "bytes":
            return self._bytes(data)
        raise CellError(path, data, kind, "unsupported Avro type")

    def _point(self, text: str) -> str:
        return text if self.decimal_separator == "." else text.replace(self.decimal_separator, ".", 1)

    def _bool(self, data: Any, path: str) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in self._true:
            return True
        if isinstance(data, str) and data.lower() in self._false:
            return False
        if isinstance(data, int) and data in (0, 1):
            return data == 1
        raise CellError(path, data, "boolean", "not in trueValues or falseValues")

    def _string(self, data: Any) -> str:
        if isinstance(data, str):
            return data
        if isinstance(data, datetime | date | time):
            return iso_text(data, UTC)
        if isinstance(data, bytes):
            return data.decode("utf-8", errors="replace")
        return java_string(data)

    def _bytes(self, data: Any) -> bytes:
        return data if isinstance(data, bytes) else self._string(data).encode("utf-8")

    # --- logical types ----------------------------------------------------------
    def _logical(self, logical: str, avro_type: dict[str, Any], data: Any, path: str) -> Any:
        if logical == "decimal":
            return self._decimal(avro_type, data, path)
        if logical == "uuid":
            return str(uuid.UUID(str(data)))
        if logical == "date":
            return self._date(data, path)
        if logical in ("time-millis", "time-micros"):
            if isinstance(data, str):
                return self.times.parse_time(data)
            if isinstance(data, time):
                return data.replace(tzinfo=None)
            raise CellError(path, data, logical)
        if logical in ("timestamp-millis", "timestamp-micros", "local-timestamp-millis",
                       "local-timestamp-micros"):
            instant = self._instant(data, path, micros=logical.endswith("micros"))
            if logical.startswith("local-"):
                return instant.astimezone(self.zone).replace(tzinfo=None)
            return instant
        return NotImplemented

    def _decimal(self, avro_type: dict[str, Any], data: Any, path: str) -> Decimal:
        scale = int(avro_type.get("scale", 0))
        precision = int(avro_type.get("precision", 38))
        try:
            if isinstance(data, str):
                value = Decimal(self._point(data.strip()))
            elif isinstance(data, bool):
                raise CellError(path, data, "decimal")
            elif isinstance(data, float):
                value = Context(prec=precision).create_decimal_from_float(data)
            elif isinstance(data, int | Decimal):
                value = Decimal(data)
            else:
                raise CellError(path, data, "decimal")
            value = value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
        except InvalidOperation:
            raise CellError(path, data, f"decimal({precision},{scale})") from None
        if len(value.as_tuple().digits) > precision:
            raise CellError(path, data, f"decimal({precision},{scale})", "too many digits")
        return value

    def _date(self, data: Any, path: str) -> date:
        if isinstance(data, str):
            return self.dates.parse_date(data)
        if isinstance(data, datetime):
            return (data.astimezone(self.zone) if data.tzinfo else data).date()
        if isinstance(data, date):
            return data
        raise CellError(path, data, "date")

    def _instant(self, data: Any, path: str, micros: bool) -> datetime:
        if isinstance(data, str):
            if data.strip().lstrip("-").isdigit():
                data = int(data)
            else:
                return self.date_times.parse_datetime(data, self.zone)
        if isinstance(data, int) and not isinstance(data, bool):
            return EPOCH + (timedelta(microseconds=data) if micros else timedelta(milliseconds=data))
        if isinstance(data, datetime):
            return data if data.tzinfo else data.replace(tzinfo=self.zone)
        if isinstance(data, date):
            return datetime.combine(data, time(0), tzinfo=self.zone)
        raise CellError(path, data, "timestamp")
