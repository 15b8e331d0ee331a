"""Faults around processes: `kill -9` of roost, Ctrl-C, daemons left behind by a task.

Each flow's task processes carry a unique marker in their environment, so /proc tells
whether any of them (a `setsid` daemon, a child that ignores SIGTERM) outlived the run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.conftest import roost, start_roost, wait_for_line, wait_until_gone

pytestmark = pytest.mark.slow

KILL = pytest.mark.reliability("Fault: kill -9 of roost mid-run",
                               "history opens, execution KILLED, logs up to the kill, no survivor")
CTRL_C = pytest.mark.reliability("Fault: Ctrl-C in roost run",
                                 "exit 130, execution KILLED in history, processes stopped")
DAEMON = pytest.mark.reliability("Fault: script forks a daemon and exits",
                                 "the daemon is killed when its task ends")


def stubborn_flow(marker: str) -> str:
    """A task that logs, leaves a setsid daemon and a SIGTERM-ignoring child, then sleeps."""
    return f"""
id: stubborn
namespace: reliability.faults
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: logged before the fault
  - id: work
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      MARK: {marker}
    commands:
      - setsid sleep 300 > /dev/null 2>&1 < /dev/null &
      - sh -c "trap '' TERM; sleep 300" &
      - for i in 1 2 3; do echo "progress $i"; done
      - echo ready
      - sleep 300
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: never reached
"""


def execution_from_history(home: Path) -> dict:
    listed = roost("executions", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    executions = json.loads(listed.stdout)
    assert len(executions) == 1
    shown = roost("execution", executions[0]["id"], "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def logged_messages(home: Path, execution_id: str | None = None) -> list[str]:
    """The log lines committed to the history (of one execution, or of all)."""
    with sqlite3.connect(home / "history.db") as db:
        if execution_id is None:
            rows = db.execute("SELECT message FROM logs ORDER BY id")
        else:
            rows = db.execute("SELECT message FROM logs WHERE execution_id=? ORDER BY id", (execution_id,))
        return [m for (m,) in rows]


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_spinning(pid: int, cpu: float = 1.0, timeout: float = 60) -> None:
    """Wait until the process has burnt ``cpu`` more seconds of CPU: a loop that never ends
    (roost's own work between two tasks, imports included, is a fraction of that)."""
    start = cpu_seconds(pid)
    deadline = time.monotonic() + timeout
    while cpu_seconds(pid) - start < cpu:
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} never spun: {cpu_seconds(pid) - start:.2f} s of CPU")
        time.sleep(0.05)


def wait_for_history(home: Path, committed: Callable[[list[str]], bool], what: str,
                     timeout: float = 60) -> None:
    """Poll the history (WAL: readable while roost writes) until ``committed(its log lines)``."""
    deadline = time.monotonic() + timeout
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            messages = logged_messages(home)
        except sqlite3.OperationalError:  # not created yet
            messages = []
        if committed(messages):
            return
        time.sleep(0.05)
    raise AssertionError(f"the history never held {what}; it holds {len(messages)} lines, "
                         f"the last ones: {messages[-5:]}")


def integrity(home: Path) -> str:
    with sqlite3.connect(home / "history.db") as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


@KILL
def test_kill_9_mid_task_leaves_a_killed_execution_with_its_logs_and_no_survivor(home, flows):
    marker = f"roost-kill9-{uuid.uuid4().hex}"
    flow = flows / "stubborn.yml"
    flow.write_text(stubborn_flow(marker))
    proc = start_roost("run", str(flow), home=home)
    try:
        wait_for_line(proc, "ready")
        # killed once "ready" is committed (the writer commits in batches, every 20 ms)
        wait_for_history(home, lambda messages: "ready" in messages, "the line 'ready'")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
    finally:
        proc.kill()
        proc.communicate()
    assert wait_until_gone(marker) == [], "task processes outlived a kill -9 of roost"

    execution = execution_from_history(home)
    assert execution["state"]["current"] == "KILLED"
    assert execution["state"]["histories"][-1]["state"] == "KILLED"
    runs = {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}
    assert runs == {"before": "SUCCESS", "work": "KILLED"}
    messages = logged_messages(home, execution["id"])
    assert messages[:5] == ["logged before the fault", "progress 1", "progress 2", "progress 3", "ready"]
    assert "the roost process running this execution stopped; marked KILLED" in messages
    text = roost("execution", execution["id"], "--logs", home=home)
    assert "KILLED" in text.stdout and "progress 3" in text.stdout
    assert integrity(home) == "ok"


