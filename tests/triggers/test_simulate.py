"""`--fire` / the workbench's simulate: each simulated firing against the real trigger's.

Every comparison first fires the REAL trigger (moto's S3 server, a real folder, a real HTTP
request, a real schedule tick, a real upstream execution) and then simulates the same event:
the `trigger` variables must have the same keys and formats, and the same values wherever
they do not depend on time or on the execution id.
"""

from __future__ import annotations

import json
import re

import pytest

from engine.core.errors import UsageError
from engine.scheduling.simulate import FireArgs, simulated_firing, trigger_choices
from engine.store.storage import InternalStorage
from tests.triggers.test_flow_trigger import listener, load, run_upstream, started_by
from tests.triggers.test_local_files_trigger import drop_a_file
from tests.triggers.test_s3_trigger import flow_text
from tests.triggers.test_webhook_trigger import call, start_hook

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
CSV = b"Name,Age\nAda,36\n"


def test_simulated_s3_objects_match_what_the_real_s3_trigger_sets(s3_harness, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="raw/messy.csv", Body=CSV)
    flow = s3_harness.engine.load(flow_text(bucket, "prefix: raw/\naction: NONE"))
    s3_harness.start(flow)
    [real_execution] = s3_harness.wait_executions(1)
    [real] = real_execution.trigger["objects"]
    local = tmp_path / "messy.csv"
    local.write_bytes(CSV)

    firing = simulated_firing(flow, "watch", FireArgs(files=(local,)), s3_harness.engine.runtime, "simExec1")

    [simulated] = firing.variables["objects"]
    assert simulated.keys() == real.keys()
    assert {k: simulated[k] for k in ("key", "etag", "size", "changeType")} == \
           {k: real[k] for k in ("key", "etag", "size", "changeType")}
    assert INSTANT.fullmatch(simulated["lastModified"]) and INSTANT.fullmatch(real["lastModified"])
    assert simulated["uri"] == "kestra:///company/team/s3flow/executions/simExec1/trigger/watch/messy.csv"
    assert InternalStorage(s3_harness.engine.home.storage).read_bytes(simulated["uri"]) == CSV
    assert firing.execution_id == "simExec1"


def test_simulated_s3_key_is_the_rendered_prefix_plus_the_file_name(engine, tmp_path):
    flow = engine.load(flow_text("my-bucket", "prefix: \"{{ 'in' ~ 'box' }}/\"\naction: NONE"))
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("1")
    second.write_text("2")
    firing = simulated_firing(flow, "watch", FireArgs(files=(first, second)), engine.runtime)
    assert [o["key"] for o in firing.variables["objects"]] == ["inbox/a.csv", "inbox/b.csv"]


def test_simulated_local_files_match_what_the_real_local_file_trigger_sets(harness, tmp_path):
    flow, inbox, execution = drop_a_file(harness, tmp_path)
    [real] = execution.trigger["files"]

    firing = simulated_firing(flow, "watch", FireArgs(files=(inbox / "orders.csv",)), harness.engine.runtime)

    [simulated] = firing.variables["files"]
    assert simulated.keys() == real.keys()
    same = ("localPath", "name", "parent", "size", "directory", "changeType", "modifiedDate")
    assert {k: simulated[k] for k in same} == {k: real[k] for k in same}
    assert simulated["uri"].endswith(f"/executions/{firing.execution_id}/trigger/watch/orders.csv")


def test_simulated_webhook_body_headers_and_parameters_match_a_real_request(harness):
    url, _scheduler = start_hook(harness)
    body = json.dumps({"order": 42})
    status, _answer = call(url + "?tag=a&tag=b", body=body.encode(), headers={"Content-Type": "application/json"})
    assert status == 200
    [execution] = harness.wait_executions(1)
    real = execution.trigger
    flow = harness.engine.load(harness.engine.flow_dir.joinpath("flow.yml").read_text())

    firing = simulated_firing(flow, "hook", FireArgs(body=body, headers=(("Content-Type", "application/json"),),
                                                     params=(("tag", "a"), ("tag", "b"))), harness.engine.runtime)

    assert firing.variables.keys() == real.keys()
    assert firing.variables["body"] == real["body"] == {"order": 42}
    assert firing.variables["parameters"] == real["parameters"]
    assert firing.variables["headers"]["Content-Type"] == real["headers"]["Content-Type"]


def test_a_webhook_body_that_is_not_json_stays_text_and_no_options_mean_empty_maps(engine):
    flow = engine.load("""
id: hook
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: k
""")
    text = simulated_firing(flow, "hook", FireArgs(body="plain words"), engine.runtime).variables
    assert text == {"body": "plain words", "headers": {}, "parameters": {}}
    assert simulated_firing(flow, "hook", FireArgs(), engine.runtime).variables["body"] is None


