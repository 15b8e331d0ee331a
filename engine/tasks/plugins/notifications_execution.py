"""Kestra's *Execution chat notifications: an execution's summary posted to Slack, Discord,
Microsoft Teams or Google Chat.

Kestra renders one Pebble template per service (slack-template.peb, discord-template.peb,
teams-template.peb, google-chat-template.peb) over ExecutionService.executionMap, then adds
the task's own properties (Slack's channel/username/icons, Discord's username/avatar/embeds/
content, Teams' theme colour and activity titles, Google Chat's text). Roost builds the same
JSON documents as data from an `ExecutionSummary` (execution_summary.py): same keys, same
texts, so a message looks as it does from Kestra, without a template that breaks on a quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.execution_summary import ExecutionSummary, load_summary
from engine.tasks.plugins.notifications import (
    DiscordIncomingWebhook,
    GoogleChatIncomingWebhook,
    SlackIncomingWebhook,
    TeamsIncomingWebhook,
    compact_json,
)
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

_NS = "io.kestra.plugin.notifications."


@dataclass(kw_only=True, eq=False)
class ExecutionFields:
    """Kestra's ExecutionInterface: which execution, and what to add to its summary."""

    execution_id: Any = prop(kind=Kind.STRING)
    """None: the current execution (Kestra's default `{{ execution.id }}`)."""
    custom_fields: Any = prop(kind=Kind.MAP)
    custom_message: Any = prop(kind=Kind.STRING)
    template_render_map: Any = prop(kind=Kind.MAP)
    """Accepted as Kestra accepts it; its *Execution tasks replace it with the summary."""

    def summary(self, ctx: TaskContext[Task]) -> ExecutionSummary:
        return load_summary(ctx, self.execution_id, self.custom_message, self.custom_fields)


def _optional(ctx: TaskContext[Task], value: Any, name: str) -> str | None:
    return ctx.render_optional_str(value, name) if value is not None else None


def slack_summary(summary: ExecutionSummary) -> dict[str, Any]:
    """slack-template.peb's document: text, blocks (custom message, title with a Details
    button), and an attachment coloured by state with the execution's fields."""
    text = f"*{summary.linked_title()}*\n> {summary.outcome}"
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if summary.link is not None:
        section["accessory"] = {"type": "button", "text": {"type": "plain_text", "text": "Details"},
                                "url": summary.link}
    blocks: list[dict[str, Any]] = []
    if summary.custom_message is not None:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": summary.custom_message}})
    blocks.append(section)
    fields = [{"title": "Namespace", "value": summary.namespace, "short": True},
              {"title": "Flow ID", "value": summary.flow_id, "short": True},
              {"title": "Execution ID", "value": summary.execution_id, "short": True},
              {"title": "Execution Status", "value": summary.state, "short": True}]
    fields += [{"title": str(k), "value": v, "short": True} for k, v in summary.custom_fields.items()]
    fields.append({"title": "Final task ID", "value": summary.last_task_id, "short": True})
    color = {"SUCCESS": "good", "WARNING": "warning"}.get(summary.state, "danger")
    return {"text": text, "blocks": blocks,
            "attachments": [{"color": color, "fields": fields, "ts": summary.start_timestamp}]}


