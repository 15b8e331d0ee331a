"""Kestra's log levels and their ranks: the one scale that level filters compare on.

The store keeps one rank byte per line, its filter views compare ranks, and the log view's
``l`` key steps through :data:`LEVEL_FILTER_CYCLE`; keeping the scale here means a level means
the same thing in all three. No Textual, no I/O.
"""

from __future__ import annotations

__all__ = [
    "LEVELS",
    "LEVEL_FILTER_CYCLE",
    "LEVEL_RANKS",
    "filter_level",
    "level_rank",
    "next_filter_level",
]

LEVELS: tuple[str, ...] = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
"""Kestra's levels, lowest first; a level's rank is its position here."""

LEVEL_RANKS: dict[str, int] = {
    "TRACE": 0,
    "DEBUG": 1,
    "INFO": 2,
    "WARN": 3,
    "WARNING": 3,
    "ERROR": 4,
    "CRITICAL": 4,
    "FATAL": 4,
}
_DEFAULT_RANK = LEVEL_RANKS["INFO"]
"""Unknown levels rank as INFO: shown by default, hidden only by WARN/ERROR filters."""

LEVEL_FILTER_CYCLE: tuple[str | None, ...] = (None, "DEBUG", "INFO", "WARN", "ERROR")
"""What key ``l`` steps through; None shows every level (ALL)."""


def level_rank(level: str | None) -> int:
    """The rank used for level filters; unknown levels count as INFO."""
    if not level:
        return _DEFAULT_RANK
    return LEVEL_RANKS.get(level.upper(), _DEFAULT_RANK)


def filter_level(min_level: str | None) -> str | None:
    """The level a "this level or above" filter is shown as: None for None/"ALL", else one of
    :data:`LEVELS` (an alias such as WARNING, or an unknown name, becomes the level it ranks as)."""
    level = None if min_level in (None, "ALL") else str(min_level).upper()
    if level is not None and level not in LEVELS:
        level = LEVELS[level_rank(level)]
    return level


def next_filter_level(current: str | None) -> str | None:
    """The level after ``current`` in :data:`LEVEL_FILTER_CYCLE`, wrapping to ALL (None)."""
    position = LEVEL_FILTER_CYCLE.index(current) if current in LEVEL_FILTER_CYCLE else 0
    return LEVEL_FILTER_CYCLE[(position + 1) % len(LEVEL_FILTER_CYCLE)]
