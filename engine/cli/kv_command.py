"""`roost kv list|get|set|delete`: the namespace KV store flows read with `kv()` and kv.Get.

Kestra's `kestra namespace kv` commands, against ROOST_HOME's history.db instead of a
server. `set` deduces the type of VALUE as Kestra's CLI does (JSON numbers, booleans, maps
and lists, an ISO instant; anything else is a string) unless `--type` says; a bad
namespace, key, type or ttl is exit 2; a missing key for `get` or `delete` is exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from engine.core.errors import UsageError

if TYPE_CHECKING:
    from engine.store.kv_store import KvEntry, KvStore

EXIT_OK, EXIT_MISSING = 0, 1
_VALUE_WIDTH = 60


def add_arguments(parser: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]) -> None:
    sub = parser.add_subparsers(dest="kv_command", parser_class=parser_class, required=True)
    listing = sub.add_parser("list", help="the keys of a namespace (every namespace without one)")
    listing.add_argument("namespace", nargs="?", help="only this namespace")
    listing.add_argument("--json", action="store_true", help="the entries as a JSON list on stdout")
    get = sub.add_parser("get", help="the value of a key (strings as they are, the rest as JSON)")
    get.add_argument("namespace")
    get.add_argument("key")
    get.add_argument("--json", action="store_true", help="the whole entry as JSON: type, dates, value")
    put = sub.add_parser("set", help="store a value; its type is deduced unless --type says")
    put.add_argument("namespace")
    put.add_argument("key")
    put.add_argument("value")
    put.add_argument("--type", dest="kv_type", metavar="TYPE",
                     help="STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION or JSON")
    put.add_argument("--ttl", metavar="DURATION", help="expire after this ISO-8601 duration, e.g. PT1H")
    delete = sub.add_parser("delete", help="remove a key")
    delete.add_argument("namespace")
    delete.add_argument("key")


def cmd_kv(args: argparse.Namespace) -> int:
    from engine.core.config import RoostHome
    from engine.store.kv_store import KvError, KvStore

    store = KvStore(RoostHome.from_environment().history_db)
    try:
        handler = {"list": _list, "get": _get, "set": _set, "delete": _delete}[args.kv_command]
        return handler(store, args)
    except KvError as exc:
        raise UsageError(exc.message) from None
    finally:
        store.close()


def _checked(args: argparse.Namespace) -> tuple[str, str]:
    from engine.store.kv_store import KvError, validate_key, validate_namespace

    validate_namespace(args.namespace)
    try:
        validate_key(args.key)
    except KvError as exc:
        raise UsageError(f"key '{args.key}': {exc.message}") from None
    return args.namespace, args.key


def _list(store: KvStore, args: argparse.Namespace) -> int:
    from engine.store.kv_store import validate_namespace

    if args.namespace is not None:
        validate_namespace(args.namespace)
    entries = store.entries(args.namespace)
    if args.json:
        print(json.dumps([entry.to_json() for entry in entries], indent=2))
        return EXIT_OK
    if not entries:
        where = f"namespace '{args.namespace}'" if args.namespace else "any namespace"
        print(f"no KV entries in {where} (set one with `roost kv set NAMESPACE KEY VALUE`)", file=sys.stderr)
        return EXIT_OK
    print(_table(entries))
    return EXIT_OK


def _table(entries: list[KvEntry]) -> str:
    from engine.core.records import iso

    rows = [("NAMESPACE", "KEY", "TYPE", "EXPIRES", "VALUE")]
    for entry in entries:
        rows.append((entry.namespace, entry.key, entry.type.value, iso(entry.expires) or "-",
                     _short(_text(entry.value))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _VALUE_WIDTH else text[:_VALUE_WIDTH - 1] + "…"


def _text(value: Any) -> str:
    """Strings as they are (so `$(roost kv get ns key)` is the value), the rest as JSON."""
    from engine.store.kv_store import json_value

    shown = json_value(value)
    return shown if isinstance(shown, str) else json.dumps(shown)


def _get(store: KvStore, args: argparse.Namespace) -> int:
    namespace, key = _checked(args)
    entry = store.get(namespace, key)
    if entry is None:
        print(f"roost: no key '{key}' in namespace '{namespace}' (see `roost kv list {namespace}`)",
              file=sys.stderr)
        return EXIT_MISSING
    print(json.dumps(entry.to_json(), indent=2) if args.json else _text(entry.value))
    return EXIT_OK


def _set(store: KvStore, args: argparse.Namespace) -> int:
    from engine.core.durations import DurationError, parse_duration
    from engine.store.kv_store import KvType

    namespace, key = _checked(args)
    ttl = None
    if args.ttl is not None:
        try:
            ttl = parse_duration(args.ttl)
        except DurationError as exc:
            raise UsageError(f"--ttl {args.ttl}: {exc}") from None
    kv_type = KvType.parse(args.kv_type) if args.kv_type is not None else None
    value = args.value if kv_type is not None else _deduced(args.value)
    entry = store.put(namespace, key, value, kv_type=kv_type, ttl=ttl)
    print(f"{namespace} {key} = {_short(_text(entry.value))} ({entry.type.value})", file=sys.stderr)
    return EXIT_OK


def _deduced(text: str) -> Any:
    """Kestra's CLI: a value that parses (JSON, an ISO instant) keeps its type; the rest is a string."""
    from engine.store.kv_store import KvError, KvType, typed_value

    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return typed_value(text, KvType.DATETIME)
    except KvError:
        return text


def _delete(store: KvStore, args: argparse.Namespace) -> int:
    namespace, key = _checked(args)
    if not store.delete(namespace, key):
        print(f"roost: no key '{key}' in namespace '{namespace}'", file=sys.stderr)
        return EXIT_MISSING
    print(f"deleted {namespace} {key}", file=sys.stderr)
    return EXIT_OK

