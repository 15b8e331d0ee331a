"""Every sample flow as `make run` sets it up, through the real `roost run`, on both runners.

One copy of sample_flows/ for the module, with its roost.toml (git rewrite, secrets file,
AWS plugin defaults), the git repositories scripts/sample_repos.py makes and the services
scripts/sample_services.py starts, and one ROOST_HOME, so the isolated Python environments
(pandas, pyarrow, kestra) are built once and reused by every flow that declares them.
Each flow runs with `--runner process`, then with `--runner auto` and Docker up (the cached
test images), where at least one of its script tasks must have run in a container.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from engine.flow.loader import discover_flow_files
from engine.store.history import History
from engine.store.storage import InternalStorage
from tests.conftest import REPO_ROOT, require_in_ci
from tests.gitrepos import free_port

SAMPLES = REPO_ROOT / "sample_flows"
CLEANED = ("id,name,email,age,city,signup_date\n"
           "1,Ada Lovelace,ada@example.com,36,London,2024-01-15\n"
           "2,Grace Hopper,grace@example.com,45,New York,2024-02-15\n"
           "4,Alan Turing,alan@example.co.uk,41,Manchester,2024-03-04\n"
           "6,Katherine Johnson,katherine@example.com,52,White Sulphur Springs,2024-03-09\n"
           "8,Donald Knuth,don@example.com,86,Milwaukee,2024-03-31\n"
           "10,Tim Berners-Lee,tim@example.org,69,London,2024-01-04\n"
           "12,Radia Perlman,radia@example.com,73,Seattle,2024-04-03\n")
TEST_IMAGES = ("python:3.11-slim", "ubuntu:latest", "ghcr.io/kestra-io/pydata:latest")
SCRIPT_TYPES = ("io.kestra.plugin.scripts.",)


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Ran:
    """One finished execution: its JSON (`roost run --json`), its logs from history, its files."""

    execution: dict[str, Any]
    logs: list[tuple[str | None, str]]
    storage: InternalStorage
    stderr: str

    @property
    def state(self) -> str:
        return str(self.execution["state"]["current"])

    def run_of(self, task_id: str) -> dict[str, Any]:
        [run] = [r for r in self.execution["taskRunList"] if r["taskId"] == task_id]
        return run

    def logs_of(self, task_id: str) -> list[str]:
        return [message for task, message in self.logs if task == task_id]

    def text(self, uri: str) -> str:
        return self.storage.read_bytes(uri).decode()

    def script_runners(self) -> list[str]:
        return [str(r["runner"]) for r in self.execution["taskRunList"]
                if r["type"].startswith(SCRIPT_TYPES) and r["state"]["current"] != "CREATED"]

    def why(self) -> str:
        return f"state {self.state}; stderr:\n{self.stderr[-3000:]}"


@dataclass
class Samples:
    """sample_flows/ copied as a fresh clone would have it after `make run`'s first steps."""

    flows: Path
    home: Path
    environ: dict[str, str]
    s3_endpoint: str
    services: ModuleType
    stops: list[Callable[[], None]] = field(default_factory=list)

    def run(self, name: str, runner: str, *extra: str, flows: Path | None = None) -> Ran:
        flow = (flows or self.flows) / name
        result = subprocess.run(
            [sys.executable, "-m", "engine.cli", "run", str(flow), "--json", "--runner", runner, *extra],
            capture_output=True, text=True, env=self.environ, cwd=flow.parent, timeout=600)
        assert result.stdout.strip(), f"roost run {name} printed no execution:\n{result.stderr}"
        execution = json.loads(result.stdout)
        history = History(self.home / "history.db")
        try:
            logs = [(r.task_id, r.message) for r in history.logs(execution["id"])]
        finally:
            history.close()
        return Ran(execution, logs, InternalStorage(self.home / "storage"), result.stderr)


