"""Tasks Roost cannot run, in the workbench: the run pauses before one that no mock covers
(the workspace adds it to the run's breakpoints), and this part offers the mock screen
(:mod:`tui.screens.mock_outputs`): typed outputs or a skip stand in for the task (SUCCESS,
marked mocked), abort kills the run, and either answer may be saved as a ``[[mocks]]`` table
in the flow's roost.toml (created next to the flow when there is none) so later runs (here,
``roost run`` and ``roost test``) do not ask again.

The screen opens prefilled with the last outputs used for that task (typed here, or given by
an earlier mocked run this session). The engine is reached only through the execution
handle (``mock_paused``, ``command``) and :mod:`tui.engine_port`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.app.host import report_error
from tui.engine_port import CONFIG_NAME, DebugCommand, MockSpec, UnavailableTask, append_mock

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.workspace import Workspace
    from tui.engine_port import ExecutionHandle, Flow, PauseInspection
    from tui.screens.mock_outputs import MockChoice

__all__ = ["MockControl"]


class MockControl:
    """Offers the mock screen at a pause before an unavailable task and applies the answer."""

    def __init__(self, host: AppHost, workspace: Workspace) -> None:
        self._host = host
        self._workspace = workspace
        self._offered: set[str] = set()          # task run ids the screen was opened for
        self.last_outputs: dict[tuple[str, str], dict[str, Any]] = {}
        """(flow key, task id) -> the outputs last used for it (what the screen starts from)."""

    def check(self) -> None:
        """On every frame: open the screen for a new pause before an unavailable task."""
        session = self._workspace.session
        host = self._host
        if session is None or not host.screen_stack or host.screen is not host.screen_stack[0]:
            return
        for execution_id, handle in list(session.handles.items()):
            pause = handle.paused if not handle.done else None
            if pause is None or not pause.task_run_id or pause.task_run_id in self._offered:
                continue
            model = session.models.get(execution_id)
            flow = model.flow if model is not None else None
            task = flow.find_task(pause.task_id) if flow is not None else None
            if flow is None or not isinstance(task, UnavailableTask):
                continue
            self._offered.add(pause.task_run_id)
            self._offer(flow, handle, pause)
            return

    def _offer(self, flow: Flow, handle: ExecutionHandle, pause: PauseInspection) -> None:
        from tui.screens.mock_outputs import MockOutputsScreen  # on use, not at start

        key = (flow.key, pause.task_id)
        prefill = self.last_outputs.get(key, self._last_mocked_outputs(*key))
        screen = MockOutputsScreen(pause.task_id, pause.task_type, prefill,
                                   str(self._config_path(flow)))

        def chosen(choice: MockChoice | None) -> None:
            try:
                self._apply(flow, handle, pause, choice)
            except Exception as exc:  # never a traceback on screen
                report_error(self._host, f"mocking {pause.task_id} failed", exc)

        self._host.push_screen(screen, chosen)

    def _apply(self, flow: Flow, handle: ExecutionHandle, pause: PauseInspection,
               choice: MockChoice | None) -> None:
        host = self._host
        if choice is None:
            host.notify(f"{pause.task_id} is still paused: n/c run it (it fails: not available "
                        "locally), k skips, x aborts", severity="warning", timeout=5, markup=False)
            return
        if choice.action == "abort":
            handle.command(DebugCommand.ABORT)
            host.notify(f"Aborted before {pause.task_id}", timeout=3, markup=False)
            return
        outputs = choice.outputs if choice.action == "outputs" else {}
        self.last_outputs[(flow.key, pause.task_id)] = dict(outputs)
        if choice.save:
            self._save(flow, pause.task_id, outputs)
        if not handle.mock_paused(pause.task_id, outputs):
            host.notify(f"{pause.task_id} is no longer paused: the mock was not used",
                        severity="warning", timeout=4, markup=False)
            return
        what = "skipped (SUCCESS, no outputs)" if choice.action == "skip" else "mocked"
        host.notify(f"{pause.task_id} {what}", timeout=3, markup=False)

    def _config_path(self, flow: Flow) -> Path:
        """The roost.toml the flow's settings came from, else one next to the flow file."""
        session = self._workspace.session
        config_path = session.config.path if session is not None else None
        if config_path is not None:
            return config_path
        flow_path = Path(flow.path) if flow.path else self._workspace.path
        folder = flow_path if flow_path.is_dir() else flow_path.parent
        return folder / CONFIG_NAME

    def _save(self, flow: Flow, task_id: str, outputs: dict[str, Any]) -> None:
        """Append the mock to roost.toml and make this session's later runs use it too."""
        session = self._workspace.session
        path = self._config_path(flow)
        mock = MockSpec(task=task_id, flow=flow.key, outputs=outputs, origin=str(path))
        try:
            append_mock(path, mock)
        except (OSError, ValueError) as exc:
            self._host.notify(f"not saved in {path}: {exc}", severity="error", timeout=6,
                              markup=False)
            return
        if session is not None:
            config = dataclasses.replace(session.runtime.config, path=path,
                                         mocks=(*session.runtime.config.mocks, mock))
            session.runtime.config = config
            session.config = config
        self._host.notify(f"saved as a mock of {task_id} in {path}", timeout=4, markup=False)

    def _last_mocked_outputs(self, flow_key: str, task_id: str) -> dict[str, Any]:
        """The outputs of the latest mocked run of the task this session has shown."""
        session = self._workspace.session
        if session is None:
            return {}
        for model in reversed(list(session.models.values())):
            if model.flow is None or model.flow.key != flow_key:
                continue
            for run in reversed(list(model.task_runs.values())):
                if run.task_id == task_id and run.mocked:
                    return dict(run.outputs or {})
        return {}
