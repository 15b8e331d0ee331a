"""The workbench's one door to the engine: every engine type and function the UI uses.

``tui/`` imports the engine only from here (``tui/launcher.py`` aside, which hands the
workbench to ``engine.cli``), so what the UI depends on is one list a reader can check, and
engine internals can move without touching widgets. Nothing here imports ``tui``.

Two kinds of names:

* loaded with this module: value types, events, errors and the flow loader. The first paint
  needs them (the flow list parses flows, the panes hold records), so they cost nothing extra.
* loaded on first use (module ``__getattr__``): the runtime, executor, trigger scheduler,
  replay, evaluation, snapshot reading, history, and running and recording test cases. They
  pull in most of the engine and are only needed once the session opens or a key asks for
  them, so the workbench paints first. (Test suites themselves load with this module: reading
  one needs only the flow loader's parts.)
  ``from tui.engine_port import Executor`` inside a function imports it then; the type
  checker sees them all through the ``TYPE_CHECKING`` block.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from engine.core.config import CONFIG_NAME
from engine.core.debug import DebugCommand, PauseInspection
from engine.core.errors import FlowError, InvalidFlowError, UsageError
from engine.core.events import (
    Event,
    ExecutionChanged,
    LogBatch,
    LogLine,
    MetricRecorded,
    OutputFileCaptured,
    PausedAtTask,
    TaskFilesChanged,
    TaskRunChanged,
    WorkingDirectoryChanged,
)
from engine.core.mocks import MockSpec, append_mock
from engine.core.records import Execution, TaskRun, parse_iso
from engine.flow.inputs import InputDefinition, InputError
from engine.flow.loader import discover_flow_files, is_test_suite_file, load_flow_text
from engine.flow.model import Flow
from engine.scheduling.events import TriggerEvent, TriggerFired, TriggerStatus
from engine.tasks.base import Task
from engine.tasks.unavailable import UnavailableTask
from engine.testing.suite import (
    TestSuite,
    UnitTest,
    check_against_flow,
    discover_suites,
    load_suite,
)
from engine.triggers.base import TriggerKey
from engine.triggers.properties import TriggerError
from engine.workdir.file_diff import is_probably_text, text_diff
from engine.workdir.manifest import ChangeKind, FileChange, format_bytes, sizes_text

if TYPE_CHECKING:
    from engine.cli.compare_command import render_report
    from engine.core.config import RoostConfig, RoostHome
    from engine.execution.executor import ExecutionHandle, Executor
    from engine.execution.expression_eval import EvaluationError, evaluate_finished
    from engine.execution.mock_plan import unmocked_unavailable
    from engine.execution.replay import PreparedReplay, ReplayError, prepare_replay
    from engine.execution.runtime import RunOptions, Runtime
    from engine.flow.input_values import resolve_inputs
    from engine.scheduling.scheduler import TriggerScheduler
    from engine.scheduling.simulate import (
        FireArgs,
        TriggerChoice,
        json_problem,
        parse_date,
        simulated_firing,
        trigger_choices,
    )
    from engine.store.execution_compare import CompareReport, compare_executions
    from engine.store.history import History
    from engine.testing.assertions import AssertionResult
    from engine.testing.record import RecordedSuite, record_suite
    from engine.testing.runner import (
        CasePreparationError,
        CaseResult,
        CaseStatus,
        PreparedCase,
        prepare_case,
        skipped_result,
    )
    from engine.workdir.change_contents import ChangeUnreadable, read_change
    from engine.workdir.directories import flow_folder

__all__ = [
    # records, states and events
    "Event", "Execution", "ExecutionChanged", "LogBatch", "LogLine", "MetricRecorded", "OutputFileCaptured",
    "PausedAtTask", "TaskFilesChanged", "TaskRun", "TaskRunChanged", "WorkingDirectoryChanged",
    "parse_iso",
    # flows, tasks, inputs and their errors
    "Flow", "FlowError", "InputDefinition", "InputError", "InvalidFlowError", "Task",
    "UsageError", "discover_flow_files", "load_flow_text", "resolve_inputs",
    # debugging
    "DebugCommand", "EvaluationError", "PauseInspection", "evaluate_finished",
    # tasks Roost cannot run, and their mocks
    "CONFIG_NAME", "MockSpec", "UnavailableTask", "append_mock", "unmocked_unavailable",
    # triggers
    "TriggerError", "TriggerEvent", "TriggerFired", "TriggerKey", "TriggerScheduler",
    "TriggerStatus",
    # a trigger's firing simulated (r -> Simulate, S)
    "FireArgs", "TriggerChoice", "json_problem", "parse_date", "simulated_firing", "trigger_choices",
    # flow unit tests (Kestra's TestSuite)
    "AssertionResult", "CasePreparationError", "CaseResult", "CaseStatus", "PreparedCase",
    "RecordedSuite", "TestSuite", "UnitTest", "check_against_flow", "discover_suites",
    "is_test_suite_file",
    "load_suite", "prepare_case", "record_suite", "skipped_result",
    # working directories and their changes
    "ChangeKind", "ChangeUnreadable", "FileChange", "flow_folder", "format_bytes",
    "is_probably_text", "read_change", "sizes_text", "text_diff",
    # two executions compared (roost compare)
    "CompareReport", "compare_executions", "render_report",
    # the engine itself (loaded on first use)
    "ExecutionHandle", "Executor", "History", "PreparedReplay", "ReplayError", "RoostConfig",
    "RoostHome", "RunOptions", "Runtime", "prepare_replay",
]

_LOADED_ON_FIRST_USE: dict[str, str] = {
    "RoostConfig": "engine.core.config",
    "RoostHome": "engine.core.config",
    "ExecutionHandle": "engine.execution.executor",
    "Executor": "engine.execution.executor",
    "EvaluationError": "engine.execution.expression_eval",
    "evaluate_finished": "engine.execution.expression_eval",
    "unmocked_unavailable": "engine.execution.mock_plan",
    "PreparedReplay": "engine.execution.replay",
    "ReplayError": "engine.execution.replay",
    "prepare_replay": "engine.execution.replay",
    "RunOptions": "engine.execution.runtime",
    "Runtime": "engine.execution.runtime",
    "TriggerScheduler": "engine.scheduling.scheduler",
    "FireArgs": "engine.scheduling.simulate",
    "TriggerChoice": "engine.scheduling.simulate",
    "json_problem": "engine.scheduling.simulate",
    "parse_date": "engine.scheduling.simulate",
    "simulated_firing": "engine.scheduling.simulate",
    "trigger_choices": "engine.scheduling.simulate",
    "History": "engine.store.history",
    "CompareReport": "engine.store.execution_compare",
    "compare_executions": "engine.store.execution_compare",
    "render_report": "engine.cli.compare_command",
    "AssertionResult": "engine.testing.assertions",
    "RecordedSuite": "engine.testing.record",
    "record_suite": "engine.testing.record",
    "CasePreparationError": "engine.testing.runner",
    "CaseResult": "engine.testing.runner",
    "CaseStatus": "engine.testing.runner",
    "PreparedCase": "engine.testing.runner",
    "prepare_case": "engine.testing.runner",
    "skipped_result": "engine.testing.runner",
    "ChangeUnreadable": "engine.workdir.change_contents",
    "read_change": "engine.workdir.change_contents",
    "resolve_inputs": "engine.flow.input_values",
    "flow_folder": "engine.workdir.directories",
}
"""Name -> the engine module that defines it, imported when the name is first asked for."""


def __getattr__(name: str) -> object:
    """Import a heavy engine name on first use (PEP 562) and keep it for the next lookup."""
    module = _LOADED_ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
