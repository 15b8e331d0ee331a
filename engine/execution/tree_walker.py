"""The loop of an execution (Dagster's execute_plan): blocks, sequences and groups of tasks.

A sequence runs its tasks one after another and stops at the first failure; a block adds
`errors` after a failure and `finally` always; groups (ForEach values, Parallel branches)
run side by side on reused threads. What happens to one task is TaskLifecycle's job:
the walker is handed its `run_task`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from engine.core.records import TaskRun
from engine.core.states import State, combine_states
from engine.execution.flow_versions import FlowVersions
from engine.execution.run_state import RunState
from engine.execution.scope import Scope, child_scope
from engine.execution.worker_pool import ElasticPool
from engine.tasks.base import Task
from engine.tasks.context import ChildGroup

RunTask = Callable[[Task, Scope], TaskRun]
"""One task from CREATED to a terminal state (TaskLifecycle.run_task)."""


class TreeWalker:
    """Walks the task tree of one execution; parallel groups get threads of its pool."""

    def __init__(self, state: RunState, versions: FlowVersions, run_task: RunTask,
                 pool: ElasticPool) -> None:
        self._state = state
        self._versions = versions
        self._run_task = run_task
        self._pool = pool

    def run_block(self, tasks: Sequence[Task], errors: Sequence[Task], finally_: Sequence[Task],
                  scope: Scope) -> State:
        state = self.run_sequence(tasks, scope)
        if state is State.FAILED and errors and not self._state.cancelled and self._state.exit_state is None:
            self.run_sequence(errors, scope)
        if finally_:
            final_state = self.run_sequence(finally_, scope, even_if_cancelled=True)
            state = combine_states([state, final_state])
        return state

    def run_sequence(self, tasks: Sequence[Task], scope: Scope, *, even_if_cancelled: bool = False) -> State:
        states: list[State] = []
        versions, run_state, run_task = self._versions, self._state, self._run_task
        version, position, last_id = versions.version, 0, None
        original = tasks
        while True:
            if version != versions.version:  # the YAML was saved while paused: follow the new list
                version = versions.version
                tasks, position = versions.reloaded_list(original, scope.owner, tasks, position, last_id)
            if position >= len(tasks):
                break
            task = tasks[position]
            position += 1
            if task.disabled:
                continue
            if not run_state.may_start(even_if_cancelled):
                if run_state.exit_state is None:   # after an Exit, what did not start is not KILLED
                    states.append(State.KILLED)
                break
            last_id = task.id
            task_run = run_task(task, scope)
            states.append(task_run.state)
            if task_run.state in (State.FAILED, State.KILLED):
                break
        return combine_states(states)

    def run_groups(self, scope: Scope, owner: Task, owner_run: TaskRun, groups: Sequence[ChildGroup[Task]],
                   limit: int) -> State:
        """Each group in sequence, at most ``limit`` groups at once (0: all); a failure stops new ones."""
        if not groups:
            return State.SUCCESS
        workers = len(groups) if limit <= 0 else min(limit, len(groups))
        failed = threading.Event()

        def run_group(group: ChildGroup[Task]) -> State:
            if failed.is_set() or self._state.cancelled or self._state.exit_state is not None:
                return State.SKIPPED
            child = child_scope(scope, owner, owner_run, value=group.value, working_dir=scope.working_dir)
            state = self.run_sequence(group.tasks, child)
            if state in (State.FAILED, State.KILLED):
                failed.set()
            return state

        if workers == 1:
            return combine_states(run_group(g) for g in groups)
        # `workers` lanes each take the next group until none is left: at most `workers` at once.
        pending = iter(enumerate(groups))
        states: list[State] = [State.SKIPPED] * len(groups)
        take = threading.Lock()

        def lane() -> None:
            while True:
                with take:
                    item = next(pending, None)
                if item is None:
                    return
                index, group = item
                states[index] = run_group(group)

        # The calling thread is one of the lanes: it would only wait otherwise (one thread
        # hand-off less per group of branches).
        lanes = [self._pool.submit(lane) for _ in range(workers - 1)]
        try:
            lane()
        finally:
            for finished in lanes:
                finished.result()
        return combine_states(states)
