"""Tests in the workbench: the Tests pane, cases run live (``enter``, ``A``), ``g`` to the
failed task (recording a suite is :mod:`tui.app.suite_recorder`).

A case runs as its own execution on the session's executor, started like any run, so its
tasks fill the tree (mocked ones marked) and its logs stream; a worker thread waits for its
end, evaluates the assertions and posts :class:`CaseFinished`. ``A`` runs the flow's cases one
after the other, each shown as it runs.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from tui.app.host import report_error
from tui.engine_port import is_test_suite_file
from tui.models.case_results import VERDICTS, CaseKey, CaseResults, CaseRow, task_to_show
from tui.models.suite_catalog import SuiteCatalog
from tui.screens.main import DetailTabs
from tui.widgets.tests_pane import TestsPane

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.live_updates import LiveUpdates
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace
    from tui.engine_port import (
        CaseResult,
        CaseStatus,
        Flow,
        PreparedCase,
        TestSuite,
        UnitTest,
    )
    from tui.models.suite_catalog import SuiteFile

__all__ = ["CaseFinished", "RunAllFinished", "TestsControl", "TestsMessage"]


class TestsMessage(Message):
    """What the workers of this part post to the app, which hands it back (``handle``)."""

    __test__ = False  # not a pytest class, whatever its name


class CaseFinished(TestsMessage):
    """A case's execution ended and its assertions were evaluated (posted by a worker)."""

    def __init__(self, key: CaseKey, result: CaseResult, *, announce: bool) -> None:
        super().__init__()
        self.key = key
        self.result = result
        self.announce = announce


class RunAllFinished(TestsMessage):
    """``A`` ran its last case (posted by its worker)."""


@dataclasses.dataclass(frozen=True)
class _Case:
    key: CaseKey
    suite: TestSuite
    case: UnitTest
    flow: Flow


