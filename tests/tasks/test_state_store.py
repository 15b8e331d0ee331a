"""Kestra's legacy state store: state.Set/Get/Delete, kept as KV entries of the flow's namespace."""

from __future__ import annotations

import pytest

from engine.core.murmur3 import hash_to_string
from engine.tasks.state_store import merge, slugify, state_key


def state_flow(flow_id: str, tasks: str, inputs: str = "") -> str:
    return f"id: {flow_id}\nnamespace: company.team\n{inputs}tasks:\n{tasks}"


def test_get_of_a_missing_state_outputs_no_data(engine):
    result = engine.run(state_flow("counter", """
  - id: get
    type: io.kestra.plugin.core.state.Get
"""))
    assert result.state == "SUCCESS"
    assert result.run_of("get").outputs == {"count": 0, "data": {}}


def test_set_merges_its_data_into_the_state(engine):
    result = engine.run(state_flow("counter", """
  - id: first
    type: io.kestra.plugin.core.state.Set
    data:
      "{{ 'test' }}": "{{ 1 }}"
  - id: afterFirst
    type: io.kestra.plugin.core.state.Get
  - id: second
    type: io.kestra.plugin.core.state.Set
    data:
      test: "2"
      test2: "3"
  - id: afterSecond
    type: io.kestra.plugin.core.state.Get
"""))
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("first").outputs["count"] == 1
    assert result.run_of("afterFirst").outputs == {"count": 1, "data": {"test": "1"}}
    assert result.run_of("second").outputs["count"] == 2
    assert result.run_of("afterSecond").outputs == {"count": 2, "data": {"test": "2", "test2": "3"}}


def test_set_outputs_the_kv_key_kestra_keeps_the_state_under(engine):
    result = engine.run(state_flow("My_Flow", """
  - id: set
    type: io.kestra.plugin.core.state.Set
    name: myState
    data:
      a: b
"""))
    key = "my-flow_states_tasks-states_myState"
    assert result.run_of("set").outputs == {"count": 1, "key": key}
    assert engine.runtime.kv_store.get("company.team", key).value == {"a": "b"}


def test_delete_outputs_deleted_and_the_state_is_empty_after(engine):
    result = engine.run(state_flow("counter", """
  - id: set
    type: io.kestra.plugin.core.state.Set
    data:
      a: 1
  - id: delete
    type: io.kestra.plugin.core.state.Delete
  - id: get
    type: io.kestra.plugin.core.state.Get
  - id: again
    type: io.kestra.plugin.core.state.Delete
"""))
    assert result.run_of("delete").outputs == {"deleted": True}
    assert result.run_of("get").outputs == {"count": 0, "data": {}}
    assert result.run_of("again").outputs == {"deleted": False}


def test_get_with_error_on_missing_fails_naming_the_state_key(engine):
    result = engine.run(state_flow("counter", """
  - id: get
    type: io.kestra.plugin.core.state.Get
    name: absent
    errorOnMissing: true
"""))
    assert result.state == "FAILED"
    assert "State counter_states_tasks-states_absent not found" in result.logs("get", "ERROR")


def test_delete_with_error_on_missing_fails_naming_the_state(engine):
    result = engine.run(state_flow("counter", """
  - id: delete
    type: io.kestra.plugin.core.state.Delete
    name: absent
    errorOnMissing: true
"""))
    assert result.state == "FAILED"
    assert "Unable to find the state file 'absent'" in result.logs("delete", "ERROR")


def test_a_state_belongs_to_its_flow_unless_namespace_is_true(engine):
    engine.run(state_flow("writer", """
  - id: own
    type: io.kestra.plugin.core.state.Set
    data:
      scope: flow
  - id: shared
    type: io.kestra.plugin.core.state.Set
    namespace: true
    data:
      john: doe
"""))
    result = engine.run(state_flow("reader", """
  - id: own
    type: io.kestra.plugin.core.state.Get
  - id: shared
    type: io.kestra.plugin.core.state.Get
    namespace: true
"""))
    assert result.run_of("own").outputs == {"count": 0, "data": {}}
    assert result.run_of("shared").outputs == {"count": 1, "data": {"john": "doe"}}


EACH = """
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: '["a", "b"]'
    tasks:
      - id: get
        type: io.kestra.plugin.core.state.Get
        name: loop
        taskrunValue: {shared}
      - id: set
        type: io.kestra.plugin.core.state.Set
        name: loop
        taskrunValue: {shared}
        data:
          value: "{{{{ (currentEachOutput(outputs.get).data.value ?? 'null') ~ '-' ~ taskrun.value }}}}"
      - id: reget
        type: io.kestra.plugin.core.state.Get
        name: loop
        taskrunValue: {shared}
"""


def _reget(result, value: str) -> dict:
    return next(r for r in result.runs_of("reget") if r.value == value).outputs["data"]


def test_inside_for_each_each_iteration_has_its_own_state(engine):
    result = engine.run(state_flow("looper", EACH.format(shared="true")))
    assert result.state == "SUCCESS", result.logs()
    assert _reget(result, "a") == {"value": "null-a"}
    assert _reget(result, "b") == {"value": "null-b"}
    keys = {r.outputs["key"] for r in result.runs_of("set")}
    assert keys == {f"looper_states_tasks-states_loop_{hash_to_string(v)}" for v in ("a", "b")}


def test_taskrun_value_false_shares_the_state_across_iterations(engine):
    result = engine.run(state_flow("looper", EACH.format(shared="false")))
    assert result.state == "SUCCESS", result.logs()
    assert _reget(result, "a") == {"value": "null-a"}
    assert _reget(result, "b") == {"value": "null-a-b"}


COUNTER = """
  - id: state
    type: io.kestra.plugin.core.state.Get
    name: "{{ inputs.name }}"
  - id: switch
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ (outputs.state.data.value ?? 0) == 0 ? 'create' : (outputs.state.data.value == 1 ? 'update' : 'delete') }}"
    cases:
      create:
        - id: create
          type: io.kestra.plugin.core.state.Set
          name: "{{ inputs.name }}"
          data:
            value: 1
        - id: createGet
          type: io.kestra.plugin.core.state.Get
          name: "{{ inputs.name }}"
      update:
        - id: update
          type: io.kestra.plugin.core.state.Set
          name: "{{ inputs.name }}"
          data:
            value: "{{ outputs.state.data.value + 1 }}"
        - id: updateGet
          type: io.kestra.plugin.core.state.Get
          name: "{{ inputs.name }}"
      delete:
        - id: delete
          type: io.kestra.plugin.core.state.Delete
          name: "{{ inputs.name }}"
        - id: deleteGet
          type: io.kestra.plugin.core.state.Get
          name: "{{ inputs.name }}"
"""


def test_a_state_carries_over_from_one_execution_to_the_next(engine):
    text = state_flow("counter", COUNTER, inputs="inputs:\n  - id: name\n    type: STRING\n")
    first = engine.run(text, {"name": "runs"})
    assert first.run_of("createGet").outputs["data"] == {"value": 1}  # a YAML number stays a number
    second = engine.run(text, {"name": "runs"})
    assert second.run_of("updateGet").outputs["data"] == {"value": "2"}  # a template renders to text
    third = engine.run(text, {"name": "runs"})
    assert third.run_of("delete").outputs == {"deleted": True}
    assert third.run_of("deleteGet").outputs["count"] == 0
    assert all(len(r.task_runs) == 4 for r in (first, second, third))


def test_legacy_state_type_names_still_run(engine):
    result = engine.run(state_flow("legacy", """
  - id: set
    type: io.kestra.core.tasks.states.Set
    data:
      a: 1
  - id: get
    type: io.kestra.core.tasks.states.Get
  - id: delete
    type: io.kestra.core.tasks.states.Delete
"""))
    assert result.state == "SUCCESS"
    assert result.run_of("get").outputs == {"count": 1, "data": {"a": 1}}
    assert result.run_of("delete").outputs == {"deleted": True}


def test_a_state_name_that_makes_an_invalid_key_fails_naming_the_property(engine):
    result = engine.run(state_flow("counter", """
  - id: set
    type: io.kestra.plugin.core.state.Set
    name: "my state"
    data:
      a: 1
"""))
    assert result.state == "FAILED"
    assert result.logs("set", "ERROR")[0].startswith("task 'set' property 'name': the state is kept under")


def test_merge_deepens_maps_concatenates_lists_and_keeps_values_given_null():
    current = {"map": {"a": 1, "b": 2}, "list": [1], "kept": "x", "replaced": "old"}
    new = {"map": {"b": 3, "c": 4}, "list": [2], "kept": None, "replaced": "new", "added": True}
    assert merge(current, new) == {"map": {"a": 1, "b": 3, "c": 4}, "list": [1, 2], "kept": "x",
                                   "replaced": "new", "added": True}


@pytest.mark.parametrize(("flow_id", "slug"), [
    ("my_flow", "my-flow"), ("My Flow", "my-flow"), ("déjà-vu", "deja-vu"), ("-a--b-", "a-b"),
])
def test_flow_ids_become_kestra_slugs_in_state_keys(flow_id, slug):
    assert slugify(flow_id) == slug
    assert state_key(flow_id, "default", None) == f"{slug}_states_tasks-states_default"


def test_iteration_values_are_hashed_as_kestra_hashes_them():
    # Kestra's HashingTest: Hashing.hashToString("random").
    assert hash_to_string("random") == "52a21b70c71a4e7819b310ddc9f83874"
    assert state_key(None, "n", "random") == "states_tasks-states_n_52a21b70c71a4e7819b310ddc9f83874"