@KILL
def test_kill_9_during_a_log_flood_keeps_every_committed_line_in_order(home, flows):
    """Batches are transactions: after the kill the logs are exactly lines 1..N, no gap, no torn row."""
    flow = flows / "flood.yml"
    flow.write_text("""
id: flood
namespace: reliability.faults
tasks:
  - id: count
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo go
      - seq 1 100000000
""")
    proc = start_roost("run", str(flow), home=home)
    try:
        wait_for_line(proc, "go")
        # killed mid-flood, once more than 1,000 lines are committed
        wait_for_history(home, lambda messages: sum(m.isdigit() for m in messages) > 1000,
                         "more than 1,000 numbers")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
    finally:
        proc.kill()
        proc.communicate()
    assert integrity(home) == "ok"
    execution = execution_from_history(home)
    assert execution["state"]["current"] == "KILLED"
    numbers = [m for m in logged_messages(home, execution["id"]) if m.isdigit()]
    assert len(numbers) > 1000
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]
    assert wait_until_gone("seq 1 100000000") == []


@CTRL_C
def test_ctrl_c_cancels_the_execution_stops_stubborn_processes_and_exits_130(home, flows):
    marker = f"roost-ctrlc-{uuid.uuid4().hex}"
    flow = flows / "stubborn.yml"
    flow.write_text(stubborn_flow(marker))
    proc = start_roost("run", str(flow), "--json", home=home)
    try:
        wait_for_line(proc, "ready")
        proc.send_signal(signal.SIGINT)
        # a run that does not stop fails here (the task itself would sleep 300 s)
        out, err = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert json.loads(out)["state"]["current"] == "KILLED"
    assert wait_until_gone(marker) == []
    execution = execution_from_history(home)
    assert execution["state"]["current"] == "KILLED"
    runs = {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}
    assert runs == {"before": "SUCCESS", "work": "KILLED"}
    assert "progress 3" in logged_messages(home, execution["id"])


@DAEMON
def test_daemon_forked_by_a_script_dies_when_its_task_ends_not_with_roost(home, flows):
    marker = f"roost-daemon-{uuid.uuid4().hex}"
    flow = flows / "daemon.yml"
    flow.write_text(f"""
id: daemon
namespace: reliability.faults
tasks:
  - id: spawn
    type: io.kestra.plugin.scripts.python.Script
    env:
      MARK: {marker}
    script: |
      import os, subprocess
      subprocess.Popen(["sleep", "300"], start_new_session=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
      if os.fork() == 0:  # a classic double-fork daemon
          os.setsid()
          if os.fork() == 0:
              os.execvp("sleep", ["sleep", "301"])
          os._exit(0)
      print("spawned")
  - id: check
    type: io.kestra.plugin.scripts.python.Script
    script: |
      import os
      alive = []
      for pid in filter(str.isdigit, os.listdir("/proc")):
          try:
              with open(f"/proc/{{pid}}/environ", "rb") as f:
                  if b"{marker}" in f.read():
                      alive.append(pid)
          except OSError:
              pass
      print("survivors:", len(alive))
""")
    result = roost("run", str(flow), home=home)
    assert result.returncode == 0, result.stderr
    assert "spawn INFO  spawned" in result.stderr
    assert "check INFO  survivors: 0" in result.stderr
    assert wait_until_gone(marker) == []


@CTRL_C
def test_a_second_ctrl_c_ends_roost_even_inside_a_call_that_never_returns(home, flows):
    """A jq program that loops holds the GIL: Python cannot run its Ctrl-C handler at all.
    The orphan guard hears the signals through the wakeup fd and ends Roost after the second."""
    from engine.runners.orphans import FORCE_STOP_SECONDS

    marker = f"roost-stuck-{uuid.uuid4().hex}"
    flow = flows / "stuck.yml"
    flow.write_text(f"""
id: stuck
namespace: reliability.faults
tasks:
  - id: background
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      MARK: {marker}
    commands:
      - setsid sleep 300 > /dev/null 2>&1 < /dev/null &
      - echo started
  - id: spin
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ 1 | jq('until(false; .)') }}}}"
""")
    proc = start_roost("run", str(flow), home=home)
    try:
        wait_for_line(proc, "started")
        wait_until_spinning(proc.pid)  # now inside jq, holding the GIL
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        # roost never returns from jq by itself: only the orphan guard's forced stop ends it
        proc.wait(FORCE_STOP_SECONDS + 60)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode in (130, -signal.SIGKILL)
    execution = execution_from_history(home)
    assert execution["state"]["current"] == "KILLED"
    assert wait_until_gone(marker) == []
