"""Kestra's namespace KV store, kept in ROOST_HOME's history.db so values outlive a run.

Kestra keeps each entry as an Ion file under the namespace's `_kv/` folder in internal
storage, with its expiration date as metadata; Roost keeps one row per (namespace, key)
in its own table of history.db (a separate connection: the history writer thread never
waits on a task's KV call). Values keep their type (Kestra's `KVType`): a number comes
back a number, a DATETIME a datetime, JSON a map or a list. An entry past its ttl
behaves as missing everywhere and is deleted when met. The legacy state store
(`engine.tasks.state_store`) writes into the same table, as Kestra's does.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from engine.core.durations import DurationError, parse_duration
from engine.core.records import iso, parse_iso, utcnow
from engine.store.history_rows import to_json_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_entries (
    namespace TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL,
    description TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, expires TEXT,
    PRIMARY KEY (namespace, key)
);
"""

# Columns added after kv_entries first shipped: (column, definition), added when an older
# history.db opens (CREATE TABLE IF NOT EXISTS leaves an existing table as it was).
MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("description", "TEXT"),
)

# Kestra's KVStore.KEY_VALIDATOR_PATTERN, and its flows' namespace pattern.
KEY_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
NAMESPACE_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
_BAD_KEY = ("Key must start with an alphanumeric character (uppercase or lowercase) and can contain "
            "alphanumeric characters (uppercase or lowercase), dots (.), underscores (_), and hyphens (-) only.")


class KvError(Exception):
    """A KV operation the user asked for cannot be done; the message says why (Kestra's words)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KvType(Enum):
    """Kestra's KVType: what a stored value is, and how a string given with `kvType` is read."""

    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    DATETIME = "DATETIME"
    DATE = "DATE"
    DURATION = "DURATION"
    JSON = "JSON"

    @classmethod
    def parse(cls, name: str) -> KvType:
        try:
            return cls(name.strip().upper())
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise KvError(f"unknown KV type '{name}': use one of {names}") from None

    @classmethod
    def of(cls, value: Any) -> KvType:
        """The type of a value stored without `kvType` (Kestra's KVType.from)."""
        if value is None or isinstance(value, str):
            return cls.STRING
        if isinstance(value, bool):
            return cls.BOOLEAN
        if isinstance(value, int | float):
            return cls.NUMBER
        if isinstance(value, datetime):
            return cls.DATETIME
        if isinstance(value, date):
            return cls.DATE
        if isinstance(value, timedelta):
            return cls.DURATION
        return cls.JSON


def typed_value(value: Any, kv_type: KvType | None) -> Any:
    """A value given with `kvType` converted as Kestra's Set does: only strings are converted."""
    if kv_type is None or not isinstance(value, str):
        return value
    text = value.strip()
    if kv_type is KvType.NUMBER:
        try:
            number = json.loads(text)
        except ValueError:
            number = None
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise KvError(f"'{value}' is not a NUMBER")
        return number
    if kv_type is KvType.BOOLEAN:
        return text.lower() == "true"  # Java's Boolean.parseBoolean: anything else is false
    if kv_type is KvType.DATETIME:
        moment = _parse_datetime(text)
        if moment is None:
            raise KvError(f"'{value}' is not a DATETIME: give an ISO-8601 instant such as 2024-01-02T03:04:05Z")
        return moment
    if kv_type is KvType.DATE:
        return _parse_date(value, text)
    if kv_type is KvType.DURATION:
        try:
            return parse_duration(text)
        except DurationError:
            raise KvError(f"'{value}' is not a DURATION: give an ISO-8601 duration such as PT1H") from None
    if kv_type is KvType.JSON:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise KvError(f"'{value}' is not valid JSON ({exc})") from None
    return value


