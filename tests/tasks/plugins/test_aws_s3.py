"""Kestra's S3 tasks against moto's S3 server on 127.0.0.1, checked through boto3 as against AWS.

The server and the engine (pluginDefaults on io.kestra.plugin.aws pointing at it, AWS keys as
secrets) are the S3 trigger tests' fixtures.
"""

from __future__ import annotations

import json

import pytest

from engine.core.errors import InvalidFlowError
from engine.flow.loader import load_flow_text
from engine.store.storage import InternalStorage
from tests.triggers.conftest import bucket, keys, s3, s3_engine, s3_server  # noqa: F401

# Credentials from the flow's pluginDefaults, the endpoint from roost.toml's (the s3_engine fixture).
PLUGIN_DEFAULTS = """
pluginDefaults:
  - type: io.kestra.plugin.aws
    values:
      accessKeyId: "{{ secret('AWS_ACCESS_KEY_ID') }}"
      secretKeyId: "{{ secret('AWS_SECRET_ACCESS_KEY') }}"
      region: "{{ secret('AWS_DEFAULT_REGION') }}"
"""


def flow(*tasks: str) -> str:
    """A flow of the given tasks with a `bucket` input; AWS tasks get their keys from pluginDefaults."""
    body = "\n".join(task.rstrip() for task in tasks)
    return (f"id: s3tasks\nnamespace: company.team\ninputs:\n  - id: bucket\n    type: STRING\n"
            f"tasks:\n{body}\n{PLUGIN_DEFAULTS}")


def outputs(result, task_id):  # noqa: ANN001 - RunResult from tests.conftest
    return result.run_of(task_id).outputs


def read(engine, uri: str) -> bytes:  # noqa: ANN001
    return InternalStorage(engine.home.storage).read_bytes(uri)


WRITE = """
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "hello s3"
    extension: .txt
"""


