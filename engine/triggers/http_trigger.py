"""io.kestra.plugin.core.http.Trigger: call a URL every `interval`; fire when the response says so.

Each poll makes the request Kestra's trigger makes (a Request with `allowFailed: true`: the
condition, not the status, decides), then renders `responseCondition` (by default
`{{ response.statusCode < 400 }}`) with `response.statusCode`, `response.body` and
`response.headers`. A truthy result starts an execution whose `trigger` variables are the
Request task's outputs: `uri`, `code`, `headers`, `body`. There is no dedup: a condition
that stays true fires at every poll, as in Kestra.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.core.truth import is_truthy
from engine.store.http_client import (
    METHODS,
    HttpCall,
    HttpError,
    exchange,
    read_text,
    settings_from,
)
from engine.triggers.base import POLLING, Trigger, TriggerContext, TriggerFiring
from engine.triggers.properties import Prop, Report, TriggerError, as_bool, as_text

DEFAULT_CONDITION = "{{ response.statusCode < 400 }}"


class HttpTrigger(Trigger):
    TYPES = ("io.kestra.plugin.core.http.Trigger", "io.kestra.plugin.fs.http.Trigger")
    KIND = POLLING
    PROPERTIES = {
        "interval": Prop("duration", dynamic=False),
        "uri": Prop(required=True),
        "method": Prop("enum", choices=METHODS, dynamic=False),
        "responseCondition": Prop(),
        "body": Prop(),
        "formData": Prop("map"),
        "contentType": Prop(),
        "headers": Prop("map"),
        "options": Prop("map"),
        "sslOptions": Prop("map"),
        "encryptBody": Prop("bool"),
    }

    @classmethod
    def check(cls, props: Mapping[str, Any], report: Report) -> None:
        if props.get("body") is not None and props.get("formData") is not None:
            report("formData", "give 'body' or 'formData', not both", False)

    def evaluate(self, ctx: TriggerContext) -> TriggerFiring | None:
        call = self._call(ctx)
        options = ctx.prop("options")
        ssl_options = ctx.prop("sslOptions")
        try:
            settings = settings_from(options if isinstance(options, dict) else None,
                                     ssl_options if isinstance(ssl_options, dict) else None)
            with exchange(call, settings, lambda uri: _open(ctx, uri), ctx.stop.is_set) as (answer, chunks):
                body: str | None = read_text(chunks, answer, settings) if call.method != "HEAD" else None
        except HttpError as exc:
            raise TriggerError(str(exc)) from None
        ctx.log("DEBUG", f"{call.uri} respond with status code '{answer.code}'")
        response = {"statusCode": answer.code, "body": body, "headers": answer.headers}
        condition = self.props.get("responseCondition", DEFAULT_CONDITION)
        rendered = ctx.render(condition, "responseCondition", {"response": response})
        if not is_truthy(rendered):
            ctx.log("DEBUG", f"responseCondition is false for code {answer.code}")
            return None
        variables = response_variables(ctx, answer.uri, answer.code, answer.headers, body)
        return TriggerFiring(variables, ctx.execution_id, summary=f"{call.method} {call.uri} answered {answer.code}")

    def _call(self, ctx: TriggerContext) -> HttpCall:
        headers = ctx.prop("headers")
        form = ctx.prop("formData")
        if headers is not None and not isinstance(headers, dict):
            raise TriggerError("property 'headers' must be a map")
        if form is not None and not isinstance(form, dict):
            raise TriggerError("property 'formData' must be a map")
        return HttpCall(
            uri=as_text(ctx.prop("uri"), "uri", required=True) or "",
            method=str(self.props.get("method") or "GET").upper(),
            headers={str(k): str(v) for k, v in (headers or {}).items()},
            body=as_text(ctx.prop("body"), "body"),
            form_data=form,
            content_type=as_text(ctx.prop("contentType"), "contentType"),
        )


def response_variables(ctx: TriggerContext, uri: str, code: int, headers: dict[str, list[str]],
                       body: str | None) -> dict[str, Any]:
    """`trigger.uri`, `code`, `headers`, `body` (or `encryptedBody`): also what `--fire` gives."""
    variables: dict[str, Any] = {"uri": uri, "code": code, "headers": headers, "body": body}
    if as_bool(ctx.prop("encryptBody"), "encryptBody", False):
        ctx.log("WARN", "encryptBody: encryption is not configured in Roost; the body is kept in "
                        "trigger.encryptedBody.value, unencrypted")
        variables["encryptedBody"] = {"type": "io.kestra.datatype:aes_encrypted", "value": body}
        variables["body"] = None
    return variables


def _open(ctx: TriggerContext, uri: str) -> Path:
    path = ctx.path_of(uri)
    if not path.is_file():
        raise HttpError(f"property 'formData': '{uri}' names no file in internal storage")
    return path
