"""io.kestra.plugin.core.trigger.Flow: start a flow when another flow's execution changes state.

The scheduler hands every state change of an execution it sees (`roost triggers`, the
workbench with triggers on) to each loaded Flow trigger. As in Kestra's FlowTriggerService:
a flow never triggers itself; the new state must be in `states` (terminal states by
default); every `conditions` entry must hold; `preconditions` (and MultipleCondition) must
have been met in their time window. The execution started gets `trigger.executionId`,
`namespace`, `flowId`, `flowRevision`, `state` and `outputs` (the upstream flow's outputs),
and `inputs` rendered with those variables; inputs that do not render start nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.core.ids import new_id
from engine.core.states import TERMINAL_STATES, State
from engine.triggers.base import FLOW, Trigger, TriggerContext, TriggerFiring
from engine.triggers.flow_conditions import (
    FILTER_FIELDS,
    FILTER_TYPES,
    WINDOW_TYPES,
    Listener,
    Upstream,
    ValueStore,
    condition_kind,
    preconditions_met,
    preconditions_of,
    test_condition,
)
from engine.triggers.properties import Prop, Report, TriggerError

TERMINATED = tuple(s.value for s in State if s in TERMINAL_STATES)
STATE_NAMES = tuple(s.value for s in State) + ("CANCELLED", "RETRYING", "RETRIED", "QUEUED", "RESTARTED")


class FlowTrigger(Trigger):
    TYPES = ("io.kestra.plugin.core.trigger.Flow", "io.kestra.core.models.triggers.types.Flow")
    KIND = FLOW
    PROPERTIES = {
        "inputs": Prop("map", dynamic=False),
        "states": Prop("list", dynamic=False),
        "preconditions": Prop("map", dynamic=False),
    }

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        states = props.get("states")
        if isinstance(states, list):
            for state in states:
                if str(state) == "CREATED":
                    report("states", "'states' cannot hold CREATED: a Flow trigger reacts to state changes", False)
                elif str(state) not in STATE_NAMES:
                    report("states", f"'states': '{state}' is not an execution state", False)
        for index, condition in enumerate(props.get("conditions") or []):
            if not isinstance(condition, dict) or "type" not in condition:
                report("conditions", f"'conditions[{index}]' must be a map with a 'type'", False)
            elif condition_kind(str(condition["type"])) in ("ExecutionFlow", "FlowCondition"):
                missing = [k for k in ("namespace", "flowId") if not condition.get(k)]
                if missing:
                    report("conditions", f"'conditions[{index}]' needs {' and '.join(missing)}", False)
        pre = props.get("preconditions")
        if isinstance(pre, dict):
            _check_preconditions(pre, report)

    @property
    def states(self) -> tuple[str, ...]:
        value = self.props.get("states")
        return tuple(str(s) for s in value) if isinstance(value, list) else TERMINATED

    def evaluate(self, ctx: TriggerContext) -> TriggerFiring | None:
        raise TriggerError("a Flow trigger fires when another flow's execution changes state; "
                           "run an upstream flow to fire it")

    def react(self, upstream: Upstream, ctx: TriggerContext, store: ValueStore, now: datetime) -> TriggerFiring | None:
        """The execution to start for this upstream state change, or None; raises TriggerError."""
        key = ctx.key
        if (upstream.namespace, upstream.flow_id) == (key.namespace, key.flow_id):
            return None  # Kestra's removeUnwanted: no recursive flow triggers
        if upstream.state not in self.states:
            return None
        variables = upstream_variables(upstream)
        condition_variables = {
            "trigger": variables,
            "execution": {"id": upstream.id, "namespace": upstream.namespace, "flowId": upstream.flow_id,
                          "state": upstream.state, "labels": dict(upstream.labels)},
            "outputs": dict(upstream.outputs), "inputs": dict(upstream.inputs), "labels": dict(upstream.labels),
        }

        def render(value: Any, name: str) -> Any:
            return ctx.render(value, name, condition_variables)

        listener = Listener(key.namespace, key.flow_id)
        for index, condition in enumerate(self.props.get("conditions") or []):
            if isinstance(condition, dict) and not test_condition(condition, upstream, listener, render,
                                                                  f"conditions[{index}]"):
                return None
        preconditions = preconditions_of(self.props, listener)
        if preconditions and not preconditions_met(preconditions, upstream, render, store,
                                                   f"trigger-preconditions:{key}", now):
            return None
        inputs: dict[str, Any] = {}
        raw_inputs = self.props.get("inputs")
        if isinstance(raw_inputs, dict):
            try:
                rendered = ctx.render(raw_inputs, "inputs", {"trigger": variables})
            except TriggerError as exc:
                ctx.log("WARN", f"Failed to trigger flow {key.namespace}.{key.flow_id} for trigger {self.id}, "
                                f"invalid inputs: {exc.message}")
                return None
            inputs = dict(rendered) if isinstance(rendered, dict) else {}
        return TriggerFiring(variables, new_id(), inputs,
                             summary=f"{upstream.namespace}.{upstream.flow_id} execution {upstream.id} "
                                     f"ended {upstream.state}" if upstream.state in TERMINATED else
                                     f"{upstream.namespace}.{upstream.flow_id} execution {upstream.id} "
                                     f"is {upstream.state}")


def upstream_variables(upstream: Upstream) -> dict[str, Any]:
    """The `trigger` variables of the execution `upstream` starts (also what `--fire` gives)."""
    return {
        "executionId": upstream.id, "namespace": upstream.namespace, "flowId": upstream.flow_id,
        "flowRevision": upstream.flow_revision, "state": upstream.state, "outputs": dict(upstream.outputs),
    }


def _check_preconditions(pre: Mapping[str, Any], report: Report) -> None:
    if not pre.get("id"):
        report("preconditions", "'preconditions' needs an 'id'", False)
    window = pre.get("timeWindow")
    if isinstance(window, dict) and window.get("type") is not None and str(window["type"]) not in WINDOW_TYPES:
        report("preconditions", f"'preconditions.timeWindow.type' must be one of {', '.join(WINDOW_TYPES)}", False)
    for index, flow in enumerate(pre.get("flows") or []):
        if not isinstance(flow, dict) or not flow.get("namespace"):
            report("preconditions", f"'preconditions.flows[{index}]' needs a 'namespace'", False)
    for index, where in enumerate(pre.get("where") or []):
        filters = where.get("filters") if isinstance(where, dict) else None
        if not isinstance(where, dict) or not where.get("id") or not isinstance(filters, list) or not filters:
            report("preconditions", f"'preconditions.where[{index}]' needs an 'id' and 'filters'", False)
            continue
        for position, item in enumerate(filters):
            if not isinstance(item, dict) or str(item.get("field")) not in FILTER_FIELDS \
                    or str(item.get("type")) not in FILTER_TYPES:
                report("preconditions", f"'preconditions.where[{index}].filters[{position}]' needs a 'field' "
                                        f"({', '.join(FILTER_FIELDS)}) and a 'type' ({', '.join(FILTER_TYPES)})",
                       False)
