"""Kestra 1.x's default task runner: a script task that names none runs in Docker (issue 15).

Under `--runner auto` such a task runs in a container of its containerImage, or of its family's
default image, when an engine answers and the image is there or can be pulled; otherwise on
the process runner with one notice per execution. The suite itself runs with ROOST_RUNNER=process
(tests/conftest.py); these tests choose the runner themselves.
"""

from __future__ import annotations

import json
import re
import socket
import socketserver
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from engine.core.config import RoostConfig
from engine.execution.runtime import RunOptions

HEADER = "id: default_runner\nnamespace: company.team\n"
AUTO = RunOptions(runner="auto")
WHERE = HEADER + """
tasks:
  - id: where
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo "host $(hostname)"
      - echo "pid1 $(tr '\\0' ' ' < /proc/1/cmdline | head -c 10)"
"""


def absent_image() -> str:
    """An image name no engine has, new per test (a failed pull is remembered per process)."""
    return f"roost-test/absent-{uuid.uuid4().hex[:8]}:1"


def fallback_notices(result) -> list[str]:  # noqa: ANN001
    return [line for line in result.logs() if "with the process runner" in line]


def test_a_task_without_task_runner_runs_in_a_container_under_auto(engine, docker):
    result = engine.run(WHERE, options=AUTO)
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("where").runner == "docker ubuntu"
    said, host, pid1 = result.logs("where")
    assert said == "running in container ubuntu"  # the log says where, once per task run
    # Its own hostname (the container id's first 12 hex digits), and the task's shell is PID 1.
    assert re.fullmatch(r"host [0-9a-f]{12}", host) and host != f"host {socket.gethostname()}"
    assert pid1 == "pid1 /bin/sh -c"
    assert fallback_notices(result) == []


