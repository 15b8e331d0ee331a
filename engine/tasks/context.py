"""What a running task sees: the `TaskContext` protocol (Kestra's RunContext).

Tasks depend on this protocol, never on the executor: rendering, logging, storage,
working directories and, for flowable tasks, running their children. The executor's
`engine.execution.task_context.RunTaskContext` implements it.

The protocol is generic in the task type only to break a knot: `Task.run` takes a
context and a context runs lists of tasks, so naming `Task` here would make
`engine.tasks.base` and this module import each other. Tasks write `TaskContext[Task]`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # annotations only: `roost validate` builds tasks without loading these
    from engine.core.config import RoostConfig, RoostHome
    from engine.core.events import Event
    from engine.core.flow_info import FlowInfo
    from engine.core.records import TaskRun
    from engine.core.states import State
    from engine.core.yaml_source import YamlMap
    from engine.store.kv_store import KvStore
    from engine.store.storage import InternalStorage
    from engine.tasks.history_access import ExecutionControl, ExecutionHistory
    from engine.tasks.subflow_port import ChildFlows
    from engine.tasks.trigger_switch import TriggerSwitch

TaskT = TypeVar("TaskT")


@dataclass(frozen=True)
class ChildGroup(Generic[TaskT]):
    """A list of tasks run in sequence under one iteration value (ForEach, Parallel branches)."""

    tasks: Sequence[TaskT]
    value: str | None = None


class TaskContext(Protocol[TaskT]):
    """Handed to `Task.run`; all access to the engine goes through here."""

    # --- what the task runs in -------------------------------------------------
    @property
    def task(self) -> TaskT: ...

    @property
    def task_id(self) -> str: ...

    @property
    def task_run_id(self) -> str: ...

    @property
    def task_run(self) -> TaskRun:
        """The task run as it is now (state, attempts, value)."""
        ...

    @property
    def execution_id(self) -> str: ...

    @property
    def flow(self) -> FlowInfo: ...

    @property
    def working_dir(self) -> Path | None:
        """The WorkingDirectory this task runs in, if any."""
        ...

    stop: threading.Event
    """Set on cancel and timeout: whatever the task started must stop."""
    timed_out: bool
    extra_variables: dict[str, Any]
    """Variables this task adds for its own templates (`workingDir`, `outputFiles`...)."""

    @property
    def cancelled(self) -> bool: ...

    # --- settings and services ---------------------------------------------------
    @property
    def config(self) -> RoostConfig: ...

    @property
    def home(self) -> RoostHome: ...

    @property
    def environ(self) -> Mapping[str, str]: ...

    @property
    def storage(self) -> InternalStorage: ...

    @property
    def runner_option(self) -> str | None:
        """The run's `--runner` choice; None: roost.toml decides."""
        ...

    def namespace_dir(self, namespace: str) -> Path | None:
        """The local folder of a namespace's files (--namespace-files, roost.toml, beside the flow)."""
        ...

    @property
    def kv_store(self) -> KvStore:
        """Kestra's namespace KV store (kv.* and the legacy state.* tasks)."""
        ...

    @property
    def trigger_switch(self) -> TriggerSwitch:
        """Enables or disables a flow's trigger (the Toggle task)."""
        ...

    # --- rendering ---------------------------------------------------------------
    def variables(self) -> dict[str, Any]: ...

    def render(self, value: Any, prop: str) -> Any:
        """Render a property value (strings inside maps and lists too); errors name the property."""
        ...

    def render_str(self, value: Any, prop: str) -> str: ...

    def render_typed(self, value: Any, prop: str) -> Any:
        """Kestra's renderTyped: a string that is one `{{ expression }}` keeps the expression's type."""
        ...

    def render_optional_str(self, value: Any, prop: str) -> str | None: ...

    def render_bool(self, value: Any, prop: str) -> bool: ...

    def render_int(self, value: Any, prop: str) -> int | None: ...

    def render_duration(self, value: Any, prop: str) -> timedelta | None: ...

    def render_list(self, value: Any, prop: str) -> list[Any]: ...

    def render_map(self, value: Any, prop: str) -> dict[str, Any]: ...

    # --- logging and metrics ---------------------------------------------------
    def log(self, level: str, message: str) -> None: ...

    def log_lines(self, level: str, messages: list[str]) -> None:
        """Lines of one level read together (a pipe read): one event for all of them."""
        ...

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...

    def debug(self, message: str) -> None: ...

    def notice_once(self, key: str, message: str) -> None:
        """A WARN line logged once per execution (e.g. why the Docker runner was not used)."""
        ...

    def metric(self, name: str, kind: str, value: float, tags: dict[str, str] | None = None) -> None: ...

    def set_runner(self, description: str) -> None:
        """Which runner (and image) ran this task; shown per task in the workbench."""
        ...

    # --- files -------------------------------------------------------------------
    def store_output_file(self, name: str, path: Path, *, move: bool = True) -> str:
        """Put a produced file in internal storage; returns its kestra:// URI."""
        ...

    def create_working_directory(self) -> Path:
        """A new directory under ROOST_HOME/workdirs for this task run (kept per the run's policy)."""
        ...

    def restore_replay_snapshot(self, directory: Path) -> bool:
        """In a replay: fill a new working directory from the original's snapshot (True if done)."""
        ...

    def publish(self, event: Event) -> None: ...

    def storage_path(self, uri: str) -> Path:
        """The local file behind a kestra:// URI of this execution (or an input/trigger file)."""
        ...

    def build_task(self, spec: YamlMap, where: str) -> TaskT:
        """A task built at run time from a map (TemplatedTask's spec), checked as a flow's tasks are.

        Raises TaskFailure naming `where` and each mistake; pluginDefaults apply."""
        ...

    # --- children (flowable tasks) -----------------------------------------------
    def run_block(self, tasks: Sequence[TaskT], errors: Sequence[TaskT] = (),
                  finally_: Sequence[TaskT] = (), *, value: str | None = None,
                  working_dir: Path | None = None, iteration: int | None = None) -> State:
        """Run children in sequence; `errors` after a failure, `finally` always; their combined state.

        `iteration` tags the children's task runs with a loop pass (WaitFor's `taskrun.iteration`).
        """
        ...

    def share_outputs(self, outputs: dict[str, Any]) -> None:
        """Outputs this task's children see before it ends (WaitFor's `iterationCount`)."""
        ...

    def find_template(self, namespace: str, template_id: str) -> tuple[list[TaskT], list[TaskT]] | None:
        """A deprecated Kestra template's (tasks, errors) from a file beside the flow; None: none there.

        Raises TaskFailure when the template file is found but invalid."""
        ...

    def run_concurrently(self, groups: Sequence[ChildGroup[TaskT]], limit: int) -> State:
        """Run groups side by side (at most `limit` at once, 0 = all); each group in sequence."""
        ...

    def wait_for_resume(self, timeout: timedelta | None, *, resume_on_timeout: bool = True) -> bool:
        """Pause the execution until resumed; True when resumed, False when the delay ran out.

        `resume_on_timeout` False: a wait that runs out leaves the task to end without going
        back to RUNNING (a Pause whose behavior is WARN, FAIL or CANCEL)."""
        ...

    def resume_inputs(self, declared: list[Any]) -> dict[str, Any]:
        """The values the resume gave for a Pause's `onResume` inputs, typed like flow inputs
        (defaults applied); raises TaskFailure naming a missing or invalid one."""
        ...

    # --- child executions (Subflow, ForEachItem) ----------------------------------
    @property
    def child_flows(self) -> ChildFlows:
        """Starts executions of other flows (found by namespace + id) as children of this one."""
        ...

    # --- history and executions (Kestra's execution and log tasks) ---------------
    @property
    def history(self) -> ExecutionHistory | None:
        """Counts, log fetches and purges in history.db; None when this run keeps no history."""
        ...

    @property
    def control(self) -> ExecutionControl:
        """Labels, Exit and Resume: changes to this execution or to another one in this process."""
        ...
