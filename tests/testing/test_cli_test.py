"""`roost test` as a user runs it: the real process, its output, exit codes, reports and history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.testing.conftest import roost, write

ORDERS_FLOW = """
id: orders
namespace: company.team
inputs:
  - id: customer
    type: STRING
    defaults: Ada
tasks:
  - id: fetch
    type: io.kestra.plugin.core.debug.Return
    format: "3 orders for {{ inputs.customer }}"
  - id: count
    type: io.kestra.plugin.core.output.OutputValues
    values:
      orders: 3
      customer: "{{ inputs.customer }}"
  - id: warehouse
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{ inputs.customer == 'Closed' }}"
    errorMessage: the warehouse is closed
outputs:
  - id: summary
    type: STRING
    value: "{{ outputs.fetch.value }}"
"""

ORDERS_SUITE = """
id: orders_test
namespace: company.team
flowId: orders
testCases:
  - id: passes
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      inputs:
        customer: Grace
    assertions:
      - value: "{{ outputs.fetch.value }}"
        equalTo: 3 orders for Grace
      - value: "{{ outputs.count.values.orders }}"
        greaterThan: 2
  - id: fails
    type: io.kestra.core.tests.flow.UnitTest
    assertions:
      - value: "{{ outputs.fetch.value }}"
        taskId: fetch
        equalTo: 4 orders for Ada
      - value: "{{ execution.outputs.summary }}"
        endsWith: Grace
        errorMessage: the summary names the customer
  - id: task_fails
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      inputs:
        customer: Closed
    assertions:
      - value: "{{ outputs.fetch.value }}"
        equalTo: 3 orders for Closed
      - value: "{{ execution.state }}"
        equalTo: SUCCESS
  - id: disabled
    type: io.kestra.core.tests.flow.UnitTest
    disabled: true
    assertions:
      - value: "{{ outputs.fetch.value }}"
        equalTo: never checked
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    write(folder, "orders.yml", ORDERS_FLOW)
    write(folder, "orders_test.yml", ORDERS_SUITE)
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_roost_test_prints_each_case_each_failure_and_the_summary_last_and_exits_1(project, home):
    result = roost("test", str(project), home=home)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "1 passed, 2 failed, 1 skipped"
    assert lines[0] == "PASS orders_test.passes"
    assert lines[1:5] == [
        "FAIL orders_test.fails",
        "  assertion {{ outputs.fetch.value }} equalTo: expected '4 orders for Ada', "
        "actual '3 orders for Ada' [task fetch]",
        "    expected '{{ outputs.fetch.value }}' to equal '4 orders for Ada' but was '3 orders for Ada'",
        "  assertion {{ execution.outputs.summary }} endsWith: expected 'Grace', actual '3 orders for Ada'"]
    assert lines[5] == "    the summary names the customer"
    task_fails = lines[lines.index("FAIL orders_test.task_fails"):]
    assert "  task warehouse FAILED, its last lines:" in task_fails
    assert "    | the warehouse is closed" in task_fails
    assert "    expected '{{ execution.state }}' to equal 'SUCCESS' but was 'FAILED'" in task_fails
    assert "SKIP orders_test.disabled (disabled)" in lines
    assert "Traceback" not in result.stderr


def test_k_keeps_the_cases_matching_a_substring_or_a_glob_and_all_passing_exits_0(project, home):
    only = roost("test", str(project / "orders_test.yml"), "-k", "pass", home=home)
    assert (only.returncode, only.stdout.splitlines()) == (0, ["PASS orders_test.passes", "1 passed, 0 failed"])
    globbed = roost("test", str(project), "-k", "orders_test.*fails", home=home)
    assert globbed.returncode == 1
    assert [line for line in globbed.stdout.splitlines() if not line.startswith(" ")] == [
        "FAIL orders_test.fails", "FAIL orders_test.task_fails", "0 passed, 2 failed"]
    nothing = roost("test", str(project), "-k", "nope", home=home)
    assert nothing.returncode == 2 and "no test case matches" in nothing.stderr


