"""The task tree as data: nesting, branches, ForEach iterations, runs matched by key."""

from __future__ import annotations

import textwrap

from engine.core.records import TaskRun
from engine.core.states import State
from engine.flow.loader import load_flow_text
from tui.models.task_nodes import TaskNode, build_task_nodes, short_type

FLOW = textwrap.dedent("""
    id: nodes
    namespace: tui.tests
    tasks:
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: ["a", "b"]
        tasks:
          - id: inner
            type: io.kestra.plugin.core.log.Log
            message: hi
      - id: gate
        type: io.kestra.plugin.core.flow.If
        condition: "true"
        then:
          - id: yes
            type: io.kestra.plugin.core.log.Log
            message: yes
        else:
          - id: no
            type: io.kestra.plugin.core.log.Log
            message: no
    errors:
      - id: alert
        type: io.kestra.plugin.core.log.Log
        message: failed
    finally:
      - id: cleanup
        type: io.kestra.plugin.core.log.Log
        message: done
""")


def run(run_id: str, task_id: str, parent: str | None = None, value_path: tuple[str, ...] = (),
        state: State = State.SUCCESS) -> TaskRun:
    return TaskRun(id=run_id, execution_id="e", task_id=task_id, task_type="t",
                   parent_task_run_id=parent, value=value_path[-1] if value_path else None,
                   value_path=value_path).with_state(state)


def labels(nodes: list[TaskNode], depth: int = 0) -> list[str]:
    out = []
    for node in nodes:
        out.append("  " * depth + f"{node.kind}:{node.label}"
                   + (f"={node.task_run.state.value}" if node.task_run else ""))
        out.extend(labels(node.children, depth + 1))
    return out


def test_definitions_only_show_nesting_and_branches() -> None:
    flow = load_flow_text(FLOW, "nodes.yml")
    assert labels(build_task_nodes(flow)) == [
        "task:each", "  task:inner",
        "task:gate", "  branch:then", "    task:yes", "  branch:else", "    task:no",
        "branch:errors", "  task:alert",
        "branch:finally", "  task:cleanup",
    ]
    assert build_task_nodes(flow)[0].task_type == "flow.ForEach"


def test_foreach_runs_become_iterations_with_their_values() -> None:
    flow = load_flow_text(FLOW, "nodes.yml")
    runs = [
        run("r1", "each"),
        run("r2", "inner", "r1", ("a",)),
        run("r3", "inner", "r1", ("b",), State.FAILED),
        run("r4", "gate"),
        run("r5", "yes", "r4"),
        run("r6", "alert"),
    ]
    nodes = build_task_nodes(flow, runs)
    assert labels(nodes) == [
        "task:each=SUCCESS", "  iter:a", "    task:inner=SUCCESS", "  iter:b", "    task:inner=FAILED",
        "task:gate=SUCCESS", "  branch:then", "    task:yes=SUCCESS", "  branch:else", "    task:no",
        "branch:errors", "  task:alert=SUCCESS",
        "branch:finally", "  task:cleanup",
    ]
    assert nodes[0].children[1].key == ("iter", "each", ("b",))
    assert nodes[0].children[1].children[0].key == ("task", "inner", ("b",))


def test_short_type_keeps_the_last_two_segments() -> None:
    assert short_type("io.kestra.plugin.scripts.python.Script") == "python.Script"
    assert short_type("Log") == "Log"
