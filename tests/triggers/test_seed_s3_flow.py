"""The seed's S3 flow, unchanged, end to end: a file lands in the bucket, the flow cleans it.

Only the server configuration differs from Kestra's: roost.toml-style plugin defaults point
the AWS plugin at moto, the secrets come from SECRET_* variables, and the GitHub repository
the flow clones is rewritten to a local bare mirror.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys

from engine.core.config import RoostConfig
from engine.flow.loader import load_flow
from engine.store.storage import InternalStorage
from tests.conftest import REPO_ROOT, Engine
from tests.gitrepos import examples_repo
from tests.triggers.conftest import Harness, keys, secret_environ

MESSY = b"Name,Age\nAda,36\nGrace,unknown\nLinus,28\n"
SEED_BUCKET = "declarative-orchestration"


def test_seed_s3_flow_fires_on_a_new_object_and_replays_with_roost_run_trigger(tmp_path, s3, s3_server):
    flows = tmp_path / "flows"
    shutil.copytree(REPO_ROOT / "sample_flows", flows)
    repo = examples_repo(tmp_path)
    engine = Engine(tmp_path / "home", flows, environ=secret_environ())
    config = RoostConfig(
        plugin_defaults=({"type": "io.kestra.plugin.aws", "values": {"endpointOverride": s3_server}},),
        git_url_rewrites=(("https://github.com/kestra-io/examples", f"file://{repo}"),))
    engine.with_config(config)
    s3.create_bucket(Bucket=SEED_BUCKET)
    s3.put_object(Bucket=SEED_BUCKET, Key="raw/messy.csv", Body=MESSY)
    flow = load_flow(flows / "s3TriggerCommands.yml", config.plugin_defaults)
    harness = Harness(engine)
    harness.scheduler.options.runner = None  # auto: Docker when an engine answers, else processes
    try:
        harness.start(flow)
        [execution] = harness.wait_executions(1, timeout=120)
    finally:
        harness.stop()
    history = engine.runtime.history
    history.flush()
    runs = {r.task_id: r for r in history.task_runs(execution.id)}
    assert execution.state.value == "SUCCESS", [r.message for r in history.logs(execution.id)]
    [found] = execution.trigger["objects"]
    assert found["key"] == "raw/messy.csv"
    assert found["uri"] == (f"kestra:///company/team/s3TriggerCommands/executions/{execution.id}"
                            f"/trigger/waitForS3object/messy.csv")
    assert keys(s3, SEED_BUCKET) == ["archive/raw/messy.csv"]
    storage = InternalStorage(engine.home.storage)
    captured = runs["wdir"].outputs["outputFiles"]
    rows = list(csv.DictReader(io.StringIO(storage.read_bytes(captured["clean_dataset.csv"]).decode())))
    assert [(r["Name"], r["Age"]) for r in rows] == [("Ada", "36"), ("Grace", "32"), ("Linus", "28")]
    engine.close()

    # `roost run FLOW --trigger FILE.json` with the payload that execution received.
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(execution.trigger))
    (flows / "roost.toml").write_text(
        f'[git.urlRewrites]\n"https://github.com/kestra-io/examples" = "file://{repo}"\n')
    env = {**os.environ, "ROOST_HOME": str(tmp_path / "home"),  # the venv's python runs the script
           "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "engine.cli", "run", str(flows / "s3TriggerCommands.yml"),
                             "--trigger", str(payload), "--json", "--runner", "process"],
                            capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    replay = json.loads(result.stdout)
    uri = replay["trigger"]["objects"][0]["uri"]
    assert uri == (f"kestra:///company/team/s3TriggerCommands/executions/{replay['id']}"
                   f"/trigger/waitForS3object/messy.csv")
    assert storage.read_bytes(uri) == MESSY
