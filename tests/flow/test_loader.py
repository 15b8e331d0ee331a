"""Flow loading and Kestra's validation rules, each error located at file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from engine.core.errors import InvalidFlowError
from engine.flow.loader import load_flow_text


def load(text: str):
    return load_flow_text(textwrap.dedent(text), "f.yml")


def errors_of(text: str) -> list[str]:
    with pytest.raises(InvalidFlowError) as info:
        load(text)
    return [str(e) for e in info.value.errors]


MINIMAL = """\
id: hello
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


def test_minimal_flow_loads_with_task_positions():
    flow = load(MINIMAL)
    assert (flow.id, flow.namespace) == ("hello", "company.team")
    task = flow.tasks[0]
    assert task.id == "log" and task.message == "hi"
    assert (task.position.line, task.position.column) == (4, 5)
    assert task.source.position_of("message").line == 6


def test_yaml_syntax_error_reports_line_and_column():
    errors = errors_of("id: a\nnamespace: b\ntasks: [\n  - id: x\n")
    assert errors[0].startswith("f.yml:")
    assert "YAML syntax error" in errors[0]


def test_flow_id_and_namespace_patterns_are_enforced():
    errors = errors_of(MINIMAL.replace("id: hello", "id: -bad").replace("company.team", "Company.Team"))
    assert any("f.yml:1:5: flow id '-bad' is invalid" in e for e in errors)
    assert any("f.yml:2:12: namespace 'Company.Team' is invalid" in e for e in errors)


def test_task_ids_must_be_unique_across_nested_errors_and_finally():
    errors = errors_of("""\
        id: dup
        namespace: a.b
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - id: same
                type: io.kestra.plugin.core.log.Log
                message: one
        errors:
          - id: same
            type: io.kestra.plugin.core.log.Log
            message: two
        finally:
          - id: seq
            type: io.kestra.plugin.core.log.Log
            message: three
        """)
    assert "f.yml:11:9: Duplicate task id with name [same]" in errors
    assert "f.yml:15:9: Duplicate task id with name [seq]" in errors


def test_empty_tasks_is_refused():
    assert errors_of("id: a\nnamespace: b\ntasks: []\n") == ["f.yml:3:8: a flow needs a non-empty 'tasks' list"]


def test_missing_required_property_names_the_task():
    errors = errors_of(MINIMAL.replace("    message: hi\n", ""))
    assert errors == ["f.yml:4:5: task 'log': missing required property 'message'"]


def test_unknown_type_suggests_closest_known_names():
    errors = errors_of(MINIMAL.replace("core.log.Log", "core.log.Logg"))
    assert errors[0].startswith("f.yml:5:11: task 'log': unknown task type 'io.kestra.plugin.core.log.Logg'")
    assert "did you mean io.kestra.plugin.core.log.Log" in errors[0]


def test_unknown_property_suggests_the_right_spelling():
    errors = errors_of(MINIMAL.replace("message: hi", "mesage: hi"))
    assert any("unknown property 'mesage'" in e and "did you mean 'message'" in e for e in errors)


def test_invalid_task_id_is_refused():
    errors = errors_of(MINIMAL.replace("- id: log", "- id: log.1"))
    assert any("task id 'log.1' is invalid" in e for e in errors)


def test_wrong_literal_type_is_refused_but_templates_are_accepted():
    errors = errors_of(MINIMAL.replace("message: hi", "message: hi\n    allowFailure: maybe"))
    assert any("'allowFailure' must be a boolean" in e for e in errors)
    flow = load("""\
        id: a
        namespace: b
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ inputs.list }}"
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: "{{ taskrun.value }}"
        """)
    assert flow.tasks[0].values == "{{ inputs.list }}"


def test_legacy_type_aliases_resolve_to_the_same_class():
    flow = load(MINIMAL.replace("io.kestra.plugin.core.log.Log", "io.kestra.core.tasks.log.Log"))
    assert flow.tasks[0].canonical_type == "io.kestra.plugin.core.log.Log"


def test_labels_accept_map_and_list_forms():
    assert load(MINIMAL + "labels:\n  team: data\n  prod: true\n").labels == {"team": "data", "prod": "true"}
    flow = load(MINIMAL + "labels:\n  - key: team\n    value: data\n")
    assert flow.labels == {"team": "data"}


def test_yaml_on_key_stays_a_string_as_in_kestra():
    flow = load(MINIMAL + "triggers:\n  - id: t\n    type: x.Y\n    on: CREATE\n    when: 2024-01-01\n")
    assert flow.triggers[0]["on"] == "CREATE"
    assert flow.triggers[0]["when"] == "2024-01-01"


def test_plugin_defaults_fill_missing_values_and_forced_ones_win():
    flow = load("""\
        id: a
        namespace: b
        tasks:
          - id: one
            type: io.kestra.plugin.core.log.Log
            message: mine
          - id: two
            type: io.kestra.plugin.core.log.Log
        pluginDefaults:
          - type: io.kestra.plugin.core.log.Log
            values:
              message: from defaults
              level: WARN
        """)
    assert (flow.tasks[0].message, flow.tasks[0].level) == ("mine", "WARN")
    assert flow.tasks[1].message == "from defaults"
    forced = load(MINIMAL + "pluginDefaults:\n  - type: io.kestra.plugin.core\n    forced: true\n"
                  "    values:\n      message: forced\n")
    assert forced.tasks[0].message == "forced"


def test_duplicate_yaml_keys_are_refused():
    errors = errors_of(MINIMAL + "id: again\n")
    assert errors == ["f.yml:7:1: duplicate key 'id': each key may appear once in a mapping"]


def test_unknown_flow_property_is_refused_with_suggestion():
    errors = errors_of(MINIMAL + "input: []\n")
    assert errors == ["f.yml:7:1: unknown flow property 'input'; did you mean 'inputs'?"]


def test_every_problem_is_reported_in_file_order():
    errors = errors_of("""\
        id: a
        namespace: b
        tasks:
          - id: one
            type: nope.Nope
          - id: two
            type: io.kestra.plugin.core.log.Log
        """)
    assert [int(e.split(":")[1]) for e in errors] == [5, 6]
