"""Files, inputs and trigger fixtures, on real runs."""

from __future__ import annotations

from engine.store.storage import InternalStorage
from engine.testing.runner import CaseStatus

FILES_FLOW = """
id: files_flow
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: count
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.data) | trim | split('\\n') | length }} lines"
  - id: fetch
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: would download from the internet
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(outputs.fetch.uri) }}"
"""

FILES_SUITE = """
id: files_test
namespace: company.team
flowId: files_flow
testCases:
  - id: files_everywhere
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      files:
        data.csv: |
          name,age
          Ada,36
        page.html: "<p>hi</p>"
      inputs:
        data: "{{ files['data.csv'] }}"
      tasks:
        - id: fetch
          outputs:
            uri: "{{ files['page.html'] }}"
    assertions:
      - value: "{{ outputs.count.value }}"
        equalTo: 2 lines
      - value: "{{ outputs.show.value }}"
        equalTo: "<p>hi</p>"
      - value: "{{ inputs.data }}"
        startsWith: kestra:///company/team/files_flow/executions/
      - value: "{{ files['page.html'] }}"
        endsWith: /page.html
"""


def test_files_fixtures_are_stored_for_the_case_and_read_through_inputs_and_fixture_outputs(suites):
    result = suites.run_suite(FILES_FLOW, FILES_SUITE)["files_everywhere"]
    assert result.status is CaseStatus.PASSED, result
    uri = next(a.actual for a in result.assertions if a.expression == "{{ inputs.data }}")
    assert f"/executions/{result.execution_id}/" in uri      # under the case's own execution
    storage = InternalStorage(suites.home.storage)
    assert storage.read_bytes(uri) == b"name,age\nAda,36\n"


def test_input_fixtures_are_typed_by_the_flows_inputs(suites):
    results = suites.run_suite("""
        id: typed
        namespace: company.team
        inputs:
          - id: n
            type: INT
          - id: when
            type: DATE
            defaults: "2024-01-02"
        tasks:
          - id: next
            type: io.kestra.plugin.core.debug.Return
            format: "{{ inputs.n + 1 }}"
        """, """
        id: typed_test
        namespace: company.team
        flowId: typed
        testCases:
          - id: int_input
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              inputs:
                n: 41
            assertions:
              - value: "{{ outputs.next.value }}"
                equalTo: 42
              - value: "{{ inputs.when }}"
                equalTo: "2024-01-02"
          - id: bad_input
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              inputs:
                n: forty-one
            assertions:
              - value: "{{ outputs.next.value }}"
                equalTo: 42
        """)
    assert results["int_input"].status is CaseStatus.PASSED, results["int_input"]
    bad = results["bad_input"]
    assert bad.status is CaseStatus.ERROR and bad.execution_id is None
    assert "input 'n'" in (bad.error or "")


def test_a_trigger_fixture_becomes_the_executions_trigger_variable(suites):
    results = suites.run_suite("""
        id: hooked
        namespace: company.team
        tasks:
          - id: greet
            type: io.kestra.plugin.core.debug.Return
            format: "hello {{ trigger.body.name }}"
        triggers:
          - id: hook
            type: io.kestra.plugin.core.trigger.Webhook
            key: secret-key
        """, """
        id: hooked_test
        namespace: company.team
        flowId: hooked
        testCases:
          - id: webhook_body
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              trigger:
                id: hook
                type: io.kestra.plugin.core.trigger.Webhook
                variables:
                  body:
                    name: Grace
            assertions:
              - value: "{{ outputs.greet.value }}"
                equalTo: hello Grace
              - value: "{{ trigger.body.name }}"
                equalTo: Grace
        """)
    assert results["webhook_body"].status is CaseStatus.PASSED, results["webhook_body"]
