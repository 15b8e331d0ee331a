"""Kestra's HTTP Request and Download tasks against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from engine.core.events import MetricRecorded
from tests.http_server import DOWNLOAD_BYTES, ServerState, http_server


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ServerState]]:
    with http_server() as served:
        yield served


@pytest.fixture
def base(server: tuple[str, ServerState]) -> str:
    return server[0]


def flow(task: str) -> str:
    lines = "".join(f"    {line}\n" for line in task.strip().splitlines())
    return f"id: http\nnamespace: company.team\ntasks:\n  - id: call\n{lines}"


def echo_of(result) -> dict:
    return json.loads(result.run_of("call").outputs["body"])


def test_request_get_outputs_code_headers_body_and_uri(engine, base):
    result = engine.run(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/echo?x=1"))
    assert result.state == "SUCCESS"
    outputs = result.run_of("call").outputs
    assert outputs["code"] == 200 and outputs["uri"] == f"{base}/echo?x=1"
    assert outputs["headers"]["Content-Type"] == ["application/json"]
    assert echo_of(result)["method"] == "GET" and echo_of(result)["path"] == "/echo?x=1"
    metric = next(e for e in result.events if isinstance(e, MetricRecorded))
    assert metric.name == "response.length" and metric.tags == {"request.method": "GET", "response.code": "200"}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_request_sends_its_method(engine, base, method):
    result = engine.run(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/echo\nmethod: {method}"))
    assert echo_of(result)["method"] == method


def test_request_head_has_headers_and_no_body(engine, base):
    result = engine.run(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/file.bin\nmethod: HEAD"))
    outputs = result.run_of("call").outputs
    assert outputs["headers"]["Content-Length"] == [str(len(DOWNLOAD_BYTES))] and outputs["body"] is None


def test_request_renders_headers_and_sends_a_json_body(engine, base):
    result = engine.run(flow(f"""
type: io.kestra.plugin.fs.http.Request
uri: {base}/echo
method: POST
contentType: application/json
headers:
  X-Team: "{{{{ inputs.team }}}}"
body: '{{{{ {{"order": inputs.order}} | json }}}}'
""").replace("tasks:", "inputs:\n  - id: team\n    type: STRING\n  - id: order\n    type: INT\ntasks:"),
        {"team": "blue", "order": 7})
    assert result.state == "SUCCESS", result.logs()
    echoed = echo_of(result)
    assert echoed["headers"]["x-team"] == "blue" and echoed["headers"]["content-type"] == "application/json"
    assert json.loads(echoed["body"]) == {"order": 7}


def test_request_form_data_is_urlencoded_by_default(engine, base):
    result = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: {base}/echo
method: POST
formData:
  hello: world
  count: 3
"""))
    echoed = echo_of(result)
    assert echoed["headers"]["content-type"].startswith("application/x-www-form-urlencoded")
    assert echoed["form"] == {"hello": "world", "count": "3"}


def test_request_multipart_sends_kestra_files_and_named_files(engine, base):
    text = f"""
id: upload
namespace: company.team
inputs:
  - id: doc
    type: FILE
tasks:
  - id: call
    type: io.kestra.plugin.core.http.Request
    uri: {base}/echo
    method: POST
    contentType: multipart/form-data
    formData:
      hello: world
      file: "{{{{ inputs.doc }}}}"
      renamed:
        name: report.txt
        content: "{{{{ inputs.doc }}}}"
"""
    doc = engine.flow_dir / "doc.bin"
    doc.write_bytes(b"\x00binary\xffcontent\n")
    result = engine.run(text, {"doc": str(doc)})
    assert result.state == "SUCCESS", result.logs()
    form = echo_of(result)["form"]
    assert form["hello"] == "world"
    assert base64.b64decode(form["file"]["content"]) == b"\x00binary\xffcontent\n"
    assert form["renamed"]["filename"] == "report.txt"
    assert base64.b64decode(form["renamed"]["content"]) == b"\x00binary\xffcontent\n"


def test_request_basic_auth_from_options_and_from_auth_block(engine, base, monkeypatch):
    old_style = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: {base}/auth
options:
  basicAuthUser: ada
  basicAuthPassword: l0vel4ce
"""))
    assert old_style.run_of("call").outputs["body"] == '{"user": "ada"}'
    engine.runtime.environ["SECRET_PASS"] = base64.b64encode(b"l0vel4ce").decode()
    new_style = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: {base}/auth
options:
  auth:
    type: BASIC
    username: ada
    password: "{{{{ secret('PASS') }}}}"
"""))
    assert new_style.state == "SUCCESS" and new_style.run_of("call").outputs["code"] == 200


def test_request_bearer_auth(engine, base):
    result = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: {base}/bearer
options:
  auth: {{type: BEARER, token: t0ken}}
