"""Kestra's chat webhooks: Slack, Discord, Microsoft Teams and Google Chat incoming webhooks.

Each is Kestra's `<Service>IncomingWebhook` (plugin-notifications): a `url`, a rendered
`payload` POSTed with `Content-Type: application/json`, and `options` (Kestra's
RequestOptions: timeouts, charset and extra `headers`). Slack and Discord read the payload as
JSON and send it re-serialized, so a payload that is not JSON fails before anything is sent;
Teams and Google Chat send the rendered text as it is, as Kestra does. An answer that is not
2xx fails the task. A webhook URL is a credential (Slack's holds its token), so messages name
its host only. The *Execution summaries build their payload in notifications_execution.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.store.http_client import (
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

_NS = "io.kestra.plugin.notifications."
OPTION_KEYS = ("connectTimeout", "readTimeout", "readIdleTimeout", "connectionPoolIdleTimeout",
               "maxContentLength", "defaultCharset", "headers")
"""Kestra's AbstractHttpOptionsTask.RequestOptions, the only keys `options` takes here."""


def redacted(url: str) -> str:
    """`https://hooks.slack.com/…`: where a webhook goes, without the secret in its path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.scheme and parts.netloc else "the webhook URL"


def compact_json(value: Any) -> str:
    """JSON the way Kestra's Jackson mapper writes a request body: no spaces, UTF-8 kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(kw_only=True, eq=False)
class IncomingWebhook(Task):
    """What every webhook task shares: the URL, the payload, the HTTP options, one POST."""

    SERVICE: ClassVar[str] = "webhook"
    PARSE_JSON: ClassVar[bool] = False
    """True: the payload is read as JSON and re-serialized (Kestra's JsonRequestBody)."""
    NEEDS_PAYLOAD: ClassVar[bool] = True

    url: Any = prop(kind=Kind.STRING, required=True)
    payload: Any = prop(kind=Kind.STRING)
    options: Any = prop(kind=Kind.MAP)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = []
        if isinstance(self.options, dict):
            for key in self.options:
                if key not in OPTION_KEYS:
                    problems.append(("options", f"unknown option '{key}' in 'options' "
                                                f"(known: {', '.join(OPTION_KEYS)})"))
        if self.NEEDS_PAYLOAD and self.payload is None and self._needs_payload():
            problems.append(("payload", f"'payload' is required: the {self.SERVICE} message, "
                                        "as JSON text"))
        return problems

    def _needs_payload(self) -> bool:
        return True

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        self.send(ctx, self.body(ctx))
        return {}

    def body(self, ctx: TaskContext[Task]) -> str:
        """The request body: the rendered `payload` (re-serialized JSON for Slack and Discord)."""
        text = ctx.render_optional_str(self.payload, "payload")
        if text is None or not text.strip():
            raise TaskFailure(f"property 'payload' is empty: give the {self.SERVICE} message as JSON text")
        return compact_json(parse_json(text, "payload")) if self.PARSE_JSON else text

    def send(self, ctx: TaskContext[Task], body: str) -> None:
        """POST `body` to the rendered `url`; an answer that is not 2xx fails the task."""
        url = ctx.render_str(self.url, "url")
        settings, headers = self._options(ctx)
        ctx.debug(f"Send {self.SERVICE} webhook: {body}")
        call = HttpCall(uri=url, method="POST", headers={"Content-Type": "application/json", **headers},
                        body=body)

        def no_files(uri: str) -> Any:
            raise HttpError(f"no file may be sent to a webhook ({uri})")

        try:
            with exchange(call, settings, no_files, lambda: ctx.cancelled) as (answer, chunks):
                text = read_text(chunks, answer, settings)
        except HttpError as exc:
            message = str(exc).replace(url, redacted(url)).replace("property 'uri'", "property 'url'")
            raise TaskFailure(f"{self.SERVICE} webhook: {message}") from None
        ctx.debug(f"Response: {text}")
        if not 200 <= answer.code < 300:
            snippet = text.strip()[:300]
            raise TaskFailure(f"{self.SERVICE} webhook at {redacted(url)}: {failure_message(answer)}"
                              + (f": {snippet}" if snippet else ""))
        if answer.code == 200:
            ctx.info("Request succeeded")

    def _options(self, ctx: TaskContext[Task]) -> tuple[HttpSettings, dict[str, str]]:
        options = ctx.render_map(self.options, "options")
        raw_headers = options.pop("headers", None) or {}
        if not isinstance(raw_headers, dict):
            raise TaskFailure("property 'options.headers' must be a map of header names to values")
        headers = {str(k): str(v) for k, v in raw_headers.items()}
        try:
            return settings_from(options, None), headers
        except HttpError as exc:
            raise TaskFailure(str(exc)) from None


def parse_json(text: str, prop_name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaskFailure(f"property '{prop_name}' is not valid JSON ({exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}): write the message as a JSON object") from None


def slack_mrkdwn(text: str) -> str:
    """Kestra's toSlackMrkdwn: `**bold**`, `__italic__` and `[text](url)` in Slack's own marks."""
    text = re.sub(r"\*\*(.*?)\*\*", r"*\1*", text)
    text = re.sub(r"__(.*?)__", r"_\1_", text)
    return re.sub(r"\[(.*?)\]\((.*?)\)", r"<\2|\1>", text)


@register
@dataclass(kw_only=True, eq=False)
class SlackIncomingWebhook(IncomingWebhook):
    """Posts a message to a Slack incoming webhook: a JSON `payload`, or `messageText`."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "slack.SlackIncomingWebhook",)
    SERVICE: ClassVar[str] = "Slack"
    PARSE_JSON: ClassVar[bool] = True

    message_text: Any = prop(kind=Kind.STRING)

    def _needs_payload(self) -> bool:
        return self.message_text is None

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = [p for p in super().validate() if p[0] != "payload"]
        if self.NEEDS_PAYLOAD and self.payload is None and self.message_text is None:
            problems.append(("payload", "give 'payload' (the Slack message as JSON) or 'messageText' "
                                        "(text with markdown)"))
        return problems

    def body(self, ctx: TaskContext[Task]) -> str:
        if self.payload is not None:
            return super().body(ctx)
        if self.message_text is None:
            raise TaskFailure("Either 'messageText' or 'payload' must be provided")
        text = ctx.render_str(self.message_text, "messageText")
        try:  # Kestra tries JSON first, for a message with blocks
            return compact_json(json.loads(text))
        except json.JSONDecodeError:
            return compact_json({"text": slack_mrkdwn(text)})


@register
@dataclass(kw_only=True, eq=False)
class DiscordIncomingWebhook(IncomingWebhook):
    """Posts a JSON `payload` to a Discord webhook."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "discord.DiscordIncomingWebhook",)
    SERVICE: ClassVar[str] = "Discord"
    PARSE_JSON: ClassVar[bool] = True


@register
@dataclass(kw_only=True, eq=False)
class TeamsIncomingWebhook(IncomingWebhook):
    """Posts a `payload` (a MessageCard or an Adaptive Card) to a Microsoft Teams webhook."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "teams.TeamsIncomingWebhook",)
    SERVICE: ClassVar[str] = "Microsoft Teams"


@register
@dataclass(kw_only=True, eq=False)
class GoogleChatIncomingWebhook(IncomingWebhook):
    """Posts a `payload` to a Google Chat space's incoming webhook."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "google.GoogleChatIncomingWebhook",)
    SERVICE: ClassVar[str] = "Google Chat"
