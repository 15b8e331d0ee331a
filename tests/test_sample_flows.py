"""Every flow in sample_flows/ runs here, as a user would run it, with what it should produce."""

from __future__ import annotations

import csv
import io
import re
import shutil

import pytest

from engine.core.config import RoostConfig
from engine.flow.loader import discover_flow_files, load_flow
from engine.store.storage import InternalStorage
from tests.conftest import REPO_ROOT, Engine
from tests.gitrepos import examples_repo

SAMPLES = REPO_ROOT / "sample_flows"


@pytest.fixture
def sample_engine(tmp_path):
    """An engine whose flows are copies of sample_flows/ (namespace files included)."""
    flows = tmp_path / "flows"
    shutil.copytree(SAMPLES, flows)
    instance = Engine(tmp_path / "home", flows)
    yield instance
    instance.close()


def run_sample(engine: Engine, name: str, inputs=None, trigger=None, execution_id=None):
    flow = load_flow(engine.flow_dir / name, engine.config.plugin_defaults)
    return engine.run_flow(flow, inputs, trigger=trigger)


def text_of(engine: Engine, uri: str) -> str:
    return InternalStorage(engine.home.storage).read_bytes(uri).decode()


def test_every_sample_flow_is_valid_and_covered_here():
    # pip.yml, csv_cleanup.yml and kestra_package.yml build Python environments: their runs are
    # checked once, in tests/test_sample_flows_runners.py (both runners), not again here.
    names = {p.name for p in discover_flow_files(SAMPLES)}
    tested = {"hello.yml", "pip.yml", "s3TriggerCommands.yml", "csv_cleanup.yml", "git_project.yml",
              "namespace_module.yml", "outputs_between_tasks.yml", "failing_with_errors.yml",
              "foreach_files.yml", "kestra_package.yml", "parallel_fanout.yml", "webhook_echo.yml",
              "weekday_digest.yml", "data_pipeline.yml"}
    assert names == tested
    for path in discover_flow_files(SAMPLES):
        load_flow(path)


def test_hello(sample_engine):
    result = run_sample(sample_engine, "hello.yml", {"name": "Ada"})
    assert result.state == "SUCCESS"
    assert result.logs("greet") == ["Hello, Ada!"]
    assert result.execution.outputs == {"shouted": "ADA"}


def test_seed_s3_flow_runs_with_a_trigger_payload_and_a_local_mirror(sample_engine, tmp_path):
    repo = examples_repo(tmp_path)
    sample_engine.with_config(RoostConfig(
        git_url_rewrites=(("https://github.com/kestra-io/examples", f"file://{repo}"),)))
    flow = load_flow(sample_engine.flow_dir / "s3TriggerCommands.yml")
    from engine.execution.executor import Executor

    executor = Executor(sample_engine.runtime)
    execution_id = "3HexampleTriggerExecId"
    storage = InternalStorage(sample_engine.home.storage)
    uri = storage.trigger_file_uri(flow.namespace, flow.id, execution_id, "waitForS3object", "messy.csv")
    storage.put_bytes(uri, b"Name,Age\nAda,36\nGrace,unknown\nLinus,28\n")
    trigger = {"objects": [{"uri": uri, "key": "raw/messy.csv", "etag": "x", "size": 40}]}
    events = []
    executor.bus.subscribe(events.append)
    handle = executor.start(executor.prepare(flow, trigger=trigger, execution_id=execution_id))
    execution = handle.wait(120)
    runs = {r.task_id: r for r in handle.task_runs()}
    assert execution.state.value == "SUCCESS", [getattr(e, "message", "") for e in events]
    captured = runs["wdir"].outputs["outputFiles"]
    assert sorted(captured) == ["clean_dataset.csv", "data.csv"]
    rows = list(csv.DictReader(io.StringIO(text_of(sample_engine, captured["clean_dataset.csv"]))))
    assert [(r["Name"], r["Age"]) for r in rows] == [("Ada", "36"), ("Grace", "32"), ("Linus", "28")]


def test_git_project_clones_and_runs_the_script(sample_engine, tmp_path):
    repo = examples_repo(tmp_path)
    result = run_sample(sample_engine, "git_project.yml", {"repository": f"file://{repo}"})
    assert result.state == "SUCCESS", result.logs()
    uri = result.run_of("project").outputs["outputFiles"]["clean_dataset.csv"]
    assert text_of(sample_engine, uri).splitlines() == ["Name,Age", "Ada,36", "Grace,32", "Linus,28"]


def test_namespace_module(sample_engine):
    result = run_sample(sample_engine, "namespace_module.yml")
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("announce") == ["3 orders worth 191.5"]


def test_outputs_between_tasks(sample_engine):
    result = run_sample(sample_engine, "outputs_between_tasks.yml")
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("transform").outputs["vars"] == {"sum": 55, "max": 10}
    assert result.logs("load")[0].startswith("10 numbers from ")
    assert result.execution.outputs == {"total": 55}  # declared INT: a number, as in Kestra