def _parse_datetime(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None  # an Instant needs an offset


def _parse_date(value: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        moment = _parse_datetime(text)
        if moment is None:
            raise KvError(f"'{value}' is not a DATE: give an ISO-8601 date such as 2024-01-02") from None
        return moment.date()


def validate_key(key: str) -> None:
    """Kestra's KVStore.validateKey: raises KvError with its message."""
    if not key:
        raise KvError("Key cannot be null or empty")
    if not KEY_PATTERN.fullmatch(key):
        raise KvError(_BAD_KEY)


def validate_namespace(namespace: str) -> None:
    if not NAMESPACE_PATTERN.fullmatch(namespace or ""):
        raise KvError(f"'{namespace}' is not a namespace: lowercase letters, digits, dots, "
                      "underscores and hyphens, starting with a letter or a digit")


def _encode(value: Any) -> str:
    return to_json_text(value)  # history's JSON: instants as ISO, durations as PT...


def json_value(value: Any) -> Any:
    """A stored value as JSON holds it: instants and dates as ISO text, durations as PT..."""
    return json.loads(_encode(value))


def _decode(kv_type: KvType, text: str) -> Any:
    value = json.loads(text)
    if not isinstance(value, str):
        return value
    if kv_type is KvType.DATETIME:
        return parse_iso(value)
    if kv_type is KvType.DATE:
        return date.fromisoformat(value)
    if kv_type is KvType.DURATION:
        return parse_duration(value)
    return value


@dataclass(frozen=True)
class KvEntry:
    """One stored entry, its value already typed."""

    namespace: str
    key: str
    type: KvType
    value: Any
    description: str | None
    created: datetime
    updated: datetime
    expires: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The entry as `roost kv ... --json` prints it (Kestra's KVEntry fields plus the value)."""
        return {"namespace": self.namespace, "key": self.key, "type": self.type.value,
                "value": json_value(self.value), "description": self.description,
                "creationDate": iso(self.created), "updateDate": iso(self.updated),
                "expirationDate": iso(self.expires)}


def _connect(path: Path) -> sqlite3.Connection:
    from engine.store.history import connect  # the same pragmas as history: WAL, waits when busy

    return connect(path)


class KvStore:
    """The KV entries of every namespace, in history.db's kv_entries table."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        """Opened on first use: a run that never touches the KV store never opens it."""
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                connection = _connect(self.path)
                connection.executescript(SCHEMA)
                _migrate(connection)
            except sqlite3.DatabaseError as exc:
                raise KvError(f"cannot use the KV store in {self.path}: {exc}") from None
            self._connection = connection
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # --- reading -------------------------------------------------------------------
    def get(self, namespace: str, key: str) -> KvEntry | None:
        """The live entry, or None (an expired one is deleted on the way)."""
        validate_key(key)
        with self._lock:
            rows = self._db().execute(
                "SELECT namespace, key, type, value, description, created, updated, expires "
                "FROM kv_entries WHERE namespace=? AND key=?", (namespace, key)).fetchall()
        entry = _entry(rows[0]) if rows else None
        if entry is not None and self._expired(entry):
            self._delete_row(namespace, key)
            return None
        return entry

    def entries(self, namespace: str | None = None, prefix: str | None = None) -> list[KvEntry]:
        """Live entries sorted by namespace and key; all namespaces when `namespace` is None."""
        sql = ("SELECT namespace, key, type, value, description, created, updated, expires "
               "FROM kv_entries")
        params: tuple[str, ...] = ()
        if namespace is not None:
            sql, params = sql + " WHERE namespace=?", (namespace,)
        with self._lock:
            rows = self._db().execute(sql + " ORDER BY namespace, key", params).fetchall()
        entries = [_entry(row) for row in rows]
        return [e for e in entries if not self._expired(e) and (prefix is None or e.key.startswith(prefix))]

    def namespaces(self) -> list[str]:
        return sorted({entry.namespace for entry in self.entries()})

    # --- writing -------------------------------------------------------------------
    def put(self, namespace: str, key: str, value: Any, *, kv_type: KvType | None = None,
            ttl: timedelta | None = None, overwrite: bool = True, description: str | None = None) -> KvEntry:
        """Store a value (converted per `kv_type` if it is a string); Kestra's errors as KvError."""
        validate_key(key)
        if ttl is not None and ttl < timedelta(0):
            raise KvError("ttl cannot be negative")
        typed = typed_value(value, kv_type)
        stored_type = kv_type if kv_type is not None and isinstance(value, str) else KvType.of(typed)
        if not overwrite and self.get(namespace, key) is not None:
            raise KvError(f"Cannot set value for key '{key}'. Key already exists and `overwrite` is set to `false`.")
        now = self._clock()
        expires = now + ttl if ttl is not None else None
        with self._lock:
            self._db().execute(
                "INSERT INTO kv_entries(namespace, key, type, value, description, created, updated, expires) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(namespace, key) DO UPDATE SET type=excluded.type, "
                "value=excluded.value, description=excluded.description, updated=excluded.updated, "
                "expires=excluded.expires",
                (namespace, key, stored_type.value, _encode(typed), description, iso(now), iso(now), iso(expires)))
        entry = self.get(namespace, key)
        assert entry is not None
        return entry

    def delete(self, namespace: str, key: str) -> bool:
        """True when a live entry was there and is gone."""
        if self.get(namespace, key) is None:
            return False
        return self._delete_row(namespace, key)

    def _delete_row(self, namespace: str, key: str) -> bool:
        with self._lock:
            cursor = self._db().execute("DELETE FROM kv_entries WHERE namespace=? AND key=?", (namespace, key))
        return cursor.rowcount > 0

    def _expired(self, entry: KvEntry) -> bool:
        return entry.expires is not None and self._clock() >= entry.expires


def _migrate(connection: sqlite3.Connection) -> None:
    columns = {row[1] for row in connection.execute("PRAGMA table_info(kv_entries)")}
    for column, definition in MIGRATIONS:
        if column not in columns:
            try:
                connection.execute(f"ALTER TABLE kv_entries ADD COLUMN {column} {definition}")
            except sqlite3.OperationalError as exc:  # another process added it a moment ago
                if "duplicate column" not in str(exc):
                    raise


def _entry(row: tuple[Any, ...]) -> KvEntry:
    namespace, key, type_name, value, description, created, updated, expires = row
    kv_type = KvType(type_name)
    return KvEntry(namespace, key, kv_type, _decode(kv_type, value), description,
                   parse_iso(created) or utcnow(), parse_iso(updated) or utcnow(), parse_iso(expires))


def lookup_value(store: KvStore, key: Any, namespace: Any, flow_namespace: str, error_on_missing: Any) -> Any:
    """What Kestra's `kv(key, namespace, errorOnMissing)` function returns; KvError when it fails."""
    if not isinstance(key, str):
        raise KvError("The 'kv' function expects an argument 'key'.")
    target = flow_namespace if namespace is None else str(namespace)
    entry = store.get(target, key)
    if entry is None:
        if error_on_missing is True:
            raise KvError(f"The key '{key}' does not exist in the namespace '{target}'.")
        return None
    return entry.value
