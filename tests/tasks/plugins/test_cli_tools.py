"""Kestra's DbtCLI, TerraformCLI and AnsibleCLI on the process runner.

The real dbt and ansible cannot be installed offline fast enough for the suite, so small fake
`dbt` and `ansible-playbook` scripts, first on PATH, record what they were given and print or
write what the real tools do (dbt's JSON log lines and target/run_results.json, the
callback's `::{"outputs": ...}::` line). Terraform runs for real when it is installed (local
state, no provider: nothing to download).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.core.events import MetricRecorded
from engine.execution.runtime import RunOptions
from engine.store.storage import InternalStorage
from tests.conftest import Engine, require_in_ci
from tests.docker.conftest import docker, docker_session  # noqa: F401

PROCESS = RunOptions(runner="process")

FAKE_DBT = r"""#!/bin/sh
echo "$@" >> dbt-calls.txt
echo "PIP_ROOT_USER_ACTION=$PIP_ROOT_USER_ACTION" > dbt-env.txt
project=.
while [ $# -gt 0 ]; do
  case "$1" in --project-dir) project="$2"; shift;; esac
  shift
done
mkdir -p "$project/target"
cat > "$project/target/run_results.json" <<'JSON'
{"results": [
  {"unique_id": "model.demo.orders", "status": "success", "execution_time": 0.5,
   "adapter_response": {"rows_affected": 42}, "timing": []},
  {"unique_id": "test.demo.not_null", "status": "fail", "failures": 3, "message": "Got 3 results",
   "adapter_response": {}, "timing": []}]}
JSON
echo '{"metadata": {"adapter_type": "duckdb"}, "nodes": {}}' > "$project/target/manifest.json"
echo '{"info": {"level": "info", "ts": "2024-01-01T00:00:00Z", "thread": "MainThread", "name": "MainReportVersion", "msg": "Running with dbt=1.8.0"}, "data": {"stats": {"pass": 1}}}'
if [ -n "$FAKE_DBT_WARN" ]; then
  echo '{"info": {"level": "warn", "ts": "t", "thread": "MainThread", "name": "W", "msg": "careful"}}'
fi
exit "${FAKE_DBT_EXIT:-0}"
"""

FAKE_ANSIBLE = r"""#!/bin/sh
echo "$@" >> ansible-calls.txt
echo "mode=$KESTRA_OUTPUTS_MODE cfg=$(grep -c '^stdout_callback *= kestra_logger' ansible.cfg) plugin=$(test -f callback_plugins/kestra_logger.py && echo yes)" > ansible-env.txt
echo "[localhost] ok => {\"msg\": \"$1\"}"
echo '::{"outputs": {"outputs": [{"msg": "'"$1"'"}], "playbooks": [{"plays": [{"name": "p", "tasks": []}]}]}}::'
"""


@pytest.fixture
def tools(tmp_path: Path) -> Iterator[Engine]:
    """An engine whose PATH starts with the fake dbt and ansible-playbook."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    for name, text in (("dbt", FAKE_DBT), ("ansible-playbook", FAKE_ANSIBLE)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    environ = dict(os.environ)
    environ["PATH"] = f"{bin_dir}{os.pathsep}{environ.get('PATH', '')}"
    flows = tmp_path / "flows"
    flows.mkdir()
    instance = Engine(tmp_path / "home", flows, environ=environ)
    yield instance
    instance.close()


def task_flow(task_type: str, body: str) -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"id: cli\nnamespace: company.team\ntasks:\n  - id: tool\n    type: {task_type}\n{lines}\n"


def stored(engine: Engine, uri: str) -> str:
    return InternalStorage(engine.home.storage).read_bytes(uri).decode()


DBT = "io.kestra.plugin.dbt.cli.DbtCLI"


def test_dbt_cli_writes_profiles_and_adds_project_dir_and_log_flags(tools):
    result = tools.run(task_flow(DBT, """
projectDir: proj
profiles: |
  demo:
    target: dev
commands:
  - dbt build --select orders
  - echo not-dbt --flag
outputFiles: [profiles.yml, dbt-calls.txt, dbt-env.txt]
"""), options=PROCESS)
    assert result.state == "SUCCESS", result.logs()
    files = result.run_of("tool").outputs["outputFiles"]
    assert stored(tools, files["dbt-calls.txt"]).strip() == \
        "build --select orders --project-dir proj --log-format json --log-path logs"
    assert stored(tools, files["profiles.yml"]) == "demo:\n  target: dev\n"
    assert stored(tools, files["dbt-env.txt"]).strip() == "PIP_ROOT_USER_ACTION=ignore"
    assert "not-dbt --flag" in result.logs("tool")


