"""Splitting an items file into batch files, as Kestra's StorageService.split does.

Lines are read the way Java's `BufferedReader.readLine` reads them (`\\n`, `\\r` or `\\r\\n`
end a line) and each one is written back followed by `separator`. A batch ends once it
holds `rows` lines or at least `bytes` bytes (checked before the next line, so a batch may
pass the size by one line); `partitions` deals the lines round-robin into that many files
and drops the empty ones. Kestra's precedence holds: `bytes`, else `partitions`, else `rows`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SIZE = re.compile(r"^(\d+)(KB|MB|GB)?$")
_UNITS = {None: 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


@dataclass(frozen=True)
class BatchRule:
    """How ForEachItem's `batch` cuts the items: exactly one of the three limits applies."""

    rows: int | None = 1
    bytes: int | None = None
    partitions: int | None = None
    separator: str = "\n"

    def describe(self) -> str:
        if self.bytes is not None:
            return f"batches of about {self.bytes} bytes"
        if self.partitions is not None:
            return f"{self.partitions} partitions"
        return f"batches of {self.rows} row(s)"


def parse_size(text: str) -> int:
    """Micronaut's readable bytes, as Kestra reads `batch.bytes`: 1024, 10KB, 5MB, 1GB."""
    match = _SIZE.match(text.strip().upper())
    if match is None:
        raise ValueError(f"Invalid size with value '{text}': use a number of bytes or 10KB, 5MB, 1GB")
    return int(match.group(1)) * _UNITS[match.group(2)]


def extension_of(uri: str) -> str:
    """The items file's extension, kept on every batch file (Kestra's `.tmp` when it has none)."""
    name = uri.rsplit("/", 1)[-1]
    return name[name.rfind("."):] if "." in name else ".tmp"


def _lines(source: Path) -> Iterator[str]:
    with source.open(encoding="utf-8", errors="replace", newline=None) as handle:
        for line in handle:
            yield line[:-1] if line.endswith("\n") else line


def split_file(source: Path, rule: BatchRule, target: Path, extension: str) -> list[Path]:
    """Write the batches of `source` into `target` (batch-1.ext, batch-2.ext...), in order."""
    if rule.partitions is not None:
        return _partition(source, rule.partitions, rule.separator, target, extension)
    files: list[Path] = []
    out: BinaryIO | None = None
    batch_bytes = batch_rows = 0
    try:
        for line in _lines(source):
            full = (rule.bytes is not None and batch_bytes >= rule.bytes) or (
                rule.bytes is None and rule.rows is not None and batch_rows >= rule.rows)
            if out is None or full:
                if out is not None:
                    out.close()
                path = target / f"batch-{len(files) + 1}{extension}"
                files.append(path)
                out = path.open("wb")
                batch_bytes = batch_rows = 0
            data = (line + rule.separator).encode("utf-8")
            out.write(data)
            batch_bytes += len(data)
            batch_rows += 1
    finally:
        if out is not None:
            out.close()
    return files


def _partition(source: Path, partitions: int, separator: str, target: Path, extension: str) -> list[Path]:
    paths = [target / f"batch-{index + 1}{extension}" for index in range(partitions)]
    handles = [path.open("wb") for path in paths]
    try:
        for index, line in enumerate(_lines(source)):
            handles[index % partitions].write((line + separator).encode("utf-8"))
    finally:
        for handle in handles:
            handle.close()
    kept = [path for path in paths if path.stat().st_size > 0]
    for path in paths:
        if path not in kept:
            path.unlink()
    return kept
