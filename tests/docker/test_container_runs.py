"""Script tasks in real containers: shared files, the output protocol, files, exit codes, logs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from engine.core.events import LogLine, MetricRecorded
from engine.execution.runtime import RunOptions
from engine.store.storage import InternalStorage

HEADER = "id: dk\nnamespace: company.team\n"
DOCKER = RunOptions(runner="docker")


def test_container_and_process_tasks_share_the_working_directory(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: on_host
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - echo from-host > host.txt
      - id: in_container
        type: io.kestra.plugin.scripts.python.Script
        docker:
          image: python:3.11-slim
        script: |
          import os, socket
          print("sees", open("host.txt").read().strip(), "in", os.getcwd())
          with open("container.txt", "w") as f:
              f.write("from-container " + os.environ["WORKING_DIR"])
      - id: back_on_host
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - cat container.txt
          - rm container.txt
""", options=DOCKER)
    assert result.state == "SUCCESS", result.logs()
    workdir = result.run_of("in_container").working_dir
    assert result.logs("in_container") == ["running in container python:3.11-slim",
                                           f"sees from-host in {workdir}"]
    assert result.logs("back_on_host") == [f"from-container {workdir}"]
    assert result.run_of("in_container").runner == "docker python:3.11-slim"
    assert result.run_of("on_host").runner == "process"
    assert not (Path(workdir) / "container.txt").exists()


def test_output_protocol_metrics_and_streams_work_in_a_container(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
    containerImage: ubuntu
    commands:
      - echo to-stdout
      - echo to-stderr >&2
      - echo '::{"outputs":{"a":1,"nested":{"k":"v"}}}::'
      - echo '::{"metrics":[{"name":"rows","type":"counter","value":5,"tags":{"t":"x"}}]}::'
      - python3 -c 'import json; print("::" + json.dumps({"outputs":{"py":[1,2]}}) + "::")'
""", options=DOCKER)
    assert result.state == "SUCCESS", result.logs()
    lines = [(e.level, e.message) for e in result.events if isinstance(e, LogLine) and e.task_id == "sh"]
    assert ("INFO", "to-stdout") in lines and ("ERROR", "to-stderr") in lines
    outputs = result.run_of("sh").outputs
    assert outputs["exitCode"] == 0
    assert outputs["vars"] == {"a": 1, "nested": {"k": "v"}, "py": [1, 2]}
    assert (outputs["stdOutLineCount"], outputs["stdErrLineCount"]) == (1, 1)
    metrics = [(m.name, m.type, m.value, m.tags) for m in result.events if isinstance(m, MetricRecorded)]
    assert metrics == [("rows", "counter", 5, {"t": "x"})]
    assert result.run_of("sh").runner == "docker ubuntu"


def test_output_files_written_by_the_container_are_captured(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: py
    type: io.kestra.plugin.scripts.python.Commands
    containerImage: python:3.11-slim
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
    outputFiles:
      - "out/*.csv"
      - summary.txt
    commands:
      - mkdir -p out
      - python -c "open('out/a.csv','w').write('x,y\\n1,2\\n')"
      - echo done > summary.txt
""", options=DOCKER)
    assert result.state == "SUCCESS", result.logs()
    files = result.run_of("py").outputs["outputFiles"]
    assert sorted(files) == ["out/a.csv", "summary.txt"]
    storage = InternalStorage(engine.home.storage)
    assert storage.read_bytes(files["out/a.csv"]) == b"x,y\n1,2\n"
    assert storage.read_bytes(files["summary.txt"]) == b"done\n"


def test_non_zero_exit_fails_the_task_and_keeps_outputs(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: bad
    type: io.kestra.plugin.scripts.shell.Commands
    docker:
      image: ubuntu
    commands:
      - echo '::{"outputs":{"before":true}}::'
      - echo "schema mismatch" >&2
      - exit 3
""", options=DOCKER)
    assert result.state == "FAILED"
    run = result.run_of("bad")
    assert run.outputs["exitCode"] == 3 and run.outputs["vars"] == {"before": True}
    assert "schema mismatch" in result.logs("bad")
    assert any("exit code 3" in line for line in result.logs("bad"))


def released_once(flag: Path, task_id: str, line: str):
    """An event listener that creates ``flag`` when ``task_id`` logs ``line``: a script that
    waits for the flag proves its earlier line reached the engine while it still ran."""
    def listen(event: object) -> None:
        if isinstance(event, LogLine) and event.task_id == task_id and event.message == line:
            flag.touch()
    return listen


def wait_for(flag: str, then: str, otherwise: str) -> str:
    """Shell: wait up to a minute for ``flag``, then echo one of two words."""
    return (f"i=0; while [ ! -e {flag} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
            f"if [ -e {flag} ]; then {then}; else {otherwise}; fi")


def test_lines_stream_live_and_partial_lines_are_joined(engine, docker, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    result = engine.run(HEADER + f"""
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    docker:
      image: ubuntu
      volumes: ["{shared}:/shared"]
    commands:
      - echo first
      - printf 'sec'
      - "{wait_for('/shared/seen-first', "echo ond", "echo 'ond (first was not streamed)'")}"
      - printf 'no newline at the end' >&2
""", options=DOCKER, on_event=released_once(shared / "seen-first", "slow", "first"))
    # "second": the partial line held while the script waited, joined when it went on
    assert result.logs("slow") == ["running in container ubuntu", "first", "second", "no newline at the end"]


def test_timeout_kills_and_removes_the_container(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: sleepy
    type: io.kestra.plugin.scripts.shell.Commands
    timeout: PT1S
    docker:
      image: ubuntu
    commands:
      - echo started
      - sleep 60
""", options=DOCKER)
    assert result.state == "FAILED"  # the sleep would have ended in SUCCESS
    assert result.logs("sleepy")[:2] == ["running in container ubuntu", "started"]
    assert any("timed out" in line for line in result.logs("sleepy"))
    assert docker.our_containers(**{"io.roost.task-run": result.run_of("sleepy").id}) == []


