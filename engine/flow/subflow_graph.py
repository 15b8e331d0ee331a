"""Static subflow calls: a flow that would end up running itself is refused before it runs.

Kestra refuses a flow whose Subflow (or ForEachItem) names the flow itself ("Recursive call
to flow [ns.id]"); the loader applies that check. Roost goes one step further where flows can
be looked up (`roost validate`, `roost run`): a chain of literal namespace/flowId calls that
comes back to a flow already in it (a -> b -> a, or a -> b -> c -> b) is refused too, since
each call waits for the next and the chain never ends. Calls whose namespace or flowId is a
template are checked when they run (the executor refuses a flow already up the call chain).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from engine.core.errors import FlowError, InvalidFlowError
from engine.flow.model import Flow
from engine.tasks.base import Task
from engine.tasks.subflow_port import CallsFlow

FlowKey = tuple[str, str]


class FlowLookup(Protocol):
    """Flows by namespace and id (engine.flow.flow_finder.FlowFinder)."""

    def find(self, namespace: str, flow_id: str) -> Flow | None: ...

    def describe_roots(self) -> str: ...


def static_calls(flow: Flow) -> Iterator[tuple[Task, FlowKey]]:
    """Every task of the flow that calls a flow given literally, with that flow's key."""
    for task in flow.walk_tasks():
        if _calls_flow(type(task)) and isinstance(task, CallsFlow):
            called = task.called_flow()
            if called is not None:
                yield task, called


_CALLS_FLOW: dict[type, bool] = {}


def _calls_flow(cls: type) -> bool:
    """Whether a task class has `called_flow` (a Protocol isinstance check, 70 µs, once per class)."""
    known = _CALLS_FLOW.get(cls)
    if known is None:
        known = _CALLS_FLOW[cls] = callable(getattr(cls, "called_flow", None))
    return known


def _key_text(key: FlowKey) -> str:
    return f"{key[0]}.{key[1]}"


def _error(flow: Flow, task: Task, message: str) -> FlowError:
    source = task.source
    position = source.position_of("flowId") if "flowId" in source else task.position
    return FlowError(flow.path, position.line, position.column, f"task '{task.id}': {message}")


def self_call_errors(flow: Flow) -> list[FlowError]:
    """Kestra's FlowValidator rule: no task may call the flow it belongs to."""
    own = (flow.namespace, flow.id)
    return [_error(flow, task, f"Recursive call to flow [{_key_text(own)}]: a flow cannot run "
                               "itself as a subflow")
            for task, called in static_calls(flow) if called == own]


def recursion_errors(flow: Flow, lookup: FlowLookup) -> tuple[list[FlowError], list[str]]:
    """Calls that lead back to a flow already in the chain (errors), and called flows not found (warnings)."""
    own = (flow.namespace, flow.id)
    errors: list[FlowError] = []
    warnings: list[str] = []
    for task, called in static_calls(flow):
        if called == own:
            continue   # the loader refused it already
        if _find(lookup, called) is None:
            warnings.append(f"{flow.path}:{task.position.line}: task '{task.id}' calls flow "
                            f"{_key_text(called)}, which is not under {lookup.describe_roots()}; "
                            "it must be there when the flow runs")
            continue
        chain = _cycle(lookup, [own, called], set())
        if chain is not None:
            errors.append(_error(flow, task, "recursive subflow calls: "
                                 + " -> ".join(_key_text(key) for key in chain)
                                 + "; a chain of subflows must not come back to a flow already in it"))
    return errors, warnings


def _find(lookup: FlowLookup, key: FlowKey) -> Flow | None:
    try:
        return lookup.find(*key)
    except InvalidFlowError:
        return None   # an invalid subflow is refused with its own errors when it is called


def _cycle(lookup: FlowLookup, chain: list[FlowKey], visited: set[FlowKey]) -> list[FlowKey] | None:
    """The first chain of calls from chain[-1] that reaches a flow already in `chain`."""
    flow = _find(lookup, chain[-1])
    if flow is None:
        return None
    for _task, called in static_calls(flow):
        if called in chain:
            return [*chain, called]
        if called in visited:
            continue
        visited.add(called)
        found = _cycle(lookup, [*chain, called], visited)
        if found is not None:
            return found
    return None
