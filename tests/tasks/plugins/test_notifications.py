"""Kestra's chat notifications against a real HTTP server on 127.0.0.1 that records each POST."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine.core.errors import InvalidFlowError
from engine.tasks.plugins.execution_summary import human_duration
from tests.conftest import Engine, RunResult

DURATION = r"\d\d:\d\d:\d\d\.\d{3}"


@dataclass
class Received:
    """One POST as the server read it."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """The webhook server: `…/answer/<code>` answers that code, any other path 200 "ok"."""

    url: str
    received: list[Received] = field(default_factory=list)

    def take(self, path: str) -> Received:
        found = [r for r in self.received if r.path == path]
        assert len(found) == 1, f"expected one POST to {path}, got {[r.path for r in self.received]}"
        return found[0]


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def log_message(self, *_args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        code = int(self.path.rsplit("/", 1)[-1]) if "/answer/" in self.path else 200
        answer = b"no_service" if code >= 400 else b"ok"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    state = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    _Handler.receiver = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _flow(flow_id: str, tasks: str, extra: str = "") -> str:
    return f"id: {flow_id}\nnamespace: company.team\n{extra}tasks:\n{tasks}"


def _failed_run(engine: Engine) -> RunResult:
    """An execution that failed on task `boom` after `ok` succeeded: what summaries describe."""
    result = engine.run(_flow("unreliable", """
  - id: ok
    type: io.kestra.plugin.core.log.Log
    message: fine
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: it broke
"""))
    assert result.state == "FAILED"
    return result


def _summary_flow(task_type: str, url: str, properties: str = "") -> str:
    return _flow("alert", f"""
  - id: notify
    type: {task_type}
    url: "{url}"
    executionId: "{{{{ inputs.id }}}}"
{properties}""", "inputs:\n  - id: id\n    type: STRING\n")


# --- incoming webhooks ------------------------------------------------------------------------

def test_slack_incoming_webhook_posts_the_rendered_payload(engine: Engine, receiver: Receiver) -> None:
    result = engine.run(_flow("hello", f"""
  - id: slack
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: "{receiver.url}/slack/payload"
    options:
      headers:
        X-Team: data
    payload: |
      {{
        "text": "Hello from {{{{ flow.namespace }}}}.{{{{ flow.id }}}} ➛ {{{{ execution.id }}}}",
        "blocks": [{{"type": "section", "text": {{"type": "mrkdwn", "text": "*bold*"}}}}]
      }}
"""))
    assert result.state == "SUCCESS", result.logs()
    got = receiver.take("/slack/payload")
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-team"] == "data"
    assert got.json() == {"text": f"Hello from company.team.hello ➛ {result.execution.id}",
                          "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*bold*"}}]}
    assert b" " not in got.body.replace(b"Hello from", b"").split(b'"blocks"')[1], "re-serialized compactly"
    assert "Request succeeded" in result.logs("slack")


def test_slack_message_text_is_sent_as_text_in_slack_mrkdwn(engine: Engine, receiver: Receiver) -> None:
    result = engine.run(_flow("mrkdwn", f"""
  - id: slack
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: "{receiver.url}/slack/text"
    messageText: "**Done**: __{{{{ flow.id }}}}__, see [the docs](https://kestra.io/docs)"
"""))
    assert result.state == "SUCCESS", result.logs()
    assert receiver.take("/slack/text").json() == {
        "text": "*Done*: _mrkdwn_, see <https://kestra.io/docs|the docs>"}


def test_slack_message_text_that_is_json_is_sent_as_that_json(engine: Engine, receiver: Receiver) -> None:
    result = engine.run(_flow("jsontext", f"""
  - id: slack
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: "{receiver.url}/slack/jsontext"
    messageText: '{{"text": "**kept**", "unfurl_links": false}}'
"""))
    assert result.state == "SUCCESS", result.logs()
    assert receiver.take("/slack/jsontext").json() == {"text": "**kept**", "unfurl_links": False}


def test_slack_incoming_webhook_without_payload_or_message_text_is_refused_at_load(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="give 'payload'.*or 'messageText'"):
        engine.load(_flow("nothing", """
  - id: slack
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: http://127.0.0.1:9/hook
"""))


def test_webhook_payload_that_is_not_json_fails_before_anything_is_sent(engine: Engine,
                                                                         receiver: Receiver) -> None:
    result = engine.run(_flow("badjson", f"""
  - id: discord
    type: io.kestra.plugin.notifications.discord.DiscordIncomingWebhook
    url: "{receiver.url}/discord/badjson"
    payload: '{{"content": "unterminated'
