"""Real parts for trigger tests: moto's S3 server on 127.0.0.1, driven through boto3 only,
and a harness that runs a TriggerScheduler and waits for the executions it starts."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.core.config import RoostConfig
from engine.core.events import Event, ExecutionChanged
from engine.core.records import Execution
from engine.execution.runtime import RunOptions
from engine.flow.model import Flow
from engine.scheduling.events import TriggerEvent, TriggerLog
from engine.scheduling.scheduler import TriggerScheduler
from engine.triggers.base import TriggerKey
from tests.conftest import Engine

ACCESS_KEY, SECRET_KEY, REGION = "AKIAROOSTTESTKEY", "roost-test-secret-key-0123456789", "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's standalone server on a free 127.0.0.1 port; its URL."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:  # pragma: no cover - the test extra installs it
        from tests.conftest import require_in_ci

        require_in_ci("moto[server] is not installed")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str) -> Any:
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=s3_server, aws_access_key_id=ACCESS_KEY,
                                          aws_secret_access_key=SECRET_KEY, region_name=REGION)


_bucket_counter = 0


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh bucket per test: the moto server is shared by the session."""
    global _bucket_counter
    _bucket_counter += 1
    name = f"roost-test-{os.getpid()}-{_bucket_counter}"
    s3.create_bucket(Bucket=name)
    return name


def keys(s3: Any, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def secret_environ() -> dict[str, str]:
    env = dict(os.environ)
    for name, value in (("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
                        ("AWS_DEFAULT_REGION", REGION)):
        env[f"SECRET_{name}"] = base64.b64encode(value.encode()).decode()
    return env


class Harness:
    """A scheduler over an Engine's runtime, recording what it logs and the executions that end."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.scheduler = TriggerScheduler(engine.runtime, options=RunOptions(runner="process"), webhook_port=0)
        self.finished: list[Execution] = []
        self.trigger_events: list[TriggerEvent] = []
        self._changed = threading.Condition()
        self.scheduler.executor.bus.subscribe(self._on_execution)
        self.scheduler.bus.subscribe(self._on_trigger)

    def _on_execution(self, event: Event) -> None:
        if isinstance(event, ExecutionChanged) and event.execution.state.is_terminal:
            with self._changed:
                self.finished.append(event.execution)
                self._changed.notify_all()

    def _on_trigger(self, event: TriggerEvent) -> None:
        with self._changed:
            self.trigger_events.append(event)
            self._changed.notify_all()

    def start(self, *flows: Flow) -> TriggerScheduler:
        self.scheduler.set_flows(flows)
        self.scheduler.start()
        return self.scheduler

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; logs:\n"
                                         + "\n".join(self.logs()))
                self._changed.wait(min(remaining, 0.1))

    def wait_executions(self, count: int, timeout: float = 60.0) -> list[Execution]:
        self.wait_for(lambda: len(self.finished) >= count, timeout, f"{count} finished execution(s)")
        return list(self.finished)

    def logs(self, min_level: str = "DEBUG") -> list[str]:
        levels = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
        return [f"{e.level} {e.message}" for e in list(self.trigger_events)
                if isinstance(e, TriggerLog) and levels.index(e.level) >= levels.index(min_level)]

    def key(self, flow: Flow, trigger_id: str) -> TriggerKey:
        return TriggerKey(flow.namespace, flow.id, trigger_id)

    def stop(self) -> None:
        self.scheduler.stop(cancel_running=True, timeout=30)


@pytest.fixture
def s3_engine(tmp_path: Path, s3_server: str) -> Iterator[Engine]:
    """An engine whose roost.toml-style plugin defaults point AWS plugins at moto, with AWS secrets."""
    flows = tmp_path / "flows"
    flows.mkdir()
    instance = Engine(tmp_path / "home", flows, environ=secret_environ())
    instance.with_config(RoostConfig(plugin_defaults=(
        {"type": "io.kestra.plugin.aws", "values": {"endpointOverride": s3_server}},)))
    yield instance
    instance.close()


@pytest.fixture
def harness(engine: Engine) -> Iterator[Harness]:
    instance = Harness(engine)
    yield instance
    instance.stop()


@pytest.fixture
def s3_harness(s3_engine: Engine) -> Iterator[Harness]:
    instance = Harness(s3_engine)
    yield instance
    instance.stop()
