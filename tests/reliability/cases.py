"""How many cases a reliability test tried (hypothesis examples, corpus files), for docs/reliability.md.

A test calls `count()` once per case; conftest.py attaches the total to the test's report as
the `cases` user property, which scripts/reliability_report.py reads. A test that never calls
it counts as one case.
"""

from __future__ import annotations

_count = [0]


def count(n: int = 1) -> None:
    """One more case (or `n`) tried by the running test."""
    _count[0] += n


def reset() -> None:
    _count[0] = 0


def total() -> int:
    return _count[0]
