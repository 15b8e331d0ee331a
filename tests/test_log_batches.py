"""Log lines in batches: one event per pipe read, on the console, in history and on the bus."""

from __future__ import annotations

import base64
import io
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime

from engine.cli.output import LogPrinter
from engine.core.events import EventBus, LogBatch, LogLine
from engine.core.records import Execution
from engine.execution.executor import Executor
from engine.runners.line_splitter import MAX_CHUNK, LineSplitter
from engine.store import history_logs
from engine.store.history import History
from engine.store.history_queue import WriteQueue
from engine.store.secrets import MASK
from tests.conftest import Engine

HEADER = "id: batches\nnamespace: company.team\n"
T0 = datetime(2026, 12, 2, 4, 0, 0, 123456, tzinfo=UTC)


def _stored(engine, execution_id: str) -> list[tuple[str, str, str | None]]:
    engine.runtime.history.flush()
    connection = sqlite3.connect(engine.home.history_db)
    try:
        return connection.execute("SELECT level, message, task_id FROM logs WHERE execution_id=? "
                                  "ORDER BY id", (execution_id,)).fetchall()
    finally:
        connection.close()


def _run_batched(engine, text: str) -> tuple[Execution, list[LogBatch]]:
    """Run a flow with a subscriber that takes batches as they are published."""
    executor = Executor(engine.runtime)
    batches: list[LogBatch] = []
    executor.bus.subscribe(lambda e: batches.append(e) if isinstance(e, LogBatch) else None, batches=True)
    handle = executor.prepare(engine.load(text))
    executor.start(handle)
    execution = handle.wait(120)
    assert handle.done
    return execution, batches


def test_a_flood_of_lines_comes_as_a_few_batches_with_every_line_in_history_in_order(engine):
    execution, batches = _run_batched(engine, HEADER + """
tasks:
  - id: flood
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - seq 50000
""")
    expected = [str(i) for i in range(1, 50001)]
    assert [m for b in batches if b.task_id == "flood" for m in b.messages] == expected
    assert len(batches) < 5000  # a read holds many lines: far fewer events than lines
    stored = [m for _level, m, task in _stored(engine, execution.id) if task == "flood"]
    assert stored == expected


def test_subscribers_without_batches_still_see_every_line(engine):
    result = engine.run(HEADER + """
tasks:
  - id: flood
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - seq 5000
""")
    assert result.logs("flood") == [str(i) for i in range(1, 5001)]
    assert result.run_of("flood").outputs["stdOutLineCount"] == 5000


def test_batch_subscribers_get_one_event_per_read_and_others_each_line():
    bus = EventBus()
    batched: list[object] = []
    single: list[object] = []
    bus.subscribe(batched.append, batches=True)
    unsubscribe = bus.subscribe(single.append)
    batch = LogBatch("e", "tr", "t", "INFO", ("a", "b", "c"), T0)
    bus.publish(batch)
    assert batched == [batch]
    assert single == [LogLine("e", "tr", "t", "INFO", m, T0) for m in ("a", "b", "c")]
    unsubscribe()
    bus.publish(batch)
    assert len(single) == 3 and len(batched) == 2


def test_protocol_lines_inside_a_read_are_parsed_in_place_and_not_logged(engine):
    result = engine.run(HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - printf 'one\\ntwo\\n::{"outputs":{"a":1}}::\\nthree\\n::{"logs":[{"level":"WARN","message":"w"}]}::\\nfour\\n'
""")
    assert result.logs("sh", min_level="INFO") == ["one", "two", "three", "w", "four"]
    assert result.run_of("sh").outputs["vars"] == {"a": 1}
    assert result.run_of("sh").outputs["stdOutLineCount"] == 4
    stored = [(level, m) for level, m, task in _stored(engine, result.execution.id) if task == "sh"]
    assert stored == [("INFO", "one"), ("INFO", "two"), ("INFO", "three"), ("WARN", "w"), ("INFO", "four")]


def test_stderr_lines_of_a_read_are_errors_and_keep_their_order(engine):
    result = engine.run(HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - seq 3 >&2
""")
    stored = [(level, m) for level, m, task in _stored(engine, result.execution.id) if task == "sh"]
    assert stored == [("ERROR", "1"), ("ERROR", "2"), ("ERROR", "3")]
    assert result.run_of("sh").outputs["stdErrLineCount"] == 3


