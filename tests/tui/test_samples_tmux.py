"""The README's first walk-through, for real: `roost sample_flows` in tmux, Kestra's S3 example
simulated with the sample CSV, and the cleaned file previewed on the Outputs pane.

A copy of sample_flows/ as `make run` leaves it (its git repositories made by
scripts/sample_repos.py), opened from the project folder the way `make run` opens it.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
import time
import uuid
from pathlib import Path

from engine.flow.loader import discover_flow_files
from tests.conftest import REPO_ROOT, require_in_ci
from tests.tui.test_tmux_e2e import ROOST, Tmux


def build_sample_repos(flows: Path) -> None:
    spec = importlib.util.spec_from_file_location("sample_repos", REPO_ROOT / "scripts" / "sample_repos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--flows", str(flows)]) == 0


def settled(server: Tmux, quiet: float = 0.3, timeout: float = 10) -> str:
    """The screen once a repaint is over: unchanged for `quiet` seconds (a key's effect is
    painted over several frames; acting on a half-painted screen would press once too often)."""
    deadline = time.monotonic() + timeout
    screen, since = server.screen(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = server.screen()
        if now != screen:
            screen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return screen


def press_until(server: Tmux, key: str, text: str, tries: int) -> str:
    """Press `key`, one repaint at a time, until the screen shows `text`."""
    for _ in range(tries):
        screen = settled(server)
        if text in screen:
            return screen
        server.send(key)
    return server.wait_for(text, timeout=5)


def test_the_seed_s3_flow_simulated_in_the_workbench_previews_its_cleaned_csv(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        require_in_ci("tmux is not installed (apt-get install tmux)")
    if not ROOST.exists():
        require_in_ci(f"the roost entry point is not installed at {ROOST} (pip install -e .)")
    project = tmp_path / "project"
    flows = project / "sample_flows"
    shutil.copytree(REPO_ROOT / "sample_flows", flows, ignore=shutil.ignore_patterns(".repos", "__pycache__"))
    build_sample_repos(flows)
    env = {"ROOST_HOME": str(tmp_path / "home"), "ROOST_RUNNER": "process", "TERM": "xterm-256color",
           "TZ": "UTC", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # COLUMNS/LINES from the test process would fix Textual's size below the window's.
    command = (f"cd {shlex.quote(str(project))} && env -u COLUMNS -u LINES {exports} "
               f"{shlex.quote(str(ROOST))} sample_flows; "
               f"echo ROOST-EXITED-$?; sleep 30")
    server = Tmux(f"roost-test-{uuid.uuid4().hex[:8]}")
    try:
        server.run("new-session", "-d", "-s", "roost", "-x", "120", "-y", "36", command)
        server.wait_for("r Run", "No execution of csv_cleanup yet", "clean python.Script")  # loaded
        ids = sorted((path.stem for path in discover_flow_files(flows)), key=str.lower)
        server.send(*["Down"] * ids.index("s3TriggerCommands"))  # the list is sorted by id
        server.wait_for("No execution of s3TriggerCommands yet", "cloneRepo git.Clone")
        server.send("r")
        server.wait_for("Run company.team.s3TriggerCommands", "Simulate waitForS3object")
        server.send("Down", "Enter")
        server.wait_for("no file yet: type a path and press enter")
        server.send("-l", "sample_flows/data/messy_customers.csv")
        server.send("Enter")  # adds the file
        server.wait_for("•", absent=("no file yet", "no such file"))  # the path, wrapped
        server.send("Enter")  # an empty path: run
        server.wait_for("SUCCESS s3TriggerCommands", "wrote 7 rows to", timeout=60)
        server.send("2")
        server.wait_for("clean_dataset.csv", "data.csv", "Highlight an output file to preview it here")
        screen = press_until(server, "Down", "CSV · 6 columns · 7 rows", tries=12)
        assert "Ada Lovelace" in screen and "ada@example.com" in screen
        server.wait_for("profile · 7 rows")
        server.send("q")
        server.wait_for("ROOST-EXITED-0")
    finally:
        server.run("kill-server")
