"""Isolated python environments built with a real uv: keyed, cached once, rebuilt when half-made."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from engine.runners.python_env import (
    MARKER,
    EnvBuilder,
    EnvError,
    EnvSpec,
    local_interpreter,
    normalise_requirements,
)


class Logs:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, level: str, message: str) -> None:
        with self._lock:
            self.lines.append((level, message))

    def installs(self) -> list[str]:
        return [m for _, m in self.lines if m.startswith("installing python dependencies")]


def builder(tmp_path: Path, logs: Logs, marker: str = "test-env") -> EnvBuilder:
    import os

    return EnvBuilder(tmp_path / "cache", dict(os.environ), threading.Event(), marker, logs)


def spec(*packages: str, manager: str = "UV") -> EnvSpec:
    import os

    return EnvSpec(local_interpreter(os.environ["PATH"], os.environ), normalise_requirements(packages),
                   manager)


def imports(env_root: Path, module: str) -> str:
    done = subprocess.run([str(env_root / "bin" / "python"), "-c", f"import {module}; print({module}.__file__)"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_requirements_are_normalised_so_spelling_and_order_do_not_make_another_env():
    assert normalise_requirements(["Six", " six ", "Ini_Config >= 2", ""]) == ("ini-config>=2", "six")
    assert spec("six", "iniconfig").key() == spec("iniconfig", "SIX").key()
    assert spec("six").key() != spec("six", "iniconfig").key()
    assert spec("six").key() != spec("six", manager="PIP").key()


def test_an_env_is_built_once_then_found_by_lookup(tmp_path):
    logs = Logs()
    first = builder(tmp_path, logs).dependency_env(spec("six"), cached=True)
    assert logs.installs() == [f"installing python dependencies six with uv into {first.root}"]
    assert (first.root / MARKER).is_file()
    assert imports(first.root, "six").startswith(str(first.root))
    logs.lines.clear()
    again = builder(tmp_path, logs).dependency_env(spec("six"), cached=True)
    assert again.root == first.root and logs.lines == []


def test_a_half_built_env_without_its_marker_is_rebuilt_not_reused(tmp_path):
    logs = Logs()
    wanted = spec("six")
    half = tmp_path / "cache" / "envs" / wanted.key()
    (half / "bin").mkdir(parents=True)
    (half / "left-by-a-killed-install").write_text("x")
    env = builder(tmp_path, logs).dependency_env(wanted, cached=True)
    assert env.root == half and len(logs.installs()) == 1
    assert not (half / "left-by-a-killed-install").exists()
    assert imports(env.root, "six")


def test_two_tasks_building_the_same_env_at_once_build_it_once(tmp_path):
    logs = Logs()
    roots: list[Path] = []
    start = threading.Barrier(2)

    def build() -> None:
        start.wait()
        roots.append(builder(tmp_path, logs).dependency_env(spec("six"), cached=True).root)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(roots) == 2 and roots[0] == roots[1]
    assert len(logs.installs()) == 1


def test_an_uncached_env_is_temporary_and_discarded(tmp_path):
    logs = Logs()
    env = builder(tmp_path, logs).dependency_env(spec("six"), cached=False)
    assert env.temporary and imports(env.root, "six")
    assert not (tmp_path / "cache" / "envs").exists()
    env.discard()
    assert not env.root.exists()


def test_the_pip_manager_makes_a_venv_and_installs_with_its_pip(tmp_path):
    logs = Logs()
    env = builder(tmp_path, logs).dependency_env(spec("six", manager="PIP"), cached=True)
    assert imports(env.root, "six").startswith(str(env.root))
    assert any("Successfully installed six" in m for _, m in logs.lines), logs.lines   # pip's words


def test_a_package_that_does_not_exist_fails_with_its_name_and_uv_error(tmp_path):
    logs = Logs()
    with pytest.raises(EnvError) as failure:
        builder(tmp_path, logs).dependency_env(spec("roost-no-such-package-4711"), cached=True)
    message = str(failure.value)
    assert "could not be installed" in message and "roost-no-such-package-4711" in message
    assert "not found" in message   # uv's own words, the tail of its output
    assert not (tmp_path / "cache" / "envs" / spec("roost-no-such-package-4711").key() / MARKER).exists()


def test_a_flow_env_has_pip_and_is_kept_per_flow(tmp_path):
    import os

    logs = Logs()
    python = local_interpreter(os.environ["PATH"], os.environ)
    one = builder(tmp_path, logs).flow_env("company.team", "etl", python)
    assert (one.bin / "pip").exists() and (one.bin / "python3").exists()
    assert builder(tmp_path, logs).flow_env("company.team", "etl", python).root == one.root
    assert builder(tmp_path, logs).flow_env("company.team", "other", python).root != one.root
