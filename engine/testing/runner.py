"""Test cases run as real executions: fixtures in, the flow run, assertions checked after.

Each case is its own execution of the flow (Kestra's "transient execution"), labelled
`system.test: "true"` as Kestra labels test executions, so `roost executions` leaves it
out. `prepare_case` sets it up without starting it (the workbench starts the handle on
its own bus to show it live, then calls `PreparedCase.evaluate`); `run_cases` and
`run_suite` run many, a few at a time on a small thread pool, for the command line.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.core.events import Event, LogLine
from engine.core.ids import new_id
from engine.core.records import Execution, TaskRun
from engine.core.states import State
from engine.execution.executor import ExecutionHandle, Executor
from engine.execution.expression_eval import HistoryServices, variables_of_finished
from engine.execution.runtime import RunOptions, TaskStandIn
from engine.flow.model import Flow
from engine.store.history import TEST_LABEL
from engine.testing.assertions import AssertionResult, AssertionValues, evaluate_assertion
from engine.testing.suite import TestSuite, UnitTest

TAIL_LINES = 10
"""How many of a failed task's last log lines a result keeps."""


class CaseStatus(StrEnum):
    """How a case ended; `kestra_state` is Kestra's TestState for the same outcome."""

    PASSED = "PASSED"
    FAILED = "FAILED"      # an assertion did not hold
    SKIPPED = "SKIPPED"    # the case (or its suite) is disabled
    ERROR = "ERROR"        # it could not run, or an assertion could not be evaluated

    @property
    def kestra_state(self) -> str:
        return "SUCCESS" if self is CaseStatus.PASSED else self.value


@dataclass(frozen=True)
class FailedTaskLog:
    """A task run that FAILED in a case's execution, with its last log lines (errors first)."""

    task_id: str
    task_run_id: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one test case: its status, its execution, every assertion result."""

    suite_id: str
    case_id: str
    status: CaseStatus
    execution_id: str | None = None
    assertions: tuple[AssertionResult, ...] = ()
    error: str | None = None                       # why it could not run or be evaluated
    failed_task_logs: tuple[FailedTaskLog, ...] = ()
    namespace: str = ""
    flow_id: str = ""
    execution_state: State | None = None
    duration: float | None = None                  # seconds the execution took
    suite_path: str = ""

    @property
    def name(self) -> str:
        """`suite.case`, as `roost test` prints it and `-k` matches it."""
        return f"{self.suite_id}.{self.case_id}"

    @property
    def failed_assertions(self) -> tuple[AssertionResult, ...]:
        return tuple(result for result in self.assertions if not result.success)

    def to_json(self) -> dict[str, Any]:
        """Kestra's UnitTestResult (testId, state, assertionResults, errors) plus where it ran."""
        return {
            "suiteId": self.suite_id, "namespace": self.namespace, "flowId": self.flow_id,
            "testId": self.case_id, "testType": "io.kestra.core.tests.flow.UnitTest",
            "state": self.status.kestra_state, "status": self.status.value,
            "executionId": self.execution_id,
            "executionState": self.execution_state.value if self.execution_state else None,
            "duration": self.duration,
            "assertionResults": [result.to_json() for result in self.assertions],
            "errors": [{"message": line} for line in (self.error or "").splitlines() if line],
            "failedTasks": [{"taskId": log.task_id, "taskRunId": log.task_run_id, "lines": list(log.lines)}
                            for log in self.failed_task_logs],
        }


