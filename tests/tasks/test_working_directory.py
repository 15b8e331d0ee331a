"""WorkingDirectory as Kestra runs it: shared directory, order of preparation, capture, errors."""

from __future__ import annotations

from pathlib import Path

from engine.core.errors import InvalidFlowError
from engine.core.states import State
from engine.store.storage import InternalStorage

HEADER = "id: wd\nnamespace: company.team\n"


def storage_text(engine, uri: str) -> str:
    return InternalStorage(engine.home.storage).read_bytes(uri).decode()


def test_children_share_files_and_see_earlier_outputs(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      config.json: '{"rows": 3}'
      "sub/dir/note.txt": "nested {{ flow.id }}"
    outputFiles:
      - "*.csv"
    tasks:
      - id: write
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - echo "$(cat config.json)"
          - echo "$(cat sub/dir/note.txt)"
          - printf 'a,b\\n1,2\\n' > data.csv
          - echo '::{"outputs":{"made":"data.csv"}}::'
      - id: read
        type: io.kestra.plugin.scripts.python.Commands
        commands:
          - python -c "print(open('{{ outputs.write.vars.made }}').read().splitlines()[1])"
""")
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("write") == ['{"rows": 3}', "nested wd"]
    assert result.logs("read") == ["1,2"]
    wdir = result.run_of("wdir")
    assert result.run_of("write").parent_task_run_id == wdir.id
    assert result.run_of("read").parent_task_run_id == wdir.id
    uri = wdir.outputs["outputFiles"]["data.csv"]
    assert uri == (f"kestra:///company/team/wd/executions/{result.execution.id}/tasks/wdir/{wdir.id}/data.csv")
    assert storage_text(engine, uri) == "a,b\n1,2\n"


def test_captured_files_leave_the_directory(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["out.txt"]
    tasks:
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["echo hi > out.txt", "echo keep > other.txt"]
""")
    directory = Path(result.run_of("make").working_dir)
    assert not (directory / "out.txt").exists()
    assert (directory / "other.txt").read_text() == "keep\n"


def test_no_output_files_key_when_nothing_captured(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["*.parquet"]
    tasks:
      - id: noop
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["true"]
""")
    assert result.state == "SUCCESS"
    assert result.run_of("wdir").outputs == {}


def test_failed_child_stops_working_directory_but_captures_outputs(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["partial.csv"]
    tasks:
      - id: first
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["echo 'x,y' > partial.csv", "echo '::{\\"outputs\\":{\\"ok\\":1}}::'"]
      - id: broken
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["echo about to fail", "exit 7"]
      - id: never
        type: io.kestra.plugin.core.log.Log
        message: nope
    errors:
      - id: handler
        type: io.kestra.plugin.core.log.Log
        message: "handled; first said {{ outputs.first.vars.ok }}"
""")
    assert result.state == "FAILED"
    assert result.states() == {"wdir": "FAILED", "first": "SUCCESS", "broken": "FAILED", "handler": "SUCCESS"}
    broken = result.run_of("broken")
    assert broken.outputs["exitCode"] == 7
    assert "about to fail" in result.logs("broken")
    assert storage_text(engine, result.run_of("wdir").outputs["outputFiles"]["partial.csv"]) == "x,y\n"
    assert result.run_of("handler").working_dir is None
    assert result.logs("handler") == ["handled; first said 1"]


def test_allow_failure_child_lets_the_loop_continue(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: soft
        type: io.kestra.plugin.scripts.shell.Commands
        allowFailure: true
        commands: ["exit 1"]
      - id: next
        type: io.kestra.plugin.core.log.Log
        message: continued
""")
    assert result.states() == {"wdir": "WARNING", "soft": "WARNING", "next": "SUCCESS"}


def test_disabled_child_has_no_task_run_and_run_if_false_is_skipped(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: off
        type: io.kestra.plugin.core.log.Log
        message: x
        disabled: true
      - id: skip
        type: io.kestra.plugin.core.log.Log
        message: x
        runIf: "false"
""")
    assert result.states() == {"wdir": "SUCCESS", "skip": "SKIPPED"}


def test_flowable_child_is_a_validation_error(engine):
    try:
        engine.load(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: par
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - id: a
            type: io.kestra.plugin.core.log.Log
            message: x
""")
    except InvalidFlowError as exc:
        assert "Only runnable tasks are allowed as children of a WorkingDirectory task" in str(exc)
        assert ":8:9:" in str(exc)  # the offending child, not its parent
    else:
        raise AssertionError("expected a validation error")


def test_input_file_escaping_the_directory_fails_before_children(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      "../escape.txt": boom
    tasks:
      - id: child
        type: io.kestra.plugin.core.log.Log
        message: never
""")
    assert result.state == "FAILED"
    assert result.states() == {"wdir": "FAILED"}
    assert any("escape" in line for line in result.logs("wdir"))
    assert not (engine.home.workdirs / "escape.txt").exists()


def test_input_files_copy_storage_uris_from_earlier_tasks(engine):
    result = engine.run(HEADER + """
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["made.txt"]
    commands: ["echo produced > made.txt"]
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      copy.txt: "{{ outputs.produce.outputFiles['made.txt'] }}"
    tasks:
      - id: show
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["cat copy.txt"]
""")
    assert result.logs("show") == ["produced"]


def test_cache_restores_files_on_the_next_execution(engine):
    flow = HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      patterns: ["deps/**"]
      ttl: PT1H
    tasks:
      - id: build
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - if [ -f deps/lib.txt ]; then echo "cache hit"; else mkdir -p deps && echo v1 > deps/lib.txt && echo "cache miss"; fi
"""
    assert engine.run(flow).logs("build") == ["cache miss"]
    assert engine.run(flow).logs("build") == ["cache hit"]


def test_last_run_directory_is_kept_and_older_ones_removed(engine):
    flow = HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: touch
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["echo run > marker.txt"]
"""
    first = engine.run(flow)
    first_dir = Path(first.run_of("touch").working_dir)
    assert (first_dir / "marker.txt").is_file()
    assert any("working directories kept at" in line for line in first.logs())
    second = engine.run(flow)
    assert not first_dir.exists()
    assert (Path(second.run_of("touch").working_dir) / "marker.txt").is_file()


def test_clean_and_keep_workdir_options(engine):
    from engine.execution.runtime import RunOptions

    flow = HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: touch
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["true"]
"""
    cleaned = engine.run(flow, options=RunOptions(keep_workdir=False))
    assert not Path(cleaned.run_of("touch").working_dir).exists()
    kept1 = engine.run(flow, options=RunOptions(keep_workdir=True))
    kept2 = engine.run(flow, options=RunOptions(keep_workdir=True))
    assert Path(kept1.run_of("touch").working_dir).exists()
    assert Path(kept2.run_of("touch").working_dir).exists()


def test_legacy_alias_runs_the_same_task(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.core.tasks.flows.WorkingDirectory
    tasks:
      - id: a
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["pwd"]
""")
    assert result.state == "SUCCESS"
    assert result.logs("a") == [result.run_of("a").working_dir]
    assert result.run_of("wdir").state is State.SUCCESS
