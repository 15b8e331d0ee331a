"""Suites read as Kestra defines them; every mistake is a FlowError at file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from engine.core.errors import InvalidFlowError
from engine.flow.loader import discover_flow_files, load_flow_text
from engine.testing.suite import OPERATORS, discover_suites, find_flow, load_suite, load_suite_text
from tests.testing.conftest import roost, write

FLOW = load_flow_text(textwrap.dedent("""
    id: hello
    namespace: company.team
    inputs:
      - id: name
        type: STRING
        defaults: Roost
    tasks:
      - id: greet
        type: io.kestra.plugin.core.log.Log
        message: hi
      - id: shout
        type: io.kestra.plugin.core.debug.Return
        format: "{{ inputs.name }}"
    """), "hello.yml")

GOOD_CASE = """
  - id: ok
    type: io.kestra.core.tests.flow.UnitTest
    assertions:
      - value: "{{ outputs.shout.value }}"
        equalTo: Roost
"""


def errors_of(text: str, flow=FLOW) -> list[str]:
    with pytest.raises(InvalidFlowError) as raised:
        load_suite_text(textwrap.dedent(text).lstrip(), "suite.yml", flow)
    return [str(error) for error in raised.value.errors]


def test_a_valid_suite_loads_with_its_cases_fixtures_and_assertions():
    suite = load_suite_text(textwrap.dedent("""
        id: hello_test
        namespace: company.team
        flowId: hello
        testCases:
          - id: mocked
            type: io.kestra.core.tests.flow.UnitTest
            disabled: true
            fixtures:
              inputs: {name: Ada}
              files: {a.txt: "text"}
              tasks:
                - id: shout
                  state: WARNING
                  outputs: {value: X}
              trigger: {id: t, type: io.kestra.plugin.core.trigger.Schedule, variables: {date: "2024"}}
            assertions:
              - value: "{{ outputs.shout.value }}"
                equalsTo: X
                startsWith: X
                taskId: shout
        """), "suite.yml", FLOW)
    (case,) = suite.test_cases
    assert (suite.id, suite.flow_key, case.id, case.disabled) == ("hello_test", "company.team.hello", "mocked", True)
    assert case.fixtures.inputs == {"name": "Ada"} and case.fixtures.files == {"a.txt": "text"}
    assert case.fixtures.tasks[0].state.value == "WARNING"
    assert case.fixtures.trigger is not None and case.fixtures.trigger.variables == {"date": "2024"}
    (assertion,) = case.assertions
    assert assertion.operators == (("startsWith", "X"), ("equalTo", "X"))   # Kestra's order
    assert assertion.position.line == 18


def test_missing_flow_id_and_namespace_are_reported_at_the_top():
    assert errors_of("id: s\ntestCases:" + GOOD_CASE, flow=None) == [
        "suite.yml:1:1: missing required property 'namespace'",
        "suite.yml:1:1: missing required property 'flowId'"]


def test_empty_test_cases_are_refused():
    assert errors_of("id: s\nnamespace: company.team\nflowId: hello\ntestCases: []\n") == [
        "suite.yml:4:12: a test suite needs a non-empty 'testCases' list"]


def test_an_unknown_operator_is_named_with_the_closest_one():
    errors = errors_of("""
        id: s
        namespace: company.team
        flowId: hello
        testCases:
          - id: c
            type: io.kestra.core.tests.flow.UnitTest
            assertions:
              - value: "{{ outputs.shout.value }}"
                equalto: Roost
        """)
    assert errors[0] == "suite.yml:9:9: test case 'c': unknown assertion operator 'equalto'; did you mean 'equalTo'?"


def test_an_assertion_without_an_operator_is_kestras_validation_error():
    errors = errors_of("""
        id: s
        namespace: company.team
        flowId: hello
        testCases:
          - id: c
            type: io.kestra.core.tests.flow.UnitTest
            assertions:
              - value: "{{ outputs.shout.value }}"
        """)
    assert errors == ["suite.yml:8:9: test case 'c': Invalid TestSuite Assertion: at least one actual "
                      "assertion is required (equalTo, greaterThan..)"]


def test_a_fixture_for_a_task_the_flow_does_not_have_is_named_with_the_closest_task():
    errors = errors_of("""
        id: s
        namespace: company.team
        flowId: hello
        testCases:
          - id: c
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              inputs:
                nam: Ada
              tasks:
                - id: shuot
            assertions:
              - value: x
                taskId: gret
                equalTo: x
        """)
    assert errors == [
        "suite.yml:9:9: test case 'c': fixtures.inputs names 'nam', which is not an input of company.team.hello; "
        "did you mean 'name'? (it declares: name)",
        "suite.yml:11:15: test case 'c': the fixture's task 'shuot' is not a task of company.team.hello; "
        "did you mean 'shout'?",
        "suite.yml:13:9: test case 'c': the assertion's taskId 'gret' is not a task of company.team.hello; "
        "did you mean 'greet'?"]


def test_bad_states_types_duplicates_and_operands_are_each_reported():
    errors = errors_of("""
        id: s
        namespace: company.team
        flowId: hello
        testCases:
          - id: c
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              tasks:
                - id: shout
                  state: FAIL
            assertions:
              - value: x
                greaterThan: many
                in: notalist
          - id: c
            type: io.kestra.core.tests.flow.Other
            assertions: []
        """)
    assert errors == [
        "suite.yml:10:18: test case 'c': task fixture 'shout': state 'FAIL' is not one of SUCCESS, WARNING, "
        "FAILED, KILLED, SKIPPED; did you mean 'FAILED'?",
        "suite.yml:13:22: test case 'c': greaterThan compares numbers; 'many' is not a number",
        "suite.yml:14:13: test case 'c': in needs a list of values",
        "suite.yml:15:5: Duplicate test case id with name [c]",
        "suite.yml:16:11: unknown test case type 'io.kestra.core.tests.flow.Other': the only type is "
        "io.kestra.core.tests.flow.UnitTest"]


def test_every_kestra_operator_is_known():
    assert set(OPERATORS) == {"isNull", "isNotNull", "equalTo", "notEqualTo", "startsWith", "endsWith", "contains",
                              "greaterThan", "greaterThanOrEqualTo", "lessThan", "lessThanOrEqualTo", "in", "notIn"}


def test_suites_are_discovered_by_their_keys_and_left_out_of_flow_discovery(tmp_path):
    write(tmp_path, "hello.yml", FLOW.text)
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/hello_test.yml", "id: t\nnamespace: company.team\nflowId: hello\ntestCases:" + GOOD_CASE)
    write(tmp_path, "notes.yaml", "flowId: only one of the two keys\n")
    assert discover_suites([tmp_path]) == [tmp_path / "sub" / "hello_test.yml"]
    assert discover_flow_files(tmp_path) == [tmp_path / "hello.yml", tmp_path / "notes.yaml"]
    suite = load_suite(tmp_path / "sub" / "hello_test.yml")
    assert find_flow(suite, [tmp_path / "sub", tmp_path]).path == str(tmp_path / "hello.yml")


def test_a_suite_whose_flow_is_nowhere_is_reported_at_its_flow_id(tmp_path):
    path = write(tmp_path, "t.yml", "id: t\nnamespace: company.team\nflowId: nowhere\ntestCases:" + GOOD_CASE)
    with pytest.raises(InvalidFlowError) as raised:
        find_flow(load_suite(path), [tmp_path])
    assert str(raised.value) == (f"{path}:3:9: no flow company.team.nowhere under {tmp_path}: the suite's "
                                 "namespace and flowId must name a flow there")


def test_roost_test_on_an_invalid_suite_exits_2_with_file_line_col_and_runs_nothing(tmp_path):
    write(tmp_path, "hello.yml", FLOW.text)
    suite = write(tmp_path, "hello_test.yml", """
        id: t
        namespace: company.team
        flowId: hello
        testCases:
          - id: c
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              tasks:
                - id: nope
            assertions:
              - value: x
                equalz: x
        """)
    home = tmp_path / "home"
    result = roost("test", str(tmp_path), home=home)
    assert result.returncode == 2, result.stderr
    assert f"{suite}:9:15: test case 'c': the fixture's task 'nope' is not a task of company.team.hello" \
        in result.stderr
    assert f"{suite}:12:9: test case 'c': unknown assertion operator 'equalz'; did you mean 'equalTo'?" \
        in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (home / "history.db").exists()


def test_an_invalid_tested_flow_reports_the_flows_own_errors(tmp_path):
    write(tmp_path, "hello.yml", FLOW.text.replace("io.kestra.plugin.core.log.Log", "io.kestra.plugin.core.log.Lgo"))
    path = write(tmp_path, "t.yml", "id: t\nnamespace: company.team\nflowId: hello\ntestCases:" + GOOD_CASE)
    with pytest.raises(InvalidFlowError) as raised:
        find_flow(load_suite(path), [tmp_path])
    assert "hello.yml:" in str(raised.value) and "unknown task type 'io.kestra.plugin.core.log.Lgo'" in str(raised.value)
