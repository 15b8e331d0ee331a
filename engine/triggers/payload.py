"""`roost run FLOW --trigger PAYLOAD.json`: a trigger payload made usable by a new execution.

A payload is typically copied from an earlier execution (`roost execution ID --json`),
whose `trigger.objects[].uri` point at that execution's files, which a new execution
may not read. Each `kestra:///` URI in the payload is therefore copied under the new
execution's trigger folder, keeping Kestra's URI shape; a `file://` URI (handy in a
hand-written payload) is stored the same way. Everything else is left as written.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from engine.core.errors import UsageError
from engine.store.storage import InternalStorage, StorageError

DEFAULT_TRIGGER_ID = "trigger"


def import_trigger_files(storage: InternalStorage, namespace: str, flow_id: str, execution_id: str,
                         payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with every file it names copied under `execution_id`; raises UsageError."""
    used: set[str] = set()

    def store(source: Path, trigger_id: str, name: str) -> str:
        candidate, counter = name, 1
        while True:
            uri = storage.trigger_file_uri(namespace, flow_id, execution_id, trigger_id, candidate)
            if uri not in used:
                break
            counter += 1
            stem, dot, suffix = name.partition(".")
            candidate = f"{stem}-{counter}{dot}{suffix}"
        used.add(uri)
        storage.put_file(uri, source)
        return uri

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, str) and value.startswith("kestra://"):
            try:
                source = storage.open_existing(value)
            except StorageError as exc:
                raise UsageError(f"--trigger: {exc}") from None
            parts = PurePosixPath(urlsplit(value).path).parts
            trigger_id = parts[-2] if len(parts) >= 3 and parts[-3] == "trigger" else DEFAULT_TRIGGER_ID
            return store(source, trigger_id, source.name)
        if isinstance(value, str) and value.startswith("file://"):
            path = Path(unquote(urlsplit(value).path))
            if not path.is_file():
                raise UsageError(f"--trigger: {value} names no file")
            return store(path, DEFAULT_TRIGGER_ID, path.name)
        return value

    result: dict[str, Any] = convert(payload)
    return result