def test_s3_upload_puts_the_storage_file_at_the_key_with_its_etag(s3_engine, s3, bucket):  # noqa: F811
    result = s3_engine.run(flow(WRITE, """
  - id: upload
    type: io.kestra.plugin.aws.s3.Upload
    from: "{{ outputs.write.uri }}"
    bucket: "{{ inputs.bucket }}"
    key: docs/hello.txt
    contentType: text/plain
    metadata:
      origin: roost
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    head = s3.head_object(Bucket=bucket, Key="docs/hello.txt")
    assert s3.get_object(Bucket=bucket, Key="docs/hello.txt")["Body"].read() == b"hello s3"
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"origin": "roost"})
    assert outputs(result, "upload") == {"bucket": bucket, "key": "docs/hello.txt", "etag": head["ETag"]}


def test_s3_upload_of_a_map_puts_each_file_under_the_key_as_a_prefix(s3_engine, s3, bucket):  # noqa: F811
    result = s3_engine.run(flow(WRITE, """
  - id: other
    type: io.kestra.plugin.core.storage.Write
    content: "second"
  - id: upload
    type: io.kestra.plugin.aws.s3.Upload
    from:
      first.txt: "{{ outputs.write.uri }}"
      sub/second.txt: "{{ outputs.other.uri }}"
    bucket: "{{ inputs.bucket }}"
    key: batch
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    assert keys(s3, bucket) == ["batch/first.txt", "batch/sub/second.txt"]
    files = outputs(result, "upload")["files"]
    assert files["sub/second.txt"]["contentLength"] == len("second")
    assert files["first.txt"]["etag"] == s3.head_object(Bucket=bucket, Key="batch/first.txt")["ETag"]


def test_s3_upload_of_a_json_list_keys_each_file_by_its_name(s3_engine, s3, bucket):  # noqa: F811
    result = s3_engine.run(flow(WRITE, """
  - id: other
    type: io.kestra.plugin.core.storage.Write
    content: "second"
  - id: upload
    type: io.kestra.plugin.aws.s3.Upload
    from: '["{{ outputs.write.uri }}", "{{ outputs.other.uri }}"]'
    bucket: "{{ inputs.bucket }}"
    key: list/
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    assert keys(s3, bucket) == ["list/other.tmp", "list/write.txt"]


def test_s3_download_stores_the_object_and_reports_its_metadata(s3_engine, s3, bucket):  # noqa: F811
    s3.put_object(Bucket=bucket, Key="in/data.csv", Body=b"a,b\n1,2\n", ContentType="text/csv",
                  Metadata={"k": "v"})
    result = s3_engine.run(flow("""
  - id: download
    type: io.kestra.plugin.aws.s3.Download
    bucket: "{{ inputs.bucket }}"
    key: in/data.csv
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    out = outputs(result, "download")
    assert read(s3_engine, out["uri"]) == b"a,b\n1,2\n"
    assert out["uri"].endswith("/data.csv")
    assert (out["contentLength"], out["contentType"], out["metadata"]) == (8, "text/csv", {"k": "v"})
    assert out["etag"] == s3.head_object(Bucket=bucket, Key="in/data.csv")["ETag"]


def test_s3_download_with_a_prefix_downloads_every_file_under_it(s3_engine, s3, bucket):  # noqa: F811
    for key in ("in/a.csv", "in/b/a.csv", "other/c.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    result = s3_engine.run(flow("""
  - id: download
    type: io.kestra.plugin.aws.s3.Download
    bucket: "{{ inputs.bucket }}"
    prefix: in/
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    files = outputs(result, "download")["files"]
    assert sorted(files) == ["in/a.csv", "in/b/a.csv"]
    assert [read(s3_engine, files[k]["uri"]) for k in sorted(files)] == [b"in/a.csv", b"in/b/a.csv"]


def test_s3_list_keeps_keys_matching_regexp_and_filter(s3_engine, s3, bucket):  # noqa: F811
    for key in ("logs/", "logs/2024-01-01.csv", "logs/2024-01-02.json", "logs/old/"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" if not key.endswith("/") else b"")
    result = s3_engine.run(flow("""
  - id: files
    type: io.kestra.plugin.aws.s3.List
    bucket: "{{ inputs.bucket }}"
    prefix: logs/
    regexp: .*\\.csv
  - id: dirs
    type: io.kestra.plugin.aws.s3.List
    bucket: "{{ inputs.bucket }}"
    filter: DIRECTORY
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    [found] = outputs(result, "files")["objects"]
    assert (found["key"], found["size"]) == ("logs/2024-01-01.csv", 1)
    assert found["lastModified"].endswith("Z") and found["etag"].startswith('"')
    assert [o["key"] for o in outputs(result, "dirs")["objects"]] == ["logs/", "logs/old/"]


def test_s3_list_caps_at_max_files_with_a_warning(s3_engine, s3, bucket):  # noqa: F811
    for index in range(3):
        s3.put_object(Bucket=bucket, Key=f"k{index}", Body=b"x")
    result = s3_engine.run(flow("""
  - id: list
    type: io.kestra.plugin.aws.s3.List
    bucket: "{{ inputs.bucket }}"
    maxFiles: 2
"""), {"bucket": bucket})
    assert [o["key"] for o in outputs(result, "list")["objects"]] == ["k0", "k1"]
    assert any("maxFiles limit is 2" in line for line in result.logs("list", "WARN"))


def test_s3_downloads_with_move_stores_files_and_moves_them_under_move_to(s3_engine, s3, bucket):  # noqa: F811
    s3.put_object(Bucket=bucket, Key="inbox/one.txt", Body=b"1")
    s3.put_object(Bucket=bucket, Key="inbox/two.txt", Body=b"22")
    result = s3_engine.run(flow("""
  - id: fetch
    type: io.kestra.plugin.aws.s3.Downloads
    bucket: "{{ inputs.bucket }}"
    prefix: inbox/
    action: MOVE
    moveTo:
      key: archive/
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    out = outputs(result, "fetch")
    assert [(o["key"], o["size"]) for o in out["objects"]] == [("inbox/one.txt", 1), ("inbox/two.txt", 2)]
    assert read(s3_engine, out["outputFiles"]["inbox/two.txt"]) == b"22"
    assert keys(s3, bucket) == ["archive/one.txt", "archive/two.txt"]


def test_s3_downloads_with_delete_removes_what_it_downloaded(s3_engine, s3, bucket):  # noqa: F811
    s3.put_object(Bucket=bucket, Key="inbox/one.txt", Body=b"1")
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"k")
    result = s3_engine.run(flow("""
  - id: fetch
    type: io.kestra.plugin.aws.s3.Downloads
    bucket: "{{ inputs.bucket }}"
    prefix: inbox/
    action: DELETE
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    assert keys(s3, bucket) == ["keep.txt"]


def test_s3_delete_list_deletes_the_listed_keys_and_counts_their_bytes(s3_engine, s3, bucket):  # noqa: F811
    for key, body in (("tmp/a", b"12"), ("tmp/b", b"345"), ("keep", b"x")):
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    result = s3_engine.run(flow("""
  - id: purge
    type: io.kestra.plugin.aws.s3.DeleteList
    bucket: "{{ inputs.bucket }}"
    prefix: tmp/
    concurrent: 2
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    assert outputs(result, "purge") == {"count": 2, "size": 5}
    assert keys(s3, bucket) == ["keep"]


def test_s3_delete_list_with_error_on_empty_fails_when_nothing_matches(s3_engine, bucket):  # noqa: F811
    result = s3_engine.run(flow("""
  - id: purge
    type: io.kestra.plugin.aws.s3.DeleteList
    bucket: "{{ inputs.bucket }}"
    prefix: none/
    errorOnEmpty: true
"""), {"bucket": bucket})
    assert result.state == "FAILED"
    assert any(f"Unable to find any files to delete on {bucket}" in line for line in result.logs("purge"))


def test_s3_delete_removes_one_object(s3_engine, s3, bucket):  # noqa: F811
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    s3.put_object(Bucket=bucket, Key="b", Body=b"x")
    result = s3_engine.run(flow("""
  - id: delete
    type: io.kestra.plugin.aws.s3.Delete
    bucket: "{{ inputs.bucket }}"
    key: a
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    assert keys(s3, bucket) == ["b"]


def test_s3_copy_with_delete_moves_the_object_to_another_bucket(s3_engine, s3, bucket):  # noqa: F811
    s3.put_object(Bucket=bucket, Key="src.txt", Body=b"payload")
    s3.create_bucket(Bucket=bucket + "-to")
    result = s3_engine.run(flow("""
  - id: copy
    type: io.kestra.plugin.aws.s3.Copy
    from:
      bucket: "{{ inputs.bucket }}"
      key: src.txt
    to:
      bucket: "{{ inputs.bucket }}-to"
      key: dst.txt
    delete: true
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    assert s3.get_object(Bucket=bucket + "-to", Key="dst.txt")["Body"].read() == b"payload"
    assert keys(s3, bucket) == []
    assert outputs(result, "copy")["key"] == "dst.txt"
    assert outputs(result, "copy")["etag"] == s3.head_object(Bucket=bucket + "-to", Key="dst.txt")["ETag"]


def test_s3_create_bucket_creates_it(s3_engine, s3, bucket):  # noqa: F811
    result = s3_engine.run(flow("""
  - id: create
    type: io.kestra.plugin.aws.s3.CreateBucket
    bucket: "{{ inputs.bucket }}-new"
"""), {"bucket": bucket})
    assert result.state == "SUCCESS", result.logs()
    assert outputs(result, "create")["bucket"] == bucket + "-new"
    s3.head_bucket(Bucket=bucket + "-new")


def test_s3_error_names_the_operation_the_object_and_s3s_code(s3_engine, bucket):  # noqa: F811
    result = s3_engine.run(flow("""
  - id: download
    type: io.kestra.plugin.aws.s3.Download
    bucket: "{{ inputs.bucket }}"
    key: missing.txt
"""), {"bucket": bucket})
    assert result.state == "FAILED"
    [line] = [m for m in result.logs("download", "ERROR") if "GetObject" in m]
    assert f"s3://{bucket}/missing.txt" in line and "NoSuchKey" in line and "Traceback" not in line


def test_s3_secret_keys_never_reach_the_logs(s3_engine, bucket):  # noqa: F811
    result = s3_engine.run(flow("""
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "key={{ secret('AWS_SECRET_ACCESS_KEY') }}"
"""), {"bucket": bucket})
    assert "roost-test-secret-key" not in json.dumps(result.logs(min_level="TRACE"))


def test_s3_force_path_style_without_compatibility_mode_fails_as_in_kestra(s3_engine, bucket):  # noqa: F811
    result = s3_engine.run(flow("""
  - id: download
    type: io.kestra.plugin.aws.s3.Download
    bucket: "{{ inputs.bucket }}"
    key: a
    forcePathStyle: true
"""), {"bucket": bucket})
    assert result.state == "FAILED"
    assert "'forcePathStyle' must be used in conjunction with 'compatibilityMode'" in result.logs("download", "ERROR")


@pytest.mark.parametrize(("body", "message"), [
    ("type: io.kestra.plugin.aws.s3.Download\n    bucket: b", "either specify 'key' for single file download"),
    ("type: io.kestra.plugin.aws.s3.Downloads\n    bucket: b\n    action: MOVE", "action MOVE needs 'moveTo'"),
    ("type: io.kestra.plugin.aws.s3.List\n    bucket: b\n    filter: FOLDERS", "'filter' must be one of"),
])
def test_s3_mistakes_are_refused_when_the_flow_loads(tmp_path, body, message):
    text = f"id: f\nnamespace: n\ntasks:\n  - id: t\n    {body}\n"
    with pytest.raises(InvalidFlowError) as caught:
        load_flow_text(text, str(tmp_path / "f.yml"))
    assert message in str(caught.value)
