"""Ctrl-C and `kill -9` while a task runs in a Docker container: no container outlives Roost
for long. Ctrl-C stops and removes it at once; after a kill -9, the next Roost that uses the
engine removes what the dead one left (containers are not processes the guard can kill).
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.conftest import require_in_ci
from tests.reliability.conftest import roost, start_roost, wait_for_line

pytestmark = pytest.mark.slow
CTRL_C = pytest.mark.reliability("Fault: Ctrl-C in roost run",
                                 "exit 130, execution KILLED in history, processes stopped")
KILL = pytest.mark.reliability("Fault: kill -9 of roost mid-run",
                               "history opens, execution KILLED, logs up to the kill, no survivor")

FLOW = """
id: boxed
namespace: reliability.containers
tasks:
  - id: work
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ubuntu
    taskRunner:
      type: io.kestra.plugin.scripts.runner.docker.Docker
    commands:
      - echo ready
      - sleep 300
"""


@pytest.fixture
def docker_api():
    from engine.runners.docker_engine import DockerEngines, EngineUnreachable, engine_url

    url = engine_url(None, None, os.environ)
    try:
        engine = DockerEngines().connect(url, os.environ)
    except EngineUnreachable as exc:
        require_in_ci(f"no Docker engine at {url}: {exc}; run `bash tests/services/start.sh` as root")
    if not engine.has_image("ubuntu"):
        require_in_ci("the test image `ubuntu` is missing; run `bash tests/services/start.sh` as root")
    return engine.api


def containers_of(api, pid: int) -> list[dict]:
    return api.containers(all=True, filters={"label": ["io.roost.managed=true", f"io.roost.pid={pid}"]})


def wait_until_no_container(api, pid: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while (left := containers_of(api, pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@CTRL_C
def test_ctrl_c_stops_and_removes_the_task_s_container(docker_api, home, flows):
    flow = flows / "boxed.yml"
    flow.write_text(FLOW)
    proc = start_roost("run", str(flow), "--runner", "docker", "--json", home=home)
    try:
        wait_for_line(proc, "ready", timeout=60)
        assert len(containers_of(docker_api, proc.pid)) == 1
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert json.loads(out)["state"]["current"] == "KILLED"
    assert wait_until_no_container(docker_api, proc.pid) == []


@KILL
def test_a_container_left_by_a_killed_roost_is_removed_by_the_next_one(docker_api, home, flows):
    flow = flows / "boxed.yml"
    flow.write_text(FLOW)
    proc = start_roost("run", str(flow), "--runner", "docker", home=home)
    try:
        wait_for_line(proc, "ready", timeout=60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.communicate()
    quick = flows / "quick.yml"
    quick.write_text(FLOW.replace("sleep 300", "true").replace("id: boxed", "id: quick"))
    after = roost("run", str(quick), "--runner", "docker", home=home, timeout=120)
    assert after.returncode == 0, after.stderr
    assert wait_until_no_container(docker_api, proc.pid) == []
    listed = json.loads(roost("executions", "--json", home=home).stdout)
    states = {e["flowId"]: e["state"]["current"] for e in listed}
    assert states == {"boxed": "KILLED", "quick": "SUCCESS"}