class CasePreparationError(Exception):
    """A case cannot start: an input the flow refuses, a fixture that does not render."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PreparedCase:
    """One case's execution, created but not started, and how to judge it once it ends.

    Start ``handle`` with the executor it was prepared on (``executor.start(handle)``), wait
    for it, then call ``evaluate(handle.execution, handle.task_runs())``; or ``close()`` to
    give up on it. The case's ``files`` fixtures are already in storage (``files``: URIs).
    """

    def __init__(self, executor: Executor, suite: TestSuite, case: UnitTest, flow: Flow,
                 handle: ExecutionHandle, files: Mapping[str, str]) -> None:
        self.suite = suite
        self.case = case
        self.flow = flow
        self.handle = handle
        self.files = dict(files)
        self._runtime = executor.runtime
        self._tail = _LogTail(handle.execution_id)
        self._unsubscribe: Callable[[], None] | None = executor.bus.subscribe(self._tail)

    @property
    def name(self) -> str:
        return f"{self.suite.id}.{self.case.id}"

    def close(self) -> None:
        """Stop collecting this execution's log lines (evaluate does it too)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def evaluate(self, execution: Execution, task_runs: Sequence[TaskRun]) -> CaseResult:
        """The case's result from its finished execution: every assertion, failed tasks' logs."""
        self.close()
        base = self._result(CaseStatus.ERROR, execution)
        if not execution.state.is_terminal:
            return dataclasses.replace(base, error=f"the execution is still {execution.state.value}")
        variables = variables_of_finished(execution, list(task_runs), self.flow)
        variables["execution"]["outputs"] = dict(execution.outputs)
        variables["files"] = dict(self.files)
        values = AssertionValues(self._runtime.templates, variables, HistoryServices(self._runtime, execution))
        results: list[AssertionResult] = []
        errors: list[str] = []
        for spec in self.case.assertions:
            outcome = evaluate_assertion(spec, values)
            results.extend(outcome.results)
            errors.extend(outcome.errors)
        status = (CaseStatus.ERROR if errors else
                  CaseStatus.FAILED if any(not r.success for r in results) else CaseStatus.PASSED)
        return dataclasses.replace(base, status=status, assertions=tuple(results),
                                   error="\n".join(errors) or None,
                                   failed_task_logs=self._failed_tasks(execution, task_runs))

    def _result(self, status: CaseStatus, execution: Execution) -> CaseResult:
        start, end = execution.start_date, execution.end_date
        return CaseResult(
            suite_id=self.suite.id, case_id=self.case.id, status=status, execution_id=execution.id,
            namespace=self.suite.namespace, flow_id=self.suite.flow_id, execution_state=execution.state,
            duration=(end - start).total_seconds() if start and end else None, suite_path=self.suite.path,
        )

    def _failed_tasks(self, execution: Execution, task_runs: Sequence[TaskRun]) -> tuple[FailedTaskLog, ...]:
        failed = [run for run in task_runs if run.state is State.FAILED]
        logs = []
        for run in failed:
            lines = self._tail.lines(run.id)
            if not lines and self._runtime.history is not None:  # evaluated from history, not live
                self._runtime.history.flush(5)
                records = self._runtime.history.logs(execution.id, run.id)
                lines = _pick([(r.level, r.message) for r in records])
            logs.append(FailedTaskLog(run.task_id, run.id, tuple(lines)))
        return tuple(logs)


def prepare_case(executor: Executor, suite: TestSuite, case: UnitTest, flow: Flow, *,
                 options: RunOptions | None = None) -> PreparedCase:
    """A case's execution, ready to start: files stored, inputs and trigger rendered, fixture
    tasks replaced by stand-ins, labelled as a test. Raises CasePreparationError."""
    from engine.flow.inputs import InputError
    from engine.template import TemplateError

    runtime = executor.runtime
    execution_id = new_id()
    files = {name: runtime.storage.fixture_file_uri(flow.namespace, flow.id, execution_id, name)
             for name in case.fixtures.files}
    for name, content in case.fixtures.files.items():
        runtime.storage.put_bytes(files[name], content.encode("utf-8"))
    context = {"files": files, "flow": {"id": flow.id, "namespace": flow.namespace},
               "execution": {"id": execution_id, "originalId": execution_id}}
    services = HistoryServices(runtime, Execution(id=execution_id, namespace=flow.namespace, flow_id=flow.id))
    try:
        inputs = runtime.templates.render_value(dict(case.fixtures.inputs), context, services)
        trigger = (runtime.templates.render_value(dict(case.fixtures.trigger.variables), context, services)
                   if case.fixtures.trigger is not None else None)
    except TemplateError as exc:
        raise CasePreparationError(f"fixtures: {exc.message}") from None
    stand_ins: dict[str, tuple[TaskStandIn, ...]] = {}
    for fixture in case.fixtures.tasks:
        stand_in = TaskStandIn(task_id=fixture.id, state=fixture.state, outputs=dict(fixture.outputs or {}),
                               value=fixture.value, variables={"files": files})
        stand_ins[fixture.id] = (*stand_ins.get(fixture.id, ()), stand_in)
    run_options = dataclasses.replace(options or RunOptions(), task_fixtures=stand_ins)
    try:
        handle = executor.prepare(flow, inputs, trigger=trigger, labels={TEST_LABEL: "true"},
                                  options=run_options, execution_id=execution_id)
    except InputError as exc:
        raise CasePreparationError(f"fixtures.inputs: {exc}") from None
    return PreparedCase(executor, suite, case, flow, handle, files)


