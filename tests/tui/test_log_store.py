"""LogStore: lines round-trip through the spool; at 1M lines filters and search answer right, in bounded memory."""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import tui.models.log_store as log_store_module
from tui.models.log_entry import LogEntry
from tui.models.log_store import LogStore

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
LEVELS = ("INFO", "INFO", "DEBUG", "WARN", "ERROR", "TRACE")


def entry(
    i: int, *, run: str | None = None, level: str | None = None, message: str | None = None
) -> LogEntry:
    run_id = run if run is not None else f"run-{i % 3}"
    return LogEntry(
        time=T0 + timedelta(milliseconds=i),
        level=level or LEVELS[i % len(LEVELS)],
        task_run_id=run_id,
        task_id=f"task_{run_id}",
        message=message if message is not None else f"line {i} says hello",
    )


@pytest.fixture
def store() -> Iterator[LogStore]:
    with LogStore() as created:
        yield created


def test_round_trip_keeps_unicode_tabs_newlines_and_invalid_characters(store: LogStore) -> None:
    awkward = [
        LogEntry(T0, "INFO", None, None, "plain"),
        LogEntry(T0, "WARN", "r1", "t\tab", "tab\there\nnew line\r\nCRLF and a \\ backslash"),
        LogEntry(
            T0, "ERROR", "r1", "t1", "lone surrogates \ud800 \udfff and escaped bytes \udcff\udc80"
        ),
        LogEntry(T0, "DEBUG", "r2", "t2", "emoji 🎉, CJK 日本語, NUL \x00, ESC \x1b[31mred\x1b[0m"),
        LogEntry(datetime(2024, 1, 1, 8, 30), "custom-level", "r\\N", "\\N", "\\N"),
        LogEntry(T0, "INFO", "", "", ""),
        LogEntry(T0, "INFO", "r3", "t3", "ends with backslash \\"),
        LogEntry(T0, "INFO", "r3", "t3", "\\t is not a tab, \\\\n is not a newline"),
    ]
    indexes = [store.append(item) for item in awkward]

    assert indexes == list(range(len(awkward)))
    assert len(store) == len(awkward)
    assert [store.get(i) for i in indexes] == awkward
    assert store.get_many(0, len(awkward)) == awkward
    assert store.get_many(2, 4) == awkward[2:4]
    assert store.get(-1) == awkward[-1]
    assert [LogEntry.from_spool(item.to_spool()) for item in awkward] == awkward


def test_extend_writes_a_batch_that_reads_back_in_order(store: LogStore) -> None:
    store.append(entry(0))
    store.extend(entry(i) for i in range(1, 500))

    assert len(store) == 500
    assert store.get_many(0, 500) == [entry(i) for i in range(500)]
    assert store.get_many(490, 10_000) == [entry(i) for i in range(490, 500)]
    assert store.get_many(10, 5) == []
    with pytest.raises(IndexError):
        store.get(500)


def test_given_spool_path_is_kept_and_temp_spool_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "run.spool"
    with LogStore(path) as kept:
        kept.extend(entry(i) for i in range(3))
        kept.append(entry(3))
    assert len(path.read_bytes().splitlines()) == 4

    temp = LogStore()
    temp.append(entry(0))
    assert temp.path is None
    temp.close()
    assert temp.closed
    with pytest.raises(ValueError):
        temp.append(entry(1))


def test_filtered_views_select_by_task_run_and_level_and_grow_on_refresh(store: LogStore) -> None:
    store.extend(entry(i) for i in range(60))
    by_run = store.filtered(task_run_id="run-1")
    warn_up = store.filtered(min_level="WARN")
    both = store.filtered(task_run_id="run-1", min_level="warning")
    everything = store.filtered(min_level="ALL")

    assert list(by_run) == [i for i in range(60) if i % 3 == 1]
    assert all(store.get(i).level in ("WARN", "ERROR") for i in warn_up)
    assert list(warn_up) == [i for i in range(60) if LEVELS[i % 6] in ("WARN", "ERROR")]
    assert list(both) == [i for i in by_run if i in set(warn_up)]
    assert len(everything) == 60 and not everything.is_filtered

    store.extend(entry(i) for i in range(60, 90))
    assert len(by_run) == 20  # a snapshot until refreshed
    assert by_run.refresh() == 10
    assert everything.refresh() == 30
    assert list(by_run) == [i for i in range(90) if i % 3 == 1]
    assert by_run.row_of(4) == 1 and by_run.row_of(5) is None
    assert by_run.nearest_row(5) == 2
    assert store.filtered(task_run_id="nobody").refresh() == 0


