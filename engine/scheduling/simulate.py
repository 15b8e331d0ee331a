"""A trigger's firing made up on request: `roost run FLOW --fire ID` and the workbench's simulate.

A flow written for an S3 bucket, a webhook or a schedule reads `trigger.objects`, `trigger.body`
or `trigger.date`; to try it without the bucket, the HTTP call or the wait, Roost builds the
`trigger` variables the real firing would build, with the real trigger's own functions (an S3
object's entry, a local file's entry, a webhook request's variables, a schedule's dates), and
files given with `--file` stored where the real trigger stores them (the new execution's
`trigger/<id>/` folder). Only what a simulation cannot know is given: the files, the body, the
date. Nothing is polled, moved or deleted. The trigger class is looked up and built as the
scheduler does (plugin defaults applied), and its properties are rendered by the scheduler's
PollContext, so `prefix: "{{ ... }}"` renders as it would at a poll.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from engine.core.errors import UsageError
from engine.core.ids import new_id
from engine.triggers.base import Trigger, TriggerFiring
from engine.triggers.properties import TriggerError, as_text
from engine.triggers.registry import trigger_class

if TYPE_CHECKING:
    from engine.execution.runtime import Runtime
    from engine.flow.model import Flow
    from engine.scheduling.trigger_context import PollContext
    from engine.triggers.state import TriggerState

FILES, BODY, DATE, NOTHING = "files", "body", "date", "nothing"
OPTION = {FILES: "--file PATH", BODY: "--body JSON|@FILE", DATE: "--date ISO", NOTHING: "no option"}


@dataclass(frozen=True)
class FireArgs:
    """What the user gives a simulation; each applies to some trigger types only."""

    files: tuple[Path, ...] = ()
    body: str | None = None
    date: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TriggerChoice:
    """One trigger of a flow and what simulating it takes (the CLI's messages, the UI's form)."""

    id: str
    type: str
    takes: str  # FILES | BODY | DATE | NOTHING
    required: bool
    hint: str
    runnable: bool = True

    @property
    def short_type(self) -> str:
        """`aws.s3.Trigger`, `core.trigger.Schedule`: the type without Kestra's common prefix."""
        return self.type.removeprefix("io.kestra.plugin.").removeprefix("io.kestra.core.models.triggers.types.")

    @property
    def label(self) -> str:
        """`waitForS3object (aws.s3.Trigger)`: the id and a readable type."""
        return f"{self.id} ({self.short_type})"


# Trigger class name -> (what it takes, required, hint).
_TAKES: dict[str, tuple[str, bool, str]] = {
    "S3Trigger": (FILES, True, "local files standing for the new objects (key = prefix + file name)"),
    "LocalFilesTrigger": (FILES, True, "local files standing for the files that appeared"),
    "WebhookTrigger": (BODY, False, "the request body (JSON is parsed, else kept as text)"),
    "HttpTrigger": (BODY, False, "the response body the URL answered (status 200)"),
    "FlowTrigger": (BODY, True, 'the upstream execution as JSON: {"namespace": ..., "flowId": ..., '
                                '"state": "SUCCESS", "outputs": {...}}'),
    "ScheduleTrigger": (DATE, False, "the scheduled date (default: now, in the trigger's time zone)"),
    "ScheduleOnDatesTrigger": (DATE, False, "the scheduled date (default: now, in the trigger's time zone)"),
}


def trigger_choices(flow: Flow) -> list[TriggerChoice]:
    """Each trigger of `flow` and what `--fire` takes for it."""
    choices = []
    for raw in flow.triggers:
        type_name, trigger_id = str(raw.get("type")), str(raw.get("id"))
        cls = trigger_class(type_name)
        if cls is None or cls.__name__ not in _TAKES:
            choices.append(TriggerChoice(trigger_id, type_name, NOTHING, False,
                                         "Roost does not run this type: give its variables with "
                                         "--trigger PAYLOAD.json", runnable=False))
            continue
        takes, required, hint = _TAKES[cls.__name__]
        choices.append(TriggerChoice(trigger_id, type_name, takes, required, hint))
    return choices


def choices_text(choices: list[TriggerChoice]) -> str:
    """`a (aws.s3.Trigger: --file PATH), b (...)` for a message naming what can be fired."""
    return ", ".join(f"{c.id} ({c.short_type}: {OPTION[c.takes]})" for c in choices)


def choice_for(flow: Flow, trigger_id: str) -> TriggerChoice:
    """The trigger `trigger_id` of `flow`; UsageError naming the triggers when there is none."""
    choices = trigger_choices(flow)
    if not choices:
        raise UsageError(f"--fire {trigger_id}: flow {flow.namespace}.{flow.id} has no triggers "
                         "(run it without --fire)")
    found = next((c for c in choices if c.id == trigger_id), None)
    if found is None:
        raise UsageError(f"--fire {trigger_id}: flow {flow.namespace}.{flow.id} has no trigger "
                         f"'{trigger_id}'; its triggers: {choices_text(choices)}")
    return found