def skipped_result(suite: TestSuite, case: UnitTest) -> CaseResult:
    """The result of a disabled case (or a case of a disabled suite): not run."""
    return CaseResult(suite_id=suite.id, case_id=case.id, status=CaseStatus.SKIPPED,
                      namespace=suite.namespace, flow_id=suite.flow_id, suite_path=suite.path)


def run_case(executor: Executor, suite: TestSuite, case: UnitTest, flow: Flow, *,
             options: RunOptions | None = None, cancel: threading.Event | None = None) -> CaseResult:
    """Run one case to its end in the calling thread (its execution has its own) and judge it."""
    if suite.disabled or case.disabled:
        return skipped_result(suite, case)
    failed = CaseResult(suite_id=suite.id, case_id=case.id, status=CaseStatus.ERROR,
                        namespace=suite.namespace, flow_id=suite.flow_id, suite_path=suite.path)
    try:
        prepared = prepare_case(executor, suite, case, flow, options=options)
    except CasePreparationError as exc:
        return dataclasses.replace(failed, error=exc.message)
    handle = prepared.handle
    try:
        executor.start(handle)
        while not handle.done:
            handle.wait(0.2)
            if cancel is not None and cancel.is_set():
                handle.cancel()
        return prepared.evaluate(handle.execution, handle.task_runs())
    except Exception as exc:  # a Roost bug: one case errs, the others still run
        prepared.close()
        return dataclasses.replace(failed, execution_id=handle.execution_id, error=f"internal error: {exc!r}")


def run_cases(executor: Executor, cases: Sequence[tuple[TestSuite, UnitTest, Flow]], *,
              workers: int | None = None, options: RunOptions | None = None,
              on_result: Callable[[CaseResult], None] | None = None,
              cancel: threading.Event | None = None) -> list[CaseResult]:
    """Run cases a few at a time (each is an independent execution); results in input order.

    ``on_result`` hears each result as it comes (from a pool thread); once ``cancel`` is set
    the running executions are cancelled and the cases not started yet are not run.
    """
    results: list[CaseResult | None] = [None] * len(cases)

    def one(index: int) -> None:
        suite, case, flow = cases[index]
        if cancel is not None and cancel.is_set():
            result = dataclasses.replace(skipped_result(suite, case), status=CaseStatus.ERROR,
                                         error="not run: interrupted")
        else:
            result = run_case(executor, suite, case, flow, options=options, cancel=cancel)
        results[index] = result
        if on_result is not None:
            on_result(result)

    count = workers or min(4, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=max(1, count), thread_name_prefix="roost-test") as pool:
        for future in [pool.submit(one, index) for index in range(len(cases))]:
            future.result()
    return [result for result in results if result is not None]


def run_suite(executor: Executor, suite: TestSuite, flow: Flow, *,
              select: Callable[[TestSuite, UnitTest], bool] | None = None,
              workers: int | None = None, options: RunOptions | None = None,
              on_result: Callable[[CaseResult], None] | None = None,
              cancel: threading.Event | None = None) -> list[CaseResult]:
    """Every case of one suite (those ``select`` keeps), disabled ones SKIPPED, in suite order."""
    chosen = [(suite, case, flow) for case in suite.test_cases if select is None or select(suite, case)]
    return run_cases(executor, chosen, workers=workers, options=options, on_result=on_result, cancel=cancel)


class _LogTail:
    """The last log lines of each task run of one execution, as they are published."""

    def __init__(self, execution_id: str) -> None:
        self._execution_id = execution_id
        self._lines: dict[str, deque[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if not isinstance(event, LogLine) or event.execution_id != self._execution_id or not event.task_run_id:
            return
        if event.level in ("TRACE", "DEBUG"):
            return
        with self._lock:
            lines = self._lines.setdefault(event.task_run_id, deque(maxlen=4 * TAIL_LINES))
            lines.append((event.level, event.message))

    def lines(self, task_run_id: str) -> list[str]:
        with self._lock:
            return _pick(list(self._lines.get(task_run_id, ())))


def _pick(lines: list[tuple[str, str]]) -> list[str]:
    """The last error (and warning) lines, else the last lines of any level."""
    serious = [message for level, message in lines if level in ("ERROR", "WARN", "WARNING")]
    return (serious or [message for _level, message in lines])[-TAIL_LINES:]