def test_junit_report_has_a_testsuite_per_suite_and_a_testcase_per_case(project, home, tmp_path):
    report = tmp_path / "reports" / "junit.xml"
    result = roost("test", str(project), "--junit", str(report), home=home)
    assert result.returncode == 1
    root = ElementTree.parse(report).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert {key: suite.get(key) for key in ("name", "tests", "failures", "errors", "skipped")} == {
        "name": "orders_test", "tests": "4", "failures": "2", "errors": "0", "skipped": "1"}
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["passes", "fails", "task_fails", "disabled"]
    assert cases["passes"].find("failure") is None and cases["passes"].find("skipped") is None
    failure = cases["fails"].find("failure")
    assert failure is not None
    assert failure.get("message") == ("expected '{{ outputs.fetch.value }}' to equal '4 orders for Ada' but was "
                                      "'3 orders for Ada'; the summary names the customer")
    assert "endsWith expected: Grace actual: 3 orders for Ada" in (failure.text or "")
    assert cases["disabled"].find("skipped") is not None
    out = cases["task_fails"].find("system-out")
    assert out is not None and "the warehouse is closed" in (out.text or "")
    execution_id = cases["fails"].find("properties/property[@name='executionId']")
    assert execution_id is not None and execution_id.get("value")


def test_json_prints_kestra_shaped_results_on_stdout_and_the_lines_on_stderr(project, home):
    result = roost("test", str(project), "-k", "fails", "--json", home=home)
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    by_id = {case["testId"]: case for case in payload}
    assert by_id["fails"]["state"] == "FAILED" and by_id["fails"]["testType"] == "io.kestra.core.tests.flow.UnitTest"
    first = by_id["fails"]["assertionResults"][0]
    assert {key: first[key] for key in ("operator", "expected", "actual", "isSuccess", "taskId")} == {
        "operator": "equalTo", "expected": "4 orders for Ada", "actual": "3 orders for Ada",
        "isSuccess": False, "taskId": "fetch"}
    assert by_id["task_fails"]["failedTasks"][0]["taskId"] == "warehouse"
    assert result.stderr.splitlines()[-1] == "0 passed, 2 failed"


def test_test_executions_are_kept_out_of_the_executions_list_unless_all(project, home):
    run = roost("run", str(project / "orders.yml"), "--json", home=home)
    run_id = json.loads(run.stdout)["id"]
    tested = roost("test", str(project), "--json", "-k", "passes", home=home)
    test_id = json.loads(tested.stdout)[0]["executionId"]
    listing = roost("executions", home=home).stdout
    assert run_id in listing and test_id not in listing
    everything = roost("executions", "--all", "--json", home=home)
    labels = {e["id"]: e["labels"] for e in json.loads(everything.stdout)}
    assert labels[test_id] == [{"key": "system.test", "value": "true"}] and run_id in labels


def test_roost_execution_shows_which_task_runs_were_mocked(project, home):
    write(project, "mocked_test.yml", """
        id: mocked_test
        namespace: company.team
        flowId: orders
        testCases:
          - id: fetch_mocked
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              tasks:
                - id: fetch
                  outputs:
                    value: from the fixture
            assertions:
              - value: "{{ execution.outputs.summary }}"
                equalTo: from the fixture
        """)
    tested = roost("test", str(project / "mocked_test.yml"), "--json", home=home)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    execution_id = json.loads(tested.stdout)[0]["executionId"]
    shown = roost("execution", execution_id, home=home).stdout
    fetch_line = next(line for line in shown.splitlines() if " fetch " in line)
    assert "(mocked: a fixture stood in, it did not run)" in fetch_line
    count_line = next(line for line in shown.splitlines() if " count " in line)
    assert "mocked" not in count_line
    as_json = json.loads(roost("execution", execution_id, "--json", home=home).stdout)
    runs = {r["taskId"]: r for r in as_json["taskRunList"]}
    assert runs["fetch"]["mocked"] is True and "mocked" not in runs["count"]


