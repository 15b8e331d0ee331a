"""Kestra's execution conditions and preconditions, as a Flow trigger evaluates them.

A Flow trigger looks at one upstream execution that changed state. Its `conditions`
(ExecutionFlow, ExecutionNamespace, ExecutionStatus, ExecutionLabels, Expression,
ExecutionOutputs, Not, Or, and the deprecated FlowCondition / FlowNamespaceCondition) are
tested on that execution alone. Its `preconditions` (and a `MultipleCondition` among the
conditions) are remembered: each upstream condition met inside the time window is stored,
and the trigger fires once every one of them has been met in the same window (then the
results reset, unless `resetOnSuccess: false`), as Kestra's MultipleConditionStorage does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from engine.core.durations import DurationError, parse_duration
from engine.core.records import iso, parse_iso
from engine.core.truth import is_truthy
from engine.triggers.properties import TriggerError

_P = "io.kestra.plugin.core.condition."
_L = "io.kestra.core.models.conditions.types."
CONDITION_TYPES: dict[str, tuple[str, ...]] = {
    "ExecutionFlow": (_P + "ExecutionFlow", _L + "ExecutionFlowCondition", _P + "ExecutionFlowCondition"),
    "ExecutionNamespace": (_P + "ExecutionNamespace", _L + "ExecutionNamespaceCondition",
                           _P + "ExecutionNamespaceCondition"),
    "ExecutionStatus": (_P + "ExecutionStatus", _L + "ExecutionStatusCondition", _P + "ExecutionStatusCondition"),
    "ExecutionLabels": (_P + "ExecutionLabels", _L + "ExecutionLabelsCondition", _P + "ExecutionLabelsCondition"),
    "Expression": (_P + "Expression", _L + "VariableCondition", _P + "ExpressionCondition"),
    "ExecutionOutputs": (_P + "ExecutionOutputs", _L + "ExecutionOutputsCondition",
                         _P + "ExecutionOutputsCondition"),
    "Not": (_P + "Not", _L + "NotCondition", _P + "NotCondition"),
    "Or": (_P + "Or", _L + "OrCondition", _P + "OrCondition"),
    "FlowCondition": (_P + "FlowCondition", _L + "FlowCondition"),
    "FlowNamespaceCondition": (_P + "FlowNamespaceCondition", _L + "FlowNamespaceCondition"),
    "MultipleCondition": (_P + "MultipleCondition", _L + "MultipleCondition"),
}
_KIND_OF = {name: kind for kind, names in CONDITION_TYPES.items() for name in names}
WINDOW_TYPES = ("DURATION_WINDOW", "SLIDING_WINDOW", "DAILY_TIME_WINDOW", "DAILY_TIME_DEADLINE")
FILTER_FIELDS = ("FLOW_ID", "NAMESPACE", "STATE", "EXPRESSION")
FILTER_TYPES = ("EQUAL_TO", "NOT_EQUAL_TO", "IN", "NOT_IN", "IS_TRUE", "IS_FALSE", "IS_NULL", "IS_NOT_NULL",
                "STARTS_WITH", "ENDS_WITH", "REGEX", "CONTAINS")


@dataclass(frozen=True)
class Upstream:
    """The execution that changed state, as conditions see it."""

    id: str
    namespace: str
    flow_id: str
    state: str
    flow_revision: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Listener:
    """The flow whose trigger is evaluated (FlowCondition tests it, not the upstream)."""

    namespace: str
    flow_id: str


Render = Callable[[Any, str], Any]
"""Render a value (a condition's expression) with the condition variables; raises TriggerError."""


def condition_kind(type_name: str) -> str | None:
    return _KIND_OF.get(type_name)


def _truthy_text(rendered: Any) -> bool:
    """Kestra's Expression: false only for a blank text or 'false'."""
    text = "" if rendered is None else str(rendered).lower() if isinstance(rendered, bool) else str(rendered)
    return not (text.strip() == "" or text.strip() == "false")


def _labels(value: Any) -> list[tuple[str, str]]:
    """ExecutionLabels' `labels`: a map, or a list of {key, value}."""
    if isinstance(value, dict):
        return [(str(k), str(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(item.get("key")), str(item.get("value"))) for item in value if isinstance(item, dict)]
    raise TriggerError("ExecutionLabels: 'labels' must be a map or a list of {key, value}")


def test_condition(condition: Mapping[str, Any], upstream: Upstream, listener: Listener, render: Render,
                   where: str) -> bool:
    """One condition on one upstream execution (MultipleCondition is handled by the window store)."""
    type_name = str(condition.get("type"))
    kind = _KIND_OF.get(type_name)
    if kind is None:
        raise TriggerError(f"{where}: condition type '{type_name}' is not supported by Roost's Flow trigger "
                           f"(supported: {', '.join(CONDITION_TYPES)})")
    if kind == "ExecutionFlow":
        return upstream.namespace == condition.get("namespace") and upstream.flow_id == condition.get("flowId")
    if kind == "ExecutionNamespace":
        comparison = str(condition.get("comparison") or ("PREFIX" if condition.get("prefix") in (True, "true")
                                                         else "EQUALS")).upper()
        namespace = str(condition.get("namespace"))
        if comparison == "PREFIX":
            return upstream.namespace.startswith(namespace)
        if comparison == "SUFFIX":
            return upstream.namespace.endswith(namespace)
        return upstream.namespace == namespace
    if kind == "ExecutionStatus":
        states_in, states_out = condition.get("in"), condition.get("notIn")
        if isinstance(states_in, list) and upstream.state not in [str(s) for s in states_in]:
            return False
        return not (isinstance(states_out, list) and upstream.state in [str(s) for s in states_out])
    if kind == "ExecutionLabels":
        return all(upstream.labels.get(k) == v for k, v in _labels(condition.get("labels")))
    if kind == "Expression":
        return _truthy_text(render(condition.get("expression"), f"{where}.expression"))
    if kind == "ExecutionOutputs":
        if not upstream.outputs:
            return False
        return _truthy_text(render(condition.get("expression"), f"{where}.expression"))
    if kind in ("Not", "Or"):
        children = condition.get("conditions")
        if not isinstance(children, list) or not children:
            raise TriggerError(f"{where}: '{kind}' needs a non-empty 'conditions' list")
        results = (test_condition(child, upstream, listener, render, f"{where}.conditions[{i}]")
                   for i, child in enumerate(children) if isinstance(child, dict))
        return not any(results) if kind == "Not" else any(results)
    if kind == "FlowCondition":
        return listener.namespace == condition.get("namespace") and listener.flow_id == condition.get("flowId")
    if kind == "FlowNamespaceCondition":
        namespace = str(condition.get("namespace"))
        if condition.get("prefix") in (True, "true"):
            return listener.namespace.startswith(namespace)
        return listener.namespace == namespace
    return True  # MultipleCondition: the window decides


# --- preconditions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Precondition:
    """A set of named conditions to meet within one time window (Kestra's MultipleCondition)."""

    id: str
    conditions: dict[str, Callable[[Upstream, Render], bool]]
    time_window: Mapping[str, Any]
    reset_on_success: bool = True


def _upstream_flow_test(spec: Mapping[str, Any]) -> Callable[[Upstream, Render], bool]:
    def test(upstream: Upstream, _render: Render) -> bool:
        if spec.get("namespace") is not None and upstream.namespace != spec.get("namespace"):
            return False
        if spec.get("flowId") is not None and upstream.flow_id != spec.get("flowId"):
            return False
        states = spec.get("states")
        if isinstance(states, list) and upstream.state not in [str(s) for s in states]:
            return False
        labels = spec.get("labels")
        return not isinstance(labels, dict) or all(upstream.labels.get(str(k)) == str(v) for k, v in labels.items())

    return test


def _filter_test(spec: Mapping[str, Any], where: str) -> Callable[[Upstream, Render], bool]:
    raw_filters = spec.get("filters")
    filters: list[Any] = raw_filters if isinstance(raw_filters, list) else []
    operand = str(spec.get("operand") or "AND").upper()

    def one(upstream: Upstream, render: Render, item: Mapping[str, Any], index: int) -> bool:
        field_name = str(item.get("field"))
        value = item.get("value")
        values = [str(v) for v in item.get("values") or []]
        actual: str | None = {"FLOW_ID": upstream.flow_id, "NAMESPACE": upstream.namespace,
                              "STATE": upstream.state}.get(field_name)
        if field_name == "EXPRESSION":
            rendered = render(value, f"{where}.filters[{index}].value")
            actual = None if rendered is None else str(rendered)
        kind = str(item.get("type"))
        text = None if value is None else str(value)
        checks: dict[str, Callable[[], bool]] = {
            "EQUAL_TO": lambda: text == actual, "NOT_EQUAL_TO": lambda: text != actual,
            "IN": lambda: actual in values, "NOT_IN": lambda: actual not in values,
            "IS_TRUE": lambda: is_truthy(actual), "IS_FALSE": lambda: not is_truthy(actual),
            "IS_NULL": lambda: actual is None, "IS_NOT_NULL": lambda: actual is not None,
            "STARTS_WITH": lambda: actual is not None and actual.startswith(text or ""),
            "ENDS_WITH": lambda: actual is not None and actual.endswith(text or ""),
            "REGEX": lambda: actual is not None and re.fullmatch(text or "", actual) is not None,
            "CONTAINS": lambda: actual is not None and (text or "") in actual,
        }
        if kind not in checks:
            raise TriggerError(f"{where}.filters[{index}].type: '{kind}' is not one of {', '.join(FILTER_TYPES)}")
        return checks[kind]()

    def test(upstream: Upstream, render: Render) -> bool:
        results = (one(upstream, render, item, i) for i, item in enumerate(filters) if isinstance(item, dict))
        return any(results) if operand == "OR" else all(results)

    return test


def preconditions_of(props: Mapping[str, Any], listener: Listener) -> list[Precondition]:
    """The trigger's `preconditions`, and any MultipleCondition among its `conditions`."""
    found: list[Precondition] = []
    spec = props.get("preconditions")
    if isinstance(spec, dict):
        tests: dict[str, Callable[[Upstream, Render], bool]] = {}
        counter = 0
        for upstream_flow in spec.get("flows") or []:
            counter += 1
            tests[f"condition_{counter}"] = _upstream_flow_test(upstream_flow)
        for index, item in enumerate(spec.get("where") or []):
            counter += 1
            tests[f"condition_{counter}_{item.get('id')}"] = _filter_test(item, f"preconditions.where[{index}]")
        found.append(Precondition(str(spec.get("id") or "preconditions"), tests,
                                  spec.get("timeWindow") or {}, spec.get("resetOnSuccess") not in (False, "false")))
    for index, condition in enumerate(props.get("conditions") or []):
        if not isinstance(condition, dict) or _KIND_OF.get(str(condition.get("type"))) != "MultipleCondition":
            continue
        where = f"conditions[{index}]"
        raw_named = condition.get("conditions")
        named: dict[str, Any] = raw_named if isinstance(raw_named, dict) else {}
        tests = {str(name): _single(child, listener, f"{where}.conditions.{name}") for name, child in named.items()}
        window = dict(condition.get("timeWindow") or {})
        for key in ("window", "windowAdvance"):
            if condition.get(key) is not None:
                window.setdefault(key, condition[key])
        found.append(Precondition(str(condition.get("id") or where), tests, window,
                                  condition.get("resetOnSuccess") not in (False, "false")))
    return found


def _single(child: Any, listener: Listener, where: str) -> Callable[[Upstream, Render], bool]:
    def test(upstream: Upstream, render: Render) -> bool:
        return isinstance(child, dict) and test_condition(child, upstream, listener, render, where)

    return test


def _duration(value: Any, name: str, default: timedelta | None) -> timedelta | None:
    if value is None:
        return default
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise TriggerError(f"{name}: {exc}") from None


def _time_of_day(value: Any, name: str) -> timedelta:
    try:
        moment = time.fromisoformat(str(value).removesuffix("Z"))
    except ValueError:
        raise TriggerError(f"{name}: '{value}' is not a time of day such as 09:00:00") from None
    return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)


def window_bounds(time_window: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """Kestra's getOrCreate: where the window that contains `now` starts and ends."""
    kind = str(time_window.get("type") or "DURATION_WINDOW")
    now = now.replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    if kind == "SLIDING_WINDOW":
        return now, now + (_duration(time_window.get("window"), "timeWindow.window", timedelta(days=1))
                           or timedelta(days=1))
    if kind == "DAILY_TIME_WINDOW":
        return (midnight + _time_of_day(time_window.get("startTime"), "timeWindow.startTime"),
                midnight + _time_of_day(time_window.get("endTime"), "timeWindow.endTime"))
    if kind == "DAILY_TIME_DEADLINE":
        return midnight, midnight + _time_of_day(time_window.get("deadline"), "timeWindow.deadline")
    if kind != "DURATION_WINDOW":
        raise TriggerError(f"timeWindow.type: '{kind}' is not one of {', '.join(WINDOW_TYPES)}")
    window = _duration(time_window.get("window"), "timeWindow.window", timedelta(days=1)) or timedelta(days=1)
    start = now
    if window >= timedelta(days=1):
        start = start.replace(hour=0)
    if window >= timedelta(hours=1):
        start = start.replace(minute=0)
    minutes = int(window.total_seconds() // 60)
    if minutes > 0:
        start = start.replace(second=0, minute=0) + timedelta(minutes=minutes * (now.minute // minutes)
                                                              if minutes < 60 else 0)
    advance = _duration(time_window.get("windowAdvance"), "timeWindow.windowAdvance", None)
    if advance is not None:
        start = start + advance
    return start, start + window - timedelta(milliseconds=1)


class ValueStore(Protocol):
    """Where windows are kept between evaluations (the history database's kv table)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


def preconditions_met(preconditions: Sequence[Precondition], upstream: Upstream, render: Render,
                      store: ValueStore, key_prefix: str, now: datetime) -> bool:
    """Record what this execution satisfies; True when every precondition is met in its window."""
    all_met = True
    for pre in preconditions:
        key = f"{key_prefix}:{pre.id}"
        start, end, results = _load_window(store.get(key), now)
        if start is None or end is None:
            start, end = window_bounds(pre.time_window, now)
            results = {}
        if not start <= now <= end:  # a daily window not open yet, or closed for today
            all_met = False
            continue
        for name, test in pre.conditions.items():
            if test(upstream, render):
                results[name] = True
        met = len(pre.conditions) > 0 and all(results.get(name) for name in pre.conditions)
        if met and pre.reset_on_success:
            results = {}
        store.set(key, json.dumps({"start": iso(start), "end": iso(end), "results": results}))
        all_met = all_met and met
    return all_met


def _load_window(text: str | None, now: datetime) -> tuple[datetime | None, datetime | None, dict[str, bool]]:
    if not text:
        return None, None, {}
    try:
        saved = json.loads(text)
        start, end = parse_iso(saved.get("start")), parse_iso(saved.get("end"))
    except (ValueError, AttributeError):
        return None, None, {}
    if start is None or end is None or now > end:  # expired: a new window begins
        return None, None, {}
    results = {str(k): bool(v) for k, v in (saved.get("results") or {}).items()}
    return start, end, results
