"""io.kestra.plugin.core.trigger.Webhook: an HTTP request with the flow's `key` starts it.

`roost triggers` serves Kestra's URL, `/api/v1/executions/webhook/{namespace}/{flowId}/{key}`
(also with a tenant segment, `/api/v1/main/executions/webhook/...`), for GET, POST and
PUT. The request becomes `trigger.body` (JSON map or list when it parses, else text;
base64 for a binary content type), `trigger.headers` and `trigger.parameters` (each
name to a list of values). Responses follow Kestra: 200 with the execution, 404 when
the flow or key is unknown, 422 when the inputs are refused.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from engine.triggers.base import WEBHOOK, Trigger
from engine.triggers.properties import Prop, Report, is_template

MAX_KEY_LENGTH = 256
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded",
               "application/yaml", "application/x-yaml", "application/csv", "+json", "+xml")


@dataclass(frozen=True)
class WebhookRequest:
    """One HTTP request as the server received it."""

    method: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    query: str = ""
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class WebhookTrigger(Trigger):
    TYPES = ("io.kestra.plugin.core.trigger.Webhook", "io.kestra.core.models.triggers.types.Webhook")
    KIND = WEBHOOK
    PROPERTIES = {
        "key": Prop(required=True),
        "wait": Prop("bool", dynamic=False),
        "returnOutputs": Prop("bool", dynamic=False),
        "responseContentType": Prop("enum", choices=("application/json", "text/plain"), dynamic=False),
        "responseCode": Prop("int"),
        "inputs": Prop("map"),
        "fetchType": Prop("enum", choices=("FETCH", "STORE")),
    }

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        key = props.get("key")
        if isinstance(key, str) and not is_template(key):
            if not key:
                report("key", "'key' must not be empty", False)
            elif len(key) > MAX_KEY_LENGTH:
                report("key", f"'key' must be at most {MAX_KEY_LENGTH} characters", False)
            elif "/" in key:
                report("key", "'key' must not contain '/' (it is one segment of the webhook URL)", False)

    @property
    def wait(self) -> bool:
        return self.props.get("wait") in (True, "true")

    @property
    def return_outputs(self) -> bool:
        return self.props.get("returnOutputs") in (True, "true")


def request_variables(request: WebhookRequest) -> dict[str, Any]:
    """`trigger.body`, `trigger.headers` and `trigger.parameters` for one request."""
    headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers.setdefault(name, []).append(value)
    parameters = {k: list(v) for k, v in parse_qs(request.query, keep_blank_values=True).items()}
    return {"body": _body(request), "headers": headers, "parameters": parameters}


def _body(request: WebhookRequest) -> Any:
    if not request.body:
        return None
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type and not any(t in content_type for t in _TEXT_TYPES):
        return base64.b64encode(request.body).decode("ascii")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode("ascii")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return text
    return parsed if isinstance(parsed, dict | list) else text


def execution_response(execution_json: Mapping[str, Any], trigger: Trigger,
                       outputs: Any = None) -> dict[str, Any]:
    """The body Kestra answers a webhook call with: the execution, its trigger and state."""
    return {
        "tenantId": None,
        "id": execution_json.get("id"),
        "namespace": execution_json.get("namespace"),
        "flowId": execution_json.get("flowId"),
        "flowRevision": 1,
        "trigger": {"id": trigger.id, "type": trigger.type, "variables": execution_json.get("trigger")},
        "outputs": outputs,
        "labels": execution_json.get("labels", []),
        "state": execution_json.get("state"),
        "url": None,
    }