"""))
    assert result.state == "FAILED"
    assert any("property 'payload' is not valid JSON" in line for line in result.logs("discord"))
    assert not [r for r in receiver.received if r.path == "/discord/badjson"]


def test_discord_incoming_webhook_posts_the_payload_as_json(engine: Engine, receiver: Receiver) -> None:
    result = engine.run(_flow("discord", f"""
  - id: discord
    type: io.kestra.plugin.notifications.discord.DiscordIncomingWebhook
    url: "{receiver.url}/discord/payload"
    payload: |
      {{"username": "kestra", "content": "Flow {{{{ flow.id }}}} ran", "embeds": [{{"title": "t", "color": 16777215}}]}}
"""))
    assert result.state == "SUCCESS", result.logs()
    assert receiver.take("/discord/payload").json() == {
        "username": "kestra", "content": "Flow discord ran", "embeds": [{"title": "t", "color": 16777215}]}


def test_teams_and_google_chat_webhooks_send_the_rendered_text_as_it_is(engine: Engine,
                                                                        receiver: Receiver) -> None:
    result = engine.run(_flow("chats", f"""
  - id: teams
    type: io.kestra.plugin.notifications.teams.TeamsIncomingWebhook
    url: "{receiver.url}/teams/payload"
    payload: '{{ "@type": "MessageCard", "summary": "{{{{ flow.id }}}}" }}'
  - id: google
    type: io.kestra.plugin.notifications.google.GoogleChatIncomingWebhook
    url: "{receiver.url}/google/payload"
    payload: '{{ "text": "{{{{ flow.id }}}} done" }}'
"""))
    assert result.state == "SUCCESS", result.logs()
    teams = receiver.take("/teams/payload")
    assert teams.body == b'{ "@type": "MessageCard", "summary": "chats" }'
    assert teams.headers["content-type"] == "application/json"
    assert receiver.take("/google/payload").body == b'{ "text": "chats done" }'


def test_webhook_error_answer_fails_the_task_without_the_secret_url(engine: Engine, receiver: Receiver) -> None:
    result = engine.run(_flow("refused", f"""
  - id: slack
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: "{receiver.url}/T0KEN/answer/404"
    payload: '{{"text": "hi"}}'
"""))
    assert result.state == "FAILED"
    errors = result.logs("slack", min_level="ERROR")
    assert errors == [f"Slack webhook at {receiver.url}/…: Failed http request with response code '404' "
                      "(Not Found): no_service"]
    assert "T0KEN" not in " ".join(result.logs("slack", min_level="INFO"))


def test_webhook_secret_reaches_the_server_and_stays_masked_in_the_logs(tmp_path: Path,
                                                                        receiver: Receiver) -> None:
    (tmp_path / "flows").mkdir()
    token = "xoxb-very-secret-42"
    engine = Engine(tmp_path / "home", tmp_path / "flows",
                    {**os.environ, "SECRET_HOOK_TOKEN": base64.b64encode(token.encode()).decode()})
    try:
        result = engine.run(_flow("secret", f"""
  - id: slack
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: "{receiver.url}/slack/secret"
    payload: '{{"text": "token {{{{ secret("HOOK_TOKEN") }}}}"}}'
"""))
    finally:
        engine.close()
    assert result.state == "SUCCESS", result.logs()
    assert receiver.take("/slack/secret").json() == {"text": f"token {token}"}
    debug = result.logs("slack", min_level="DEBUG")
    assert any(line.startswith("Send Slack webhook: ") for line in debug), debug
    assert token not in "\n".join(debug)


def test_webhook_unreachable_server_fails_naming_the_url_property(engine: Engine) -> None:
    result = engine.run(_flow("unreachable", """
  - id: teams
    type: io.kestra.plugin.notifications.teams.TeamsIncomingWebhook
    url: "http://127.0.0.1:9/secret-path"
    payload: "{}"
