"""A full disk under ROOST_HOME: the task fails with a clear message, the history stays consistent.

A small tmpfs is mounted as ROOST_HOME (or as its storage/) when the tests may mount
(root); elsewhere they skip with the reason, and fail under CI=true.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_in_ci
from tests.reliability.conftest import roost

DISK_FULL = pytest.mark.reliability("Fault: disk full",
                                    "task fails with a clear message, history consistent, work kept")


@pytest.fixture
def small_disk() -> Iterator[Callable[[Path, str], Path]]:
    """mount(path, size): a tmpfs of `size` at `path`, unmounted after the test."""
    mounted: list[Path] = []

    def mount(path: Path, size: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            require_in_ci(f"cannot mount a small tmpfs to fill up (needs root): {result.stderr.strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def history_rows(home: Path) -> tuple[str, dict[str, str], dict[str, int]]:
    with sqlite3.connect(home / "history.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (state,) = db.execute("SELECT state FROM executions").fetchone()
        runs = dict(db.execute("SELECT task_id, state FROM task_runs").fetchall())
        logs = dict(db.execute("SELECT task_id, count(*) FROM logs GROUP BY task_id").fetchall())
    return state, runs, logs


@DISK_FULL
def test_a_task_filling_the_disk_fails_and_its_end_is_still_recorded(small_disk, tmp_path, flows):
    home = small_disk(tmp_path / "home", "2m")
    flow = flows / "fill.yml"
    flow.write_text("""
id: fill
namespace: reliability.disk
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before the disk fills
  - id: fill
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo writing
      - head -c 3000000 /dev/zero > big.bin
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: not reached
""")
    result = roost("run", str(flow), "--json", home=home)
    assert result.returncode == 1
    assert "fill ERROR head: error writing 'standard output': No space left on device" in result.stderr
    assert "fill ERROR Command failed with exit code 1" in result.stderr
    assert json.loads(result.stdout)["state"]["current"] == "FAILED"
    state, runs, logs = history_rows(home)
    assert state == "FAILED"
    assert runs == {"before": "SUCCESS", "fill": "FAILED"}
    assert logs["before"] == 1
    listed = roost("executions", home=home)
    assert listed.returncode == 0 and "FAILED" in listed.stdout


@DISK_FULL
def test_log_lines_lost_to_a_full_disk_fail_their_task_and_the_states_are_kept(small_disk, tmp_path, flows):
    home = small_disk(tmp_path / "home", "2m")
    flow = flows / "chatty.yml"
    flow.write_text("""
id: chatty
namespace: reliability.disk
tasks:
  - id: fill
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - head -c 3000000 /dev/zero > big.bin 2>/dev/null || true
  - id: chatty
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - for i in $(seq 1 20000); do echo "line $i, padded to be longer than a short line is ......"; done
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: not reached
""")
    result = roost("run", str(flow), home=home)
    assert result.returncode == 1
    assert "log line(s) of this task could not be saved in" in result.stderr
    assert "database or disk is full" in result.stderr
    assert "warning: history:" in result.stderr
    state, runs, _logs = history_rows(home)
    assert state == "FAILED"
    assert runs == {"fill": "SUCCESS", "chatty": "FAILED"}
    shown = roost("executions", "--json", home=home)
    assert shown.returncode == 0 and json.loads(shown.stdout)[0]["state"]["current"] == "FAILED"


@DISK_FULL
def test_storage_full_while_capturing_output_files_fails_clearly_and_leaves_no_half_file(
        small_disk, tmp_path, flows):
    home = tmp_path / "home"
    storage = small_disk(home / "storage", "1m")
    flow = flows / "capture.yml"
    flow.write_text("""
id: capture
namespace: reliability.disk
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["*.bin"]
    commands:
      - head -c 2000000 /dev/urandom > big.bin
""")
    result = roost("run", str(flow), "--json", home=home)
    assert result.returncode == 1
    assert "produce ERROR cannot store output file 'big.bin': No space left on device (it stays in " \
        in result.stderr
    assert [p for p in storage.rglob("*") if p.is_file()] == []  # no truncated big.bin behind a URI
    kept = list((home / "workdirs").rglob("big.bin"))
    assert len(kept) == 1 and kept[0].stat().st_size == 2_000_000  # the user's work is not lost
    state, runs, _logs = history_rows(home)
    assert (state, runs) == ("FAILED", {"produce": "FAILED"})
