"""io.kestra.plugin.aws.s3.Trigger against moto's S3 server, driven through boto3 as against AWS."""

from __future__ import annotations

import re

from engine.core.config import RoostConfig
from engine.store.storage import InternalStorage
from tests.triggers.conftest import ACCESS_KEY, SECRET_KEY, keys

FLOW = """
id: s3flow
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.objects | jq('.[].key') | join(',') }}"
triggers:
  - id: watch
    type: io.kestra.plugin.aws.s3.Trigger
    bucket: {bucket}
    interval: PT0.3S
    accessKeyId: "{{{{ secret('AWS_ACCESS_KEY_ID') }}}}"
    secretKeyId: "{{{{ secret('AWS_SECRET_ACCESS_KEY') }}}}"
    region: "{{{{ secret('AWS_DEFAULT_REGION') }}}}"
{extra}
"""


def flow_text(bucket: str, extra: str) -> str:
    lines = "\n".join("    " + line for line in extra.strip().splitlines())
    return FLOW.format(bucket=bucket, extra=lines)


def test_move_downloads_into_trigger_storage_moves_and_starts_one_execution(s3_harness, s3, bucket):
    s3.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"a,b\n1,2\n")
    s3.put_object(Bucket=bucket, Key="raw/b.csv", Body=b"c\n3\n")
    flow = s3_harness.engine.load(flow_text(bucket, "prefix: raw/\naction: MOVE\nmoveTo:\n  key: archive/raw/"))
    s3_harness.start(flow)
    [execution] = s3_harness.wait_executions(1)
    assert execution.state.value == "SUCCESS"
    objects = execution.trigger["objects"]
    assert [o["key"] for o in objects] == ["raw/a.csv", "raw/b.csv"]
    storage = InternalStorage(s3_harness.engine.home.storage)
    assert objects[0]["uri"] == (f"kestra:///company/team/s3flow/executions/{execution.id}"
                                 f"/trigger/watch/a.csv")
    assert storage.read_bytes(objects[0]["uri"]) == b"a,b\n1,2\n"
    assert storage.read_bytes(objects[1]["uri"]) == b"c\n3\n"
    assert objects[0]["size"] == 8 and objects[0]["etag"].startswith('"')
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", objects[0]["lastModified"])
    assert objects[0]["changeType"] == "CREATE"
    assert keys(s3, bucket) == ["archive/raw/a.csv", "archive/raw/b.csv"]
    s3_harness.wait_for(lambda: sum("nothing new" in line for line in s3_harness.logs()) >= 2,
                        what="two more polls")
    assert len(s3_harness.finished) == 1


def test_move_to_another_bucket_lands_at_key_plus_base_name(s3_harness, s3, bucket):
    archive = bucket + "-archive"
    s3.create_bucket(Bucket=archive)
    s3.put_object(Bucket=bucket, Key="in/deep/data.json", Body=b"{}")
    flow = s3_harness.engine.load(flow_text(
        bucket, f"prefix: in/\naction: MOVE\nmoveTo:\n  bucket: {archive}\n  key: done"))
    s3_harness.start(flow)
    s3_harness.wait_executions(1)
    assert keys(s3, bucket) == []
    assert keys(s3, archive) == ["done/data.json"]


def test_delete_removes_the_objects_it_fired_for(s3_harness, s3, bucket):
    s3.put_object(Bucket=bucket, Key="drop/x.txt", Body=b"x")
    s3.put_object(Bucket=bucket, Key="keep/y.txt", Body=b"y")
    flow = s3_harness.engine.load(flow_text(bucket, "prefix: drop/\naction: DELETE"))
    s3_harness.start(flow)
    [execution] = s3_harness.wait_executions(1)
    assert [o["key"] for o in execution.trigger["objects"]] == ["drop/x.txt"]
    assert keys(s3, bucket) == ["keep/y.txt"]


def test_none_fires_once_per_object_then_again_when_it_changes(s3_harness, s3, bucket):
    s3.put_object(Bucket=bucket, Key="data/one.csv", Body=b"v1")
    flow = s3_harness.engine.load(flow_text(bucket, "prefix: data/\naction: NONE"))
    s3_harness.start(flow)
    [first] = s3_harness.wait_executions(1)
    assert [o["key"] for o in first.trigger["objects"]] == ["data/one.csv"]
    polls = len(s3_harness.logs())
    s3_harness.wait_for(lambda: sum("nothing new" in line for line in s3_harness.logs()[polls:]) >= 2,
                        what="polls that find nothing new")
    assert len(s3_harness.finished) == 1 and keys(s3, bucket) == ["data/one.csv"]
    s3.put_object(Bucket=bucket, Key="data/two.csv", Body=b"new")
    s3.put_object(Bucket=bucket, Key="data/one.csv", Body=b"v2 changed")
    executions = s3_harness.wait_executions(2)
    changes = {o["key"]: o["changeType"] for o in executions[1].trigger["objects"]}
    assert changes == {"data/one.csv": "UPDATE", "data/two.csv": "CREATE"}


