"""History in SQLite: what a run leaves behind, and what a crash leaves behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from engine.core.states import State
from engine.store.history import History, connect
from tests.conftest import leftover_processes

HEADER = "id: h\nnamespace: company.team\n"


def test_execution_task_runs_and_logs_are_persisted(engine):
    result = engine.run(HEADER + """
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: hello history
  - id: b
    type: io.kestra.plugin.core.debug.Return
    format: "42"
""")
    engine.runtime.history.flush()
    history = History(engine.home.history_db)
    try:
        stored = history.get_execution(result.execution.id)
        assert stored is not None and stored.state is State.SUCCESS
        assert [h.state for h in stored.histories] == [State.CREATED, State.RUNNING, State.SUCCESS]
        runs = history.task_runs(result.execution.id)
        assert [(r.task_id, r.state, r.outputs) for r in runs] == [
            ("a", State.SUCCESS, {}), ("b", State.SUCCESS, {"value": "42"})]
        assert [log.message for log in history.logs(result.execution.id, runs[0].id)] == ["hello history"]
        assert history.list_executions()[0].id == result.execution.id
        assert history.get_execution(result.execution.id[:10]).id == result.execution.id
    finally:
        history.close()


def test_an_execution_is_in_the_history_before_its_first_task_runs(engine):
    """A task that holds the GIL for good (a jq loop) stops the history writer too, and the
    forced stop then leaves only what was committed: the execution must be among it."""
    from engine.core.events import TaskRunChanged

    seen: list[tuple[str, ...]] = []

    def look_when_the_first_task_starts(event) -> None:
        if isinstance(event, TaskRunChanged) and not seen:
            with sqlite3.connect(engine.home.history_db) as db:
                seen.append(tuple(state for (state,) in db.execute("SELECT state FROM executions")))

    engine.run(HEADER + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n",
               on_event=look_when_the_first_task_starts)
    assert seen == [("RUNNING",)]


def test_database_uses_wal_journal(engine):
    engine.run(HEADER + "tasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
    engine.runtime.history.flush()
    mode = sqlite3.connect(engine.home.history_db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"



def test_a_new_history_db_turns_to_wal_once_another_process_lets_go_instead_of_failing_locked(tmp_path: Path):
    """Two `roost run`s started together on a new ROOST_HOME: the second one's switch to WAL
    used to fail at once with 'database is locked' (SQLite skips its busy handler there)."""
    path = tmp_path / "history.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE early (x)")
    holder.execute("BEGIN")
    holder.execute("SELECT * FROM early").fetchall()  # a read lock on a rollback-journal file
    released = threading.Event()

    def let_go() -> None:
        time.sleep(0.3)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=let_go).start()
    connection = connect(path)
    assert released.is_set()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA page_size").fetchone()[0] == 4096  # a file with a table keeps its pages
    connection.close()
    holder.close()


CRASH_FLOW = HEADER.replace("id: h", "id: crash") + """
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: logged before the crash
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo started
      - sleep 60
"""


def test_killed_process_leaves_readable_history_marked_killed(tmp_path: Path):
    flow = tmp_path / "crash.yml"
    flow.write_text(CRASH_FLOW)
    home = tmp_path / "home"
    env = {**os.environ, "ROOST_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "run", str(flow)], env=env,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 20
    seen = ""
    while "started" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    assert "started" in seen
    time.sleep(0.3)  # let the history writer commit the RUNNING rows
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    history = History(home / "history.db")  # opening it marks orphans KILLED
    try:
        execution = history.list_executions()[0]
        assert execution.state is State.KILLED
        runs = {r.task_id: r.state for r in history.task_runs(execution.id)}
        assert runs == {"before": State.SUCCESS, "slow": State.KILLED}
        messages = [log.message for log in history.logs(execution.id)]
        assert "logged before the crash" in messages and "started" in messages
    finally:
        history.close()
    # The sleep child died with its parent (PR_SET_PDEATHSIG / process group): no orphan left.
    time.sleep(0.5)
    assert leftover_processes("ROOST_HOME", str(home)) == []


def test_two_processes_share_one_roost_home(tmp_path: Path):
    flow = tmp_path / "f.yml"
    flow.write_text(HEADER + """
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["1","2","3","4","5","6","7","8","9","10"]
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}"
""")
    env = {**os.environ, "ROOST_HOME": str(tmp_path / "home")}
    procs = [subprocess.Popen([sys.executable, "-m", "engine.cli", "run", str(flow)], env=env,
                              stderr=subprocess.DEVNULL) for _ in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    history = History(tmp_path / "home" / "history.db")
    try:
        executions = history.list_executions()
        assert len(executions) == 3 and all(e.state is State.SUCCESS for e in executions)
        for execution in executions:
            assert len(history.task_runs(execution.id)) == 11
            assert len(history.logs(execution.id)) == 10
    finally:
        history.close()


LOGGING_FLOW = HEADER.replace("id: h", "id: filling") + """
tasks:
  - id: talk
    type: io.kestra.plugin.core.log.Log
    message: a line the full disk loses
  - id: later
    type: io.kestra.plugin.core.log.Log
    message: not reached
"""


def test_on_a_nearly_full_disk_a_task_waits_for_its_lines_so_that_losing_them_fails_it(tmp_path: Path, monkeypatch):
    """The writer is a batch window behind: without waiting, the lines of a task that ended are
    found lost only after it succeeded (seen under load on a 2 MB disk)."""
    from engine.store.history_logs import LogRows
    from tests.conftest import Engine

    def disk_full(self, connection):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(History, "BATCH_SECONDS", 30.0)  # the lines would still wait at the task's end
    monkeypatch.setattr(History, "low_on_space", lambda self: True)
    monkeypatch.setattr(LogRows, "insert", disk_full)
    (tmp_path / "flows").mkdir()
    engine = Engine(tmp_path / "home", tmp_path / "flows")
    try:
        result = engine.run(LOGGING_FLOW)
        runs = {run.task_id: run.state for run in result.task_runs}
        assert runs == {"talk": State.FAILED}
        assert result.execution.state is State.FAILED
    finally:
        engine.close()


def test_low_on_space_compares_the_free_space_of_the_history_disk_with_the_limit(tmp_path: Path, monkeypatch):
    history = History(tmp_path / "history.db")
    try:
        monkeypatch.setattr(History, "LOW_SPACE_BYTES", 1 << 62)
        assert history.low_on_space()
        monkeypatch.setattr(History, "LOW_SPACE_BYTES", 0)
        history._space_checked_at = -History.SPACE_CHECK_SECONDS  # look again now
        assert not history.low_on_space()
    finally:
        history.close()

