"""LogView: follow mode, filters, search and copy, driven through Textual's Pilot.

Plain sync tests running ``asyncio.run`` (no pytest-asyncio in this project). Each check
waits for the rows it reads to be painted (``wait_until``), never for a pause: on a busy
machine a repaint can trail the key by many frames. How fast keys are with 200,000 lines is
measured by benchmarks/tui_log_keys.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Offset
from textual.pilot import Pilot
from textual.selection import Selection
from textual.widgets import Input

from tests.tui.conftest import wait_until
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
            view = app.query_one(LogView)
            await wait_until(pilot, lambda: view.has_focus and view.scrollable_content_region.height > 0,
                             what="the log view mounted and focused")
            await test(app, view, pilot)

    asyncio.run(main())


def visible_text(view: LogView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def last_row(view: LogView) -> str:
    return visible_text(view)[-1]


def cursor_text(view: LogView) -> str:
    """The painted row under the cursor."""
    return view.render_line(view.cursor_row - view.scroll_offset.y).text.rstrip()


def test_appended_lines_appear_with_level_letter_and_task_id() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(3)])
        await wait_until(pilot, lambda: visible_text(view)[2] == "12:00:02.000 W task2 message number 2",
                         what=f"the third line (rows: {visible_text(view)[:4]})")
        lines = visible_text(view)
        assert lines[0] == "12:00:00.000 I task0 message number 0"
        assert lines[3] == ""

    run_app(check)


def test_follow_keeps_the_last_line_in_view_as_batches_arrive() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        for batch in range(5):
            view.append_entries([entry(i) for i in range(batch * 40, batch * 40 + 40)])
            last = f"message number {batch * 40 + 39}"
            await wait_until(pilot, lambda: last_row(view).endswith(last),  # noqa: B023
                             what=f"{last} at the bottom")
            assert view.follow
            assert view.scroll_offset.y == view.max_scroll_y > 0
            assert visible_text(view)[-1].endswith(f"message number {batch * 40 + 39}")
            assert view.cursor_row == batch * 40 + 39

    run_app(check)


def test_moving_up_stops_following_and_f_resumes() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(100)])
        await wait_until(pilot, lambda: last_row(view).endswith("message number 99"), what="line 99")
        await pilot.press("up")
        await wait_until(pilot, lambda: "message number 98" in cursor_text(view), what="the cursor on 98")
        assert not view.follow
        assert view.cursor_row == 98
        scroll_before = view.scroll_offset.y
        height = view.scrollable_content_region.height

        view.append_entries([entry(i) for i in range(100, 200)])
        # the view has taken the lines in (it could scroll to 199 now) and did not follow them
        await wait_until(pilot, lambda: view.max_scroll_y == 200 - height, what="200 lines to scroll")
        assert view.scroll_offset.y == scroll_before
        assert view.cursor_row == 98
        assert last_row(view).endswith(f"message number {scroll_before + height - 1}")

        await pilot.press("f")
        await wait_until(pilot, lambda: last_row(view).endswith("message number 199"), what="line 199")
        assert view.follow
        assert view.scroll_offset.y == view.max_scroll_y
        assert view.cursor_row == 199
        await wait_until(pilot, lambda: app.follow_changes == [False, True],
                         what=f"both FollowChanged messages (got {app.follow_changes})")

    run_app(check)


def test_page_up_stops_following_and_end_resumes() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(300)])
        await wait_until(pilot, lambda: last_row(view).endswith("message number 299"), what="line 299")
        await pilot.press("pageup")
        await wait_until(pilot, lambda: not last_row(view).endswith("message number 299"),
                         what="a page up")
        assert not view.follow
        assert view.scroll_offset.y < view.max_scroll_y
        shown = visible_text(view)

        view.append_entries([entry(i) for i in range(300, 310)])
        height = view.scrollable_content_region.height
        await wait_until(pilot, lambda: view.max_scroll_y == 310 - height, what="310 lines to scroll")
        assert visible_text(view) == shown  # the new lines did not pull the view down

        await pilot.press("end")
        await wait_until(pilot, lambda: last_row(view).endswith("message number 309"), what="line 309")
        assert view.follow

    run_app(check)


def test_scrolling_away_and_back_to_the_bottom_toggles_follow() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(200)])
        await wait_until(pilot, lambda: last_row(view).endswith("message number 199"), what="line 199")
        view.scroll_to(y=10, animate=False)
        await wait_until(pilot, lambda: visible_text(view)[0].endswith("message number 10"),
                         what="line 10 at the top")
        assert not view.follow
        view.scroll_end(animate=False)
        await wait_until(pilot, lambda: view.follow and last_row(view).endswith("message number 199"),
                         what="following again")
        assert view.cursor_row == 199

    run_app(check)


def test_down_onto_the_last_line_resumes_following() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(50)])
        await wait_until(pilot, lambda: last_row(view).endswith("message number 49"), what="line 49")
        await pilot.press("up", "up")
        assert not view.follow
        await pilot.press("down", "down")
        await wait_until(pilot, lambda: view.follow and view.cursor_row == 49, what="following again")

    run_app(check)


def test_level_filter_cycles_and_warn_hides_info() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        def shown() -> list[str]:
            return [line for line in visible_text(view) if line]

        view.append_entries([entry(i) for i in range(20)])
        await wait_until(pilot, lambda: len(shown()) == 20, what="20 rows")
        await pilot.press("l", "l", "l")  # ALL -> DEBUG -> INFO -> WARN
        await wait_until(pilot, lambda: len(shown()) == 8, what=f"8 rows (rows: {shown()})")
        assert view.min_level == "WARN"
        assert all(" W " in line or " E " in line for line in shown())
        assert len(view.view) == 8

        await pilot.press("l", "l")  # ERROR -> ALL
        await wait_until(pilot, lambda: len(shown()) == 20, what="20 rows again")
        assert view.min_level is None
        assert len(view.view) == 20

        view.append_entries([entry(20, level="INFO")])
        view.set_filter(min_level="ERROR")
        await wait_until(pilot, lambda: len(shown()) == 4, what=f"the 4 errors (rows: {shown()})")
        assert len(view.view) == 4
        view.append_entries([entry(21, level="ERROR"), entry(22, level="INFO")])
        await wait_until(pilot, lambda: len(shown()) == 5, what=f"5 errors (rows: {shown()})")
        assert len(view.view) == 5
        assert shown()[-1].endswith("message number 21")

    run_app(check)


def test_task_run_filter_shows_only_that_task_run() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(30)])
        view.set_filter(task_run_id="run-1")

        def shown() -> list[str]:
            return [line for line in visible_text(view) if line]

        await wait_until(pilot, lambda: len(shown()) == 10, what=f"run-1's 10 rows (rows: {shown()})")
        assert all(" task1 " in line for line in shown())

    run_app(check)


def test_slash_search_moves_the_cursor_to_the_match_and_n_N_step() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(500)])
        await wait_until(pilot, lambda: last_row(view).endswith("message number 499"), what="line 499")
        await pilot.press("slash")
        search_box = view.query_one(Input)
        await wait_until(pilot, lambda: search_box.has_focus and search_box.display, what="the search box")
        await pilot.press(*"NUMBER 12", "enter")
        await wait_until(pilot, lambda: cursor_text(view).endswith("message number 12"),
                         what="the cursor on the first match, painted")
        assert not search_box.display
        assert view.has_focus
        assert view.cursor_entry is not None
        assert view.cursor_entry.message == "message number 12"
        assert not view.follow
        top = view.scroll_offset.y
        assert top <= view.cursor_row < top + view.scrollable_content_region.height

        for keys, expected in ((("n",), 120), (("n", "n"), 122), (("N",), 121)):
            await pilot.press(*keys)
            await wait_until(pilot, lambda: cursor_text(view).endswith(f"message number {expected}"),  # noqa: B023
                             what=f"the cursor on message {expected}, painted")
            assert view.cursor_entry is not None
            assert view.cursor_entry.message == f"message number {expected}"

    run_app(check)


def test_search_without_a_match_notifies_and_keeps_the_cursor() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(50)])
        await wait_until(pilot, lambda: last_row(view).endswith("message number 49"), what="line 49")
        await pilot.press("slash", *"nowhere", "enter")
        await wait_until(pilot, lambda: any("No match" in notice for notice in app.notices),
                         what=f"the notice (notices: {app.notices})")
        assert view.cursor_row == 49
        assert cursor_text(view).endswith("message number 49")

        await pilot.press("slash", "x", "escape")
        await wait_until(pilot, lambda: not view.query_one(Input).display and view.has_focus,
                         what="the search box closed")

    run_app(check)


def test_t_toggles_timestamps() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(0)])
        await wait_until(pilot, lambda: view.render_line(0).text.startswith("12:00:00.000 I task0"),
                         what="the line with its time")
        await pilot.press("t")
        await wait_until(pilot, lambda: view.render_line(0).text.startswith("I task0 message number 0"),
                         what="the line without its time")
        await pilot.press("t")
        await wait_until(pilot, lambda: view.render_line(0).text.startswith("12:00:00.000 "),
                         what="the time back")

    run_app(check)


def test_copy_puts_the_cursor_line_in_the_clipboard() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(10)])
        view.append_entries([entry(10, message="two\nlines")])
        await wait_until(pilot, lambda: cursor_text(view).endswith("two↵lines"), what="the cursor on line 10")
        await pilot.press("c")
        await wait_until(pilot, lambda: app.clipboard.endswith("task1 two\nlines"),
                         what=f"line 10 copied (clipboard: {app.clipboard!r})")
        await pilot.press("up", "y")
        await wait_until(pilot, lambda: "message number 9" in app.clipboard,
                         what=f"line 9 copied (clipboard: {app.clipboard!r})")

    run_app(check)


def test_mouse_selection_text_matches_the_rows_on_screen() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(5)])
        await wait_until(pilot, lambda: visible_text(view)[4].endswith("message number 4"), what="5 rows")
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
        await wait_until(pilot, lambda: "red" in view.render_line(0).text, what="the row")
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
        await wait_until(pilot, lambda: visible_text(view)[4] == "12:00:04.000 D task1 message number 4",
                         what=f"line 4 (rows: {visible_text(view)[:5]})")
        assert view.cursor_row == 4

    try:
        run_app(check, store)
    finally:
        store.close()


def test_clicking_away_closes_the_search_box() -> None:
    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        view.append_entries([entry(i) for i in range(5)])
        await pilot.press("slash")
        await wait_until(pilot, lambda: view.query_one(Input).display, what="the search box")
        app.set_focus(None)
        await wait_until(pilot, lambda: not view.query_one(Input).display, what="the search box closed")

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
        await wait_until(pilot, lambda: last_row(view).endswith("message number 99"), what="line 99")
        painted: list[str] = []  # the rows the app paints, in order
        original = view.render_line

        def recording_render_line(y: int) -> Any:
            strip = original(y)
            painted.append(strip.text.rstrip())
            return strip

        view.render_line = recording_render_line  # type: ignore[method-assign]
        view.append_entries([entry(i) for i in range(100, 5100)])
        # The frame with the batch ends on its last line (rows paint top to bottom in one go)
        await wait_until(pilot, lambda: any(row.endswith("message number 5099") for row in painted),
                         what="the frame showing line 5099")
        repainted = len(painted)
        view.render_line = original  # type: ignore[method-assign]
        height = view.scrollable_content_region.height
        assert 0 < repainted <= height
        assert last_row(view).endswith("message number 5099")

    run_app(check)


def test_keys_and_search_land_where_they_should_with_200k_lines() -> None:
    """What each key does with 200,000 lines (how fast: benchmarks/tui_log_keys.py)."""
    store = LogStore()
    batches = [
        [entry(i) for i in range(start, start + 10_000)] for start in range(0, 200_000, 10_000)
    ]

    async def check(app: LogApp, view: LogView, pilot: Pilot[None]) -> None:
        for batch in batches:
            view.append_entries(batch)
        await wait_until(pilot, lambda: last_row(view).endswith("message number 199999"),
                         what="line 199999 at the bottom")
        assert len(view.view) == 200_000
        assert view.scroll_offset.y == view.max_scroll_y
        page = view.scrollable_content_region.height - 1

        # (keys, the line the cursor lands on, following, timestamps shown, level filter)
        steps = ((("up",), 199_998, False, True, None),
                 (("pageup",), 199_998 - page, False, True, None),
                 (("home",), 0, False, True, None),
                 (("pagedown",), page, False, True, None),
                 (("l",), page, False, True, "DEBUG"),
                 (("end",), 199_999, True, True, "DEBUG"),
                 (("t",), 199_999, True, False, "DEBUG"))
        for keys, line, follow, stamps, level in steps:
            await pilot.press(*keys)
            row = f"message number {line}"
            await wait_until(pilot, lambda: cursor_text(view).endswith(row)  # noqa: B023
                             and cursor_text(view)[:1].isdigit() is stamps,  # noqa: B023
                             what=f"{keys}: the cursor on {row}, painted")
            assert (view.follow, view.show_timestamps, view.min_level) == (follow, stamps, level), keys

        await pilot.press("slash", *"number 150000", "enter")
        await wait_until(pilot, lambda: cursor_text(view).endswith("message number 150000"),
                         what="the match, painted")
        assert view.cursor_entry is not None and view.cursor_entry.message == "message number 150000"

    try:
        run_app(check, store)
    finally:
        store.close()
