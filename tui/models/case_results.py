"""What the Tests pane lists: each case of the selected flow's suites with its last result.

Results are kept per case for the whole workbench session (selecting another flow and coming
back shows them again); a case whose suite file changed keeps its result until it runs again.
No Textual here: :mod:`tui.widgets.tests_pane` paints these rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.engine_port import CaseResult, UnitTest
    from tui.models.suite_catalog import SuiteFile

__all__ = ["VERDICTS", "CaseKey", "CaseResults", "CaseRow", "shown_value", "task_to_show"]

VERDICTS: dict[str, tuple[str, str]] = {
    "PASSED": ("✔", "PASS"),
    "FAILED": ("✘", "FAIL"),
    "ERROR": ("✘", "ERROR"),
    "SKIPPED": ("↷", "skipped"),
    "RUNNING": ("▶", "running"),
    "": ("·", "not run yet"),
}
"""A case's outcome (a CaseStatus, RUNNING, or "" before its first run) as symbol and word."""


@dataclass(frozen=True)
class CaseKey:
    """One case of one suite file (a file holds one suite)."""

    suite_path: str
    case_id: str


@dataclass(frozen=True)
class CaseRow:
    """One row of the pane: a case and where it stands."""

    key: CaseKey
    suite_id: str
    case: UnitTest
    disabled: bool
    """The case or its whole suite is disabled: it is skipped, never run."""
    outcome: str
    """A key of :data:`VERDICTS`."""
    execution_id: str | None
    """The execution of its last (or current) run."""

    @property
    def case_id(self) -> str:
        return self.key.case_id

    @property
    def name(self) -> str:
        """``suite.case``, as ``roost test`` prints it."""
        return f"{self.suite_id}.{self.key.case_id}"

    @property
    def verdict(self) -> tuple[str, str]:
        return VERDICTS.get(self.outcome, ("?", self.outcome))


class CaseResults:
    """Each case's last result, and the execution of each case running now."""

    def __init__(self) -> None:
        self._results: dict[CaseKey, CaseResult] = {}
        self._running: dict[CaseKey, str] = {}

    def started(self, key: CaseKey, execution_id: str) -> None:
        self._running[key] = execution_id

    def finished(self, key: CaseKey, result: CaseResult) -> None:
        self._running.pop(key, None)
        self._results[key] = result

    def is_running(self, key: CaseKey) -> bool:
        return key in self._running

    @property
    def any_running(self) -> bool:
        return bool(self._running)

    def result(self, key: CaseKey) -> CaseResult | None:
        return self._results.get(key)

    def rows(self, suites: Iterable[SuiteFile]) -> list[CaseRow]:
        """The cases of ``suites`` (those that load), in file and then case order."""
        rows: list[CaseRow] = []
        for suite_file in suites:
            suite = suite_file.suite
            if suite is None:
                continue
            for case in suite.test_cases:
                key = CaseKey(str(suite_file.path), case.id)
                result = self._results.get(key)
                running = self._running.get(key)
                execution_id: str | None
                if running is not None:
                    outcome, execution_id = "RUNNING", running
                elif result is not None:
                    outcome, execution_id = result.status.value, result.execution_id
                else:
                    outcome, execution_id = "", None
                rows.append(CaseRow(key, suite.id, case, suite.disabled or case.disabled,
                                    outcome, execution_id))
        return rows


def shown_value(value: Any) -> str:
    """An expected or actual value as the pane prints it: text in quotes (so a trailing space
    or a number-as-text shows), everything else as JSON (``null``, ``5``, ``[1, 2]``)."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def task_to_show(result: CaseResult | None, case: UnitTest) -> str | None:
    """The task ``g`` jumps to: the first failed assertion's, else the first task that
    failed, else the first assertion naming a task (the case has not run yet, or passed)."""
    if result is not None:
        for assertion in result.assertions:
            if not assertion.success and assertion.task_id:
                return assertion.task_id
        for log in result.failed_task_logs:
            return log.task_id
        for assertion in result.assertions:
            if assertion.task_id:
                return assertion.task_id
    return next((spec.task_id for spec in case.assertions if spec.task_id), None)