def test_dedup_state_survives_a_new_scheduler(s3_engine, s3, bucket):
    from tests.triggers.conftest import Harness

    s3.put_object(Bucket=bucket, Key="data/one.csv", Body=b"v1")
    flow = s3_engine.load(flow_text(bucket, "action: NONE"))
    first = Harness(s3_engine)
    first.start(flow)
    first.wait_executions(1)
    first.stop()
    second = Harness(s3_engine)
    try:
        second.start(flow)
        second.wait_for(lambda: any("nothing new" in line for line in second.logs()), what="a poll")
        assert second.finished == []
    finally:
        second.stop()


def test_on_create_ignores_updates(s3_harness, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"1")
    flow = s3_harness.engine.load(flow_text(bucket, "action: NONE\non: CREATE"))
    s3_harness.start(flow)
    s3_harness.wait_executions(1)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"changed")
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"2")
    executions = s3_harness.wait_executions(2)
    assert [o["key"] for o in executions[1].trigger["objects"]] == ["b.txt"]


def test_regexp_is_a_full_match_and_filter_files_skips_folders(s3_harness, s3, bucket):
    for key in ("in/report.csv", "in/report.csv.tmp", "in/notes.txt", "in/sub/", "other/report.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"" if key.endswith("/") else b"x")
    flow = s3_harness.engine.load(flow_text(bucket, 'prefix: in/\nregexp: ".*\\\\.csv"\nfilter: FILES\naction: NONE'))
    s3_harness.start(flow)
    [execution] = s3_harness.wait_executions(1)
    assert [o["key"] for o in execution.trigger["objects"]] == ["in/report.csv"]


def test_filter_directory_keeps_only_folder_markers(s3_harness, s3, bucket):
    s3.put_object(Bucket=bucket, Key="in/sub/", Body=b"")
    s3.put_object(Bucket=bucket, Key="in/file.txt", Body=b"x")
    flow = s3_harness.engine.load(flow_text(bucket, "prefix: in/\nfilter: DIRECTORY\naction: NONE"))
    s3_harness.start(flow)
    [execution] = s3_harness.wait_executions(1)
    assert [o["key"] for o in execution.trigger["objects"]] == ["in/sub/"]


def test_max_files_caps_one_execution_and_the_rest_follow(s3_harness, s3, bucket):
    for index in range(3):
        s3.put_object(Bucket=bucket, Key=f"f{index}.txt", Body=b"x")
    flow = s3_harness.engine.load(flow_text(bucket, "action: DELETE\nmaxFiles: 2"))
    s3_harness.start(flow)
    executions = s3_harness.wait_executions(2)
    assert [len(e.trigger["objects"]) for e in executions] == [2, 1]
    assert any("maxFiles is 2" in line for line in s3_harness.logs("WARN"))
    assert keys(s3, bucket) == []


def test_a_failing_poll_is_logged_and_retried_without_leaking_the_secret(s3_harness, s3, bucket):
    flow = s3_harness.engine.load(flow_text(bucket + "-missing", "action: NONE"))
    scheduler = s3_harness.start(flow)
    s3_harness.wait_for(lambda: sum("poll failed" in line for line in s3_harness.logs("ERROR")) >= 2,
                        what="two failed polls")
    errors = s3_harness.logs("ERROR")
    assert "NoSuchBucket" in errors[0] and "retrying in 0.3s" in errors[0]
    status = scheduler.status(s3_harness.key(flow, "watch"))
    assert status.state == "ACTIVE" and "NoSuchBucket" in (status.error or "")
    s3.create_bucket(Bucket=bucket + "-missing")
    s3.put_object(Bucket=bucket + "-missing", Key="late.txt", Body=b"x")
    s3_harness.wait_executions(1)
    assert scheduler.status(s3_harness.key(flow, "watch")).error is None
    assert not any(SECRET_KEY in line or ACCESS_KEY in line for line in s3_harness.logs())


def test_endpoint_from_roost_toml_plugin_defaults_and_force_path_style(s3_harness, s3, bucket, s3_server):
    # The flow names no endpoint: the engine's roost.toml-style defaults give it, plus path style.
    s3_harness.engine.with_config(RoostConfig(plugin_defaults=(
        {"type": "io.kestra.plugin.aws.s3", "values": {"endpointOverride": s3_server,
                                                       "forcePathStyle": True}},)))
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"x")
    flow = s3_harness.engine.load(flow_text(bucket, "action: DELETE"))
    assert "endpointOverride" not in flow.triggers[0]
    s3_harness.start(flow)
    s3_harness.wait_executions(1)
    assert keys(s3, bucket) == []


def test_endpoint_from_the_flow_plugin_defaults(s3_harness, s3, bucket, s3_server):
    s3_harness.engine.with_config(RoostConfig())
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"x")
    flow = s3_harness.engine.load(flow_text(bucket, "action: DELETE") + f"""
pluginDefaults:
  - type: io.kestra.plugin.aws.s3.Trigger
    values:
      endpointOverride: {s3_server}
""")
    s3_harness.start(flow)
    s3_harness.wait_executions(1)
    assert keys(s3, bucket) == []