def test_dbt_cli_parses_run_results_into_logs_metrics_and_output_files(tools):
    result = tools.run(task_flow(DBT, "commands: [dbt run]"), options=PROCESS)
    assert result.state == "SUCCESS", result.logs()
    outputs = result.run_of("tool").outputs
    assert json.loads(stored(tools, outputs["outputFiles"]["run_results.json"]))["results"][0]["status"] == "success"
    assert "manifest.json" in outputs["outputFiles"]
    assert "model.demo.orders => success in 0.50s" in result.logs("tool")
    assert result.logs("tool", "ERROR") == ["test.demo.not_null => fail (3 failures)", "Got 3 results"]
    metrics = {(e.name, e.value) for e in result.events if isinstance(e, MetricRecorded)}
    assert {("rows.affected", 42.0), ("pass", 1.0)} <= metrics


def test_dbt_cli_json_log_lines_are_written_as_kestra_writes_them(tools):
    result = tools.run(task_flow(DBT, "commands: [dbt debug]\nparseRunResults: false"), options=PROCESS)
    assert "[Date: 2024-01-01T00:00:00Z] [Thread: MainThread] [Type: MainReportVersion] Running with dbt=1.8.0" \
        in result.logs("tool")
    assert "run_results.json" not in result.run_of("tool").outputs["outputFiles"]


def test_dbt_cli_warning_log_line_ends_the_task_in_warning(tools):
    result = tools.run(task_flow(DBT, "commands: [dbt test]\nenv:\n  FAKE_DBT_WARN: '1'"), options=PROCESS)
    assert result.run_of("tool").state.value == "WARNING"
    assert any("careful" in line for line in result.logs("tool", "WARN"))


def test_dbt_cli_failure_still_reads_run_results(tools):
    result = tools.run(task_flow(DBT, "commands: [dbt build]\nenv:\n  FAKE_DBT_EXIT: '1'"), options=PROCESS)
    assert result.state == "FAILED"
    assert "Command failed with exit code 1" in result.logs("tool", "ERROR")
    assert "model.demo.orders => success in 0.50s" in result.logs("tool")


@pytest.mark.parametrize(("task_type", "tool"), [
    (DBT, "dbt"),
    ("io.kestra.plugin.terraform.cli.TerraformCLI", "terraform"),
    ("io.kestra.plugin.ansible.cli.AnsibleCLI", "ansible-playbook"),
])
def test_cli_tool_missing_from_path_fails_saying_so(engine, tmp_path, task_type, tool):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    body = f"commands: [{tool} --version]\nenv:\n  PATH: {empty}:/usr/bin:/bin\nautoInstallPythonRequirements: false" \
        if tool == "ansible-playbook" else f"commands: [{tool} --version]\nenv:\n  PATH: {empty}:/usr/bin:/bin"
    result = engine.run(task_flow(task_type, body), options=PROCESS)
    assert result.state == "FAILED"
    [message] = [m for m in result.logs("tool", "ERROR") if "is not on PATH" in m]
    assert message.startswith(f"{tool} is not on PATH; install it or run with the Docker runner")


def test_ansible_cli_writes_its_config_and_merges_each_playbooks_outputs(tools):
    result = tools.run(task_flow("io.kestra.plugin.ansible.cli.AnsibleCLI", """
commands:
  - ansible-playbook first.yml
  - ansible-playbook second.yml
outputFiles: [ansible-env.txt, ansible.cfg]
"""), options=PROCESS)
    assert result.state == "SUCCESS", result.logs()
    outputs = result.run_of("tool").outputs
    assert outputs["vars"]["outputs"] == [{"msg": "first.yml"}, {"msg": "second.yml"}]
    assert len(outputs["vars"]["playbooks"]) == 2
    assert stored(tools, outputs["outputFiles"]["ansible-env.txt"]).strip() == "mode=all cfg=1 plugin=yes"
    config = stored(tools, outputs["outputFiles"]["ansible.cfg"])
    assert "callbacks_enabled = kestra_logger" in config
    assert "{{" not in config and config.split("log_path          = ")[1].split("\n")[0].endswith("/log")
    assert '[localhost] ok => {"msg": "first.yml"}' in result.logs("tool")


