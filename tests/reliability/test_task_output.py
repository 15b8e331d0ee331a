"""What a task prints, however hostile, is logged safely through a whole run with history.

A 100 MB line arrives in pieces of at most 1 MiB (MAX_CHUNK), binary garbage and invalid
UTF-8 are replaced, NUL bytes never reach SQLite or the terminal, and the run still ends
SUCCESS with every piece in history, in order.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.runners.process import MAX_CHUNK
from tests.conftest import REPO_ROOT
from tests.reliability.conftest import assert_no_traceback, roost, roost_env

OUTPUT = pytest.mark.reliability("Fault: hostile task output",
                                 "100 MB line, binary garbage, invalid UTF-8 logged safely; run ends SUCCESS")


def run_to_files(flow: Path, home: Path, tmp_path: Path) -> tuple[int, Path]:
    """`roost run` with stderr in a file: 100 MB of log lines is too much for a pipe buffer in memory."""
    err = tmp_path / "stderr.txt"
    with err.open("wb") as sink:
        code = subprocess.run([sys.executable, "-m", "engine.cli", "run", str(flow)], stdout=subprocess.DEVNULL,
                              stderr=sink, env=roost_env(home), cwd=REPO_ROOT, timeout=120).returncode
    return code, err


def task_logs(home: Path, task_id: str, level: str = "INFO") -> list[str]:
    """One stream's lines (stdout is INFO, stderr ERROR): the two streams interleave freely."""
    with sqlite3.connect(home / "history.db") as db:
        return [m for (m,) in db.execute("SELECT message FROM logs WHERE task_id=? AND level=? ORDER BY id",
                                         (task_id, level))]


@OUTPUT
@pytest.mark.slow
def test_a_100_mb_line_is_logged_in_1_mib_pieces_and_the_run_succeeds(home, flows, tmp_path):
    flow = flows / "huge.yml"
    flow.write_text("""
id: huge
namespace: reliability.output
tasks:
  - id: shout
    type: io.kestra.plugin.scripts.python.Script
    script: |
      import sys
      out = sys.stdout.buffer
      out.write(b"start\\n")
      block = (b"0123456789abcdef" * 65536)  # 1 MiB
      for _ in range(100):
          out.write(block)
      out.write(b"\\nend\\n")
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: still here
""")
    code, err = run_to_files(flow, home, tmp_path)
    with err.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
        handle.seek(-4096, 2)
        tail = handle.read().decode("utf-8", "replace")
    assert_no_traceback(head + tail)
    assert code == 0, tail
    assert "after INFO  still here" in tail
    logs = task_logs(home, "shout")
    assert logs[0] == "start" and logs[-1] == "end"
    pieces = logs[1:-1]
    assert all(len(p) <= MAX_CHUNK for p in pieces)
    assert sum(len(p) for p in pieces) == 100 * MAX_CHUNK
    assert "".join(pieces[:2]).startswith("0123456789abcdef0123")


@OUTPUT
def test_binary_garbage_invalid_utf8_and_nul_bytes_are_replaced_not_fatal(home, flows):
    flow = flows / "garbage.yml"
    flow.write_text("""
id: garbage
namespace: reliability.output
tasks:
  - id: spew
    type: io.kestra.plugin.scripts.python.Script
    script: |
      import os, random, sys
      out = sys.stdout.buffer
      random.seed(8)
      out.write(b"before\\n")
      out.write(bytes(random.randrange(256) for _ in range(200000)))
      out.write(b"\\ninvalid:\\xff\\xfe\\xc3\\x28 nul:\\x00 esc:\\x1b[2J\\x1b]0;title\\x07 cr:\\r\\n")
      out.write(b"half a char \\xe2\\x82")
      out.flush()
      sys.stderr.buffer.write(b"stderr \\x00\\xff\\n")
      out.write(b"\\nafter\\n")
  - id: next
    type: io.kestra.plugin.core.log.Log
    message: still here
""")
    result = roost("run", str(flow), "--json", home=home)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "next INFO  still here" in result.stderr
    logs = task_logs(home, "spew")
    assert logs[0] == "before" and logs[-1] == "after"
    assert all("\x00" not in line for line in logs)
    invalid = next(line for line in logs if line.startswith("invalid:"))
    assert invalid.startswith("invalid:\ufffd\ufffd\ufffd(")
    assert "nul:\ufffd" in invalid and not invalid.endswith("\r")
    assert "half a char \ufffd" in logs
    assert task_logs(home, "spew", "ERROR") == ["stderr \ufffd\ufffd"]
    with sqlite3.connect(home / "history.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    shown = roost("execution", json.loads(result.stdout)["id"], "--logs", home=home)
    assert shown.returncode == 0 and "after" in shown.stdout
