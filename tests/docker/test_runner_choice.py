"""Which runner a container-asking task gets: --runner auto|process|docker, reachable or not.

engine.run waits 120 s at most (tests/conftest.py): a check or pull that hung fails there; the
tests assert the answer and the one notice it gives, not how long it took.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from engine.core.config import RoostConfig
from engine.execution.runtime import RunOptions
from engine.flow.loader import load_flow
from tests.conftest import REPO_ROOT

HEADER = "id: choice\nnamespace: company.team\n"
UBUNTU_TASK = HEADER + """
tasks:
  - id: where
    type: io.kestra.plugin.scripts.shell.Commands
    docker:
      image: {image}
    commands:
      - echo "ran on $(hostname)"
"""


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def test_auto_runs_in_a_container_when_the_engine_is_reachable(engine, docker):
    result = engine.run(UBUNTU_TASK.format(image="ubuntu"), options=RunOptions(runner="auto"))
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("where").runner == "docker ubuntu"
    assert result.logs("where") != [f"ran on {socket.gethostname()}"]
    assert not [line for line in result.logs() if "process runner" in line]


def test_auto_falls_back_with_one_notice_when_the_engine_is_unreachable(engine):
    url = closed_port_url()
    engine.runtime.environ["DOCKER_HOST"] = url
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
    containerImage: python:3.11-slim
    commands: ["echo two"]
""", options=RunOptions(runner="auto"))
    assert result.state == "SUCCESS"
    notices = [line for line in result.logs() if "process runner" in line]
    assert notices == [f"task asks for a container (ubuntu) but the Docker engine at {url} is "
                       "unreachable: connection refused; running it with the process runner on "
                       "this machine instead"]
    assert result.run_of("one").runner == "process" and result.run_of("two").runner == "process"
    assert result.logs("two") == ["two"]


def test_runner_docker_fails_clearly_when_the_engine_is_unreachable(engine, tmp_path):
    engine.with_config(RoostConfig(docker_host=f"unix://{tmp_path}/missing.sock"))
    result = engine.run(UBUNTU_TASK.format(image="ubuntu"), options=RunOptions(runner="docker"))
    assert result.state == "FAILED"
    assert (f"runner docker: cannot run image ubuntu: the Docker engine at unix://{tmp_path}/missing.sock "
            f"is unreachable: no socket at {tmp_path}/missing.sock") in result.logs("where")


def test_runner_docker_fails_clearly_when_the_image_is_missing(engine, docker):
    result = engine.run(UBUNTU_TASK.format(image="roost-test/absent:3"), options=RunOptions(runner="docker"))
    assert result.state == "FAILED"
    failure = [line for line in result.logs("where") if "not found locally" in line]
    assert len(failure) == 1
    assert failure[0].startswith("image roost-test/absent:3 not found locally and the pull failed: ")
    assert result.run_of("where").runner is None


def test_auto_falls_back_with_a_notice_when_the_image_cannot_be_had(engine, docker):
    result = engine.run(UBUNTU_TASK.format(image="roost-test/absent:4"), options=RunOptions(runner="auto"))
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("where").runner == "process"
    notices = [line for line in result.logs() if "process runner" in line]
    assert len(notices) == 1
    assert "image roost-test/absent:4 not found locally and the pull failed: " in notices[0]


def test_runner_process_ignores_the_container_request(engine, docker):
    result = engine.run(UBUNTU_TASK.format(image="ubuntu"), options=RunOptions(runner="process"))
    assert result.state == "SUCCESS"
    assert result.run_of("where").runner == "process"
    assert result.logs("where") == [f"ran on {socket.gethostname()}"]


def test_roost_toml_runner_docker_applies_without_the_flag(engine, tmp_path):
    engine.with_config(RoostConfig(runner="docker", docker_host=f"unix://{tmp_path}/none.sock"))
    result = engine.run(UBUNTU_TASK.format(image="ubuntu"))
    assert result.state == "FAILED"
    assert any("runner docker: cannot run image ubuntu" in line for line in result.logs("where"))


def test_cli_runner_docker_with_no_engine_exits_1_without_a_traceback(tmp_path):
    flow = tmp_path / "flow.yml"
    flow.write_text(UBUNTU_TASK.format(image="python:3.11-slim"))
    env = {**os.environ, "ROOST_HOME": str(tmp_path / "home"), "DOCKER_HOST": closed_port_url()}
    cli = Path(sys.executable).parent / "roost"
    done = subprocess.run([str(cli), "run", str(flow), "--runner", "docker"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "runner docker: cannot run image python:3.11-slim" in done.stderr
    assert "connection refused" in done.stderr
    assert "Traceback" not in done.stderr


def test_seed_pip_flow_runs_unchanged_in_a_python_container(engine, docker, tmp_path):
    flows = tmp_path / "samples"
    shutil.copytree(REPO_ROOT / "sample_flows", flows)
    flow = load_flow(flows / "pip.yml")
    result = engine.run_flow(flow, options=RunOptions(runner="docker"))
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("pythonScript").runner == "docker python:3.11-slim"
    lines = result.logs("pythonScript")
    assert any(line.startswith("pandas version: ") for line in lines), lines
    assert any(line.startswith("Kestra methods: ") and "'outputs'" in line for line in lines), lines


def test_command_missing_in_the_image_fails_with_exit_127_hint(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: missing
    type: io.kestra.plugin.scripts.shell.Commands
    docker:
      image: ubuntu
    commands:
      - roost-no-such-command --version
""", options=RunOptions(runner="docker"))
    assert result.state == "FAILED"
    lines = result.logs("missing")
    assert any(line.endswith("roost-no-such-command: not found") for line in lines), lines
    assert "exit code 127: a command was not found in image ubuntu" in lines
