"""A process's pipe bytes cut into lines, delivered one batch per read.

Why batches: a task printing a million lines would otherwise cost a million decodes and a
million callbacks. Each read is decoded once, split once, and handed on as one list, in the
order the lines were written. A line longer than MAX_CHUNK comes in pieces (memory stays
about MAX_CHUNK per stream, whatever the line).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MAX_CHUNK", "LineSplitter", "LinesHandler", "one_by_one"]

MAX_CHUNK = 1 << 20  # a longer line is delivered in pieces of at most this many bytes

LinesHandler = Callable[[str, list[str]], None]
"""Receives (stream, lines): lines of one stream, in order, without their line breaks."""


def one_by_one(on_line: Callable[[str, str], None]) -> LinesHandler:
    """A batch handler that hands each line to a per-line one."""
    def on_lines(stream: str, lines: list[str]) -> None:
        for line in lines:
            on_line(stream, line)

    return on_lines


class LineSplitter:
    """Cuts one stream's bytes into lines, and a line longer than MAX_CHUNK into pieces."""

    def __init__(self, stream: str, on_lines: LinesHandler) -> None:
        self.stream = stream
        self.on_lines = on_lines
        self.pending = bytearray()

    def feed(self, data: bytes) -> None:
        last = data.rfind(b"\n")
        if last < 0:
            self.pending += data
            self._flush_long()
            return
        lines: list[str] = []
        start = 0
        if self.pending:  # the end of a line begun in an earlier read
            first = data.find(b"\n")
            self.pending += data[:first]
            self._flush_long()
            lines.append(_decode(bytes(self.pending), whole=True))
            self.pending.clear()
            start = first + 1
        if start <= last:
            lines.extend(_split(data[start:last]))
        self.on_lines(self.stream, lines)
        if last + 1 < len(data):
            self.pending += data[last + 1:]
            self._flush_long()

    def finish(self) -> None:
        """Deliver a last line that has no newline."""
        if self.pending:
            self.on_lines(self.stream, [_decode(bytes(self.pending), whole=True)])
            self.pending.clear()

    def _flush_long(self) -> None:
        # Only the start of a huge line is ever held: memory stays ~MAX_CHUNK per stream.
        while len(self.pending) > MAX_CHUNK:
            cut = _utf8_boundary(self.pending, MAX_CHUNK)
            self.on_lines(self.stream, [_decode(bytes(self.pending[:cut]), whole=False)])
            del self.pending[:cut]


def _split(block: bytes) -> list[str]:
    """Whole lines joined by `\\n`: decoded once (a newline never sits inside a UTF-8
    character, so this equals decoding line by line), a trailing CR dropped, NUL replaced."""
    text = block.decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def _decode(raw: bytes, whole: bool) -> str:
    if whole and raw.endswith(b"\r"):
        raw = raw[:-1]
    text = raw.decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text


def _utf8_boundary(buffer: bytearray, limit: int) -> int:
    """A cut at or just before `limit` that does not split a UTF-8 character."""
    cut = limit
    while cut > limit - 3 and (buffer[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut if (buffer[cut] & 0xC0) != 0x80 else limit
