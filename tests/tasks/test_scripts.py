"""Script tasks on the process runner: streaming, the output protocol, files, exit codes."""

from __future__ import annotations

from pathlib import Path

from engine.core.events import LogLine, MetricRecorded
from engine.core.states import State

HEADER = "id: sc\nnamespace: company.team\n"


def test_stdout_is_info_stderr_is_error_and_protocol_lines_become_outputs(engine):
    result = engine.run(HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo to-stdout
      - echo to-stderr >&2
      - echo '::{"outputs":{"a":1,"b":null}}::'
      - echo '::{"outputs":{"a":2,"c":[1,2]}}::'
      - echo '::{"metrics":[{"name":"rows","type":"counter","value":5,"tags":{"t":"x"}}]}::'
      - echo '::{"logs":[{"level":"WARN","message":"from protocol"}]}::'
      - echo '::{not json}::'
""")
    assert result.state == "SUCCESS"
    lines = [(e.level, e.message) for e in result.events if isinstance(e, LogLine) and e.task_id == "sh"]
    assert ("INFO", "to-stdout") in lines and ("ERROR", "to-stderr") in lines
    assert ("WARN", "from protocol") in lines
    assert not any(m.startswith('::{"outputs"') for _, m in lines)
    assert any(level == "WARN" and "not json" in m or "invalid" in m.lower() for level, m in lines)
    outputs = result.run_of("sh").outputs
    assert outputs["vars"] == {"a": 2, "b": None, "c": [1, 2]}
    assert outputs["exitCode"] == 0
    metrics = [e for e in result.events if isinstance(e, MetricRecorded)]
    assert [(m.name, m.type, m.value, m.tags) for m in metrics] == [("rows", "counter", 5, {"t": "x"})]


def test_lines_stream_live_while_the_process_runs(engine, tmp_path):
    # A rendezvous: the script waits (a minute at most) for a file the test creates when the
    # line "first" reaches the bus; lines held back until the end would never release it.
    flag = tmp_path / "seen-first"

    def release(event: object) -> None:
        if isinstance(event, LogLine) and event.task_id == "slow" and event.message == "first":
            flag.touch()

    result = engine.run(HEADER + f"""
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo first
      - i=0; while [ ! -e {flag} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
      - if [ -e {flag} ]; then echo second; else echo first-was-not-streamed; fi
""", on_event=release)
    assert result.state == "SUCCESS"
    assert result.logs("slow") == ["first", "second"]


def test_nonzero_exit_fails_with_outputs_attached(engine):
    result = engine.run(HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo '::{"outputs":{"partial":true}}::'
      - exit 4
""")
    run = result.run_of("sh")
    assert run.state is State.FAILED
    assert run.outputs["exitCode"] == 4 and run.outputs["vars"] == {"partial": True}
    assert "Command failed with exit code 4" in result.logs("sh")


def test_fail_fast_stops_at_first_failing_command_unless_disabled(engine):
    result = engine.run(HEADER + """
tasks:
  - id: strict
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["false", "echo not reached"]
  - id: lenient
    type: io.kestra.plugin.scripts.shell.Commands
    failFast: false
    commands: ["false", "echo reached"]
""".replace("  - id: lenient", "    allowFailure: true\n  - id: lenient"))
    assert "not reached" not in result.logs("strict")
    assert result.logs("lenient") == ["reached"]


def test_python_script_sees_working_dir_and_env(engine):
    result = engine.run(HEADER + """
tasks:
  - id: py
    type: io.kestra.plugin.scripts.python.Script
    env:
      GREETING: "hi {{ flow.id }}"
    beforeCommands:
      - echo before
    script: |
      import os
      print(os.environ["GREETING"])
      print(os.environ["WORKING_DIR"] == os.getcwd() == "{{ workingDir }}")
      print(os.environ["PYTHONUNBUFFERED"])
""")
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("py") == ["before", "hi sc", "True", "1"]


def test_script_file_does_not_leak_into_output_globs(engine):
    result = engine.run(HEADER + """
tasks:
  - id: py
    type: io.kestra.plugin.scripts.python.Script
    outputFiles: ["*"]
    script: |
      open("result.txt", "w").write("ok")
""")
    assert sorted(result.run_of("py").outputs["outputFiles"]) == ["result.txt"]


def test_output_dir_files_are_captured(engine):
    result = engine.run(HEADER + """
tasks:
  - id: py
    type: io.kestra.plugin.scripts.python.Script
    script: |
      open("{{ outputDir }}/report.md", "w").write("# report")
""")
    assert list(result.run_of("py").outputs["outputFiles"]) == ["report.md"]


def test_storage_uris_in_commands_become_local_paths(engine):
    result = engine.run(HEADER + """
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["data.txt"]
    commands: ["echo payload > data.txt"]
  - id: use
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - cat {{ outputs.make.outputFiles['data.txt'] }}
""")
    assert result.logs("use") == ["payload"]


def test_kestra_python_package_outputs_metrics_and_logs_are_understood(engine):
    result = engine.run(HEADER + """
tasks:
  - id: py
    type: io.kestra.plugin.scripts.python.Script
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    dependencies: [kestra]   # not special: a flow that imports it declares it
    script: |
      from kestra import Kestra
      Kestra.outputs({"answer": 42, "nested": {"k": "v"}})
      Kestra.counter("processed", 7, {"stage": "x"})
      Kestra.timer("took", 1.5)
      Kestra.logger().info("hello from the kestra logger")
""")
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("py").outputs["vars"] == {"answer": 42, "nested": {"k": "v"}}
    metrics = {(m.name, m.type, m.value) for m in result.events if isinstance(m, MetricRecorded)}
    assert metrics == {("processed", "counter", 7), ("took", "timer", 1.5)}
    assert any("hello from the kestra logger" in line for line in result.logs("py"))


def test_docker_request_falls_back_to_process_runner_with_one_notice(engine):
    from engine.execution.runtime import RunOptions

    engine.runtime.environ["DOCKER_HOST"] = "unix:///nonexistent/roost-no-docker.sock"  # no engine here
    result = engine.run(HEADER + """
tasks:
  - id: one
    type: io.kestra.plugin.scripts.shell.Commands
    docker:
      image: ubuntu
    commands: ["echo one"]
  - id: two
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
    containerImage: ubuntu
    commands: ["echo two"]
""", options=RunOptions(runner="auto"))
    assert result.state == "SUCCESS"
    notices = [line for line in result.logs() if "process runner" in line]
    assert len(notices) == 1 and "ubuntu" in notices[0]
    assert result.run_of("one").runner == "process"


def test_missing_interpreter_fails_with_a_clear_message(engine):
    result = engine.run(HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    interpreter: ["/nonexistent/shell", "-c"]
    commands: ["true"]
""")
    assert result.state == "FAILED"
    assert any("/nonexistent/shell" in line for line in result.logs("sh"))


def test_standalone_script_gets_its_own_directory(engine):
    result = engine.run(HEADER + """
tasks:
  - id: a
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["echo a > a.txt", "pwd"]
  - id: b
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["test ! -e a.txt && echo isolated"]
""")
    assert result.logs("b") == ["isolated"]
    assert Path(result.logs("a")[0]) != Path(result.run_of("b").working_dir)
