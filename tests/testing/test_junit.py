"""JUnit XML from real results, read back with xml.etree: errors, failures, skips, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from engine.testing.junit import junit_xml

FLOW = """
id: j
namespace: company.team
inputs:
  - id: n
    type: INT
    defaults: 1
tasks:
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "<b>&\\"{{ inputs.n }}\\"</b>"
"""

SUITE = """
id: j_test
namespace: company.team
flowId: j
testCases:
  - id: cannot_start
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      inputs:
        n: not a number
    assertions:
      - value: "{{ outputs.say.value }}"
        isNotNull: true
  - id: markup_in_messages
    type: io.kestra.core.tests.flow.UnitTest
    assertions:
      - value: "{{ outputs.say.value }}"
        equalTo: "<i>"
"""


def test_junit_has_an_error_for_a_case_that_could_not_run_and_escapes_every_message(suites):
    results = suites.run_suite(FLOW, SUITE)
    root = ElementTree.fromstring(junit_xml(list(results.values())))
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("2", "1", "1")
    assert (root.get("tests"), root.get("errors"), root.get("failures")) == ("2", "1", "1")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    error = cases["cannot_start"].find("error")
    assert error is not None and "input 'n'" in (error.get("message") or "")
    failure = cases["markup_in_messages"].find("failure")
    assert failure is not None
    assert failure.get("message") == ("expected '{{ outputs.say.value }}' to equal '<i>' but was "
                                      "'<b>&\"1\"</b>'")
    assert cases["markup_in_messages"].get("classname") == "company.team.j.j_test"
