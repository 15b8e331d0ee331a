"""Internal storage: files kept under ROOST_HOME/storage, addressed by Kestra's URIs.

`kestra:///<namespace as folders>/<flowId>/executions/<executionId>/tasks/<taskId>/<taskRunId>/<file>`
maps one-to-one onto a path below the storage root, so `roost storage get` and
`read()` are plain file reads once the URI is proven to stay inside the root.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote

SCHEME = "kestra://"


class StorageError(Exception):
    """A URI that is malformed, escapes storage, or names no file."""


class InternalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._resolved_root: str | None = None

    @staticmethod
    def is_uri(value: object) -> bool:
        return isinstance(value, str) and value.startswith(SCHEME)

    def execution_prefix(self, namespace: str, flow_id: str, execution_id: str) -> str:
        return f"/{namespace.replace('.', '/')}/{flow_id}/executions/{execution_id}"

    def task_file_uri(
        self, namespace: str, flow_id: str, execution_id: str, task_id: str, task_run_id: str, name: str
    ) -> str:
        prefix = self.execution_prefix(namespace, flow_id, execution_id)
        return f"{SCHEME}{prefix}/tasks/{task_id}/{task_run_id}/{quote(name)}"

    def input_file_uri(self, namespace: str, flow_id: str, execution_id: str, input_id: str, name: str) -> str:
        prefix = self.execution_prefix(namespace, flow_id, execution_id)
        return f"{SCHEME}{prefix}/inputs/{input_id}/{quote(name)}"

    def trigger_file_uri(self, namespace: str, flow_id: str, execution_id: str, trigger_id: str, name: str) -> str:
        prefix = self.execution_prefix(namespace, flow_id, execution_id)
        return f"{SCHEME}{prefix}/trigger/{trigger_id}/{quote(name)}"

    def fixture_file_uri(self, namespace: str, flow_id: str, execution_id: str, name: str) -> str:
        """A test case's `files` fixture, stored under the execution that case runs."""
        prefix = self.execution_prefix(namespace, flow_id, execution_id)
        return f"{SCHEME}{prefix}/fixtures/files/{quote(name)}"

    def open_execution_file(self, uri: str, namespace: str, flow_id: str,
                            execution_ids: Iterable[str | None]) -> Path:
        """A file of one of these executions only: what a flow's templates and tasks may read."""
        allowed = [self.execution_prefix(namespace, flow_id, eid) + "/" for eid in set(execution_ids) if eid]
        relative = uri[len(SCHEME):] if self.is_uri(uri) else ""
        if not any(relative.startswith(prefix) for prefix in allowed):
            raise StorageError(f"'{uri}' does not belong to this execution; a flow may only read its own files")
        return self.open_existing(uri)

    def path_of(self, uri: str) -> Path:
        """The local path behind a URI; refuses anything that would leave the storage root."""
        if not self.is_uri(uri):
            raise StorageError(f"'{uri}' is not an internal storage URI (kestra:///...)")
        relative = unquote(uri[len(SCHEME):]).lstrip("/")
        parts = relative.split("/")
        if not relative or any(p in ("", ".", "..") for p in parts) or "\x00" in relative:
            raise StorageError(f"'{uri}' is not a valid storage path")
        path = self.root.joinpath(*parts)
        root = self._real_root()
        if self._link_below(root, parts):  # only a symbolic link inside storage could lead out
            resolved = os.path.realpath(path)
            if resolved != root and not resolved.startswith(root + os.sep):
                raise StorageError(f"'{uri}' points outside internal storage")
        return path

    def _real_root(self) -> str:
        """The storage root with its links resolved; kept once it exists (it is not moved)."""
        if self._resolved_root is None:
            resolved = os.path.realpath(self.root)
            if not os.path.isdir(resolved):
                return resolved
            self._resolved_root = resolved
        return self._resolved_root

    @staticmethod
    def _link_below(root: str, parts: list[str]) -> bool:
        """Whether one of the path's components below ``root`` is a symbolic link.

        One lstat per component below the root instead of two full `realpath` walks from `/`
        (a task's file is eight folders down): a ForEachItem batch asks five times.
        """
        current = root
        for part in parts:
            current = f"{current}/{part}"
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    return True
            except OSError:  # nothing exists from here on (or it cannot be read): no link to follow
                return False
        return False

    def put_file(self, uri: str, source: Path, *, move: bool = False) -> int:
        """Store a local file at `uri`; returns its size. `move` takes it out of its directory."""
        target = self.path_of(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if move:
                try:
                    os.replace(source, target)
                except OSError:
                    shutil.move(str(source), target)
            else:
                shutil.copyfile(source, target)
        except OSError:
            # A full disk leaves a truncated copy: never let a URI point at half a file.
            if source.exists():
                target.unlink(missing_ok=True)
            raise
        return target.stat().st_size

    def put_bytes(self, uri: str, data: bytes) -> int:
        target = self.path_of(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return len(data)

    def open_existing(self, uri: str) -> Path:
        path = self.path_of(uri)
        if not path.is_file():
            raise StorageError(f"no file in internal storage at '{uri}'")
        return path

    def read_bytes(self, uri: str) -> bytes:
        return self.open_existing(uri).read_bytes()

    def exists(self, uri: str) -> bool:
        try:
            return self.path_of(uri).is_file()
        except StorageError:
            return False
