"""Kestra's internal-storage tasks: Write, Concat, Split, Size, Delete, Reverse, PurgeCurrentExecutionFiles.

Every file a task produces is written to a temporary file and handed to
`ctx.store_output_file`, so it lands under the task run's storage folder and shows
in the workbench like any captured file. Files are read through
`ctx.storage_path`, which only opens this execution's own files. Line splitting
follows Java's `BufferedReader.readLine`: `\\n`, `\\r\\n` and a lone `\\r` end a line.
FilterItems and DeduplicateItems, which read Ion rows, are in `storage_items.py`.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import quote, unquote

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.store.storage import SCHEME, StorageError
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

_LEGACY = "io.kestra.core.tasks.storages."
_CURRENT = "io.kestra.plugin.core.storage."
_READABLE_BYTES = re.compile(r"^\s*(\d+)\s*(KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def read_lines(path: Path, encoding: str = "utf-8") -> Iterator[str]:
    """The lines of a file without their endings, Java's `readLine` way (a last empty line is none)."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        for line in handle:
            yield line.rstrip("\r\n") if line.endswith("\n") else line.rstrip("\r")


def uri_extension(uri: str, default: str = ".tmp") -> str:
    """`.yml` for `kestra:///.../file.yml`: what Kestra gives the files it derives from one."""
    name = posixpath.basename(unquote(uri))
    return name[name.rindex("."):] if "." in name else default


def checked_extension(extension: str, prop_name: str) -> str:
    if "/" in extension or "\\" in extension or "\0" in extension:
        raise TaskFailure(f"property '{prop_name}': '{extension}' is not a file extension "
                          f"(it must not contain a path separator)")
    return extension


class OutputWriter:
    """A file written in a private temporary folder, then moved into the task run's storage."""

    def __init__(self, ctx: TaskContext[Task], name: str) -> None:
        self._ctx = ctx
        self._folder = tempfile.TemporaryDirectory(prefix="roost-storage-")
        self.name = name
        self.path = Path(self._folder.name) / name
        self.handle: IO[bytes] = self.path.open("wb")

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def store(self) -> str:
        """Close the file and store it; returns its kestra:// URI."""
        self.handle.close()
        try:
            return self._ctx.store_output_file(self.name, self.path, move=True)
        finally:
            self._folder.cleanup()

    def discard(self) -> None:
        self.handle.close()
        self._folder.cleanup()


def store_bytes(ctx: TaskContext[Task], name: str, data: bytes) -> str:
    writer = OutputWriter(ctx, name)
    writer.write(data)
    return writer.store()


def execution_owned_path(ctx: TaskContext[Task], uri: str, prop_name: str) -> Path:
    """The local path of a URI of this very execution, whether or not a file is there yet."""
    flow = ctx.flow
    prefix = SCHEME + ctx.storage.execution_prefix(flow.namespace, flow.id, ctx.execution_id) + "/"
    if not uri.startswith(prefix):
        raise TaskFailure(f"property '{prop_name}': '{uri}' is not a file of this execution; "
                          f"a task may only delete its own execution's files")
    try:
        return ctx.storage.path_of(uri)
    except StorageError as exc:
        raise TaskFailure(f"property '{prop_name}': {exc}") from None