def test_cancel_kills_and_removes_the_container(engine, docker):
    from engine.execution.executor import Executor

    flow = engine.load(HEADER + """
tasks:
  - id: sleepy
    type: io.kestra.plugin.scripts.shell.Commands
    docker:
      image: ubuntu
    commands:
      - echo started
      - sleep 60
""")
    executor = Executor(engine.runtime)
    seen: list[LogLine] = []
    executor.bus.subscribe(lambda e: seen.append(e) if isinstance(e, LogLine) else None)
    handle = executor.start(executor.prepare(flow, options=DOCKER))
    deadline = time.monotonic() + 60
    while not any(e.message == "started" for e in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(e.message == "started" for e in seen), "the container never started"
    assert docker.our_containers(**{"io.roost.execution": handle.execution_id}) != []
    handle.cancel()
    execution = handle.wait(90)  # the container's sleep would take 60 s: a cancel that did not
    assert handle.done           # kill it fails here or leaves a SUCCESS
    assert execution.state.value == "KILLED"
    assert docker.our_containers(**{"io.roost.execution": handle.execution_id}) == []


def test_runner_options_reach_the_container(engine, docker, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data.txt").write_text("mounted\n")
    result = engine.run(HEADER + f"""
tasks:
  - id: opts
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ubuntu
    env:
      FROM_TASK: task-env
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      user: "4321:4321"
      networkMode: none
      extraHosts: ["warehouse.local:10.1.2.3"]
      memory:
        memory: 64MB
      cpu:
        cpus: 0.5
      env:
        FROM_RUNNER: runner-env
      volumes:
        - "{shared}:/data:ro"
      pullPolicy: NEVER
    commands:
      - echo "uid=$(id -u)"
      - echo "env=$FROM_TASK,$FROM_RUNNER"
      - echo "net=$(ls /sys/class/net | tr '\\n' ' ')"
      - echo "hosts=$(grep warehouse /etc/hosts | cut -f1)"
      - echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
      - echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max)"
      - echo "volume=$(cat /data/data.txt)"
""", options=DOCKER)
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("opts")[1:] == ["uid=4321", "env=task-env,runner-env", "net=lo ",
                                   "hosts=10.1.2.3", f"mem={64 * 1024 * 1024}", "cpu=50000",
                                   "volume=mounted"]


def test_entry_point_replaces_the_images_entrypoint(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: ep
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ubuntu
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      entryPoint: ["/usr/bin/env", "GREETING=from-entrypoint"]
    commands:
      - echo $GREETING
""", options=DOCKER)
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("ep") == ["running in container ubuntu", "from-entrypoint"]


def test_unsupported_runner_option_is_named_once(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: a
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ubuntu
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
      deviceRequests: [{driver: nvidia}]
    commands: ["echo ok"]
""", options=DOCKER)
    assert result.state == "SUCCESS"
    notices = [line for line in result.logs("a") if "deviceRequests" in line]
    assert notices == ["Docker option 'deviceRequests' is not supported by Roost and has no effect"]


def test_files_the_container_writes_are_deletable_by_the_user(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: write
        type: io.kestra.plugin.scripts.shell.Commands
        docker:
          image: ubuntu
        commands:
          - mkdir -p deep/er && echo x > deep/er/file.txt
""", options=DOCKER)
    assert result.state == "SUCCESS", result.logs()
    written = Path(result.run_of("write").working_dir) / "deep" / "er" / "file.txt"
    assert written.stat().st_uid == os.getuid()
    written.unlink()
    assert not written.exists()


def test_parallel_container_tasks_run_at_the_same_time(engine, docker, tmp_path):
    """A rendezvous: each container marks its arrival in a shared folder and waits for the
    other two. Run one after another, the first would wait alone and say so."""
    shared = tmp_path / "shared"
    shared.mkdir()
    met = wait_for("/shared/all-here", "echo met", "echo alone")

    def branch(task_id: str, image: str) -> str:
        return f"""
      - id: {task_id}
        type: io.kestra.plugin.scripts.shell.Commands
        docker: {{image: "{image}", volumes: ["{shared}:/shared"]}}
        commands:
          - touch /shared/{task_id}.here
          - "[ $(ls /shared | grep -c here) -ge 3 ] && touch /shared/all-here || true"
          - "{met}"
          - echo '::{{"outputs":{{"who":"{task_id}"}}}}::'"""

    result = engine.run(HEADER + """
tasks:
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:""" + branch("a", "ubuntu") + branch("b", "ubuntu") + branch("c", "python:3.11-slim") + "\n",
                        options=DOCKER)
    assert result.state == "SUCCESS", result.logs()
    assert [result.logs(t)[1:] for t in "abc"] == [["met"]] * 3
    assert [result.run_of(t).outputs["vars"]["who"] for t in "abc"] == ["a", "b", "c"]
    # and by the task runs' own clocks: every one started before any ended
    runs = [result.run_of(t) for t in "abc"]
    assert max(r.start_date for r in runs) < min(r.end_date for r in runs)


def test_missing_interpreter_in_the_image_fails_clearly_and_leaves_no_container(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    docker:
      image: ubuntu
    interpreter: ["/nonexistent/shell", "-c"]
    commands: ["true"]
""", options=DOCKER)
    assert result.state == "FAILED"
    failure = [line for line in result.logs("sh") if "did not start" in line]
    assert len(failure) == 1 and "/nonexistent/shell" in failure[0], result.logs("sh")
    assert docker.our_containers(**{"io.roost.task-run": result.run_of("sh").id}) == []
