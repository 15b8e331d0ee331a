"""`roost test [PATH...]` and `roost test record ID`: Kestra TestSuites run offline.

Every suite under PATH is read and checked against its flow before anything runs (a mistake
is `file:line:col: message`, exit 2). Cases then run a few at a time; their lines come out in
suite order as soon as they are known: `PASS suite.case`, or `FAIL suite.case` with each
failed assertion and the last lines of each failed task. The last line is exactly
`N passed, M failed` (`, K skipped` when cases are disabled). `--watch` runs again the
suites a saved file affects (the suite, or the flow it tests) until Ctrl-C (exit 130).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine.core.errors import FlowError, InvalidFlowError, UsageError

if TYPE_CHECKING:
    from engine.execution.executor import Executor
    from engine.flow.model import Flow
    from engine.testing.runner import CaseResult
    from engine.testing.suite import TestSuite, UnitTest

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="suite files or folders searched for suites (default .); "
                             "`roost test record ID` writes a suite from an execution")
    parser.add_argument("-k", dest="pattern", metavar="PATTERN",
                        help="only the cases whose `suite.case` contains PATTERN (or matches it, "
                             "with * ? [ ])")
    parser.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")
    parser.add_argument("--json", action="store_true",
                        help="print the results as JSON on stdout (the PASS/FAIL lines go to stderr)")
    parser.add_argument("--watch", action="store_true",
                        help="run again the suites a saved suite or flow affects, until Ctrl-C")


def build_record_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    record = parser_class(prog="roost test record",
                          description="Write a TestSuite from a finished execution: its inputs as "
                                      "fixtures, observed outputs as equalTo assertions.")
    record.add_argument("id", help="the execution (see `roost executions --all`)")
    record.add_argument("--tasks", default="", metavar="A,B",
                        help="tasks to mock: their recorded outputs become task fixtures")
    record.add_argument("-o", "--output", metavar="FILE", help="write the suite here instead of stdout")
    return record


@dataclass
class _Loaded:
    suite: TestSuite
    flow: Flow


class _Session:
    """The suites under PATH, loaded and checked, and the runs of their cases."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.paths = [Path(p) for p in (args.paths or ["."])]
        self.pattern: str | None = args.pattern
        self.junit: str | None = args.junit
        self.as_json: bool = args.json
        self.out = out

    def load(self, only: set[Path] | None = None) -> tuple[list[_Loaded], list[FlowError]]:
        """Every suite (or those of `only`), with its flow; the mistakes of all of them."""
        from engine.core.config import RoostConfig
        from engine.testing.suite import check_against_flow, discover_suites, find_flow, read_suite

        self.config = RoostConfig.find_and_load(self.paths[0])
        loaded: list[_Loaded] = []
        errors: list[FlowError] = []
        for path in discover_suites(self.paths):
            if only is not None and path.resolve() not in only:
                continue
            suite, problems = read_suite(path)
            errors.extend(problems)
            if suite is None or not suite.namespace or not suite.flow_id:
                continue
            try:  # even a suite with mistakes is checked against its flow: every error at once
                flow = find_flow(suite, self._roots(path), self.config.plugin_defaults)
            except InvalidFlowError as exc:
                errors.extend(exc.errors)
                continue
            flow_problems = check_against_flow(suite, flow)
            errors.extend(flow_problems)
            if not problems and not flow_problems:
                loaded.append(_Loaded(suite, flow))
        return loaded, errors

    def _roots(self, suite_path: Path) -> list[Path]:
        roots = [suite_path.parent, *(p for p in self.paths if p.is_dir())]
        if self.config.path is not None:
            roots.append(self.config.path.parent)
        return roots

    def selected(self, loaded: Sequence[_Loaded]) -> list[tuple[TestSuite, UnitTest, Flow]]:
        chosen = []
        for item in loaded:
            for case in item.suite.test_cases:
                if self.pattern is None or _matches(f"{item.suite.id}.{case.id}", self.pattern):
                    chosen.append((item.suite, case, item.flow))
        return chosen

    def run(self, executor: Executor, cases: list[tuple[TestSuite, UnitTest, Flow]]) -> list[CaseResult] | None:
        """Run and print; None when interrupted (every running execution is cancelled)."""
        from engine.testing.runner import run_cases

        lines = sys.stderr if self.as_json else self.out
        printer = _InOrder(len(cases), lines)
        index_of = {(suite.path, suite.id, case.id): index for index, (suite, case, _flow) in enumerate(cases)}
        cancel = threading.Event()
        outcome: list[list[CaseResult]] = []

        def on_result(result: CaseResult) -> None:
            printer.done(index_of[(result.suite_path, result.suite_id, result.case_id)], result)

        worker = threading.Thread(target=lambda: outcome.append(
            run_cases(executor, cases, on_result=on_result, cancel=cancel)), name="roost-test", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            cancel.set()
            print("\ninterrupted: cancelling the test executions...", file=sys.stderr)
            worker.join(30)
            return None
        results = outcome[0] if outcome else []
        history = executor.runtime.history
        if history is not None:
            history.flush()
            for problem in history.write_errors:
                print(f"warning: history: {problem}", file=sys.stderr)
        if self.junit:
            from engine.testing.junit import write_junit

            write_junit(results, self.junit)
        if self.as_json:
            print(json.dumps([r.to_json() for r in results], indent=2, default=str), file=self.out)
        print(summary_line(results), file=lines, flush=True)
        return results


def cmd_test(args: argparse.Namespace) -> int:
    """`roost test`: exit 0 when every case passed, 1 when one failed, 2 when a suite is invalid."""
    session = _Session(args, sys.stdout)
    loaded, errors = session.load()
    if errors:
        for error in sorted(errors, key=lambda e: (e.path, e.line, e.column)):
            print(str(error), file=sys.stderr)
        if not args.watch:
            return EXIT_INVALID
    if not loaded and not errors:
        raise UsageError(f"no test suites under {', '.join(map(str, session.paths))} (a suite is a YAML file "
                         "with testCases and flowId)")
    cases = session.selected(loaded)
    if not cases and not args.watch:
        raise UsageError(f"-k {session.pattern}: no test case matches (cases are named suite.case)")
    from engine.core.config import RoostHome
    from engine.execution.executor import Executor
    from engine.execution.runtime import Runtime

    runtime = Runtime.create(RoostHome.from_environment(), session.config)
    try:
        executor = Executor(runtime)
        results = session.run(executor, cases) if cases else []
        if results is None:
            return EXIT_INTERRUPTED
        if args.watch:
            return _watch(session, executor)
        return EXIT_OK if all(r.status.value in ("PASSED", "SKIPPED") for r in results) else EXIT_FAILED
    finally:
        runtime.close()


def _watch(session: _Session, executor: Executor) -> int:
    """Until Ctrl-C: after each save, the suites it affects run again."""
    from watchfiles import watch

    folders = sorted({(p if p.is_dir() else p.parent).resolve() for p in session.paths})
    print(f"watching {', '.join(map(str, folders))} for changes (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        for changes in watch(*folders, debounce=300, step=50, rust_timeout=500):
            changed = {Path(path).resolve() for _change, path in changes if path.endswith((".yml", ".yaml"))}
            if not changed:
                continue
            loaded, errors = session.load()
            for error in errors:
                print(str(error), file=sys.stderr, flush=True)
            affected = [item for item in loaded
                        if Path(item.suite.path).resolve() in changed or Path(item.flow.path).resolve() in changed]
            cases = session.selected(affected)
            if cases and session.run(executor, cases) is None:
                return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_INTERRUPTED


def cmd_record(argv: Sequence[str], parser_class: type[argparse.ArgumentParser]) -> int:
    """`roost test record ID [--tasks a,b] [-o FILE]`: the suite's YAML on stdout or in FILE."""
    from engine.core.config import RoostHome
    from engine.store.history import History
    from engine.store.storage import InternalStorage
    from engine.testing.record import record_suite

    args = build_record_parser(parser_class).parse_args(list(argv))
    home = RoostHome.from_environment()
    if not home.history_db.exists():
        raise UsageError(f"no execution '{args.id}' in the history (see `roost executions --all`)")
    history = History(home.history_db)
    try:
        tasks = [name.strip() for name in args.tasks.split(",") if name.strip()]
        recorded = record_suite(history, InternalStorage(home.storage), args.id, tasks)
    finally:
        history.close()
    for note in recorded.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(recorded.text, encoding="utf-8")
        print(f"wrote {args.output}: suite {recorded.suite_id}, case {recorded.case_id}, "
              f"{recorded.fixtures} task fixture(s), {recorded.assertions} assertion(s)", file=sys.stderr)
    else:
        sys.stdout.write(recorded.text)
    return EXIT_OK


class _InOrder:
    """Prints results in case order as soon as every earlier one is known."""

    def __init__(self, count: int, stream: TextIO) -> None:
        self._results: list[CaseResult | None] = [None] * count
        self._next = 0
        self._stream = stream
        self._lock = threading.Lock()

    def done(self, index: int, result: CaseResult) -> None:
        with self._lock:
            self._results[index] = result
            while self._next < len(self._results) and (ready := self._results[self._next]) is not None:
                self._stream.write(case_report(ready))
                self._next += 1
            self._stream.flush()


def case_report(result: CaseResult) -> str:
    """`PASS suite.case`, `SKIP suite.case`, or `FAIL suite.case` and why, as printed."""
    from engine.testing.assertions import as_text

    if result.status.value == "PASSED":
        return f"PASS {result.name}\n"
    if result.status.value == "SKIPPED":
        return f"SKIP {result.name} (disabled)\n"
    lines = [f"FAIL {result.name}"]
    for failed in result.failed_assertions:
        task = f" [task {failed.task_id}]" if failed.task_id else ""
        lines.append(f"  assertion {failed.expression} {failed.operator}: expected {as_text(failed.expected)!r}, "
                     f"actual {as_text(failed.actual)!r}{task}")
        lines.append(f"    {failed.error_message}")
    for message in (result.error or "").splitlines():
        lines.append(f"  error: {message}")
    for log in result.failed_task_logs:
        lines.append(f"  task {log.task_id} FAILED" + (", its last lines:" if log.lines else ""))
        lines.extend(f"    | {line}" for line in log.lines)
    if result.execution_id:
        lines.append(f"  execution {result.execution_id} (roost execution {result.execution_id} --logs)")
    return "\n".join(lines) + "\n"


def summary_line(results: Sequence[CaseResult]) -> str:
    """Exactly `N passed, M failed`, then `, K skipped` when some were."""
    passed = sum(1 for r in results if r.status.value == "PASSED")
    skipped = sum(1 for r in results if r.status.value == "SKIPPED")
    failed = len(results) - passed - skipped
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


def _matches(name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name
