"""How states, durations, sizes and times read on screen (symbol *and* colour, never colour alone)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

__all__ = [
    "STATE_STYLES",
    "STATE_SYMBOLS",
    "format_duration",
    "now",
    "format_size",
    "format_time",
    "state_text",
]

STATE_SYMBOLS: dict[str, str] = {
    "CREATED": "○",
    "RUNNING": "▶",
    "PAUSED": "⏸",
    "SUCCESS": "✔",
    "WARNING": "▲",
    "FAILED": "✘",
    "KILLED": "■",
    "SKIPPED": "↷",
    "PENDING": "·",
}
"""The CLI's symbols (engine/cli_output.py), so a user reads both the same way."""

STATE_STYLES: dict[str, str] = {
    "CREATED": "dim",
    "RUNNING": "bold #5fafff",
    "PAUSED": "bold #d7af00",
    "SUCCESS": "#5fd75f",
    "WARNING": "bold #ffaf00",
    "FAILED": "bold #ff5f5f",
    "KILLED": "bold #d75fd7",
    "SKIPPED": "dim",
    "PENDING": "dim",
}

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def now() -> datetime:
    """The workbench's clock for live durations (one place, so tests can fix it)."""
    return datetime.now(UTC)


def state_text(state: str, *, with_name: bool = False, frame: int | None = None) -> Text:
    """A state's symbol (and name), styled; ``frame`` animates RUNNING."""
    symbol = STATE_SYMBOLS.get(state, "?")
    if state == "RUNNING" and frame is not None:
        symbol = SPINNER[frame % len(SPINNER)]
    text = Text(symbol, style=STATE_STYLES.get(state, ""))
    if with_name:
        text.append(f" {state}", style=STATE_STYLES.get(state, ""))
    return text


def format_duration(seconds: float | None) -> str:
    """``12ms``, ``3.4s``, ``2m05s``, ``1h02m``."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_size(size: int | None) -> str:
    """``512 B``, ``1.5 KB``, ``3.2 MB``."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def format_time(moment: datetime | None, *, with_date: bool = False) -> str:
    """Local time; with the date for history rows."""
    if moment is None:
        return "-"
    try:
        local = moment.astimezone()
    except (OverflowError, ValueError):
        local = moment
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
