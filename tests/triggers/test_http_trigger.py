"""io.kestra.plugin.core.http.Trigger: polls a real HTTP server on 127.0.0.1, fires on its condition."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest

from tests.http_server import ServerState, http_server


@pytest.fixture
def server() -> Iterator[tuple[str, ServerState]]:
    with http_server() as served:
        yield served


def poller(uri: str, extra: str = "", trigger_type: str = "io.kestra.plugin.core.http.Trigger") -> str:
    lines = "".join(f"    {line}\n" for line in extra.strip().splitlines())
    return f"""
id: poller
namespace: company.team
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ trigger.code }}}} {{{{ trigger.body }}}}"
triggers:
  - id: http
    type: {trigger_type}
    uri: "{uri}"
    interval: PT0.1S
{lines}"""


def test_fires_with_code_body_headers_and_uri_when_the_default_condition_holds(harness, server):
    base, _state = server
    flow = harness.engine.load(poller(f"{base}/status"))
    harness.start(flow)
    [execution, *_] = harness.wait_executions(1)
    assert execution.state.value == "SUCCESS"
    variables = execution.trigger
    assert variables["code"] == 200 and variables["body"] == '{"ready": false}'
    assert variables["uri"] == f"{base}/status"
    assert variables["headers"]["Content-Type"] == ["application/json"]


def test_default_condition_does_not_fire_on_an_error_code(harness, server):
    base, state = server
    state.status_code = 503
    harness.start(harness.engine.load(poller(f"{base}/status")))
    harness.wait_for(lambda: state.requests.count("GET /status") >= 3, what="three polls")
    assert harness.finished == []
    state.status_code = 200  # the service is back: the next poll fires
    harness.wait_executions(1)


def test_response_condition_reads_the_response_body(harness, server):
    base, state = server
    flow = harness.engine.load(poller(f"{base}/status", """
responseCondition: "{{ fromJson(response.body).ready }}"
""", trigger_type="io.kestra.plugin.fs.http.Trigger"))
    harness.start(flow)
    harness.wait_for(lambda: state.requests.count("GET /status") >= 3, what="three polls")
    assert harness.finished == []
    state.status_body = '{"ready": true}'
    [execution, *_] = harness.wait_executions(1)
    assert execution.trigger["body"] == '{"ready": true}'


def test_a_status_condition_can_fire_on_any_code(harness, server):
    base, state = server
    state.status_code = 418
    flow = harness.engine.load(poller(f"{base}/status", 'responseCondition: "{{ response.statusCode == 418 }}"'))
    harness.start(flow)
    [execution, *_] = harness.wait_executions(1)
    assert execution.trigger["code"] == 418


def test_method_body_headers_and_auth_are_sent(harness, server):
    base, state = server
    harness.engine.runtime.environ["SECRET_PASS"] = base64.b64encode(b"l0vel4ce").decode()
    flow = harness.engine.load(poller(f"{base}/auth", """
method: POST
headers:
  X-Poll: yes
options:
  basicAuthUser: ada
  basicAuthPassword: "{{ secret('PASS') }}"
"""))
    harness.start(flow)
    [execution, *_] = harness.wait_executions(1)
    assert execution.trigger["body"] == '{"user": "ada"}'
    assert "POST /auth" in state.requests
    assert not any("l0vel4ce" in line for line in harness.logs())


def test_an_unreachable_uri_is_a_logged_poll_failure_not_a_crash(harness):
    from tests.triggers.conftest import free_port

    flow = harness.engine.load(poller(f"http://127.0.0.1:{free_port()}/nothing"))
    scheduler = harness.start(flow)
    harness.wait_for(lambda: any("poll failed" in line for line in harness.logs()), what="a failed poll")
    assert "failed" in (scheduler.status(harness.key(flow, "http")).error or "")
    time.sleep(0.2)
    assert harness.finished == []


def test_uri_is_required_at_load(harness):
    from engine.core.errors import InvalidFlowError

    text = poller("x").replace('    uri: "x"\n', "")
    with pytest.raises(InvalidFlowError, match="missing required property 'uri'"):
        harness.engine.load(text)
