"""Flow rules Kestra's validators enforce: listeners, worker groups, system labels, FILE inputs."""

from __future__ import annotations

import textwrap

import pytest

from engine.core.errors import InvalidFlowError
from engine.flow.loader import load_flow_text
from engine.flow.model import Flow

HEADER = """\
id: checks
namespace: company.team
"""
LOG = """\
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(InvalidFlowError) as caught:
        load_flow_text(textwrap.dedent(text), "flow.yml")
    return [f"{e.line}: {e.message}" for e in caught.value.errors]


def _load(text: str) -> Flow:
    return load_flow_text(textwrap.dedent(text), "flow.yml")


# --- listeners --------------------------------------------------------------------------

def test_listener_without_tasks_is_refused():
    errors = _errors(HEADER + """\
listeners:
  - conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
    tasks: []
  - description: nothing to do
""" + LOG)
    assert errors == ["6: listeners[0].tasks: must not be empty", "7: listeners[1].tasks: must not be empty"]


def test_listener_task_of_unknown_type_is_reported():
    errors = _errors(HEADER + """\
listeners:
  - tasks:
      - id: notify
        type: io.kestra.plugin.core.debug.NoSuchTask
""" + LOG)
    assert len(errors) == 1
    assert "task 'notify': unknown task type 'io.kestra.plugin.core.debug.NoSuchTask'" in errors[0]


def test_listener_task_is_validated_like_a_flow_task():
    errors = _errors(HEADER + """\
listeners:
  - tasks:
      - id: notify
        type: io.kestra.plugin.core.log.Log
""" + LOG)
    assert errors == ["5: task 'notify': missing required property 'message'"]


def test_listener_task_ids_count_for_duplicates():
    errors = _errors(HEADER + """\
listeners:
  - tasks:
      - id: hello
        type: io.kestra.plugin.core.log.Log
        message: again
""" + LOG)
    assert errors == ["5: Duplicate task id with name [hello]"]


def test_listener_with_conditions_is_accepted_with_a_warning_that_it_does_not_run():
    flow = _load(HEADER + """\
listeners:
  - conditions:
      - type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [FAILED]
    tasks:
      - id: notify
        type: io.kestra.plugin.core.log.Log
        message: failed
""" + LOG)
    assert [t.id for t in flow.tasks] == ["hello"]
    assert any("'listeners' are deprecated" in w and "does not run them" in w for w in flow.warnings)


def test_listener_with_an_unknown_property_is_refused():
    errors = _errors(HEADER + """\
listeners:
  - task:
      - id: notify
""" + LOG)
    assert "4: listeners[0]: unknown property 'task'" in errors[0]


# --- worker groups ----------------------------------------------------------------------

def test_worker_group_with_a_key_is_refused_as_an_enterprise_feature():
    errors = _errors(HEADER + """\
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
    workerGroup:
      key: gpu
""")
    assert len(errors) == 1
    assert errors[0].startswith("7: task 'hello': workerGroup: Worker Group is an Enterprise Edition functionality")


def test_worker_group_without_a_key_is_accepted():
    flow = _load(HEADER + """\
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
    workerGroup: {}
""")
    assert flow.tasks[0].id == "hello"


def test_worker_group_on_a_nested_task_is_refused():
    errors = _errors(HEADER + """\
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: inner
        type: io.kestra.plugin.core.log.Log
        message: hi
        workerGroup:
          key: gpu
""")
    assert len(errors) == 1 and "task 'inner': workerGroup: Worker Group is an Enterprise" in errors[0]


def test_worker_group_on_a_trigger_is_refused():
    errors = _errors(HEADER + LOG + """\
triggers:
  - id: every_minute
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * *"
    workerGroup:
      key: gpu
""")
    assert len(errors) == 1
    assert "trigger 'every_minute': workerGroup: Worker Group is an Enterprise Edition functionality" in errors[0]


# --- labels -----------------------------------------------------------------------------

def test_system_labels_are_refused_with_kestras_message():
    errors = _errors(HEADER + """\
labels:
  system.label: system_key
  system.id: id
  another: label
""" + LOG)
    assert len(errors) == 2
    assert "System labels can only be set by Kestra itself, offending label: system.label=system_key" in errors[0]
    assert "System labels can only be set by Kestra itself, offending label: system.id=id" in errors[1]


def test_system_read_only_label_is_allowed():
    flow = _load(HEADER + "labels:\n  system.readOnly: 'true'\n" + LOG)
    assert flow.labels == {"system.readOnly": "true"}


def test_system_label_in_a_list_of_labels_is_refused():
    errors = _errors(HEADER + """\
labels:
  - key: system.correlationId
    value: abc
""" + LOG)
    assert len(errors) == 1 and "offending label: system.correlationId=abc" in errors[0]


# --- inputs -----------------------------------------------------------------------------

def test_file_input_with_defaults_is_refused():
    errors = _errors(HEADER + """\
inputs:
  - id: file
    type: FILE
    defaults: something
""" + LOG)
    assert len(errors) == 1
    assert "input 'file': no `defaults` can be set for inputs of type 'FILE'" in errors[0]


def test_input_with_a_bad_id_and_an_unknown_type_reports_both():
    errors = _errors(HEADER + """\
inputs:
  - id: "wrong one"
    type: FOO
""" + LOG)
    assert len(errors) == 2
    assert "input id 'wrong one' is invalid" in errors[0]
    assert "unknown type 'FOO'" in errors[1]


def test_input_with_a_bad_id_and_no_type_reports_both():
    errors = _errors(HEADER + """\
inputs:
  - id: "wrong one"
""" + LOG)
    assert len(errors) == 2 and "has no 'type'" in errors[1]
