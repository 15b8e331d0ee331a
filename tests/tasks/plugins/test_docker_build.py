"""Kestra's docker Build against the real dockerd of tests/services/start.sh, FROM a local test image.

No registry is reachable: builds use `pull: false`, and a push goes to a closed local port.
Every image a test builds is removed afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.docker.conftest import DockerHarness, docker_session  # noqa: F401

TAG = f"roost-build-test/image:{os.getpid()}"


@pytest.fixture
def images(docker_session: DockerHarness) -> Iterator[DockerHarness]:  # noqa: F811
    """The engine; the tags these tests made are removed after each test.

    By tag, never by image id: a build that adds nothing to its base (`FROM ubuntu`) has the
    base's id, and removing that id would take the shared test images with it."""
    yield docker_session
    api = docker_session.engine.api
    for name in ("roost-build-test/image", "127.0.0.1:9/roost-build-push"):
        for image in api.images(name=name):
            for tag in image.get("RepoTags") or []:
                if tag.startswith(name + ":"):
                    api.remove_image(tag)


def build_flow(body: str) -> str:
    return "id: build\nnamespace: company.team\ntasks:\n  - id: build\n    type: io.kestra.plugin.docker.cli.Build\n" \
           + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"


def test_docker_build_tags_and_labels_an_image_from_an_inline_dockerfile(engine, images):
    result = engine.run(build_flow(f"""
tags:
  - {TAG}
  - {TAG}-second
pull: false
dockerfile: |
  FROM python:3.11-slim
  ARG GREETING
  LABEL greeting=$GREETING
buildArgs:
  GREETING: bonjour
labels:
  unit-test: "true"
"""))
    assert result.state == "SUCCESS", result.logs()
    image_id = result.run_of("build").outputs["imageId"]
    inspected = images.engine.api.inspect_image(TAG)
    assert inspected["Id"] == image_id
    assert f"{TAG}-second" in inspected["RepoTags"]
    assert inspected["Config"]["Labels"]["unit-test"] == "true"
    assert inspected["Config"]["Labels"]["greeting"] == "bonjour"
    assert any("LABEL greeting" in line for line in result.logs("build"))


def test_docker_build_uses_a_dockerfile_and_a_context_given_as_input_files(engine, images):
    result = engine.run(build_flow(f"""
tags: [{TAG}]
pull: false
dockerfile: build/Containerfile
inputFiles:
  build/Containerfile: |
    FROM ubuntu
    COPY hello.txt /hello.txt
  hello.txt: hello from roost
"""))
    assert result.state == "SUCCESS", result.logs()
    assert any("COPY hello.txt" in line for line in result.logs("build"))
    assert images.engine.api.inspect_image(TAG)["Id"] != images.engine.api.inspect_image("ubuntu")["Id"]


def test_docker_build_failure_says_what_the_builder_said(engine, images):
    result = engine.run(build_flow(f"""
tags: [{TAG}]
pull: false
dockerfile: |
  FROM python:3.11-slim
  COPY missing.txt /missing.txt
"""))
    assert result.state == "FAILED"
    [line] = [m for m in result.logs("build", "ERROR") if m.startswith("docker build failed")]
    assert "missing.txt" in line and "Traceback" not in line


def test_docker_build_push_without_a_reachable_registry_fails_clearly(engine, images):
    tag = "127.0.0.1:9/roost-build-push:1"
    result = engine.run(build_flow(f"""
tags: [{tag}]
pull: false
push: true
dockerfile: "FROM ubuntu"
"""))
    assert result.state == "FAILED"
    assert any(m.startswith(f"push of '{tag}' failed:") for m in result.logs("build", "ERROR")), result.logs()
