"""`roost run FLOW --break T` / `--step`: the line prompt, as a plain terminal (or a pipe) uses it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from engine.cli.debug_prompt import parse_line
from tests.conftest import REPO_ROOT, require_in_ci

FLOW = """\
id: prompt
namespace: dev.debug
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - echo made > made.txt
      - id: check
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - cat made.txt shell.txt
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.make.exitCode }} done"
"""


def roost(*args: str, home: Path, stdin: str, env: dict[str, str] | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ROOST_HOME": str(home), **(env or {})}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], input=stdin, capture_output=True,
                          text=True, env=environment, cwd=REPO_ROOT, timeout=timeout)


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.yml"
    path.write_text(FLOW)
    return path


def test_prompt_lines_parse_with_gdb_like_abbreviations() -> None:
    assert parse_line("n\n").command == "next"
    assert parse_line("  c ").command == "continue"
    assert parse_line("k").command == "skip"
    assert parse_line(".").command == "rerun"
    assert parse_line(":outputs.a.value") == parse_line("eval outputs.a.value")
    assert parse_line("!").command == "shell"
    assert parse_line("p outputs").argument == "outputs"
    assert parse_line("").command == ""
    assert parse_line("frobnicate") is None


def test_break_prompt_prints_evaluates_skips_and_continues(tmp_path: Path, flow: Path) -> None:
    script = "\n".join(["p", "eval outputs.make.exitCode", ":{{ task.id | upper }}", "bogus",
                        "eval outputs.nope", "vars", "s", "c"]) + "\n"
    result = roost("run", str(flow), "--break", "check", "--json", home=tmp_path / "home", stdin=script)
    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert "⏸ paused before 'check' (io.kestra.plugin.scripts.shell.Commands), breakpoint" in err
    assert f"{flow}:13" in err
    assert "commands: [\"cat made.txt shell.txt\"]" in err
    assert "(roost) 0\n" in err
    assert "(roost) CHECK\n" in err
    assert "unknown command 'bogus'; type help" in err
    assert "error:" in err and "nope" in err
    assert "Traceback" not in err
    execution = json.loads(result.stdout)
    states = {t["taskId"]: t["state"]["current"] for t in execution["taskRunList"]}
    assert states == {"wd": "SUCCESS", "make": "SUCCESS", "check": "SKIPPED", "last": "SUCCESS"}


def test_shell_opens_in_the_working_directory_and_its_changes_are_seen(tmp_path: Path, flow: Path) -> None:
    fake_shell = tmp_path / "fake-shell"
    fake_shell.write_text("#!/bin/sh\necho 'from the shell' > shell.txt\n")
    fake_shell.chmod(0o755)
    result = roost("run", str(flow), "--break", "check", home=tmp_path / "home", stdin="shell\nc\n",
                   env={"SHELL": str(fake_shell)})
    assert result.returncode == 0, result.stderr
    assert "opening" in result.stderr and "exit it to come back" in result.stderr
    assert "from the shell" in result.stderr  # `check` printed the file the shell wrote


def test_step_mode_pauses_before_every_task_and_empty_line_repeats_next(tmp_path: Path, flow: Path) -> None:
    result = roost("run", str(flow), "--step", home=tmp_path / "home", stdin="n\n\n\n")
    err = result.stderr
    assert [line.split("'")[1] for line in err.splitlines() if line.startswith("⏸")] == [
        "wd", "make", "check"]
    assert result.returncode == 1  # check fails (shell.txt was never made): `last` never runs


def test_abort_kills_and_exits_1(tmp_path: Path, flow: Path) -> None:
    result = roost("run", str(flow), "--break", "make", "--json", home=tmp_path / "home", stdin="abort\n")
    assert result.returncode == 1
    assert json.loads(result.stdout)["state"]["current"] == "KILLED"


def test_closed_stdin_aborts_instead_of_hanging(tmp_path: Path, flow: Path) -> None:
    result = roost("run", str(flow), "--step", home=tmp_path / "home", stdin="", timeout=30)
    assert result.returncode == 1
    assert "stdin closed: aborting the execution" in result.stderr


def test_unknown_breakpoint_is_a_usage_error_naming_the_tasks(tmp_path: Path, flow: Path) -> None:
    result = roost("run", str(flow), "--break", "nope", home=tmp_path / "home", stdin="")
    assert result.returncode == 2
    assert "--break nope: no task 'nope'" in result.stderr
    assert "wd, make, check, last" in result.stderr


def test_the_prompt_in_a_real_terminal(tmp_path: Path, flow: Path) -> None:
    """tmux: a user types at the prompt while logs stream on the same terminal."""
    if shutil.which("tmux") is None:
        require_in_ci("tmux is not installed (apt-get install tmux)")
    roost_bin = Path(sys.executable).parent / "roost"
    if not roost_bin.exists():
        require_in_ci(f"the roost entry point is not installed at {roost_bin}")
    socket = f"roost-prompt-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "exit-status"
    command = (f"cd {shlex.quote(str(tmp_path))} && ROOST_HOME={shlex.quote(str(tmp_path / 'home'))} "
               f"TERM=xterm {shlex.quote(str(roost_bin))} run {shlex.quote(str(flow))} --break check; "
               f"echo $? > {shlex.quote(str(done))}; sleep 30")

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                              timeout=10, check=False).stdout

    def wait_for(*texts: str, timeout: float = 60) -> str:
        """The screen once it shows every one of ``texts`` (what the test then reads)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", "prompt", "-S", "-200")
            if all(text in screen for text in texts):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{[t for t in texts if t not in screen]} never appeared; screen:\n{screen}")

    tmux("new-session", "-d", "-s", "prompt", "-x", "140", "-y", "50", command)
    try:
        wait_for("(roost)")
        tmux("send-keys", "-t", "prompt", "eval outputs.make.exitCode", "Enter")
        wait_for("exitCode\n0\n(roost)")
        tmux("send-keys", "-t", "prompt", "!", "Enter")
        wait_for("exit it to come back")
        time.sleep(0.3)
        tmux("send-keys", "-t", "prompt", "echo typed-in-shell > shell.txt", "Enter")
        tmux("send-keys", "-t", "prompt", "exit", "Enter")
        time.sleep(0.3)
        tmux("send-keys", "-t", "prompt", "continue", "Enter")
        wait_for("SUCCESS", "typed-in-shell")
        deadline = time.monotonic() + 60
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == "0"
    finally:
        tmux("kill-server")