"""))
    assert result.state == "FAILED"
    [error] = result.logs("teams", min_level="ERROR")
    assert error.startswith("Microsoft Teams webhook: POST http://127.0.0.1:9/… failed")
    assert "secret-path" not in error


def test_webhook_options_with_an_unknown_key_are_refused_at_load(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="unknown option 'retries' in 'options'"):
        engine.load(_flow("opts", """
  - id: google
    type: io.kestra.plugin.notifications.google.GoogleChatIncomingWebhook
    url: http://127.0.0.1:9/hook
    payload: "{}"
    options:
      retries: 3
"""))


# --- execution summaries -------------------------------------------------------------------

def test_slack_execution_of_a_failed_execution_names_the_failed_task(engine: Engine, receiver: Receiver) -> None:
    failed = _failed_run(engine)
    eid = failed.execution.id
    result = engine.run(_summary_flow("io.kestra.plugin.notifications.slack.SlackExecution",
                                      f"{receiver.url}/slack/summary", """
    customMessage: "Look at {{ inputs.id }}"
    customFields:
      Team: data
    channel: "#alerts"
    username: Kestra
    iconUrl: https://example.com/icon.png
"""), {"id": eid})
    assert result.state == "SUCCESS", result.logs()
    got = receiver.take("/slack/summary").json()
    text = got["text"]
    assert re.fullmatch(rf"\*\[company\.team\] unreliable ➛ FAILED \(roost execution {eid}\)\*\n"
                        rf"> Failed on task `boom` after {DURATION}", text), text
    assert got["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"Look at {eid}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    start = failed.execution.start_date
    assert start is not None
    assert got["attachments"] == [{"color": "danger", "ts": int(start.timestamp()), "fields": [
        {"title": "Namespace", "value": "company.team", "short": True},
        {"title": "Flow ID", "value": "unreliable", "short": True},
        {"title": "Execution ID", "value": eid, "short": True},
        {"title": "Execution Status", "value": "FAILED", "short": True},
        {"title": "Team", "value": "data", "short": True},
        {"title": "Final task ID", "value": "boom", "short": True}]}]
    assert (got["channel"], got["username"], got["icon_url"]) == ("#alerts", "Kestra", "https://example.com/icon.png")
    assert "icon_emoji" not in got


def test_slack_execution_links_to_the_kestra_url_when_the_run_knows_one(engine: Engine,
                                                                         receiver: Receiver) -> None:
    engine.runtime.environ = {**engine.runtime.environ, "KESTRA_URL": "https://kestra.example.com/"}
    ok = engine.run(_flow("fine", "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"))
    result = engine.run(_summary_flow("io.kestra.plugin.notifications.slack.SlackExecution",
                                      f"{receiver.url}/slack/linked"), {"id": ok.execution.id})
    assert result.state == "SUCCESS", result.logs()
    got = receiver.take("/slack/linked").json()
    link = f"https://kestra.example.com/ui/executions/company.team/fine/{ok.execution.id}"
    assert got["text"].startswith(f"*<{link}|[company.team] fine ➛ SUCCESS>*\n> Succeeded after ")
    assert got["blocks"][0]["accessory"] == {"type": "button", "text": {"type": "plain_text", "text": "Details"},
                                             "url": link}
    assert got["attachments"][0]["color"] == "good"
    assert got["attachments"][0]["fields"][-1] == {"title": "Final task ID", "value": "hello", "short": True}


def test_slack_execution_in_errors_names_the_task_that_failed_the_current_execution(
        engine: Engine, receiver: Receiver) -> None:
    result = engine.run(_flow("current", f"""
  - id: broken
    type: io.kestra.plugin.core.execution.Fail
errors:
  - id: alert
    type: io.kestra.plugin.notifications.slack.SlackExecution
    url: "{receiver.url}/slack/current"
