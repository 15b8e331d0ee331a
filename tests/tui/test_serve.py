"""`roost serve`: the same workbench in a browser, served by textual-serve on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.tui.conftest import FLOWS
from tui.app.serve import HOST, serve_command

ROOST = Path(sys.executable).parent / "roost"
_ANSI = re.compile(rb"\x1b\[[0-9;?$]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


SHOWN = (b"4 flows", b"No execution of fails yet")
"""What the browser's first screens must show (read once all of it has arrived)."""


async def browser_session(port: int, timeout: float = 60) -> bytes:
    """What a browser tab receives on the app's websocket, escape sequences removed, once it
    holds every one of SHOWN (or the timeout passed)."""
    import aiohttp

    received = b""
    async with aiohttp.ClientSession() as session, session.ws_connect(
            f"http://{HOST}:{port}/ws?width=100&height=30") as websocket:
        await websocket.send_json(["resize", {"width": 100, "height": 30}])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = await websocket.receive(timeout=1)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                received += message.data.encode()
            else:
                break
            plain = _ANSI.sub(b"", received)
            if all(text in plain for text in SHOWN):
                return plain
        await websocket.send_json(["stdin", "q"])
    return _ANSI.sub(b"", received)


def test_serve_command_runs_this_python_on_the_absolute_path(tmp_path: Path) -> None:
    argv = shlex.split(serve_command(tmp_path / "flows"))
    assert argv == [sys.executable, "-m", "tui", str((tmp_path / "flows").absolute())]


def test_roost_serve_answers_on_localhost_with_the_workbench_page(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ROOST_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([str(ROOST), "serve", str(FLOWS), "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        page = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "Roost" in page
        assert f'data-session-websocket-url="ws://{HOST}:{port}/ws"' in page
        # the browser's websocket gets the workbench itself, drawn by a real process
        screen = asyncio.run(browser_session(port))
        assert all(text in screen for text in SHOWN), screen[-2000:]
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def test_roost_serve_refuses_a_missing_path(tmp_path: Path) -> None:
    result = subprocess.run([str(ROOST), "serve", str(tmp_path / "nope")], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
