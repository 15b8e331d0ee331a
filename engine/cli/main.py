"""`roost`: the headless command line (the contract is in DESIGN.md).

Only argparse and the engine are imported here. The workbench is a parameter
(:class:`Workbench`), injected by ``tui.launcher``: the engine never imports the UI, and
`roost validate` and `roost run` never pay for Textual.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.core.errors import InvalidFlowError, UsageError

if TYPE_CHECKING:  # imported when a command runs: `roost --help` stays fast
    from engine.cli.debug_prompt import DebugPrompt
    from engine.core.records import Execution
    from engine.execution.executor import ExecutionHandle, Executor
    from engine.execution.runtime import Runtime
    from engine.flow.model import Flow
    from engine.store.history import History, LogRecord

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
COMMANDS = ("run", "replay", "validate", "executions", "execution", "storage", "serve", "triggers", "test",
            "kv", "compare")


class Workbench(Protocol):
    """What the command line needs of a user interface: open it, or serve it in a browser."""

    def open(self, path: str) -> int:
        """``roost [PATH]``: run the workbench on a flow file or folder; the exit status."""
        ...

    def serve(self, path: Path, port: int) -> int:
        """``roost serve``: the workbench in a browser on 127.0.0.1:PORT; the exit status."""
        ...


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit 2 with a one-line hint, as argparse does, minus noise
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from engine.cli.fire_option import add_fire_arguments
    from engine.cli.mock_option import add_mock_argument

    parser = _Parser(prog="roost", description="Run Kestra-style YAML flows locally.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run a flow headless; logs on stderr")
    run.add_argument("flow", help="the flow's YAML file")
    run.add_argument("-i", "--input", action="append", default=[], metavar="KEY=VALUE",
                     help="an input value (repeatable); FILE inputs take a local path")
    run.add_argument("--json", action="store_true", help="print the execution as JSON on stdout")
    wd = run.add_mutually_exclusive_group()
    wd.add_argument("--keep-workdir", action="store_true", help="keep every working directory")
    wd.add_argument("--clean-workdir", action="store_true", help="delete working directories at the end")
    run.add_argument("--namespace-files", action="append", default=[], metavar="NAMESPACE=DIR",
                     help="where a namespace's files are (repeatable)")
    run.add_argument("--runner", choices=("auto", "process", "docker"), default=None,
                     help="where script tasks run (default: roost.toml, else $ROOST_RUNNER, else auto)")
    run.add_argument("--trigger", metavar="PAYLOAD.json",
                     help="run as if a trigger fired with this JSON payload (the `trigger` variable)")
    add_fire_arguments(run)
    add_mock_argument(run)
    _add_debug_arguments(run)

    replay = sub.add_parser("replay", help="a new execution reusing what ran before TASK_ID")
    replay.add_argument("id", help="the execution to replay (see `roost executions`)")
    replay.add_argument("--from", dest="from_task", required=True, metavar="TASK_ID",
                        help="the first task to run again; the tasks before it are reused")
    replay.add_argument("--json", action="store_true", help="print the new execution as JSON on stdout")
    replay.add_argument("--keep-workdir", action="store_true", help="keep every working directory")
    replay.add_argument("--full-rerun", action="store_true",
                        help="when the replay is impossible (no snapshot...), run the whole flow instead")
    _add_debug_arguments(replay)

    validate = sub.add_parser("validate", help="check flows; errors as file:line:col: message")
    validate.add_argument("flows", nargs="+")

    executions = sub.add_parser("executions", help="history, newest first")
    executions.add_argument("--json", action="store_true")
    executions.add_argument("--limit", type=int, default=50)
    executions.add_argument("--all", action="store_true",
                            help="include the executions `roost test` ran (label system.test)")

    execution = sub.add_parser("execution", help="one execution: task runs, outputs, logs")
    execution.add_argument("id")
    execution.add_argument("--json", action="store_true")
    execution.add_argument("--logs", action="store_true", help="also print all its logs")
    execution.add_argument("--tail", type=int, metavar="N",
                           help="with --logs: only the last N lines (says how many it left out)")

    storage = sub.add_parser("storage", help="internal storage")
    storage_sub = storage.add_subparsers(dest="storage_command", parser_class=_Parser, required=True)
    get = storage_sub.add_parser("get", help="the bytes of a kestra:/// file")
    get.add_argument("uri")
    get.add_argument("-o", "--output", help="write to this file instead of stdout")

    serve = sub.add_parser("serve", help="the workbench in a browser (textual-serve, 127.0.0.1)")
    serve.add_argument("path", nargs="?", default=".", help="a flow file or a folder of flows")
    serve.add_argument("--port", type=int, default=8000, help="the port to listen on (default 8000)")

    from engine.cli.compare_command import add_parser as add_compare_parser
    from engine.cli.kv_command import add_arguments as add_kv_arguments
    from engine.cli.test_command import add_arguments as add_test_arguments
    from engine.cli.triggers import add_arguments as add_trigger_arguments

    add_kv_arguments(sub.add_parser("kv", help="the namespace KV store: list, get, set, delete"), _Parser)
    add_compare_parser(sub)

    add_trigger_arguments(sub.add_parser("triggers", help="run the flows' triggers until interrupted"))
    add_test_arguments(sub.add_parser(
        "test", help="run Kestra TestSuites offline; `roost test record ID` writes one",
        description="Run Kestra TestSuite YAML offline; the last line is 'N passed, M failed'. "
                    "`roost test record ID [--tasks a,b] [-o FILE]` writes a suite from an execution."))
    return parser


def _add_debug_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--break", dest="breakpoints", action="append", default=[], metavar="TASK_ID",
                        help="pause before this task (repeatable); a prompt on stderr takes commands")
    parser.add_argument("--step", action="store_true", help="pause before every task")
    parser.add_argument("--log-level", default="INFO", choices=("TRACE", "DEBUG", "INFO", "WARN", "ERROR"),
                        help="the lowest level printed (default INFO)")


def main(argv: Sequence[str] | None = None, workbench: Workbench | None = None) -> int:
    """The whole command line; ``workbench`` is None when only the headless commands exist."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args_list or (args_list[0] not in COMMANDS and not args_list[0].startswith("-")):
            return _open_workbench(workbench, args_list[0] if args_list else ".")
        if args_list[:2] == ["test", "record"]:
            from engine.cli.test_command import cmd_record

            return cmd_record(args_list[2:], _Parser)
        args = build_parser().parse_args(args_list)
        if args.command is None:
            build_parser().print_help()
            return EXIT_OK
        handlers: dict[str, Callable[[argparse.Namespace], int]] = {
            "run": cmd_run, "replay": cmd_replay, "validate": cmd_validate,
            "executions": cmd_executions, "execution": cmd_execution, "storage": cmd_storage,
            "serve": functools.partial(cmd_serve, workbench=workbench), "triggers": cmd_triggers,
            "test": cmd_test, "kv": cmd_kv, "compare": cmd_compare}
        return handlers[args.command](args)
    except UsageError as exc:
        print(f"roost: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except InvalidFlowError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a full disk, a broken ROOST_HOME, a Roost bug: one line, no traceback
        if _caused_by_interrupt(exc):
            return EXIT_INTERRUPTED
        print(f"roost: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _caused_by_interrupt(exc: BaseException) -> bool:
    """Ctrl-C that Python wrapped in another error on its way out (a class being created
    raises "RuntimeError: Error calling __set_name__" with the KeyboardInterrupt as cause)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


_NO_WORKBENCH = ("roost: the workbench is not part of this command; run `roost` (installed by "
                 "`make run`) or use the headless commands (see roost --help)")


# In a pipe or CI the workbench would write escape codes nobody reads: say what works there.
_NO_TERMINAL = ("roost: the workbench needs a terminal (stdin and stdout are not one here); "
                "without a terminal use `roost run FLOW`, `roost validate FLOW`, `roost test` "
                "or `roost executions` (see roost --help)")


def _open_workbench(workbench: Workbench | None, path: str) -> int:
    if workbench is None:
        print(_NO_WORKBENCH, file=sys.stderr)
        return EXIT_INVALID
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(_NO_TERMINAL, file=sys.stderr)
        return EXIT_INVALID
    return int(workbench.open(path))


def cmd_kv(args: argparse.Namespace) -> int:
    from engine.cli.kv_command import cmd_kv as run_kv

    return run_kv(args)


def cmd_compare(args: argparse.Namespace) -> int:
    from engine.cli.compare_command import cmd_compare as run_compare

    return run_compare(args)


def cmd_test(args: argparse.Namespace) -> int:
    from engine.cli.test_command import cmd_test as run_tests

    return run_tests(args)


def cmd_triggers(args: argparse.Namespace) -> int:
    from engine.cli.triggers import cmd_triggers as run_triggers

    return run_triggers(args)


def cmd_serve(args: argparse.Namespace, *, workbench: Workbench | None) -> int:
    if workbench is None:
        print(_NO_WORKBENCH, file=sys.stderr)
        return EXIT_INVALID
    return int(workbench.serve(Path(args.path), args.port))


def _runtime(flow_path: Path, *, history: bool = True) -> Runtime:
    from engine.core.config import RoostConfig, RoostHome
    from engine.execution.runtime import Runtime

    return Runtime.create(RoostHome.from_environment(), RoostConfig.find_and_load(flow_path), history=history)


def _key_values(pairs: list[str], what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} '{pair}' must look like KEY=VALUE")
        result[key] = value
    return result


def cmd_run(args: argparse.Namespace) -> int:
    from engine.cli.fire_option import check_fire_usage, fired_trigger
    from engine.cli.mock_option import cli_stand_ins
    from engine.execution.executor import Executor
    from engine.execution.runtime import RunOptions
    from engine.flow.flow_finder import check_subflow_calls
    from engine.flow.inputs import InputError
    from engine.flow.loader import load_flow
    from engine.flow.unavailable_types import unavailable_notices

    flow_path = Path(args.flow)
    inputs = _key_values(args.input, "input")
    namespace_dirs = {ns: Path(d).absolute() for ns, d in _key_values(args.namespace_files, "--namespace-files").items()}
    check_fire_usage(args)
    trigger = _read_trigger(args.trigger) if args.trigger else None
    runtime = _runtime(flow_path)
    try:
        flow = load_flow(flow_path, runtime.config.plugin_defaults)
        # The flow's own warnings (deprecated properties) are the execution's first log lines,
        # printed from there: printing them here too said each one twice.
        for warning in check_subflow_calls(flow, runtime.config):
            print(f"warning: {warning}", file=sys.stderr)
        _check_breakpoints(flow, args.breakpoints)
        options = RunOptions(
            runner=args.runner,
            keep_workdir=True if args.keep_workdir else False if args.clean_workdir else None,
            namespace_dirs=namespace_dirs,
            breakpoints=frozenset(args.breakpoints), step=args.step,
            task_fixtures=cli_stand_ins(flow, args.mocks),
        )
        for notice in unavailable_notices(flow):
            print(f"notice: {notice}", file=sys.stderr)
        executor = Executor(runtime)
        execution_id = None
        if trigger is not None:  # files the payload names are copied under the new execution
            from engine.core.ids import new_id
            from engine.triggers.payload import import_trigger_files

            execution_id = new_id()
            trigger = import_trigger_files(runtime.storage, flow.namespace, flow.id, execution_id, trigger)
        if (fired := fired_trigger(args, flow, runtime)) is not None:  # --fire: the trigger's own variables
            trigger, execution_id, inputs = fired.variables, fired.execution_id, {**fired.inputs, **inputs}
        try:
            handle = executor.prepare(flow, inputs, trigger=trigger, options=options, execution_id=execution_id)
        except InputError as exc:
            print(f"{flow_path}: {exc}", file=sys.stderr)
            return EXIT_INVALID
        return _execute(runtime, executor, handle, flow, args)
    finally:
        runtime.close()


def cmd_replay(args: argparse.Namespace) -> int:
    """`roost replay ID --from TASK_ID`: reuse what ran before the task, restore its directory."""
    from engine.execution.executor import Executor
    from engine.execution.replay import ReplayError, prepare_replay
    from engine.execution.runtime import RunOptions
    from engine.flow.inputs import InputError

    history = _history()
    execution = history.get_execution(args.id) if history is not None else None
    if history is not None:
        history.close()
    if execution is None:
        raise UsageError(f"no execution '{args.id}' in the history (see `roost executions`)")
    # The flow's own roost.toml applies (secrets, plugin defaults), as for `roost run`.
    runtime = _runtime(Path(execution.flow_path) if execution.flow_path else Path.cwd())
    try:
        keep = True if args.keep_workdir else None
        try:
            prepared = prepare_replay(runtime, args.id, args.from_task)
        except ReplayError as exc:
            print(f"roost: cannot replay: {exc.message}", file=sys.stderr)
            if not exc.full_rerun_possible:
                return EXIT_INVALID
            if not (args.full_rerun or _confirm("run the whole flow again? [y/N] ")):
                print(f"to run it all again: roost replay {args.id} --from {args.from_task} --full-rerun "
                      f"(or roost run {execution.flow_path})", file=sys.stderr)
                return EXIT_INVALID
            return _full_rerun(runtime, execution, args, keep)
        _check_breakpoints(prepared.flow, args.breakpoints)
        options = RunOptions(keep_workdir=keep, replay=prepared.plan,
                             breakpoints=frozenset(args.breakpoints), step=args.step)
        executor = Executor(runtime)
        try:
            handle = executor.prepare(prepared.flow, prepared.inputs, options=options,
                                      trigger=execution.trigger, original_id=args.id)
        except InputError as exc:
            print(f"{prepared.flow.path}: {exc}", file=sys.stderr)
            return EXIT_INVALID
        reused = len(prepared.plan.reused)
        print(f"replaying {args.id} from '{args.from_task}': {reused} task run(s) reused"
              + (", working directory restored" if prepared.plan.restore else ""), file=sys.stderr)
        return _execute(runtime, executor, handle, prepared.flow, args)
    finally:
        runtime.close()


def _full_rerun(runtime: Runtime, execution: Execution, args: argparse.Namespace,
                keep: bool | None) -> int:
    from engine.execution.executor import Executor
    from engine.execution.runtime import RunOptions
    from engine.flow.loader import load_flow

    flow = load_flow(Path(execution.flow_path), runtime.config.plugin_defaults)
    _check_breakpoints(flow, args.breakpoints)
    options = RunOptions(keep_workdir=keep, breakpoints=frozenset(args.breakpoints), step=args.step)
    executor = Executor(runtime)
    handle = executor.prepare(flow, dict(execution.inputs), options=options, trigger=execution.trigger,
                              original_id=execution.id)
    return _execute(runtime, executor, handle, flow, args)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    print(question, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _check_breakpoints(flow: Flow, task_ids: list[str]) -> None:
    known = [task.id for task in flow.walk_tasks()]
    for task_id in task_ids:
        if task_id not in known:
            raise UsageError(f"--break {task_id}: no task '{task_id}' in {flow.path} "
                             f"(its tasks: {', '.join(known)})")


def _execute(runtime: Runtime, executor: Executor, handle: ExecutionHandle, flow: Flow,
             args: argparse.Namespace) -> int:
    """Run a prepared execution to its end with logs on stderr (and the prompt when debugging)."""
    from engine.cli.output import LogPrinter, execution_json, summary

    executor.bus.subscribe(LogPrinter(sys.stderr, args.log_level), batches=True)
    prompt = None
    if args.breakpoints or args.step:
        from engine.cli.debug_prompt import DebugPrompt

        prompt = DebugPrompt(handle, flow, sys.stdin, sys.stderr)
        executor.bus.subscribe(prompt.on_event, batches=True)  # pauses only: no log lines
    interrupted = _run_until_done(executor, handle, prompt)
    execution = handle.execution
    if runtime.history is not None:
        runtime.history.flush()
        for problem in runtime.history.write_errors:
            print(f"warning: history: {problem}", file=sys.stderr)
    if args.json:
        print(execution_json(execution, handle.task_runs()))
    print(summary(execution), file=sys.stderr)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if execution.state.value in ("SUCCESS", "WARNING") else EXIT_FAILED


def _run_until_done(executor: Executor, handle: ExecutionHandle, prompt: DebugPrompt | None = None) -> bool:
    """Runs in a worker thread so Ctrl-C here can cancel it cleanly; True when interrupted."""
    interrupted = threading.Event()
    prompting = threading.Event()

    def on_sigint(_signum: int, _frame: Any) -> None:
        if interrupted.is_set():  # a second Ctrl-C: something does not stop (a runaway template)
            print("\ninterrupted again: stopping now", file=sys.stderr)
            os._exit(EXIT_INTERRUPTED)  # the history marks the execution KILLED; the guard kills tasks
        interrupted.set()
        print("\ninterrupted: cancelling the execution...", file=sys.stderr)
        handle.cancel()
        if prompting.is_set():  # leave the prompt's readline
            raise KeyboardInterrupt

    from engine.runners.orphans import shared_guard

    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_term = signal.signal(signal.SIGTERM, on_sigint)
    # The orphan guard hears signals even when a call holding the GIL keeps on_sigint from running.
    wakeup = shared_guard().signal_pipe()
    previous_wakeup = signal.set_wakeup_fd(wakeup) if wakeup is not None else None
    try:
        thread = executor.start(handle).thread
        assert thread is not None
        while thread.is_alive():
            pause = prompt.next_pause(0.2) if prompt is not None else None
            if pause is None or prompt is None:
                if prompt is None:
                    thread.join(0.2)
                continue
            prompting.set()
            try:
                prompt.answer(pause)
            except KeyboardInterrupt:
                pass
            finally:
                prompting.clear()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        if previous_wakeup is not None:
            signal.set_wakeup_fd(previous_wakeup)
    return interrupted.is_set()


def _read_trigger(path: str) -> dict[str, Any]:
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--trigger {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--trigger {path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(payload, dict):
        raise UsageError(f"--trigger {path}: the payload must be a JSON object")
    return payload


def cmd_validate(args: argparse.Namespace) -> int:
    from engine.core.config import RoostConfig
    from engine.flow.flow_finder import check_subflow_calls
    from engine.flow.loader import discover_flow_files, load_flow
    from engine.flow.unavailable_types import unavailable_notices

    status = EXIT_OK
    paths: list[Path] = []
    for name in args.flows:
        path = Path(name)
        if path.is_dir():
            paths.extend(discover_flow_files(path))
        else:
            paths.append(path)
    for path in paths:
        try:
            config = RoostConfig.find_and_load(path)
            flow = load_flow(path, config.plugin_defaults)
            folders = [Path(name) for name in args.flows if Path(name).is_dir()]
            subflow_warnings = check_subflow_calls(flow, config, folders)
        except InvalidFlowError as exc:
            print(str(exc), file=sys.stderr)
            status = EXIT_INVALID
            continue
        for warning in (*flow.warnings, *subflow_warnings):
            print(f"warning: {warning}", file=sys.stderr)
        for notice in unavailable_notices(flow):
            print(f"notice: {notice}", file=sys.stderr)
        print(f"{path}: OK ({flow.namespace}.{flow.id}, {sum(1 for _ in flow.walk_tasks())} tasks)")
    return status


def _history() -> History | None:
    from engine.core.config import RoostHome
    from engine.store.history import History

    home = RoostHome.from_environment()
    if not home.history_db.exists():
        return None
    return History(home.history_db)


def cmd_executions(args: argparse.Namespace) -> int:
    from engine.cli.output import executions_table
    from engine.store.history_rows import _json_default

    history = _history()
    executions = history.list_executions(limit=args.limit, include_tests=args.all) if history else []
    if args.json:
        payload = [e.to_json(history.task_runs(e.id)) for e in executions] if history else []
        print(json.dumps(payload, default=_json_default, indent=2))
    elif executions:
        print(executions_table(executions))
    else:
        hint = "" if args.all else " (`--all` lists the executions `roost test` ran)"
        print(f"no executions yet: run one with `roost run FLOW`{hint}", file=sys.stderr)
    if history:
        history.close()
    return EXIT_OK


def cmd_execution(args: argparse.Namespace) -> int:
    from engine.cli.output import execution_json, summary, task_run_tree

    history = _history()
    execution = history.get_execution(args.id) if history else None
    if history is None or execution is None:
        raise UsageError(f"no execution '{args.id}' in the history (see `roost executions`)")
    task_runs = history.task_runs(execution.id)
    if args.json:
        print(execution_json(execution, task_runs))
    else:
        print(summary(execution))
        print(task_run_tree(task_runs))
        if args.logs or args.tail is not None:
            _print_logs(history, execution.id, args.tail)
    history.close()
    return EXIT_OK


def _print_logs(history: History, execution_id: str, tail: int | None) -> None:
    """All the log lines, streamed; with --tail N the last N, after a line saying how many
    earlier lines were left out (nothing is cut silently)."""
    if tail is None:
        records: Iterable[LogRecord] = history.iter_logs(execution_id)
    else:
        if tail < 0:
            raise UsageError("--tail takes a number of lines, 0 or more")
        total = history.count_logs(execution_id)
        records = history.last_logs(execution_id, tail)
        if total > len(records):
            print(f"... {total - len(records)} earlier log line(s) not shown (--tail {tail}; "
                  f"--logs alone prints all {total})")
    for record in records:
        print(f"{record.date} {record.task_id or '-'} {record.level.ljust(5)} {record.message}")


def cmd_storage(args: argparse.Namespace) -> int:
    from engine.core.config import RoostHome
    from engine.store.storage import InternalStorage, StorageError

    storage = InternalStorage(RoostHome.from_environment().storage)
    try:
        data_path = storage.open_existing(args.uri)
    except StorageError as exc:
        raise UsageError(str(exc)) from None
    if args.output:
        Path(args.output).write_bytes(data_path.read_bytes())
    else:
        with data_path.open("rb") as source:
            while chunk := source.read(1 << 20):
                sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    return EXIT_OK
