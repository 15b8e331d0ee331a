"""`roost serve` and the webhook listener answer on 127.0.0.1 only, unless told otherwise."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import roost, start_roost, wait_for_line

LISTEN = pytest.mark.reliability("Security: listeners bind to 127.0.0.1",
                                 "roost serve and the webhook server listen on loopback by default")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(_address_text(address))
    return found


def _address_text(hex_address: str) -> str:
    if len(hex_address) == 8:  # IPv4, little-endian
        return socket.inet_ntop(socket.AF_INET, bytes.fromhex(hex_address)[::-1])
    raw = b"".join(bytes.fromhex(hex_address[i:i + 8])[::-1] for i in range(0, 32, 8))
    return socket.inet_ntop(socket.AF_INET6, raw)


@LISTEN
@pytest.mark.slow
def test_roost_serve_listens_on_loopback_only(home, flows):
    (flows / "hello.yml").write_text("id: hello\nnamespace: a.b\ntasks:\n"
                                     "  - id: x\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
    port = free_port()
    proc = start_roost("serve", str(flows), "--port", str(port), home=home)
    try:
        seen = wait_for_line(proc, "Roost workbench on")
        assert f"http://127.0.0.1:{port}" in seen
        deadline = time.monotonic() + 10
        while not (addresses := listening_addresses(port)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert addresses == {"127.0.0.1"}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


@LISTEN
def test_serve_offers_no_silent_way_to_listen_elsewhere(home):
    """Binding elsewhere needs an explicit flag and a warning; today there is no such flag at all."""
    help_text = roost("serve", "--help", home=home).stdout
    if "--host" in help_text:
        port = free_port()
        proc = start_roost("serve", ".", "--host", "0.0.0.0", "--port", str(port), home=home)
        try:
            seen = wait_for_line(proc, "Roost workbench on")
            assert "warning" in seen.lower()
        finally:
            proc.kill()
            proc.communicate()
    else:
        assert "0.0.0.0" not in help_text and "--bind" not in help_text


@LISTEN
def test_webhook_server_listens_on_loopback_by_default():
    webhook_server = pytest.importorskip("engine.scheduling.webhook_server")
    server = webhook_server.WebhookServer(lambda *args: webhook_server.not_found("test"), port=0).start()
    try:
        assert server.host == "127.0.0.1"
        assert listening_addresses(server.port) == {"127.0.0.1"}
    finally:
        server.stop()