def test_failing_with_errors_keeps_earlier_outputs(sample_engine):
    result = run_sample(sample_engine, "failing_with_errors.yml")
    assert result.state == "FAILED"
    assert result.states() == {"extract": "SUCCESS", "validate": "FAILED", "alert": "SUCCESS",
                               "cleanup": "SUCCESS"}
    assert result.run_of("extract").outputs == {"value": "42 rows"}
    assert "schema mismatch in column 'amount'" in result.logs("validate")
    assert result.logs("alert") == [f"execution {result.execution.id} failed after extract gave 42 rows"]


def test_foreach_files(sample_engine):
    result = run_sample(sample_engine, "foreach_files.yml")
    assert result.state == "SUCCESS", result.logs()
    assert sorted(r.value for r in result.runs_of("process")) == ["feb.csv", "jan.csv", "mar.csv"]
    assert result.logs("done") == ["processed 3 files; feb gave feb.summary"]


def test_parallel_fanout(sample_engine):
    result = run_sample(sample_engine, "parallel_fanout.yml", {"environment": "prod"})
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("big_day") == ["busy day: 480 orders from 120 users"]
    assert "publish" in {r.task_id for r in result.task_runs}


def _scheduler(engine: Engine, name: str):
    from engine.scheduling.scheduler import TriggerScheduler

    flow = load_flow(engine.flow_dir / name, engine.config.plugin_defaults)
    scheduler = TriggerScheduler(engine.runtime, webhook_port=0)
    scheduler.set_flows([flow])
    scheduler.start()
    return scheduler, flow


def test_webhook_echo_answers_a_real_request_with_its_outputs(sample_engine):
    import json
    import urllib.request

    scheduler, _flow = _scheduler(sample_engine, "webhook_echo.yml")
    try:
        [status] = scheduler.statuses()
        request = urllib.request.Request(status.url + "?from=tests", data=b'{"name": "Ada"}', method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert json.loads(response.read()) == {"greeting": "Hello, ADA!"}
    finally:
        scheduler.stop()
    sample_engine.runtime.history.flush()
    [execution] = sample_engine.runtime.history.list_executions(flow_id="webhook_echo")
    assert execution.trigger["parameters"] == {"from": ["tests"]}


def test_weekday_digest_fires_with_its_schedule_dates(sample_engine):
    import threading

    from engine.core.events import ExecutionChanged, LogLine

    scheduler, flow = _scheduler(sample_engine, "weekday_digest.yml")
    lines: list[str] = []
    done = threading.Event()
    scheduler.executor.bus.subscribe(lambda e: lines.append(e.message) if isinstance(e, LogLine) else None)
    scheduler.executor.bus.subscribe(
        lambda e: done.set() if isinstance(e, ExecutionChanged) and e.execution.state.is_terminal else None)
    try:
        [status] = scheduler.statuses()
        assert status.next_fire is not None and status.next_fire.weekday() < 5
        scheduler.fire_now(status.key)
        assert done.wait(60)
    finally:
        scheduler.stop()
    [line] = [text for text in lines if text.startswith("digest for ")]
    assert re.fullmatch(r"digest for \d{4}-\d\d-\d\d; next one \d{4}-.*T09:00:00\+0[12]:00", line)


def test_data_pipeline_queries_converts_uploads_and_alerts_with_the_make_run_services(tmp_path):
    """DuckDB → serdes → S3 → Slack, against scripts/sample_services.py (what `make run`
    starts): the CSV lands in the local S3, the alert in the local webhook receiver."""
    import importlib.util

    import boto3

    from tests.gitrepos import free_port

    spec = importlib.util.spec_from_file_location("sample_services", REPO_ROOT / "scripts" / "sample_services.py")
    assert spec is not None and spec.loader is not None
    services = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(services)
    s3_port, webhook_port = free_port(), free_port()
    s3, webhook = services.start(s3_port, webhook_port)
    try:
        flows = tmp_path / "flows"
        shutil.copytree(SAMPLES, flows)
        engine = Engine(tmp_path / "home", flows)
        engine.environ.update({"ENV_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
                               "ENV_SLACK_WEBHOOK": f"http://127.0.0.1:{webhook_port}/services/x"})
        engine.runtime.environ = engine.environ
        try:
            result = run_sample(engine, "data_pipeline.yml")
        finally:
            engine.close()
        assert result.state == "SUCCESS", result.states()
        client = boto3.session.Session().client(
            "s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1",
            aws_access_key_id="roost", aws_secret_access_key="roost")
        key = f"reports/{result.execution.id}/revenue.csv"
        body = client.get_object(Bucket=services.BUCKET, Key=key)["Body"].read().decode()
        assert list(csv.reader(io.StringIO(body))) == [
            ["region", "orders", "revenue"], ["south", "1", "40.00"], ["east", "1", "19.90"],
            ["north", "2", "19.75"]]
        assert services._Webhook.received[-1] == {
            "text": f"Revenue by region: 3 regions, s3://{services.BUCKET}/{key}"}
    finally:
        webhook.shutdown()
        s3.stop()