SCHEDULE = """
id: ticks
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
triggers:
  - id: every_second
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
    timezone: Europe/Paris
"""


def test_simulated_schedule_at_a_real_tick_gives_the_real_date_next_and_previous(harness):
    flow = harness.engine.load(SCHEDULE)
    harness.start(flow)
    [execution, *_] = harness.wait_executions(1)
    harness.stop()
    real = execution.trigger

    firing = simulated_firing(flow, "every_second", FireArgs(date=real["date"]), harness.engine.runtime)

    assert firing.variables == real


def test_simulated_schedule_defaults_to_now_in_the_trigger_time_zone(engine):
    flow = engine.load(SCHEDULE.replace('"* * * * * *"', '"0 9 * * *"').replace("withSeconds: true", ""))
    variables = simulated_firing(flow, "every_second", FireArgs(), engine.runtime).variables
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", variables["date"])
    assert variables["next"].endswith(("T09:00:00+01:00", "T09:00:00+02:00"))
    assert variables["previous"] < variables["date"] < variables["next"]


def test_simulated_flow_trigger_gives_the_real_variables_and_inputs(harness):
    flow = load(harness, listener("""
inputs:
  upstream_result: "{{ trigger.outputs.result }}"
conditions:
  - type: io.kestra.plugin.core.condition.ExecutionFlow
    namespace: company.team
    flowId: extract
"""), "downstream.yml")
    harness.start(flow)
    upstream = run_upstream(harness)
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")
    [real] = started_by(harness, "downstream")
    body = json.dumps({"executionId": upstream.id, "namespace": "company.team", "flowId": "extract",
                       "state": "SUCCESS", "outputs": {"result": "rows-42"}})

    firing = simulated_firing(flow, "after", FireArgs(body=body), harness.engine.runtime)

    assert firing.variables == real.trigger
    assert firing.inputs == {"upstream_result": "rows-42"}


def test_simulated_http_trigger_has_the_real_variable_names(engine):
    from engine.triggers.http_trigger import HttpTrigger

    flow = engine.load(HTTP_FLOW)
    firing = simulated_firing(flow, "http", FireArgs(body='{"ready": true}'), engine.runtime)
    assert firing.variables == {"uri": "http://127.0.0.1:9/status", "code": 200, "headers": {},
                                "body": '{"ready": true}'}
    assert HttpTrigger.TYPES[0] in {c.type for c in trigger_choices(flow)}


HTTP_FLOW = """
id: poller
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.body }}"
triggers:
  - id: http
    type: io.kestra.plugin.core.http.Trigger
    uri: http://127.0.0.1:9/status
  - id: kafka
    type: io.kestra.plugin.kafka.Trigger
"""


@pytest.mark.parametrize(("trigger_id", "args", "message"), [
    ("nope", FireArgs(), "has no trigger 'nope'; its triggers: http (core.http.Trigger: --body JSON|@FILE), "
                         "kafka (kafka.Trigger: no option)"),
    ("http", FireArgs(date="2025-01-01T00:00:00Z"), "--date does not apply to trigger 'http'"),
    ("kafka", FireArgs(), "io.kestra.plugin.kafka.Trigger triggers are not run by Roost; give their "
                          "variables with --trigger PAYLOAD.json"),
    ("http", FireArgs(headers=(("a", "b"),)), "--header and --param apply to webhook triggers only"),
])
def test_a_wrong_trigger_or_option_is_a_usage_error_naming_the_choices(engine, trigger_id, args, message):
    flow = engine.load(HTTP_FLOW)
    with pytest.raises(UsageError, match=re.escape(message)):
        simulated_firing(flow, trigger_id, args, engine.runtime)


def test_s3_without_a_file_says_it_needs_one(engine):
    flow = engine.load(flow_text("b", "action: NONE"))
    with pytest.raises(UsageError, match=re.escape("--fire watch (io.kestra.plugin.aws.s3.Trigger) needs --file PATH")):
        simulated_firing(flow, "watch", FireArgs(), engine.runtime)


def test_a_flow_without_triggers_says_so(engine):
    flow = engine.load("id: plain\nnamespace: company.team\ntasks:\n  - id: l\n"
                       "    type: io.kestra.plugin.core.log.Log\n    message: hi\n")
    with pytest.raises(UsageError, match="flow company.team.plain has no triggers"):
        simulated_firing(flow, "any", FireArgs(), engine.runtime)


def test_flow_trigger_body_must_name_the_upstream_flow(engine):
    flow = engine.load(listener("conditions: []"))
    with pytest.raises(UsageError, match="missing namespace and flowId; it takes executionId"):
        simulated_firing(flow, "after", FireArgs(body='{"state": "FAILED"}'), engine.runtime)
    with pytest.raises(UsageError, match=r"invalid JSON at line 1, column 2"):
        simulated_firing(flow, "after", FireArgs(body="{oops"), engine.runtime)
