"""Unified diffs of a file before and after a task, for the changes a task made.

Binary files get no diff (None): the caller shows sizes instead. Big diffs are cut to
`max_lines` so one rewritten CSV cannot flood a pane.
"""

from __future__ import annotations

import difflib

_SNIFF_BYTES = 8192
_NO_NEWLINE = "\\ No newline at end of file"


def is_probably_text(data: bytes) -> bool:
    """No NUL byte in the first 8 KiB, and those bytes decode as UTF-8 (a multibyte
    character cut by the 8 KiB limit, or by the end of the data, is fine)."""
    sample = data[:_SNIFF_BYTES]
    if b"\0" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only an incomplete sequence at the very end: UTF-8 sequences are at most 4 bytes.
        return exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3
    return True


def text_diff(old: bytes | None, new: bytes | None, path: str, *, context: int = 3,
              max_lines: int = 2000) -> list[str] | None:
    """Unified diff lines ("--- a/path", "+++ b/path", hunks) from `old` to `new`.

    None on either side means the file did not exist there (shown as /dev/null, as git
    does); the result is None when either side is binary, [] when both are equal. A line
    without a final newline is followed by git's "\\ No newline at end of file". More than
    `max_lines` lines are cut, ending with "… N more lines".
    """
    if any(side is not None and not is_probably_text(side) for side in (old, new)):
        return None
    if old == new:
        return []
    diff = difflib.unified_diff(
        _lines(old), _lines(new),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
        n=context, lineterm="")
    result: list[str] = []
    for index, line in enumerate(diff):
        if line.endswith("\n"):
            result.append(line[:-1])
        elif index < 2 or line.startswith("@@"):
            result.append(line)  # headers, made with lineterm=""
        else:
            result.extend((line, _NO_NEWLINE))
    if len(result) > max_lines:
        hidden = len(result) - max_lines
        result = [*result[:max_lines], f"… {hidden} more line{'s' if hidden != 1 else ''}"]
    return result


def _lines(data: bytes | None) -> list[str]:
    """Lines split on "\\n" only, each keeping it (so a missing final newline shows)."""
    if not data:
        return []
    text = data.decode("utf-8", errors="replace")
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines
