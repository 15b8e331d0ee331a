"""Sleep, WaitFor/LoopUntil, Dag and Template, pinned on Kestra's outcomes (states, task runs, outputs)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.core.errors import InvalidFlowError
from engine.core.events import Event, TaskRunChanged
from engine.core.records import TaskRun
from engine.core.states import State
from engine.execution.executor import Executor

HEADER = "id: control\nnamespace: company.team\n"


def _started(run: TaskRun):
    return next(entry.date for entry in run.histories if entry.state is State.RUNNING)


def _ended(run: TaskRun):
    assert run.end_date is not None
    return run.end_date


def _run_until_running(engine, text: str, task_id: str, then_cancel: bool = True):
    """Start a flow, cancel it once `task_id` is RUNNING; the finished execution and its task runs."""
    flow = engine.load(text)
    executor = Executor(engine.runtime)
    running = threading.Event()

    def seen(event: Event) -> None:
        if isinstance(event, TaskRunChanged) and event.task_run.task_id == task_id \
                and event.task_run.state is State.RUNNING:
            running.set()

    executor.bus.subscribe(seen)
    handle = executor.start(executor.prepare(flow))
    assert running.wait(60)
    handle.cancel()
    execution = handle.wait(60)
    assert handle.done, "the cancel did not stop the execution"
    return execution, handle.task_runs()


# --- Sleep ----------------------------------------------------------------------------------

def test_sleep_waits_its_duration_then_succeeds(engine):
    result = engine.run(HEADER + """
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.1S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: awake
""")
    assert result.state == "SUCCESS"
    nap = result.run_of("nap")
    assert nap.outputs == {}
    assert "Waiting for PT0.1S" in result.logs("nap")
    assert _started(result.run_of("after")) >= _ended(nap)


def test_sleep_is_interrupted_by_cancel(engine):
    execution, runs = _run_until_running(engine, HEADER + """
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT10M
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: x
""", "nap")
    assert execution.state is State.KILLED
    assert {r.task_id: r.state for r in runs} == {"nap": State.KILLED}


def test_sleep_longer_than_its_timeout_fails(engine):
    result = engine.run(HEADER + """
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT10M
    timeout: PT0.1S
""")
    assert result.state == "FAILED"
    assert result.run_of("nap").state is State.FAILED
    assert any("timed out" in line for line in result.logs("nap"))


def test_sleep_without_duration_is_refused_at_load(engine):
    with pytest.raises(InvalidFlowError, match="missing required property 'duration'"):
        engine.load(HEADER + """
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
""")


def test_sleep_duration_that_is_not_iso_is_refused_at_load(engine):
    with pytest.raises(InvalidFlowError, match="'duration' must be an ISO-8601 duration"):
        engine.load(HEADER + """
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: five seconds
""")


# --- WaitFor / LoopUntil ----------------------------------------------------------------------

def _loop(type_name: str, condition: str, frequency: str, extra: str = "", children: str = "") -> str:
    return HEADER + f"""
tasks:
  - id: loop
    type: {type_name}
    condition: "{condition}"
    checkFrequency:
{frequency}
{extra}
    tasks:
      - id: count
        type: io.kestra.plugin.core.output.OutputValues
        values:
          n: "{{{{ outputs.loop.iterationCount + 1 }}}}"
{children}
"""


FAST = "      interval: PT0.01S"


@pytest.mark.parametrize("type_name", ["io.kestra.plugin.core.flow.WaitFor",
                                       "io.kestra.plugin.core.flow.LoopUntil"])
def test_waitfor_runs_its_tasks_until_the_condition_is_true(engine, type_name):
    result = engine.run(_loop(type_name, "{{ outputs.count.values.n == '4' }}", FAST))
    assert result.state == "SUCCESS"
    counts = result.runs_of("count")
    # iterationCount is 1, 2, 3 while the passes run: n is 2, 3, 4 and the third pass stops it.
    assert [r.outputs["values"]["n"] for r in counts] == ["2", "3", "4"]
    assert all(r.parent_task_run_id == result.run_of("loop").id for r in counts)
    # As Kestra's: iterationCount goes up after every pass that succeeded, the last one too.
    assert result.run_of("loop").outputs == {"iterationCount": 4}


def test_waitfor_stops_after_one_pass_when_the_condition_is_true_at_once(engine):
    result = engine.run(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n != '4' }}", FAST))
    assert result.state == "SUCCESS"
    assert len(result.runs_of("count")) == 1
    assert result.run_of("loop").outputs == {"iterationCount": 2}


def test_waitfor_children_see_their_pass_as_taskrun_iteration(engine):
    result = engine.run(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n == '4' }}", FAST,
                              children="""      - id: which
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.iteration }}"
"""))
    assert result.state == "SUCCESS"
    which = result.runs_of("which")
    assert [r.outputs["value"] for r in which] == ["1", "2", "3"]
    assert [r.iteration for r in which] == [1, 2, 3]
    assert [r.iteration for r in result.runs_of("count")] == [1, 2, 3]
    assert result.run_of("loop").iteration is None
    assert result.run_of("loop").to_json().get("iteration") is None
    assert which[1].to_json()["iteration"] == 2


def test_waitfor_max_iterations_reached_without_fail_on_max_reached_succeeds(engine):
    result = engine.run(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n == '10' }}",
                              FAST + "\n      maxIterations: 3"))
    assert result.state == "SUCCESS"
    assert result.run_of("loop").state is State.SUCCESS
    assert len(result.runs_of("count")) == 3
    assert result.run_of("loop").outputs == {"iterationCount": 4}
    assert "Max iterations reached" in result.logs("loop", "WARN")


def test_waitfor_max_iterations_reached_with_fail_on_max_reached_fails(engine):
    result = engine.run(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n == '10' }}",
                              FAST + "\n      maxIterations: 3", extra="    failOnMaxReached: true"))
    assert result.state == "FAILED"
    assert result.run_of("loop").state is State.FAILED
    assert len(result.runs_of("count")) == 3
    assert result.run_of("loop").outputs == {"iterationCount": 4}
    assert any("failOnMaxReached" in line for line in result.logs("loop", "ERROR"))


def test_waitfor_max_duration_reached_with_fail_on_max_reached_fails(engine):
    result = engine.run(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n == '-5' }}",
                              "      interval: PT0.05S\n      maxDuration: PT0.2S",
                              extra="    failOnMaxReached: true"))
    assert result.state == "FAILED"
    assert "Max duration reached" in result.logs("loop", "WARN")
    passes = len(result.runs_of("count"))
    assert passes >= 2  # the 0.2 s cannot pass before a 0.05 s interval did
    assert result.run_of("loop").outputs == {"iterationCount": passes + 1}


def test_waitfor_max_duration_reached_without_fail_on_max_reached_succeeds(engine):
    result = engine.run(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n == '-5' }}",
                              "      interval: PT0.05S\n      maxDuration: PT0.1S"))
    assert result.state == "SUCCESS"
    assert "Max duration reached" in result.logs("loop", "WARN")


def test_waitfor_a_failed_pass_ends_the_loop_and_runs_its_errors(engine):
    result = engine.run(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n == '6' }}",
                              FAST + "\n      maxIterations: 5",
                              extra="""    errors:
      - id: on_error
        type: io.kestra.plugin.core.log.Log
        message: loop failed""",
                              children="""      - id: boom
        type: io.kestra.core.tasks.executions.Fail
"""))
    assert result.state == "FAILED"
    assert len(result.runs_of("count")) == 1
    assert result.run_of("boom").attempts == 1
    assert result.run_of("on_error").state is State.SUCCESS
    assert result.run_of("loop").outputs == {"iterationCount": 1}


def test_waitfor_cancel_during_the_interval_kills_it(engine):
    execution, runs = _run_until_running(engine, _loop(
        "io.kestra.plugin.core.flow.WaitFor", "{{ outputs.count.values.n == '10' }}",
        "      interval: PT10M", children="""      - id: tick
        type: io.kestra.plugin.core.log.Log
        message: tick
"""), "loop")
    assert execution.state is State.KILLED
    loop = next(r for r in runs if r.task_id == "loop")
    assert loop.state is State.KILLED


def test_waitfor_unknown_check_frequency_key_is_refused_at_load(engine):
    with pytest.raises(InvalidFlowError, match="checkFrequency: unknown key 'maxIteration'"):
        engine.load(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ true }}", "      maxIteration: 3"))


def test_waitfor_bad_check_frequency_duration_is_refused_at_load(engine):
    with pytest.raises(InvalidFlowError, match=r"checkFrequency\.interval"):
        engine.load(_loop("io.kestra.plugin.core.flow.WaitFor", "{{ true }}", "      interval: soon"))


# --- Dag ------------------------------------------------------------------------------------

def _dag_item(task_id: str, depends: list[str], task: str | None = None) -> str:
    body = task or ("          type: io.kestra.plugin.core.log.Log\n"
                    "          message: \"{{ task.id }} ran\"\n")
    item = f"      - task:\n          id: {task_id}\n{body}"
    if depends:
        item += "        dependsOn:\n" + "".join(f"          - {d}\n" for d in depends)
    return item


def _dag(items: list[str], extra: str = "") -> str:
    return HEADER + "tasks:\n  - id: dag\n    type: io.kestra.plugin.core.flow.Dag\n" + extra + \
        "    tasks:\n" + "".join(items)


DIAMOND = {"fetch": [], "clean": ["fetch"], "stats": ["fetch"], "merge": ["clean"],
           "report": ["merge", "stats"], "audit": ["clean", "stats"]}


def test_dag_runs_each_task_after_the_tasks_it_depends_on(engine):
    # Listed in an order that is not a valid sequence: the Dag orders them, not the list.
    order = ["report", "audit", "merge", "clean", "stats", "fetch"]
    result = engine.run(_dag([_dag_item(t, DIAMOND[t]) for t in order]))
    assert result.state == "SUCCESS"
    assert len(result.task_runs) == 7  # the Dag and its six tasks, each run once
    dag = result.run_of("dag")
    for task_id, depends in DIAMOND.items():
        run = result.run_of(task_id)
        assert run.parent_task_run_id == dag.id
        assert f"{task_id} ran" in result.logs(task_id)
        for dep in depends:
            assert _started(run) >= _ended(result.run_of(dep)), f"{task_id} started before {dep} ended"


def _waits_for(mine: Path, other: Path) -> str:
    """A task that marks itself started, then waits for the other one to have started: two of
    them end only if they run at the same time (one after the other, the first times out)."""
    return ("          type: io.kestra.plugin.scripts.shell.Commands\n"
            "          taskRunner:\n            type: io.kestra.plugin.core.runner.Process\n"
            "          timeout: PT20S\n"
            f"          commands:\n            - touch {mine}\n"
            f"            - while [ ! -f {other} ]; do sleep 0.01; done\n")


def test_dag_runs_independent_branches_in_parallel(engine, tmp_path):
    left_flag, right_flag = tmp_path / "left", tmp_path / "right"
    result = engine.run(_dag([_dag_item("left", [], _waits_for(left_flag, right_flag)),
                              _dag_item("right", [], _waits_for(right_flag, left_flag)),
                              _dag_item("join", ["left", "right"])]))
    assert result.state == "SUCCESS", "the branches did not run side by side"
    left, right = result.run_of("left"), result.run_of("right")
    assert _started(result.run_of("join")) >= max(_ended(left), _ended(right))


def test_dag_concurrent_one_runs_one_task_at_a_time(engine):
    quick = "          type: io.kestra.plugin.core.flow.Sleep\n          duration: PT0.05S\n"
    result = engine.run(_dag([_dag_item("a", [], quick), _dag_item("b", [], quick), _dag_item("c", [], quick)],
                             extra="    concurrent: 1\n"))
    assert result.state == "SUCCESS"
    runs = sorted((result.run_of(t) for t in "abc"), key=_started)
    assert _started(runs[1]) >= _ended(runs[0]) and _started(runs[2]) >= _ended(runs[1])


def test_dag_failure_starts_nothing_new_and_runs_its_errors(engine):
    fail = "          type: io.kestra.plugin.core.execution.Fail\n"
    result = engine.run(_dag([_dag_item("first", [], fail), _dag_item("second", ["first"])],
                             extra="""    errors:
      - id: on_error
        type: io.kestra.plugin.core.log.Log
        message: dag failed
"""))
    assert result.state == "FAILED"
    assert result.run_of("dag").state is State.FAILED
    assert result.runs_of("second") == []
    assert result.run_of("on_error").state is State.SUCCESS


def test_dag_cycle_is_refused_at_validation_naming_the_cycle(engine):
    with pytest.raises(InvalidFlowError) as raised:
        engine.load(_dag([_dag_item("a", ["b"]), _dag_item("b", ["a"]), _dag_item("c", ["b"])]))
    message = str(raised.value)
    assert "task 'dag': Cyclic dependency detected: a, b (a -> b -> a)" in message
    assert len(raised.value.errors) == 1


def test_dag_dependency_on_a_missing_task_is_refused_at_validation(engine):
    with pytest.raises(InvalidFlowError) as raised:
        engine.load(_dag([_dag_item("a", []), _dag_item("b", ["ghost"]), _dag_item("c", ["b"])]))
    assert "task 'dag': Not existing task id in dependency: ghost" in str(raised.value)
    assert len(raised.value.errors) == 1


def test_dag_item_without_task_is_refused_at_load(engine):
    with pytest.raises(InvalidFlowError, match="needs a 'task'"):
        engine.load(HEADER + """
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - dependsOn: [a]
""")


def test_dag_tasks_are_part_of_the_flow_tree(engine):
    flow = engine.load(_dag([_dag_item("a", []), _dag_item("b", ["a"])]))
    dag = flow.find_task("dag")
    assert dag is not None
    assert [t.id for _, tasks in dag.child_task_lists() for t in tasks] == ["a", "b"]
    assert flow.find_task("b") is not None
    with pytest.raises(InvalidFlowError, match=r"Duplicate task id with name \[a\]"):
        engine.load(_dag([_dag_item("a", []), _dag_item("a", [])]))


def test_legacy_dag_name_runs_the_same_task(engine):
    text = _dag([_dag_item("a", []), _dag_item("b", ["a"])]).replace(
        "io.kestra.plugin.core.flow.Dag", "io.kestra.core.tasks.flows.Dag")
    result = engine.run(text)
    assert result.state == "SUCCESS"
    assert _started(result.run_of("b")) >= _ended(result.run_of("a"))


# --- Template -------------------------------------------------------------------------------

TEMPLATE_FLOW = HEADER + """
tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.Template
    namespace: company.team
    templateId: greetings
"""


def test_template_is_accepted_with_a_deprecation_warning(engine):
    flow = engine.load(TEMPLATE_FLOW)
    assert any("task 'shared'" in w and "Template is deprecated" in w for w in flow.warnings)


def test_template_not_found_fails_saying_how_to_inline_it(engine):
    result = engine.run(TEMPLATE_FLOW)
    assert result.state == "FAILED"
    errors = result.logs("shared", "ERROR")
    assert any("template 'company.team.greetings' not found" in line and "deprecated" in line
               and "paste the template's tasks" in line for line in errors)


def test_template_runs_the_tasks_of_a_template_file_beside_the_flow(engine):
    (engine.flow_dir / "greetings.yml").write_text("""id: greetings
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello from the template
""")
    result = engine.run(TEMPLATE_FLOW)
    assert result.state == "SUCCESS"
    assert result.run_of("hello").parent_task_run_id == result.run_of("shared").id
    assert "hello from the template" in result.logs("hello")


def test_template_file_that_is_invalid_fails_naming_it(engine):
    (engine.flow_dir / "templates").mkdir()
    (engine.flow_dir / "templates" / "greetings.yaml").write_text("""id: greetings
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Nope
""")
    result = engine.run(TEMPLATE_FLOW)
    assert result.state == "FAILED"
    assert any("template 'company.team.greetings' is invalid" in line and "greetings.yaml" in line
               for line in result.logs("shared", "ERROR"))
