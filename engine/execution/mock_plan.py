"""Mocks (roost.toml, ``--mock``, the workbench) turned into the executor's task stand-ins.

A mock by task id applies to that task whatever its type, so a test can mock a task Roost
does run. A mock by type glob applies only to tasks Roost cannot run (unavailable plugins):
a glob as wide as ``io.kestra.plugin.*`` would otherwise quietly replace real tasks. Stand-ins
already in the run's options (a TestSuite's fixtures, ``--mock``) win over roost.toml's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from engine.core.mocks import MockSpec
from engine.execution.runtime import RunOptions, TaskStandIn
from engine.flow.model import Flow
from engine.tasks.base import Task
from engine.tasks.unavailable import UnavailableTask


def mock_for(task: Task, flow_key: str, mocks: Iterable[MockSpec]) -> MockSpec | None:
    """The first mock by id for the task, else the first type glob matching an unavailable one."""
    candidates = [mock for mock in mocks if mock.applies_to_flow(flow_key)]
    by_id = next((mock for mock in candidates if mock.task == task.id), None)
    if by_id is not None or not isinstance(task, UnavailableTask):
        return by_id
    return next((mock for mock in candidates if mock.matches_type(task.type)), None)


def stand_in_of(task_id: str, mock: MockSpec) -> TaskStandIn:
    return TaskStandIn(task_id=task_id, state=mock.state, outputs=dict(mock.outputs), every_value=True)


def mock_stand_ins(flow: Flow, mocks: Iterable[MockSpec]) -> dict[str, tuple[TaskStandIn, ...]]:
    """Task id -> its stand-in, for every task of `flow` a mock applies to."""
    mocks = list(mocks)
    if not mocks:
        return {}
    result: dict[str, tuple[TaskStandIn, ...]] = {}
    for task in flow.walk_tasks():
        mock = mock_for(task, flow.key, mocks)
        if mock is not None and task.id not in result:
            result[task.id] = (stand_in_of(task.id, mock),)
    return result


def with_mocks(options: RunOptions, flow: Flow, mocks: Iterable[MockSpec]) -> RunOptions:
    """`options` plus the stand-ins of `mocks`; the ones already there win, task by task."""
    found = mock_stand_ins(flow, mocks)
    if not found:
        return options
    merged: Mapping[str, tuple[TaskStandIn, ...]] = {**found, **options.task_fixtures}
    return dataclasses.replace(options, task_fixtures=merged)


def unmocked_unavailable(flow: Flow, options: RunOptions, mocks: Iterable[MockSpec] = ()) -> list[str]:
    """Ids of the flow's unavailable tasks that neither the options' stand-ins nor `mocks`
    cover: a run fails on them (the workbench pauses before them instead)."""
    mocks = list(mocks)
    return [task.id for task in flow.walk_tasks()
            if isinstance(task, UnavailableTask) and task.id not in options.task_fixtures
            and mock_for(task, flow.key, mocks) is None]
