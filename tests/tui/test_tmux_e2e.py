"""End to end: the real ``roost`` in tmux, keys sent, the screen read with capture-pane.

This is what a user over SSH sees: a real terminal, the installed entry point, real runs.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_in_ci
from tests.tui.conftest import FLOWS

ROOST = Path(sys.executable).parent / "roost"


class Tmux:
    """One tmux server (its own socket) running one window."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                                text=True, timeout=10, check=False)
        return result.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "roost")

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", "roost", *keys)

    def wait_for(self, *texts: str, absent: tuple[str, ...] = (), timeout: float = 60) -> str:
        """The screen once it shows every one of ``texts`` and none of ``absent``: what a test
        asserts is what it waits for (a repaint can trail the state by many frames)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(text in screen for text in texts) and not any(text in screen for text in absent):
                return screen
            time.sleep(0.1)
        missing = [text for text in texts if text not in screen]
        present = [text for text in absent if text in screen]
        raise AssertionError(f"{missing} never appeared on screen (or {present} stayed); "
                             f"last screen:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    if shutil.which("tmux") is None:
        require_in_ci("tmux is not installed (apt-get install tmux)")
    if not ROOST.exists():
        require_in_ci(f"the roost entry point is not installed at {ROOST} (pip install -e .)")
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS, flows)
    server = Tmux(f"roost-test-{uuid.uuid4().hex[:8]}")
    yield server, flows
    server.run("kill-server")


def save(path: Path, text: str) -> None:
    aside = path.with_name(f".{path.name}.tmp")
    aside.write_text(text)
    os.replace(aside, path)


def start(server: Tmux, flows: Path, home: Path, size: tuple[int, int]) -> None:
    env = {
        "ROOST_HOME": str(home),
        "ROOST_RUNNER": os.environ["ROOST_RUNNER"],  # tests/conftest.py: script tasks as processes
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TERM": "xterm-256color",
        "TZ": "UTC",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = f"cd {shlex.quote(str(flows.parent))} && env {exports} {shlex.quote(str(ROOST))} flows; " \
              f"echo ROOST-EXITED-$?; sleep 30"
    width, height = size
    server.run("new-session", "-d", "-s", "roost", "-x", str(width), "-y", str(height), command)


def test_roost_in_tmux_runs_a_flow_and_shows_it(tmux: tuple[Tmux, Path], tmp_path: Path) -> None:
    server, flows = tmux
    start(server, flows, tmp_path / "home", (100, 30))
    server.wait_for("r Run", "tui.tests", "Flows")
    server.send("Down")  # fails -> greet
    server.wait_for("No execution of greet yet")
    server.send("r")
    server.wait_for("Run tui.tests.greet")
    server.send("Enter")  # the form opened with defaults: enter runs
    server.wait_for("SUCCESS greet", "Hello, Ada x2!", "✔ hello", "✔ shout")
    server.send("2")
    server.wait_for("shouted", '"ADA"')
    server.send("q")
    server.wait_for("ROOST-EXITED-0")


def test_roost_in_tmux_fits_80x24_and_reloads_a_saved_flow(tmux: tuple[Tmux, Path],
                                                           tmp_path: Path) -> None:
    server, flows = tmux
    start(server, flows, tmp_path / "home", (80, 24))
    screen = server.wait_for("r Run")
    lines = screen.rstrip("\n").splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    server.send("Down")
    server.wait_for("No execution of greet yet")
    path = flows / "greet.yml"
    save(path, path.read_text().replace("id: shout", "id: yell"))
    server.wait_for("yell", absent=("shout",))
    save(path, path.read_text().replace("type: io.kestra.plugin.core.log.Log", "type: Nope", 1))
    server.wait_for("unknown task type", "greet.yml:15:")
    server.send("q")
    server.wait_for("ROOST-EXITED-0")