"""))
    assert result.state == "FAILED"
    assert result.run_of("alert").state.value == "SUCCESS", result.logs()
    assert "Loading execution data for the current execution." in result.logs("alert")
    got = receiver.take("/slack/current").json()
    assert "➛ RUNNING" in got["text"] and "Failed on task `broken`" in got["text"]
    assert got["attachments"][0]["fields"][-1]["value"] == "broken"


def test_execution_summary_of_an_unknown_execution_fails_clearly(engine: Engine, receiver: Receiver) -> None:
    result = engine.run(_summary_flow("io.kestra.plugin.notifications.slack.SlackExecution",
                                      f"{receiver.url}/slack/unknown"), {"id": "nope"})
    assert result.state == "FAILED"
    assert any(line.startswith("Unable to find execution 'nope'") for line in result.logs("notify", "ERROR"))
    assert not [r for r in receiver.received if r.path == "/slack/unknown"]


def test_discord_execution_puts_the_summary_in_the_first_embed(engine: Engine, receiver: Receiver) -> None:
    failed = _failed_run(engine)
    eid = failed.execution.id
    result = engine.run(_summary_flow("io.kestra.plugin.notifications.discord.DiscordExecution",
                                      f"{receiver.url}/discord/summary", """
    username: Kestra
    avatarUrl: https://example.com/a.png
    content: "Failure in {{ inputs.id }}"
    embedList:
      - title: Alert
        color: [255, 0, 0]
        authorName: ops
        websiteUrl: https://example.com
"""), {"id": eid})
    assert result.state == "SUCCESS", result.logs()
    got = receiver.take("/discord/summary").json()
    [embed] = got["embeds"]
    assert embed["description"] == (f"Namespace: company.team\nFlow ID: unreliable\nExecution ID: {eid}\n"
                                    f"Execution Status: FAILED \nFinal task ID: boom \n\nroost execution {eid}")
    assert re.fullmatch(rf"Failed on task `boom` after {DURATION}", embed["footer"]["text"])
    assert (embed["title"], embed["color"], embed["url"]) == ("Alert", 0xFF0000, "https://example.com")
    assert embed["author"] == {"name": "ops", "url": "https://example.com", "icon_url": "https://example.com/a.png"}
    assert (got["username"], got["avatar_url"], got["tts"], got["content"]) == (
        "Kestra", "https://example.com/a.png", False, f"Failure in {eid}")


def test_teams_execution_posts_a_message_card_with_the_facts(engine: Engine, receiver: Receiver) -> None:
    failed = _failed_run(engine)
    eid = failed.execution.id
    result = engine.run(_summary_flow("io.kestra.plugin.notifications.teams.TeamsExecution",
                                      f"{receiver.url}/teams/summary",
                                      "    activityTitle: Kestra Teams notification\n"), {"id": eid})
    assert result.state == "SUCCESS", result.logs()
    got = receiver.take("/teams/summary").json()
    summary = got.pop("summary")
    assert re.fullmatch(rf"\*\[company\.team\] unreliable ➛ FAILED \(roost execution {eid}\)\*\n"
                        rf"> Failed on task `boom` after {DURATION}", summary), summary
    assert got == {"@type": "MessageCard", "@context": "http://schema.org/extensions", "themeColor": "0076D7",
                   "sections": [{"activityTitle": "Kestra Teams notification", "markdown": True, "facts": [
                       {"name": "Namespace", "value": "company.team"},
                       {"name": "Flow ID", "value": "unreliable"},
                       {"name": "Execution ID", "value": eid},
                       {"name": "Execution Status", "value": "FAILED"},
                       {"name": "Final task ID", "value": "boom"}]}]}


def test_google_chat_execution_text_names_the_failed_task(engine: Engine, receiver: Receiver) -> None:
    failed = _failed_run(engine)
    eid = failed.execution.id
    result = engine.run(_summary_flow("io.kestra.plugin.notifications.google.GoogleChatExecution",
                                      f"{receiver.url}/google/summary"), {"id": eid})
    assert result.state == "SUCCESS", result.logs()
    text = receiver.take("/google/summary").json()["text"]
    assert re.fullmatch(
        rf"Kestra Google notification: Namespace company\.team, Flow ID unreliable, Execution ID {eid}, "
        rf"Execution Status FAILED, Final task ID boom\. \*\[company\.team\] unreliable ➛ FAILED "
        rf"\(roost execution {eid}\)\*\n> Failed on task `boom` after {DURATION}", text), text


def test_human_duration_is_hours_minutes_seconds_and_milliseconds() -> None:
    assert human_duration(0.0) == "00:00:00.000"
    assert human_duration(3723.456) == "01:02:03.456"
    assert human_duration(90061.0) == "25:01:01.000"
