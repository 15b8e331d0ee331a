"""Record as test (palette): a test suite from the shown finished execution, written next to
its flow (``engine.testing.record``: inputs become fixtures, observed outputs ``equalTo``
assertions) and shown in the Tests pane, ready to run.

The history is read in a worker thread (its writer may still hold the execution's last
events), which posts :class:`SuiteRecorded`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from tui.models.case_results import CaseKey

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.selection import Selection
    from tui.app.tests_control import TestsControl
    from tui.app.workspace import Workspace
    from tui.engine_port import RecordedSuite

__all__ = ["SuiteRecorded", "SuiteRecorder", "suite_path_for"]


class SuiteRecorded(Message):
    """A suite was written from an execution (``path`` None: it failed, ``error`` says why)."""

    def __init__(self, path: Path | None, recorded: RecordedSuite | None,
                 error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.recorded = recorded
        self.error = error


class SuiteRecorder:
    """Writes a suite from the shown execution and hands it to the Tests pane."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 tests: TestsControl) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._tests = tests

    def available(self) -> bool:
        """Whether "Record as test" applies: the shown execution has ended."""
        model = self._selection.shown
        return model is not None and not model.live and model.finished

    def record_shown(self) -> None:
        """Palette "Record as test": a suite from the shown (finished) execution."""
        model = self._selection.shown
        if self._workspace.session is None or model is None or not self.available():
            self._host.notify("Record as test needs a finished execution: run the flow first",
                              severity="warning", timeout=4)
            return
        entry = self._workspace.entry_for_key(model.flow_key)
        flow_file = entry.path if entry is not None else Path(model.execution.flow_path)
        self._host.notify(f"Recording {model.execution.flow_id} {model.id[:8]}…", timeout=2)
        self._host.run_worker(partial(self._record_in_thread, model.id, flow_file),
                              name="record-test", group="tests-record", thread=True)

    def _record_in_thread(self, execution_id: str, flow_file: Path) -> None:
        from tui.engine_port import UsageError, record_suite

        session = self._workspace.session
        assert session is not None
        history = session.runtime.history
        try:
            if history is None:
                raise UsageError("the history is off: nothing to record from")
            history.flush(timeout=10)
            recorded = record_suite(history, session.runtime.storage, execution_id)
            path = suite_path_for(flow_file, recorded.case_id)
            path.write_text(recorded.text, encoding="utf-8")
        except Exception as exc:  # UsageError, OSError: said in a notice, never a traceback
            self._host.post_message(SuiteRecorded(None, None, str(exc)))
            return
        self._host.post_message(SuiteRecorded(path, recorded))

    def recorded(self, event: SuiteRecorded) -> None:
        """The suite is written (UI thread): Tests shows it, the cursor on its case."""
        if event.path is None or event.recorded is None:
            self._host.notify(f"Record as test failed: {event.error}", severity="error",
                              timeout=6, markup=False)
            return
        recorded = event.recorded
        self._tests.show_case(CaseKey(str(event.path.absolute()), recorded.case_id))
        notes = f" · {len(recorded.notes)} note(s) in the file" if recorded.notes else ""
        self._host.notify(f"Recorded {event.path.name}: {recorded.assertions} assertion(s), "
                          f"{recorded.fixtures} task fixture(s){notes}", timeout=5, markup=False)


def suite_path_for(flow_file: Path, case_id: str) -> Path:
    """``<flow>.<case>.test.yml`` next to the flow file, numbered when it is taken."""
    stem = f"{flow_file.stem}.{case_id}"
    path, number = flow_file.parent / f"{stem}.test.yml", 1
    while path.exists():
        number += 1
        path = flow_file.parent / f"{stem}-{number}.test.yml"
    return path
