"""Per-task work the executor skips: literal properties render without the template engine,
and `tasks.<id>.state` is kept up to date instead of rebuilt at every render (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import REPO_ROOT

LITERAL_FLOW = """\
id: literal
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: [hello, "a lone {# is no template"]
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env: {GREETING: "hi {#"}
    commands: ["true", "echo $GREETING"]
"""


def test_a_flow_with_only_literal_properties_runs_without_importing_jinja(tmp_path):
    flow = tmp_path / "literal.yml"
    flow.write_text(LITERAL_FLOW)
    code = textwrap.dedent(f"""\
        import sys
        from pathlib import Path
        from engine.core.config import RoostConfig, RoostHome
        from engine.execution.executor import Executor
        from engine.execution.runtime import Runtime
        from engine.flow.loader import load_flow
        runtime = Runtime.create(RoostHome(Path({str(tmp_path / 'home')!r})), RoostConfig())
        execution = Executor(runtime).run(load_flow(Path({str(flow)!r})))
        runtime.close()
        print(execution.state.value, "jinja2" in sys.modules)
        """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            env={**os.environ, "ROOST_HOME": str(tmp_path / "home")}, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "SUCCESS False", result.stderr


def test_literal_list_and_map_properties_are_kept_as_rendered(engine):
    result = engine.run(LITERAL_FLOW)
    assert result.state == "SUCCESS"
    shell = result.run_of("shell")
    assert shell.rendered["commands"] == ["true", "echo $GREETING"]
    assert shell.rendered["env"] == {"GREETING": "hi {#"}
    assert type(shell.rendered["env"]) is dict  # a plain map, as rendering gives, not the YAML's


def test_tasks_variable_follows_each_state_change_and_foreach_value(engine):
    result = engine.run("""
id: states
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: child
        type: io.kestra.plugin.core.debug.Return
        format: "{{ tasks.child[taskrun.value].state }}"
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: "{{ tasks.child | json }} {{ tasks.last.state }} {{ tasks | keys | join(',') }}"
""")
    assert [run.outputs["value"] for run in result.task_runs if run.task_id == "child"] == ["RUNNING"] * 2
    assert result.run_of("last").outputs["value"] == (
        '{"a":{"state":"SUCCESS"},"b":{"state":"SUCCESS"}} RUNNING each,child,last')