def test_the_family_default_image_is_used_when_container_image_is_absent(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Script
    script: echo shell
  - id: python
    type: io.kestra.plugin.scripts.python.Script
    script: print("python")
  - id: chosen
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ghcr.io/kestra-io/pydata:latest
    commands: [echo chosen]
""", options=AUTO)
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("shell").runner == "docker ubuntu"
    assert result.run_of("python").runner == "docker python:3.13-slim"
    assert result.run_of("chosen").runner == "docker ghcr.io/kestra-io/pydata:latest"
    assert result.logs("python") == ["running in container python:3.13-slim", "python"]


def test_a_missing_image_falls_back_with_one_notice_naming_it_and_is_pulled_once(engine, docker):
    image = absent_image()
    flow = HEADER + f"""
tasks:
  - id: one
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {image}
    commands: [echo one]
  - id: two
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {image}
    commands: [echo two]
"""
    first = engine.run(flow, options=AUTO)
    assert first.state == "SUCCESS", first.logs()
    assert [first.run_of(t).runner for t in ("one", "two")] == ["process", "process"]
    (notice,) = fallback_notices(first)
    assert notice.startswith("script tasks without a taskRunner run in a container by default "
                             f"(Kestra's Docker task runner, image {image}) but image {image} not "
                             "found locally and the pull failed: ")
    assert "ROOST_RUNNER=process" in notice
    assert first.logs("two")[-1] == "two"
    second = engine.run(flow, options=AUTO)
    assert len(fallback_notices(second)) == 1  # one notice per execution
    pulls = [line for line in first.logs() + second.logs() if line == f"pulling image {image}"]
    assert pulls == [f"pulling image {image}"]  # the failure is remembered: no second attempt


def test_an_unreachable_engine_falls_back_with_one_notice(engine):
    engine.runtime.environ["DOCKER_HOST"] = "unix:///nonexistent"
    result = engine.run(HEADER + """
tasks:
  - id: one
    type: io.kestra.plugin.scripts.shell.Commands
    commands: [echo one]
  - id: two
    type: io.kestra.plugin.scripts.python.Script
    script: print("two")
""", options=AUTO)
    assert result.state == "SUCCESS", result.logs()
    assert fallback_notices(result) == [
        "script tasks without a taskRunner run in a container by default (Kestra's Docker task runner, "
        "image ubuntu) but the Docker engine at unix:///nonexistent is unreachable: no socket at "
        "/nonexistent; running with the process runner on this machine instead (ROOST_RUNNER=process "
        "or roost.toml [runner] default = \"process\" skips this check)"]
    assert result.run_of("one").runner == "process" and result.run_of("two").runner == "process"
    assert result.logs("two") == ["two"]


def test_runner_process_ignores_the_default(engine, docker):
    result = engine.run(WHERE, options=RunOptions(runner="process"))
    assert result.state == "SUCCESS"
    assert result.run_of("where").runner == "process"
    assert result.logs("where")[0] == f"host {socket.gethostname()}"
    assert fallback_notices(result) == []


def test_a_process_task_runner_forces_the_process_runner(engine, docker):
    result = engine.run(HEADER + """
tasks:
  - id: local
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    containerImage: ubuntu
    commands: [hostname]
""", options=AUTO)
    assert result.state == "SUCCESS"
    assert result.run_of("local").runner == "process"
    assert result.logs("local") == [socket.gethostname()]


def test_roost_runner_process_is_honoured_when_nothing_else_decides(engine, docker):
    engine.runtime.environ["ROOST_RUNNER"] = "process"
    result = engine.run(WHERE)
    assert result.run_of("where").runner == "process"
    assert fallback_notices(result) == []


def test_roost_toml_runner_wins_over_roost_runner(engine, docker):
    engine.runtime.environ["ROOST_RUNNER"] = "process"
    engine.with_config(RoostConfig(runner="auto"))
    result = engine.run(WHERE)
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("where").runner == "docker ubuntu"


def test_a_wrong_roost_runner_value_is_named(engine):
    engine.runtime.environ["ROOST_RUNNER"] = "dockr"
    result = engine.run(WHERE)
    assert result.state == "FAILED"
    assert "environment variable ROOST_RUNNER is 'dockr'; use one of auto, process, docker" \
        in result.logs("where")


def test_runner_docker_with_a_missing_image_fails_clearly(engine, docker):
    image = absent_image()
    result = engine.run(HEADER + f"""
tasks:
  - id: boxed
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {image}
    commands: [echo never]
""", options=RunOptions(runner="docker"))
    assert result.state == "FAILED"
    (failure,) = [line for line in result.logs("boxed") if "not found locally" in line]
    assert failure.startswith(f"image {image} not found locally and the pull failed: ")
    assert "never" not in result.logs("boxed")


# --- an engine whose registry never answers -------------------------------------------------
class _SilentRegistryEngine(BaseHTTPRequestHandler):
    """Answers like a Docker engine, except that a pull never gets an answer (a registry behind
    a firewall that drops packets): the pull must be given up, not waited for."""

    protocol_version = "HTTP/1.1"
    release: threading.Event

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        if path.endswith("/version"):
            self._reply(200, {"ApiVersion": "1.41", "Version": "20.10.0", "MinAPIVersion": "1.12"})
        elif path.endswith("/containers/json"):
            self._reply(200, [])
        elif path.endswith("/_ping"):
            self._reply(200, "OK")
        else:  # /images/NAME/json: no image here
            self._reply(404, {"message": "No such image"})

    def do_POST(self) -> None:  # noqa: N802
        if "/images/create" in self.path:
            self.release.wait(60)
            self.close_connection = True
            return
        self._reply(404, {"message": "not here"})


@pytest.fixture
def silent_registry_engine(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "docker.sock"
    release = threading.Event()
    handler = type("Handler", (_SilentRegistryEngine,), {"release": release})
    server = socketserver.ThreadingUnixStreamServer(str(path), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix://{path}"
    release.set()
    server.shutdown()
    server.server_close()


def test_a_pull_with_no_registry_answering_is_given_up(engine, silent_registry_engine, monkeypatch):
    monkeypatch.setattr("engine.runners.docker_engine.PULL_ANSWER_TIMEOUT", 0.5)
    engine.runtime.environ["DOCKER_HOST"] = silent_registry_engine
    auto = engine.run(WHERE, options=AUTO)
    assert auto.state == "SUCCESS", auto.logs()
    assert auto.run_of("where").runner == "process"
    (notice,) = fallback_notices(auto)
    assert "image ubuntu not found locally and the pull failed: no answer from an image registry " \
           "within 0.5 s" in notice
    required = engine.run(HEADER + f"""
tasks:
  - id: boxed
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: {absent_image()}
    commands: [echo never]
""", options=RunOptions(runner="docker"))
    assert required.state == "FAILED"
    assert any("the pull failed: no answer from an image registry within 0.5 s" in line
               for line in required.logs("boxed")), required.logs()
