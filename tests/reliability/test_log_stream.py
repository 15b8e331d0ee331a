"""Logs are never cut silently: `roost execution ID --logs` prints every line of a run that
printed more than the history's old 100,000-line page, and `--tail N` says what it left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.conftest import roost

LOGS_WHOLE = pytest.mark.reliability(
    "Bad input: more output than a page",
    "150,000 log lines printed back whole by `roost execution --logs`; `--tail N` names what it left out")

LINES = 150_000
FLOW = f"""
id: chatty
namespace: reliability.logs
tasks:
  - id: count
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - seq {LINES}
"""


@pytest.fixture(scope="module")
def chatty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One long run for the whole module: (its ROOST_HOME, its execution id)."""
    folder = tmp_path_factory.mktemp("chatty")
    home = folder / "home"
    flow = folder / "chatty.yml"
    flow.write_text(FLOW)
    result = roost("run", str(flow), "--json", home=home, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return home, str(json.loads(result.stdout)["id"])


@LOGS_WHOLE
def test_execution_logs_prints_every_line_of_a_long_run(chatty):
    home, chatty_execution = chatty
    result = roost("execution", chatty_execution, "--logs", home=home, timeout=300)
    assert result.returncode == 0, result.stderr
    numbers = [line.rsplit(" ", 1)[-1] for line in result.stdout.splitlines() if " count INFO " in line]
    assert numbers == [str(n) for n in range(1, LINES + 1)]
    assert "not shown" not in result.stdout


@LOGS_WHOLE
def test_execution_tail_prints_the_last_lines_after_saying_how_many_it_left_out(chatty):
    home, chatty_execution = chatty
    everything = roost("execution", chatty_execution, "--logs", home=home, timeout=300).stdout.splitlines()
    result = roost("execution", chatty_execution, "--tail", "5", home=home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    said = next(line for line in lines if "not shown" in line)
    log_lines = [line for line in everything if line[:4].isdigit()]  # dated lines, after the summary
    assert said == (f"... {len(log_lines) - 5} earlier log line(s) not shown (--tail 5; --logs alone "
                    f"prints all {len(log_lines)})")
    assert lines[lines.index(said) + 1:] == log_lines[-5:]


@LOGS_WHOLE
def test_a_negative_tail_is_a_usage_error(chatty):
    home, chatty_execution = chatty
    result = roost("execution", chatty_execution, "--tail", "-1", home=home)
    assert result.returncode == 2
    assert "--tail takes a number of lines, 0 or more" in result.stderr
