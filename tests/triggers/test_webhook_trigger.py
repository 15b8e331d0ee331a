"""io.kestra.plugin.core.trigger.Webhook: real HTTP requests to 127.0.0.1, Kestra's answers."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

WEBHOOK_FLOW = """
id: hook
namespace: company.team
inputs:
  - id: amount
    type: INT
    defaults: 0
tasks:
  - id: echo
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body.order ?? 'none' }} x{{ inputs.amount }}"
outputs:
  - id: answer
    type: STRING
    value: "{{ outputs.echo.value }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: "{{ secret('HOOK_KEY') }}"
{extra}
"""


def call(url: str, method: str = "POST", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode()
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


def start_hook(harness, extra: str = "") -> tuple[str, Any]:
    harness.engine.runtime.environ["SECRET_HOOK_KEY"] = base64.b64encode(b"s3cr3t-key").decode()
    lines = "".join(f"    {line}\n" for line in extra.strip().splitlines())
    flow = harness.engine.load(WEBHOOK_FLOW.replace("{extra}", lines))
    scheduler = harness.start(flow)
    shown = scheduler.status(harness.key(flow, "hook")).url
    # The key comes from a secret: the panel and the logs show the URL with it masked.
    assert shown and shown.startswith("http://127.0.0.1:") and shown.endswith("/company.team/hook/********")
    assert not any("s3cr3t-key" in line for line in harness.logs())
    return shown.replace("********", "s3cr3t-key"), scheduler


def test_post_json_starts_an_execution_with_body_headers_and_parameters(harness):
    url, _ = start_hook(harness)
    status, answer = call(url + "?tag=a&tag=b&empty=", body=json.dumps({"order": 42}).encode(),
                          headers={"Content-Type": "application/json", "X-Source": "tests"})
    assert status == 200
    assert answer["namespace"] == "company.team" and answer["flowId"] == "hook"
    assert answer["trigger"]["id"] == "hook" and answer["trigger"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    assert answer["state"]["current"] in ("CREATED", "RUNNING", "SUCCESS")
    [execution] = harness.wait_executions(1)
    assert execution.id == answer["id"] and execution.state.value == "SUCCESS"
    variables = execution.trigger
    assert variables["body"] == {"order": 42}
    assert variables["parameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert variables["headers"]["X-Source"] == ["tests"]
    assert execution.outputs == {"answer": "42 x0"}


def test_get_put_text_and_binary_bodies(harness):
    url, _ = start_hook(harness)
    assert call(url, "GET")[0] == 200
    assert call(url, "PUT", b"plain words", {"Content-Type": "text/plain"})[0] == 200
    assert call(url, "POST", b"\x00\xffbinary", {"Content-Type": "application/octet-stream"})[0] == 200
    bodies = sorted((e.trigger["body"] for e in harness.wait_executions(3)), key=str)
    assert bodies == sorted([None, "plain words", base64.b64encode(b"\x00\xffbinary").decode()], key=str)


def test_unknown_flow_key_or_path_answers_404_and_a_tenant_path_works(harness):
    url, _ = start_hook(harness)
    base = url.rsplit("/company.team/", 1)[0]
    assert call(f"{base}/company.team/nope/s3cr3t-key") == (404, {"message": "Not Found: Flow not found"})
    assert call(f"{base}/company.team/hook/wrong-key") == (404, {"message": "Not Found: Webhook not found"})
    assert call(url + "/")[0] == 404
    tenant_url = url.replace("/api/v1/executions/", "/api/v1/main/executions/")
    assert call(tenant_url)[0] == 200
    assert harness.wait_executions(1)[0].state.value == "SUCCESS"


def test_inputs_rendered_from_the_request_and_refused_ones_answer_422(harness):
    url, _ = start_hook(harness, 'inputs:\n  amount: "{{ trigger.body.qty }}"')
    status, _ = call(url, body=b'{"order": 7, "qty": 3}', headers={"Content-Type": "application/json"})
    assert status == 200
    assert harness.wait_executions(1)[0].outputs == {"answer": "7 x3"}
    status, answer = call(url, body=b'{"qty": "three"}', headers={"Content-Type": "application/json"})
    assert status == 422 and "amount" in answer["message"]


def test_wait_and_return_outputs_answer_with_the_flow_outputs(harness):
    url, _ = start_hook(harness, "wait: true\nreturnOutputs: true")
    status, answer = call(url, body=b'{"order": "abc"}', headers={"Content-Type": "application/json"})
    assert (status, answer) == (200, {"answer": "abc x0"})


def test_a_paused_webhook_answers_404_until_resumed(harness):
    url, scheduler = start_hook(harness)
    key = scheduler.statuses()[0].key
    scheduler.pause(key)
    assert call(url) == (404, {"message": "Not Found: Webhook trigger is disabled"})
    scheduler.resume(key)
    assert call(url)[0] == 200
    scheduler.fire_now(key)  # an empty request, as from a panel's "fire now"
    assert len(harness.wait_executions(2)) == 2


def test_a_busy_port_is_reported_on_the_trigger(engine):
    import socket

    from tests.triggers.conftest import Harness

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        harness = Harness(engine)
        harness.scheduler.webhook_port = busy.getsockname()[1]
        try:
            flow = engine.load(WEBHOOK_FLOW.replace("{extra}", "").replace(
                "\"{{ secret('HOOK_KEY') }}\"", "plain-key"))
            status = harness.start(flow).statuses()[0]
            assert status.url is None and "cannot listen on 127.0.0.1:" in (status.error or "")
            assert any("--webhook-port" in line for line in harness.logs("ERROR"))
        finally:
            harness.stop()
