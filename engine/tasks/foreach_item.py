"""Kestra's ForEachItem: one subflow execution per batch of an items file.

As in Kestra the task is flowable and runs three internal tasks, shown as its children:
`<id>_split` cuts the `items` file (a kestra:// URI) into batch files and lists their URIs in
`splits.txt`; `<id>_items` starts one execution of `namespace`.`flowId` per batch, with
`taskrun.items` (the batch's URI) and `taskrun.iteration` (1, 2...) in its `inputs`, and
counts how they ended (`iterations`, `numberOfBatches`); `<id>_merge` joins the flow
outputs of the batches into one `outputs.ion` (`subflowOutputs`). The internal tasks find
each other's outputs by task id, under the same ForEach values as their own.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.states import State
from engine.core.yaml_source import Position
from engine.tasks.base import FlowableTask, Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.item_batches import BatchRule, extension_of, parse_size, split_file
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.subflow import (
    is_literal,
    label_problems,
    render_labels,
    render_schedule_date,
    wait_for_child,
    warn_on_revision,
)
from engine.tasks.subflow_port import ChildOutcome, ChildRequest, ChildRun

_BATCH_KEYS = ("rows", "bytes", "partitions", "separator")
_TERMINAL_ORDER = (State.FAILED, State.KILLED, State.WARNING)
SPLIT_SUFFIX, ITEMS_SUFFIX, MERGE_SUFFIX = "_split", "_items", "_merge"


@register
@dataclass(kw_only=True, eq=False)
class ForEachItem(FlowableTask):
    """Splits `items` into batches and runs the subflow once per batch."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.ForEachItem", "io.kestra.core.tasks.flows.ForEachItem",
    )

    items: Any = prop(kind=Kind.STRING, required=True)
    batch: Any = prop(kind=Kind.MAP, dynamic=False)
    namespace: Any = prop(kind=Kind.STRING, required=True)
    flow_id: Any = prop(kind=Kind.STRING, required=True)
    revision: Any = prop(kind=Kind.INT, dynamic=False)
    inputs: Any = prop(kind=Kind.MAP)
    labels: Any = prop(kind=Kind.ANY)
    wait: bool = prop(True, kind=Kind.BOOL, dynamic=False)
    transmit_failed: bool = prop(True, kind=Kind.BOOL, dynamic=False)
    inherit_labels: bool = prop(False, kind=Kind.BOOL, dynamic=False)
    schedule_date: Any = prop(kind=Kind.STRING)

    internal_tasks: list[Task] = field(init=False, repr=False)
    """`<id>_split`, `<id>_items`, `<id>_merge`: Kestra's hard-coded `tasks`."""

    def __post_init__(self) -> None:
        common: dict[str, Any] = {"source": self.source, "source_path": self.source_path}
        self.internal_tasks = [
            ForEachItemSplit(id=self.id + SPLIT_SUFFIX, type=ForEachItemSplit.TYPES[0], owner=self, **common),
            ForEachItemExecutable(id=self.id + ITEMS_SUFFIX, type=ForEachItemExecutable.TYPES[0],
                                  owner=self, **common),
            ForEachItemMergeOutputs(id=self.id + MERGE_SUFFIX, type=ForEachItemMergeOutputs.TYPES[0],
                                    owner=self, **common),
        ]

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.internal_tasks
        yield from super().child_task_lists()

    def called_flow(self) -> tuple[str, str] | None:
        if is_literal(self.namespace) and is_literal(self.flow_id):
            return str(self.namespace), str(self.flow_id)
        return None

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = label_problems(self.labels)
        batch = self.batch if self.batch is not None else {}
        if not isinstance(batch, dict):
            return [*problems, ("batch", "'batch' must be a map of rows, bytes, partitions and separator")]
        for key in batch:
            if key not in _BATCH_KEYS:
                problems.append(("batch", f"unknown 'batch' property '{key}' (use {', '.join(_BATCH_KEYS)})"))
        for key in ("rows", "partitions"):
            value = batch.get(key)
            if value is not None and not isinstance(value, str) and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 1):
                problems.append(("batch", f"'batch.{key}' must be a whole number of 1 or more, not {value!r}"))
        size = batch.get("bytes")
        if size is not None and not (isinstance(size, str) and not is_literal(size)):
            try:
                parse_size(str(size))
            except ValueError as exc:
                problems.append(("batch", f"'batch.bytes': {exc}"))
        return problems

    def batch_rule(self, ctx: TaskContext[Task]) -> BatchRule:
        batch = self.batch or {}
        separator = ctx.render_str(batch["separator"], "batch.separator") if "separator" in batch else "\n"
        if batch.get("bytes") is not None:
            text = ctx.render_str(batch["bytes"], "batch.bytes")
            try:
                return BatchRule(rows=None, bytes=parse_size(text), separator=separator)
            except ValueError as exc:
                raise TaskFailure(f"property 'batch.bytes': {exc}") from None
        if batch.get("partitions") is not None:
            partitions = ctx.render_int(batch["partitions"], "batch.partitions")
            return BatchRule(rows=None, partitions=_at_least_one(partitions, "batch.partitions"),
                             separator=separator)
        rows = ctx.render_int(batch["rows"], "batch.rows") if batch.get("rows") is not None else 1
        return BatchRule(rows=_at_least_one(rows, "batch.rows"), separator=separator)

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        return TaskResult(state=ctx.run_block(self.internal_tasks, self.errors, self.finally_))