def test_a_secret_printed_in_a_flood_is_masked_in_events_and_history(tmp_path):
    secret = "hunter2-secret"
    engine = Engine(tmp_path / "home", tmp_path,
                    environ={**os.environ, "SECRET_TOKEN": base64.b64encode(secret.encode()).decode()})
    try:
        execution, batches = _run_batched(engine, HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      TOKEN: "{{ secret('TOKEN') }}"
    commands:
      - for i in $(seq 2000); do echo "line $i token=$TOKEN"; done
""")
        lines = [m for b in batches if b.task_id == "sh" for m in b.messages]
        assert lines == [f"line {i} token={MASK}" for i in range(1, 2001)]
        stored = [m for _level, m, task in _stored(engine, execution.id) if task == "sh"]
        assert stored == lines
    finally:
        engine.close()


def test_console_prints_a_batch_as_one_line_per_message_with_the_same_prefix():
    stream = io.StringIO()
    printer = LogPrinter(stream)
    printer(LogBatch("e", "tr", "task", "INFO", ("a", "b"), T0))
    printer(LogLine("e", "tr", "task", "ERROR", "c", T0))
    printer(LogBatch("e", "tr", "task", "DEBUG", ("hidden",), T0))
    clock = T0.astimezone().strftime("%H:%M:%S.%f")[:-3]
    assert stream.getvalue() == (f"{clock} task INFO  a\n{clock} task INFO  b\n{clock} task ERROR c\n")


def test_history_keeps_the_order_of_single_lines_and_batches(tmp_path):
    history = History(tmp_path / "history.db")
    bus = EventBus()
    history.attach(bus)
    bus.publish(LogLine("e", "tr", "t", "INFO", "first", T0))
    bus.publish(LogBatch("e", "tr", "t", "ERROR", ("second", "", "third é 😀"), T0))
    bus.publish(LogLine("e", "tr", "t", "INFO", "fourth", T0))
    history.flush()
    try:
        assert [(r.level, r.message) for r in history.logs("e")] == [
            ("INFO", "first"), ("ERROR", "second"), ("ERROR", ""), ("ERROR", "third é 😀"), ("INFO", "fourth")]
        assert history.count_logs("e") == 5
    finally:
        history.close()


def test_history_writes_batches_without_sqlite_json_too(tmp_path, monkeypatch):
    monkeypatch.setattr(history_logs, "has_json_each", lambda: False)
    history = History(tmp_path / "history.db")
    bus = EventBus()
    history.attach(bus)
    bus.publish(LogBatch("e", None, None, "INFO", ("x", "y"), T0))
    history.flush()
    try:
        assert [r.message for r in history.logs("e")] == ["x", "y"]
    finally:
        history.close()


def test_the_history_backlog_is_bounded_in_lines_not_events():
    queue = WriteQueue(max_lines=100, window_seconds=0.0)
    queue.put("batch of 100", lines=100)
    second_put = threading.Thread(target=queue.put, args=("next", 5))
    second_put.start()
    second_put.join(0.2)
    assert second_put.is_alive()  # 100 lines wait: the publisher waits for the writer
    assert queue.take() == ["batch of 100"]
    second_put.join(10)
    assert not second_put.is_alive()
    assert (queue.writing, queue.backlog) == (100, 5)  # the batch being written, the one waiting
    queue.written()
    assert queue.writing == 0
    assert queue.take() == ["next"]


def test_a_flush_does_not_wait_out_the_batch_window():
    queue = WriteQueue(max_lines=100, window_seconds=3600.0)
    queue.put("event")
    queue.put_urgent("flush")
    assert queue.take() == ["event", "flush"]


def test_a_burst_of_eager_items_events_is_taken_without_waiting_out_the_window():
    queue = WriteQueue(max_lines=100_000, window_seconds=3600.0)
    events = [f"state {i}" for i in range(WriteQueue.EAGER_ITEMS)]
    for event in events:
        queue.put(event)
    assert queue.take() == events  # an hour's window, yet taken at once


def test_a_writer_waiting_out_the_window_is_woken_by_the_burst():
    queue = WriteQueue(max_lines=100_000, window_seconds=3600.0)
    taken: list[list[str]] = []
    writer = threading.Thread(target=lambda: taken.append(queue.take()))
    queue.put("first")
    writer.start()
    for i in range(WriteQueue.EAGER_ITEMS - 1):
        queue.put(f"state {i}")
    writer.join(30)
    assert not writer.is_alive() and len(taken[0]) == WriteQueue.EAGER_ITEMS


def test_line_splitter_batches_reads_like_lines_one_by_one():
    got: list[tuple[str, list[str]]] = []
    splitter = LineSplitter("stdout", lambda stream, lines: got.append((stream, lines)))
    splitter.feed(b"a\r\nb\x00\n\npart")
    splitter.feed(b"ial \xc3")
    splitter.feed(b"\xa9\nlast")
    splitter.finish()
    assert got == [("stdout", ["a", "b\ufffd", ""]), ("stdout", ["partial é"]), ("stdout", ["last"])]


def test_line_splitter_cuts_a_huge_line_into_pieces_before_the_lines_after_it():
    got: list[str] = []
    splitter = LineSplitter("stdout", lambda _stream, lines: got.extend(lines))
    for _ in range(3):
        splitter.feed(b"x" * (MAX_CHUNK // 2 + 1))
    splitter.feed(b"\nnext\n")
    assert [len(piece) for piece in got[:-1]] == [MAX_CHUNK, 3 * (MAX_CHUNK // 2 + 1) - MAX_CHUNK]
    assert got[-1] == "next"


def test_a_writer_past_its_window_goes_when_the_executor_blocks_on_a_process():
    """`until_idle`: the window has passed, the writer waits for `idle()` (the executor now
    waits for its task's process) rather than taking the GIL while the executor is busy."""
    queue = WriteQueue(max_lines=100, window_seconds=0.0, until_idle=True, idle_grace_seconds=3600.0)
    taken: list[list[str]] = []
    queue.put("event")
    writer = threading.Thread(target=lambda: taken.append(queue.take()), daemon=True)
    writer.start()
    deadline = time.monotonic() + 60
    while not queue.waiting_for_idle and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue.waiting_for_idle and writer.is_alive()
    queue.idle()
    writer.join(60)
    assert taken == [["event"]]


def test_a_writer_told_of_no_idle_moment_goes_one_window_later():
    queue = WriteQueue(max_lines=100, window_seconds=0.05, until_idle=True)
    queue.put("event")
    assert queue.take() == ["event"]  # a Return-only flow: no process, no idle(), yet written


def test_idle_with_no_writer_waiting_changes_nothing():
    queue = WriteQueue(max_lines=100, window_seconds=3600.0, until_idle=True)
    queue.idle()
    queue.put("event")
    queue.put_urgent("flush")
    assert queue.take() == ["event", "flush"]
