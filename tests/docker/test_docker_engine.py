"""The engine connection on its own: unreachable answers (cached), leftovers, images, ownership.

A check that hung (no ping timeout, a pull that never ends) is cut off by pytest-timeout; the
tests assert what the answer says, and that a cached answer does not look again.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from engine.runners.docker_engine import (
    LABEL_HOSTNAME,
    LABEL_MANAGED,
    LABEL_PID,
    DockerEngines,
    EngineUnreachable,
    ImageUnavailable,
)
from engine.runners.docker_ownership import has_foreign_files, restore_ownership


def closed_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.timeout(60)
def test_missing_socket_is_unreachable_and_the_answer_is_cached(tmp_path):
    engines = DockerEngines()
    path = tmp_path / "no-docker.sock"
    url = f"unix://{path}"
    with pytest.raises(EngineUnreachable) as first:
        engines.connect(url, {})
    assert first.value.reason == f"no socket at {path}"
    # Something now listens there: a second look would say something else. The cached
    # answer is given without looking.
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(1)
        with pytest.raises(EngineUnreachable) as second:
            engines.connect(url, {})
        assert second.value.reason == f"no socket at {path}"
        # a fresh process-wide cache does look, and gets no further than the silent listener
        with pytest.raises(EngineUnreachable) as fresh:
            DockerEngines(ping_timeout=0.5).connect(url, {})
        assert fresh.value.reason != f"no socket at {path}"


@pytest.mark.timeout(60)
def test_closed_tcp_port_is_unreachable_with_connection_refused():
    url = f"tcp://127.0.0.1:{closed_tcp_port()}"
    with pytest.raises(EngineUnreachable) as error:
        DockerEngines().connect(url, {})
    assert error.value.reason == "connection refused"  # answered by the kernel, no timeout waited
    assert str(error.value) == f"the Docker engine at {url} is unreachable: connection refused"


@pytest.mark.timeout(60)
def test_silent_listener_is_unreachable_by_the_ping_timeout():
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(EngineUnreachable) as error:
            DockerEngines(ping_timeout=0.5).connect(url, {})
        # nothing but the ping's timeout can end a connection to a listener that never speaks
        assert "no answer" in error.value.reason or "timed out" in error.value.reason


def test_containers_left_by_a_dead_roost_process_are_removed_on_connect(docker):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    api = docker.engine.api

    def labelled(pid: int) -> str:
        return api.create_container("ubuntu", command=["true"], labels={
            LABEL_MANAGED: "true", LABEL_HOSTNAME: socket.gethostname(), LABEL_PID: str(pid)})["Id"]

    orphan, alive = labelled(dead.pid), labelled(os.getpid())
    try:
        DockerEngines().connect(docker.engine.url, os.environ)
        remaining = {c["Id"] for c in api.containers(all=True, filters={"label": f"{LABEL_MANAGED}=true"})}
        assert orphan not in remaining
        assert alive in remaining  # a live Roost process's container is not touched
    finally:
        for container in (orphan, alive):
            try:
                api.remove_container(container, force=True)
            except Exception:
                pass


@pytest.mark.timeout(90)
def test_missing_image_is_reported_with_the_pull_error_without_hanging(docker):
    with pytest.raises(ImageUnavailable) as error:
        docker.engine.ensure_image("roost-test/absent:1.0", "IF_NOT_PRESENT")
    assert str(error.value).startswith("image roost-test/absent:1.0 not found locally and the pull failed: ")


def test_pull_policy_never_does_not_pull(docker):
    logs: list[str] = []
    with pytest.raises(ImageUnavailable) as error:
        docker.engine.ensure_image("roost-test/absent:2.0", "NEVER", log=logs.append)
    assert str(error.value) == "image roost-test/absent:2.0 not found locally and pullPolicy is NEVER"
    assert logs == []


def test_pull_policy_always_falls_back_to_the_local_copy_when_the_pull_fails(docker):
    if docker.engine.pull("ubuntu") is None:
        pytest.skip("a registry is reachable here: the pull of ubuntu succeeded")
    logs: list[str] = []
    docker.engine.ensure_image("ubuntu", "ALWAYS", log=logs.append)
    assert any("using the local copy" in line for line in logs)


def test_files_written_as_root_are_given_back_to_the_owner(docker, tmp_path):
    folder = tmp_path / "work"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "made.txt").write_text("x")
    os.chown(folder / "sub" / "made.txt", 0, 0)
    assert has_foreign_files(folder, 4321, 4321)
    error = restore_ownership(docker.engine, "ubuntu", folder, 4321, 4321, docker.engine.owner_labels())
    assert error is None
    assert not has_foreign_files(folder, 4321, 4321)
    assert (folder / "sub" / "made.txt").stat().st_uid == 4321
