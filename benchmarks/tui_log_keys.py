"""Log view keys with 200,000 lines: a key pressed -> the frame showing its effect.

A LogView alone in a Textual app (headless driver, in-process), filled with the lines of
tests/tui/test_log_view.py. For each key (up, pageup, home, pagedown, l, end, t) and for a
search (``/number 150000`` then enter), the time runs from the key sent to the first frame
handed to the driver (``App._display``) in which the view's cursor, scroll, level or
timestamps changed: the moment a terminal would get it. Baseline in the same run: the same
keys on 1,000 lines (the search for line 750 there). Exits 1 when a key misses the target.

    .venv/bin/python benchmarks/tui_log_keys.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Input  # noqa: E402

from tui.models.log_entry import LogEntry  # noqa: E402
from tui.models.log_store import LogStore  # noqa: E402
from tui.widgets.log_view import LogView  # noqa: E402

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
LEVELS = ("INFO", "INFO", "WARN", "ERROR", "DEBUG")
KEYS = ("up", "pageup", "home", "pagedown", "l", "end", "t")
TARGET = 0.5
"""Seconds from a key to its frame, the bound tests/tui/test_log_view.py once asserted."""


def entry(i: int) -> LogEntry:
    run = f"run-{i % 3}"
    return LogEntry(T0 + timedelta(seconds=i), LEVELS[i % len(LEVELS)], run, f"task{i % 3}",
                    f"message number {i}")


class TimedLogApp(App[None]):
    """Stamps the first frame after ``armed`` in which the view looks different."""

    def __init__(self, store: LogStore) -> None:
        super().__init__()
        self.store = store
        self.before: tuple[Any, ...] | None = None
        self.shown_at: float | None = None

    def compose(self) -> ComposeResult:
        yield LogView(self.store)

    def on_mount(self) -> None:
        self.query_one(LogView).focus()

    def looks(self) -> tuple[Any, ...]:
        view = self.query_one(LogView)
        return (view.cursor_row, view.scroll_offset.y, view.min_level, view.show_timestamps,
                view.follow)

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if self.before is not None and renderable is not None and self.looks() != self.before:
            self.shown_at = time.perf_counter()
            self.before = None


async def until(condition: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the log view never settled")
        await asyncio.sleep(0.005)


async def measure(lines: int, rounds: int) -> dict[str, list[float]]:
    store = LogStore()
    app = TimedLogApp(store)
    times: dict[str, list[float]] = {key: [] for key in (*KEYS, "search")}
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            view = app.query_one(LogView)
            for start in range(0, lines, 10_000):
                view.append_entries([entry(i) for i in range(start, min(start + 10_000, lines))])
            await until(lambda: len(view.view) == lines and view.cursor_row == lines - 1)
            await pilot.pause()

            async def timed(name: str, *keys: str) -> None:
                app.before, app.shown_at = app.looks(), None
                started = time.perf_counter()
                await pilot.press(*keys)
                await until(lambda: app.shown_at is not None)
                assert app.shown_at is not None
                times[name].append(app.shown_at - started)
                await pilot.pause()

            for _ in range(rounds):
                for key in KEYS:
                    await timed(key, key)
                for key in ("l", "l", "l", "l", "t"):  # back to all levels, timestamps on
                    await pilot.press(key)
                term = f"number {lines * 3 // 4}"  # 150000 of 200k: far from the end and the start
                await pilot.press("slash", *term)
                await until(lambda: view.query_one(Input).value == term)  # noqa: B023
                await timed("search", "enter")
                assert view.cursor_entry is not None and view.cursor_entry.message == f"message {term}"
                await pilot.press("end")
    finally:
        store.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    big = asyncio.run(measure(200_000, args.rounds))
    small = asyncio.run(measure(1_000, args.rounds))
    missed = []
    print(f"log view, key -> frame on screen, median (max) of {args.rounds} rounds:")
    for name in (*KEYS, "search"):
        figure, worst = statistics.median(big[name]), max(big[name])
        base = statistics.median(small[name])
        if worst >= TARGET:
            missed.append(name)
        print(f"  {name:<9} 200k lines {figure * 1000:6.1f} ms ({worst * 1000:6.1f})   "
              f"1k lines {base * 1000:6.1f} ms   {figure / base:4.1f}x   "
              f"target < {TARGET * 1000:.0f} ms: {'met' if worst < TARGET else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