class TestsControl:
    """The Tests pane and the test cases the workbench runs."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 live: LiveUpdates) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._live = live
        self.results = CaseResults()
        self._suites: SuiteCatalog | None = None
        self._run_all: dict[CaseKey, CaseResult | None] | None = None
        """The cases of the ``A`` in progress and their results so far (None: none runs)."""

    # -- the pane ------------------------------------------------------------------------------

    @property
    def suites(self) -> SuiteCatalog | None:
        """The suites under PATH (read on first use); None before the flows are read."""
        catalog = self._workspace.catalog
        if self._suites is None and catalog is not None:
            self._suites = SuiteCatalog(catalog.folder)
        return self._suites

    def refresh(self, *, rescan: bool = False) -> None:
        """The selected flow's cases with their last results (``rescan``: read the suite
        files again first)."""
        pane = self._host.main.query_one(TestsPane)
        entry = self._selection.selected_entry
        suites = self.suites
        if entry is None or suites is None:
            pane.show([], {}, "No flow selected.")
            return
        try:
            if rescan:
                suites.scan()
            else:
                suites.ensure_scanned()
        except Exception as exc:
            report_error(self._host, "reading the test suites failed", exc)
            return
        files = suites.for_flow(entry.key, entry.flow)
        rows = self.results.rows(files)
        results = {row.key: result for row in rows
                   if (result := self.results.result(row.key)) is not None}
        pane.show(rows, results, _hint(entry.key, suites.folder, files, rows))

    def flow_selected(self) -> None:
        """Another flow is selected: its cases, once the suites are read (the first read waits
        for the pane to be shown, so opening the workbench reads no suite)."""
        suites = self._suites
        if (suites is not None and suites.scanned) or \
                self._host.main.query_one(DetailTabs).active == "tests":
            self.refresh()

    def show_case(self, key: CaseKey) -> None:
        """Tests brought forward, its suites read again, the cursor on ``key``'s case."""
        main = self._host.main
        main.focus_pane("tests")
        self.refresh(rescan=True)
        table = main.query_one(TestsPane).table
        keys = [row.key for row in table.rows_shown]
        if key in keys:
            table.move_cursor(row=keys.index(key))

    def files_changed(self, paths: list[Path]) -> None:
        """YAML files under PATH changed (flows already reloaded): suites among them (or gone)
        are read again, and the flow's suites checked against its new version."""
        suites = self._suites
        if suites is None or not suites.scanned:
            return
        self.refresh(rescan=any(suites.knows(path) or (path.is_file() and is_test_suite_file(path))
                                for path in paths))

    # -- running cases -------------------------------------------------------------------------

    def run_case(self, row: CaseRow | None) -> None:
        """``enter``: the case under the cursor, live."""
        if row is None:
            self._host.notify("No test case here: this flow has no suite yet", severity="warning",
                              timeout=3)
            return
        case = self._case_of(row)
        if case is None:
            return
        if self.results.is_running(row.key):
            self._host.notify(f"{row.name} is running", severity="warning", timeout=2)
            return
        if row.disabled:
            self._skip(case)
            self._host.notify(f"{row.name} is disabled: skipped", severity="warning", timeout=3)
            return
        prepared = self._start(case)
        if prepared is not None:
            self._host.run_worker(partial(self._wait_in_thread, case.key, prepared),
                                  name=f"test-{row.name}", group="tests", thread=True)

    def run_all(self) -> None:
        """``A``: every case of the selected flow's suites, one after the other."""
        if self._run_all is not None:
            self._host.notify("The flow's tests are already running", severity="warning",
                              timeout=2)
            return
        rows = self._host.main.query_one(TestsPane).table.rows_shown
        cases = [case for row in rows if (case := self._case_of(row, quiet=True)) is not None]
        if not cases:
            if self._flow() is not None:
                why = ("its suites have errors (see the Tests pane)" if rows else
                       "this flow has no test cases under PATH")
                self._host.notify(f"Nothing to run: {why}", severity="warning", timeout=3)
            return
        self._run_all = dict.fromkeys((case.key for case in cases), None)
        self._host.notify(f"Running {len(cases)} test case{'s' if len(cases) != 1 else ''}…",
                          timeout=2)
        self._host.run_worker(partial(self._run_all_in_thread, cases), name="test-all",
                              group="tests", thread=True)

    def _run_all_in_thread(self, cases: list[_Case]) -> None:
        """The worker of ``A``: each case started on the UI thread, waited for here."""
        try:
            for case in cases:
                if case.suite.disabled or case.case.disabled:
                    self._host.call_from_thread(self._skip, case)
                    continue
                prepared = self._host.call_from_thread(self._start, case)
                if prepared is not None:
                    self._wait_in_thread(case.key, prepared, announce=False)
        except RuntimeError:  # the workbench closed while the cases ran
            return
        self._host.post_message(RunAllFinished())

    def _start(self, case: _Case) -> PreparedCase | None:
        """Prepare and start one case's execution, shown like a run (UI thread)."""
        from tui.engine_port import CasePreparationError, CaseStatus, prepare_case

        session = self._workspace.session
        if session is None:
            self._host.notify(self._workspace.unavailable, severity="error")
            return None
        try:
            prepared = prepare_case(session.executor, case.suite, case.case, case.flow,
                                    options=session.options)
        except CasePreparationError as exc:
            self._note_result(case.key, _result_of(case, CaseStatus.ERROR, exc.message), announce=True)
            return None
        except Exception as exc:
            report_error(self._host, f"could not start {case.suite.id}.{case.case.id}", exc)
            return None
        try:
            model = session.start_prepared(prepared.handle, case.flow,
                                           dict(case.case.fixtures.inputs))
        except Exception as exc:
            prepared.close()
            report_error(self._host, f"could not start {case.suite.id}.{case.case.id}", exc)
            return None
        self.results.started(case.key, model.id)
        self._live.ensure_ticking()
        self._selection.show_new_execution(model)
        self.refresh()
        return prepared

    def _wait_in_thread(self, key: CaseKey, prepared: PreparedCase, *,
                        announce: bool = True) -> None:
        """Wait for the case's execution to end, evaluate it, post the result (a worker)."""
        handle = prepared.handle
        try:
            handle.wait()
            result = prepared.evaluate(handle.execution, handle.task_runs())
        except Exception as exc:  # a Roost bug: this case errs, the workbench goes on
            prepared.close()
            from tui.engine_port import CaseStatus

            result = dataclasses.replace(
                _result_of(_Case(key, prepared.suite, prepared.case, prepared.flow),
                           CaseStatus.ERROR, f"internal error: {exc!r}"),
                execution_id=handle.execution_id)
        self._host.post_message(CaseFinished(key, result, announce=announce))

    def _skip(self, case: _Case) -> None:
        from tui.engine_port import skipped_result

        self._note_result(case.key, skipped_result(case.suite, case.case), announce=False)

    def handle(self, event: TestsMessage) -> None:
        """A worker's message, on the UI thread."""
        if isinstance(event, CaseFinished):
            self._note_result(event.key, event.result, announce=event.announce)
        elif isinstance(event, RunAllFinished):
            self._run_all_finished()

    def _note_result(self, key: CaseKey, result: CaseResult, *, announce: bool) -> None:
        self.results.finished(key, result)
        if self._run_all is not None and key in self._run_all:
            self._run_all[key] = result
        self.refresh()
        if announce:
            symbol, word = VERDICTS.get(result.status.value, ("?", result.status.value))
            failed = result.failed_assertions
            why = (f": {failed[0].error_message}" if failed and failed[0].error_message else
                   f": {result.error.splitlines()[0]}" if result.error else "")
            self._host.notify(f"{symbol} {word} {result.name}{why}", markup=False, timeout=4,
                              severity="information" if word in ("PASS", "skipped") else "error")

    def _run_all_finished(self) -> None:
        """``A`` is over: one notice with the counts, the way ``roost test`` ends."""
        ran, self._run_all = self._run_all or {}, None
        results = [result for result in ran.values() if result is not None]
        counts = {status: sum(1 for r in results if r.status.value == status)
                  for status in ("PASSED", "FAILED", "ERROR", "SKIPPED")}
        summary = f"{counts['PASSED']} passed, {counts['FAILED'] + counts['ERROR']} failed"
        if counts["SKIPPED"]:
            summary += f", {counts['SKIPPED']} skipped"
        bad = counts["FAILED"] + counts["ERROR"]
        self._host.notify(f"Tests: {summary}", severity="error" if bad else "information",
                          timeout=5)

    # -- going to the task ---------------------------------------------------------------------

    def go_to_task(self, row: CaseRow | None) -> None:
        """``g``: the case's execution in Tasks, the cursor on its failed assertion's task."""
        if row is None:
            return
        task_id = task_to_show(self.results.result(row.key), row.case)
        if task_id is None:
            self._host.notify(f"{row.name} names no task", severity="warning", timeout=3)
            return
        session = self._workspace.session
        model = session.models.get(row.execution_id) if session and row.execution_id else None
        if model is not None and model is not self._selection.shown:
            self._selection.show_execution(model)
        if not self._selection.select_task(task_id):
            self._host.notify(f"{task_id} is not in the flow's tasks", severity="warning",
                              timeout=3)
            return
        self._host.main.focus_pane("tasks")

    # -- helpers -------------------------------------------------------------------------------

    def _flow(self) -> Flow | None:
        """The selected flow when it loads (a notice says why not)."""
        entry = self._selection.selected_entry
        if entry is None or entry.flow is None or entry.errors:
            name = entry.path.name if entry is not None else "no flow"
            self._host.notify(f"{name}: fix the flow's errors first" if entry else
                              "No flow selected", severity="error", timeout=3)
            return None
        return entry.flow

    def _case_of(self, row: CaseRow, *, quiet: bool = False) -> _Case | None:
        """What running ``row`` needs; None (with a notice unless ``quiet``) when its suite
        does not fit the flow, as ``roost test`` refuses it."""
        from tui.engine_port import check_against_flow

        suites = self.suites
        suite_file = suites.files.get(Path(row.key.suite_path)) if suites is not None else None
        suite = suite_file.suite if suite_file is not None else None
        case = suite.case(row.case_id) if suite is not None else None
        flow = self._flow() if not quiet else _valid_flow(self._selection)
        if suite is None or case is None or flow is None:
            return None
        errors = check_against_flow(suite, flow)
        if errors:
            if not quiet:
                first = errors[0]
                self._host.notify(f"{Path(first.path).name}:{first.line}:{first.column} "
                                  f"{first.message}", severity="error", timeout=6, markup=False)
            return None
        return _Case(row.key, suite, case, flow)