def _at_least_one(value: int | None, prop_name: str) -> int:
    if value is None or value < 1:
        raise TaskFailure(f"property '{prop_name}' must be 1 or more, not {value}")
    return value


def _sibling_outputs(ctx: TaskContext[Task], task_id: str) -> dict[str, Any]:
    """A sibling internal task's outputs, under the same ForEach values as this task run."""
    node: Any = ctx.variables().get("outputs", {}).get(task_id, {})
    for value in ctx.task_run.value_path:
        node = node.get(value, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _storage_base(ctx: TaskContext[Task]) -> str:
    """This task run's storage folder as Kestra's `subflowOutputsBaseUri` gives it: a path, no scheme."""
    uri = ctx.storage.task_file_uri(ctx.flow.namespace, ctx.flow.id, ctx.execution_id,
                                    ctx.task_id, ctx.task_run_id, "")
    return uri[len("kestra://"):].rstrip("/")


@dataclass(kw_only=True, eq=False)
class ForEachItemSplit(Task):
    """`<id>_split`: the batch files, listed in `splits.txt` (output `splits`)."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.ForEachItem$ForEachItemSplit",)
    owner: ForEachItem = field(repr=False)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        owner = self.owner
        uri = ctx.render_str(owner.items, "items")
        if not uri.startswith("kestra://"):
            raise TaskFailure(f"Unable to split the items from {uri}, this is not an internal storage URI! "
                              "('items' takes a kestra:// URI: a task's output file or a FILE input)")
        source = ctx.storage_path(uri)
        rule = owner.batch_rule(ctx)
        ctx.home.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="roost-split-", dir=ctx.home.root) as folder:
            target = Path(folder)
            batches = split_file(source, rule, target, extension_of(uri))
            uris = [ctx.store_output_file(path.name, path) for path in batches]
            listing = target / "splits.txt"
            listing.write_text("\n".join(uris), encoding="utf-8")
            splits = ctx.store_output_file("splits.txt", listing)
        ctx.info(f"{len(uris)} batch(es) from {uri} ({rule.describe()})")
        return {"splits": splits}


@dataclass(kw_only=True, eq=False)
class ForEachItemExecutable(Task):
    """`<id>_items`: one subflow execution per batch; counts their end states."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.ForEachItem$ForEachItemExecutable",)
    owner: ForEachItem = field(repr=False)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any] | TaskResult:
        owner = self.owner
        splits = _sibling_outputs(ctx, owner.id + SPLIT_SUFFIX).get("splits")
        if not isinstance(splits, str):
            raise TaskFailure(f"no 'splits' output from {owner.id}{SPLIT_SUFFIX}: the batches are unknown")
        text = ctx.storage_path(splits).read_text(encoding="utf-8")
        batches = [line for line in text.splitlines() if line]
        if not batches:
            ctx.info("no items: no subflow execution")
            return {}
        children = self._start_all(ctx, batches)
        outputs: dict[str, Any] = {"numberOfBatches": len(batches),
                                   "subflowOutputsBaseUri": _storage_base(ctx)}
        if not owner.wait:
            outputs["iterations"] = {State.RUNNING.value: 0, State.SUCCESS.value: len(batches)}
            return outputs
        outcomes = [wait_for_child(ctx, child) for child in children]
        for iteration, outcome in enumerate(outcomes, start=1):
            if outcome.outputs:
                self._store_batch_outputs(ctx, iteration, outcome)
        counts = Counter(outcome.state.value for outcome in outcomes)
        outputs["iterations"] = {State.CREATED.value: 0, State.RUNNING.value: 0, **dict(counts)}
        return self._end(ctx, counts, outputs)

    def _start_all(self, ctx: TaskContext[Task], batches: list[str]) -> list[ChildRun]:
        owner = self.owner
        namespace = ctx.render_str(owner.namespace, "namespace")
        flow_id = ctx.render_str(owner.flow_id, "flowId")
        warn_on_revision(ctx, owner.revision)
        labels = render_labels(ctx, owner.labels)
        schedule = render_schedule_date(ctx, owner.schedule_date)
        taskrun = dict(ctx.variables().get("taskrun") or {})
        children: list[ChildRun] = []
        try:
            for iteration, uri in enumerate(batches, start=1):
                # Kestra's two special variables, for `inputs` only.
                ctx.extra_variables["taskrun"] = {**taskrun, "items": uri, "iteration": iteration}
                inputs = ctx.render_map(owner.inputs, "inputs") if owner.inputs is not None else {}
                children.append(ctx.child_flows.start(ChildRequest(
                    namespace=namespace, flow_id=flow_id, inputs=inputs, labels=labels,
                    inherit_labels=owner.inherit_labels, schedule_date=schedule)))
        except TaskFailure as failure:
            for child in children:   # all or none, as Kestra creates them together
                child.cancel()
            raise TaskFailure(f"batch {len(children) + 1} of {len(batches)}: {failure.message}") from None
        finally:
            ctx.extra_variables.pop("taskrun", None)
        ctx.info(f"Created {len(children)} execution(s) of flow {namespace}.{flow_id}")
        return children

    def _store_batch_outputs(self, ctx: TaskContext[Task], iteration: int, outcome: ChildOutcome) -> None:
        """`<iteration>/outputs.ion` under this task run: one line, the batch's flow outputs."""
        with tempfile.NamedTemporaryFile("w", suffix=".ion", delete=False, encoding="utf-8",
                                         dir=ctx.home.root) as handle:
            # JSON is valid Ion text: Kestra's readers (and jq) read these lines alike.
            handle.write(json.dumps(outcome.outputs, separators=(",", ":"), default=str) + "\n")
        ctx.store_output_file(f"{iteration}/outputs.ion", Path(handle.name))

    def _end(self, ctx: TaskContext[Task], counts: Counter[str], outputs: dict[str, Any]) -> dict[str, Any] | TaskResult:
        """Kestra's findTerminalState when transmitFailed: FAILED, else KILLED, else WARNING."""
        total = outputs["numberOfBatches"]
        worst = next((state for state in _TERMINAL_ORDER if counts.get(state.value)), None)
        if worst is None:
            return outputs
        told = f"{counts[worst.value]} of {total} subflow execution(s) ended {worst.value}"
        if not self.owner.transmit_failed:
            ctx.info(f"{told}; transmitFailed is false, so this task succeeds")
            return outputs
        if worst is State.FAILED:
            raise TaskFailure(told, outputs=outputs)
        ctx.warn(told)
        return TaskResult(outputs=outputs, state=worst)


@dataclass(kw_only=True, eq=False)
class ForEachItemMergeOutputs(Task):
    """`<id>_merge`: the batches' flow outputs in one file (output `subflowOutputs`)."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.ForEachItem$ForEachItemMergeOutputs",)
    owner: ForEachItem = field(repr=False)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        produced = _sibling_outputs(ctx, self.owner.id + ITEMS_SUFFIX)
        base, count = produced.get("subflowOutputsBaseUri"), produced.get("numberOfBatches")
        if not isinstance(base, str) or not isinstance(count, int):
            return {}   # no subflow execution ran
        parts = [f"kestra://{base}/{iteration}/outputs.ion" for iteration in range(1, count + 1)]
        present = [uri for uri in parts if ctx.storage.exists(uri)]
        if not present:
            return {}
        with tempfile.NamedTemporaryFile("wb", suffix=".ion", delete=False, dir=ctx.home.root) as handle:
            for uri in present:
                handle.write(ctx.storage_path(uri).read_bytes())
        return {"subflowOutputs": ctx.store_output_file("outputs.ion", Path(handle.name))}
