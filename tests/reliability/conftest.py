"""Reliability tests (issue 8): Roost as a user runs it, through the real `roost` process.

Every CLI run goes through `roost()`, which fails the test when a Python traceback
reaches the user. `@pytest.mark.reliability(CLASS, WHAT)` names the fault or bad-input
class a test belongs to and what it checks; scripts/reliability_report.py turns the
results into the table in docs/reliability.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.reliability import cases


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "reliability(category, checks): the fault or bad-input class of a reliability test")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    cases.reset()
    yield
    item.user_properties.append(("cases", max(cases.total(), 1)))


def roost(*args: str, home: Path, cwd: Path | None = None, env: dict[str, str] | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `roost ARGS` with ROOST_HOME=home; a traceback on stderr fails the test."""
    result = subprocess.run([sys.executable, "-m", "tui.launcher", *args], capture_output=True,
                            text=True, env=roost_env(home, env), cwd=cwd or REPO_ROOT,
                            timeout=timeout, errors="replace")
    assert_no_traceback(result.stderr)
    return result


def roost_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user whose virtualenv is active, with ROOST_HOME set."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SECRET_")}
    return {**environ, "PATH": path, "ROOST_HOME": str(home), "PYTHONPATH": str(REPO_ROOT),
            **(extra or {})}


def start_roost(*args: str, home: Path, env: dict[str, str] | None = None,
                cwd: Path | None = None, stdout: Any = subprocess.PIPE,
                stderr: Any = subprocess.PIPE) -> subprocess.Popen[str]:
    """`roost ARGS` in the background, in its own session (so a kill reaches only it).

    Pipes fill up at 64 KB: a run that logs more must get files for stdout/stderr.
    """
    return subprocess.Popen([sys.executable, "-m", "tui.launcher", *args], stdout=stdout,
                            stderr=stderr, text=True, errors="replace",
                            env=roost_env(home, env), cwd=cwd or REPO_ROOT, start_new_session=True)


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback (most recent call last)" not in stderr, f"a traceback reached the user:\n{stderr}"


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    """Read the process's stderr until a line holds `needle`; returns what was read."""
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never appeared on stderr; got:\n{seen}")


def processes_carrying(marker: str) -> list[int]:
    """Live processes (zombies aside) whose command line or environment holds `marker`."""
    needle = marker.encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                if stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                    continue
            blob = b""
            for part in ("cmdline", "environ"):
                with open(f"/proc/{name}/{part}", "rb") as handle:
                    blob += handle.read()
        except OSError:
            continue
        if needle in blob:
            found.append(int(name))
    return found


def wait_until_gone(marker: str, timeout: float = 30) -> list[int]:
    """Processes still carrying `marker` after up to `timeout` seconds (empty is good)."""
    deadline = time.monotonic() + timeout
    while (left := processes_carrying(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    return folder