"""))
    assert result.run_of("call").outputs["body"] == "ok"


def test_request_wrong_credentials_fail_with_the_code(engine, base):
    result = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: {base}/auth
options: {{basicAuthUser: ada, basicAuthPassword: wrong}}
"""))
    assert result.state == "FAILED"
    assert any("response code '401'" in line for line in result.logs("call"))


def test_request_follows_redirects_by_default_and_not_when_told(engine, base):
    followed = engine.run(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/redirect"))
    assert followed.run_of("call").outputs["code"] == 200
    assert followed.run_of("call").outputs["uri"] == f"{base}/echo"
    kept = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: {base}/redirect
options:
  followRedirects: false
"""))
    outputs = kept.run_of("call").outputs
    assert kept.state == "SUCCESS" and outputs["code"] == 302 and outputs["headers"]["Location"] == ["/echo"]


def test_request_read_timeout_fails_the_task_naming_the_option(engine, base):
    result = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: {base}/slow
options:
  readTimeout: PT0.1S
"""))
    assert result.state == "FAILED"
    assert any("timed out (options.readTimeout)" in line for line in result.logs("call"))


def test_request_non_2xx_fails_with_kestra_message(engine, base):
    result = engine.run(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/teapot"))
    assert result.state == "FAILED"
    assert any("Failed http request with response code '418'" in line for line in result.logs("call"))


def test_request_allow_failed_keeps_the_error_response(engine, base):
    result = engine.run(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/teapot\nallowFailed: true"))
    outputs = result.run_of("call").outputs
    assert result.state == "SUCCESS" and outputs["code"] == 418 and outputs["body"] == '{"short": "and stout"}'


def test_request_encrypt_body_moves_the_body_out_of_body(engine, base):
    result = engine.run(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/bearer\nencryptBody: true"))
    outputs = result.run_of("call").outputs
    assert outputs["body"] is None and outputs["encryptedBody"]["value"] == "no"
    assert any("encryption is not configured" in line for line in result.logs("call", "WARN"))


def test_request_masks_secrets_in_logged_urls(engine, base):
    engine.runtime.environ["SECRET_API_KEY"] = base64.b64encode(b"k3y-s3cret").decode()
    result = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Request
uri: "{base}/missing?api_key={{{{ secret('API_KEY') }}}}"
"""))
    assert result.state == "FAILED"
    lines = result.logs(min_level="DEBUG")
    assert any("/missing?api_key=******" in line for line in lines)
    assert not any("k3y-s3cret" in line for line in lines)


def test_request_unknown_method_is_refused_at_load(engine, base):
    from engine.core.errors import InvalidFlowError

    with pytest.raises(InvalidFlowError, match="'method' must be one of"):
        engine.load(flow(f"type: io.kestra.plugin.core.http.Request\nuri: {base}/echo\nmethod: FETCH"))


def test_download_streams_the_exact_bytes_into_storage(engine, base):
    result = engine.run(flow(f"type: io.kestra.plugin.core.http.Download\nuri: {base}/file.bin"))
    assert result.state == "SUCCESS", result.logs()
    outputs = result.run_of("call").outputs
    assert outputs["code"] == 200 and outputs["length"] == len(DOWNLOAD_BYTES)
    assert outputs["uri"].startswith("kestra:///company/team/http/executions/") and outputs["uri"].endswith(".bin")
    assert engine.runtime.storage.read_bytes(outputs["uri"]) == DOWNLOAD_BYTES
    assert outputs["headers"]["Content-Type"] == ["application/octet-stream"]


def test_download_names_the_file_from_content_disposition_without_its_path(engine, base):
    result = engine.run(flow(f"type: io.kestra.plugin.fs.http.Download\nuri: {base}/named"))
    uri = result.run_of("call").outputs["uri"]
    assert uri.endswith("/report.csv") and "/etc/" not in uri


def test_download_of_an_empty_body_fails_unless_allowed(engine, base):
    failed = engine.run(flow(f"type: io.kestra.plugin.core.http.Download\nuri: {base}/empty"))
    assert failed.state == "FAILED"
    assert any("No response from server" in line for line in failed.logs("call"))
    allowed = engine.run(flow(f"""
type: io.kestra.plugin.core.http.Download
uri: {base}/empty
failOnEmptyResponse: false
"""))
    outputs = allowed.run_of("call").outputs
    assert allowed.state == "SUCCESS" and outputs["length"] == 0
    assert engine.runtime.storage.read_bytes(outputs["uri"]) == b""


def test_download_error_code_fails_and_allow_failed_keeps_code_and_headers(engine, base):
    failed = engine.run(flow(f"type: io.kestra.plugin.core.http.Download\nuri: {base}/teapot"))
    assert failed.state == "FAILED"
    assert any("response code '418'" in line for line in failed.logs("call"))
    allowed = engine.run(flow(f"type: io.kestra.plugin.core.http.Download\nuri: {base}/teapot\nallowFailed: true"))
    outputs = allowed.run_of("call").outputs
    assert outputs["code"] == 418 and outputs["headers"]["Content-Type"] == ["application/json"]