def test_ansible_cli_explicit_mode_is_passed_to_the_callback(tools):
    result = tools.run(task_flow("io.kestra.plugin.ansible.cli.AnsibleCLI", """
outputsMode: EXPLICIT
commands: [ansible-playbook site.yml]
outputFiles: [ansible-env.txt]
"""), options=PROCESS)
    assert result.state == "SUCCESS", result.logs()
    outputs = result.run_of("tool").outputs
    assert stored(tools, outputs["outputFiles"]["ansible-env.txt"]).startswith("mode=explicit")
    assert outputs["vars"]["outputs"] == {}  # EXPLICIT: only what the kestra module declared


def test_terraform_cli_runs_init_and_apply_with_env_and_captures_state(engine):
    if shutil.which("terraform", path=engine.environ["PATH"]) is None:
        require_in_ci("terraform is not installed (a single binary on PATH; no provider is needed)")
    result = engine.run(task_flow("io.kestra.plugin.terraform.cli.TerraformCLI", """
inputFiles:
  main.tf: |
    variable "name" {
      default = "nobody"
    }
    output "greeting" {
      value = "hello ${var.name}"
    }
beforeCommands:
  - terraform init -input=false -no-color
commands:
  - terraform apply -auto-approve -input=false -no-color
  - terraform output -raw greeting > greeting.txt
env:
  TF_VAR_name: roost
outputFiles: [greeting.txt, terraform.tfstate]
"""), options=PROCESS)
    assert result.state == "SUCCESS", result.logs(min_level="DEBUG")
    files = result.run_of("tool").outputs["outputFiles"]
    assert stored(engine, files["greeting.txt"]) == "hello roost"
    assert json.loads(stored(engine, files["terraform.tfstate"]))["outputs"]["greeting"]["value"] == "hello roost"


@pytest.fixture
def entrypoint_image(docker) -> Iterator[str]:  # noqa: F811, ANN001
    """A local image whose entrypoint is `/bin/false`, as a tool image's is its tool; removed by tag after."""
    tag = f"roost-build-test/entrypoint:{os.getpid()}"
    dockerfile = io.BytesIO(b'FROM ubuntu\nENTRYPOINT ["/bin/false"]\n')
    for _ in docker.engine.api.build(fileobj=dockerfile, tag=tag, pull=False, rm=True, decode=True):
        pass
    yield tag
    docker.engine.api.remove_image(tag)


def test_cli_tool_under_the_docker_runner_empties_the_images_entrypoint(engine, entrypoint_image):
    # Kestra empties a tool image's entrypoint (hashicorp/terraform starts `terraform`), so the
    # commands run through the shell; with /bin/false as entrypoint they would not run at all.
    result = engine.run(task_flow("io.kestra.plugin.terraform.cli.TerraformCLI", f"""
containerImage: {entrypoint_image}
taskRunner:
  type: io.kestra.plugin.scripts.runner.docker.Docker
  pullPolicy: NEVER
commands:
  - echo "in a container" > where.txt
outputFiles: [where.txt]
"""), options=RunOptions(runner="docker"))
    assert result.state == "SUCCESS", result.logs()
    assert stored(engine, result.run_of("tool").outputs["outputFiles"]["where.txt"]) == "in a container\n"


@pytest.mark.parametrize(("body", "message"), [
    (f"type: {DBT}\n    commands: [dbt run]\n    logFormat: XML", "'logFormat' must be one of JSON, TEXT, DEBUG, NONE"),
    ("type: io.kestra.plugin.ansible.cli.AnsibleCLI\n    commands: [x]\n    outputsMode: SOME",
     "'outputsMode' must be one of ALL, EXPLICIT"),
])
def test_cli_tool_enum_mistakes_are_refused_when_the_flow_loads(tmp_path, body, message):
    from engine.core.errors import InvalidFlowError
    from engine.flow.loader import load_flow_text

    with pytest.raises(InvalidFlowError) as caught:
        load_flow_text(f"id: f\nnamespace: n\ntasks:\n  - id: t\n    {body}\n", str(tmp_path / "f.yml"))
    assert message in str(caught.value)
