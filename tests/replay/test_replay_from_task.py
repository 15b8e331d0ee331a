"""Replay from a task: reuse what ran before it, restore its working directory byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.core.config import RoostConfig
from engine.core.events import TaskFilesChanged
from engine.execution.executor import Executor
from engine.execution.replay import ReplayError, prepare_replay
from engine.execution.runtime import RunOptions
from engine.flow.loader import load_flow
from tests.conftest import REPO_ROOT, Engine, RunResult

FLOW = """
id: replayable
namespace: dev.replay
inputs:
  - id: capture
    type: STRING
tasks:
  - id: prep
    type: io.kestra.plugin.core.debug.Return
    format: "prepared"
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      input.txt: "from inputFiles"
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {type: io.kestra.plugin.core.runner.Process}
        commands:
          - echo run >> {{ inputs.capture }}/make-runs.log
          - mkdir -p data/empty sub
          - printf 'one\\n' > data/one.txt
          - head -c 300000 /dev/urandom > data/blob.bin
          - chmod 750 data/one.txt
          - ln -s data/one.txt link
          - echo '::{"outputs":{"made":"yes"}}::'
      - id: change
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {type: io.kestra.plugin.core.runner.Process}
        commands:
          - cp -a . {{ inputs.capture }}/{{ execution.id }}
          - echo changed >> data/one.txt
          - rm data/blob.bin
          - echo new > sub/new.txt
          - test -f fixed.flag
      - id: after
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.prep.value }} / {{ outputs.make.vars.made }}"
"""

FIXED = FLOW.replace("test -f fixed.flag", "echo fixed")


def run_flow(engine: Engine, options: RunOptions | None = None, *, original_id: str | None = None,
             flow=None, inputs=None) -> RunResult:  # noqa: ANN001
    executor = Executor(engine.runtime)
    events: list = []
    executor.bus.subscribe(events.append)
    flow = flow or load_flow(engine.flow_dir / "flow.yml")
    handle = executor.prepare(flow, inputs, options=options, original_id=original_id)
    executor.start(handle)
    execution = handle.wait(120)
    assert handle.done
    engine.runtime.history.flush()
    return RunResult(execution, handle.task_runs(), events)


def replay(engine: Engine, execution_id: str, task_id: str) -> RunResult:
    prepared = prepare_replay(engine.runtime, execution_id, task_id)
    return run_flow(engine, RunOptions(replay=prepared.plan), original_id=execution_id,
                    flow=prepared.flow, inputs=prepared.inputs)


def tree(root: Path) -> dict[str, tuple]:
    """Every entry under root: kind, bytes (files), target (links), permission bits, mtime."""
    entries: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            entries[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            entries[relative] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            entries[relative] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode), info.st_mtime_ns)
    return entries


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    folder = tmp_path / "capture"
    folder.mkdir()
    return folder


def test_replay_restores_the_directory_byte_for_byte_and_reuses_earlier_tasks(engine: Engine, capture: Path) -> None:
    engine.load(FLOW)
    first = run_flow(engine, inputs={"capture": str(capture)})
    assert first.state == "FAILED"
    assert first.states()["change"] == "FAILED"
    engine.load(FIXED)  # the user fixes the YAML, then replays from the failed task

    second = replay(engine, first.execution.id, "change")

    assert second.state == "SUCCESS", second.logs()
    assert second.execution.original_id == first.execution.id
    assert (capture / "make-runs.log").read_text() == "run\n"  # `make` was reused, not run again
    assert second.run_of("make").outputs == first.run_of("make").outputs
    assert second.run_of("prep").outputs == {"value": "prepared"}
    assert second.run_of("after").outputs == {"value": "prepared / yes"}
    assert any("reused from execution" in line for line in second.logs("make"))
    reused_changes = [e for e in second.events if isinstance(e, TaskFilesChanged) and e.task_id == "make"]
    assert len(reused_changes) == 1 and reused_changes[0].task_run_id == second.run_of("make").id
    assert "data/one.txt" in {c.path for c in reused_changes[0].changes.added}
    assert any("working directory restored as it was before 'change'" in line for line in second.logs("wd"))
    original = tree(capture / first.execution.id)
    restored = tree(capture / second.execution.id)
    assert restored == original
    assert original["data/one.txt"][1] == b"one\n" and original["data/one.txt"][2] == 0o750
    assert len(original["data/blob.bin"][1]) == 300000
    assert original["link"] == ("link", "data/one.txt")
    assert original["data/empty"][0] == "dir"
    assert original["input.txt"][1] == b"from inputFiles"


def test_a_replay_can_itself_be_replayed(engine: Engine, capture: Path) -> None:
    engine.load(FLOW)
    first = run_flow(engine, inputs={"capture": str(capture)})
    second = replay(engine, first.execution.id, "change")
    assert second.state == "FAILED"  # still broken: nothing was fixed
    engine.load(FIXED)
    third = replay(engine, second.execution.id, "change")
    assert third.state == "SUCCESS", third.logs()
    assert tree(capture / third.execution.id) == tree(capture / first.execution.id)


def test_replay_from_a_task_after_the_working_directory_reuses_it_whole(engine: Engine, capture: Path) -> None:
    engine.load(FIXED)
    first = run_flow(engine, inputs={"capture": str(capture)})
    assert first.state == "SUCCESS"
    second = replay(engine, first.execution.id, "after")
    assert second.state == "SUCCESS"
    assert {r.task_id for r in second.task_runs} == {"prep", "wd", "make", "change", "after"}
    assert (capture / "make-runs.log").read_text() == "run\n"
    assert not (capture / second.execution.id).exists()  # `change` was not run again
    assert second.run_of("after").outputs == {"value": "prepared / yes"}


def test_a_missing_snapshot_is_reported_with_a_full_rerun_offered(engine: Engine, capture: Path) -> None:
    engine.load(FLOW)
    first = run_flow(engine, inputs={"capture": str(capture)})
    shutil.rmtree(engine.home.snapshots / first.execution.id)
    with pytest.raises(ReplayError) as caught:
        prepare_replay(engine.runtime, first.execution.id, "change")
    assert caught.value.full_rerun_possible
    assert "no snapshot of the working directory of 'wd' before 'change'" in caught.value.message
    assert "Run the whole flow again" in caught.value.message


def test_the_snapshot_cap_stops_snapshots_and_the_replay_says_why(engine: Engine, capture: Path) -> None:
    engine.with_config(RoostConfig(snapshot_cap_bytes=100_000))  # blob.bin alone is 300 kB
    engine.load(FLOW)
    first = run_flow(engine, inputs={"capture": str(capture)})
    assert any("snapshots stop here" in line for line in first.logs(min_level="WARN"))
    with pytest.raises(ReplayError) as caught:
        prepare_replay(engine.runtime, first.execution.id, "change")
    assert "cap" in caught.value.message
    assert caught.value.full_rerun_possible


def test_replay_of_unknown_things_says_what_exists(engine: Engine, capture: Path) -> None:
    engine.load(FLOW)
    first = run_flow(engine, inputs={"capture": str(capture)})
    with pytest.raises(ReplayError, match="no execution 'nope'"):
        prepare_replay(engine.runtime, "nope", "change")
    with pytest.raises(ReplayError, match=r"task 'ghost' is not in .* \(its tasks: prep, wd, make"):
        prepare_replay(engine.runtime, first.execution.id, "ghost")
    with pytest.raises(ReplayError, match=r"task 'after' did not run in execution"):
        prepare_replay(engine.runtime, first.execution.id, "after")


def test_foreach_iterations_before_the_task_are_reused_with_their_outputs(engine: Engine) -> None:
    engine.load("""
        id: loops
        namespace: dev.replay
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["x", "y"]
            tasks:
              - id: inner
                type: io.kestra.plugin.core.debug.Return
                format: "got {{ taskrun.value }}"
          - id: last
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.inner.x.value }} and {{ outputs.inner.y.value }}"
        """)
    first = run_flow(engine)
    second = replay(engine, first.execution.id, "last")
    assert second.state == "SUCCESS"
    assert second.states() == {"each": "SUCCESS", "inner[x]": "SUCCESS", "inner[y]": "SUCCESS",
                               "last": "SUCCESS"}
    assert second.run_of("last").outputs == {"value": "got x and got y"}


def cli(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], input=stdin, capture_output=True,
                          text=True, env={**os.environ, "ROOST_HOME": str(home)}, cwd=REPO_ROOT, timeout=120)


def test_roost_replay_on_the_command_line(tmp_path: Path, capture: Path) -> None:
    home = tmp_path / "home"
    flow = tmp_path / "flow.yml"
    flow.write_text(textwrap.dedent(FLOW))
    first = cli("run", str(flow), "-i", f"capture={capture}", "--json", home=home)
    assert first.returncode == 1
    original = json.loads(first.stdout)["id"]
    flow.write_text(textwrap.dedent(FIXED))
    second = cli("replay", original, "--from", "change", "--json", home=home)
    assert second.returncode == 0, second.stderr
    assert f"replaying {original} from 'change': 2 task run(s) reused, working directory restored" in second.stderr
    replayed = json.loads(second.stdout)
    assert replayed["originalId"] == original
    assert tree(capture / replayed["id"]) == tree(capture / original)
    listing = cli("executions", home=home)
    assert replayed["id"][:8] in listing.stdout


def test_roost_replay_without_snapshot_offers_and_runs_a_full_rerun(tmp_path: Path, capture: Path) -> None:
    home = tmp_path / "home"
    flow = tmp_path / "flow.yml"
    flow.write_text(textwrap.dedent(FIXED))
    original = json.loads(cli("run", str(flow), "-i", f"capture={capture}", "--json", home=home).stdout)["id"]
    shutil.rmtree(home / "snapshots" / original)
    refused = cli("replay", original, "--from", "change", home=home)
    assert refused.returncode == 2
    assert "cannot replay: no snapshot" in refused.stderr
    assert f"roost replay {original} --from change --full-rerun" in refused.stderr
    assert "Traceback" not in refused.stderr
    rerun = cli("replay", original, "--from", "change", "--full-rerun", "--json", home=home)
    assert rerun.returncode == 0, rerun.stderr
    assert (capture / "make-runs.log").read_text() == "run\nrun\n"  # everything ran again
