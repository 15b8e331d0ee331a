"""Logic of the Docker runner that needs no engine: line splitting and option parsing."""

from __future__ import annotations

import pytest

from engine.core.errors import TaskFailure
from engine.runners.docker_backend import LineSplitter, pump_lines
from engine.runners.docker_engine import DEFAULT_HOST, engine_url
from engine.runners.docker_options import container_settings, parse_size


def test_partial_lines_wait_for_their_end_per_stream():
    lines: list[tuple[str, str]] = []
    frames = [(b"one\ntw", None), (None, b"err-a"), (b"o\r\n", None), (None, b"\n"), (b"tail", None)]
    pump_lines(frames, lambda stream, text: lines.append((stream, text)))
    assert lines == [("stdout", "one"), ("stdout", "two"), ("stderr", "err-a"), ("stdout", "tail")]


def test_multibyte_characters_split_across_chunks_survive():
    splitter = LineSplitter()
    data = "héllo ✓\n".encode()
    assert splitter.feed(data[:2]) == []
    assert splitter.feed(data[2:]) == ["héllo ✓"]
    assert splitter.flush() == []


def test_runner_options_become_container_settings():
    settings = container_settings("python:3.11-slim", {
        "pullPolicy": "never", "user": "1000:1000", "entryPoint": [""], "env": {"A": 1},
        "volumes": ["/srv:/srv:ro"], "networkMode": "host", "memory": {"memory": "512MB", "memorySwap": "1GB"},
        "cpu": {"cpus": 1.5}, "extraHosts": ["db:10.0.0.2"], "shmSize": "64m", "privileged": "true",
        "credentials": {"username": "u", "password": "p", "registry": "r.example"}, "delete": False,
    })
    assert settings.pull_policy == "NEVER" and settings.user == "1000:1000"
    assert settings.entrypoint == [""] and settings.env == {"A": "1"}
    assert settings.auth == {"username": "u", "password": "p", "serveraddress": "r.example"}
    assert settings.ignored == ("delete",)
    assert settings.host_config_kwargs() == {
        "network_mode": "host", "mem_limit": 512 * 1024 ** 2, "memswap_limit": 1024 ** 3,
        "nano_cpus": 1_500_000_000, "extra_hosts": {"db": "10.0.0.2"}, "shm_size": 64 * 1024 ** 2,
        "privileged": True}


@pytest.mark.parametrize("options, message", [
    ({"pullPolicy": "SOMETIMES"}, "'pullPolicy': 'SOMETIMES' is not one of"),
    ({"memory": {"memory": "lots"}}, "'memory.memory': 'lots' is not a size"),
    ({"extraHosts": ["nocolon"]}, "'extraHosts': 'nocolon' is not HOST:IP"),
    ({"volumes": ["/only-one-path"]}, "'volumes': '/only-one-path' is not HOST_PATH:CONTAINER_PATH"),
    ({"cpu": {"cpus": "many"}}, "'cpu.cpus': 'many' is not a number"),
])
def test_malformed_runner_options_name_the_option(options, message):
    with pytest.raises(TaskFailure) as error:
        container_settings("ubuntu", options)
    assert message in error.value.message


def test_sizes_read_like_the_docker_cli():
    assert parse_size("512", "m") == 512
    assert parse_size("1.5g", "m") == 1536 * 1024 ** 2
    assert parse_size("2GiB", "m") == 2 * 1024 ** 3
    assert parse_size(1024, "m") == 1024


def test_engine_address_prefers_the_runner_then_roost_toml_then_docker_host():
    env = {"DOCKER_HOST": "tcp://env:2375"}
    assert engine_url("tcp://opt:2375", "unix:///cfg.sock", env) == "tcp://opt:2375"
    assert engine_url(None, "unix:///cfg.sock", env) == "unix:///cfg.sock"
    assert engine_url(None, None, env) == "tcp://env:2375"
    assert engine_url(None, None, {}) == DEFAULT_HOST