@register
@dataclass(kw_only=True, eq=False)
class Write(Task):
    """Writes rendered `content` to a new storage file; its URI is `outputs.<id>.uri`."""

    TYPES: ClassVar[tuple[str, ...]] = (_CURRENT + "Write",)

    content: Any = prop(kind=Kind.STRING, required=True)
    extension: Any = prop(kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        content = ctx.render_str(self.content, "content")
        extension = checked_extension(ctx.render_optional_str(self.extension, "extension") or ".tmp",
                                      "extension")
        return {"uri": store_bytes(ctx, ctx.task_id + extension, content.encode("utf-8"))}


@register
@dataclass(kw_only=True, eq=False)
class Concat(Task):
    """Concatenates storage files (a list, or a JSON array string) into one, `separator` after each."""

    TYPES: ClassVar[tuple[str, ...]] = (_CURRENT + "Concat", _LEGACY + "Concat")

    files: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    separator: Any = prop(kind=Kind.STRING)
    extension: Any = prop(".tmp", kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uris = [str(u).strip() for u in ctx.render_list(self.files, "files")]
        separator = ctx.render_optional_str(self.separator, "separator")
        extension = checked_extension(ctx.render_str(self.extension, "extension"), "extension")
        sources = [ctx.storage_path(uri) for uri in uris]  # every file checked before writing
        writer = OutputWriter(ctx, ctx.task_id + extension)
        try:
            for source in sources:
                with source.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        writer.write(chunk)
                if separator is not None:
                    writer.write(separator.encode("utf-8"))
        except OSError as exc:
            writer.discard()
            raise TaskFailure(f"cannot concatenate: {exc.strerror or exc}") from None
        ctx.debug(f"concatenated {len(sources)} file(s)")
        return {"uri": writer.store()}


def parse_readable_bytes(text: str) -> int:
    """Micronaut's readable sizes as Kestra reads `bytes`: `1024`, `200KB`, `10MB`, `1GB`."""
    match = _READABLE_BYTES.match(text)
    if match is None:
        raise TaskFailure(f"property 'bytes': invalid size '{text}'; use a number of bytes or "
                          f"a size such as 200KB, 10MB or 1GB")
    unit = match.group(2).upper() if match.group(2) else None
    return int(match.group(1)) * _UNITS[unit]


@register
@dataclass(kw_only=True, eq=False)
class Split(Task):
    """Splits a storage file by lines: chunks of `bytes`, `rows` rows, or `partitions` files round-robin."""

    TYPES: ClassVar[tuple[str, ...]] = (_CURRENT + "Split", _LEGACY + "Split")

    from_: Any = prop(kind=Kind.STRING, required=True, name="from")
    size_limit: Any = prop(kind=Kind.STRING, name="bytes")
    partitions: Any = prop(kind=Kind.INT)
    rows: Any = prop(kind=Kind.INT)
    separator: Any = prop("\n", kind=Kind.STRING)

    def validate(self) -> list[tuple[str | Position, str]]:
        if self.size_limit is None and self.partitions is None and self.rows is None:
            return [("", "one of 'bytes', 'partitions' or 'rows' is required "
                         "(Kestra: Invalid configuration with no size, count, nor rows)")]
        return []

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri = ctx.render_str(self.from_, "from").strip()
        source = ctx.storage_path(uri)
        separator = ctx.render_str(self.separator, "separator")
        extension = uri_extension(uri)
        lines = read_lines(source)
        if self.size_limit is not None:
            limit = parse_readable_bytes(ctx.render_str(self.size_limit, "bytes"))
            uris = self._split(ctx, lines, separator, extension, lambda size, _rows: size >= limit)
        elif self.partitions is not None:
            count = _positive(ctx.render_int(self.partitions, "partitions"), "partitions")
            uris = self._partition(ctx, lines, separator, extension, count)
        else:
            rows = _positive(ctx.render_int(self.rows, "rows"), "rows")
            uris = self._split(ctx, lines, separator, extension, lambda _size, count: count >= rows)
        ctx.debug(f"split {uri} into {len(uris)} file(s)")
        return {"uris": uris}

    def _split(self, ctx: TaskContext[Task], lines: Iterator[str], separator: str, extension: str,
               full: Callable[[int, int], bool]) -> list[str]:
        """Kestra's split: a new file starts when the current one is `full` before a row is added."""
        uris: list[str] = []
        writer: OutputWriter | None = None
        size = rows = 0
        for line in lines:
            if writer is None or full(size, rows):
                if writer is not None:
                    uris.append(writer.store())
                writer = OutputWriter(ctx, f"{ctx.task_id}-{len(uris)}{extension}")
                size = rows = 0
            data = (line + separator).encode("utf-8")
            writer.write(data)
            size += len(data)
            rows += 1
        if writer is not None:
            uris.append(writer.store())
        return uris

    def _partition(self, ctx: TaskContext[Task], lines: Iterator[str], separator: str, extension: str,
                   count: int) -> list[str]:
        """Rows dealt round-robin into `count` files; files left empty are dropped, as Kestra does."""
        writers = [OutputWriter(ctx, f"{ctx.task_id}-{i}{extension}") for i in range(count)]
        sizes = [0] * count
        for index, line in enumerate(lines):
            data = (line + separator).encode("utf-8")
            writers[index % count].write(data)
            sizes[index % count] += len(data)
        uris = []
        for writer, size in zip(writers, sizes, strict=True):
            if size:
                uris.append(writer.store())
            else:
                writer.discard()
        return uris


def _positive(value: int | None, prop_name: str) -> int:
    if value is None or value < 1:
        raise TaskFailure(f"property '{prop_name}' must be a positive integer, not {value}")
    return value


@register
@dataclass(kw_only=True, eq=False)
class Size(Task):
    """The size in bytes of a storage file, as `outputs.<id>.size`."""

    TYPES: ClassVar[tuple[str, ...]] = (_CURRENT + "Size", _LEGACY + "Size")

    uri: Any = prop(kind=Kind.STRING, required=True)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        path = ctx.storage_path(ctx.render_str(self.uri, "uri").strip())
        return {"size": path.stat().st_size}


@register
@dataclass(kw_only=True, eq=False)
class Delete(Task):
    """Deletes a file of this execution from storage; `deleted` says whether there was one."""

    TYPES: ClassVar[tuple[str, ...]] = (_CURRENT + "Delete", _LEGACY + "Delete")

    uri: Any = prop(kind=Kind.STRING, required=True)
    error_on_missing: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri = ctx.render_str(self.uri, "uri").strip()
        path = execution_owned_path(ctx, uri, "uri")
        deleted = path.is_file()
        if deleted:
            path.unlink()
        elif ctx.render_bool(self.error_on_missing, "errorOnMissing"):
            raise TaskFailure(f"Unable to find file '{uri}' (errorOnMissing is true)")
        return {"uri": uri, "deleted": deleted}


@register
@dataclass(kw_only=True, eq=False)
class Reverse(Task):
    """Writes a storage file's lines last first, each followed by `separator`."""

    TYPES: ClassVar[tuple[str, ...]] = (_CURRENT + "Reverse", _LEGACY + "Reverse")

    from_: Any = prop(kind=Kind.STRING, required=True, name="from")
    separator: Any = prop("\n", kind=Kind.STRING)
    charset: Any = prop("UTF-8", kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri = ctx.render_str(self.from_, "from").strip()
        source = ctx.storage_path(uri)
        separator = ctx.render_str(self.separator, "separator")
        charset = ctx.render_str(self.charset, "charset")
        try:
            codecs.lookup(charset)
        except LookupError:
            raise TaskFailure(f"property 'charset': '{charset}' is not a known charset") from None
        lines = list(read_lines(source, charset))
        writer = OutputWriter(ctx, ctx.task_id + uri_extension(uri))
        for line in reversed(lines):
            writer.write((line + separator).encode(charset, errors="replace"))
        return {"uri": writer.store()}


@register
@dataclass(kw_only=True, eq=False)
class PurgeCurrentExecutionFiles(Task):
    """Deletes every storage file of this execution (inputs, outputs, trigger files); lists them as `uris`."""

    TYPES: ClassVar[tuple[str, ...]] = (
        _CURRENT + "PurgeCurrentExecutionFiles",
        _CURRENT + "PurgeExecution",
        _LEGACY + "PurgeExecution",
    )

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        flow = ctx.flow
        prefix = ctx.storage.execution_prefix(flow.namespace, flow.id, ctx.execution_id)
        root = ctx.storage.path_of(SCHEME + prefix)
        deleted: list[str] = []
        if root.is_dir():
            for folder, dirs, files in os.walk(root, topdown=False):
                relative = Path(folder).relative_to(root).as_posix()
                for name in sorted(files):
                    path = Path(folder) / name
                    path.unlink()
                    inner = name if relative == "." else f"{relative}/{name}"
                    deleted.append(f"{SCHEME}{prefix}/{quote(inner)}")
                for name in dirs:
                    (Path(folder) / name).rmdir()
            root.rmdir()
        ctx.info(f"purged {len(deleted)} file(s) of this execution from internal storage")
        return {"uris": deleted}
