"""`roost triggers [PATH]`: run the triggers of the flows under PATH until interrupted.

Every poll, firing and execution is logged on stderr; a failing poll is logged and
retried at the next interval; flows are reloaded when their YAML changes (an invalid
edit is reported and the previous version keeps running). Ctrl-C stops the triggers,
cancels the executions they started (recorded as KILLED) and exits with 130.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from engine.core.errors import InvalidFlowError, UsageError

if TYPE_CHECKING:  # imported when the command runs: `roost validate` builds this parser too
    from engine.core.config import RoostConfig
    from engine.core.events import Event
    from engine.flow.model import Flow
    from engine.scheduling.events import TriggerEvent, TriggerStatus
    from engine.scheduling.folder_watch import FolderWatch
    from engine.scheduling.scheduler import TriggerScheduler

EXIT_INTERRUPTED = 130
LEVELS = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "WARNING": 3, "ERROR": 4}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="a flow file or a folder of flows (default .)")
    parser.add_argument("--webhook-port", type=int, default=None, metavar="PORT",
                        help="port for webhook triggers on 127.0.0.1 (default: roost.toml [webhook] port, "
                             "else 8089; 0 picks a free one)")
    parser.add_argument("--runner", choices=("auto", "process", "docker"), default=None,
                        help="where script tasks run (default: roost.toml, else $ROOST_RUNNER, else auto)")
    parser.add_argument("--log-level", default="INFO", choices=("TRACE", "DEBUG", "INFO", "WARN", "ERROR"),
                        help="the lowest level printed (default INFO)")


class Printer:
    """Trigger lines and execution lines on one stream, each saying which flow it is about."""

    def __init__(self, stream: TextIO, min_level: str) -> None:
        self.stream = stream
        self.min_level = LEVELS.get(min_level, 2)
        self._flows: dict[str, str] = {}
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def on_trigger(self, event: TriggerEvent) -> None:
        from engine.scheduling.events import TriggerLog

        if isinstance(event, TriggerLog) and LEVELS.get(event.level, 2) >= self.min_level:
            stamp = event.date.astimezone().strftime("%H:%M:%S.%f")[:-3]
            self.write(f"{stamp} [{event.key}] {event.level.ljust(5)} {event.message}")

    def on_execution(self, event: Event) -> None:
        from engine.cli.output import STATE_SYMBOLS, duration_text
        from engine.core.events import ExecutionChanged, LogLine

        if isinstance(event, LogLine) and LEVELS.get(event.level, 2) >= self.min_level:
            stamp = event.date.astimezone().strftime("%H:%M:%S.%f")[:-3]
            flow = self._flows.get(event.execution_id, "")
            self.write(f"{stamp} {flow} {event.execution_id[:8]} {event.task_id or '-'} "
                        f"{event.level.ljust(5)} {event.message}")
        elif isinstance(event, ExecutionChanged):
            execution = event.execution
            if not execution.state.is_terminal:
                self._flows[execution.id] = f"{execution.namespace}.{execution.flow_id}"
                return
            self._flows.pop(execution.id, None)
            self.write(f"execution {execution.id} of {execution.namespace}.{execution.flow_id} "
                        f"{STATE_SYMBOLS.get(execution.state.value, '')} {execution.state.value} "
                        f"in {duration_text(execution)}")


def describe(status: TriggerStatus) -> str:
    where = status.url or (f"next {status.next_fire.astimezone().strftime('%Y-%m-%d %H:%M:%S')}"
                           if status.next_fire else "")
    detail = status.error if status.state in ("UNSUPPORTED",) or (status.error and not where) else where
    return f"  {status.key}  {status.type}  {status.state}  {detail or ''}".rstrip()


def load_flows(path: Path, config: RoostConfig, printer: Printer) -> list[Flow]:
    """The valid flows under `path`; each invalid one is reported and skipped."""
    from engine.flow.loader import discover_flow_files, load_flow

    flows = []
    for flow_path in discover_flow_files(path):
        try:
            flow = load_flow(flow_path, config.plugin_defaults)
        except InvalidFlowError as exc:
            printer.write(str(exc))
            continue
        if flow.triggers:
            flows.append(flow)
    return flows


def cmd_triggers(args: argparse.Namespace) -> int:
    from engine.core.config import RoostConfig, RoostHome
    from engine.execution.runtime import RunOptions, Runtime
    from engine.scheduling.scheduler import TriggerScheduler

    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    config = RoostConfig.find_and_load(path)
    runtime = Runtime.create(RoostHome.from_environment(), config)
    printer = Printer(sys.stderr, args.log_level)
    flow_dirs = (path.absolute(),) if path.is_dir() else ()   # where subflows are looked up too
    scheduler = TriggerScheduler(runtime, options=RunOptions(runner=args.runner, flow_dirs=flow_dirs),
                                 webhook_port=args.webhook_port)
    scheduler.bus.subscribe(printer.on_trigger)
    scheduler.executor.bus.subscribe(printer.on_execution)
    stop = threading.Event()
    interrupted = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            return
        interrupted.set()
        stop.set()

    previous = signal.signal(signal.SIGINT, on_signal)
    previous_term = signal.signal(signal.SIGTERM, on_signal)
    watch = None
    try:
        scheduler.set_flows(load_flows(path, config, printer))
        scheduler.start()
        statuses = scheduler.statuses()
        printer.write(f"roost triggers: {len(statuses)} trigger(s) under {path} (Ctrl-C to stop)")
        for status in statuses:
            printer.write(describe(status))
        watch = _watch_flows(path, config, printer, scheduler)
        while not stop.wait(0.5):
            pass
        running = scheduler.running_executions()
        printer.write("\ninterrupted: stopping triggers"
                       + (f", cancelling {len(running)} running execution(s)..." if running else "..."))
    finally:
        if watch is not None:
            watch.stop()
        scheduler.stop(cancel_running=True)
        if runtime.history is not None:
            runtime.history.flush()
        runtime.close()
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
    return EXIT_INTERRUPTED if interrupted.is_set() else 0


def _watch_flows(path: Path, config: RoostConfig, printer: Printer,
                 scheduler: TriggerScheduler) -> FolderWatch:
    """Reload the flows when a YAML file under `path` changes."""
    from engine.scheduling.folder_watch import FolderWatch

    folder = path if path.is_dir() else path.parent
    target = path.resolve()

    def accept(changed: Path) -> bool:
        if path.is_dir():
            return changed.suffix in (".yml", ".yaml")
        return changed.resolve() == target

    def reload(changed: set[Path]) -> None:
        names = ", ".join(sorted(str(p.name) for p in changed))
        printer.write(f"flows changed ({names}): reloading")
        previous = {s.key for s in scheduler.statuses()}
        scheduler.set_flows(load_flows(path, config, printer))
        for status in scheduler.statuses():
            if status.key not in previous:
                printer.write(describe(status))

    return FolderWatch(folder, reload, recursive=True, accept=accept, name="flow-reload").start()