def test_record_then_run_round_trip_passes_with_inputs_task_fixtures_and_assertions(project, home):
    run = roost("run", str(project / "orders.yml"), "-i", "customer=Linus", "--json", home=home)
    execution_id = json.loads(run.stdout)["id"]
    suite = project / "recorded_test.yml"
    recorded = roost("test", "record", execution_id, "--tasks", "fetch", "-o", str(suite), home=home)
    assert recorded.returncode == 0, recorded.stderr
    assert "1 task fixture(s)" in recorded.stderr
    text = suite.read_text()
    assert "customer: Linus" in text                   # the inputs became fixtures
    assert "- id: fetch\n" in text and 'value: "3 orders for Linus"' in text
    assert 'value: "{{ outputs.count.values.orders }}"' in text and "equalTo: 3" in text
    assert 'value: "{{ execution.outputs.summary }}"' in text
    assert "outputs.fetch" not in text                 # a fixture's outputs are not asserted
    result = roost("test", str(suite), home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"PASS orders-recorded.recorded-{execution_id[:8]}", "1 passed, 0 failed"]


def test_record_turns_a_file_input_into_a_files_fixture_the_round_trip_reads(tmp_path, home):
    folder = tmp_path / "files"
    folder.mkdir()
    write(folder, "upload.yml", """
        id: upload
        namespace: company.team
        inputs:
          - id: data
            type: FILE
        tasks:
          - id: head
            type: io.kestra.plugin.core.debug.Return
            format: "{{ read(inputs.data) | split('\\n') | first }}"
        """)
    local = write(folder, "local.csv", "name,age\nAda,36\n")
    run = roost("run", str(folder / "upload.yml"), "-i", f"data={local}", "--json", home=home)
    execution_id = json.loads(run.stdout)["id"]
    recorded = roost("test", "record", execution_id, home=home)
    assert recorded.returncode == 0, recorded.stderr
    assert "files:" in recorded.stdout and "name,age" in recorded.stdout
    assert "data: \"{{ files['input-data-local.csv'] }}\"" in recorded.stdout
    (folder / "upload_test.yml").write_text(recorded.stdout)
    result = roost("test", str(folder), home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed"


def test_record_of_an_unknown_task_is_a_usage_error(project, home):
    run = roost("run", str(project / "orders.yml"), "--json", home=home)
    execution_id = json.loads(run.stdout)["id"]
    result = roost("test", "record", execution_id, "--tasks", "fetc", home=home)
    assert result.returncode == 2
    assert f"--tasks fetc: execution {execution_id} has no run of 'fetc'" in result.stderr


def test_the_sample_suites_pass(home):
    result = roost("test", "sample_flows", home=home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "5 passed, 0 failed"


def test_a_folder_without_suites_is_a_usage_error(tmp_path, home):
    write(tmp_path, "flow.yml", ORDERS_FLOW)
    result = roost("test", str(tmp_path), home=home)
    assert result.returncode == 2 and "no test suites under" in result.stderr


def read_until(stream, text: str, timeout: float = 60) -> str:
    """Lines from a pipe until one equals `text` (the process's own pace, no sleeps)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if seen[-1] == text:
            return "\n".join(seen)
    raise AssertionError(f"never saw {text!r}; got:\n" + "\n".join(seen))


def test_watch_reruns_the_suite_a_save_affects_and_ctrl_c_exits_130(project, home):
    suite = project / "orders_test.yml"
    suite.write_text(suite.read_text().replace("equalTo: 4 orders for Ada", "equalTo: 3 orders for Ada"))
    env = {**os.environ, "ROOST_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tui.launcher", "test", str(project), "-k", "fails", "--watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    try:
        first = read_until(proc.stdout, "0 passed, 2 failed")
        assert "FAIL orders_test.fails" in first
        while "watching" not in (proc.stderr.readline() or "watching"):
            pass
        fixed = suite.read_text().replace("endsWith: Grace", "endsWith: Ada")
        saved = threading.Event()

        def save_until_seen() -> None:  # the watcher starts just after its line: save until it hears
            while not saved.is_set():
                suite.write_text(fixed)
                saved.wait(0.5)

        saver = threading.Thread(target=save_until_seen, daemon=True)
        saver.start()
        try:
            second = read_until(proc.stdout, "1 passed, 1 failed")
        finally:
            saved.set()
            saver.join()
        assert "PASS orders_test.fails" in second
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
