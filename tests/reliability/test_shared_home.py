"""Two `roost` processes on one ROOST_HOME at once: both work, no row is lost or corrupted."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from tests.reliability.conftest import assert_no_traceback, roost, start_roost

SHARED = pytest.mark.reliability("Fault: two roost processes, one ROOST_HOME",
                                 "both runs complete with all their logs; integrity_check ok")

LINES = 20000

FLOW = f"""
id: busy
namespace: reliability.shared
tasks:
  - id: work
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["result.txt"]
    tasks:
      - id: chatter
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          # Each run waits for the other to start, so the two always write at the same time
          # however fast either one is.
          - touch "$MEET/$RUN.started"
          - for i in $(seq 1 600); do [ -e "$MEET/first.started" ] && [ -e "$MEET/second.started" ] && break; sleep 0.1; done
          - '[ -e "$MEET/first.started" ] && [ -e "$MEET/second.started" ] || {{ echo "the other run never started" >&2; exit 1; }}'
          - for i in $(seq 1 {LINES}); do echo "$RUN line $i"; done
          - echo "$RUN" > result.txt
        env:
          RUN: "{{{{ inputs.run }}}}"
          MEET: "{{{{ inputs.meet }}}}"
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c", "d", "e", "f", "g", "h"]
    concurrencyLimit: 4
    tasks:
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: "{{{{ inputs.run }}}} {{{{ taskrun.value }}}}"
inputs:
  - id: run
    type: STRING
  - id: meet
    type: STRING
"""


@SHARED
@pytest.mark.slow
def test_two_concurrent_runs_and_a_reader_share_one_home_without_losing_a_row(home, flows):
    flow = flows / "busy.yml"
    flow.write_text(FLOW)
    procs = {}
    for run in ("first", "second"):
        with (flows / f"{run}.out").open("w") as out, (flows / f"{run}.err").open("w") as err:
            procs[run] = start_roost("run", str(flow), "-i", f"run={run}", "-i", f"meet={flows}", "--json", home=home,
                                     stdout=out, stderr=err)
    # A third process reads the history while both write to it.
    reads = 0
    while any(p.poll() is None for p in procs.values()):
        listed = roost("executions", "--json", home=home)
        assert listed.returncode == 0, listed.stderr
        json.loads(listed.stdout)
        reads += 1
        time.sleep(0.05)
    outputs = {}
    for run, proc in procs.items():
        proc.wait(60)
        out, err = (flows / f"{run}.out").read_text(), (flows / f"{run}.err").read_text()
        assert_no_traceback(err)
        assert proc.returncode == 0, err[-2000:]
        outputs[run] = json.loads(out)
    assert reads >= 1
    spans = [(e["state"]["histories"][0]["date"], e["state"]["histories"][-1]["date"]) for e in outputs.values()]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1], f"the runs did not overlap: {spans}"

    with sqlite3.connect(home / "history.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        for run, execution in outputs.items():
            (state,) = db.execute("SELECT state FROM executions WHERE id=?", (execution["id"],)).fetchone()
            assert state == "SUCCESS"
            lines = [m for (m,) in db.execute(
                "SELECT message FROM logs WHERE execution_id=? AND task_id='chatter' ORDER BY id",
                (execution["id"],))]
            assert lines == [f"{run} line {i}" for i in range(1, LINES + 1)]
            each = sorted(m for (m,) in db.execute(
                "SELECT message FROM logs WHERE execution_id=? AND task_id='log'", (execution["id"],)))
            assert each == [f"{run} {v}" for v in "abcdefgh"]
            runs = db.execute("SELECT state, count(*) FROM task_runs WHERE execution_id=? GROUP BY state",
                              (execution["id"],)).fetchall()
            assert runs == [("SUCCESS", 11)]
    for run, execution in outputs.items():
        uri = next(r for r in execution["taskRunList"] if r["taskId"] == "work")["outputs"]["outputFiles"]["result.txt"]
        stored = roost("storage", "get", uri, home=home)
        assert stored.returncode == 0 and stored.stdout == f"{run}\n"
