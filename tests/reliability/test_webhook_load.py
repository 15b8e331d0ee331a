"""The webhook server under load and under malformed requests, through the real `roost triggers`
process and real HTTP clients (httpx, and raw sockets for what no client would send).

Every request gets an answer: 200 concurrent POSTs are all answered with Kestra's response,
a chunked body is read, a bad request is a 400 with a reason, an oversized body a 413, and
nothing but Roost's own log lines reaches stderr.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.reliability.conftest import assert_no_traceback, roost_env

WEBHOOK_LOAD = pytest.mark.reliability(
    "Fault: webhook server under load and bad requests",
    "200 concurrent POSTs answered; chunked bodies; bad Content-Length, garbage and oversized "
    "requests answered 400/413; nothing but log lines on stderr")

FLOW = """
id: hooked
namespace: reliability.webhooks
tasks:
  - id: echo
    type: io.kestra.plugin.core.log.Log
    message: "got {{ trigger.body.n ?? trigger.body }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: load-key
"""
LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3} |  |execution \w+ of |roost triggers|flows changed|interrupted|stopping)")


class Triggers:
    def __init__(self, folder: Path, home: Path) -> None:
        self.stderr = folder / "stderr.log"
        self._err = self.stderr.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.launcher", "triggers", str(folder), "--webhook-port", "0"],
            stdout=subprocess.DEVNULL, stderr=self._err, text=True, cwd=REPO_ROOT, env=roost_env(home))
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        pattern = re.compile(r"(http://127\.0\.0\.1:\d+/api/v1/executions/webhook/\S+)")
        for _ in range(600):
            found = pattern.search(self.stderr.read_text())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                break
            threading.Event().wait(0.1)
        raise AssertionError(f"no webhook URL announced:\n{self.stderr.read_text()}")

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(60)
        self._err.close()
        return self.stderr.read_text()


@pytest.fixture
def triggers(home: Path, tmp_path: Path) -> Iterator[Triggers]:
    folder = tmp_path / "hooks"
    folder.mkdir()
    (folder / "hooked.yml").write_text(FLOW)
    running = Triggers(folder, home)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


def raw_request(port: int, data: bytes) -> str:
    """Send bytes as they are; the whole answer (the server closes or the client reads to the end)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer.decode("utf-8", errors="replace")


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    return length is not None and len(body) >= int(length.group(1))


def only_log_lines(stderr: str) -> list[str]:
    """The stderr lines that are not Roost's own log lines (must be none)."""
    return [line for line in stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]


@WEBHOOK_LOAD
def test_two_hundred_concurrent_posts_are_all_answered_and_each_starts_an_execution(triggers):
    answers: list[int | str] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        try:
            status = httpx.post(triggers.url, json={"n": n}, timeout=120).status_code
        except httpx.HTTPError as exc:
            status = repr(exc)
        with lock:
            answers.append(status)

    clients = [threading.Thread(target=post, args=(n,)) for n in range(200)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(180)
    assert answers == [200] * 200
    stderr = triggers.stop()
    assert_no_traceback(stderr)
    assert only_log_lines(stderr) == []
    assert len(re.findall(r"\bgot \d+\b", stderr)) == 200


@WEBHOOK_LOAD
def test_a_chunked_body_is_read_whole(triggers):
    def chunks() -> Iterator[bytes]:
        yield b'{"n": "chunk'
        yield b'ed-body"}'

    answer = httpx.post(triggers.url, content=chunks(), headers={"Content-Type": "application/json"},
                        timeout=60)
    assert answer.status_code == 200
    assert answer.json()["namespace"] == "reliability.webhooks"
    stderr = triggers.stop()
    assert "got chunked-body" in stderr
    assert only_log_lines(stderr) == []


@WEBHOOK_LOAD
@pytest.mark.parametrize(("request_bytes", "reason"), [
    (b"POST /api/v1/executions/webhook/reliability.webhooks/hooked/load-key HTTP/1.1\r\n"
     b"Host: x\r\nContent-Length: abc\r\n\r\n", "Content-Length"),
    (b"HELLO\r\n\r\n", "method"),
    (b"POST /api/v1/executions/webhook/reliability.webhooks/hooked/load-key HTTP/1.1\r\n"
     b"Host: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnot hex\r\n0\r\n\r\n", "chunk"),
], ids=["bad-content-length", "garbage", "bad-chunk"])
def test_a_malformed_request_gets_400_with_a_reason(triggers, request_bytes, reason):
    answer = raw_request(triggers.port, request_bytes)
    assert answer.startswith("HTTP/1.") and " 400 " in answer.splitlines()[0], answer
    assert reason.lower() in answer.lower()
    # and the server keeps serving
    assert httpx.post(triggers.url, json={"n": 1}, timeout=60).status_code == 200
    stderr = triggers.stop()
    assert_no_traceback(stderr)
    assert only_log_lines(stderr) == []


@WEBHOOK_LOAD
def test_a_body_over_the_limit_is_answered_413_without_starting_an_execution(triggers):
    from engine.scheduling.webhook_server import MAX_BODY_BYTES

    answer = httpx.post(triggers.url, content=b"x" * (MAX_BODY_BYTES + 1), timeout=120)
    assert answer.status_code == 413
    assert json.loads(answer.text) == {"message": f"Request body too large: at most {MAX_BODY_BYTES} bytes"}
    stderr = triggers.stop()
    assert "got " not in stderr
    assert only_log_lines(stderr) == []
