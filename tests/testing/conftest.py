"""Helpers for `roost test`'s tests: suites run on a real executor, and the real `roost` process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.execution.executor import Executor
from engine.testing.runner import CaseResult, run_suite
from engine.testing.suite import TestSuite, find_flow, load_suite
from tests.conftest import REPO_ROOT, Engine


class SuiteEngine(Engine):
    """An Engine (real runtime, real history) that also writes and runs test suites."""

    def write(self, name: str, text: str) -> Path:
        path = self.flow_dir / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def load_suite(self, flow_text: str, suite_text: str) -> TestSuite:
        self.write("flow.yml", flow_text)
        suite_path = self.write("flow_test.yml", suite_text)
        flow = find_flow(load_suite(suite_path), [self.flow_dir])
        return load_suite(suite_path, flow)

    def run_suite(self, flow_text: str, suite_text: str) -> dict[str, CaseResult]:
        """Every case of the suite, run for real; results by case id."""
        suite = self.load_suite(flow_text, suite_text)
        flow = find_flow(suite, [self.flow_dir])
        results = run_suite(Executor(self.runtime), suite, flow)
        self.runtime.history.flush()
        return {result.case_id: result for result in results}


@pytest.fixture
def suites(tmp_path: Path) -> Iterator[SuiteEngine]:
    flows = tmp_path / "flows"
    flows.mkdir()
    instance = SuiteEngine(tmp_path / "home", flows)
    yield instance
    instance.close()


def roost(*args: str, home: Path, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real `roost` entry point, as a user runs it."""
    environment = {**os.environ, "ROOST_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "tui.launcher", *args], capture_output=True, text=True,
                          env=environment, cwd=cwd or REPO_ROOT, timeout=timeout)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path