def test_filters_over_more_task_runs_than_a_byte_holds_match_a_plain_scan(store: LogStore) -> None:
    """Up to 256 task runs a filter runs on byte masks, past that on a loop: same rows."""
    store.extend(entry(i, run=f"r{i % 300}") for i in range(1200))
    for wanted, level in (("r7", None), (frozenset({"r1", "r299"}), "WARN")):
        runs = {wanted} if isinstance(wanted, str) else wanted
        rank = {"INFO", "WARN", "ERROR"} if level is None else {"WARN", "ERROR"}
        expected = [i for i in range(1200) if f"r{i % 300}" in runs
                    and (level is None or LEVELS[i % 6] in rank)]
        assert list(store.filtered(task_run_id=wanted, min_level=level)) == expected


def test_new_task_run_appearing_later_is_picked_up_by_its_filter(store: LogStore) -> None:
    view = store.filtered(task_run_id="late")
    store.extend(entry(i) for i in range(10))
    store.append(entry(10, run="late"))
    view.refresh()
    assert list(view) == [10]
    assert "late" in store.task_run_ids


def test_search_finds_next_and_previous_case_insensitively(store: LogStore) -> None:
    store.extend(entry(i) for i in range(100))
    store.append(entry(100, message="Needle in a HAYSTACK"))
    store.append(entry(101, message="multi\nline with\ttab"))

    assert store.search("haystack", 0) == 100
    assert store.search("LINE 5 SAYS", 0) == 5
    assert store.search("line 5", 6) == 50
    assert store.search("line 5", 50, backwards=True) == 50
    assert store.search("line 5", 49, backwards=True) == 5
    assert store.search("line 5", 4, backwards=True) is None
    assert store.search("line\twith", 0) is None
    assert store.search("multi\nline", 0) == 101
    assert store.search("with\ttab", 0) == 101
    assert store.search("task_run-2", 0) == 2  # task ids are searchable
    assert store.search("absent", 0) is None
    assert store.search("", 0) is None
    assert store.search("line", 1000) is None


def test_search_ignores_time_level_and_task_run_fields(store: LogStore) -> None:
    store.extend(entry(i, level="ERROR", message="nothing here") for i in range(5))
    store.append(entry(5, level="INFO", message="an error happened"))

    assert store.search("error", 0) == 5
    assert store.search("2024-05-01", 0) is None
    assert store.search("task_run-1", 0) == 1


def test_search_with_a_view_returns_view_rows(store: LogStore) -> None:
    store.extend(entry(i) for i in range(90))
    view = store.filtered(task_run_id="run-2")

    row = store.search("line 8 ", 0, view=view)
    assert row is not None and view[row] == 8
    assert store.search("line 7 ", 0, view=view) is None  # line 7 belongs to run-1
    last = store.search("line", len(view) - 1, backwards=True, view=view)
    assert last == len(view) - 1


def test_search_across_chunk_boundaries_matches_a_plain_scan(
    store: LogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_store_module, "_SEARCH_CHUNK_BYTES", 200)
    messages = [
        f"{'match' if i % 7 == 0 else 'other'} {'x' * (i % 13)} \u0130{i}" for i in range(120)
    ]
    store.extend(entry(i, message=m) for i, m in enumerate(messages))
    hits = [i for i, m in enumerate(messages) if "match" in m.lower()]

    for start in range(0, 120, 5):
        expected_next = next((i for i in hits if i >= start), None)
        expected_prev = next((i for i in reversed(hits) if i <= start), None)
        assert store.search("MATCH", start) == expected_next
        assert store.search("MATCH", start, backwards=True) == expected_prev