@register
@dataclass(kw_only=True, eq=False)
class SlackExecution(SlackIncomingWebhook, ExecutionFields):
    """Posts an execution's summary to Slack: state, duration, the failed task, a link."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "slack.SlackExecution",)
    NEEDS_PAYLOAD: ClassVar[bool] = False

    channel: Any = prop(kind=Kind.STRING)
    username: Any = prop(kind=Kind.STRING)
    icon_url: Any = prop(kind=Kind.STRING)
    icon_emoji: Any = prop(kind=Kind.STRING)

    def body(self, ctx: TaskContext[Task]) -> str:
        document = slack_summary(self.summary(ctx))
        for key, value, name in (("channel", self.channel, "channel"), ("username", self.username, "username"),
                                 ("icon_url", self.icon_url, "iconUrl"),
                                 ("icon_emoji", self.icon_emoji, "iconEmoji")):
            rendered = _optional(ctx, value, name)
            if rendered is not None:
                document[key] = rendered
        return compact_json(document)


def discord_summary(summary: ExecutionSummary) -> dict[str, Any]:
    """discord-template.peb's document: one embed, the facts in its description, the outcome
    in its footer (the template's other branches never render: their variables are unset)."""
    where = (f"\n\n[Link to the Execution page]({summary.link})" if summary.link is not None
             else f"\n\n{summary.roost_command}")
    description = (f"Namespace: {summary.namespace}\nFlow ID: {summary.flow_id}\n"
                   f"Execution ID: {summary.execution_id}\nExecution Status: {summary.state} \n"
                   f"Final task ID: {summary.last_task_id or ''} {where}")
    return {"embeds": [{"description": description, "footer": {"text": summary.outcome}}]}


def _rgb(color: Any, where: str) -> int:
    """Kestra's Embed.getColor: `[r, g, b]` as one integer (0 when fewer than three)."""
    if not isinstance(color, list) or not all(isinstance(c, int) for c in color):
        raise TaskFailure(f"property '{where}' must be a list of three integers such as [255, 0, 0]")
    if len(color) < 3:
        return 0
    return (color[0] << 16) + (color[1] << 8) + color[2]


@register
@dataclass(kw_only=True, eq=False)
class DiscordExecution(DiscordIncomingWebhook, ExecutionFields):
    """Posts an execution's summary to Discord as an embed; `payload`, when given, is sent instead."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "discord.DiscordExecution",)
    NEEDS_PAYLOAD: ClassVar[bool] = False

    username: Any = prop(kind=Kind.STRING)
    avatar_url: Any = prop(kind=Kind.STRING)
    embed_list: Any = prop(kind=Kind.LIST)
    content: Any = prop(kind=Kind.STRING)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = super().validate()
        if isinstance(self.embed_list, list):
            known = {"title", "websiteUrl", "description", "thumbnail", "authorName", "color", "footer"}
            for index, embed in enumerate(self.embed_list):
                if not isinstance(embed, dict):
                    problems.append(("embedList", f"'embedList[{index}]' must be a map (title, description...)"))
                    continue
                for key in embed:
                    if key not in known:
                        problems.append(("embedList", f"unknown key '{key}' in 'embedList[{index}]' "
                                                      f"(known: {', '.join(sorted(known))})"))
        return problems

    def body(self, ctx: TaskContext[Task]) -> str:
        payload = _optional(ctx, self.payload, "payload")
        if payload is not None and payload.strip():
            return super().body(ctx)
        document = discord_summary(self.summary(ctx))
        username = _optional(ctx, self.username, "username")
        if username is not None:
            document["username"] = username
        avatar = _optional(ctx, self.avatar_url, "avatarUrl")
        if avatar is not None:
            document["avatar_url"] = avatar
        document["tts"] = False
        if self.embed_list is not None:
            embeds = [self._embed(ctx, embed, index, avatar)
                      for index, embed in enumerate(ctx.render_list(self.embed_list, "embedList"))]
            if embeds:  # the summary's embed fills the first one (its description and footer win)
                embeds[0].update(document["embeds"][0])
                document["embeds"] = embeds
        content = _optional(ctx, self.content, "content")
        if content is not None:
            document["content"] = content
        return compact_json(document)

    @staticmethod
    def _embed(ctx: TaskContext[Task], embed: Any, index: int, avatar: str | None) -> dict[str, Any]:
        where = f"embedList[{index}]"
        if not isinstance(embed, dict):
            raise TaskFailure(f"property '{where}' must be a map (title, description, color...)")
        result: dict[str, Any] = {}
        for key, target in (("title", "title"), ("description", "description"), ("websiteUrl", "url")):
            if embed.get(key) is not None:
                result[target] = str(embed[key])
        if embed.get("thumbnail") is not None:
            result["thumbnail"] = {"url": str(embed["thumbnail"])}
        if embed.get("authorName") is not None:
            result["author"] = {"name": str(embed["authorName"]), "url": embed.get("websiteUrl"),
                                "icon_url": avatar}
        if embed.get("color") is not None:
            result["color"] = _rgb(embed["color"], f"{where}.color")
        if embed.get("footer") is not None:
            result["footer"] = {"text": str(embed["footer"])}
        return result


def teams_summary(summary: ExecutionSummary, theme_color: str | None, title: str | None,
                  subtitle: str | None) -> dict[str, Any]:
    """teams-template.peb's MessageCard: the summary line and the execution's facts."""
    section: dict[str, Any] = {}
    if title is not None:
        section["activityTitle"] = title
    if subtitle is not None:
        section["activitySubtitle"] = subtitle
    section["facts"] = [{"name": "Namespace", "value": summary.namespace},
                        {"name": "Flow ID", "value": summary.flow_id},
                        {"name": "Execution ID", "value": summary.execution_id},
                        {"name": "Execution Status", "value": summary.state},
                        {"name": "Final task ID", "value": summary.last_task_id or ""}]
    section["markdown"] = True
    return {"@type": "MessageCard", "@context": "http://schema.org/extensions",
            "themeColor": theme_color or "",
            "summary": f"*{summary.linked_title()}*\n> {summary.outcome}", "sections": [section]}


@register
@dataclass(kw_only=True, eq=False)
class TeamsExecution(TeamsIncomingWebhook, ExecutionFields):
    """Posts an execution's summary to Microsoft Teams as a MessageCard."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "teams.TeamsExecution",)
    NEEDS_PAYLOAD: ClassVar[bool] = False

    theme_color: Any = prop("0076D7", kind=Kind.STRING)
    activity_title: Any = prop(kind=Kind.STRING)
    activity_subtitle: Any = prop(kind=Kind.STRING)

    def body(self, ctx: TaskContext[Task]) -> str:
        # Kestra's Teams template shows neither customMessage nor customFields; nor does this.
        return compact_json(teams_summary(
            self.summary(ctx), _optional(ctx, self.theme_color, "themeColor"),
            _optional(ctx, self.activity_title, "activityTitle"),
            _optional(ctx, self.activity_subtitle, "activitySubtitle")))


def google_chat_summary(summary: ExecutionSummary) -> dict[str, Any]:
    """google-chat-template.peb's message: one text with the facts and the outcome."""
    return {"text": f"Kestra Google notification: Namespace {summary.namespace}, Flow ID {summary.flow_id}, "
                    f"Execution ID {summary.execution_id}, Execution Status {summary.state}, "
                    f"Final task ID {summary.last_task_id or ''}. *{summary.linked_title()}*\n"
                    f"> {summary.outcome}"}


@register
@dataclass(kw_only=True, eq=False)
class GoogleChatExecution(GoogleChatIncomingWebhook, ExecutionFields):
    """Posts an execution's summary to Google Chat; `text` replaces the summary's text."""

    TYPES: ClassVar[tuple[str, ...]] = (_NS + "google.GoogleChatExecution",)
    NEEDS_PAYLOAD: ClassVar[bool] = False

    text: Any = prop(kind=Kind.STRING)

    def body(self, ctx: TaskContext[Task]) -> str:
        document = google_chat_summary(self.summary(ctx))
        text = _optional(ctx, self.text, "text")
        if text is not None:
            document["text"] = text
        return compact_json(document)