def check_args(choice: TriggerChoice, args: FireArgs) -> None:
    """Options that do not apply to the trigger's type, or a required one missing: UsageError."""
    if not choice.runnable:
        raise UsageError(f"--fire {choice.id}: {choice.type} triggers are not run by Roost; "
                         "give their variables with --trigger PAYLOAD.json instead")
    given = {FILES: bool(args.files), BODY: args.body is not None, DATE: args.date is not None}
    names = {FILES: "--file", BODY: "--body", DATE: "--date"}
    for kind, present in given.items():
        if present and kind != choice.takes:
            takes = OPTION[choice.takes] if choice.takes != NOTHING else "no option"
            raise UsageError(f"{names[kind]} does not apply to trigger '{choice.id}' "
                             f"({choice.type}): it takes {takes}")
    if (args.headers or args.params) and not choice.type.endswith("Webhook"):
        raise UsageError(f"--header and --param apply to webhook triggers only, not to '{choice.id}' "
                         f"({choice.type})")
    if choice.required and not given.get(choice.takes, True):
        raise UsageError(f"--fire {choice.id} ({choice.type}) needs {OPTION[choice.takes]}: "
                         f"{choice.hint}")
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"--file {path}: no such file")


def simulated_firing(flow: Flow, trigger_id: str, args: FireArgs, runtime: Runtime,
                     execution_id: str | None = None,
                     log: Callable[[str, str], None] | None = None) -> TriggerFiring:
    """The firing `trigger_id` of `flow` would make, with `args` standing for what it found.

    Files are stored under `execution_id` (a new id when None); the firing's `execution_id`
    is the one to prepare the execution with. Raises UsageError for a wrong choice or option.
    """
    from engine.flow.plugin_defaults import apply_plugin_defaults
    from engine.scheduling.trigger_context import PollContext

    choice = choice_for(flow, trigger_id)
    check_args(choice, args)
    raw = next(r for r in flow.triggers if str(r.get("id")) == trigger_id)
    props = apply_plugin_defaults(raw, [*flow.plugin_defaults, *runtime.config.plugin_defaults])
    cls = trigger_class(choice.type)
    assert cls is not None  # check_args refused the types Roost does not run
    trigger = cls(trigger_id, choice.type, props)
    ctx = PollContext(runtime, flow, trigger, log or (lambda _level, _message: None), _no_state)
    ctx.execution_id = execution_id or new_id()
    try:
        return _BUILDERS[cls.__name__](trigger, ctx, args)
    except TriggerError as exc:
        ctx.discard_files()
        raise UsageError(f"--fire {trigger_id}: {exc.message}") from None
    except OSError as exc:
        ctx.discard_files()
        raise UsageError(f"--fire {trigger_id}: {exc.filename or ''}: {exc.strerror or exc}") from None


def _no_state(_key: str, _ttl: timedelta | None) -> TriggerState:
    raise TriggerError("a simulated firing keeps no dedup state")


# --- one builder per trigger type -----------------------------------------------------------------
def _s3(trigger: Trigger, ctx: PollContext, args: FireArgs) -> TriggerFiring:
    from engine.triggers.s3 import object_variables

    bucket = as_text(ctx.prop("bucket"), "bucket", required=True)
    prefix = as_text(ctx.prop("prefix"), "prefix") or ""
    objects = []
    for path in args.files:
        uri = ctx.storage_uri(path.name)
        ctx.put_file(uri, path)
        stat = path.stat()
        # What ListObjectsV2 lists for a single-part upload of this file: its MD5 in quotes.
        item = {"Key": prefix + path.name, "ETag": f'"{_md5(path)}"', "Size": stat.st_size,
                "LastModified": datetime.fromtimestamp(stat.st_mtime, UTC)}
        objects.append(object_variables(uri, item, "CREATE"))
    keys = ", ".join(o["key"] for o in objects)
    return TriggerFiring({"objects": objects}, ctx.execution_id,
                         summary=f"simulated: {len(objects)} object(s) in s3://{bucket}: {keys}")


def _local_files(trigger: Trigger, ctx: PollContext, args: FireArgs) -> TriggerFiring:
    from engine.triggers.local_files import LocalFilesTrigger

    assert isinstance(trigger, LocalFilesTrigger)
    files = [trigger.stored_file(ctx, path.absolute(), path.stat(), "CREATE") for path in args.files]
    return TriggerFiring({"files": files}, ctx.execution_id,
                         summary=f"simulated: {len(files)} file(s): {', '.join(f['name'] for f in files)}")


