"""Avro schemas for the serdes writers: checking a given one, inferring one from Ion rows.

IonToAvro and IonToParquet take an Avro schema (JSON text); without one they infer it
as Kestra's InferAvroSchema does: the first `numberOfRowsToScan` rows are typed from
their Ion values (every field nullable, dates as `date`, date-times as
`local-timestamp-millis`, decimals as strings) and the rows' types are merged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import fastavro
from fastavro.schema import SchemaParseException, UnknownType

NAMESPACE = "io.kestra.plugin.serdes.avro"
PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


class SchemaError(ValueError):
    """An Avro schema that cannot be used (the message says why), or rows no schema fits."""


def parse_schema(text: str) -> dict[str, Any]:
    """The schema as JSON data, checked by fastavro; SchemaError with Avro's reason otherwise."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"invalid Avro schema: not JSON ({exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno})") from None
    if isinstance(schema, str) and schema in PRIMITIVES or not isinstance(schema, dict | list | str):
        raise SchemaError("invalid Avro schema: the top level must be a record")
    try:
        fastavro.parse_schema(schema)
    except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError, AttributeError,
            RecursionError) as exc:
        raise SchemaError(f"invalid Avro schema: {exc}") from None
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaError("invalid Avro schema: the top level must be a record (rows are records)")
    return schema


def named_types(schema: Any, names: dict[str, dict[str, Any]] | None = None,
                namespace: str = "") -> dict[str, dict[str, Any]]:
    """Every record, enum and fixed of a schema by name (short and full), for references to them."""
    names = {} if names is None else names
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, names, namespace)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed") and "name" in schema:
            space = schema.get("namespace", namespace)
            name = str(schema["name"])
            full = name if "." in name or not space else f"{space}.{name}"
            names[name.rsplit(".", 1)[-1]] = schema
            names[full] = schema
            namespace = full.rsplit(".", 1)[0] if "." in full else ""
        for field in schema.get("fields", ()) or ():
            named_types(field.get("type"), names, namespace)
        for key in ("items", "values"):
            if key in schema:
                named_types(schema[key], names, namespace)
        if isinstance(kind, dict | list):
            named_types(kind, names, namespace)
    return names


# --- inference ------------------------------------------------------------------

def _nullable(avro_type: Any) -> dict[str, Any] | list[Any]:
    return ["null", avro_type]


def _infer(name: str, value: Any, root: bool = False) -> Any:
    """The Avro type of one Ion value (a field's type; records and arrays nullable below the root)."""
    if isinstance(value, dict):
        record = {"type": "record", "name": name, "namespace": NAMESPACE,
                  "fields": [_field(str(k), _infer(str(k), v)) for k, v in value.items()]}
        return record if root else [record, "null"]
    if isinstance(value, list):
        items: Any = "string"
        if value:
            items = None
            for item in value:
                inferred = _infer(name + "_items", item)
                items = inferred if items is None else merge(items, inferred)
        array = {"type": "array", "items": items}
        if root:
            return {"type": "record", "name": name, "namespace": NAMESPACE,
                    "fields": [{"name": "value", "type": array, "doc": ""}]}
        return [array, "null"]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return _nullable("boolean")
    if isinstance(value, bytes):
        return _nullable("bytes")
    if isinstance(value, str | Decimal):
        return _nullable("string")
    if isinstance(value, int):
        return _nullable("int" if -2**31 <= value < 2**31 else "long")
    if isinstance(value, float):
        return _nullable("double")
    if isinstance(value, datetime):
        return _nullable({"type": "long", "logicalType": "local-timestamp-millis"})
    if isinstance(value, date):
        return _nullable({"type": "int", "logicalType": "date"})
    if isinstance(value, time):
        return _nullable({"type": "int", "logicalType": "time-millis"})
    raise SchemaError(f"cannot infer an Avro type for field '{name}' holding {value!r}")


def _field(name: str, avro_type: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": avro_type}
    if isinstance(avro_type, list) and avro_type and avro_type[0] == "null":
        field["default"] = None
    return field


def base_kind(avro_type: Any) -> str:
    """Avro's Schema.getType(): `union`, `record`, `array`..., the primitive under a logical type."""
    if isinstance(avro_type, list):
        return "union"
    if isinstance(avro_type, dict):
        kind = avro_type.get("type")
        return base_kind(kind) if isinstance(kind, dict | list) else str(kind)
    return str(avro_type)


def _key(avro_type: Any) -> str:
    return json.dumps(avro_type, sort_keys=True)


def merge(a: Any, b: Any) -> Any:
    """Kestra's mergeTypes: the most precise type covering both (unions gather, records merge)."""
    ka, kb = base_kind(a), base_kind(b)
    if ka == "union" or kb == "union":
        members: dict[str, Any] = {}
        for member in (a if ka == "union" else [a]) + (b if kb == "union" else [b]):
            members.setdefault(_key(member), member)
        values = list(members.values())
        records = [m for m in values if base_kind(m) == "record"]
        arrays = [m for m in values if base_kind(m) == "array"]
        if len(records) > 1:
            values = [m for m in values if base_kind(m) != "record"] + [merge(records[0], records[1])]
        elif len(arrays) > 1:
            values = [m for m in values if base_kind(m) != "array"] + [
                {"type": "array", "items": merge(arrays[0]["items"], arrays[1]["items"])}]
        return values
    if ka == "record" or kb == "record":
        if ka != kb:
            raise SchemaError(f"cannot merge a record with a {kb if ka == 'record' else ka} "
                              f"while inferring the schema")
        fields: dict[str, Any] = {}
        for field in a["fields"] + b["fields"]:
            name = field["name"]
            fields[name] = field["type"] if name not in fields else merge(fields[name], field["type"])
        return {**a, "fields": [_field(n, t) for n, t in fields.items()]}
    if ka == kb:
        return a
    return [a, b]


def infer_schema(rows: Iterable[Any], limit: int) -> dict[str, Any]:
    """The merged schema of the first `limit` rows; SchemaError when there are none."""
    schema: Any = None
    for count, row in enumerate(rows):
        if count >= limit:
            break
        inferred = _infer("root", row, root=True)
        schema = inferred if schema is None else merge(schema, inferred)
    if schema is None:
        raise SchemaError("cannot infer an Avro schema: the file is empty or holds no rows "
                          "(give a 'schema')")
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaError("cannot infer an Avro schema: rows are not all structs (or all lists)")
    return schema
