"""Every operator both ways, on a real run, with Kestra's exact failure messages.

One flow run publishes the values; one test case holds one assertion per row below, so
result i is row i's verdict.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from engine.testing.runner import CaseResult, CaseStatus
from tests.testing.conftest import SuiteEngine

FLOW = """
id: values
namespace: company.team
tasks:
  - id: v
    type: io.kestra.plugin.core.output.OutputValues
    values:
      text: "Hello, Roost"
      count: 5
      ratio: 2.5
      nothing: null
      word: beta
      listed: [1, 2]
"""


def expr(name: str) -> str:
    return "{{ outputs.v.values." + name + " }}"


@dataclass(frozen=True)
class Row:
    name: str
    value: str
    operator: str           # as written in the YAML
    operand: Any
    success: bool
    message: str | None = None
    reported: str | None = None  # the operator's name in the result, when not as written


ROWS = [
    Row("isNull holds", expr("nothing"), "isNull", True, True),
    Row("isNull fails", expr("text"), "isNull", True, False,
        f"expected '{expr('text')}' to be null but was 'Hello, Roost'"),
    Row("isNotNull holds", expr("text"), "isNotNull", True, True),
    Row("isNotNull fails", expr("nothing"), "isNotNull", True, False,
        f"expected '{expr('nothing')}' to be not null but was 'null'"),
    Row("endsWith holds", expr("text"), "endsWith", "Roost", True),
    Row("endsWith fails", expr("text"), "endsWith", "Kestra", False,
        f"expected '{expr('text')}' to end with 'Kestra' but was 'Hello, Roost'"),
    Row("startsWith holds", expr("text"), "startsWith", "Hello", True),
    Row("startsWith fails", expr("text"), "startsWith", "Bye", False,
        f"expected '{expr('text')}' to start with 'Bye' but was 'Hello, Roost'"),
    Row("contains holds", expr("text"), "contains", "o, R", True),
    Row("contains fails", expr("text"), "contains", "xyz", False,
        f"expected '{expr('text')}' to contain 'xyz' but was 'Hello, Roost'"),
    Row("equalTo holds for a number", expr("count"), "equalTo", 5, True),
    Row("equalTo holds for 5 against 5.0", expr("count"), "equalTo", 5.0, True),
    Row("equalTo holds for a number rendered as text", expr("count"), "equalTo", "5", True),
    Row("equalTo compares a mixed template as text", "count: {{ outputs.v.values.count }}", "equalTo",
        "count: 5", True),
    Row("equalTo compares a list as its JSON", expr("listed"), "equalTo", [1, 2], True),
    Row("equalTo fails", expr("count"), "equalTo", 6, False,
        f"expected '{expr('count')}' to equal '6' but was '5'"),
    Row("equalsTo is the older spelling", expr("word"), "equalsTo", "beta", True, reported="equalTo"),
    Row("notEqualTo holds", expr("count"), "notEqualTo", 6, True),
    Row("notEqualTo fails", expr("count"), "notEqualTo", 5, False,
        f"expected '{expr('count')}' to not equal '5'"),
    Row("notEqualsTo is the older spelling", expr("word"), "notEqualsTo", "beta", False,
        f"expected '{expr('word')}' to not equal 'beta'", reported="notEqualTo"),
    Row("greaterThan holds", expr("count"), "greaterThan", 4, True),
    Row("greaterThan fails", expr("count"), "greaterThan", 5, False,
        f"expected '{expr('count')}' to be greater than '5.0' but was '5'"),
    Row("greaterThan parses a text value as a double", "{{ outputs.v.values.count }}0", "greaterThan", 100,
        False, "expected '{{ outputs.v.values.count }}0' to be greater than '100.0' but was '50'"),
    Row("greaterThanOrEqualTo holds", expr("count"), "greaterThanOrEqualTo", 5, True),
    Row("greaterThanOrEqualTo fails", expr("count"), "greaterThanOrEqualTo", 6, False,
        f"expected '{expr('count')}' to be greater than or equal to '6.0' but was '5'"),
    Row("lessThan holds", expr("ratio"), "lessThan", 3, True),
    Row("lessThan fails", expr("ratio"), "lessThan", 2.5, False,
        f"expected '{expr('ratio')}' to be less than '2.5' but was '2.5'"),
    Row("lessThanOrEqualTo holds", expr("ratio"), "lessThanOrEqualTo", "2.5", True),
    Row("lessThanOrEqualTo fails", expr("ratio"), "lessThanOrEqualTo", 2, False,
        f"expected '{expr('ratio')}' to be less than or equal to '2.0' but was '2.5'"),
    Row("in holds", expr("word"), "in", ["alpha", "beta"], True),
    Row("in fails", expr("word"), "in", ["alpha", "gamma"], False,
        f"expected '{expr('word')}' to contain '[alpha, gamma]' but was 'beta'"),
    Row("notIn holds", expr("word"), "notIn", ["alpha"], True),
    Row("notIn fails", expr("word"), "notIn", ["beta", "gamma"], False,
        f"expected '{expr('word')}' to not contain '[beta, gamma]' but was 'beta'"),
]

ERROR_MESSAGE_ROW = {"value": expr("count"), "equalTo": 6, "errorMessage": "count drifted from {{ 6 }}"}
SEVERAL = {"value": expr("count"), "greaterThan": 1, "lessThan": 3, "notEqualTo": 4}


def suite_text() -> str:
    assertions = [{"value": row.value, row.operator: row.operand} for row in ROWS]
    cases = [
        {"id": "table", "type": "io.kestra.core.tests.flow.UnitTest", "assertions": assertions},
        {"id": "own_message", "type": "io.kestra.core.tests.flow.UnitTest", "assertions": [ERROR_MESSAGE_ROW]},
        {"id": "several", "type": "io.kestra.core.tests.flow.UnitTest", "assertions": [SEVERAL]},
        {"id": "not_a_number", "type": "io.kestra.core.tests.flow.UnitTest", "assertions": [
            {"value": expr("count"), "equalTo": 5},
            {"value": expr("text"), "greaterThan": 1},
            {"value": expr("count"), "equalTo": 5}]},
    ]
    # JSON is YAML: the operands keep their types exactly
    return json.dumps({"id": "operators", "namespace": "company.team", "flowId": "values", "testCases": cases})


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, CaseResult]]:
    root = tmp_path_factory.mktemp("operators")
    (root / "flows").mkdir()
    engine = SuiteEngine(root / "home", root / "flows")
    try:
        yield engine.run_suite(textwrap.dedent(FLOW), suite_text())
    finally:
        engine.close()


@pytest.mark.parametrize("index", range(len(ROWS)), ids=[row.name for row in ROWS])
def test_operator_verdict_and_kestra_message(results, index):
    row = ROWS[index]
    result = results["table"].assertions[index]
    assert (result.operator, result.success, result.error_message) == (
        row.reported or row.operator, row.success, row.message)
    assert result.expression == row.value


def test_a_case_with_a_failed_assertion_fails_and_keeps_every_result(results):
    table = results["table"]
    assert table.status is CaseStatus.FAILED
    assert len(table.assertions) == len(ROWS)
    assert table.execution_state is not None and table.execution_state.value == "SUCCESS"


def test_error_message_replaces_kestras_message_and_is_rendered(results):
    (result,) = results["own_message"].assertions
    assert not result.success and result.error_message == "count drifted from 6"


def test_several_operators_in_one_assertion_give_one_result_each_in_kestras_order(results):
    several = results["several"]
    assert [(r.operator, r.success) for r in several.assertions] == [
        ("notEqualTo", True), ("greaterThan", True), ("lessThan", False)]
    assert several.status is CaseStatus.FAILED


def test_a_value_that_is_not_a_number_errs_with_kestras_message_and_the_other_assertions_still_run(results):
    case = results["not_a_number"]
    assert case.status is CaseStatus.ERROR
    assert "Could not parse value as a Double" in (case.error or "")
    assert [r.success for r in case.assertions] == [True, True]   # the assertions before and after it


def test_results_report_expected_and_actual_with_their_types(results):
    by_name = {row.name: results["table"].assertions[i] for i, row in enumerate(ROWS)}
    assert by_name["equalTo holds for a number"].actual == 5
    assert by_name["isNull fails"].expected == "isNull"           # Kestra reports the operator
    assert by_name["greaterThan fails"].expected == 5.0
    assert by_name["in fails"].expected == ["alpha", "gamma"]
    assert by_name["equalTo compares a mixed template as text"].actual == "count: 5"