def _webhook(trigger: Trigger, ctx: PollContext, args: FireArgs) -> TriggerFiring:
    from engine.triggers.webhook import WebhookRequest, request_variables

    body = (args.body or "").encode("utf-8")
    request = WebhookRequest("POST" if body else "GET", list(args.headers), urlencode(list(args.params)), body)
    variables = request_variables(request)
    return TriggerFiring(variables, ctx.execution_id, _rendered_inputs(trigger, ctx, variables),
                         summary=f"simulated webhook call: {request.method}")


def _http(trigger: Trigger, ctx: PollContext, args: FireArgs) -> TriggerFiring:
    from engine.triggers.http_trigger import response_variables

    uri = as_text(ctx.prop("uri"), "uri", required=True) or ""
    variables = response_variables(ctx, uri, 200, {}, args.body)
    return TriggerFiring(variables, ctx.execution_id, summary=f"simulated: {uri} answered 200")


def _flow(trigger: Trigger, ctx: PollContext, args: FireArgs) -> TriggerFiring:
    from engine.triggers.flow_conditions import Upstream
    from engine.triggers.flow_trigger import upstream_variables

    upstream = _json_object(args.body or "", "--body")
    known = ("executionId", "namespace", "flowId", "flowRevision", "state", "outputs")
    unknown = [key for key in upstream if key not in known]
    missing = [key for key in ("namespace", "flowId") if not upstream.get(key)]
    if unknown or missing:
        raise UsageError(f"--body for Flow trigger '{trigger.id}': "
                         + (f"unknown key(s) {', '.join(unknown)}; " if unknown else "")
                         + (f"missing {' and '.join(missing)}; " if missing else "")
                         + f"it takes {', '.join(known)}")
    outputs = upstream.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise UsageError(f"--body for Flow trigger '{trigger.id}': 'outputs' must be a JSON object")
    variables = upstream_variables(Upstream(
        id=str(upstream.get("executionId") or new_id()), namespace=str(upstream["namespace"]),
        flow_id=str(upstream["flowId"]), state=str(upstream.get("state") or "SUCCESS"),
        flow_revision=int(upstream.get("flowRevision") or 1), outputs=outputs))
    return TriggerFiring(variables, ctx.execution_id, _rendered_inputs(trigger, ctx, variables),
                         summary=f"simulated: {variables['namespace']}.{variables['flowId']} "
                                 f"ended {variables['state']}")


def _schedule(trigger: Trigger, ctx: PollContext, args: FireArgs) -> TriggerFiring:
    from engine.triggers.schedule import ScheduleTrigger

    assert isinstance(trigger, ScheduleTrigger)
    zone = trigger.zone
    moment = parse_date(args.date, zone) if args.date is not None else datetime.now(zone).replace(microsecond=0)
    firing = trigger.firing(moment)
    return TriggerFiring(firing.variables, ctx.execution_id, firing.inputs, f"simulated: {firing.summary}")


_BUILDERS: dict[str, Callable[[Trigger, PollContext, FireArgs], TriggerFiring]] = {
    "S3Trigger": _s3, "LocalFilesTrigger": _local_files, "WebhookTrigger": _webhook, "HttpTrigger": _http,
    "FlowTrigger": _flow, "ScheduleTrigger": _schedule, "ScheduleOnDatesTrigger": _schedule,
}


# --- helpers ---------------------------------------------------------------------------------------
def _rendered_inputs(trigger: Trigger, ctx: PollContext, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger's `inputs` rendered with `trigger` = its variables, as the scheduler does."""
    inputs = trigger.props.get("inputs")
    if not isinstance(inputs, dict):
        return {}
    rendered = ctx.render(inputs, "inputs", {"trigger": dict(variables)})
    return dict(rendered) if isinstance(rendered, dict) else {}


def parse_date(text: str, zone: tzinfo) -> datetime:
    """An ISO-8601 date-time (`Z` allowed; no offset: in `zone`); UsageError when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--date {text}: not an ISO-8601 date-time such as 2025-01-31T09:00:00Z "
                         "or 2025-01-31T09:00") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def read_body(value: str) -> str:
    """`--body JSON` as given, or `--body @FILE`: the file's text."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--body {value}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--body {value}: not UTF-8 text") from None


def json_problem(text: str) -> str | None:
    """`line L, column C: message` when `text` is not JSON (the workbench's body editor)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return None


def _json_object(text: str, what: str) -> dict[str, Any]:
    problem = json_problem(text)
    if problem:
        raise UsageError(f"{what}: invalid JSON at {problem}")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise UsageError(f"{what}: a JSON object is expected")
    return value


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
