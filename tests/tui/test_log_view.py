"""LogView: follow mode, filters, search, copy and speed, driven through Textual's Pilot.

Plain sync tests running ``asyncio.run`` (no pytest-asyncio in this project).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Offset
from textual.pilot import Pilot
from textual.selection import Selection
from textual.widgets import Input

from tui.models.log_entry import LogEntry
from tui.models.log_rows import display_text, level_letter
from tui.models.log_store import LogStore
from tui.widgets.log_view import LogView

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
LEVELS = ("INFO", "INFO", "WARN", "ERROR", "DEBUG")


def entry(i: int, *, level: str | None = None, message: str | None = None) -> LogEntry:
    run = f"run-{i % 3}"
    return LogEntry(
        time=T0 + timedelta(seconds=i),
        level=level or LEVELS[i % len(LEVELS)],
        task_run_id=run,
        task_id=f"task{i % 3}",
        message=message if message is not None else f"message number {i}",
    )


class LogApp(App[None]):
    def __init__(self, store: LogStore | None = None) -> None:
        super().__init__()
        self.store = store
        self.follow_changes: list[bool] = []
        self.notices: list[str] = []

    def compose(self) -> ComposeResult:
        yield LogView(self.store)

    def on_mount(self) -> None:
        self.query_one(LogView).focus()

    def on_log_view_follow_changed(self, message: LogView.FollowChanged) -> None:
        self.follow_changes.append(message.follow)

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notices.append(message)
        super().notify(message, **kwargs)


def run_app(
    test: Callable[[LogApp, LogView, Pilot[None]], Awaitable[None]], store: LogStore | None = None
) -> None:
    async def main() -> None:
        app = LogApp(store)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await test(app, app.query_one(LogView), pilot)

    asyncio.run(main())


def visible_text(view: LogView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def test_appended_lines_appear_with_level_letter_and_task_id() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(3)])
        await pilot.pause()
        lines = visible_text(view)
        assert lines[0] == "12:00:00.000 I task0 message number 0"
        assert lines[2] == "12:00:02.000 W task2 message number 2"
        assert lines[3] == ""

    run_app(check)


def test_follow_keeps_the_last_line_in_view_as_batches_arrive() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        for batch in range(5):
            view.append_entries([entry(i) for i in range(batch * 40, batch * 40 + 40)])
            await pilot.pause()
            assert view.follow
            assert view.scroll_offset.y == view.max_scroll_y > 0
            assert visible_text(view)[-1].endswith(f"message number {batch * 40 + 39}")
            assert view.cursor_row == batch * 40 + 39

    run_app(check)


def test_moving_up_stops_following_and_f_resumes() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(100)])
        await pilot.pause()
        await pilot.press("up")
        await pilot.pause()
        assert not view.follow
        assert view.cursor_row == 98
        scroll_before = view.scroll_offset.y

        view.append_entries([entry(i) for i in range(100, 200)])
        await pilot.pause()
        assert view.scroll_offset.y == scroll_before
        assert view.cursor_row == 98

        await pilot.press("f")
        await pilot.pause()
        assert view.follow
        assert view.scroll_offset.y == view.max_scroll_y
        assert view.cursor_row == 199
        assert app.follow_changes == [False, True]

    run_app(check)


def test_page_up_stops_following_and_end_resumes() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(300)])
        await pilot.pause()
        await pilot.press("pageup")
        await pilot.pause()
        assert not view.follow
        assert view.scroll_offset.y < view.max_scroll_y

        view.append_entries([entry(i) for i in range(300, 310)])
        await pilot.pause()
        assert not visible_text(view)[-1].endswith("message number 309")

        await pilot.press("end")
        await pilot.pause()
        assert view.follow
        assert visible_text(view)[-1].endswith("message number 309")

    run_app(check)


def test_scrolling_away_and_back_to_the_bottom_toggles_follow() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(200)])
        await pilot.pause()
        view.scroll_to(y=10, animate=False)
        await pilot.pause()
        assert not view.follow
        view.scroll_end(animate=False)
        await pilot.pause()
        assert view.follow
        assert view.cursor_row == 199

    run_app(check)


def test_down_onto_the_last_line_resumes_following() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(50)])
        await pilot.pause()
        await pilot.press("up", "up")
        assert not view.follow
        await pilot.press("down", "down")
        await pilot.pause()
        assert view.follow

    run_app(check)


def test_level_filter_cycles_and_warn_hides_info() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(20)])
        await pilot.pause()
        await pilot.press("l", "l", "l")  # ALL -> DEBUG -> INFO -> WARN
        await pilot.pause()
        assert view.min_level == "WARN"
        shown = [line for line in visible_text(view) if line]
        assert shown and all(" W " in line or " E " in line for line in shown)
        assert len(view.view) == 8

        await pilot.press("l", "l")  # ERROR -> ALL
        await pilot.pause()
        assert view.min_level is None
        assert len(view.view) == 20

        view.append_entries([entry(20, level="INFO")])
        view.set_filter(min_level="ERROR")
        await pilot.pause()
        assert len(view.view) == 4
        view.append_entries([entry(21, level="ERROR"), entry(22, level="INFO")])
        assert len(view.view) == 5

    run_app(check)


def test_task_run_filter_shows_only_that_task_run() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(30)])
        view.set_filter(task_run_id="run-1")
        await pilot.pause()
        shown = [line for line in visible_text(view) if line]
        assert len(shown) == 10
        assert all(" task1 " in line for line in shown)

    run_app(check)


def test_slash_search_moves_the_cursor_to_the_match_and_n_N_step() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(500)])
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        search_box = view.query_one(Input)
        assert search_box.has_focus and search_box.display
        await pilot.press(*"NUMBER 12", "enter")
        await pilot.pause()
        assert not search_box.display
        assert view.has_focus
        assert view.cursor_entry is not None
        assert view.cursor_entry.message == "message number 12"
        assert not view.follow
        top = view.scroll_offset.y
        assert top <= view.cursor_row < top + view.scrollable_content_region.height

        await pilot.press("n")
        assert view.cursor_entry is not None and view.cursor_entry.message == "message number 120"
        await pilot.press("n", "n")
        assert view.cursor_entry is not None and view.cursor_entry.message == "message number 122"
        await pilot.press("N")
        assert view.cursor_entry is not None and view.cursor_entry.message == "message number 121"
        await pilot.pause()
        cursor_line = view.render_line(view.cursor_row - view.scroll_offset.y)
        assert "message number 121" in cursor_line.text

    run_app(check)


def test_search_without_a_match_notifies_and_keeps_the_cursor() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(50)])
        await pilot.pause()
        await pilot.press("slash", *"nowhere", "enter")
        await pilot.pause()
        assert any("No match" in notice for notice in app.notices)
        assert view.cursor_row == 49

        await pilot.press("slash", "x", "escape")
        await pilot.pause()
        assert not view.query_one(Input).display
        assert view.has_focus

    run_app(check)


def test_t_toggles_timestamps() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(0)])
        await pilot.pause()
        assert view.render_line(0).text.startswith("12:00:00.000 I task0")
        await pilot.press("t")
        await pilot.pause()
        assert view.render_line(0).text.startswith("I task0 message number 0")
        await pilot.press("t")
        assert view.render_line(0).text.startswith("12:00:00.000 ")

    run_app(check)


def test_copy_puts_the_cursor_line_in_the_clipboard() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(10)])
        view.append_entries([entry(10, message="two\nlines")])
        await pilot.pause()
        await pilot.press("c")
        assert app.clipboard.endswith("task1 two\nlines")
        await pilot.press("up", "y")
        assert "message number 9" in app.clipboard

    run_app(check)


def test_mouse_selection_text_matches_the_rows_on_screen() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(5)])
        await pilot.pause()
        selected = view.get_selection(Selection(Offset(13, 1), Offset(7, 3)))
        assert selected is not None
        assert selected[0] == (
            "I task1 message number 1\n12:00:02.000 W task2 message number 2\n12:00:0"
        )

    run_app(check)


def test_binary_and_control_characters_stay_on_one_safe_row() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries(
            [entry(0, message="\x1b[31mred\x1b[0m\tbell\x07 nul\x00 surrogate \udcff multi\nline")]
        )
        await pilot.pause()
        text = view.render_line(0).text
        assert "red bell␇ nul␀ surrogate � multi↵line" in text
        assert "\x1b" not in text and "\n" not in text
        assert view.render_line(1).text.strip() == ""

    run_app(check)


def test_lines_appended_to_the_store_elsewhere_show_after_sync() -> None:
    store = LogStore()

    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        store.extend(entry(i) for i in range(5))  # e.g. from the engine thread
        view.sync()
        await pilot.pause()
        assert visible_text(view)[4] == "12:00:04.000 D task1 message number 4"
        assert view.cursor_row == 4

    try:
        run_app(check, store)
    finally:
        store.close()


def test_clicking_away_closes_the_search_box() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(5)])
        await pilot.press("slash")
        await pilot.pause()
        assert view.query_one(Input).display
        app.set_focus(None)
        await pilot.pause()
        assert not view.query_one(Input).display

    run_app(check)


def test_display_helpers() -> None:
    assert display_text("plain text") == "plain text"
    assert display_text("a\r\nb") == "a↵b"
    assert [
        level_letter(level) for level in ("TRACE", "debug", "INFO", "WARNING", "ERROR")
    ] == list("TDIWE")
    assert level_letter("notice") == "N"


def test_a_batch_repaints_only_the_visible_rows_once() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(100)])
        await pilot.pause()
        rendered: list[int] = []
        original = view.render_line

        def counting_render_line(y: int) -> Any:
            rendered.append(y)
            return original(y)

        view.render_line = counting_render_line  # type: ignore[method-assign]
        view.append_entries([entry(i) for i in range(100, 5100)])
        await pilot.pause()
        height = view.scrollable_content_region.height
        assert 0 < len(rendered) <= height
        assert visible_text(view)[-1].endswith("message number 5099")

    run_app(check)


def test_keys_stay_fast_with_200k_lines() -> None:
    store = LogStore()
    batches = [
        [entry(i) for i in range(start, start + 10_000)] for start in range(0, 200_000, 10_000)
    ]

    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        for batch in batches:
            view.append_entries(batch)
            await pilot.pause()
        assert len(view.view) == 200_000
        assert view.scroll_offset.y == view.max_scroll_y

        for keys in (("up",), ("pageup",), ("home",), ("pagedown",), ("l",), ("end",), ("t",)):
            started = time.perf_counter()
            await pilot.press(*keys)
            await pilot.pause()
            elapsed = time.perf_counter() - started
            assert elapsed < 0.5, f"{keys} took {elapsed:.3f}s"

        await pilot.press("slash", *"number 150000")
        started = time.perf_counter()
        await pilot.press("enter")
        await pilot.pause()
        assert time.perf_counter() - started < 0.5
        assert (
            view.cursor_entry is not None and view.cursor_entry.message == "message number 150000"
        )

    try:
        run_app(check, store)
    finally:
        store.close()
