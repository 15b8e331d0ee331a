"""LogStore at a million lines: appending them, searching them, filtering them by level.

The lines are those of tests/tui/test_log_store.py (which keeps the memory bound and the
answers as tests): 1,000 distinct entries of ~60-character messages, extended 1,000 times.
Baselines in the same run, the least each step could cost in Python: each entry encoded as
its spool line (``LogEntry.to_spool``) and written to a file in one call per batch; the same
three searches as a loop over a plain list of the entries (``in`` on the lower-cased message);
the level filter as a list comprehension over that list. Exits 1 when a figure misses its
target.

    .venv/bin/python benchmarks/log_store.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.models.log_entry import LogEntry  # noqa: E402
from tui.models.log_store import LogStore  # noqa: E402

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
LEVELS = ("INFO", "INFO", "DEBUG", "WARN", "ERROR", "TRACE")
LINES = 1_000_000
TARGETS = {"append": 10.0, "search": 3.0, "filter": 2.0}
"""Seconds, for 1M lines: the bounds tests/tui/test_log_store.py once asserted."""


def batch() -> list[LogEntry]:
    return [LogEntry(T0 + timedelta(milliseconds=i), LEVELS[i % len(LEVELS)], f"run-{i % 3}",
                     f"task_run-{i % 3}", f"processing record {i:06d} of the nightly batch, all good")
            for i in range(1000)]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def store_round(entries: list[LogEntry]) -> dict[str, float]:
    store = LogStore()
    try:
        append = timed(lambda: [store.extend(entries) for _ in range(LINES // len(entries))])
        assert len(store) == LINES

        def searches() -> None:
            assert store.search("record 000999 of", 0) == 999
            assert store.search("not in the log", 0) is None
            assert store.search("record 000000", LINES - 1, backwards=True) == LINES - 1000

        search = timed(searches)
        level = timed(lambda: store.filtered(min_level="ERROR"))
        return {"append": append, "search": search, "filter": level}
    finally:
        store.close()


def baseline_round(entries: list[LogEntry]) -> dict[str, float]:
    with tempfile.TemporaryFile() as spool:
        def write_all() -> None:
            for _ in range(LINES // len(entries)):
                spool.write("".join(entry.to_spool() + "\n" for entry in entries).encode())

        append = timed(write_all)
    lines = entries * (LINES // len(entries))

    def find(term: str, start: int, backwards: bool = False) -> int | None:
        indexes = range(start, -1, -1) if backwards else range(start, len(lines))
        term = term.lower()
        return next((i for i in indexes if term in lines[i].message.lower()), None)

    def searches() -> None:
        assert find("record 000999 of", 0) == 999
        assert find("not in the log", 0) is None
        assert find("record 000000", LINES - 1, backwards=True) == LINES - 1000

    search = timed(searches)
    level = timed(lambda: [i for i, e in enumerate(lines) if e.level == "ERROR"])
    return {"append": append, "search": search, "filter": level}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    entries = batch()
    rounds = [store_round(entries) for _ in range(args.repeat)]
    bases = [baseline_round(entries) for _ in range(args.repeat)]
    missed = []
    print(f"LogStore, {LINES:,} lines, median of {args.repeat}:")
    for name, what in (("append", "append 1M lines (1,000 x extend of 1,000)"),
                       ("search", "3 searches (hit near the start, miss, hit backwards)"),
                       ("filter", "level filter ERROR")):
        figure = statistics.median(r[name] for r in rounds)
        base = statistics.median(b[name] for b in bases)
        verdict = "met" if figure < TARGETS[name] else "MISSED"
        if figure >= TARGETS[name]:
            missed.append(name)
        print(f"  {what:<52} {figure:6.2f} s  (baseline {base:5.2f} s, "
              f"{figure / base:4.1f}x)  target < {TARGETS[name]:.0f} s: {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