def test_appends_from_several_threads_all_land(store: LogStore) -> None:
    def writer(run: str) -> None:
        for i in range(2000):
            if i % 2:
                store.append(entry(i, run=run))
            else:
                store.extend([entry(i, run=run)])

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    reader_view = store.filtered(task_run_id="w0")
    while any(thread.is_alive() for thread in threads):
        reader_view.refresh()
        if len(reader_view):
            store.get(reader_view[-1])
    for thread in threads:
        thread.join()

    assert len(store) == 8000
    runs = [item.task_run_id for item in store.get_many(0, len(store))]
    assert sorted(runs.count(f"w{n}") for n in range(4)) == [2000] * 4


@pytest.mark.slow
def test_a_million_lines_fit_in_well_under_60_mb_and_are_searched_and_filtered_right() -> None:
    """The memory bound and the answers at 1M lines (how fast: benchmarks/log_store.py)."""
    batch = [
        entry(i, message=f"processing record {i:06d} of the nightly batch, all good")
        for i in range(1000)
    ]
    assert 55 <= len(batch[0].message) <= 65

    tracemalloc.start()
    try:
        store = LogStore()
        for _ in range(1000):
            store.extend(batch)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    try:
        assert len(store) == 1_000_000
        print(f"1M lines: {current / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB")
        assert peak < 60 * 1024 * 1024
        assert store.get(999_999) == batch[-1]

        assert store.search("record 000999 of", 0) == 999
        assert store.search("not in the log", 0) is None
        assert store.search("record 000000", 999_999, backwards=True) == 999_000
        view = store.filtered(min_level="ERROR")
        assert len(view) == sum(1 for i in range(1000) if LEVELS[i % 6] == "ERROR") * 1000
        assert all(store.get(view[i]).level == "ERROR" for i in (0, len(view) // 2, len(view) - 1))
    finally:
        store.close()


def test_entries_convert_from_engine_log_lines(store: LogStore) -> None:
    from engine.core.events import LogLine

    line = LogLine("exec-1", "tr-1", "hello_task", "WARN", "careful", T0)
    store.append(LogEntry.from_log_line(line))
    assert store.get(0) == LogEntry(T0, "WARN", "tr-1", "hello_task", "careful")
    assert store.longest_task_id == len("hello_task")


def test_the_inbox_stores_a_batch_of_lines_in_order_with_its_task_run() -> None:
    from engine.core.events import LogBatch, LogLine
    from engine.core.records import Execution
    from tui.models.run_model import EventInbox, ExecutionModel

    inbox = EventInbox()
    model = ExecutionModel(Execution("exec-1", "company.team", "flood"))
    other = ExecutionModel(Execution("exec-2", "company.team", "later"))
    try:
        inbox.register(model)
        inbox(LogLine("exec-1", "tr-1", "flood", "INFO", "first", T0))
        inbox(LogBatch("exec-1", "tr-1", "flood", "ERROR", ("second", "third"), T0))
        inbox(LogBatch("exec-2", "tr-2", "later", "INFO", ("queued",), T0))  # not registered: queued
        assert model.logs.get_many(0, 10) == [
            LogEntry(T0, "INFO", "tr-1", "flood", "first"), LogEntry(T0, "ERROR", "tr-1", "flood", "second"),
            LogEntry(T0, "ERROR", "tr-1", "flood", "third")]
        for event in inbox.drain():
            other.apply(event)
        assert other.logs.get_many(0, 10) == [LogEntry(T0, "INFO", "tr-2", "later", "queued")]
    finally:
        model.close()
        other.close()


def test_a_buffered_batch_is_read_back_before_it_is_written(store: LogStore) -> None:
    store.extend([entry(0), entry(1)], buffered=True)
    assert [store.get(0), store.get(1)] == [entry(0), entry(1)]
    assert store.search("line 1 says", 0) == 1
