"""A real Docker engine for the container-runner tests (started by tests/services/start.sh).

Tests that take the `docker` fixture skip with the reason when no engine answers or the test
images are missing; under CI=true they fail instead (tests.conftest.require_in_ci).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from engine.runners.docker_engine import (
    LABEL_MANAGED,
    LABEL_PID,
    DockerEngine,
    DockerEngines,
    EngineUnreachable,
    engine_url,
)
from tests.conftest import require_in_ci

TEST_IMAGES = ("python:3.11-slim", "python:3.13-slim", "ubuntu")
SETUP_HINT = "run `bash tests/services/start.sh` as root (it installs docker.io, starts dockerd " \
             "and builds the test images)"


@dataclass
class DockerHarness:
    """The engine the tests use, and a way to see which of this process's containers remain."""

    engine: DockerEngine

    def our_containers(self, **labels: str) -> list[dict]:
        """Containers Roost started from this test process (any state), filtered by more labels."""
        filters = [f"{LABEL_MANAGED}=true", f"{LABEL_PID}={os.getpid()}",
                   *(f"{k}={v}" for k, v in labels.items())]
        return list(self.engine.api.containers(all=True, filters={"label": filters}))


@pytest.fixture(autouse=True)
def runner_auto_for_the_engine(request: pytest.FixtureRequest) -> None:
    """These tests are about containers: their `engine` runs under auto (the user's default), not
    the suite's ROOST_RUNNER=process (tests/conftest.py); `--runner` options still win."""
    if "engine" in request.fixturenames:
        request.getfixturevalue("engine").runtime.environ["ROOST_RUNNER"] = "auto"


@pytest.fixture(scope="session")
def docker_session() -> DockerHarness:
    url = engine_url(None, None, os.environ)
    try:
        engine = DockerEngines().connect(url, os.environ)
    except EngineUnreachable as exc:
        require_in_ci(f"no Docker engine: {exc}; {SETUP_HINT}")
        raise  # unreachable: require_in_ci skips or fails
    missing = [image for image in TEST_IMAGES if not engine.has_image(image)]
    if missing:
        require_in_ci(f"test images missing on {url}: {', '.join(missing)}; {SETUP_HINT}")
    return DockerHarness(engine)


@pytest.fixture
def docker(docker_session: DockerHarness) -> Iterator[DockerHarness]:
    """The engine; after the test, no container of this process may be left behind."""
    yield docker_session
    left = docker_session.our_containers()
    for container in left:
        docker_session.engine.api.remove_container(container["Id"], force=True)
    assert left == [], f"containers left behind: {[c['Names'] for c in left]}"
