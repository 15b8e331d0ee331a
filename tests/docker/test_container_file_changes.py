"""A container's writes through the bind-mounted working directory reach the inotify watch."""

from __future__ import annotations

from engine.core.events import TaskFilesChanged
from engine.execution.runtime import RunOptions
from engine.workdir import manifest as manifest_module
from engine.workdir import rescan as rescan_module

FLOW = """
id: container_changes
namespace: dev.docker
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: on_host
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {type: io.kestra.plugin.core.runner.Process}
        commands:
          - mkdir -p data && echo host > data/host.txt
      - id: in_container
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: ubuntu
        commands:
          - echo container > data/host.txt
          - mkdir -p made/inside && echo new > made/inside/new.txt
"""


def test_files_a_container_writes_are_its_changes_without_walking_the_directory(engine, docker, monkeypatch):
    walks: list[str] = []
    real_scan, real_walk = manifest_module.scan, rescan_module.walk_watching
    monkeypatch.setattr(manifest_module, "scan", lambda *a, **k: walks.append("scan") or real_scan(*a, **k))
    monkeypatch.setattr(rescan_module, "walk_watching",
                        lambda *a, **k: walks.append("walk") or real_walk(*a, **k))

    result = engine.run(FLOW, options=RunOptions(runner="docker"))

    assert result.state == "SUCCESS", result.logs()
    changes = [e for e in result.events if isinstance(e, TaskFilesChanged) and e.task_id == "in_container"]
    assert [(c.path, c.kind.value) for c in changes[0].changes.changes] == [
        ("data/host.txt", "modified"), ("made/inside/new.txt", "added")]
    assert walks == ["walk"]  # the first task's "before" only: the watch saw the rest
