"""Kestra's HTTP tasks: Request (the response in the outputs) and Download (to a storage file).

Both are Kestra's AbstractHttp: `uri`, `method`, `headers`, `body` or `formData` (urlencoded,
or multipart when `contentType` is multipart/form-data, kestra:// values sent as files),
`options` and `sslOptions`. The client itself is shared with the HTTP trigger in
engine/store/http_client.py. A response code >= 400 fails the task unless `allowFailed`.
Download never holds the body in memory: bytes go to a file as they arrive.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.store.http_client import (
    METHODS,
    OPTION_KEYS,
    HttpAnswer,
    HttpCall,
    HttpError,
    HttpSettings,
    exchange,
    failure_message,
    read_text,
    settings_from,
)
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

ENCRYPTED_TYPE = "io.kestra.datatype:aes_encrypted"


@dataclass(kw_only=True, eq=False)
class AbstractHttp(Task):
    """The properties every HTTP task shares (Kestra's AbstractHttp / HttpInterface)."""

    uri: Any = prop(kind=Kind.STRING, required=True)
    method: Any = prop("GET", kind=Kind.STRING, dynamic=False)
    body: Any = prop(kind=Kind.STRING)
    form_data: Any = prop(kind=Kind.MAP)
    content_type: Any = prop(kind=Kind.STRING)
    headers: Any = prop(kind=Kind.MAP)
    options: Any = prop(kind=Kind.MAP)
    ssl_options: Any = prop(kind=Kind.MAP)
    allow_failed: Any = prop(False, kind=Kind.BOOL)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = []
        if isinstance(self.method, str) and self.method.upper() not in METHODS:
            problems.append(("method", f"'method' must be one of {', '.join(METHODS)}, not '{self.method}'"))
        if isinstance(self.options, dict):
            for key in self.options:
                if key not in OPTION_KEYS:
                    problems.append(("options", f"unknown option '{key}' in 'options' "
                                                f"(known: {', '.join(OPTION_KEYS[:13])}, auth, ...)"))
        if self.body is not None and self.form_data is not None:
            problems.append(("formData", "give 'body' or 'formData', not both"))
        return problems

    # --- shared by Request and Download -----------------------------------------------------
    def _settings(self, ctx: TaskContext[Task]) -> HttpSettings:
        try:
            return settings_from(ctx.render_map(self.options, "options"),
                                 ctx.render_map(self.ssl_options, "sslOptions"))
        except HttpError as exc:
            raise TaskFailure(str(exc)) from None

    def _call(self, ctx: TaskContext[Task]) -> HttpCall:
        headers = {str(k): ctx.render_str(v, f"headers.{k}") for k, v in ctx.render_map(self.headers,
                                                                                          "headers").items()}
        form = ctx.render_map(self.form_data, "formData") if self.form_data is not None else None
        return HttpCall(
            uri=ctx.render_str(self.uri, "uri"),
            method=str(self.method or "GET").upper(),
            headers=headers,
            body=ctx.render_optional_str(self.body, "body"),
            form_data=form,
            content_type=ctx.render_optional_str(self.content_type, "contentType"),
        )

    def _allow_failed(self, ctx: TaskContext[Task], settings: HttpSettings) -> bool:
        if settings.allow_failed is not None:
            return settings.allow_failed
        return ctx.render_bool(self.allow_failed, "allowFailed")

    def _open_file(self, ctx: TaskContext[Task]) -> Any:
        def open_file(uri: str) -> Path:
            try:
                return ctx.storage_path(uri)
            except TaskFailure as exc:
                raise HttpError(f"property 'formData': {exc.message}") from None

        return open_file

    def _metric(self, ctx: TaskContext[Task], call: HttpCall, answer: HttpAnswer | None, length: int) -> None:
        tags = {"request.method": call.method}
        if answer is not None:
            tags["response.code"] = str(answer.code)
        ctx.metric("response.length", "counter", float(length), tags)


@register
@dataclass(kw_only=True, eq=False)
class Request(AbstractHttp):
    """Calls an HTTP endpoint and keeps the response (code, headers, body) as outputs."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.http.Request", "io.kestra.plugin.fs.http.Request")

    encrypt_body: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        settings = self._settings(ctx)
        call = self._call(ctx)
        allow_failed = self._allow_failed(ctx, settings)
        try:
            with exchange(call, settings, self._open_file(ctx), lambda: ctx.cancelled) as (answer, chunks):
                body = read_text(chunks, answer, settings) if call.method != "HEAD" else ""
        except HttpError as exc:
            raise TaskFailure(str(exc)) from None
        ctx.debug(f"Request '{call.uri}' with the response code '{answer.code}'")
        length = answer.header("Content-Length")
        if length is not None and length.isdigit():
            self._metric(ctx, call, answer, int(length))
        outputs: dict[str, Any] = {"uri": answer.uri, "code": answer.code, "headers": answer.headers,
                                   "body": body if body != "" or call.method != "HEAD" else None}
        if ctx.render_bool(self.encrypt_body, "encryptBody"):
            # Kestra without an encryption key (Roost has none) warns and keeps the text as is.
            ctx.warn("Unable to encrypt the output as encryption is not configured in Roost: "
                     "the body is in outputs.encryptedBody.value, unencrypted")
            outputs["encryptedBody"] = {"type": ENCRYPTED_TYPE, "value": outputs["body"]}
            outputs["body"] = None
        if answer.code >= 400 and not allow_failed:
            raise TaskFailure(f"{failure_message(answer)} for {call.method} {call.uri} "
                              "(set allowFailed: true to accept it)", outputs)
        return outputs


@register
@dataclass(kw_only=True, eq=False)
class Download(AbstractHttp):
    """Downloads a URL into internal storage, streamed to disk; outputs its kestra:// URI."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.http.Download", "io.kestra.plugin.fs.http.Download")

    fail_on_empty_response: Any = prop(True, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        settings = self._settings(ctx)
        call = self._call(ctx)
        allow_failed = self._allow_failed(ctx, settings)
        with tempfile.TemporaryDirectory(prefix="download-", dir=ctx.home.root) as folder:
            target = Path(folder) / "body"
            size = 0
            try:
                with exchange(call, settings, self._open_file(ctx), lambda: ctx.cancelled) as (answer, chunks):
                    if answer.code >= 400 and not allow_failed:
                        raise TaskFailure(f"{failure_message(answer)} for {call.method} {call.uri} "
                                          "(set allowFailed: true to accept it)")
                    with target.open("wb") as out:
                        for chunk in chunks:
                            out.write(chunk)
                            size += len(chunk)
            except HttpError as exc:
                raise TaskFailure(str(exc)) from None
            expected = answer.header("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) != size and call.method != "HEAD":
                raise TaskFailure(f"Invalid size, got {size}, expected {expected}")
            self._metric(ctx, call, None, size)
            if size == 0:
                if ctx.render_bool(self.fail_on_empty_response, "failOnEmptyResponse") and not allow_failed:
                    raise TaskFailure(f"No response from server: {call.uri} sent an empty body "
                                      "(set failOnEmptyResponse: false to accept it)")
                ctx.warn(f"File '{call.uri}' is empty")
            name = _name_from_header(answer.header("Content-Disposition")) or _name_from_uri(call.uri)
            uri = ctx.store_output_file(name, target, move=True)
            shutil.rmtree(folder, ignore_errors=True)
        ctx.debug(f"File '{call.uri}' downloaded to '{uri}'")
        return {"uri": uri, "code": answer.code, "length": size, "headers": answer.headers}


def _name_from_header(disposition: str | None) -> str | None:
    """Kestra's filenameFromHeader: `filename*=UTF-8''name` or `filename="name"`, last path part only."""
    if not disposition:
        return None
    name: str | None = None
    for part in disposition.split(";"):
        stripped = part.strip()
        if stripped.startswith("filename*"):
            value = stripped.split("=", 1)[-1]
            name = value[value.rfind("'") + 1:] if "'" in value else value
        elif stripped.startswith("filename") and name is None:
            name = stripped.split("=", 1)[-1]
    if not name:
        return None
    name = name.strip().strip('"')
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return quote(name, safe="") if name and name not in (".", "..") else None


def _name_from_uri(uri: str) -> str:
    """A random name with the URI's extension, as Kestra's temp file (`orders.csv` -> `….csv`)."""
    last = urlsplit(uri).path.rsplit("/", 1)[-1]
    suffix = last[last.index("."):] if "." in last else ""
    return f"{secrets.token_hex(8)}{suffix}"
