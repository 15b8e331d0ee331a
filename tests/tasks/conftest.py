"""Fixtures for task tests that need real servers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_in_ci
from tests.gitrepos import HistoryRepo, git_daemon, git_daemon_available, history_repo


@dataclass(frozen=True)
class ServedRepo:
    """A history repository on disk and served by a real `git daemon` on 127.0.0.1."""

    repo: HistoryRepo
    port: int

    @property
    def file_url(self) -> str:
        return f"file://{self.repo.bare}"

    @property
    def daemon_url(self) -> str:
        return f"git://127.0.0.1:{self.port}/{self.repo.bare.name}"


@pytest.fixture(scope="module")
def served_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedRepo]:
    if not git_daemon_available():
        require_in_ci("`git daemon` is not installed (Debian ships it in the git package; "
                      "elsewhere install git-daemon)")
    base: Path = tmp_path_factory.mktemp("served")
    repo = history_repo(base)
    with git_daemon(base) as port:
        yield ServedRepo(repo, port)
