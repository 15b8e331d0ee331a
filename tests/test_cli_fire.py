"""`roost run FLOW --fire TRIGGER_ID`: a real `roost` process, its exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import roost

FLOW = """\
id: landing
namespace: company.team
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.objects | jq('.[].key') | join(',') }}: {{ read(trigger.objects[0].uri) | trim }}"
    runIf: "{{ trigger.objects is defined }}"
  - id: body
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body.order ?? '' }}{{ trigger.date ?? '' }}"
    runIf: "{{ trigger.objects is not defined }}"
triggers:
  - id: waitForS3object
    type: io.kestra.plugin.aws.s3.Trigger
    bucket: declarative-orchestration
    prefix: raw/
    action: MOVE
    moveTo:
      key: archive/raw/
    accessKeyId: "{{ secret('AWS_ACCESS_KEY_ID') }}"
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
    timezone: UTC
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "landing.yml"
    path.write_text(FLOW)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_fire_s3_with_a_file_runs_the_flow_reading_trigger_objects(flow, home, tmp_path):
    data = tmp_path / "messy.csv"
    data.write_text("Name,Age\n")
    result = roost("run", str(flow), "--fire", "waitForS3object", "--file", str(data), "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert "show INFO  raw/messy.csv: Name,Age" in result.stderr
    execution_id = json.loads(result.stdout)["id"]
    shown = roost("execution", execution_id, "--json", home=home)
    [found] = json.loads(shown.stdout)["trigger"]["objects"]
    assert found["key"] == "raw/messy.csv" and found["size"] == 9 and found["changeType"] == "CREATE"
    assert found["uri"] == (f"kestra:///company/team/landing/executions/{execution_id}"
                            "/trigger/waitForS3object/messy.csv")
    assert data.exists(), "a simulation moves nothing"


def test_fire_webhook_takes_the_body_from_a_file(flow, home, tmp_path):
    body = tmp_path / "body.json"
    body.write_text('{"order": 42}')
    result = roost("run", str(flow), "--fire", "hook", "--body", f"@{body}", "--json", home=home)
    assert result.returncode == 0, result.stderr
    execution = json.loads(result.stdout)
    assert execution["trigger"] == {"body": {"order": 42}, "headers": {}, "parameters": {}}
    assert {r["taskId"]: r for r in execution["taskRunList"]}["body"]["outputs"] == {"value": "42"}


def test_fire_schedule_takes_the_date(flow, home):
    result = roost("run", str(flow), "--fire", "daily", "--date", "2025-01-31T09:00:00Z", "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["trigger"] == {
        "date": "2025-01-31T09:00:00Z", "next": "2025-02-01T09:00:00Z", "previous": "2025-01-30T09:00:00Z"}


@pytest.mark.parametrize(("args", "message"), [
    (["--fire", "nope"], "roost: --fire nope: flow company.team.landing has no trigger 'nope'; its triggers: "
                         "waitForS3object (aws.s3.Trigger: --file PATH), hook (core.trigger.Webhook: "
                         "--body JSON|@FILE), daily (core.trigger.Schedule: --date ISO)"),
    (["--fire", "waitForS3object"], "roost: --fire waitForS3object (io.kestra.plugin.aws.s3.Trigger) "
                                    "needs --file PATH"),
    (["--fire", "daily", "--body", "{}"], "roost: --body does not apply to trigger 'daily' "
                                          "(io.kestra.plugin.core.trigger.Schedule): it takes --date ISO"),
    (["--fire", "hook", "--trigger", "payload.json"], "roost: --fire and --trigger exclude each other"),
    (["--file", "x.csv"], "roost: --file describes a trigger firing: use it with --fire TRIGGER_ID"),
    (["--fire", "daily", "--date", "soon"], "roost: --date soon: not an ISO-8601 date-time"),
    (["--fire", "waitForS3object", "--file", "missing.csv"], "roost: --file missing.csv: no such file"),
])
def test_a_wrong_fire_usage_exits_2_with_a_message_naming_the_choices(flow, home, args, message):
    result = roost("run", str(flow), *args, home=home)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_fire_on_a_flow_without_triggers_exits_2(home):
    result = roost("run", "sample_flows/hello.yml", "--fire", "any", home=home)
    assert result.returncode == 2
    assert "roost: --fire any: flow company.team.hello has no triggers (run it without --fire)" in result.stderr
