"""What a polling trigger has already seen, so one object fires one execution.

Kestra's StatefulTriggerService keeps, per trigger, one entry per object (its uri, a
version such as the ETag, when it was last seen) in the namespace KV store, and fires
according to `on`: CREATE for unseen objects, UPDATE for a changed version, or both.
Roost keeps the same entries in the history database's kv table, so they survive a
restart of `roost triggers`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.core.records import iso, parse_iso, utcnow

if TYPE_CHECKING:
    from engine.store.history import History

ON_VALUES = ("CREATE", "UPDATE", "CREATE_OR_UPDATE")
KEY_PREFIX = "trigger-state:"


class KeyValueStore:
    """The history database's kv table, or a dictionary when history is off (tests, --no-history)."""

    def __init__(self, history: History | None) -> None:
        self._history = history
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        if self._history is not None:
            return self._history.get_value(key)
        with self._lock:
            return self._memory.get(key)

    def set(self, key: str, value: str) -> None:
        if self._history is not None:
            self._history.set_value(key, value)
            return
        with self._lock:
            self._memory[key] = value


@dataclass
class Entry:
    uri: str
    version: str
    modified_at: str | None
    last_seen_at: str


def default_key(namespace: str, flow_id: str, trigger_id: str) -> str:
    """Kestra's StatefulTriggerService.defaultKey."""
    return f"{namespace}_{flow_id}_{trigger_id}"


def should_fire(previous: Entry | None, version: str, on: str) -> bool:
    if previous is None:
        return on in ("CREATE", "CREATE_OR_UPDATE")
    if previous.version != version:
        return on in ("UPDATE", "CREATE_OR_UPDATE")
    return False


class TriggerState:
    """The entries of one trigger; `observe` decides, `save` persists."""

    def __init__(self, store: KeyValueStore, key: str, ttl: timedelta | None = None) -> None:
        self._store = store
        self.key = KEY_PREFIX + key
        self._ttl = ttl
        self.entries = self._load()

    def _load(self) -> dict[str, Entry]:
        text = self._store.get(self.key)
        if not text:
            return {}
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            return {}
        cutoff = utcnow() - self._ttl if self._ttl else None
        entries: dict[str, Entry] = {}
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, dict) or "uri" not in item:
                continue
            entry = Entry(str(item["uri"]), str(item.get("version")), item.get("modifiedAt"),
                          str(item.get("lastSeenAt") or iso(utcnow())))
            seen = parse_iso(entry.last_seen_at)
            if cutoff is None or seen is None or seen > cutoff:
                entries[entry.uri] = entry
        return entries

    def observe(self, uri: str, version: str, modified_at: datetime | None, on: str) -> tuple[bool, bool]:
        """(fire, is new) for one listed object, and its entry updated as Kestra does."""
        previous = self.entries.get(uri)
        fire = should_fire(previous, version, on)
        is_new = previous is None
        now = iso(utcnow()) or ""
        last_seen = now if fire or is_new or previous is None else previous.last_seen_at
        self.entries[uri] = Entry(uri, version, iso(modified_at), last_seen)
        return fire, is_new

    def forget_missing(self, present: Iterable[str]) -> None:
        """Objects gone from a complete listing are forgotten, so one put back fires again."""
        keep = set(present)
        self.entries = {uri: e for uri, e in self.entries.items() if uri in keep}

    def save(self) -> None:
        payload = [{"uri": e.uri, "version": e.version, "modifiedAt": e.modified_at,
                    "lastSeenAt": e.last_seen_at} for e in self.entries.values()]
        self._store.set(self.key, json.dumps(payload, separators=(",", ":")))
