"""The `roost` command line as a user runs it: real processes, exit codes, stdout/stderr."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, leftover_processes


def roost(*args: str, home: Path, cwd: Path | None = None, timeout: float = 60,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ROOST_HOME": str(home), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tui.launcher", *args], capture_output=True, text=True,
                          env=environment, cwd=cwd or REPO_ROOT, timeout=timeout)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_run_hello_prints_logs_on_stderr_and_json_on_stdout(home):
    result = roost("run", "sample_flows/hello.yml", "-i", "name=Ada", "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert "greet INFO  Hello, Ada!" in result.stderr
    execution = json.loads(result.stdout)
    assert execution["namespace"] == "company.team" and execution["flowId"] == "hello"
    assert execution["state"]["current"] == "SUCCESS"
    assert [h["state"] for h in execution["state"]["histories"]] == ["CREATED", "RUNNING", "SUCCESS"]
    assert execution["inputs"] == {"name": "Ada"}
    assert execution["outputs"] == {"shouted": "ADA"}
    runs = {r["taskId"]: r for r in execution["taskRunList"]}
    assert runs["shout"]["outputs"] == {"value": "ADA"}
    assert runs["shout"]["state"]["current"] == "SUCCESS"
    assert "Traceback" not in result.stderr


def test_failed_execution_exits_1(home, tmp_path):
    flow = tmp_path / "fail.yml"
    flow.write_text("id: f\nnamespace: a.b\ntasks:\n  - id: x\n    type: io.kestra.plugin.core.execution.Fail\n")
    result = roost("run", str(flow), home=home)
    assert result.returncode == 1
    assert "FAILED" in result.stderr and "Traceback" not in result.stderr


def test_validate_reports_file_line_column_and_exits_2(home, tmp_path):
    flow = tmp_path / "bad.yml"
    flow.write_text("id: bad\nnamespace: a.b\ntasks:\n  - id: x\n    type: io.kestra.plugin.core.log.Lgo\n"
                    "    message: hi\n")
    result = roost("validate", str(flow), home=home)
    assert result.returncode == 2
    assert f"{flow}:5:11: task 'x': unknown task type 'io.kestra.plugin.core.log.Lgo'" in result.stderr
    assert "io.kestra.plugin.core.log.Log" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_accepts_every_sample_flow(home):
    result = roost("validate", "sample_flows", home=home)
    assert result.returncode == 0, result.stderr
    assert "hello.yml: OK" in result.stdout


def test_missing_required_input_is_refused_before_running(home, tmp_path):
    flow = tmp_path / "in.yml"
    flow.write_text("id: i\nnamespace: a.b\ninputs:\n  - id: n\n    type: INT\ntasks:\n"
                    "  - id: x\n    type: io.kestra.plugin.core.log.Log\n    message: '{{ inputs.n }}'\n")
    result = roost("run", str(flow), home=home)
    assert result.returncode == 2
    assert "'n'" in result.stderr and "required" in result.stderr
    bad = roost("run", str(flow), "-i", "n=abc", home=home)
    assert bad.returncode == 2 and "'n'" in bad.stderr
    assert not (home / "history.db").exists() or "abc" not in roost("executions", home=home).stdout


def test_bad_usage_exits_2_without_traceback(home):
    result = roost("run", home=home)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = roost("run", "sample_flows/hello.yml", "-i", "novalue", home=home)
    assert result.returncode == 2 and "KEY=VALUE" in result.stderr
    result = roost("run", "does/not/exist.yml", home=home)
    assert result.returncode == 2 and "file not found" in result.stderr


def test_executions_and_execution_read_the_history(home):
    run = roost("run", "sample_flows/hello.yml", "--json", home=home)
    execution_id = json.loads(run.stdout)["id"]
    listing = roost("executions", home=home)
    assert execution_id in listing.stdout and "company.team.hello" in listing.stdout
    as_json = json.loads(roost("executions", "--json", home=home).stdout)
    assert as_json[0]["id"] == execution_id
    one = json.loads(roost("execution", execution_id, "--json", home=home).stdout)
    assert one["state"]["current"] == "SUCCESS"
    assert {r["taskId"] for r in one["taskRunList"]} == {"greet", "shout", "report"}
    text = roost("execution", execution_id, "--logs", home=home).stdout
    assert "Hello, Roost!" in text
    missing = roost("execution", "nope", home=home)
    assert missing.returncode == 2 and "no execution 'nope'" in missing.stderr


def test_storage_get_prints_a_stored_file(home, tmp_path):
    flow = tmp_path / "files.yml"
    flow.write_text("""id: files
namespace: company.team
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["out.txt"]
    commands:
      - printf 'stored bytes' > out.txt
""")
    run = roost("run", str(flow), "--json", home=home)
    assert run.returncode == 0, run.stderr
    uri = json.loads(run.stdout)["taskRunList"][0]["outputs"]["outputFiles"]["out.txt"]
    assert uri.startswith("kestra:///company/team/files/executions/")
    got = roost("storage", "get", uri, home=home)
    assert got.returncode == 0 and got.stdout == "stored bytes"
    target = tmp_path / "copy.txt"
    assert roost("storage", "get", uri, "-o", str(target), home=home).returncode == 0
    assert target.read_text() == "stored bytes"
    escape = roost("storage", "get", "kestra:///../../etc/passwd", home=home)
    assert escape.returncode == 2 and "root:" not in escape.stdout


def test_ctrl_c_cancels_cleanly_with_exit_130(home, tmp_path):
    flow = tmp_path / "slow.yml"
    flow.write_text("id: slow\nnamespace: a.b\ntasks:\n  - id: nap\n"
                    "    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['echo go', 'sleep 60']\n")
    env = {**os.environ, "ROOST_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "run", str(flow), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    line = ""
    deadline = time.monotonic() + 20
    while "go" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert json.loads(out)["state"]["current"] == "KILLED"
    assert leftover_processes("ROOST_HOME", str(home)) == []


def test_help_does_not_import_textual(home):
    code = ("import sys; from engine.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "main(['validate', 'sample_flows/hello.yml'])\n"
            "print('textual' in sys.modules, 'jinja2' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            env={**os.environ, "ROOST_HOME": str(home)})
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_ctrl_c_wrapped_in_another_error_still_exits_130_quietly(monkeypatch, capsys):
    """Python wraps a KeyboardInterrupt raised while a class is created (a lazy import under
    Ctrl-C) in "RuntimeError: Error calling __set_name__": still an interrupt, not a failure."""
    from engine.cli import main as cli

    def interrupted_import(_args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Error calling __set_name__ on 'Field' instance 'outputs'") from exc

    monkeypatch.setattr(cli, "cmd_validate", interrupted_import)
    assert cli.main(["validate", "sample_flows/hello.yml"]) == 130
    assert capsys.readouterr().err == ""