def copy_samples(target: Path) -> Path:
    shutil.copytree(SAMPLES, target, ignore=shutil.ignore_patterns(".repos", "__pycache__"))
    return target


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Samples]:
    root = tmp_path_factory.mktemp("samples")
    flows = copy_samples(root / "sample_flows")
    assert load_script("sample_repos").main(["--flows", str(flows)]) == 0
    services = load_script("sample_services")
    s3_port, webhook_port = free_port(), free_port()
    s3, webhook = services.start(s3_port, webhook_port)
    home = root / "home"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_", "ROOST_"))}
    environ.update({
        "ROOST_HOME": str(home), "ENV_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
        "ENV_SLACK_WEBHOOK": f"http://127.0.0.1:{webhook_port}/services/samples",
        # As after `make run`: the project's venv first on PATH (git, python and uv from there).
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    instance = Samples(flows, home, environ, f"http://127.0.0.1:{s3_port}", services)
    yield instance
    webhook.shutdown()
    s3.stop()


@pytest.fixture(scope="module")
def docker_up() -> None:
    from engine.runners.docker_engine import DockerEngines, EngineUnreachable, engine_url

    url = engine_url(None, None, os.environ)
    try:
        engine = DockerEngines().connect(url, os.environ)
    except EngineUnreachable as exc:
        require_in_ci(f"no Docker engine ({exc}); run `bash tests/services/start.sh` as root")
        return
    missing = [image for image in TEST_IMAGES if not engine.has_image(image)]
    if missing:
        require_in_ci(f"test images missing: {', '.join(missing)}; run `bash tests/services/start.sh`")


# -- what each flow must produce ----------------------------------------------------------------

def check_hello(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.execution["outputs"] == {"shouted": "ROOST"}


def check_pip(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    lines = ran.logs_of("pythonScript")
    assert any(line.startswith("requests version: ") for line in lines), lines
    assert any(line.startswith("pandas version: ") for line in lines), lines
    methods = next(line for line in lines if line.startswith("Kestra methods: "))
    assert "'outputs'" in methods and "'counter'" in methods


def check_csv_cleanup(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    files = ran.run_of("clean")["outputs"]["outputFiles"]
    assert sorted(files) == ["clean/customers.csv", "clean/customers.parquet"]
    rows = list(csv.DictReader(io.StringIO(ran.text(files["clean/customers.csv"]))))
    assert [r["name"] for r in rows] == ["Ada", "Linus", "Alan"]
    assert ran.storage.read_bytes(files["clean/customers.parquet"])[:4] == b"PAR1"
    assert ran.execution["outputs"] == {"rows": 3}


def check_git_project(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    uri = ran.run_of("project")["outputs"]["outputFiles"]["clean_dataset.csv"]
    assert ran.text(uri) == "Name,Age\nAda,36\nLinus,28\n"  # sample_flows/repos/examples' script


def check_namespace_module(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.logs_of("announce") == ["3 orders worth 191.5"]


def check_outputs_between_tasks(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.execution["outputs"] == {"total": 55}


def check_failing_with_errors(ran: Ran, samples: Samples) -> None:
    """The one sample meant to fail: the errors branch and `finally` run, earlier outputs stay."""
    assert ran.state == "FAILED", ran.why()
    assert {r["taskId"]: r["state"]["current"] for r in ran.execution["taskRunList"]} == {
        "extract": "SUCCESS", "validate": "FAILED", "alert": "SUCCESS", "cleanup": "SUCCESS"}
    assert "schema mismatch in column 'amount'" in ran.logs_of("validate")


def check_foreach_files(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.logs_of("done") == ["processed 3 files; feb gave feb.summary"]


def check_kestra_package(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.logs_of("report") == ["best is ada at 0.93"]


def check_parallel_fanout(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.logs_of("big_day") == ["busy day: 480 orders from 120 users"]
    assert ran.logs_of("dry_run") == ["dry run in dev"]


def check_webhook_echo(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.execution["outputs"] == {"greeting": "Hello, STRANGER!"}


def check_weekday_digest(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    assert ran.run_of("stamp")["outputs"]["value"].startswith("digest for 20")


def check_data_pipeline(ran: Ran, samples: Samples) -> None:
    import boto3

    assert ran.state == "SUCCESS", ran.why()
    client = boto3.session.Session().client(
        "s3", endpoint_url=samples.s3_endpoint, region_name="us-east-1",
        aws_access_key_id="roost", aws_secret_access_key="roost")
    key = f"reports/{ran.execution['id']}/revenue.csv"
    body = client.get_object(Bucket=samples.services.BUCKET, Key=key)["Body"].read().decode()
    assert body.splitlines()[0] == "region,orders,revenue"


def check_s3_trigger_commands(ran: Ran, samples: Samples) -> None:
    assert ran.state == "SUCCESS", ran.why()
    [found] = ran.execution["trigger"]["objects"]
    assert found["uri"].endswith("/trigger/waitForS3object/messy_customers.csv")
    files = ran.run_of("wdir")["outputs"]["outputFiles"]
    assert sorted(files) == ["clean_dataset.csv", "data.csv"]
    assert ran.text(files["clean_dataset.csv"]) == CLEANED
    assert ran.run_of("python")["outputs"]["vars"] == {"rows": 7, "dropped": 10}


FIRE_S3 = ("--fire", "waitForS3object", "--file", "data/messy_customers.csv")
#: flow file -> (extra `roost run` arguments, what the run must show)
FLOWS: dict[str, tuple[tuple[str, ...], Callable[[Ran, Samples], None]]] = {
    "hello.yml": ((), check_hello),
    "pip.yml": ((), check_pip),
    "csv_cleanup.yml": ((), check_csv_cleanup),
    "git_project.yml": ((), check_git_project),
    "namespace_module.yml": ((), check_namespace_module),
    "outputs_between_tasks.yml": ((), check_outputs_between_tasks),
    "failing_with_errors.yml": ((), check_failing_with_errors),
    "foreach_files.yml": ((), check_foreach_files),
    "kestra_package.yml": ((), check_kestra_package),
    "parallel_fanout.yml": ((), check_parallel_fanout),
    "webhook_echo.yml": ((), check_webhook_echo),
    "weekday_digest.yml": ((), check_weekday_digest),
    "data_pipeline.yml": ((), check_data_pipeline),
    "s3TriggerCommands.yml": (FIRE_S3, check_s3_trigger_commands),
}


def test_every_sample_flow_is_run_by_this_module():
    assert {p.name for p in discover_flow_files(SAMPLES)} == set(FLOWS)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_sample_flow_succeeds_on_the_process_runner(samples: Samples, name: str) -> None:
    extra, check = FLOWS[name]
    ran = samples.run(name, "process", *extra)
    check(ran, samples)
    assert all(runner == "process" for runner in ran.script_runners()), ran.script_runners()


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_sample_flow_succeeds_in_containers_under_runner_auto(samples: Samples, docker_up: None,
                                                              name: str) -> None:
    extra, check = FLOWS[name]
    ran = samples.run(name, "auto", *extra)
    check(ran, samples)
    runners = ran.script_runners()
    if runners:  # flows without a script task (hello, data_pipeline...) have nothing to contain
        assert any(runner.startswith("docker ") for runner in runners), runners


def test_a_fresh_clone_without_the_sample_repos_is_told_to_run_make_run(samples: Samples,
                                                                        tmp_path: Path) -> None:
    flows = copy_samples(tmp_path / "sample_flows")
    ran = samples.run("s3TriggerCommands.yml", "process", *FIRE_S3, flows=flows)
    assert ran.state == "FAILED"
    [message] = [m for m in ran.logs_of("cloneRepo") if "does not exist" in m]
    assert message.endswith("create it with `make run` or `python scripts/sample_repos.py`")
    assert (flows / ".repos" / "examples.git").as_uri() in message


def test_the_seed_s3_trigger_fires_on_a_real_bucket_and_archives_the_object(samples: Samples) -> None:
    """`roost triggers` on the seed flow, configured only by sample_flows/roost.toml (the
    endpoint, the secrets file): an object under raw/ starts the flow, which cleans it, and
    the object moves to archive/raw/."""
    import boto3

    client = boto3.session.Session().client(
        "s3", endpoint_url=samples.s3_endpoint, region_name="us-east-1",
        aws_access_key_id="any", aws_secret_access_key="any")
    bucket = samples.services.TRIGGER_BUCKET
    client.put_object(Bucket=bucket, Key="raw/messy_customers.csv",
                      Body=(samples.flows / "data" / "messy_customers.csv").read_bytes())
    log = samples.home.parent / "triggers.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "triggers", str(samples.flows / "s3TriggerCommands.yml"),
             "--runner", "process", "--webhook-port", "0"],
            stdout=output, stderr=subprocess.STDOUT, env=samples.environ, cwd=samples.flows)
    try:
        finished = wait_for_line(log, "of company.team.s3TriggerCommands ", process, timeout=180)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert " SUCCESS" in finished, log.read_text()
    execution_id = finished.split()[1]
    history = History(samples.home / "history.db")
    try:
        [execution] = [e for e in history.list_executions(flow_id="s3TriggerCommands") if e.id == execution_id]
        runs = {r.task_id: r for r in history.task_runs(execution_id)}
    finally:
        history.close()
    assert [o["key"] for o in execution.trigger["objects"]] == ["raw/messy_customers.csv"]
    listed = [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    # moto keeps one store per process, shared with the other S3 tests: only our key counts
    assert [key for key in listed if key.endswith("/messy_customers.csv")] == ["archive/raw/messy_customers.csv"]
    client.delete_object(Bucket=bucket, Key="archive/raw/messy_customers.csv")
    captured = runs["wdir"].outputs["outputFiles"]
    assert InternalStorage(samples.home / "storage").read_bytes(captured["clean_dataset.csv"]).decode() == CLEANED


def wait_for_line(path: Path, needle: str, process: subprocess.Popen[bytes], timeout: float) -> str:
    """The first line of the file at `path` holding `needle`, once the process has written it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines():
            if needle in line:
                return line
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"no line with {needle!r} from `roost triggers`:\n{path.read_text()[-3000:]}")


def test_sample_repos_are_reproducible_and_rebuilt_only_when_their_files_change(tmp_path: Path) -> None:
    sample_repos = load_script("sample_repos")
    first, second = copy_samples(tmp_path / "one"), copy_samples(tmp_path / "two")
    (second / "repos" / "examples" / "scripts" / "__pycache__").mkdir()
    (second / "repos" / "examples" / "scripts" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    [(repo, commit, written)] = sample_repos.build_all(first)
    assert written and repo == first / ".repos" / "examples.git"
    assert sample_repos.build_all(second)[0][1:] == (commit, True)  # same files, same commit id
    assert sample_repos.build_all(first)[0][1:] == (commit, False)  # up to date: left alone
    script = first / "repos" / "examples" / "scripts" / "clean_messy_dataset.py"
    script.write_text(script.read_text() + "# changed\n")
    [(_, changed, written)] = sample_repos.build_all(first)
    assert written and changed != commit
    listed = subprocess.run(["git", f"--git-dir={repo}", "ls-tree", "-r", "--name-only", "main"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert listed == ["README.md", "scripts/clean_messy_dataset.py"]
