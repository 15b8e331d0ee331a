"""The `roost` command where no one is looking: pipes, CI, and what it prints there."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import roost


def test_roost_without_a_terminal_says_how_to_run_headless_and_exits_2(tmp_path: Path):
    result = roost("sample_flows", home=tmp_path / "home")  # stdin/stdout are pipes here
    assert result.returncode == 2
    assert "the workbench needs a terminal" in result.stderr and "roost run FLOW" in result.stderr
    assert "\x1b[" not in result.stdout + result.stderr  # no escape codes written anywhere


def test_roost_execution_names_the_runner_that_ran_each_task(tmp_path: Path):
    home = tmp_path / "home"
    flow = tmp_path / "runner.yml"
    flow.write_text("""id: runner
namespace: company.team
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands: ["echo hi"]
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: done
""")
    run = roost("run", str(flow), "--json", home=home)
    assert run.returncode == 0, run.stderr
    execution = json.loads(run.stdout)
    runner = {r["taskId"]: r.get("runner") for r in execution["taskRunList"]}["shell"]
    assert runner
    text = roost("execution", execution["id"], home=home).stdout
    shell_line = next(line for line in text.splitlines() if " shell " in line)
    assert f"on {runner}" in shell_line
    log_line = next(line for line in text.splitlines() if " log " in line)
    assert " on " not in log_line


def test_every_missing_and_invalid_input_is_reported_at_once(tmp_path: Path):
    flow = tmp_path / "inputs.yml"
    flow.write_text("""id: inputs
namespace: company.team
inputs:
  - id: name
    type: STRING
  - id: count
    type: INT
  - id: day
    type: DATE
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.name }}"
""")
    result = roost("run", str(flow), "-i", "count=12x", home=tmp_path / "home")
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert "3 inputs need a value or a fix" in message
    assert "input 'name' is required and has no default" in message
    assert "input 'count': " in message and "12x" in message
    assert "input 'day' is required and has no default" in message