def _valid_flow(selection: Selection) -> Flow | None:
    entry = selection.selected_entry
    return entry.flow if entry is not None and not entry.errors else None


def _result_of(case: _Case, status: CaseStatus, error: str) -> CaseResult:
    from tui.engine_port import CaseResult

    return CaseResult(suite_id=case.suite.id, case_id=case.case.id, status=status, error=error,
                      namespace=case.suite.namespace, flow_id=case.suite.flow_id,
                      suite_path=case.suite.path)


def _hint(flow_key: str, folder: Path, files: list[SuiteFile], rows: list[CaseRow]) -> str:
    """The line over the cases: how many passed, or why there are none."""
    broken = [f for f in files if f.errors]
    if not files:
        return (f"No test suite for {flow_key} under {folder}. Record one from a finished "
                "execution: ctrl+p, Record as test.")
    parts = []
    if rows:
        outcomes = [row.outcome for row in rows]
        parts.append(f"{len(rows)} case{'s' if len(rows) != 1 else ''}")
        for outcome, word in (("PASSED", "passed"), ("FAILED", "failed"), ("ERROR", "errors"),
                              ("SKIPPED", "skipped"), ("RUNNING", "running")):
            if outcome in outcomes:
                parts.append(f"{outcomes.count(outcome)} {word}")
    for suite_file in broken:
        first = suite_file.errors[0]
        try:
            name = str(suite_file.path.relative_to(folder))
        except ValueError:
            name = first.path
        more = f" (+{len(suite_file.errors) - 1} more)" if len(suite_file.errors) > 1 else ""
        parts.append(f"✘ {name}:{first.line}:{first.column} {first.message}{more}")
    return " · ".join(parts)
